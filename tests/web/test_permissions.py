"""Every page against every role: allowed or refused exactly as each view declares.

The expectation comes from the access each view declares with `@requires(...)`
(read here from the resolved view), and the roles' permissions in accounts.roles.
A new page without a declaration fails `test_every_page_declares_its_access`.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, resolve, reverse
from django.utils import timezone
from django.utils.html import escape

from recordroom.accounts.roles import PERMISSIONS, ROLES
from recordroom.amendments import services as amendment_services
from recordroom.amendments.models import AmendmentLetter, AmendmentRequest
from recordroom.audit.models import AuditEvent
from recordroom.capture import moves
from recordroom.capture.models import CaptureBatch, CaptureDocument, DocumentMove
from recordroom.completion.letters import Due, write_letter
from recordroom.completion.models import ProviderLetter
from recordroom.completion.services import add_deficiency
from recordroom.interop.hl7v2.services import handle
from recordroom.kernel.actor import Actor
from recordroom.mpi.models import OverlayFlag
from recordroom.queries import services as query_services
from recordroom.queries.models import Query
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
    DownloadLink,
    Invoice,
    Letter,
    Packet,
    Redaction,
    ReleaseItem,
    ReleaseRequest,
)
from recordroom.release.requests import RequestIn, log_request
from recordroom.web import urls as web_urls
from recordroom.web.views_common import ACCESS_LEVELS, PUBLIC, SIGNED_IN
from tests import factories
from tests.capture import queue_data as capture_data
from tests.factories import facility_today
from tests.interop.hl7v2.messages import adt
from tests.release.authorizing import authorize

from .conftest import signed_in

PATTERNS: list[URLPattern] = [p for p in web_urls.urlpatterns if p.name]
NAMES = [p.name for p in PATTERNS]

# How an allowed page answers when it is not a plain 200 page, by design.
METHOD = {"logout": "post", "interface_reprocess": "post", "break_glass": "post"}
ANSWER = {
    "login": (302, "/"),  # already signed in: on to search
    "mfa": (302, "/login"),  # no password step pending
    "logout": (302, "/login"),
    "interface_reprocess": (302, None),  # back to the message, with the outcome
    "break_glass": (302, None),  # no reason given: back to the chart, saying so
    "identity_merge_undo": (302, "/identity/merges"),  # GET: nothing to undo
    "identity_held_merge_decide": (302, "/identity/held-merges"),  # GET: nothing
    "identity_duplicates_assign": (302, "/identity/duplicates"),  # a POST form
    "identity_scan": (302, "/identity/duplicates"),  # a POST button
    # a request's actions are POSTs; a GET goes back to the request's page
    "release_status": (302, None),
    "release_verify": (302, None),
    "release_extend": (302, None),
    "release_change": (302, None),
    "release_suspension_new": (302, None),
    "release_authorization_revoke": (302, None),
    "release_defect_letter": (302, None),
    "release_letter_new": (302, None),
    "release_deny": (302, None),
    "release_denial_review": (302, None),
    "release_invoice_new": (302, None),
    "release_invoice_step": (302, None),
    "release_disclosure_new": (302, None),
    "release_disclosure_correct": (302, None),
    "release_accounting_new": (302, None),
    "release_accounting_step": (302, None),
    "release_scope": (302, None),
    "release_item_pages": (302, None),
    "release_item_redact": (302, None),
    "release_redaction_remove": (302, None),
    "release_item_include": (302, None),
    "release_packet_build": (302, None),
    "release_review": (302, None),
    "release_release": (302, None),
    "release_link_new": (302, None),
    "release_link_revoke": (302, None),
    "release_delivery": (302, None),
    **{
        f"amendments_{n}": (302, None)
        for n in (
            "extend",
            "route",
            "review",
            "decide",
            "disagreement",
            "rebuttal",
            "include",
        )
    },

    # the inbox's actions are POSTs; a GET goes back; an account not linked to a
    # provider is sent to the inbox page, which says so
    "inbox_item": (302, "/inbox/"),
    "inbox_pass": (302, "/inbox/"),
    "inbox_pass_stop": (302, "/inbox/"),
    **{f"inbox_{n}": (302, None) for n in ("sign", "skip", "refuse", "file")},
    "queries_withdraw": (302, None),  # a POST; a GET goes back to the query
    "queries_agreement": (302, None),
    "queries_answer": (302, "/queries/mine"),  # a provider record not linked: back

    # the indexing pages' actions are POSTs; a GET goes back to the page
    "capture_edit": (302, None),
    "capture_file": (302, None),
    "capture_sections": (302, "/capture/"),
    "capture_misfile_review": (302, "/capture/misfiles"),
}


def _url(name: str, patient, document, message) -> str:
    pattern = next(p for p in PATTERNS if p.name == name)
    kwargs = {}
    ids = {"patient_id": patient.pk, "document_id": document.pk,
           "message_id": message.pk, "merge_id": uuid.uuid4(), "held_id": uuid.uuid4(),
           "flag_id": OverlayFlag.objects.get(patient=patient).pk,
           "request_id": ReleaseRequest.objects.get(patient=patient).pk,
           "auth_id": Authorization.objects.get(patient=patient).pk,
           "letter_id": Letter.objects.filter(patient=patient, kind="acknowledgment").get().pk,
           "denial_id": Denial.objects.get(request__patient=patient).pk,
           "invoice_id": Invoice.objects.get(request__patient=patient).pk,
           "entry_id": Disclosure.objects.get(patient=patient, request=None).pk,
           "accounting_id": AccountingRequest.objects.get(patient=patient).pk,
           "item_id": ReleaseItem.objects.get(request__patient=patient).pk,
           "redaction_id": Redaction.objects.get(item__request__patient=patient).pk,
           "packet_id": Packet.objects.get(request__patient=patient).pk,
           "link_id": DownloadLink.objects.get(packet__request__patient=patient).pk,
           "amendment_id": AmendmentRequest.objects.get(patient=patient).pk,
           "amendment_letter_id": AmendmentLetter.objects.get(request__patient=patient).pk,
           "page": 1, "token": "not-a-token", "deficiency_id": uuid.uuid4(),
           "capdoc_id": CaptureDocument.objects.get(batch__filename="perm.pdf").pk,
           "batch_id": CaptureBatch.objects.get(filename="perm.pdf").pk,
           "move_id": DocumentMove.objects.get(from_patient=patient).pk,
           "provider_letter_id": ProviderLetter.objects.get().pk,
           "query_id": Query.objects.get(patient=patient).pk}  # fmt: skip
    for key in pattern.pattern.converters:
        kwargs[key] = ids[key]
    url = reverse(f"web:{name}", kwargs=kwargs)
    if name == "identity_merge":  # the record against itself: shown, not mergeable
        url += f"?left={patient.pk}&right={patient.pk}"
    return url


def access_of(url: str) -> str:
    """The access the page at `url` declares: the single source of truth."""
    return resolve(url.split("?")[0]).func.access


def test_every_page_declares_its_access():
    assert len(set(NAMES)) == len(PATTERNS) == len(web_urls.urlpatterns)
    for pattern in PATTERNS:
        access = getattr(pattern.callback, "access", None)
        assert access in ACCESS_LEVELS or access in PERMISSIONS, (
            f"page {pattern.name!r} declares no access; decorate it with @requires(...)"
        )


def test_the_declared_capabilities(db):
    declared = {p.name: p.callback.access for p in PATTERNS}
    assert declared == {
        "login": PUBLIC, "mfa": PUBLIC, "healthz": PUBLIC, "logout": SIGNED_IN,
        "search": "search_patients", "register": "edit_demographics",
        "chart": "view_chart", "break_glass": "view_chart",
        "access_log": "view_access_log", "upload": "add_document",
        "document": "view_document", "document_content": "view_document",
        "document_search": "view_document", "chart_document_search": "view_document",
        "document_page": "view_document",
        "interfaces": "view_interfaces", "interface_message": "view_interfaces",
        "interface_reprocess": "reprocess_messages",
        "identity_dashboard": "manage_identity",
        "identity_duplicates": "manage_identity", "identity_merge": "manage_identity",
        "identity_duplicates_assign": "manage_identity",
        "identity_scan": "manage_identity",
        "identity_merges": "manage_identity", "identity_merge_undo": "manage_identity",
        "identity_overlays": "manage_identity", "identity_overlay": "manage_identity",
        "identity_held_merges": "manage_identity",
        "identity_held_merge_decide": "manage_identity",
        "capture_upload": "capture_documents",
        "capture_upload_batches": "capture_documents",
        "release_worklist": "release_records", "release_intake": "release_records",
        "release_request": "release_records", "release_status": "release_records",
        "release_verify": "release_records", "release_extend": "release_records",
        "release_change": "release_records",
        "release_suspension_new": "account_disclosures",
        "release_item_preview": "release_records",
        "release_authorization_new": "release_records",
        "release_authorization": "release_records",
        "release_authorization_revoke": "release_records",
        "release_defect_letter": "release_records", "release_letter_new": "release_records",
        "release_letter": "release_records", "release_deny": "release_records",
        "release_denial_review": "release_records",
        "release_invoice_new": "release_records", "release_invoice_step": "release_records",
        "release_disclosures": "account_disclosures",
        "release_disclosure_new": "account_disclosures",
        "release_disclosure_correct": "account_disclosures",
        "release_accounting_new": "account_disclosures",
        "release_accounting_step": "account_disclosures",
        "release_accounting_letter": "account_disclosures",
        "release_scope": "release_records", "release_item": "release_records",
        "release_item_pages": "release_records", "release_item_redact": "release_records",
        "release_redaction_remove": "release_records",
        "release_item_include": "release_records",
        "release_packet_build": "release_records", "release_packet": "release_records",
        "release_review": "review_releases", "release_release": "release_records",
        "release_link_new": "release_records", "release_link_revoke": "release_records",
        "release_delivery": "release_records", "release_download": PUBLIC,
        **{f"amendments_{n}": "add_document" for n in (
            "worklist", "intake", "request", "letter", "extend", "route", "review",
            "decide", "disagreement", "rebuttal", "include")},
        "capture_cover_sheet": "print_cover_sheets",
        "capture_separator_sheet": "print_cover_sheets",
        "capture_move": "move_documents", "capture_queue": "index_documents",
        "capture_document": "index_documents", "capture_page": "index_documents",
        "capture_edit": "index_documents", "capture_file": "index_documents",
        "capture_sections": "index_documents", "capture_dashboard": "supervise_capture",
        "capture_misfiles": "review_misfiles", "capture_misfile_review": "review_misfiles",
        **{f"inbox_{n}": "sign_document" for n in (
            "item", "pass", "pass_stop", "sign", "skip", "refuse")},
        "inbox": "sign_document", "inbox_file": "add_document",
        **{f"completion_{n}": "complete_charts" for n in (
            "dashboard", "suspension", "letters", "letter", "worklist")},
        **{f"queries_{n}": "raise_queries" for n in (
            "worklist", "new", "metrics", "query", "withdraw", "agreement")},
        "queries_mine": "sign_document", "queries_answer": "sign_document",
    }  # fmt: skip


@pytest.fixture
def record_data(db, facility, settings):
    settings.ROI_CONTACT_PHONE = "(217) 555-0199"  # denial letters name it (R-ACC-9)
    patient = factories.patient(facility=facility, family="Matrix", mrn="N-MX1")
    document = factories.document(patient=patient, facility=facility)
    bad_birth_date = adt("A04", "PERM1", mrn="N-MX2", dob="19801399")
    message = handle(bad_birth_date).message  # an AE: in error, reprocessable
    OverlayFlag.objects.create(patient=patient, kind="two-ssns", summary="for the page")
    req = log_request(actor=factories.SYSTEM, data=RequestIn(
        patient_id=patient.pk, facility_code=facility.code, requester_type="patient",
        requester_name="Neo Matrix", received_on=facility_today(), channel="mail",
        format="pdf", delivery="mail", requester_address="1 Main St",
        identity_verified=True, verification_method="photo ID", entire_record=True))  # fmt: skip
    authorize(factories.SYSTEM, req, kind="directive")
    render_letter(actor=factories.SYSTEM, req=req, kind="acknowledgment")
    denials.deny(actor=factories.SYSTEM, req=req, ground="endangerment", partial=True,
                 basis="likely to endanger", professional="Dr. Who")  # fmt: skip
    fees.invoice(actor=factories.SYSTEM, req=req, pages=3)
    record_disclosure(actor=factories.SYSTEM, patient=patient, disclosed_at=timezone.now(),
                      recipient_name="County", description="lab", purpose="report",
                      legal_basis="public-health")  # fmt: skip
    produce_accounting(actor=factories.SYSTEM, accounting_request=log_accounting_request(
        actor=factories.SYSTEM, patient=patient, received_on=facility_today(),
        requested_by="Neo"))  # fmt: skip
    item = scope.select_documents(actor=factories.SYSTEM, req=req)[0]
    redaction.add_redaction(actor=factories.SYSTEM, item=item, text="Discharge",
                            reason="not asked for")  # fmt: skip
    packet = packets.build_packet(actor=factories.SYSTEM, req=req)
    review.quality_review(actor=Actor(channel="test", name="qa"), req=req, passed=True,
                          checks=dict.fromkeys(review.REQUIRED_CHECKS, True))  # fmt: skip
    releasing.release(actor=factories.SYSTEM, req=req)
    delivery.create_link(actor=factories.SYSTEM, packet=packet)
    amendment = amendment_services.log_request(
        actor=factories.SYSTEM, patient=patient, facility=facility,
        received_on=facility_today(), received_how="mail", requested_by="Neo Matrix",
        change="a change", reason="a reason", document_ids=[document.pk])  # fmt: skip
    amendment_services.extend(actor=factories.SYSTEM, req=amendment, reason="leave")
    scanned = capture_data.batch(["Scanned page"], src=capture_data.source(
        facility=facility), facility=facility)  # fmt: skip
    scanned.filename = "perm.pdf"
    scanned.save()
    capture_data.document(scanned, [1])
    misfiled = factories.document(patient=patient, facility=facility)
    other = factories.patient(facility=facility, family="Other", mrn="N-MX9")
    moves.move_document(actor=factories.SYSTEM, document=misfiled, to_patient=other,
                        reason="misfiled")  # fmt: skip
    owing = add_deficiency(actor=factories.SYSTEM, kind="other", description="perm",
                           encounter=factories.encounter(patient=patient,
                                                         facility=facility),
                           provider=factories.provider("Perm", "Paula"))  # fmt: skip
    write_letter(actor=factories.SYSTEM, as_of=timezone.now(),
                 due=Due(owing.provider, facility, "reminder", [owing]))  # fmt: skip
    visit = factories.encounter(patient=patient, facility=facility)
    noted = factories.document(patient=patient, facility=facility, encounter=visit,
                               text="Hemoglobin 7.1 after surgery")  # fmt: skip
    query_services.raise_query(
        actor=factories.SYSTEM, encounter=visit, provider=factories.provider(family="Q"),
        purpose="ambiguous", question="Based on the clinical indicators below, please "
        "clarify the condition being treated.", indicators=[query_services.IndicatorIn(
            document_id=noted.pk, quote="Hemoglobin 7.1")])  # fmt: skip
    return patient, document, message


def _call(client: Client, name: str, url: str):
    return getattr(client, METHOD.get(name, "get"))(url)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_page_for_every_role(role, record_data, facility):
    patient, document, message = record_data
    user = factories.user(f"u-{role}", role, facilities=[facility])
    grants = ROLES[role].permissions
    for name in NAMES:
        url = _url(name, patient, document, message)
        access = access_of(url)
        # Roles are the only source of capabilities (no superuser shortcut).
        allowed = access in ACCESS_LEVELS or access in grants
        before = AuditEvent.objects.count()
        response = _call(signed_in(user), name, url)
        where = f"{role} -> {name} ({access})"
        if allowed:
            status, location = ANSWER.get(name, (200, None))
            if name == "login" and "search_patients" not in grants:
                location = "/admin/"  # administrators land in the admin, not search
            assert response.status_code == status, where
            if location:
                assert response["Location"] == location, where
        else:
            assert response.status_code == 403, where
            assert escape(PERMISSIONS[access].lower()) in response.content.decode(), (
                where
            )
            # R-SEC-2: the refused attempt itself is audited, once, and nothing else
            (refused,) = AuditEvent.objects.filter(pk__gt=before)
            assert (refused.action, refused.outcome, refused.username) == (
                "access.denied", "denied", user.username,
            ), where  # fmt: skip


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_django_admin_is_for_administrators_only(role, db):
    user = factories.user(f"a-{role}", role)
    response = signed_in(user).get("/admin/")
    if ROLES[role].admin_site:
        assert response.status_code == 200
        assert signed_in(user).get("/admin/mpi/facility/").status_code == 200
        # configuration only: no patient or document is editable in the admin
        assert signed_in(user).get("/admin/mpi/patient/").status_code == 404
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_every_page_sends_anonymous_users_to_sign_in(record_data):
    patient, document, message = record_data
    for name in NAMES:
        url = _url(name, patient, document, message)
        response = _call(Client(), name, url)
        if access_of(url) == PUBLIC:
            assert response.status_code in (200, 302), name
            if response.status_code == 302:
                assert response["Location"] == "/login", name
        else:
            assert response.status_code == 302, name
            assert response["Location"] == f"/login?next={quote(url, safe='/')}", name
