"""The accounting of disclosures a patient may ask for (R-AOD): which entries it
lists (six-year look-back, the excluded kinds left out, Part 2 consent disclosures
for three years, merged records, suspensions) and agency suspensions (R-AOD-3)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import Patient
from recordroom.mpi.zones import patient_facility

from .disclosures import LEGAL_BASES
from .models import AccountingSuspension, Disclosure

LOOKBACK_YEARS = 6  # R-AOD-1
PART2_LOOKBACK_YEARS = 3  # R-P2-8, 42 CFR 2.25(a)
ORAL_SUSPENSION_DAYS = 30  # R-AOD-3


@dataclass(frozen=True)
class AccountingEntry:
    """One line of the accounting (R-AOD-4). `count` > 1 is repeated disclosures
    to one recipient for one purpose listed once, the last on `last_on` ((b)(3))."""

    disclosure_id: str
    disclosed_on: date
    recipient_name: str
    recipient_address: str
    description: str
    purpose: str
    legal_basis: str
    part2: bool
    corrected: bool = False
    count: int = 1
    last_on: date | None = None

    @property
    def basis(self) -> str:
        b = LEGAL_BASES[self.legal_basis]
        return f"{b.label} (45 CFR {b.cite})"


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def record_ids(patient: Patient) -> list[Any]:
    """The patient and every record merged into it, at any depth: the survivor's
    accounting includes the disclosures of records merged into it."""
    ids, frontier = [patient.pk], [patient.pk]
    while frontier:
        frontier = list(
            Patient.objects.filter(merged_into_id__in=frontier).values_list(
                "pk", flat=True
            )
        )
        ids += frontier
    return ids


def start_of(day: date, zone: Any) -> datetime:
    """Midnight starting `day` on the calendar of `zone` (a facility's)."""
    return clock.start_of_day(day, zone)


def period(as_of: date, period_start: date | None = None) -> tuple[date, date]:
    """The period an accounting covers: six years before the request, or the
    shorter period asked for (R-AOD-1).

    Raises:
        ValidationFailed: a start more than six years back or after `as_of`."""
    earliest = years_before(as_of, LOOKBACK_YEARS)
    if period_start is None:
        return earliest, as_of
    if period_start < earliest:
        raise ValidationFailed(
            f"an accounting covers at most the six years before the request: start "
            f"on or after {earliest}, not {period_start} (R-AOD-1)",
            field="period_start",
        )
    if period_start > as_of:
        raise ValidationFailed(
            f"the period starts ({period_start}) after the request date ({as_of})",
            field="period_start",
        )
    return period_start, as_of


def part2_bases() -> list[str]:
    """Part 2 disclosures made with consent that the accounting lists (R-P2-8):
    under a consent; TPO ones only when switched on (2.25(b), tolled, [VERIFY])."""
    bases = ["authorization"]
    if settings.ROI_PART2_TPO_ACCOUNTING:
        bases += ["treatment", "payment", "operations"]
    return bases


def accounting(
    *,
    patient: Patient,
    as_of: date,
    period_start: date | None = None,
    summarise: bool = False,
    on: date | None = None,
    zone: Any = None,
) -> list[AccountingEntry]:
    """The entries of the patient's accounting as of `as_of` (the request date),
    oldest first.

    Lists accountable disclosures in the period (R-AOD-1/2), the Part 2
    disclosures made with consent of the last three years (R-P2-8), those of
    records merged into this one; leaves out corrected entries (their correction
    shows), retracted ones, and disclosures to an agency whose suspension is in
    force on `on` (default `as_of`, R-AOD-3). `summarise` lists repeated
    disclosures to one recipient for one purpose once (R-AOD-4 (b)(3)). Dates
    are on the calendar of `zone` (default: the patient's facility).

    Raises:
        ValidationFailed: a period start the rule does not allow."""
    zone = zone if zone is not None else patient_facility(patient)
    start, end = period(as_of, period_start)
    p2_start = max(start, years_before(as_of, PART2_LOOKBACK_YEARS))
    ids = record_ids(patient)
    corrected = Disclosure.objects.filter(corrects=OuterRef("pk"))
    rows = (
        Disclosure.objects.filter(
            patient_id__in=ids,
            retracted=False,
            disclosed_at__gte=start_of(start, zone),
            disclosed_at__lt=start_of(end + timedelta(days=1), zone),
        )
        .filter(
            Q(accountable=True)
            | Q(
                part2=True,
                legal_basis__in=part2_bases(),
                disclosed_at__gte=start_of(p2_start, zone),
            )
        )
        .exclude(Exists(corrected))
        .order_by("disclosed_at", "id")
        .values_list(
            "id",
            "disclosed_at",
            "recipient_name",
            "recipient_address",
            "description",
            "purpose",
            "legal_basis",
            "part2",
            "corrects_id",
        )
    )
    hidden = suspended_agencies(ids, on or as_of)
    tz = clock.zone_of(zone)
    entries = [
        AccountingEntry(
            _uuid_text(i),
            _aware(at).astimezone(tz).date(),
            name,
            addr,
            desc,
            purpose,
            basis,
            bool(p2),
            fix is not None,
        )
        for i, at, name, addr, desc, purpose, basis, p2, fix in _raw_rows(rows)
        if not hidden or _key(name) not in hidden
    ]
    return summarised(entries) if summarise else entries


def _raw_rows(qs: QuerySet[Any]) -> Iterator[tuple[Any, ...]]:
    """The query's rows as the driver gives them. Ten thousand entries must list
    in well under a second; the ORM's per-value converters (text to UUID and to
    datetime on SQLite) cost more than the query itself."""
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(sql, params)
        while batch := cur.fetchmany(2000):
            yield from batch


def _uuid_text(value: Any) -> str:
    """A UUID as its hyphenated text (SQLite keeps 32 hex digits)."""
    if isinstance(value, str) and len(value) == 32:
        h = value
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(value)


def _aware(value: datetime | str) -> datetime:
    """A stored time as an aware datetime (SQLite gives UTC text)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def summarised(entries: list[AccountingEntry]) -> list[AccountingEntry]:
    """Repeated disclosures to one recipient for one purpose on one basis: the
    first entry in full, with their number and the date of the last."""
    groups: dict[tuple[str, ...], list[AccountingEntry]] = {}
    for e in entries:
        key = (
            _key(e.recipient_name),
            _key(e.recipient_address),
            _key(e.purpose),
            e.legal_basis,
        )
        groups.setdefault(key, []).append(e)
    out = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            out.append(first)
            continue
        out.append(
            AccountingEntry(
                first.disclosure_id,
                first.disclosed_on,
                first.recipient_name,
                first.recipient_address,
                first.description,
                first.purpose,
                first.legal_basis,
                any(e.part2 for e in group),
                any(e.corrected for e in group),
                len(group),
                group[-1].disclosed_on,
            )
        )
    out.sort(key=lambda e: (e.disclosed_on, e.disclosure_id))
    return out


def suspended_agencies(patient_ids: list[Any], on: date) -> set[str]:
    """Agencies (normalised names) whose suspension is in force on `on`."""
    names = AccountingSuspension.objects.filter(
        Q(patient_id__in=patient_ids) | Q(patient__isnull=True),
        starts_on__lte=on,
        ends_on__gte=on,
    ).values_list("agency", flat=True)
    return {_key(n) for n in names}


def suspend_accounting(
    *,
    actor: Actor,
    agency: str,
    written: bool,
    statement: str,
    starts_on: date,
    ends_on: date | None = None,
    patient: Patient | None = None,
) -> AccountingSuspension:
    """Record an oversight agency's or law enforcement official's statement that
    an accounting would impede its activities (R-AOD-3). A written statement
    suspends for the period it states; an oral one for at most 30 days (record
    the written statement that follows as a new suspension). Without a patient it
    applies to every patient's accounting.

    Raises:
        ValidationFailed: no agency or statement, a written one without its end
            date, or an end before the start."""
    if not agency.strip():
        raise ValidationFailed("name the agency, as on its disclosures", field="agency")
    if not statement.strip():
        raise ValidationFailed(
            "record the agency's statement: that an accounting would be reasonably "
            "likely to impede its activities, who made it and when",
            field="statement",
        )
    oral_end = starts_on + timedelta(days=ORAL_SUSPENSION_DAYS)
    if not written:
        end = min(ends_on or oral_end, oral_end)
    elif ends_on is None:
        raise ValidationFailed(
            "a written statement must give the time for which the "
            "suspension is required",
            field="ends_on",
        )
    else:
        end = ends_on
    if end < starts_on:
        raise ValidationFailed(
            f"the suspension ends ({end}) before it starts ({starts_on})",
            field="ends_on",
        )
    with transaction.atomic():
        row = AccountingSuspension.objects.create(
            patient=patient,
            agency=agency.strip()[:200],
            written=written,
            statement=statement.strip(),
            starts_on=starts_on,
            ends_on=end,
            recorded_at=timezone.now(),
            recorded_by=actor.username,
        )
        record(
            actor=actor,
            action=actions.RELEASE_ACCOUNTING_SUSPEND.name,
            patient=patient,
            obj=row,
            detail={
                "agency": row.agency,
                "written": written,
                "starts_on": str(starts_on),
                "ends_on": str(end),
            },
        )
    return row
