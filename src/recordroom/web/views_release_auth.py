"""The release desk's legal side: an authorization recorded element by element (and
corrected, or revoked), the defect letter, the other letters and their PDFs, and
denials with their review. Thin adapters over release.authorizations, letters and
denials; the request page (views_release) shows what they produced."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from recordroom.audit.services import record
from recordroom.kernel import actions, clock, uploads
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from recordroom.kernel.labels import LABELS
from recordroom.release import authorizations as authz
from recordroom.release import denials, letters
from recordroom.release import requests as rq
from recordroom.release.api_common import letter_response
from recordroom.release.elements import auth_zone
from recordroom.release.models import (
    Authorization,
    AuthorizationKind,
    Denial,
    ReleaseRequest,
)
from recordroom.web.request import actor_from_request

from .views_common import audit_page_refusal, requires
from .views_release import act

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# --- an authorization ------------------------------------------------------------------------


class AuthorizationForm(forms.Form):
    """The form as received: each element of its kind's checklist present or
    missing (with a note), and what it says."""

    recipient = forms.CharField(label="Recipient named", required=False, max_length=300)
    purpose = forms.CharField(label="Purpose stated", required=False, max_length=300)
    description = forms.CharField(
        label="Information described", required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    signed_on = forms.DateField(label="Signed on", required=False, widget=_DATE)
    signed_by = forms.CharField(label="Signed by", required=False, max_length=300)
    representative_signed = forms.BooleanField(
        label="Signed by a personal representative", required=False
    )
    tpo = forms.BooleanField(
        label="A single consent for treatment, payment and operations (Part 2 only)",
        required=False,
    )
    expires_on = forms.DateField(label="Expires on", required=False, widget=_DATE)
    expiration_event = forms.CharField(
        label="Or expires on this event", required=False, max_length=300
    )
    expiration_event_occurred = forms.BooleanField(
        label="That event has occurred", required=False
    )
    covers = forms.MultipleChoiceField(
        label="Sensitive information specifically authorized", required=False,
        choices=[(lb.code, f"{lb.display} ({lb.code})") for lb in LABELS],
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    compound_with = forms.ChoiceField(
        label="Combined on one form with", required=False,
        choices=[("", "nothing else"), *authz.COMPOUND_KINDS.items()],
    )  # fmt: skip
    compound_note = forms.CharField(
        label="What it is combined with", required=False, max_length=200
    )
    conditions_treatment = forms.BooleanField(
        label="Treatment, payment, enrollment or eligibility conditioned on signing",
        required=False,
    )
    conditioning_exception = forms.ChoiceField(
        label="Conditioning allowed because", required=False,
        choices=[("", "no exception"), *authz.CONDITIONING_EXCEPTIONS.items()],
    )  # fmt: skip
    known_false = forms.BooleanField(
        label="Information on the form is known to be false", required=False
    )
    scan = forms.FileField(label="The signed form (scan)", required=False)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.checklist = authz.checklist(kind)
        for el in self.checklist:
            self.fields[f"el_{el.code}"] = forms.BooleanField(
                label=el.name, required=False, help_text=f"{el.words} ({el.rule})"
            )
            self.fields[f"note_{el.code}"] = forms.CharField(
                label=f"Note on {el.name}", required=False, max_length=300
            )
        if kind != AuthorizationKind.PART2:
            del self.fields["tpo"]

    def element_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(el, self[f"el_{el.code}"], self[f"note_{el.code}"])
                for el in self.checklist]  # fmt: skip

    def elements(self) -> dict[str, dict[str, Any]]:
        d = self.cleaned_data
        return {el.code: {"present": d[f"el_{el.code}"], "note": d[f"note_{el.code}"]}
                for el in self.checklist}  # fmt: skip

    def values(self) -> dict[str, Any]:
        """The service's fields (compound_with as "code: note")."""
        d = dict(self.cleaned_data)
        note = d.pop("compound_note").strip()
        if d["compound_with"] and note:
            d["compound_with"] = f"{d['compound_with']}: {note}"
        for key in ("scan", *(k for k in d if k.startswith(("el_", "note_")))):
            d.pop(key, None)
        return d

    @classmethod
    def initial_of(cls, auth: Authorization) -> dict[str, Any]:
        code, _, note = auth.compound_with.partition(":")
        initial = {k: getattr(auth, k) for k in authz.EDITABLE}
        initial.update(compound_with=code.strip(), compound_note=note.strip())
        for c, entry in (auth.elements or {}).items():
            initial[f"el_{c}"] = bool(entry.get("present"))
            initial[f"note_{c}"] = entry.get("note", "")
        return initial


# The service's field names -> the form field showing the message.
_AUTH_FIELD = {"elements": None, "request": None, "sensitivity": "covers",
               "at": "revoked_at"}  # fmt: skip


def _kind(value: str) -> str:
    if value not in AuthorizationKind.values:
        raise ValidationFailed(
            f"unknown authorization kind {value[:40]!r}; use one of "
            f"{', '.join(AuthorizationKind.values)}", field="kind")  # fmt: skip
    return value


def _authorization(req: ReleaseRequest, auth_id: UUID) -> Authorization:
    auth = req.authorizations.filter(pk=auth_id).first()
    if auth is None:
        raise NotFound(f"request {req.number} has no authorization {auth_id}")
    return auth


def _form_page(
    request: HttpRequest, req: ReleaseRequest, form: AuthorizationForm,
    auth: Authorization | None,
) -> HttpResponse:  # fmt: skip
    record(actor=actor_from_request(request), action=actions.CHART_OPEN.name,
           patient=req.patient, obj=auth or req,
           detail={"release_request": req.number, "part": "authorization"})  # fmt: skip
    today = clock.today(req.facility)
    context = {
        "req": req,
        "form": form,
        "auth": auth,
        "kind_display": AuthorizationKind(form.kind).label,
        "defects": authz.check_authorization(auth, on=today) if auth else [],
    }
    return render(request, "web/release_authorization.html", context,
                  status=422 if form.errors else 200)  # fmt: skip


@requires("release_records")
def authorization_new(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """GET ?kind=: the checklist of that kind to fill in. POST: record it."""
    actor = actor_from_request(request)
    req = rq.get_request(user=request.user, request_id=request_id)
    kind = _kind(request.POST.get("kind") or request.GET.get("kind") or "hipaa")
    form = AuthorizationForm(request.POST or None, request.FILES or None, kind=kind)
    if (refused := uploads.refusal(request)) is not None:
        form.is_valid()
        form.add_error("scan", refused.message)
    elif request.method == "POST" and form.is_valid():
        scan = form.cleaned_data["scan"]
        try:
            auth = authz.record_authorization(
                actor=actor, patient=req.patient, request=req, kind=kind,
                elements=form.elements(), scan=scan.read() if scan else None,
                **form.values(),
            )  # fmt: skip
        except (ValidationFailed, PermissionDenied) as exc:
            audit_page_refusal(request, exc)  # only a refusal is recorded
            _add_error(form, exc)
        else:
            messages.success(request, _checked(auth))
            return redirect("web:release_request", request_id=req.pk)
    return _form_page(request, req, form, None)


@requires("release_records")
def authorization(
    request: HttpRequest, request_id: UUID, auth_id: UUID
) -> HttpResponse:
    """GET: the authorization as recorded, its defects, the form to correct it.
    POST: correct it (elements and fields)."""
    actor = actor_from_request(request)
    req = rq.get_request(user=request.user, request_id=request_id)
    auth = _authorization(req, auth_id)
    form = AuthorizationForm(request.POST or None, kind=auth.kind,
                             initial=AuthorizationForm.initial_of(auth))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        values = form.values()
        changes = {k: v for k, v in values.items() if k in authz.EDITABLE
                   and v != getattr(auth, k)}  # fmt: skip
        try:
            authz.update_authorization(actor=actor, auth=auth,
                                       elements=form.elements(), **changes)  # fmt: skip
        except ValidationFailed as exc:
            _add_error(form, exc)
            auth.refresh_from_db()
        else:
            messages.success(request, _checked(auth))
            return redirect("web:release_request", request_id=req.pk)
    return _form_page(request, req, form, auth)


def _add_error(form: forms.Form, exc: ValidationFailed | PermissionDenied) -> None:
    field = _AUTH_FIELD.get(exc.field or "", exc.field)
    form.add_error(field if field in form.fields else None, exc.message)


def _checked(auth: Authorization) -> str:
    defects = authz.check_authorization(auth, on=clock.today(auth_zone(auth)))
    if not defects:
        return f"{auth.get_kind_display()} recorded: no defect."
    return (f"{auth.get_kind_display()} recorded with {len(defects)} defect"
            f"{'s' if len(defects) > 1 else ''}: "
            + "; ".join(f"{d.element} ({d.rule})" for d in defects) + ".")  # fmt: skip


@requires("release_records")
def authorization_revoke(
    request: HttpRequest, request_id: UUID, auth_id: UUID
) -> HttpResponse:
    """Record the patient's written revocation (R-AUTH-8)."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        auth = _authorization(req, auth_id)
        on = _date_field(post.get("revoked_on", ""), "revoked_on")
        at = clock.at_local(on, req.facility)
        authz.revoke(actor=actor, auth=auth, at=at, note=post.get("note", ""))
        return f"{auth.get_kind_display()} revoked as of {on:%Y-%m-%d}."

    return act(request, request_id, "revoke", run, target=auth_id)


def _date_field(value: str, field: str) -> Any:
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise ValidationFailed(f"give the date as YYYY-MM-DD, not {value[:20]!r}",
                               field=field) from None  # fmt: skip


# --- letters ---------------------------------------------------------------------------------


@requires("release_records")
def defect_letter(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Pend the request on its defects and write the letter naming each."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        letter = letters.pend_with_defects(actor=actor, req=req)
        n = len(letter.detail.get("defects", []))
        return (f"Pended; the defect letter names {n} defect{'s' if n > 1 else ''}: "
                "download it under Letters.")  # fmt: skip

    return act(request, request_id, "defects", run)


@requires("release_records")
def letter_new(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Write an acknowledgment or extension notice."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        letter = letters.render_letter(actor=actor, req=req, kind=post.get("kind", ""))
        return f"{letter.get_kind_display()} letter written."

    return act(request, request_id, "letter", run)


@requires("release_records")
def letter_content(request: HttpRequest, letter_id: UUID) -> HttpResponse:
    """A letter's PDF (a read of the request, audited)."""
    return letter_response(actor_from_request(request), letter_id, attachment=False)


# --- denials ---------------------------------------------------------------------------------


@requires("release_records")
def deny(request: HttpRequest, request_id: UUID) -> HttpResponse:
    """Deny in whole or part on a ground, with the letter (R-ACC-7/8/9)."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        denial = denials.deny(
            actor=actor, req=req, ground=post.get("ground", ""),
            basis=post.get("basis", ""), partial=post.get("partial") == "on",
            professional=post.get("professional", ""),
        )  # fmt: skip
        part = "in part" if denial.partial else ""
        return f"Denied {part}; the denial letter is under Letters.".replace("  ", " ")

    return act(request, request_id, "deny", run)


@requires("release_records")
def denial_review(
    request: HttpRequest, request_id: UUID, denial_id: UUID
) -> HttpResponse:
    """The requester asked for a review (step=asked), or the reviewing
    professional's decision (step=decided, reviewer, outcome)."""

    def run(actor: Any, req: ReleaseRequest, post: Any) -> str:
        denial = Denial.objects.filter(pk=denial_id, request=req).first()
        if denial is None:
            raise NotFound(f"request {req.number} has no denial {denial_id}")
        if post.get("step") == "asked":
            denials.request_review(actor=actor, denial=denial)
            return "The review request is recorded: refer it to the reviewing professional."
        denials.record_review(actor=actor, denial=denial, reviewer=post.get("reviewer", ""),
                              outcome=post.get("outcome", ""))  # fmt: skip
        return f"Review recorded: denial {denial.review_outcome}; the letter is under Letters."

    return act(request, request_id, "review", run, target=denial_id)
