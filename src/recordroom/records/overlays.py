"""Overlay signs only the record knows: care after a recorded death."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db.models import F, Q

from recordroom.mpi.overlay import Signal

from .models import Condition, Document, Encounter


class CareAfterDeath:
    """A visit that began more than a day after the patient's recorded death:
    either the death or the visit belongs to someone else."""

    kind = "care-after-death"

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]:
        rows = Encounter.objects.filter(
            patient__deceased_date__isnull=False,
            admit_at__date__gt=F("patient__deceased_date") + timedelta(days=1),
        )
        if patient_ids is not None:
            rows = rows.filter(patient_id__in=patient_ids)
        found: dict[Any, list[str]] = {}
        deaths: dict[Any, Any] = {}
        for e in rows.values("patient_id", "account_number", "admit_at",
                             "patient__deceased_date"):  # fmt: skip
            deaths[e["patient_id"]] = e["patient__deceased_date"]
            found.setdefault(e["patient_id"], []).append(
                f"{e['account_number'] or 'visit'} on {e['admit_at']:%Y-%m-%d}"
            )
        for pid, visits in found.items():
            yield Signal(pid, self.kind,
                         f"recorded dead on {deaths[pid]}, seen after: {', '.join(visits)}"[:500],
                         {"deceased": str(deaths[pid]), "visits": visits})  # fmt: skip


class CareBeforeBirth:
    """A visit or a document dated more than a day before the patient was born:
    the birth date, or the care, is someone else's (an impossible sequence)."""

    kind = "care-before-birth"

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]:
        found: dict[Any, list[str]] = {}
        births: dict[Any, Any] = {}
        visits = Encounter.objects.filter(
            patient__birth_date__isnull=False,
            admit_at__date__lt=F("patient__birth_date") - timedelta(days=1),
        ).values_list("patient_id", "patient__birth_date", "account_number", "admit_at")
        docs = Document.objects.filter(
            patient__birth_date__isnull=False,
            service_start__date__lt=F("patient__birth_date") - timedelta(days=1),
        ).values_list("patient_id", "patient__birth_date", "title", "service_start")
        for rows, what in ((visits, "visit"), (docs, "document")):
            if patient_ids is not None:
                rows = rows.filter(patient_id__in=patient_ids)
            for pid, born, label, when in rows[:10_000]:
                births[pid] = born
                found.setdefault(pid, []).append(f"{label or what} on {when:%Y-%m-%d}")
        for pid, items in found.items():
            yield Signal(pid, self.kind,
                         f"born {births[pid]}, care dated before: {', '.join(items)}"[:500],
                         {"birth_date": str(births[pid]), "care": items[:50]})  # fmt: skip


def _icd10(code: str) -> str:
    return code.replace(".", "").upper()


# ICD-10-CM Z38: liveborn infant, by place and type of birth (coded once, on the
# birth stay)
LIVEBORN = "Z38"
# Care only one sex's body has (ICD-10-CM): pregnancy, childbirth and the
# puerperium (O00-O9A) and pregnancy state and weeks (Z33, Z34, Z3A); the prostate
# and testes (C61, C62, N40-N42).
FEMALE_ONLY = ("O", "Z33", "Z34", "Z3A")
MALE_ONLY = ("C61", "C62", "N40", "N41", "N42")


def _icd10_conditions(patient_ids: list[Any] | None) -> Any:
    rows = Condition.objects.filter(code_system__icontains="icd-10")
    if patient_ids is not None:
        rows = rows.filter(patient_id__in=patient_ids)
    return rows


class TwoBirths:
    """Two liveborn-infant diagnoses (ICD-10-CM Z38) on different visits: two
    newborns' birth stays in one chart."""

    kind = "two-births"

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]:
        stays: dict[Any, dict[Any, str]] = {}
        rows = _icd10_conditions(patient_ids).filter(code__istartswith=LIVEBORN)
        for pid, enc, code, account in rows.values_list(
            "patient_id", "encounter_id", "code", "encounter__account_number"
        ):
            stays.setdefault(pid, {})[enc] = f"{_icd10(code)} on {account or enc}"
        for pid, by_visit in stays.items():
            if len(by_visit) >= 2:
                listed = sorted(by_visit.values())
                yield Signal(pid, self.kind,
                             f"born twice: {'; '.join(listed)}"[:500], {"births": listed})  # fmt: skip


class SexConflictingCare:
    """Care only one sex's body has, in a chart of the other recorded sex (a
    pregnancy for a male patient, prostate care for a female one). Not raised when
    a gender identity is recorded: such care can be the patient's own."""

    kind = "sex-conflicting-care"

    def detect(self, patient_ids: list[Any] | None) -> Iterable[Signal]:
        found: dict[Any, tuple[str, list[str]]] = {}
        for sex, other in (("male", FEMALE_ONLY), ("female", MALE_ONLY)):
            conflicting = Q()
            for prefix in other:  # in SQL: only the few rows that conflict are read
                conflicting |= Q(code__istartswith=prefix)
            rows = _icd10_conditions(patient_ids).filter(
                conflicting, patient__sex=sex, patient__gender_identity=""
            )
            for pid, code, account in rows.values_list(
                "patient_id", "code", "encounter__account_number"
            )[:10_000]:
                label = f"{_icd10(code)} ({account or 'no visit'})"
                found.setdefault(pid, (sex, []))[1].append(label)
        for pid, (sex, codes) in found.items():
            yield Signal(pid, self.kind,
                         f"recorded {sex}, coded: {', '.join(codes)}"[:500],
                         {"sex": sex, "codes": codes[:50]})  # fmt: skip
