"""Multipart uploads with the size limit enforced while the body streams: past
RECORDROOM_MAX_UPLOAD_MB reading stops and the request carries the refusal; files
are spooled in memory, then in a 0600 unnamed file under DATA_DIR/tmp."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from .errors import TooLarge
from .tempfiles import spool

_REFUSAL = "recordroom_upload_refused"


def refusal(request: Any) -> TooLarge | None:
    """The TooLarge an upload handler recorded on this request, if any."""
    return getattr(request, _REFUSAL, None)


def refuse_if_too_large(request: Any) -> None:
    """Raise the recorded TooLarge: call before looking at request.FILES."""
    refused = refusal(request)
    if refused is not None:
        raise refused


def too_large(size: int | None, name: str = "") -> TooLarge:
    limit = settings.MAX_UPLOAD_BYTES
    what = f"file {name!r}" if name else "the upload"
    told = f" is {size / 1048576:.1f} MB" if size else " is larger"
    return TooLarge(
        f"{what}{told}; the limit is {limit // 1048576} MB (set by the administrator)",
        field="file",
    )


class LimitedUploadHandler(FileUploadHandler):
    """Counts file bytes across the request and stops reading past the limit.

    A Content-Length already over the limit stops at the first file's first chunk
    (the form fields before it, such as the CSRF token, are still read), so nothing
    of the file is kept; the refusal is left on the request for the view to report.
    """

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.total = 0
        self.declared: int | None = None

    def handle_raw_input(
        self,
        input_data: Any,
        META: Any,
        content_length: int,
        boundary: Any,
        encoding: str | None = None,
    ) -> None:
        # The body also holds the form's other fields: a little room for them.
        if content_length and content_length > settings.MAX_UPLOAD_BYTES + 2**20:
            self.declared = content_length

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file = spool(settings.FILE_UPLOAD_MAX_MEMORY_SIZE)
        self.size = 0
        if self.declared is not None:
            self._stop(self.declared, self.file_name or "")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.total += len(raw_data)
        if self.total > settings.MAX_UPLOAD_BYTES:
            self._stop(None, self.file_name or "")
        self.file.write(raw_data)
        self.size += len(raw_data)

    def _stop(self, size: int | None, name: str) -> None:
        if self.request is not None:
            setattr(self.request, _REFUSAL, too_large(size, name))
        raise StopUpload(connection_reset=True)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.file.seek(0)
        return InMemoryUploadedFile(
            file=self.file,  # type: ignore[arg-type]
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
