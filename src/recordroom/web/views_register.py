"""Registering a patient with search before create: the form, the records that may
already be this person (with their evidence and what the thresholds will do), then
register, use a chosen record, or create anyway."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.mpi import mrn
from recordroom.mpi.linkage import registration
from recordroom.mpi.linkage.models import MatchOutcome
from recordroom.mpi.linkage.realtime import Candidate, visible_candidates
from recordroom.mpi.models import Facility, IdentifierKind, MrnSource, Patient, Sex
from recordroom.mpi.services import (
    IdentifierIn,
    NameIn,
    PatientIn,
    build_patient,
    identifiers_in_scope,
)
from recordroom.web.request import actor_from_request

from .capture.chart import JUST_REGISTERED
from .views_common import audit_page_refusal, requires

_ADDRESS = ("line1", "city", "state", "postal_code")
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RegisterForm(forms.Form):
    family = forms.CharField(label="Family name", max_length=100)
    given = forms.CharField(label="Given name", required=False, max_length=100)
    middle = forms.CharField(label="Middle name", required=False, max_length=100)
    birth_date = forms.DateField(label="Date of birth", required=False, widget=_DATE)
    sex = forms.ChoiceField(label="Sex", choices=Sex.choices, initial=Sex.UNKNOWN)
    mrn = forms.CharField(
        label="MRN", max_length=100, required=False,
        help_text="Only at a facility whose MRNs come from another system; where "
        "this facility assigns its own, leave it empty: the number is given on "
        "registering.",
    )  # fmt: skip
    facility = forms.ModelChoiceField(
        label="Facility of the MRN", queryset=Facility.objects.none()
    )
    ssn = forms.CharField(
        label="SSN", required=False, max_length=11, help_text="Optional: nine digits."
    )
    line1 = forms.CharField(label="Street address", required=False, max_length=200)
    city = forms.CharField(label="City", required=False, max_length=100)
    state = forms.CharField(label="State", required=False, max_length=2, min_length=2)
    postal_code = forms.CharField(label="ZIP code", required=False, max_length=10)
    phone = forms.CharField(label="Phone", required=False, max_length=40)
    reason = forms.CharField(
        label="Reason for your choice",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed to use a record of your choice or to create anyway.",
    )

    GROUPS = (("Patient", ("family", "given", "middle", "birth_date", "sex")),
              ("Identifiers", ("mrn", "facility", "ssn")),
              ("Address and phone", ("line1", "city", "state", "postal_code", "phone")))  # fmt: skip

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = user.facility_ids()
        mine = Facility.objects.order_by("code")
        if scope is not None:
            mine = mine.filter(pk__in=scope)
        field: Any = self.fields["facility"]
        field.queryset = mine
        field.label_from_instance = lambda f: f"{f.code} · {f.name}"
        if len(mine) == 1:
            field.initial = mine[0].pk
        if mine and all(f.mrn_source == MrnSource.HERE for f in mine):
            del self.fields["mrn"]  # numbers are assigned, never typed (mpi.mrn)

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields as the page shows them, under their headings."""
        return [(legend, [self[f] for f in names if f in self.fields])
                for legend, names in self.GROUPS]  # fmt: skip

    def clean_state(self) -> str:
        return str(self.cleaned_data["state"]).upper()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        facility, typed = data.get("facility"), (data.get("mrn") or "").strip()
        if facility is not None and "mrn" in self.fields:
            if facility.mrn_source == MrnSource.HERE and typed:
                self.add_error("mrn", f"{facility.code} assigns its own MRNs: leave "
                               "the MRN empty and one is given on registering")  # fmt: skip
            elif facility.mrn_source == MrnSource.EXTERNAL and not typed:
                self.add_error("mrn", f"an MRN is required: {facility.code} takes "
                               "its MRNs from another system")  # fmt: skip
        if any(data.get(f) for f in _ADDRESS):  # an address is the four parts or none
            for f in _ADDRESS:
                if not data.get(f) and f not in self.errors:
                    self.add_error(f, f"give the whole address: {f.replace('_', ' ')} "
                                   "is missing (or clear the other address fields)")  # fmt: skip
        return data

    def patient_in(self) -> PatientIn:
        d = self.cleaned_data
        idents = [IdentifierIn(kind=IdentifierKind.MRN, value=d.get("mrn") or "",
                               facility=d["facility"])]  # fmt: skip
        if d["ssn"]:
            idents.append(IdentifierIn(kind=IdentifierKind.SSN, value=d["ssn"]))
        address = {f: d[f] for f in _ADDRESS}
        return PatientIn(
            names=[NameIn(family=d["family"], given=d["given"], middle=d["middle"])],
            birth_date=d["birth_date"], sex=d["sex"], identifiers=idents,
            addresses=[address] if d["line1"] else [],
            telecoms=[{"system": "phone", "use": "home", "value": d["phone"]}]
            if d["phone"] else [],
        )  # fmt: skip


# The service's field names -> the form field that shows the message.
_FIELD_FOR = {"names": "family", "names.family": "family", "birth_date": "birth_date",
              "sex": "sex", "reason": "reason", "identifiers.value": "mrn",
              "identifiers.facility": "facility",
              "identifiers.0.facility": "facility"}  # fmt: skip


def _field_for(exc: ValidationFailed | PermissionDenied | NotFound) -> str | None:
    field = exc.field or ""
    if field.startswith("identifiers") and re.search(r"\bSSN\b|Social", exc.message):
        return "ssn"
    return _FIELD_FOR.get(field)


@requires("edit_demographics")
def register(request: HttpRequest) -> HttpResponse:
    """GET: the form. POST "check": the records that may be this person, nothing
    written. POST "register" / "create_anyway" / link_to=<id>: register, then the
    chart with what happened."""
    form = RegisterForm(request.POST or None, user=request.user)
    context: dict[str, Any] = {"form": form, "candidates": None}
    if request.method == "POST" and form.is_valid():
        data = form.patient_in()
        action = request.POST.get("action", "check")
        link_to = request.POST.get("link_to", "")
        valid = False
        try:
            # the registration is valid before it is searched (an MRN still to be
            # assigned apart)
            build_patient(mrn.prepare(data).data)
            valid = True
            if link_to or action in ("register", "create_anyway"):
                done = registration.register(
                    actor=actor_from_request(request), data=data, source="ui",
                    create_anyway=action == "create_anyway" and not link_to,
                    link_to=link_to or None, reason=form.cleaned_data["reason"],
                )  # fmt: skip
                messages.success(request, _outcome_message(done, form.cleaned_data))
                # the chart then offers the cover sheet for this patient's paper
                request.session[JUST_REGISTERED] = str(done.patient.pk)
                return redirect("web:chart", patient_id=done.patient.pk)
        except (ValidationFailed, PermissionDenied, NotFound) as exc:
            audit_page_refusal(request, exc)  # only a refusal is recorded
            form.add_error(_field_for(exc), exc.message)
        if valid:
            context.update(_matches(request, data, form.cleaned_data))
    status = 422 if form.errors else 200
    return render(request, "web/register.html", context, status=status)


def _outcome_message(done: registration.Registration, d: dict[str, Any]) -> str:
    value = done.assigned_mrn or d.get("mrn") or ""
    mrn = f"MRN {value} ({d['facility'].code})"
    if not value:  # linked to a record that already holds one here
        return (
            "Registered: this existing record already holds an MRN at "
            f"{d['facility'].code}."
        )
    if done.assigned_mrn:
        mrn = f"MRN {value} (assigned by {d['facility'].code})"
    if done.outcome == MatchOutcome.LINKED:
        if value in done.decision.identifiers_added:
            return f"Registered: {mrn} added to this existing record."
        return f"Registered: this existing record already holds {mrn}."
    if done.outcome == MatchOutcome.REVIEW:
        return (f"Registered: a new record was created with {mrn}; the possible "
                "duplicate was sent to the duplicate worklist.")  # fmt: skip
    return f"Registered: a new record was created with {mrn}; no likely match."


def _matches(
    request: HttpRequest, data: PatientIn, d: dict[str, Any]
) -> dict[str, Any]:
    """The candidates the user may see, each with what the thresholds make of it,
    and what Register will do; the list is a read of PHI, audited as a search
    (R-SEC-2)."""
    found, limits = registration.preview(data)
    shown = visible_candidates(request.user, found)
    record(actor=actor_from_request(request), action=actions.PATIENT_SEARCH.name,
           detail={"search": "before create", "results": len(shown)})  # fmt: skip
    where = d["facility"].code
    top = found[0] if found else None
    rows = _rows(request, shown)
    expected = registration.expected_outcome(data, found, limits)
    for row in rows:
        row["band"] = _band(row["candidate"].probability, limits, where)
        row["decides"] = row["candidate"] is top
        # near certain: Register would link to it; "Use this record" is the primary
        # action and does just that (the thresholds' choice, no reason needed)
        row["near_certain"] = row["decides"] and expected == MatchOutcome.LINKED
    return {
        "candidates": rows,
        "thresholds": limits,
        "facility": where,
        "then": _then(expected, registration.held_back(data, top, limits)),
        # the best match may be a record outside the user's facilities: what it
        # makes Register do is said, the record is not shown
        "hidden_top": top is not None and not any(r["decides"] for r in rows),
        "near_certain": any(r["near_certain"] for r in rows),
    }


def _rows(request: HttpRequest, shown: list[Candidate]) -> list[dict[str, Any]]:
    ids = [c.patient_id for c in shown]
    patients = {str(p.pk): p for p in Patient.objects.filter(pk__in=ids)
                .prefetch_related("names")}  # fmt: skip
    mrns: dict[str, list[Any]] = {}
    for ident in identifiers_in_scope(request.user).filter(
        patient_id__in=ids, kind=IdentifierKind.MRN, period_end=None
    ):
        mrns.setdefault(str(ident.patient_id), []).append(ident)
    out = []
    for c in shown:
        p = patients[c.patient_id]
        legal = p.legal_name()
        out.append({
            "candidate": c, "patient": p, "mrns": mrns.get(c.patient_id, []),
            "legal_name": legal.display if legal else "(no name)",
            "evidence": [e for e in c.evidence if e.get("comparison") != "prior"],
        })  # fmt: skip
    return out


def _band(p: float, limits: registration.Thresholds, where: str) -> str:
    if p >= limits.auto_link:
        return f"Above the automatic-link threshold {limits.auto_link:g} at {where}"
    if p >= limits.review:
        return (f"Between the review threshold {limits.review:g} and the "
                f"automatic-link threshold {limits.auto_link:g} at {where}")  # fmt: skip
    return f"Below the review threshold {limits.review:g} at {where}"


def _then(expected: str, held_back: list[str]) -> str:
    """What Register does, said of the best match; above the automatic-link
    threshold but not linked, what keeps the two records apart."""
    if expected == MatchOutcome.LINKED:
        return "registering links to this record (its new identifiers are added there)"
    if expected == MatchOutcome.CREATED:
        return "registering creates a new record"
    but = ""
    if held_back:
        but = f"but it is not linked automatically ({'; '.join(held_back)}): "
    return (f"{but}registering creates a new record and sends this pair to the "
            "duplicate worklist")  # fmt: skip
