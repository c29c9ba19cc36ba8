"""Letters to requesters as PDFs, kept encrypted in the blob store and audited
(release.letter): acknowledgment, defect/pend (every defect by rule), extension
(R-ACC-2), denial (R-ACC-9) and its review decision (R-ACC-8), invoice, and the
packet's cover letter (with the Part 2 notice and the consent's scope, R-P2-5).

Letters are dated, and count, on the facility's calendar (kernel.clock); they cite
the law, never our rule IDs, and are signed with the person's name and title."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.letterpdf import LetterDoc, render
from recordroom.kernel.text import without_rule_ids
from recordroom.mpi.models import Patient

from . import requests as rq
from .elements import Defect
from .grounds import GROUNDS
from .legal import PART2_NOTICE, check_basis, part2_notice_needed, valid_authorizations
from .models import (
    AuthorizationKind,
    Denial,
    Letter,
    LetterKind,
    ReleaseRequest,
    Status,
)

HHS_COMPLAINT = (
    "the Secretary of the U.S. Department of Health and Human Services, Office for "
    "Civil Rights: online at www.hhs.gov/ocr/complaints, by mail to 200 Independence "
    "Avenue SW, Washington, DC 20201, or by phone at 1-800-368-1019"
)


def patient_name(patient: Patient) -> str:
    name = patient.legal_name()
    return (
        " ".join(p for p in (name.given, name.family) if p) if name else "the patient"
    )


def _long(d: date | None) -> str:
    return clock.long_date(d)


Signer = list[str]  # the signer's lines (full name, job title); [] for none


def signer_of(actor: Actor) -> Signer:
    """Who signs: the person's full name and job title, never a user name."""
    return actor.user.signature() if actor.user is not None else []


def scope_words(req: ReleaseRequest) -> str:
    """What was asked for, in words."""
    if req.entire_record:
        parts = ["the entire record"]
    else:
        parts = []
        if req.document_types:
            parts.append("documents of type " + ", ".join(req.document_types))
        count = req.encounters.count()
        if count:
            parts.append(f"{count} visit{'s' if count > 1 else ''}")
        if not parts:
            parts.append("records")
    if req.date_from or req.date_to:
        parts.append(f"from {_long(req.date_from) or 'the start'} to "
                     f"{_long(req.date_to) or 'today'}")  # fmt: skip
    return " ".join(parts)


def _doc(req: ReleaseRequest, title: str, signer: Sequence[str] = ()) -> LetterDoc:
    patient = req.patient
    born = f", born {_long(patient.birth_date)}" if patient.birth_date else ""
    to = [
        req.requester_name,
        req.requester_organization,
        *req.requester_address.splitlines(),
    ]
    return LetterDoc(
        organization=req.facility.name, reference=f"Request {req.number}",
        department="Health Information Management - Release of Information",
        to=to, subject=f"request {req.number} for the records of "
        f"{patient_name(patient)}{born}", title=title, on=clock.today(req.facility),
        signature=[*signer, "Release of Information", req.facility.name],
    )  # fmt: skip


def _promise(req: ReleaseRequest, doc: LetterDoc, by: date, what: str) -> None:
    """The date we will act by, or, once it has passed, that we are late: a letter
    never promises a date already gone."""
    if doc.on is None or by >= doc.on:
        doc.p(f"We will {what} by {_long(by)}.")
    else:
        doc.p(f"Our response is overdue: it was due by {_long(by)}. We are sorry for "
              "the delay and will respond as soon as we can; if you have questions, "
              f"please call or write to us quoting request {req.number}.")  # fmt: skip


def _acknowledgment(
    req: ReleaseRequest, detail: dict[str, Any], who: Signer
) -> LetterDoc:
    doc = _doc(req, "We received your request", who)
    doc.p(f"We received your request for {scope_words(req)} on "
          f"{_long(req.received_on)}. Its number is {req.number}; please quote it "
          "when you write or call.")  # fmt: skip
    _promise(req, doc, req.extended_to or req.due_on, "respond")
    if rq.is_access_request(req):
        doc.p("Federal law gives us 30 days from receipt to act on a request for "
              "access, and one extension of up to 30 days if we tell you the reason "
              "in writing within the first 30 days (45 CFR 164.524(b)(2)).")  # fmt: skip
    doc.p("If we need anything more from you, we will write to you.")
    return doc


def _defect(req: ReleaseRequest, detail: dict[str, Any], who: Signer) -> LetterDoc:
    defects = [Defect(**d) for d in detail.get("defects", [])]
    doc = _doc(req, "We need more before we can release the records", who)
    doc.p(
        f"We cannot release the records you asked for ({scope_words(req)}) yet. "
        "Each problem below names what is missing or wrong and what to send."
    )
    doc.table([["What", "What to do"],
               *[[d.element, d.message] for d in defects]])  # fmt: skip
    if any(d.rule.startswith(("R-AUTH", "R-P2")) for d in defects):
        doc.p("An authorization that has expired, is not filled out completely, has "
              "been revoked, is combined with another document or makes treatment "
              "depend on signing, or contains information known to be false is not "
              "valid (45 CFR 164.508(b)(2)). A valid authorization has every core "
              "element and required statement (45 CFR 164.508(c)).")  # fmt: skip
    doc.p(f"When we receive what is needed, we will continue with request "
          f"{req.number}. Please send it to {req.facility.name}, Release of "
          "Information, quoting the request number.")  # fmt: skip
    return doc


def _extension(req: ReleaseRequest, detail: dict[str, Any], who: Signer) -> LetterDoc:
    if not req.extended_to:
        raise ValidationFailed("the request has no extension: take it first (the "
                               "reason and the new date go in this letter)",
                               field="kind")  # fmt: skip
    doc = _doc(req, "We need more time for your request", who)
    doc.p(f"We need more time to act on your request of {_long(req.received_on)} "
          f"because {req.extension_reason.rstrip('.')}.")  # fmt: skip
    _promise(req, doc, req.extended_to, "complete it")
    doc.small(
        "Federal law allows one extension of up to 30 days when we tell you the "
        "reason and the date within the first 30 days (45 CFR 164.524(b)(2))."
    )
    return doc


def _complaints(doc: LetterDoc) -> None:
    contact, phone = settings.ROI_CONTACT, settings.ROI_CONTACT_PHONE
    if not phone.strip():
        raise ValidationFailed(
            "a denial letter must give the telephone number of the contact for "
            "complaints (R-ACC-9): set RECORDROOM_ROI_CONTACT_PHONE",
            field="ROI_CONTACT_PHONE")  # fmt: skip
    doc.h("How to complain")
    doc.p(f"You may complain to us: {contact}, {doc.organization}, telephone {phone}. "
          f"You may also complain to {HHS_COMPLAINT}. We will not retaliate against "
          "you for complaining.")  # fmt: skip


def _denial(req: ReleaseRequest, detail: dict[str, Any], who: Signer) -> LetterDoc:
    """R-ACC-9: the basis, review rights and how (if reviewable), complaints to us
    (contact and phone) and to HHS; the rest given when the denial is partial."""
    denial = Denial.objects.get(pk=detail["denial"], request=req)
    ground = GROUNDS[denial.ground]
    part = "part of " if denial.partial else ""
    doc = _doc(req, "Your request has been denied" if not denial.partial
               else "Part of your request has been denied", who)  # fmt: skip
    doc.p(f"We have denied {part}your request of {_long(req.received_on)} for "
          f"{scope_words(req)}.")  # fmt: skip
    doc.h("Why")
    doc.p(ground.words)
    if denial.basis.strip():
        doc.p(denial.basis.strip())
    if denial.partial:
        doc.p("You will receive the rest of the records you asked for.")
    doc.h("Your right to a review")
    if ground.reviewable:
        doc.p("You may ask for this decision to be reviewed by a licensed health care "
              "professional chosen by us who did not take part in it. To ask, write "
              f"to the {settings.ROI_CONTACT}, {req.facility.name}, quoting request "
              f"{req.number}, or call {settings.ROI_CONTACT_PHONE}. We will send you "
              "the reviewer's decision in writing and carry it out.")  # fmt: skip
    else:
        doc.p("This decision cannot be reviewed (45 CFR 164.524(a)(2)).")
    _complaints(doc)
    return doc


def _review(req: ReleaseRequest, detail: dict[str, Any], who: Signer) -> LetterDoc:
    denial = Denial.objects.get(pk=detail["denial"], request=req)
    doc = _doc(req, "The review of our denial", who)
    doc.p(f"You asked for a review of our decision of {clock.long_date(denial.denied_at, req.facility)} "
          f"to deny {'part of ' if denial.partial else ''}your request. "
          f"{denial.reviewer}, a licensed health care professional who did not take "
          "part in that decision, has reviewed it.")  # fmt: skip
    if denial.review_outcome == "reversed":
        doc.p("The reviewer decided that you should have access. We will now give "
              "you the records you asked for.")  # fmt: skip
    else:
        doc.p("The reviewer upheld the denial.")
        _complaints(doc)
    return doc


def _invoice(req: ReleaseRequest, detail: dict[str, Any], who: Signer) -> LetterDoc:
    invoices = req.invoices.all()
    invoice = (invoices.filter(pk=detail["invoice"]).first() if detail.get("invoice")
               else invoices.order_by("-created_at").first())  # fmt: skip
    if invoice is None:
        raise ValidationFailed(f"request {req.number} has no invoice", field="invoice")
    detail["invoice"] = str(invoice.pk)
    doc = _doc(req, f"Invoice {invoice.number}", who)
    doc.table([["Item", "Amount"],
               *[[str(line.get("description", "")), _money(int(line.get("cents", 0)))]
                 for line in invoice.lines],
               ["Total", _money(invoice.total_cents)]])  # fmt: skip
    paid = invoice.paid_cents
    if paid:
        doc.p(
            f"Paid so far: {_money(paid)}. Balance: {_money(invoice.total_cents - paid)}."
        )
    status = invoice.get_status_display()
    doc.p(f"Status: {status}." + (f" {invoice.waiver_reason}" if invoice.waiver_reason
                                  else ""))  # fmt: skip
    doc.p(f"Please quote invoice {invoice.number} and request {req.number} with your "
          "payment.")  # fmt: skip
    return doc


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _cover(req: ReleaseRequest, detail: dict[str, Any], who: Signer) -> LetterDoc:
    items = [i for i in req.items.select_related("document") if i.included]
    number = str(detail.get("release_number", req.release_number))
    return _cover_doc(req, items, number, who)


def _cover_doc(
    req: ReleaseRequest, items: Iterable[Any], release_number: str, signer: Signer
) -> LetterDoc:
    items = [i for i in items if getattr(i, "included", True)]
    pages = sum(max(0, (i.pages or 0) - len(i.excluded_pages or [])) for i in items)
    basis = check_basis(req)
    doc = _doc(req, "Records released", signer)
    doc.p(f"Enclosed are the records released in answer to request {req.number} "
          f"({scope_words(req)}): {len(items)} document{'s' if len(items) != 1 else ''}"
          f", {pages} page{'s' if pages != 1 else ''}, listed in the index that "
          "follows.")  # fmt: skip
    doc.table([["Release number", release_number],
               ["Released to", req.requester_organization or req.requester_name],
               ["Released on", _long(doc.on)],
               ["Basis", without_rule_ids(basis.basis) or "-"]])  # fmt: skip
    if any(part2_notice_needed(i.labels or []) for i in items):
        doc.h("Notice: substance use disorder records (42 CFR Part 2)")
        doc.p(PART2_NOTICE)
        for consent in valid_authorizations(
            req, on=doc.on or clock.today(req.facility)
        ):
            if consent.kind in (
                AuthorizationKind.PART2,
                AuthorizationKind.PART2_COUNSELING,
            ):
                doc.p(_consent_scope(consent))
    if not rq.is_access_request(req):
        doc.small("These records are confidential. Use them only for the purpose for "
                  "which they were released.")  # fmt: skip
    return doc


def _consent_scope(consent: Any) -> str:
    """R-P2-5: a clear explanation of the consent's scope."""
    until = _long(consent.expires_on) or consent.expiration_event or "revoked"
    return (f"The patient's consent signed {_long(consent.signed_on) or '(undated)'} "
            f"permits the release of {consent.description or 'the records described'} "
            f"to {consent.recipient or 'the recipient named'} for "
            f"{consent.purpose or 'the purpose stated'}, until {until}.")  # fmt: skip


def cover_letter_pdf(
    req: ReleaseRequest, items: Iterable[Any], release_number: str,
    signer: Signer | None = None,
) -> bytes:  # fmt: skip
    """The packet's cover letter (not stored: it is part of the packet)."""
    return render(_cover_doc(req, items, release_number, signer or []))


_BUILDERS: dict[str, Callable[[ReleaseRequest, dict[str, Any], Signer], LetterDoc]] = {
    LetterKind.ACKNOWLEDGMENT: _acknowledgment,
    LetterKind.DEFECT: _defect,
    LetterKind.EXTENSION: _extension,
    LetterKind.DENIAL: _denial,
    LetterKind.REVIEW: _review,
    LetterKind.INVOICE: _invoice,
    LetterKind.COVER: _cover,
}


def render_letter(
    *,
    actor: Actor,
    req: ReleaseRequest,
    kind: str,
    detail: dict[str, Any] | None = None,
) -> Letter:
    """Write a letter of this kind for the request, store it and audit it.

    `detail`: defect: {"defects": [{rule, element, message}]} (default: the
    request's current defects); denial/review: {"denial": id}; invoice:
    {"invoice": id} (default: the newest); cover: {"release_number": ...}.

    Raises:
        ValidationFailed: an unknown kind, or nothing to write about (no
            defects, no extension, no invoice).
    """
    if kind not in _BUILDERS:
        raise ValidationFailed(f"cannot write a {kind!r} letter; kinds: "
                               f"{', '.join(_BUILDERS)}", field="kind")  # fmt: skip
    detail = dict(detail or {})
    if kind == LetterKind.DEFECT and not detail.get("defects"):
        defects = check_basis(req).defects
        if not defects:
            raise ValidationFailed(f"request {req.number} has no defect to write about",
                                   field="kind")  # fmt: skip
        detail["defects"] = [d.__dict__ for d in defects]
    pdf = render(_BUILDERS[kind](req, detail, signer_of(actor)))
    return store_letter(actor=actor, patient=req.patient, req=req, kind=kind, pdf=pdf,
                        detail=detail)  # fmt: skip


def store_letter(
    *, actor: Actor, patient: Patient, kind: str, pdf: bytes,
    req: ReleaseRequest | None = None, detail: dict[str, Any] | None = None,
) -> Letter:  # fmt: skip
    """Keep a letter's PDF (encrypted, content-addressed) with its Letter row, and
    audit it (release.letter). Used for every kind, the accounting too."""
    stored = default_store().put(pdf)
    with transaction.atomic():
        letter = Letter.objects.create(
            request=req, patient=patient, kind=kind, sha256=stored.sha256,
            size=stored.size, created_at=timezone.now(), created_by=actor.username,
            detail=detail or {})  # fmt: skip
        record(actor=actor, action=actions.RELEASE_LETTER.name, patient=patient,
               obj=letter, detail={"kind": kind, "request": req.number if req else "",
                                   "sha256": stored.sha256})  # fmt: skip
    return letter


def letter_bytes(letter: Letter) -> bytes:
    """The letter's PDF, verified against its hash (IntegrityFailure if not)."""
    return default_store().get(letter.sha256)


def pend_with_defects(
    *, actor: Actor, req: ReleaseRequest, on: date | None = None
) -> Letter:
    """Pend the request on its defects and write the defect letter naming each.

    Raises:
        ValidationFailed: the request has no defect, or is closed.
    """
    basis = check_basis(req, on=on)
    if basis.ok:
        raise ValidationFailed(f"request {req.number} has a valid basis: nothing to "
                               "pend for", field="status")  # fmt: skip
    note = "; ".join(f"{d.element} ({d.rule})" for d in basis.defects)
    with transaction.atomic():
        if req.status != Status.PENDING:
            rq.set_status(actor=actor, req=req, status=Status.PENDING,
                          note=f"waiting on: {note}"[:500])  # fmt: skip
        return render_letter(actor=actor, req=req, kind=LetterKind.DEFECT,
                             detail={"defects": [d.__dict__ for d in basis.defects]})  # fmt: skip
