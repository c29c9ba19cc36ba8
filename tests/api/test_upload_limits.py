"""Uploads: the size limit enforced while the body streams, nothing of an upload in the
system /tmp, decompression bombs refused at upload with the problem named."""

from __future__ import annotations

import io
import os
import struct
import tempfile
import zlib
from pathlib import Path

import pikepdf
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIRequest
from PIL import Image

from recordroom.kernel import uploads
from recordroom.records.models import Document
from tests import factories

from .conftest import blob_count

MB = 1024 * 1024
BOUNDARY = "rrboundary"


class CountingStream(io.BytesIO):
    """A request body that remembers how much of it the server read."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.taken += len(line)
        return line


def _multipart(file_bytes: bytes, name: str = "big.pdf") -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="type"\r\n\r\n'
            f'11506-3\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        + file_bytes
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _request(
    body: bytes,
    *,
    declared: int | None = None,
    content_type: str = f"multipart/form-data; boundary={BOUNDARY}",
) -> tuple[WSGIRequest, CountingStream]:
    stream = CountingStream(body)
    request = WSGIRequest({
        "REQUEST_METHOD": "POST", "PATH_INFO": "/", "wsgi.input": stream,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(declared if declared is not None else len(body)),
        "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
    })  # fmt: skip
    return request, stream


@pytest.mark.parametrize("size_mb", [1.5, 8])
def test_reading_stops_at_the_limit_while_the_body_streams(db, settings, size_mb):
    settings.MAX_UPLOAD_BYTES = 1 * MB
    body = _multipart(b"%PDF-" + b"0" * int(size_mb * MB))
    request, stream = _request(body)
    assert "file" not in request.FILES
    assert request.POST["type"] == "11506-3"  # the fields before the file are read
    assert stream.taken < 1.2 * MB, stream.taken  # not the whole body
    refused = uploads.refusal(request)
    assert refused is not None and refused.status == 413
    assert "file 'big.pdf' is" in refused.message
    assert "the limit is 1 MB" in refused.message


def test_a_file_within_the_limit_is_spooled_in_the_data_folder_0600(db, settings):
    settings.MAX_UPLOAD_BYTES = 8 * MB
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    request, _ = _request(_multipart(b"%PDF-" + b"1" * (2 * MB)))
    upload = request.FILES["file"]
    assert upload.size == 2 * MB + 5 and uploads.refusal(request) is None
    fd = upload.file.fileno()  # rolled over from memory to a real file
    where = os.readlink(f"/proc/self/fd/{fd}")
    assert where.startswith(str(Path(django_settings.DATA_DIR) / "tmp"))
    assert where.endswith("(deleted)")  # unlinked at creation: a crash leaves nothing
    assert os.fstat(fd).st_mode & 0o777 == 0o600
    assert upload.read(5) == b"%PDF-"


def test_python_temporary_files_go_to_the_data_folder_not_tmp(db):
    root = Path(django_settings.DATA_DIR) / "tmp"
    assert tempfile.gettempdir() == str(root)
    assert root.stat().st_mode & 0o777 == 0o700


def test_the_api_answers_413_naming_the_limit_for_an_oversized_upload(
    him_api, chart_patient, settings
):
    settings.MAX_UPLOAD_BYTES = 1 * MB
    before = blob_count()
    response = him_api.client.post(
        f"/api/v1/patients/{chart_patient.pk}/documents",
        data=_multipart(b"%PDF-" + b"0" * (3 * MB)),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=him_api.headers,
    )  # fmt: skip
    assert response.status_code == 413, response.content
    body = response.json()
    assert (body["error"], body["field"]) == ("too_large", "file")
    assert "the limit is 1 MB" in body["message"]
    assert blob_count() == before and not Document.objects.exists()


# --- decompression bombs --------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width × height but holds a few bytes of pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))  # fmt: skip


def _pdf(pages: int = 1, *, box=(0, 0, 612, 792), image: tuple[int, int] | None = None):
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    if image:
        stream = pikepdf.Stream(pdf, zlib.compress(b"\x00" * 256))
        for key, value in dict(Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                               Width=image[0], Height=image[1], BitsPerComponent=8,
                               ColorSpace=pikepdf.Name.DeviceGray,
                               Filter=pikepdf.Name.FlateDecode).items():  # fmt: skip
            stream[f"/{key}"] = value
        pdf.pages[0].Resources = pikepdf.Dictionary(
            XObject=pikepdf.Dictionary(Im0=stream)
        )
    if box != (0, 0, 612, 792):
        pdf.pages[0].MediaBox = pikepdf.Array(box)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _image(width: int, height: int, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("L", (width, height), 255).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "problem"),
    [
        ("bomb.png", lambda: _png_header_only(60_000, 60_000),
         "the image is 3,600,000,000 pixels (3,600 megapixels); the limit is 200 "
         "megapixels"),
        ("wide.png", lambda: _image(2000, 1000),
         "the image is 2,000 × 1,000 pixels (2 megapixels); the limit is 1 megapixels"),
        ("scan.tif", lambda: _image(2000, 1000, "TIFF"),
         "the image is 2,000 × 1,000 pixels"),
        ("pages.pdf", lambda: _pdf(6), "it has 6 pages; the limit is 5"),
        ("poster.pdf", lambda: _pdf(box=(0, 0, 200_000, 200_000)),
         "page 1 is 2,778 × 2,778 inches; a PDF page is at most 200 "
         "inches on a side"),
        ("inside.pdf", lambda: _pdf(image=(100_000, 100_000)),
         "an image inside it is 100,000 × 100,000 pixels (10,000 megapixels)"),
    ],
)  # fmt: skip
def test_decompression_bombs_are_refused_at_upload_naming_the_problem(
    him_api, chart_patient, settings, name, make, problem
):
    settings.MAX_PDF_PAGES = 5
    settings.MAX_IMAGE_PIXELS = 200_000_000 if name == "bomb.png" else 1_000_000
    before = blob_count()
    media = "application/pdf" if name.endswith(".pdf") else ""
    response = him_api.upload(
        f"/patients/{chart_patient.pk}/documents",
        {"file": SimpleUploadedFile(name, make(), media or "application/octet-stream"),
         "type": "11506-3", "facility": "NORTH"},
    )  # fmt: skip
    assert response.status_code == 422, response.content
    message = response.json()["message"]
    assert f"file '{name}': " in message and problem in message, message
    assert "decompression bomb" in message
    assert blob_count() == before and not Document.objects.exists()


def test_an_ordinary_scan_and_pdf_are_accepted(him_api, chart_patient, settings):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    for name, data in (
        ("page.png", _image(800, 1000)),
        ("a.pdf", factories.pdf_bytes()),
    ):
        response = him_api.upload(
            f"/patients/{chart_patient.pk}/documents",
            {"file": SimpleUploadedFile(name, data, "application/octet-stream"),
             "type": "11506-3",
             "facility": "NORTH"},
        )  # fmt: skip
        assert response.status_code == 201, response.content


def test_a_release_packet_is_assembled_under_the_data_folder(db):
    from recordroom.release.pdfs import Assembly, Source

    root = Path(django_settings.DATA_DIR) / "tmp"
    with Assembly() as assembly:
        assert assembly.dir.parent == root
        assert assembly.dir.stat().st_mode & 0o777 == 0o700
        assembly.add(Source(pdf=factories.pdf_bytes(), pages=None, redactions={}))
        [written] = assembly.dir.iterdir()
        assert written.stat().st_mode & 0o777 == 0o600
    assert not assembly.dir.exists()


FHIR_JSON = "application/fhir+json"


def test_a_fhir_body_over_the_limit_is_refused_on_its_length_before_reading(
    db, settings
):
    from recordroom.interop.fhir.write_views import parse_body
    from recordroom.kernel.errors import TooLarge

    settings.FHIR_MAX_BODY_BYTES = 1 * MB
    body = b'{"resourceType": "Patient", "x": "' + b"0" * (3 * MB) + b'"}'
    request, stream = _request(body, content_type=FHIR_JSON)
    with pytest.raises(TooLarge, match="the body is 3.0 MB; the limit is 1 MB"):
        parse_body(request)
    assert stream.taken == 0
    # A Content-Length that understates the body: reading stops at the limit anyway.
    request, stream = _request(body, declared=MB // 2, content_type=FHIR_JSON)
    with pytest.raises(Exception, match="not JSON"):
        parse_body(request)
    assert stream.taken <= MB // 2
