"""Documents over the JSON API: metadata with versions and signatures, verified content,
new versions, status changes and signing.

Thin adapters: parse, call one service, render. Metadata reads are audited here
(chart.open); content reads are audited by records.services.read_content itself; writes
by their services.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.utils.http import content_disposition_header
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.errors import PermissionDenied, ValidationFailed

from .. import services
from ..access import document_access
from ..chart import document_with_version
from ..files import ACTIVE, LABELLED_TEXT
from ..models import Document, DocumentVersion, Provider, Signature
from .common import actor_of, claimed_media_type, open_document, read_upload
from .schemas import (
    DocumentDetail,
    DocumentOut,
    SignatureIn,
    SignatureOut,
    StatusIn,
    VersionOut,
    VersionUpload,
)

router = Router(tags=["records"])


@router.get(
    "/documents/{document_id}", response=DocumentDetail,
    openapi_extra={"x-capability": "view_document"},
)  # fmt: skip
def read_document(request: HttpRequest, document_id: UUID) -> Document:
    """A document's metadata, its versions and their signatures (not its content)."""
    actor = actor_of(request)
    doc = open_document(actor, document_id, action=actions.CHART_OPEN.name)
    record(
        actor=actor, action=actions.CHART_OPEN.name, patient=doc.patient_id, obj=doc,
        detail={"document": str(doc.pk), **document_access(actor.user, doc).audit()},
    )  # fmt: skip
    return document_with_version(doc)


@router.get(
    "/documents/{document_id}/content",
    openapi_extra={
        "x-capability": "view_document",
        "responses": {200: {"description": "The verified bytes of the version",
                              "content": {"application/octet-stream": {}}}},
    },
)  # fmt: skip
def read_document_content(
    request: HttpRequest,
    document_id: UUID,
    version: int | None = Query(
        None, ge=1, description="Version number; default current"
    ),
    how: Literal["view", "download", "print"] = "view",
) -> HttpResponse:
    """The document's bytes, checked against their hash; audited as view/download/print."""
    actor = actor_of(request)
    doc = open_document(actor, document_id, action=services.READ_ACTIONS[how])
    content = services.read_content(
        actor=actor, document=doc, how=how, version_number=version
    )
    v = content.version
    media_type = v.media_type + (
        "; charset=utf-8" if v.media_type in LABELLED_TEXT else ""
    )
    active = v.media_type in ACTIVE  # HTML, XML: never rendered in our origin
    response = HttpResponse(content.data, content_type=media_type)
    response["Content-Disposition"] = (
        content_disposition_header(how == "download" or active, v.filename) or "inline"
    )
    if active:
        response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "no-store"
    response["ETag"] = f'"{v.sha256}"'
    response["X-Document-Version"] = str(v.number)
    return response


@router.post(
    "/documents/{document_id}/versions", response={201: VersionOut},
    openapi_extra={"x-capability": "add_document"},
)  # fmt: skip
def add_version(
    request: HttpRequest,
    document_id: UUID,
    data: Form[VersionUpload],
    file: File[UploadedFile],
) -> DocumentVersion:
    """Amend, correct or add an addendum: a new version; earlier ones stay as they were."""
    actor = actor_of(request)
    doc = open_document(actor, document_id, action=actions.DOCUMENT_VERSION.name)
    version = services.add_version(
        actor=actor, document=doc, kind=data.kind, data=read_upload(file),
        filename=data.filename or file.name or "", reason=data.reason,
        media_type=claimed_media_type(file),
    )  # fmt: skip
    return version


@router.post(
    "/documents/{document_id}/status", response=DocumentOut,
    openapi_extra={"x-capability": "change_document_status"},
)  # fmt: skip
def change_status(request: HttpRequest, document_id: UUID, data: StatusIn) -> Document:
    """Change status (preliminary → final, or entered-in-error with a reason)."""
    actor = actor_of(request)
    doc = open_document(actor, document_id, action=actions.DOCUMENT_STATUS.name)
    services.change_document_status(
        actor=actor, document=doc, status=data.status, reason=data.reason
    )
    return document_with_version(doc)


@router.post(
    "/documents/{document_id}/signatures", response={201: SignatureOut},
    openapi_extra={"x-capability": "sign_document"},
)  # fmt: skip
def sign(request: HttpRequest, document_id: UUID, data: SignatureIn) -> Signature:
    """Sign a version (default the current one) as the provider linked to your account."""
    actor = actor_of(request)
    doc = open_document(actor, document_id, action=actions.DOCUMENT_SIGN.name)
    signer = Provider.objects.filter(user=actor.user, active=True).first()
    if signer is None:
        raise PermissionDenied(
            f"user {actor.username} is not linked to an active provider, so cannot sign; "
            "an administrator links the provider record to the user"
        )
    versions = doc.versions.order_by("-number")
    version = (
        versions.filter(number=data.version).first()
        if data.version
        else versions.first()
    )
    if version is None:
        raise ValidationFailed(
            f"document {doc.pk} has no version {data.version}", field="version"
        )
    sig = services.sign_version(
        actor=actor, version=version, signer=signer, meaning=data.meaning
    )
    return sig
