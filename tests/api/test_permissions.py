"""Every API route against every role (R-SEC-1): allowed or refused exactly as the
route declares its capability and accounts.roles grants it.

The capabilities come from web.api.route_capabilities(), filled from each route's own
declaration; CALLS holds one valid request per route, and a route missing from either
fails `test_every_route_declares_a_capability_and_is_in_the_matrix`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from recordroom.accounts import permissions
from recordroom.accounts.roles import PERMISSIONS, ROLES
from recordroom.amendments import decisions as amendment_decisions
from recordroom.amendments import services as amendment_services
from recordroom.amendments.models import AmendmentRequest
from recordroom.audit.models import AuditEvent
from recordroom.capture import moves
from recordroom.capture.intake import receive_file, source_named
from recordroom.capture.models import CaptureBatch
from recordroom.interop.hl7v2.services import handle
from recordroom.kernel.actor import Actor
from recordroom.queries import services as query_services
from recordroom.records import fulltext
from recordroom.records.models import Document, DocumentType, Provider
from recordroom.release import (
    delivery,
    denials,
    fees,
    packets,
    redaction,
    releasing,
    review,
    scope,
)
from recordroom.release.accounting_requests import (
    agree_fee,
    log_accounting_request,
    produce_accounting,
)
from recordroom.release.disclosures import record_disclosure
from recordroom.release.letters import render_letter
from recordroom.release.models import (
    AccountingRequest,
    Authorization,
    Denial,
    Disclosure,
    Invoice,
    Packet,
    ReleaseItem,
    ReleaseRequest,
)
from recordroom.release.requests import RequestIn, log_request
from recordroom.web.api import SIGNED_IN, api, route_capabilities
from tests import factories
from tests.capture import queue_data as capture_data
from tests.factories import facility_today
from tests.interop.hl7v2.messages import adt
from tests.release.authorizing import authorize, elements

from .conftest import Api, api_for

_seq = itertools.count(1)


@dataclass
class World:
    facility: Any
    patient: Any
    encounter: Any
    document: Any
    message: Any = None

    def fresh_document(self) -> Document:
        return factories.document(patient=self.patient, facility=self.facility)

    def fresh_capdoc(self) -> Any:
        """A captured two-page document waiting, proposed for the patient (clean)."""
        scanned = capture_data.batch(["One", "Two"], facility=self.facility,
                                     src=capture_data.source(facility=self.facility))  # fmt: skip
        return capture_data.document(
            scanned, [1, 2], patient=self.patient, confidence=0.99,
            doc_type=DocumentType.objects.get(code="18842-5"))  # fmt: skip

    def fresh_move(self) -> Any:
        other = factories.patient(facility=self.facility, family="Moved")
        return moves.move_document(actor=factories.SYSTEM, document=self.fresh_document(),
                                   to_patient=other, reason="misfiled")  # fmt: skip

    def fresh_request(self, **over: Any) -> ReleaseRequest:
        data = RequestIn(**{**_release(self), **over})
        return log_request(actor=factories.SYSTEM, data=data)

    def fresh_authorization(self) -> Authorization:
        req = self.fresh_request(requester_type="authorized")
        return authorize(factories.SYSTEM, req)

    def fresh_invoice(self) -> Invoice:
        req = self.fresh_request(requester_type="authorized", format="paper")
        return fees.invoice(actor=factories.SYSTEM, req=req, pages=10)

    def fresh_disclosure(self) -> Disclosure:
        return record_disclosure(actor=factories.SYSTEM, patient=self.patient,
                                 disclosed_at=timezone.now(), recipient_name="County",
                                 description="lab", purpose="report",
                                 legal_basis="public-health")  # fmt: skip

    def fresh_accounting(self, *, produced: bool = False) -> AccountingRequest:
        req = log_accounting_request(actor=factories.SYSTEM, patient=self.patient,
                                     received_on=facility_today(), requested_by="Neo")  # fmt: skip
        if req.fee_cents:  # not the first in twelve months: the fee told and agreed
            agree_fee(actor=factories.SYSTEM, accounting_request=req)
        if produced:
            produce_accounting(actor=factories.SYSTEM, accounting_request=req)
        return req

    def fresh_batch(self) -> CaptureBatch:
        source = source_named("Permissions", facility=self.facility)
        return receive_file(actor=factories.SYSTEM, data=factories.pdf_bytes(),
                            filename="batch.pdf", source=source)  # fmt: skip

    def fresh_item(self) -> ReleaseItem:
        req = self.fresh_request()
        items = scope.select_documents(actor=factories.SYSTEM, req=req)
        return next(i for i in items if i.document_id == self.document.pk)

    def fresh_packet(self, *, reviewed: bool = False, released: bool = False) -> Packet:
        req = self.fresh_request(identity_verified=True, verification_method="photo ID")
        scope.select_documents(actor=factories.SYSTEM, req=req)
        packet = packets.build_packet(actor=factories.SYSTEM, req=req)
        if reviewed or released:
            review.quality_review(actor=Actor(channel="test", name="qa"), req=req,
                                  passed=True, checks=dict.fromkeys(review.REQUIRED_CHECKS, True))  # fmt: skip
        if released:
            releasing.release(actor=factories.SYSTEM, req=req)
        return packet

    def fresh_denial(self, *, asked: bool = False) -> Denial:
        req = self.fresh_request()
        denial = denials.deny(actor=factories.SYSTEM, req=req, ground="endangerment",
                              basis="likely to endanger", professional="Dr. Who")  # fmt: skip
        if asked:
            denials.request_review(actor=factories.SYSTEM, denial=denial)
        return denial


def _release(w: World) -> dict[str, Any]:
    return {"patient_id": w.patient.pk, "facility_code": "NORTH",
            "requester_type": "patient", "requester_name": "Neo Matrix",
            "received_on": facility_today(), "channel": "mail", "format": "pdf",
            "delivery": "mail", "requester_address": "1 Main St",
            "entire_record": True,
            "entire_record_reason": "the claim covers every visit"}  # fmt: skip


def _new_release(w: World, a: Api):
    body = {**_release(w), "patient_id": str(w.patient.pk), "facility": "NORTH",
            "received_on": facility_today().isoformat()}  # fmt: skip
    del body["facility_code"]
    return a.post("/release-requests", body)


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("note.pdf", factories.pdf_bytes(), "application/pdf")


def _new_patient(w: World, a: Api):
    mrn = f"N-PM{next(_seq):05d}"
    body = {
        "names": [{"family": "Matrix", "given": "Neo"}],
        "identifiers": [{"kind": "MR", "value": mrn, "facility": "NORTH"}],
    }
    return a.post("/patients", body)


def _amendment(w: World, stage: str = "") -> AmendmentRequest:
    req = amendment_services.log_request(
        actor=factories.SYSTEM, patient=w.patient, facility=w.facility,
        received_on=facility_today(), received_how="mail", requested_by="Neo Matrix",
        change="a change", reason="a reason", document_ids=[w.document.pk])  # fmt: skip
    if stage == "routed":  # to the caller's own provider record when it has one
        author = (Provider.objects.filter(user__isnull=False).order_by("-id").first()
                  or factories.provider(family="Author"))  # fmt: skip
        amendment_services.route_to_author(
            actor=factories.SYSTEM, req=req, author=author
        )
    if stage in ("denied", "disputed"):
        amendment_decisions.decide(actor=factories.SYSTEM, req=req,
                                   deny=[w.document.pk], ground="accurate",
                                   basis="accurate")  # fmt: skip
    if stage == "disputed":
        amendment_decisions.file_disagreement(actor=factories.SYSTEM, req=req,
                                              text="I disagree")  # fmt: skip
    return req


def _on_amendment(w: World, a: Api, stage: str, tail: str, body: Any):
    return a.post(f"/amendment-requests/{_amendment(w, stage).pk}{tail}", body)


def _query(w: World, *, to: Provider | None = None, answered: bool = False):
    """A query about the world's visit quoting its document (to the newest provider
    linked to a user, the caller's own when it has one)."""
    to = to or (Provider.objects.filter(user__isnull=False).order_by("-id").first()
                or factories.provider(family="Asked"))  # fmt: skip
    q = query_services.raise_query(
        actor=factories.SYSTEM, encounter=w.encounter, provider=to, purpose="ambiguous",
        question="Based on the clinical indicators below, please clarify the "
                 "condition being treated.",
        indicators=[query_services.IndicatorIn(document_id=w.document.pk,
                                               quote="Discharge summary")])  # fmt: skip
    if answered:
        query_services.answer_query(actor=factories.SYSTEM, query=q,
                                    answer_text="Acute blood loss anemia.")  # fmt: skip
    return q


AMD = "/amendment-requests/{request_id}"


P = "/patients/{patient_id}"
D = "/documents/{document_id}"
M = "/interface-messages/{message_id}"
R = "/release-requests/{request_id}"
AR = "/accounting-requests/{accounting_id}"
I = R + "/items/{item_id}"  # noqa: E741 (a path)
C = "/capture/documents/{capdoc_id}"
DF = "/deficiencies/{deficiency_id}"


def _deficiency(w: World, *, mine: bool = False):
    """A fresh open deficiency on the world's visit; `mine`: assigned to the provider
    the matrix linked to the role's user last (a provider refuses only their own)."""
    from recordroom.completion.services import add_deficiency
    from recordroom.records.models import Provider

    mine_ = Provider.objects.filter(family="Matrix", given="Doc").order_by("-id")
    return add_deficiency(actor=factories.SYSTEM, encounter=w.encounter, kind="other",
                          description="matrix", provider=mine_.first() if mine
                          else factories.provider(family="Other", given="Olga"))  # fmt: skip


def _mine_to_sign(w: World, kind: str = "signature"):
    """A fresh deficiency of `kind` assigned to the matrix's provider (else another),
    on a new document (signature) whose current version that provider's user was
    shown: a provider signs only what they opened."""
    from recordroom.audit.services import record
    from recordroom.completion.services import add_deficiency
    from recordroom.kernel import actions

    mine = Provider.objects.filter(family="Matrix", given="Doc").order_by("-id").first()
    doc = (factories.document(patient=w.patient, facility=w.facility,
                              encounter=w.encounter, text="Progress note to sign")
           if kind == "signature" else None)  # fmt: skip
    d = add_deficiency(actor=factories.SYSTEM, encounter=w.encounter, kind=kind,
                       description="matrix", document=doc,
                       provider=mine or factories.provider(family="Other", given="Olga"))  # fmt: skip
    if doc is not None and mine is not None and mine.user is not None:
        record(actor=Actor(user=mine.user, channel="web"),
               action=actions.DOCUMENT_VIEW.name, patient=w.patient,
               obj=doc.versions.get())  # fmt: skip
    return d, (doc.versions.get().sha256 if doc is not None else "")


def _sign_mine(w: World, a: Api):
    d, sha = _mine_to_sign(w)
    return a.post(f"/deficiencies/{d.pk}/sign", {"sha256": sha})


def _codes(a: Api, path: str, **params: Any):
    """A code-set read, with the small ICD-10-PCS order file of the coding tests
    loaded (code sets are reference data: any signed-in user reads them)."""
    from pathlib import Path

    from recordroom.coding import loaders
    from recordroom.coding.codesets import releases
    from recordroom.coding.models import CodeSetVersion, System

    if not CodeSetVersion.objects.filter(system=System.ICD10PCS).exists():
        releases.forget()
        loaders.load_file(actor=factories.SYSTEM, system=System.ICD10PCS,
                          path=Path(__file__).parents[1] / "coding" / "fixtures"
                          / "icd10pcs_order_2026.txt")  # fmt: skip
        releases.forget()
    return a.get(path, **params)


def _provider_letter(w: World):
    """A letter to a provider about the world's visit (written, not sent)."""
    from recordroom.completion.letters import Due, write_letter

    d = _deficiency(w)
    return write_letter(actor=factories.SYSTEM, as_of=timezone.now(),
                        due=Due(d.provider, w.facility, "reminder", [d]))  # fmt: skip


CALLS: dict[tuple[str, str], Callable[[World, Api], Any]] = {
    ("GET", "/me"): lambda w, a: a.get("/me"),
    ("GET", "/patients"): lambda w, a: a.get("/patients", name="matrix"),
    ("POST", "/patients"): _new_patient,
    ("POST", "/patient-matches"): lambda w, a: a.post(
        "/patient-matches", {"names": [{"family": "Matrix"}]}
    ),
    ("GET", "/mpi/dashboard"): lambda w, a: a.get("/mpi/dashboard"),
    ("GET", "/mpi/pairs"): lambda w, a: a.get("/mpi/pairs"),
    ("POST", "/mpi/pairs/assignments"): lambda w, a: a.post(
        "/mpi/pairs/assignments",
        {"pairs": [{"left": str(w.patient.pk),
                    "right": str(factories.patient(facility=w.facility).pk)}],
         "assignee": "me"},
    ),
    ("POST", "/mpi/scans"): lambda w, a: a.post("/mpi/scans"),
    ("POST", "/capture/batches"): lambda w, a: a.upload(
        "/capture/batches", {"files": [_pdf()], "facility": "NORTH"}
    ),
    ("GET", "/capture/batches/{batch_id}"): lambda w, a: a.get(
        f"/capture/batches/{w.fresh_batch().pk}"
    ),
    ("GET", P): lambda w, a: a.get(f"/patients/{w.patient.pk}"),
    ("GET", P + "/encounters"): lambda w, a: a.get(f"/patients/{w.patient.pk}/encounters"),
    ("GET", P + "/documents"): lambda w, a: a.get(f"/patients/{w.patient.pk}/documents"),
    ("GET", P + "/results"): lambda w, a: a.get(f"/patients/{w.patient.pk}/results"),
    ("POST", P + "/documents"): lambda w, a: a.upload(
        f"/patients/{w.patient.pk}/documents",
        {"file": _pdf(), "type": "11506-3", "encounter": str(w.encounter.pk)},
    ),
    ("GET", P + "/access-log"): lambda w, a: a.get(f"/patients/{w.patient.pk}/access-log"),
    ("GET", P + "/access-log.ndjson"): lambda w, a: a.get(
        f"/patients/{w.patient.pk}/access-log.ndjson"
    ),
    ("GET", D): lambda w, a: a.get(f"/documents/{w.document.pk}"),
    ("GET", D + "/content"): lambda w, a: a.get(f"/documents/{w.document.pk}/content"),
    ("GET", "/documents/search"): lambda w, a: a.get("/documents/search", q="summary"),
    ("GET", P + "/documents/search"): lambda w, a: a.get(
        f"/patients/{w.patient.pk}/documents/search", q="summary"
    ),
    ("GET", D + "/pages/{page}/image"): lambda w, a: (
        fulltext.index_version(w.document.versions.get(number=1)),
        a.get(f"/documents/{w.document.pk}/pages/1/image", q="summary"),
    )[1],
    ("POST", D + "/versions"): lambda w, a: a.upload(
        f"/documents/{w.fresh_document().pk}/versions",
        {"file": _pdf(), "kind": "addendum", "reason": "late lab result"},
    ),
    ("POST", D + "/status"): lambda w, a: a.post(
        f"/documents/{w.fresh_document().pk}/status",
        {"status": "entered-in-error", "reason": "filed to the wrong chart"},
    ),
    ("POST", D + "/signatures"): lambda w, a: a.post(
        f"/documents/{w.fresh_document().pk}/signatures", {"meaning": "author"}
    ),
    ("GET", "/audit/events"): lambda w, a: a.get("/audit/events", limit=5),
    ("GET", "/audit/events.ndjson"): lambda w, a: a.get("/audit/events.ndjson"),
    ("GET", "/deficiencies"): lambda w, a: a.get("/deficiencies", status="open"),
    ("GET", "/deficiencies/mine"): lambda w, a: a.get("/deficiencies/mine"),
    ("GET", "/deficiencies/mine/count"): lambda w, a: a.get("/deficiencies/mine/count"),
    ("POST", "/deficiencies"): lambda w, a: a.post("/deficiencies", {
        "encounter_id": str(w.encounter.pk), "kind": "other",
        "description": "consent unsigned"}),
    ("POST", DF + "/reassign"): lambda w, a: a.post(
        f"/deficiencies/{_deficiency(w).pk}/reassign",
        {"provider_id": str(factories.provider(family="New", given="Ned").pk)}),
    ("POST", DF + "/waive"): lambda w, a: a.post(
        f"/deficiencies/{_deficiency(w).pk}/waive", {"reason": "found on paper"}),
    ("POST", DF + "/refuse"): lambda w, a: a.post(
        f"/deficiencies/{_deficiency(w, mine=True).pk}/refuse", {"reason": "not mine"}),
    ("GET", "/inbox"): lambda w, a: a.get("/inbox"),
    ("GET", "/inbox/deficiencies"): lambda w, a: a.get("/inbox/deficiencies"),
    ("POST", DF + "/sign"): _sign_mine,
    ("POST", "/deficiencies/sign-batch"): lambda w, a: a.post(
        "/deficiencies/sign-batch", {"items": [{"deficiency_id": str(d.pk), "sha256": sha}
                                               for d, sha in [_mine_to_sign(w)]]}),
    ("POST", DF + "/document"): lambda w, a: a.upload(
        f"/deficiencies/{_mine_to_sign(w, 'missing-document')[0].pk}/document",
        {"file": _pdf(), "doc_type": "11506-3"}),
    ("GET", "/codes/search"): lambda w, a: _codes(a, "/codes/search", q="dilation",
                                                  system="icd10pcs"),
    ("GET", "/codes/{code}"): lambda w, a: _codes(a, "/codes/02703DZ",
                                                  system="icd10pcs"),
    ("GET", "/completion/delinquency"): lambda w, a: a.get("/completion/delinquency"),
    ("GET", "/completion/charts"): lambda w, a: a.get("/completion/charts"),
    ("GET", "/completion/delinquency/history"): lambda w, a: a.get(
        "/completion/delinquency/history", months=2),
    ("GET", "/completion/delinquency/breakdown"): lambda w, a: a.get(
        "/completion/delinquency/breakdown"),
    ("GET", "/completion/aging"): lambda w, a: a.get("/completion/aging"),
    ("GET", "/completion/suspension-list"): lambda w, a: a.get(
        "/completion/suspension-list"),
    ("POST", "/completion/letters"): lambda w, a: a.post(
        "/completion/letters", {"send": False}),
    ("GET", "/completion/letters"): lambda w, a: a.get("/completion/letters"),
    ("GET", "/completion/letters/{letter_id}/content"): lambda w, a: a.get(
        f"/completion/letters/{_provider_letter(w).pk}/content"),
    ("GET", "/interface-messages"): lambda w, a: a.get("/interface-messages"),
    ("GET", "/interface-types"): lambda w, a: a.get("/interface-types"),
    ("GET", M): lambda w, a: a.get(f"/interface-messages/{w.message.pk}"),
    ("POST", M + "/reprocess"): lambda w, a: a.post(
        f"/interface-messages/{w.message.pk}/reprocess"
    ),
    ("POST", "/release-requests"): _new_release,
    ("GET", "/release-requests"): lambda w, a: a.get("/release-requests"),
    ("GET", R): lambda w, a: a.get(f"/release-requests/{w.fresh_request().pk}"),
    ("PATCH", R): lambda w, a: a.patch(
        f"/release-requests/{w.fresh_request().pk}", {"requester_phone": "217 555 0100"}
    ),
    ("POST", R + "/status"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request().pk}/status", {"status": "in-progress"}
    ),
    ("POST", R + "/verify"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request().pk}/verify", {"method": "photo ID"}
    ),
    ("POST", R + "/extension"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request().pk}/extension",
        {"reason": "records in off-site storage"},
    ),
    ("GET", R + "/basis"): lambda w, a: a.get(f"/release-requests/{w.fresh_request().pk}/basis"),
    ("GET", R + "/authorizations"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_request().pk}/authorizations"
    ),
    ("POST", R + "/authorizations"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request(requester_type='authorized').pk}/authorizations",
        {"kind": "hipaa", "elements": elements("hipaa"), "expires_on": "2099-01-01"},
    ),
    ("POST", R + "/authorizations/{auth_id}"): lambda w, a: _on_auth(
        w, a, "", {"purpose": "second opinion"}
    ),
    ("POST", R + "/authorizations/{auth_id}/revoke"): lambda w, a: _on_auth(
        w, a, "/revoke", {"note": "letter received today"}
    ),
    ("POST", R + "/defect-letter"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request(requester_type='authorized').pk}/defect-letter"
    ),
    ("GET", R + "/letters"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_request().pk}/letters"
    ),
    ("POST", R + "/letters"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request().pk}/letters", {"kind": "acknowledgment"}
    ),
    ("GET", "/release-letters/{letter_id}/content"): lambda w, a: a.get(
        f"/release-letters/{render_letter(actor=factories.SYSTEM, req=w.fresh_request(), kind='acknowledgment').pk}/content"
    ),
    ("POST", R + "/denials"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request().pk}/denials",
        {"ground": "endangerment", "basis": "likely to endanger", "professional": "Dr. Who"},
    ),
    ("POST", R + "/denials/{denial_id}/review-request"): lambda w, a: _on_denial(
        w.fresh_denial(), a, "/review-request", None
    ),
    ("POST", R + "/denials/{denial_id}/review"): lambda w, a: _on_denial(
        w.fresh_denial(asked=True), a, "/review",
        {"reviewer": "Dr. Hopper", "outcome": "upheld"},
    ),
    ("GET", R + "/quote"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_request().pk}/quote", pages=10
    ),
    ("GET", R + "/invoices"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_request().pk}/invoices"
    ),
    ("POST", R + "/invoices"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_request().pk}/invoices", {"pages": 5}
    ),
    ("POST", R + "/invoices/{invoice_id}/payments"): lambda w, a: _on_invoice(
        w, a, "/payments", {"amount_cents": 100, "method": "cash"}
    ),
    ("POST", R + "/invoices/{invoice_id}/waive"): lambda w, a: _on_invoice(
        w, a, "/waive", {"reason": "hardship"}
    ),
    ("POST", R + "/invoices/{invoice_id}/void"): lambda w, a: _on_invoice(
        w, a, "/void", {"reason": "issued in error"}
    ),
    ("GET", P + "/accounting-of-disclosures"): lambda w, a: a.get(
        f"/patients/{w.patient.pk}/accounting-of-disclosures"
    ),
    ("GET", P + "/disclosures"): lambda w, a: a.get(f"/patients/{w.patient.pk}/disclosures"),
    ("POST", P + "/disclosures"): lambda w, a: a.post(
        f"/patients/{w.patient.pk}/disclosures",
        {"disclosed_at": timezone.now().isoformat(), "recipient_name": "County",
         "description": "lab", "purpose": "report", "legal_basis": "public-health"},
    ),
    ("POST", "/disclosures/{entry_id}/corrections"): lambda w, a: a.post(
        f"/disclosures/{w.fresh_disclosure().pk}/corrections",
        {"note": "name", "recipient_name": "County Health"},
    ),
    ("POST", P + "/accounting-requests"): lambda w, a: a.post(
        f"/patients/{w.patient.pk}/accounting-requests",
        {"received_on": facility_today().isoformat(), "requested_by": "Neo"},
    ),
    ("POST", P + "/accounting-suspensions"): lambda w, a: a.post(
        f"/patients/{w.patient.pk}/accounting-suspensions",
        {"agency": "OIG", "written": False, "statement": "Agent Diaz by phone",
         "starts_on": facility_today().isoformat()},
    ),
    ("POST", AR + "/fee-agreed"): lambda w, a: a.post(
        f"/accounting-requests/{w.fresh_accounting().pk}/fee-agreed"
    ),
    ("POST", AR + "/extension"): lambda w, a: a.post(
        f"/accounting-requests/{w.fresh_accounting().pk}/extension", {"reason": "busy"}
    ),
    ("POST", AR + "/withdrawal"): lambda w, a: a.post(
        f"/accounting-requests/{w.fresh_accounting().pk}/withdrawal", {"note": "no need"}
    ),
    ("POST", AR + "/produce"): lambda w, a: a.post(
        f"/accounting-requests/{w.fresh_accounting().pk}/produce"
    ),
    ("GET", AR + "/pdf"): lambda w, a: a.get(
        f"/accounting-requests/{w.fresh_accounting(produced=True).pk}/pdf"
    ),
    ("GET", "/release-dashboard"): lambda w, a: a.get("/release-dashboard"),
    ("POST", R + "/scope"): lambda w, a: a.post(f"/release-requests/{w.fresh_request().pk}/scope"),
    ("GET", R + "/items"): lambda w, a: a.get(f"/release-requests/{w.fresh_request().pk}/items"),
    ("POST", I + "/excluded-pages"): lambda w, a: _on_item(
        w.fresh_item(), a, "/excluded-pages", {"pages": [], "reason": ""}
    ),
    ("POST", I + "/redactions"): lambda w, a: _on_item(
        w.fresh_item(), a, "/redactions", {"text": "Discharge", "reason": "not asked"}
    ),
    ("POST", I + "/redactions/{redaction_id}/remove"): lambda w, a: _unredact(w, a),
    ("POST", I + "/inclusion"): lambda w, a: _on_item(
        w.fresh_item(), a, "/inclusion", {"included": False, "reason": "misfiled"}
    ),
    ("POST", R + "/packet"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_item().request_id}/packet"
    ),
    ("GET", R + "/packet"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_packet().request_id}/packet"
    ),
    ("GET", R + "/packet/content"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_packet().request_id}/packet/content"
    ),
    ("POST", R + "/review"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_packet().request_id}/review",
        {"passed": True, "checks": {"patient": True, "scope": True}},
    ),
    ("GET", R + "/release-problems"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_request().pk}/release-problems"
    ),
    ("POST", R + "/release"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_packet(reviewed=True).request_id}/release"
    ),
    ("GET", R + "/links"): lambda w, a: a.get(
        f"/release-requests/{w.fresh_request().pk}/links"
    ),
    ("POST", R + "/links"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_packet(released=True).request_id}/links", {}
    ),
    ("POST", R + "/links/{link_id}/revoke"): lambda w, a: _revoke_link(w, a),
    ("POST", R + "/deliveries"): lambda w, a: a.post(
        f"/release-requests/{w.fresh_packet(released=True).request_id}/deliveries",
        {"method": "mail", "detail": "USPS 9400 1000 0000 0000 0000 00"},
    ),
    ("POST", "/amendment-requests"): lambda w, a: a.post("/amendment-requests", {
        "patient_id": str(w.patient.pk), "facility": "NORTH",
        "received_on": facility_today().isoformat(), "received_how": "mail",
        "requested_by": "Neo", "change": "a change", "reason": "a reason",
        "document_ids": [str(w.document.pk)]}),
    ("POST", "/amendment-requests/external"): lambda w, a: a.post(
        "/amendment-requests/external", {
            "patient_id": str(w.patient.pk), "facility": "NORTH",
            "source_entity": "Lakeview", "received_on": facility_today().isoformat(),
            "document_ids": [str(w.fresh_document().pk)], "amendment_text": "fixed"}),
    ("GET", "/amendment-requests"): lambda w, a: a.get("/amendment-requests"),
    ("GET", AMD): lambda w, a: a.get(f"/amendment-requests/{_amendment(w).pk}"),
    ("POST", AMD + "/extension"): lambda w, a: _on_amendment(
        w, a, "", "/extension", {"reason": "on leave"}),
    ("POST", AMD + "/route"): lambda w, a: _on_amendment(
        w, a, "", "/route", {"author_id": str(factories.provider(family="R").pk)}),
    ("POST", AMD + "/review"): lambda w, a: _on_amendment(
        w, a, "routed", "/review", {"agrees": True, "comment": "yes"}),
    ("POST", AMD + "/decision"): lambda w, a: _on_amendment(
        w, a, "", "/decision", {"accept": [str(w.document.pk)],
                                "amendment_text": "amended"}),
    ("POST", AMD + "/disagreement"): lambda w, a: _on_amendment(
        w, a, "denied", "/disagreement", {"text": "I disagree"}),
    ("POST", AMD + "/rebuttal"): lambda w, a: _on_amendment(
        w, a, "disputed", "/rebuttal", {"text": "We stand by it"}),
    ("POST", AMD + "/include"): lambda w, a: _on_amendment(
        w, a, "denied", "/include", None),
    ("GET", "/amendment-letters/{letter_id}"): lambda w, a: a.get(
        f"/amendment-letters/{_amendment(w, 'denied').letters.get().pk}"),
    ("GET", "/capture/queue"): lambda w, a: a.get("/capture/queue"),
    ("GET", C): lambda w, a: a.get(f"/capture/documents/{w.fresh_capdoc().pk}"),
    ("POST", C + "/edits"): lambda w, a: a.post(
        f"/capture/documents/{w.fresh_capdoc().pk}/edits", {"op": "split", "position": 2}),
    ("POST", C + "/assignment"): lambda w, a: a.post(
        f"/capture/documents/{w.fresh_capdoc().pk}/assignment", {"service_date": "2026-11-02"}),
    ("POST", C + "/filing"): lambda w, a: a.post(
        f"/capture/documents/{w.fresh_capdoc().pk}/filing", {}),
    ("POST", D + "/move"): lambda w, a: a.post(
        f"/documents/{w.fresh_document().pk}/move",
        {"to_patient": str(factories.patient(facility=w.facility).pk), "reason": "x"}),
    ("GET", P + "/cover-sheet"): lambda w, a: a.get(f"/patients/{w.patient.pk}/cover-sheet"),
    ("GET", "/capture/misfiles"): lambda w, a: a.get("/capture/misfiles"),
    ("POST", "/capture/misfiles/{move_id}/review"): lambda w, a: a.post(
        f"/capture/misfiles/{w.fresh_move().pk}/review", {"note": "checked"}),
    ("GET", "/capture/dashboard"): lambda w, a: a.get("/capture/dashboard"),
    ("GET", "/query-templates"): lambda w, a: a.get("/query-templates"),
    ("POST", "/queries"): lambda w, a: a.post("/queries", {
        "encounter_id": str(w.encounter.pk),
        "provider_id": str(factories.provider(family="Q").pk), "purpose": "ambiguous",
        "question": "Based on the clinical indicators below, please clarify the "
                    "condition being treated.",
        "indicators": [{"document_id": str(w.document.pk),
                        "quote": "Discharge summary"}]}),
    ("GET", "/queries"): lambda w, a: a.get("/queries"),
    ("GET", "/queries/metrics"): lambda w, a: a.get("/queries/metrics"),
    ("GET", "/queries/mine"): lambda w, a: a.get("/queries/mine"),
    ("GET", "/queries/mine/count"): lambda w, a: a.get("/queries/mine/count"),
    ("POST", "/queries/mine/{query_id}/answer"): lambda w, a: a.post(
        f"/queries/mine/{_query(w).pk}/answer", {"answer_text": "Sepsis ruled out."}),
    ("GET", "/queries/{query_id}"): lambda w, a: a.get(f"/queries/{_query(w).pk}"),
    ("POST", "/queries/{query_id}/withdraw"): lambda w, a: a.post(
        f"/queries/{_query(w).pk}/withdraw", {"reason": "asked in error"}),
    ("POST", "/queries/{query_id}/agreement"): lambda w, a: a.post(
        f"/queries/{_query(w, answered=True).pk}/agreement", {"agreed": True}),
}  # fmt: skip


def _on_item(item: ReleaseItem, a: Api, tail: str, body: Any):
    return a.post(f"/release-requests/{item.request_id}/items/{item.pk}{tail}", body)


def _unredact(w: World, a: Api):
    item = w.fresh_item()
    found = redaction.add_redaction(actor=factories.SYSTEM, item=item, text="Discharge",
                                    reason="not asked")[0]  # fmt: skip
    return _on_item(item, a, f"/redactions/{found.pk}/remove", None)


def _revoke_link(w: World, a: Api):
    packet = w.fresh_packet(released=True)
    link, _, _ = delivery.create_link(actor=factories.SYSTEM, packet=packet)
    return a.post(f"/release-requests/{packet.request_id}/links/{link.pk}/revoke",
                  {"reason": "sent to the wrong address"})  # fmt: skip


def _on_invoice(w: World, a: Api, tail: str, body: Any):
    inv = w.fresh_invoice()
    return a.post(f"/release-requests/{inv.request_id}/invoices/{inv.pk}{tail}", body)


def _on_auth(w: World, a: Api, tail: str, body: Any):
    auth = w.fresh_authorization()
    return a.post(f"/release-requests/{auth.request_id}/authorizations/{auth.pk}{tail}",
                  body)  # fmt: skip


def _on_denial(denial: Denial, a: Api, tail: str, body: Any):
    return a.post(
        f"/release-requests/{denial.request_id}/denials/{denial.pk}{tail}", body
    )


def test_every_route_declares_a_capability_and_is_in_the_matrix():
    schema = api.get_openapi_schema(path_prefix="")
    operations = {
        (m.upper(), path) for path, ops in schema["paths"].items() for m in ops
    }
    assert set(route_capabilities()) == operations
    assert set(CALLS) == operations, "add the new route to CALLS with a valid request"
    for route, capability in route_capabilities().items():
        assert capability == SIGNED_IN or capability in PERMISSIONS, route
        op = schema["paths"][route[1]][route[0].lower()]
        assert op["x-capability"] == capability


def test_a_route_without_a_capability_refuses_to_start():
    from ninja import NinjaAPI, Router
    from ninja.errors import ConfigError

    from recordroom.web.api import _declare_capability

    router = Router()

    @router.get("/undeclared")
    def undeclared(request):
        return {}

    test_api = NinjaAPI(urls_namespace="undeclared-test")
    test_api.add_decorator(_declare_capability, mode="view")
    test_api.add_router("", router)
    with pytest.raises(ConfigError, match="GET.*/undeclared must declare"):
        _ = test_api.urls


def test_the_declared_capabilities():
    assert route_capabilities() == {
        ("GET", "/me"): SIGNED_IN,
        ("GET", "/patients"): "search_patients",
        ("POST", "/patients"): "edit_demographics",
        ("POST", "/patient-matches"): "search_patients",
        ("GET", "/mpi/dashboard"): "manage_identity",
        ("GET", "/mpi/pairs"): "manage_identity",
        ("POST", "/mpi/pairs/assignments"): "manage_identity",
        ("POST", "/mpi/scans"): "manage_identity",
        ("POST", "/capture/batches"): "capture_documents",
        ("GET", "/capture/batches/{batch_id}"): "capture_documents",
        ("GET", P): "view_chart",
        ("GET", P + "/encounters"): "view_chart",
        ("GET", P + "/documents"): "view_chart",
        ("GET", P + "/results"): "view_chart",
        ("POST", P + "/documents"): "add_document",
        ("GET", P + "/access-log"): "view_access_log",
        ("GET", P + "/access-log.ndjson"): "view_access_log",
        ("GET", D): "view_document",
        ("GET", D + "/content"): "view_document",
        ("GET", "/documents/search"): "view_document",
        ("GET", P + "/documents/search"): "view_document",
        ("GET", D + "/pages/{page}/image"): "view_document",
        ("POST", D + "/versions"): "add_document",
        ("POST", D + "/status"): "change_document_status",
        ("POST", D + "/signatures"): "sign_document",
        ("GET", "/audit/events"): "view_audit",
        ("GET", "/audit/events.ndjson"): "view_audit",
        ("GET", "/inbox"): "sign_document",
        ("GET", "/inbox/deficiencies"): "sign_document",
        ("POST", "/deficiencies/{deficiency_id}/sign"): "sign_document",
        ("POST", "/deficiencies/sign-batch"): "sign_document",
        ("POST", "/deficiencies/{deficiency_id}/document"): "add_document",
        ("GET", "/codes/search"): SIGNED_IN,
        ("GET", "/codes/{code}"): SIGNED_IN,
        ("GET", "/deficiencies"): "complete_charts",
        ("GET", "/deficiencies/mine"): "sign_document",
        ("GET", "/deficiencies/mine/count"): "sign_document",
        ("POST", "/deficiencies"): "complete_charts",
        ("POST", DF + "/reassign"): "complete_charts",
        ("POST", DF + "/waive"): "complete_charts",
        ("POST", DF + "/refuse"): "sign_document",
        ("GET", "/completion/delinquency"): "complete_charts",
        ("GET", "/completion/charts"): "complete_charts",
        ("GET", "/completion/delinquency/history"): "complete_charts",
        ("GET", "/completion/delinquency/breakdown"): "complete_charts",
        ("GET", "/completion/aging"): "complete_charts",
        ("GET", "/completion/suspension-list"): "complete_charts",
        ("POST", "/completion/letters"): "complete_charts",
        ("GET", "/completion/letters"): "complete_charts",
        ("GET", "/completion/letters/{letter_id}/content"): "complete_charts",
        ("GET", "/interface-messages"): "view_interfaces",
        ("GET", "/interface-types"): "view_interfaces",
        ("GET", M): "view_interfaces",
        ("POST", M + "/reprocess"): "reprocess_messages",
        ("POST", "/release-requests"): "release_records",
        ("GET", "/release-requests"): "release_records",
        ("GET", R): "release_records",
        ("PATCH", R): "release_records",
        ("POST", R + "/status"): "release_records",
        ("POST", R + "/verify"): "release_records",
        ("POST", R + "/extension"): "release_records",
        ("GET", R + "/basis"): "release_records",
        ("GET", R + "/authorizations"): "release_records",
        ("POST", R + "/authorizations"): "release_records",
        ("POST", R + "/authorizations/{auth_id}"): "release_records",
        ("POST", R + "/authorizations/{auth_id}/revoke"): "release_records",
        ("POST", R + "/defect-letter"): "release_records",
        ("GET", R + "/letters"): "release_records",
        ("POST", R + "/letters"): "release_records",
        ("GET", "/release-letters/{letter_id}/content"): "release_records",
        ("POST", R + "/denials"): "release_records",
        ("POST", R + "/denials/{denial_id}/review-request"): "release_records",
        ("POST", R + "/denials/{denial_id}/review"): "release_records",
        ("GET", R + "/quote"): "release_records",
        ("GET", R + "/invoices"): "release_records",
        ("POST", R + "/invoices"): "release_records",
        ("POST", R + "/invoices/{invoice_id}/payments"): "release_records",
        ("POST", R + "/invoices/{invoice_id}/waive"): "release_records",
        ("POST", R + "/invoices/{invoice_id}/void"): "release_records",
        ("GET", P + "/accounting-of-disclosures"): "account_disclosures",
        ("GET", P + "/disclosures"): "account_disclosures",
        ("POST", P + "/disclosures"): "account_disclosures",
        ("POST", "/disclosures/{entry_id}/corrections"): "account_disclosures",
        ("POST", P + "/accounting-requests"): "account_disclosures",
        ("POST", P + "/accounting-suspensions"): "account_disclosures",
        ("POST", AR + "/fee-agreed"): "account_disclosures",
        ("POST", AR + "/extension"): "account_disclosures",
        ("POST", AR + "/withdrawal"): "account_disclosures",
        ("POST", AR + "/produce"): "account_disclosures",
        ("GET", AR + "/pdf"): "account_disclosures",
        ("GET", "/release-dashboard"): "release_records",
        ("POST", R + "/scope"): "release_records",
        ("GET", R + "/items"): "release_records",
        ("POST", I + "/excluded-pages"): "release_records",
        ("POST", I + "/redactions"): "release_records",
        ("POST", I + "/redactions/{redaction_id}/remove"): "release_records",
        ("POST", I + "/inclusion"): "release_records",
        ("POST", R + "/packet"): "release_records",
        ("GET", R + "/packet"): "release_records",
        ("GET", R + "/packet/content"): "release_records",
        ("POST", R + "/review"): "review_releases",
        ("GET", R + "/release-problems"): "release_records",
        ("POST", R + "/release"): "release_records",
        ("GET", R + "/links"): "release_records",
        ("POST", R + "/links"): "release_records",
        ("POST", R + "/links/{link_id}/revoke"): "release_records",
        ("POST", R + "/deliveries"): "release_records",
        ("POST", "/amendment-requests"): "add_document",
        ("POST", "/amendment-requests/external"): "add_document",
        ("GET", "/amendment-requests"): "add_document",
        ("GET", AMD): "add_document",
        ("POST", AMD + "/extension"): "add_document",
        ("POST", AMD + "/route"): "add_document",
        ("POST", AMD + "/review"): "add_document",
        ("POST", AMD + "/decision"): "add_document",
        ("POST", AMD + "/disagreement"): "add_document",
        ("POST", AMD + "/rebuttal"): "add_document",
        ("POST", AMD + "/include"): "add_document",
        ("GET", "/amendment-letters/{letter_id}"): "add_document",
        ("GET", "/capture/queue"): "index_documents",
        ("GET", C): "index_documents",
        ("POST", C + "/edits"): "index_documents",
        ("POST", C + "/assignment"): "index_documents",
        ("POST", C + "/filing"): "index_documents",
        ("POST", D + "/move"): "move_documents",
        ("GET", P + "/cover-sheet"): "print_cover_sheets",
        ("GET", "/capture/misfiles"): "review_misfiles",
        ("POST", "/capture/misfiles/{move_id}/review"): "review_misfiles",
        ("GET", "/capture/dashboard"): "supervise_capture",
        ("GET", "/query-templates"): "raise_queries",
        ("POST", "/queries"): "raise_queries",
        ("GET", "/queries"): "raise_queries",
        ("GET", "/queries/metrics"): "raise_queries",
        ("GET", "/queries/mine"): "sign_document",
        ("GET", "/queries/mine/count"): "sign_document",
        ("POST", "/queries/mine/{query_id}/answer"): "sign_document",
        ("GET", "/queries/{query_id}"): "raise_queries",
        ("POST", "/queries/{query_id}/withdraw"): "raise_queries",
        ("POST", "/queries/{query_id}/agreement"): "raise_queries",
    }


@pytest.fixture
def world(db, facility, settings) -> World:
    settings.ROI_CONTACT_PHONE = "(217) 555-0199"  # denial letters name it (R-ACC-9)
    patient = factories.patient(facility=facility, family="Matrix", mrn="N-MX1")
    encounter = factories.encounter(patient=patient, facility=facility)
    document = factories.document(
        patient=patient, facility=facility, encounter=encounter
    )
    bad_birth_date = adt("A04", "PERM1", mrn="N-MX2", dob="19801399")
    message = handle(bad_birth_date).message  # an AE: in error, reprocessable
    return World(facility, patient, encounter, document, message)


def api_events(w: World) -> int:
    return (
        AuditEvent.objects.filter(patient_id=str(w.patient.pk), channel="api")
        .exclude(action="access.denied")
        .count()
    )


@pytest.mark.parametrize("role", sorted(ROLES))
def test_r_sec_1_every_route_for_every_role(role, world):
    user = factories.user(f"u-{role}", role, facilities=[world.facility])
    # signing and filing for a deficiency need a linked provider record
    if permissions.has(user, "sign_document") or permissions.has(user, "add_document"):
        provider = factories.provider(family="Matrix", given="Doc")
        provider.user = user
        provider.save()
    client = api_for(user)
    grants = ROLES[role].permissions
    capabilities = route_capabilities()
    for route, call in CALLS.items():
        capability = capabilities[route]
        allowed = capability == SIGNED_IN or capability in grants
        before = api_events(world)
        denials = AuditEvent.objects.filter(action="access.denied").count()
        response = call(world, client)
        if response.streaming:
            b"".join(response.streaming_content)
        where = f"{role} -> {route[0]} {route[1]} ({capability})"
        if allowed:
            assert 200 <= response.status_code < 300, (where, response.content[:300])
        else:
            assert response.status_code == 403, where
            body = response.json()
            assert body["error"] == "forbidden", where
            assert PERMISSIONS[capability].lower() in body["message"], where
            # R-SEC-2: the refused attempt itself is audited, once, and nothing else
            assert api_events(world) == before, (
                f"{where}: a refused route must touch no record"
            )
            now = AuditEvent.objects.filter(action="access.denied").count()
            assert now == denials + 1, where
            last = AuditEvent.objects.order_by("-id").first()
            assert (last.action, last.outcome, last.username) == (
                "access.denied", "denied", user.username,
            ), where  # fmt: skip


def test_every_route_refuses_anonymous_callers_with_401(world):
    for route, call in CALLS.items():
        response = call(world, Api())
        assert response.status_code == 401, route
        assert response.json()["error"] == "unauthenticated", route
