"""What the records routes share: the request's Actor, opening a document (a refusal is
audited) and reading an upload."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest
from ninja.files import UploadedFile

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, TooLarge
from recordroom.mpi.models import Facility

from .. import services
from ..models import Document


def actor_of(request: HttpRequest) -> Actor:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def open_document(actor: Actor, document_id: UUID, *, action: str) -> Document:
    """The document, if in the user's scope; a refusal is audited (mpi.api.open_patient)."""
    try:
        return services.get_document(user=actor.user, document_id=document_id)
    except PermissionDenied as exc:
        record(
            actor=actor, action=action, obj=("records.document", document_id),
            outcome=Outcome.DENIED, detail={"document": str(document_id),
                                            "reason": exc.message},
        )  # fmt: skip
        exc.audited = True
        raise


def read_upload(file: UploadedFile) -> bytes:
    # Refuse by the declared size before reading, so a huge upload never fills memory.
    if file.size is not None and file.size > settings.MAX_UPLOAD_BYTES:
        raise TooLarge(
            f"file {file.name!r} is {file.size / 1048576:.1f} MB; the limit is "
            f"{settings.MAX_UPLOAD_BYTES // 1048576} MB (set by the administrator)",
            field="file",
        )
    return file.read()


def claimed_media_type(file: UploadedFile) -> str:
    """The media type the client claimed; a generic one claims nothing."""
    media_type = (file.content_type or "").split(";")[0].strip().lower()
    return "" if media_type in ("", "application/octet-stream") else media_type


def service_start(value: date | datetime | None, facility: Facility) -> datetime | None:
    """A date is midnight, and a time without a zone is local, at the facility."""
    if value is None:
        return None
    zone = clock.zone_of(facility)
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    return value if value.tzinfo else value.replace(tzinfo=zone)
