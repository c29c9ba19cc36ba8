"""Lab and radiology results: filing a report with its observations (once per filler
order number and sender), a changed report as a new version with the earlier one
kept, and the results a user may read."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.kernel.labels import check_labels
from recordroom.mpi.models import Facility, Patient

from .models import (
    Encounter,
    Provider,
    ResultCategory,
    ResultObservation,
    ResultReport,
    ResultStatus,
    ResultVersion,
)

# A report that was final keeps being final: a later preliminary one is refused.
FINISHED = frozenset({ResultStatus.FINAL, ResultStatus.AMENDED, ResultStatus.CORRECTED})
_CATEGORIES = frozenset(ResultCategory.values)
_STATUSES = frozenset(ResultStatus.values)


@dataclass
class ObservationIn:
    """One value as received (see ResultObservation for the fields)."""

    code: str
    code_system: str = ""
    display: str = ""
    codings: list[dict[str, str]] = field(default_factory=list)  # every one sent
    text: str = ""  # the test's name as the sender wrote it
    value_type: str = "ST"
    value_number: Decimal | None = None
    value_comparator: str = ""
    value_separator: str = ""
    value_number2: Decimal | None = None
    value_text: str = ""
    value_code: str = ""
    value_code_system: str = ""
    units: str = ""
    units_system: str = ""
    reference_range: str = ""
    abnormal_flags: list[str] = field(default_factory=list)
    status: str = ResultStatus.FINAL
    effective_at: datetime | None = None
    sub_id: str = ""
    performer_name: str = ""  # the performing laboratory
    notes: str = ""


@dataclass
class ResultIn:
    """A report as received: who, what, when, and its observations in order."""

    patient: Patient
    facility: Facility
    code: str
    code_system: str = ""
    display: str = ""
    codings: list[dict[str, str]] = field(default_factory=list)  # every one sent
    text: str = ""
    category: str = ResultCategory.LAB
    status: str = ResultStatus.FINAL
    encounter: Encounter | None = None
    visit_number: str = ""
    effective_at: datetime | None = None
    issued_at: datetime | None = None
    performer: Provider | None = None
    performer_name: str = ""
    conclusion: str = ""
    notes: str = ""
    placer_number: str = ""
    filler_number: str = ""
    source: str = ""
    message: str = ""  # the sender's message id, kept on the version
    sensitivity: list[str] = field(default_factory=list)
    observations: list[ObservationIn] = field(default_factory=list)


@dataclass(frozen=True)
class Filed:
    report: ResultReport
    outcome: str  # "created", "updated" (a new version) or "unchanged"


def file_result(*, actor: Actor, data: ResultIn) -> Filed:
    """File a report, or a new version of the one its sender numbered so before.

    The same report again (same content, whatever the message id) changes nothing.
    A changed one becomes the next version: the report shows it, and the earlier
    version with its observations stays as it was. A final report sent again as
    final with other content is `amended`.

    Raises:
        ValidationFailed: an unknown category, status or label, or a visit of
            another patient or facility.
        Conflict: the filler order number is another patient's result, or a
            preliminary version arrives after the final one.
    """
    _check(data)
    labels = check_labels(data.sensitivity)
    digest = _digest(data, labels)
    with transaction.atomic():
        existing = None
        if data.filler_number:
            existing = (
                ResultReport.objects.select_for_update()
                .filter(source=data.source[:200], filler_number=data.filler_number[:80])
                .first()
            )
        if existing is None:
            report = _create(actor, data, labels, digest)
            return Filed(report, "created")
        if existing.digest == digest:
            return Filed(existing, "unchanged")
        return Filed(_new_version(actor, existing, data, labels, digest), "updated")


def _check(data: ResultIn) -> None:
    if data.category not in _CATEGORIES:
        raise ValidationFailed(
            f"unknown result category {data.category!r}; use one of "
            + ", ".join(sorted(_CATEGORIES)),
            field="category",
        )
    for status in (data.status, *(o.status for o in data.observations)):
        if status not in _STATUSES:
            raise ValidationFailed(
                f"unknown result status {status!r}; use one of "
                + ", ".join(ResultStatus.values),
                field="status",
            )
    enc = data.encounter
    if enc is not None and enc.patient_id != data.patient.pk:
        raise ValidationFailed(
            f"visit {enc.account_number} belongs to another patient", field="encounter"
        )
    if enc is not None and enc.facility_id != data.facility.pk:
        raise ValidationFailed(
            f"visit {enc.account_number} is at another facility than "
            f"{data.facility.code}",
            field="encounter",
        )


def _digest(data: ResultIn, labels: list[str]) -> str:
    """The hash of what the report says (not of the message that carried it)."""
    body = {k: v for k, v in vars(data).items() if k not in _REFS}
    body.update(
        patient=str(data.patient.pk),
        facility=str(data.facility.pk),
        encounter=str(data.encounter.pk) if data.encounter else "",
        performer=str(data.performer.pk) if data.performer else "",
        sensitivity=labels,
        observations=[vars(o) for o in data.observations],
    )
    text = json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


_REFS = ("patient", "facility", "encounter", "performer", "observations", "message",
         "sensitivity")  # fmt: skip
_HEADER = ("code", "code_system", "display", "codings", "category", "visit_number",
           "effective_at", "issued_at", "performer_name", "conclusion", "notes",
           "placer_number")  # fmt: skip


def _header(data: ResultIn) -> dict[str, Any]:
    out = {k: getattr(data, k) for k in _HEADER}
    out.update(
        code=data.code[:64],
        code_system=data.code_system[:200],
        display=data.display[:300],
        text=data.text[:300],
        visit_number=data.visit_number[:40],
        performer_name=data.performer_name[:200],
        placer_number=data.placer_number[:80],
        encounter=data.encounter,
        performer=data.performer,
        status=data.status,
    )
    return out


def _create(
    actor: Actor, data: ResultIn, labels: list[str], digest: str
) -> ResultReport:
    report = ResultReport.objects.create(
        patient=data.patient,
        facility=data.facility,
        filler_number=data.filler_number[:80],
        source=data.source[:200],
        version=1,
        digest=digest,
        sensitivity=labels,
        **_header(data),
    )
    _add_version(actor, report, data, digest, reason="")
    record(
        actor=actor,
        action=actions.RESULT_CREATE.name,
        patient=data.patient,
        obj=report,
        detail={
            "code": report.code,
            "category": report.category,
            "status": report.status,
            "filler": report.filler_number,
            "observations": len(data.observations),
            "sensitivity": labels,
        },
    )
    return report


def _new_version(
    actor: Actor, report: ResultReport, data: ResultIn, labels: list[str], digest: str
) -> ResultReport:
    if report.patient_id != data.patient.pk:
        raise Conflict(
            f"result {data.filler_number} was filed for another patient; a "
            "correction cannot move it (correct the patient, or send it as entered "
            "in error and file it anew)",
            field="filler_number",
        )
    before = report.status
    if before in FINISHED and data.status in (
        ResultStatus.REGISTERED,
        ResultStatus.PRELIMINARY,
    ):
        raise Conflict(
            f"result {data.filler_number} is {before}; a {data.status} version "
            "arriving after it does not replace it",
            field="result_status",
        )
    header = _header(data)
    if data.status == ResultStatus.FINAL and before in FINISHED:
        header["status"] = ResultStatus.AMENDED  # changed after it was final
    number = report.version + 1
    ResultReport.objects.filter(pk=report.pk).update(
        version=number, digest=digest, sensitivity=labels,
        updated_at=timezone.now(), **header,
    )  # fmt: skip
    report.refresh_from_db()
    reason = f"{before} -> {report.status}"
    _add_version(actor, report, data, digest, reason=reason)
    record(
        actor=actor,
        action=actions.RESULT_VERSION.name,
        patient=report.patient_id,
        obj=report,
        detail={
            "version": number,
            "before": before,
            "after": report.status,
            "filler": report.filler_number,
            "observations": len(data.observations),
        },
    )
    return report


def _add_version(
    actor: Actor, report: ResultReport, data: ResultIn, digest: str, *, reason: str
) -> None:
    ResultVersion.objects.create(
        report=report,
        number=report.version,
        status=report.status,
        effective_at=report.effective_at,
        issued_at=report.issued_at,
        conclusion=report.conclusion,
        notes=report.notes,
        reason=reason[:300],
        message=data.message[:200],
        digest=digest,
        created_at=timezone.now(),
        created_by=actor.username,
    )
    ResultObservation.objects.bulk_create(
        [
            ResultObservation(
                report=report,
                report_version=report.version,
                sequence=n,
                **{k: v for k, v in vars(o).items() if k not in _CUT},
                code=o.code[:64],
                code_system=o.code_system[:200],
                display=o.display[:300],
                text=o.text[:300],
                units=o.units[:40],
                units_system=o.units_system[:200],
                reference_range=o.reference_range[:60],
                value_code=o.value_code[:64],
                value_code_system=o.value_code_system[:200],
                sub_id=o.sub_id[:20],
                performer_name=o.performer_name[:200],
                effective_at=o.effective_at or report.effective_at,
            )
            for n, o in enumerate(data.observations, 1)
        ]
    )


_CUT = {"code", "code_system", "display", "text", "units", "units_system",
        "reference_range", "value_code", "value_code_system", "sub_id",
        "effective_at", "performer_name"}  # fmt: skip


# --- reading ---------------------------------------------------------------------------


def visible_results(user: Any) -> QuerySet[ResultReport]:
    """Reports at the user's facilities (all of them for no user)."""
    rows = ResultReport.objects.all()
    scope = user.facility_ids() if user is not None else None
    return rows if scope is None else rows.filter(facility_id__in=scope)


def current_observations(
    reports: list[ResultReport],
) -> dict[Any, list[ResultObservation]]:
    """Each report's observations of its current version, in the order sent."""
    out: dict[Any, list[ResultObservation]] = {r.pk: [] for r in reports}
    rows = ResultObservation.objects.filter(
        report__in=[r.pk for r in reports], report_version=F("report__version")
    ).order_by("report", "sequence")
    for o in rows:
        out[o.report_id].append(o)
    return out


def observations_of(report: ResultReport) -> list[ResultObservation]:
    return current_observations([report])[report.pk]
