"""Patient demographics and the patient's access log over the JSON API, and the
patient schemas that records.api's /patients search and registration use.

Every read is audited here, by the adapter (DESIGN.md rule 3): chart.open for
demographics, chart.access_log for who-saw-this-record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from recordroom.audit import queries
from recordroom.audit.api import NDJSON_RESPONSE, EventPage, ndjson_export, page_out
from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed

from . import mrn, services
from .models import Facility, IdentifierKind, NameUse, Patient, PatientIdentifier, Sex
from .restricted import require_chart_labels
from .search import PatientHit
from .services import get_patient

router = Router(tags=["patients"])


class PeriodOut(Schema):
    start: date | None
    end: date | None


class _WithPeriod(Schema):
    period: PeriodOut

    @staticmethod
    def resolve_period(obj: Any) -> dict[str, date | None]:
        return {"start": obj.period_start, "end": obj.period_end}


class NameOut(_WithPeriod):
    use: str
    family: str
    given: str
    middle: str
    prefix: str
    suffix: str
    display: str


class IdentifierOut(_WithPeriod):
    kind: str
    kind_display: str
    type_code: str  # the sender's type (HL7 table 0203), when it says more
    system: str
    value: str  # an SSN shows only its last four
    facility: str | None

    @staticmethod
    def resolve_kind_display(obj: PatientIdentifier) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_facility(obj: PatientIdentifier) -> str | None:
        return obj.facility.code if obj.facility_id else None  # type: ignore[union-attr]


class AddressOut(_WithPeriod):
    use: str
    type_code: str  # HL7 table 0190 as sent (PID-11.7)
    line1: str
    line2: str
    city: str
    state: str
    postal_code: str
    country: str


class TelecomOut(_WithPeriod):
    system: str
    use: str
    value: str


class PatientOut(Schema):
    id: UUID
    legal_name: str | None
    birth_date: date | None
    sex: str
    gender_identity: str
    deceased_date: date | None
    flags: list[str]
    names: list[NameOut]
    identifiers: list[IdentifierOut]
    addresses: list[AddressOut]
    telecoms: list[TelecomOut]
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_legal_name(obj: Patient) -> str | None:
        name = obj.legal_name()
        return name.display if name else None

    @staticmethod
    def resolve_flags(obj: Patient) -> list[str]:
        return obj.confidentiality_flags

    @staticmethod
    def resolve_names(obj: Patient) -> list[Any]:
        return list(obj.names.all())

    @staticmethod
    def resolve_identifiers(obj: Patient) -> list[Any]:
        return list(obj.identifiers.all())

    @staticmethod
    def resolve_addresses(obj: Patient) -> list[Any]:
        return list(obj.addresses.all())

    @staticmethod
    def resolve_telecoms(obj: Patient) -> list[Any]:
        return list(obj.telecoms.all())


# --- registration and search (served by records.api: /patients searches account
# numbers too, and one path belongs to one router) -------------------------------------


class _In(Schema):
    model_config = ConfigDict(extra="forbid")  # an unknown field is named, not ignored


class NameIn(_In):
    family: str = Field(min_length=1, max_length=100)
    given: str = Field("", max_length=100)
    middle: str = Field("", max_length=100)
    prefix: str = Field("", max_length=20)
    suffix: str = Field("", max_length=20)
    use: NameUse = NameUse.LEGAL
    period_start: date | None = None
    period_end: date | None = None


class IdentifierIn(_In):
    kind: IdentifierKind
    value: str = Field(min_length=1, max_length=100)
    system: str = Field("", max_length=200, description="Assigning authority URI/OID")
    facility: str | None = Field(None, description="Facility code; needed for an MRN")
    period_start: date | None = None
    period_end: date | None = None


class AddressIn(_In):
    use: str = Field("home", max_length=10)
    line1: str = Field(min_length=1, max_length=200)
    line2: str = Field("", max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=2)
    postal_code: str = Field(min_length=3, max_length=10)
    country: str = Field("US", min_length=2, max_length=2)
    period_start: date | None = None
    period_end: date | None = None


class TelecomIn(_In):
    system: Literal["phone", "email", "fax", "sms", "url"] = "phone"
    use: str = Field("home", max_length=10)
    value: str = Field(min_length=1, max_length=200)
    period_start: date | None = None
    period_end: date | None = None


class PatientIn(_In):
    names: list[NameIn] = Field(min_length=1)
    birth_date: date | None = None
    sex: Sex = Sex.UNKNOWN
    gender_identity: str = Field("", max_length=64)
    deceased_date: date | None = None
    identifiers: list[IdentifierIn] = []
    addresses: list[AddressIn] = []
    telecoms: list[TelecomIn] = []
    is_vip: bool = False
    is_employee: bool = False
    is_restricted: bool = False

    def to_service(self) -> services.PatientIn:
        """The service's input, with facility codes resolved to facilities (whether
        the user may register at them is register_patient's to say)."""
        identifiers = [
            services.IdentifierIn(
                kind=i.kind,
                value=i.value,
                system=i.system,
                facility=facility_for(i.facility, field=f"identifiers.{n}.facility")
                if i.facility
                else None,
                period_start=i.period_start,
                period_end=i.period_end,
            )  # fmt: skip
            for n, i in enumerate(self.identifiers)
        ]
        return services.PatientIn(
            names=[services.NameIn(**n.model_dump()) for n in self.names],
            identifiers=identifiers,
            **self.model_dump(
                exclude={"names", "identifiers"}
                | (set(type(self).model_fields) - set(PatientIn.model_fields))
            ),
        )


class RegistrationIn(PatientIn):
    """A registration, searched before it is created. `link_to` (a candidate's id)
    or `create_anyway` overrides what the thresholds would decide; either needs a
    `reason`."""

    create_anyway: bool = False
    link_to: UUID | None = None
    reason: str = Field("", max_length=500)
    facility: str | None = Field(
        None,
        description="The registering facility's code. Where it assigns its own MRNs, "
        "send this and no MRN of it: the next number is assigned (returned in "
        "`mrn_assigned`); where its MRNs come from another system, send the MRN.",
    )

    def to_registration(self) -> services.PatientIn:
        """The service's input; the registering facility's MRN left to assign when
        none of its MRNs is given (mpi.mrn refuses that where MRNs are external)."""
        data = self.to_service()
        if self.facility:
            facility = facility_for(self.facility, field="facility")
            given = any(i.facility == facility for i in data.identifiers
                        if i.kind == IdentifierKind.MRN)  # fmt: skip
            if not given:
                data.identifiers.insert(0, mrn.to_assign(facility))
        return data


class Created(Schema):
    id: UUID


class MrnOut(Schema):
    facility: str
    value: str

    @staticmethod
    def resolve_facility(obj: PatientIdentifier) -> str:
        return obj.facility.code if obj.facility else ""


class PatientHitOut(Schema):
    id: UUID
    legal_name: str | None
    matched_name: str | None
    birth_date: date | None
    sex: str
    flags: list[str]
    mrns: list[MrnOut]

    @staticmethod
    def resolve_id(hit: PatientHit) -> UUID:
        return hit.patient.pk  # type: ignore[no-any-return]

    @staticmethod
    def resolve_legal_name(hit: PatientHit) -> str | None:
        return hit.legal_name.display if hit.legal_name else None

    @staticmethod
    def resolve_matched_name(hit: PatientHit) -> str | None:
        return hit.matched_name.display if hit.matched_name else None

    @staticmethod
    def resolve_birth_date(hit: PatientHit) -> date | None:
        return hit.patient.birth_date

    @staticmethod
    def resolve_sex(hit: PatientHit) -> str:
        return hit.patient.sex

    @staticmethod
    def resolve_flags(hit: PatientHit) -> list[str]:
        return hit.patient.confidentiality_flags

    exact: bool = Field(description="every criterion matched as typed")
    reasons: list[str] = Field(
        description="why a tolerant match matched: sounds like, nickname of, birth "
        "date day/month swapped, MRN without its leading zeros"
    )
    address: str
    phone: str
    last_visit: datetime | None = Field(
        description="newest admission at your facilities"
    )


class SearchOut(Schema):
    items: list[PatientHitOut]
    count: int = Field(description="patients on this page")
    total: int | None = Field(
        description="patients found, given on the last page (null while `more`)"
    )
    offset: int
    more: bool = Field(description="another page follows (ask with offset + count)")


def facility_for(code: str, *, field: str) -> Facility:
    """A facility by its code, refused by name if unknown (scope is the services' job)."""
    facility = Facility.objects.filter(code=code).first()
    if facility is None:
        known = ", ".join(Facility.objects.values_list("code", flat=True)[:20])
        raise ValidationFailed(
            f"unknown facility code {code!r}; known: {known}", field=field
        )
    return facility


# --- routes ----------------------------------------------------------------------------


def open_patient(
    actor: Actor, patient_id: Any, *, action: str = actions.CHART_OPEN.name,
    detail: dict[str, Any] | None = None,
) -> Patient:  # fmt: skip
    """The patient, if the user's facilities reach them; a refusal is audited.

    An attempt on a chart outside one's scope is what a privacy officer wants to see,
    so it is written to the trail as `denied` before the 403 goes back.
    """
    try:
        return get_patient(user=actor.user, patient_id=patient_id)
    except PermissionDenied as exc:
        record(
            actor=actor, action=action, patient=patient_id, outcome=Outcome.DENIED,
            detail={**(detail or {}), "reason": exc.message},
        )  # fmt: skip
        exc.audited = True
        raise


def open_chart(
    actor: Actor, patient_id: Any, *, part: str,
    check: Callable[[Patient], dict[str, Any]] | None = None,
) -> Patient:  # fmt: skip
    """Open the patient (scope-checked, a refusal audited) and audit the chart read
    of `part` (demographics, encounters, documents). `check` may refuse the chart
    (PermissionDenied, audited) or add to the read's audit detail."""
    detail: dict[str, Any] = {"part": part}
    patient = open_patient(actor, patient_id, detail=detail)
    if check is not None:
        try:
            detail.update(check(patient))
        except PermissionDenied as exc:
            record(
                actor=actor, action=actions.CHART_OPEN.name, patient=patient,
                outcome=Outcome.DENIED, detail={**detail, "reason": exc.message},
            )  # fmt: skip
            raise
    record(
        actor=actor, action=actions.CHART_OPEN.name, patient=patient, obj=patient,
        detail=detail,
    )  # fmt: skip
    return patient


@router.get(
    "/patients/{patient_id}", response=PatientOut,
    openapi_extra={"x-capability": "view_chart"},
)  # fmt: skip
def read_patient(request: HttpRequest, patient_id: UUID) -> Patient:
    """Demographics with history: identifiers, names, addresses, telecoms, flags."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    # As on the chart's page: a VIP or restricted chart needs a grant or a reason.
    return open_chart(actor, patient_id, part="demographics",
                      check=lambda p: require_chart_labels(actor.user, p))  # fmt: skip


@router.get(
    "/patients/{patient_id}/access-log", response=EventPage,
    openapi_extra={"x-capability": "view_access_log"},
)  # fmt: skip
def access_log(
    request: HttpRequest,
    patient_id: UUID,
    after: int | None = None,
    limit: int = Query(100, ge=1, le=queries.MAX_PAGE),
) -> dict[str, Any]:
    """Who accessed this patient's record, when and what: newest first, keyset paged."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    action = actions.CHART_ACCESS_LOG.name
    patient = open_patient(actor, patient_id, action=action)
    page = queries.patient_access_log(
        patient_id=patient.pk,
        after=after,
        limit=limit,
        facility_ids=actor.user.facility_ids(),
    )
    record(
        actor=actor, action=action, patient=patient,
        detail={"format": "json", "after": after, "count": len(page.items)},
    )  # fmt: skip
    return page_out(page)


@router.get(
    "/patients/{patient_id}/access-log.ndjson",
    openapi_extra={"x-capability": "view_access_log", **NDJSON_RESPONSE},
)
def access_log_ndjson(request: HttpRequest, patient_id: UUID) -> StreamingHttpResponse:
    """This patient's access log as FHIR R4 AuditEvent NDJSON, oldest first (streamed)."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    action = actions.CHART_ACCESS_LOG.name
    patient = open_patient(actor, patient_id, action=action)

    def audit(count: int, complete: bool) -> None:
        record(
            actor=actor, action=action, patient=patient,
            outcome=Outcome.SUCCESS if complete else Outcome.FAILURE,
            detail={"format": "fhir-ndjson", "count": count},
        )  # fmt: skip

    events = queries.patient_events(patient.pk, facility_ids=actor.user.facility_ids())
    return ndjson_export(events, audit=audit)


class CandidateOut(Schema):
    patient_id: UUID
    probability: float
    match_weight: float
    evidence: list[dict[str, Any]]


class MatchOut(Schema):
    items: list[CandidateOut]
    count: int


class RegistrationOut(Schema):
    id: UUID
    outcome: str = Field(description="linked, review or created")
    decision: UUID
    probability: float | None
    candidates: list[CandidateOut] = Field(
        description="the records at your facilities that may be this person"
    )
    mrn_assigned: str = Field(
        "", description="the MRN the facility's sequence gave (empty: none assigned)"
    )


@router.post(
    "/patient-matches", response=MatchOut,
    openapi_extra={"x-capability": "search_patients"},
)  # fmt: skip
def match_patient(request: HttpRequest, data: PatientIn) -> dict[str, Any]:
    """Search before create: the records in your facilities that may be this person,
    most likely first, each with its probability and the weight every field gave.
    Nothing is written; the search is audited."""
    from .linkage.realtime import match_visible

    actor: Actor = request.auth  # type: ignore[attr-defined]
    items = match_visible(user=actor.user, data=data.to_service(), limit=10)
    record(actor=actor, action=actions.PATIENT_SEARCH.name,
           detail={"search": "before create", "results": len(items)})  # fmt: skip
    return {"items": items, "count": len(items)}


class RateOut(Schema):
    key: str
    label: str
    records: int
    confirmed: int
    suspected: int
    rate: float | None


class WorklistOut(Schema):
    scan_pairs: int
    registrations: int
    under_week: int
    week_to_month: int
    over_month: int
    oldest: datetime | None
    overlays: int
    oldest_overlay: datetime | None


class AutoLinksOut(Schema):
    since: datetime
    linked: int
    correct: int
    wrong: int
    to_review_today: int


class DashboardOut(Schema):
    as_of: datetime
    scan_finished_at: datetime | None
    facilities: list[RateOut]
    creators: list[RateOut]
    total: RateOut
    worklist: WorklistOut
    links: AutoLinksOut


def _rate(r: Any) -> dict[str, Any]:
    return {"key": r.key, "label": r.label, "records": r.records,
            "confirmed": r.confirmed, "suspected": r.suspected, "rate": r.rate}  # fmt: skip


@router.get(
    "/mpi/dashboard", response=DashboardOut,
    openapi_extra={"x-capability": "manage_identity"},
)  # fmt: skip
def mpi_dashboard(request: HttpRequest) -> dict[str, Any]:
    """The MPI dashboard's measures at your facilities, counts only (no patient is
    named): duplicate rate by facility and by creator, the worklist's size and age,
    automatic links and how many of today's sample are left to review."""
    from dataclasses import asdict

    from .dashboard import measures

    actor: Actor = request.auth  # type: ignore[attr-defined]
    m = measures(actor.user)
    links = m.links
    return {
        "as_of": m.as_of,
        "scan_finished_at": m.scan.finished_at if m.scan else None,
        "facilities": [_rate(r) for r in m.facilities],
        "creators": [_rate(r) for r in m.creators],
        "total": _rate(m.total),
        "worklist": asdict(m.worklist),
        "links": {"since": links.since, "linked": links.linked, "correct": links.correct,
                  "wrong": links.wrong, "to_review_today": len(links.sample)},
    }  # fmt: skip
