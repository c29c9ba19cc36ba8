"""The release-of-information desk: the aging worklist, intake (the patient found
through the index search), and a request's page with its workflow actions.

Thin adapters over release.requests (and the desk's other services as they land).
Every page showing PHI audits the read (release.api_common.open_request / audit_listed);
the services audit what they change.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.accounts.permissions import has
from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.kernel.labels import LABELS
from recordroom.mpi.models import Facility, Patient
from recordroom.mpi.search import PatientQuery
from recordroom.mpi.services import get_patient
from recordroom.mpi.zones import user_zone
from recordroom.records.chart import find_patients, record_search, visible_encounters
from recordroom.records.models import DocumentType
from recordroom.release import fees, packets, releasing, review, scope
from recordroom.release import requests as rq
from recordroom.release.api_common import audit_listed, open_request
from recordroom.release.authorizations import check_authorization, check_basis
from recordroom.release.dashboard import measures
from recordroom.release.disclosures import LEGAL_BASES
from recordroom.release.grounds import GROUNDS
from recordroom.release.legal import F1_PROCESS, OTHER_PROCESS, PUBLIC_HEALTH
from recordroom.release.models import (
    OPEN_STATUSES,
    AuthorizationKind,
    Channel,
    Delivery,
    DownloadLink,
    Format,
    ReleaseRequest,
    RequesterType,
    Status,
)
from recordroom.release.results import select_results
from recordroom.release.subpoenas import ASSURANCES, QPO_STATES
from recordroom.web.request import actor_from_request

from .views_common import audit_page_refusal, denial_audited, requires
from .views_search import RESULT_LIMIT, SearchForm, _row

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
Errors = dict[str, str]


# --- the worklist ----------------------------------------------------------------------------


class WorklistFilter(forms.Form):
    status = forms.ChoiceField(
        label="Status", required=False,
        choices=[("", "Every open request"), *Status.choices],
    )  # fmt: skip
    overdue = forms.BooleanField(label="Overdue only", required=False)


@requires("release_records")
def worklist(request: HttpRequest) -> HttpResponse:
    """Open requests at the user's facilities, the nearest deadline first."""
    form = WorklistFilter(request.GET or None)
    status, overdue = "", False
    if form.is_valid():
        status, overdue = form.cleaned_data["status"], form.cleaned_data["overdue"]
    items = rq.worklist(user=request.user, status=status, overdue_only=overdue)
    audit_listed(actor_from_request(request), "release",
                 [i.request.patient_id for i in items])  # fmt: skip
    m = measures(request.user)
    context = {"form": form, "items": items,
               "overdue_count": sum(i.overdue for i in items), "m": m,
               "by_status": [(Status(st).label, [ages[b] for b in m.buckets], sum(ages.values()))
                             for st, ages in m.open_by_status.items()],
               "by_type": [(RequesterType(t).label, n)
                           for t, n in m.releases_by_requester_type.items()]}  # fmt: skip
    return render(request, "web/release_worklist.html", context)


# --- intake --------------------------------------------------------------------------------


class RequestFields(forms.Form):
    """What intake asks that may also change later (release.requests.EDITABLE): the
    requester's contact, what is asked for, format, delivery and legal basis."""

    requester_organization = forms.CharField(
        label="Organization", required=False, max_length=200
    )
    requester_address = forms.CharField(
        label="Address", required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed for delivery by mail.",
    )  # fmt: skip
    requester_email = forms.EmailField(
        label="Email", required=False, max_length=200,
        help_text="Needed for a secure download link.",
    )  # fmt: skip
    requester_phone = forms.CharField(label="Phone", required=False, max_length=40)
    purpose = forms.CharField(label="Purpose", required=False, max_length=300)
    entire_record = forms.BooleanField(label="The entire record", required=False)
    entire_record_reason = forms.CharField(
        label="Why the entire record", required=False, max_length=300,
        help_text="A third party gets the entire record only when it is specifically "
        "justified (R-MIN-6).",
    )  # fmt: skip
    date_from = forms.DateField(label="Dates of service from", required=False,
                                widget=_DATE)  # fmt: skip
    date_to = forms.DateField(label="to", required=False, widget=_DATE)
    encounter_ids = forms.MultipleChoiceField(
        label="Encounters", required=False, widget=forms.CheckboxSelectMultiple
    )
    document_types = forms.MultipleChoiceField(
        label="Document types", required=False, widget=forms.CheckboxSelectMultiple
    )
    format = forms.ChoiceField(label="Format", choices=Format.choices,
                               initial=Format.PDF)  # fmt: skip
    delivery = forms.ChoiceField(label="Delivery", choices=Delivery.choices)
    legal_basis = forms.ChoiceField(
        label="Legal basis", required=False,
        choices=[("", "as the requester type implies"),
                 *((b.code, f"{b.label} ({b.cite})")
                   for b in LEGAL_BASES.values())],
        help_text="Say it for an attorney or a researcher; a payer asking for payment "
        "is Payment, research under a waiver is the IRB or privacy board waiver.",
    )  # fmt: skip

    def __init__(self, *args: Any, user: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encounters = list(
            visible_encounters(user, patient).order_by("-admit_at")[:200]
        )
        enc: Any = self.fields["encounter_ids"]
        enc.choices = [(str(e.pk), _encounter_label(e)) for e in self.encounters]
        types: Any = self.fields["document_types"]
        types.choices = [(t.code, f"{t.display} ({t.code})") for t in
                         DocumentType.objects.filter(active=True).order_by("display")]  # fmt: skip


class IntakeForm(RequestFields):
    facility = forms.ChoiceField(label="Facility (whose records)")
    requester_type = forms.ChoiceField(label="Requester type",
                                       choices=RequesterType.choices)  # fmt: skip
    requester_name = forms.CharField(label="Requester name", max_length=200)
    representative_authority = forms.CharField(
        label="Representative's authority", required=False, max_length=300,
        help_text="For a personal representative: guardian, power of attorney, "
        "executor (R-DISC-7).",
    )  # fmt: skip
    state = forms.CharField(
        label="State", required=False, max_length=2,
        help_text="Whose state law applies (two letters); blank: the house rule.",
    )  # fmt: skip
    received_on = forms.DateField(label="Received on", widget=_DATE)
    channel = forms.ChoiceField(label="Received by", choices=Channel.choices)
    identity_verified = forms.BooleanField(
        label="Requester's identity verified", required=False
    )
    verification_method = forms.CharField(
        label="How it was verified", required=False, max_length=300,
        help_text="e.g. driver's licence checked in person; notarized signature.",
    )  # fmt: skip

    def __init__(self, *args: Any, user: Any, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, user=user, patient=patient, **kwargs)
        mine = Facility.objects.order_by("code")
        scope = user.facility_ids()
        if scope is not None:
            mine = mine.filter(pk__in=scope)
        codes: Any = self.fields["facility"]
        codes.choices = [(f.code, f"{f.code} · {f.name}") for f in mine]
        if len(codes.choices) == 1:
            codes.initial = codes.choices[0][0]
        # today on the calendar of the facility the request will be logged at
        self.fields["received_on"].initial = clock.today(
            mine.first() if len(codes.choices) == 1 else user_zone(user)
        )

    def clean_state(self) -> str:
        return str(self.cleaned_data["state"]).strip().upper()

    def request_in(
        self, patient: Patient, legal_detail: dict[str, Any]
    ) -> rq.RequestIn:
        d = dict(self.cleaned_data)
        d["facility_code"] = d.pop("facility")
        return rq.RequestIn(patient_id=patient.pk, legal_detail=legal_detail, **d)


class ChangeForm(RequestFields):
    """The request page's "Change the request": the fields as they stand, and only
    those changed go to release.requests.update_request."""

    def __init__(
        self, *args: Any, user: Any, req: ReleaseRequest, **kwargs: Any
    ) -> None:
        initial = {name: getattr(req, name) for name in self.base_fields
                   if name != "encounter_ids"}  # fmt: skip
        initial["encounter_ids"] = [str(pk) for pk in
                                    req.encounters.values_list("pk", flat=True)]  # fmt: skip
        super().__init__(*args, user=user, patient=req.patient, initial=initial,
                         auto_id="change-%s", **kwargs)  # fmt: skip

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.changed_data}


def _choices(words: dict[str, str]) -> list[tuple[str, str]]:
    return [("", "—"), *words.items()]


class LegalDetailForm(forms.Form):
    """What a court order, subpoena, law enforcement or public health request's
    papers show (release.legal.LEGAL_DETAIL_KEYS); only what is given is kept."""

    order_signed_by_judge = forms.BooleanField(
        label="Court order signed by a judge (or issued by the tribunal)",
        required=False,
    )
    signed_by_judge = forms.BooleanField(label="Subpoena signed by a judge",
                                         required=False)  # fmt: skip
    part2_court_order = forms.BooleanField(
        label="A 42 CFR 2.64-2.67 court order for substance use records", required=False
    )
    covers = forms.MultipleChoiceField(
        label="Sensitive categories the order or process expressly names",
        required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(lb.code, f"{lb.display} ({lb.code})") for lb in LABELS],
    )  # fmt: skip
    assurance = forms.ChoiceField(label="Subpoena's satisfactory assurance (R-DISC-3)",
                                  required=False, choices=_choices(ASSURANCES))  # fmt: skip
    written_statement = forms.BooleanField(
        label="The requesting party's written statement received", required=False
    )
    documents = forms.CharField(
        label="Documentation received (one per line)", required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    notice_sent_on = forms.DateField(label="Notice sent to the patient on",
                                     required=False, widget=_DATE)  # fmt: skip
    notice_sufficient = forms.BooleanField(
        label="The notice described the litigation enough to object", required=False
    )
    objection_deadline = forms.DateField(label="Time to object ends on",
                                         required=False, widget=_DATE)  # fmt: skip
    objections_resolved = forms.BooleanField(
        label="No objection filed, or all resolved for disclosure", required=False
    )
    qpo = forms.ChoiceField(label="Qualified protective order", required=False,
                            choices=[("", "—"), *((q, q) for q in QPO_STATES)])  # fmt: skip
    ce_effort = forms.ChoiceField(
        label="Our own effort", required=False,
        choices=[("", "—"), ("notice", "notice"), ("qpo", "qpo")],
    )  # fmt: skip
    process = forms.ChoiceField(label="Law enforcement process (R-DISC-4)",
                                required=False,
                                choices=_choices({**F1_PROCESS, **OTHER_PROCESS}))  # fmt: skip
    relevant_material = forms.BooleanField(label="States: relevant and material",
                                           required=False)  # fmt: skip
    specific_limited = forms.BooleanField(label="States: specific and limited",
                                          required=False)  # fmt: skip
    deidentified_not_usable = forms.BooleanField(
        label="States: de-identified information could not be used", required=False
    )
    privacy_officer_approved = forms.BooleanField(label="Approved by the privacy officer",
                                                  required=False)  # fmt: skip
    approved_by = forms.CharField(
        label="Privacy officer", required=False, max_length=200
    )
    public_health_basis = forms.ChoiceField(label="Public health category (R-DISC-5)",
                                            required=False,
                                            choices=_choices(PUBLIC_HEALTH))  # fmt: skip
    authority = forms.CharField(label="Authority or agency", required=False,
                                max_length=200)  # fmt: skip
    employer_conditions_met = forms.BooleanField(
        label="Employer's conditions met (R-DISC-5(v))", required=False
    )
    agreement_documented = forms.BooleanField(
        label="Parent's or student's agreement documented (R-DISC-5(vi))",
        required=False,
    )
    waiver_documented = forms.BooleanField(
        label="IRB or privacy board waiver documented", required=False
    )

    @classmethod
    def of(cls, req: ReleaseRequest, data: Any = None) -> LegalDetailForm:
        """The papers on file for the request's change form (prefix "legal")."""
        initial: dict[str, Any] = {}
        for key, value in (req.legal_detail or {}).items():
            if key == "documents" and isinstance(value, list):
                value = "\n".join(map(str, value))
            elif isinstance(cls.base_fields.get(key), forms.DateField):
                value = _iso_date(value)
            initial[key] = value
        return cls(data, prefix="legal", initial=initial, auto_id="change-%s")

    @staticmethod
    def _value(key: str, value: Any) -> Any:
        if key == "documents":
            return [line.strip() for line in value.splitlines() if line.strip()]
        if isinstance(value, date):
            return value.isoformat()
        return value

    def detail(self) -> dict[str, Any]:
        """What the papers show (only what is given), for intake."""
        out = {k: self._value(k, v) for k, v in self.cleaned_data.items()}
        return {k: v for k, v in out.items() if v}

    def changes(self) -> dict[str, Any]:
        """The papers changed on the form: a value cleared or unticked is None (the
        key is removed), for release.requests.update_request."""
        out = {k: self._value(k, self.cleaned_data[k]) for k in self.changed_data}
        return {k: v or None for k, v in out.items()}


def _iso_date(value: Any) -> Any:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return value


def _encounter_label(e: Any) -> str:
    when = clock.short_date(e.admit_at, e.facility) or "date not known"
    account = f" · {e.account_number}" if e.account_number else ""
    return f"{when} · {e.get_encounter_class_display()}{account} · {e.facility.code}"


# The service's field names -> the form field showing the message.
_INTAKE_FIELD = {"facility_code": "facility", "patient_id": None}


def _patient_header(patient: Patient) -> dict[str, Any]:
    return {
        "patient": patient,
        "legal_name": patient.legal_name(),
        "mrns": [i for i in patient.identifiers.all() if i.kind == "MR"],
    }


@requires("release_records")
def intake(request: HttpRequest) -> HttpResponse:
    """GET without a patient: find the patient (the index search, audited). GET
    ?patient=<id>: the intake form. POST: log the request, then its page."""
    chosen = request.POST.get("patient") or request.GET.get("patient")
    if not chosen:
        return _find_patient(request)
    actor = actor_from_request(request)
    with denial_audited(request, action=actions.CHART_OPEN.name, patient=chosen):
        patient = get_patient(user=request.user, patient_id=_uuid(chosen, "patient"))
    posted = request.POST if request.method == "POST" else None
    form = IntakeForm(posted, user=request.user, patient=patient)
    legal = LegalDetailForm(posted, prefix="legal")
    if request.method == "POST" and form.is_valid() and legal.is_valid():
        try:
            data = form.request_in(patient, legal.detail())
            req = rq.log_request(actor=actor, data=data)
        except (ValidationFailed, PermissionDenied, NotFound) as exc:
            audit_page_refusal(request, exc)  # only a refusal is recorded
            field = _INTAKE_FIELD.get(exc.field or "", exc.field)
            form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Request {req.number} logged; due "
                             f"{req.due_on:%Y-%m-%d} ({req.deadline_rule}).")  # fmt: skip
            return redirect("web:release_request", request_id=req.pk)
    # the form shows the patient's name, MRNs and encounters: a read of the chart
    record(actor=actor, action=actions.CHART_OPEN.name, patient=patient, obj=patient,
           detail={"view": "release intake"})  # fmt: skip
    context = {**_patient_header(patient), "form": form, "legal": legal}
    return render(request, "web/release_intake.html", context,
                  status=422 if form.errors or legal.errors else 200)  # fmt: skip


def _find_patient(request: HttpRequest) -> HttpResponse:
    submitted = any(k in request.GET for k in SearchForm.base_fields)
    form = SearchForm(request.GET if submitted else None)
    rows: list[dict[str, Any]] | None = None
    if submitted and form.is_valid():
        d = form.cleaned_data
        query = PatientQuery(name=d["name"], birth_date=d["birth_date"],
                             identifier=d["identifier"], ssn=d["ssn"],
                             limit=RESULT_LIMIT)  # fmt: skip
        try:
            hits = find_patients(user=request.user, query=query, account=d["account"])
        except ValidationFailed as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            record_search(actor=actor_from_request(request), query=query,
                          account=d["account"], hits=hits)  # fmt: skip
            rows = [_row(h) for h in hits]
    return render(request, "web/release_find.html",
                  {"form": form, "rows": rows, "limit": RESULT_LIMIT})  # fmt: skip


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise ValidationFailed(f"{what} must be an id, got {value!r:.40}",
                               field=what) from None  # fmt: skip


# --- the request page ----------------------------------------------------------------------


# What each hand move is called on the page.
MOVES = {Status.PENDING: "Pend (waiting on the requester)",
         Status.IN_PROGRESS: "Take up (in progress)",
         Status.CANCELLED: "Cancel the request"}  # fmt: skip


@requires("release_records")
def request_page(request: HttpRequest, request_id: UUID) -> HttpResponse:
    req = open_request(actor_from_request(request), request_id, part="request page")
    return render_request(request, req)


def render_request(
    request: HttpRequest,
    req: ReleaseRequest,
    *,
    errors: dict[str, Errors] | None = None,
    posted: dict[str, Any] | None = None,
    target: Any = "",
    new_link: dict[str, Any] | None = None,
    change: tuple[ChangeForm, LegalDetailForm] | None = None,
) -> HttpResponse:
    """The request page; `errors` maps an action to {field: message} when that
    action was refused, shown next to the field (status 422); `target` is the id
    of the row the action was on (an authorization, a denial); `change` the change
    form as posted when it was refused."""
    today = clock.today(req.facility)
    is_open = req.status in OPEN_STATUSES
    if change is None and is_open:
        change = ChangeForm(user=request.user, req=req), LegalDetailForm.of(req)
    deadline: date = req.extended_to or req.due_on
    encounters = list(req.encounters.select_related("facility").order_by("-admit_at"))
    type_names = dict(DocumentType.objects.filter(code__in=req.document_types)
                      .values_list("code", "display"))  # fmt: skip
    context = {
        **_patient_header(req.patient),
        "req": req,
        "deadline": deadline,
        "days_left": (deadline - today).days,
        "overdue": deadline < today and req.status in OPEN_STATUSES,
        "is_open": is_open,
        "change": change[0] if change else None,
        "change_legal": change[1] if change else None,
        "encounters": [_encounter_label(e) for e in encounters],
        "document_types": [(c, type_names.get(c, c)) for c in req.document_types],
        "moves": [(s, MOVES[s]) for s in MOVES if s in rq.TRANSITIONS[req.status]],
        "legal_detail": [
            (
                k.replace("_", " "),
                ", ".join(v) if isinstance(v, list) else "yes" if v is True else v,
            )
            for k, v in (req.legal_detail or {}).items()
        ],  # fmt: skip
        **_legal_context(req, today),
        **fees_context(req, request.GET),
        **_packet_context(req, request.user),
        "new_link": new_link,
        "errors": errors or {},
        "posted": posted or {},
        "target": str(target),
    }
    refused = errors or (change and (change[0].errors or change[1].errors))
    return render(request, "web/release_request.html", context,
                  status=422 if refused else 200)  # fmt: skip


def _packet_context(req: ReleaseRequest, user: Any) -> dict[str, Any]:
    """The documents considered, the current packet, its reviews and what stops the
    release, the download links and deliveries."""
    packet = packets.current_packet(req)
    items = list(req.items.select_related("document__doc_type", "version")
                 .prefetch_related("redactions").order_by("position"))  # fmt: skip
    ready = req.status in (Status.QUALITY_REVIEW, Status.READY)
    results_going, results_left = select_results(req, user)
    return {
        "workable": req.status in scope.WORKABLE,
        "results_going": results_going,
        "results_left": results_left,
        "included": [i for i in items if i.included],
        "left_out": [i for i in items if not i.included],
        "packet": packet,
        "packet_count": req.packets.count(),
        "reviews": list(req.reviews.all()),
        "system_checks": review.system_checks(req, packet) if packet and ready else None,
        "required_checks": review.REQUIRED_CHECKS.items(),
        "can_review": has(user, "review_releases"),
        "reviewer_problem": review.reviewer_allowed(user.username, packet) if packet
        else "",
        "release_problems": releasing.release_problems(req) if ready else [],
        "links": list(DownloadLink.objects.filter(packet__request=req)
                      .order_by("-created_at")),
        "deliveries": list(req.deliveries.all()),
        "delivery_methods": [(m, label) for m, label in Delivery.choices
                             if m != Delivery.DOWNLOAD],
    }  # fmt: skip


def _legal_context(req: ReleaseRequest, today: date) -> dict[str, Any]:
    """The basis check, the authorizations with their defects, letters, denials."""
    auths = list(req.authorizations.all())
    return {
        "basis": check_basis(req, on=today),
        "authorizations": [(a, check_authorization(a, on=today)) for a in auths],
        "authorization_kinds": AuthorizationKind.choices,
        "letters": list(req.letters.all()),
        "letter_kinds": _WRITABLE_LETTERS,
        "denials": list(req.denials.all()),
        "grounds": [
            g for g in GROUNDS.values() if req.requester_type in g.requester_types
        ],  # fmt: skip
    }


def fees_context(req: ReleaseRequest, get: Any) -> dict[str, Any]:
    """The request page's Fees section: a quote (for the pages and media asked in
    the query string, else the included pages and the request's format), the
    invoices with their payments and balance, whether release waits on payment."""
    pages = sum(i.pages - len(i.excluded_pages or []) for i in req.items.all()
                if i.included)  # fmt: skip
    media = req.format
    quote_error = ""
    try:
        if get.get("quote_pages"):
            pages = whole(get.get("quote_pages"), "quote_pages")
        media = get.get("quote_media") or media
        lines = fees.quote(req, pages, media)
    except ValidationFailed as exc:
        lines, quote_error = [], exc.message
    invoices = list(req.invoices.prefetch_related("payments").order_by("-created_at"))
    clear, why = fees.payment_clear(req)
    return {
        "quote": {
            "pages": pages,
            "media": media,
            "lines": lines,
            "total": sum(x.cents for x in lines),
            "error": quote_error,
            "schedule": fees.schedule_for(req),
        },  # fmt: skip
        "invoices": [(inv, fees.balance(inv)) for inv in invoices],
        "media_choices": fees.MEDIA,
        "payment_methods": fees.PAYMENT_METHODS,
        "payment_clear": (clear, why),
    }


def whole(value: str, field: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"a number of pages, not {value[:20]!r}",
                               field=field) from None  # fmt: skip


# Letters written from the page by hand; the others come with their step (defect:
# pend on the defects; denial: deny; invoice: the invoice; cover: the packet).
_WRITABLE_LETTERS = (("acknowledgment", "Acknowledgment"),
                     ("extension", "Extension notice"))  # fmt: skip


def act(
    request: HttpRequest, request_id: UUID, action: str, run: Any, target: Any = ""
) -> HttpResponse:
    """POST: run one service on the request; back to its page with the outcome, or
    the page again with the refusal next to the field. GET: the page."""
    if request.method != "POST":
        return redirect("web:release_request", request_id=request_id)
    req = rq.get_request(user=request.user, request_id=request_id)
    try:
        done = run(actor_from_request(request), req, request.POST)
    except ValidationFailed as exc:
        req.refresh_from_db()
        record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
               patient=req.patient, obj=req,
               detail={"release_request": req.number, "part": "request page"})  # fmt: skip
        return render_request(request, req, errors={action: {exc.field or "": exc.message}},
                               posted={action: request.POST}, target=target)  # fmt: skip
    messages.success(request, done)
    return redirect("web:release_request", request_id=req.pk)


@requires("release_records")
def request_status(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Pend with a note, take up, or cancel with a note."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        rq.set_status(actor=actor, req=req, status=post.get("status", ""),
                      note=post.get("note", ""))  # fmt: skip
        return f"Request {req.number} is now {req.get_status_display().lower()}."

    return act(request, request_id, "status", run)


@requires("release_records")
def request_verify(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Record how the requester's identity was verified."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        rq.verify_identity(actor=actor, req=req,
                           method=post.get("verification_method", ""))  # fmt: skip
        return "The requester's identity is recorded as verified."

    return act(request, request_id, "verify", run)


@requires("release_records")
def request_extend(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Take the one extension, with the reason for the notice."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        rq.extend(actor=actor, req=req, reason=post.get("extension_reason", ""))
        return f"Extended to {req.extended_to:%Y-%m-%d}."

    return act(request, request_id, "extend", run)


# The service's field names -> the change form's field showing the message.
_CHANGE_FIELD = {"status": None, "legal_detail": None}


@requires("release_records")
def request_change(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Change an open request: only the fields changed on the form go to the
    service (the legal papers merged key by key); a refusal is shown at its field."""
    if request.method != "POST":
        return redirect("web:release_request", request_id=request_id)
    req = rq.get_request(user=request.user, request_id=request_id)
    form = ChangeForm(request.POST, user=request.user, req=req)
    legal = LegalDetailForm.of(req, request.POST)
    actor = actor_from_request(request)
    if form.is_valid() and legal.is_valid():
        changes = form.changes()
        if legal.changed_data:
            changes["legal_detail"] = legal.changes()
        if not changes:
            messages.info(request, "Nothing was changed.")
            return redirect("web:release_request", request_id=req.pk)
        try:
            rq.update_request(actor=actor, req=req, changes=changes)
        except ValidationFailed as exc:
            req.refresh_from_db()
            field = _CHANGE_FIELD.get(exc.field or "", exc.field)
            if field in legal.fields:
                legal.add_error(field, exc.message)
            else:
                form.add_error(field if field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Request {req.number} changed; it is "
                             f"{req.get_status_display().lower()}.")  # fmt: skip
            return redirect("web:release_request", request_id=req.pk)
    # the page again, with the refusal at its field: a read of the record
    record(actor=actor, action=actions.CHART_OPEN.name, patient=req.patient, obj=req,
           detail={"release_request": req.number, "part": "request page"})  # fmt: skip
    return render_request(request, req, change=(form, legal))
