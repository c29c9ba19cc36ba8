"""Intake: every file is kept byte for byte; duplicates flagged; what is not a
readable scan refused by name with its reason, never lost, always audited."""

from __future__ import annotations

import io
import json

import pikepdf
import pytest
from PIL import Image

from recordroom.audit.models import AuditEvent
from recordroom.capture.intake import receive_file, source_named
from recordroom.capture.models import CaptureBatch
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from tests import factories

from . import scans


def _receive(actor, source, data, name):
    return receive_file(actor=actor, data=data, filename=name, source=source)


def test_a_pdf_is_kept_byte_for_byte_and_queued_for_the_worker(
    actor, source, django_capture_on_commit_callbacks
):
    data = scans.text_pdf(scans.LINES)
    with django_capture_on_commit_callbacks(execute=True):
        batch = _receive(actor, source, data, "C:\\scans\\a.pdf")
    assert batch.filename == "a.pdf" and batch.status == "received"
    assert batch.media_type == "application/pdf" and batch.page_count == 1
    assert default_store().get(batch.sha256) == data and batch.size == len(data)
    assert batch.facility == source.facility and batch.received_by == "scan1"
    from django_tasks_db.models import DBTaskResult

    task = DBTaskResult.objects.get(task_path__endswith="process_batch_task")
    assert task.args_kwargs["args"] == [str(batch.pk)]
    event = AuditEvent.objects.get(action="capture.receive")
    assert (
        event.outcome == "success"
        and json.loads(event.detail)["sha256"] == batch.sha256
    )


def test_an_exact_duplicate_is_flagged_and_not_processed_again(actor, source):
    data = scans.text_pdf(scans.LINES)
    first = _receive(actor, source, data, "a.pdf")
    again = _receive(actor, source, data, "a-again.pdf")
    assert again.status == "duplicate" and again.duplicate_of == first
    assert again.step == "" and again.finished_at is not None
    third = _receive(actor, source, data, "a-third.pdf")
    assert third.duplicate_of == first  # the first one, not the copy


def _encrypted() -> bytes:
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(scans.text_pdf(scans.LINES))) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="o", user="secret"))
    return out.getvalue()


def _wide_png() -> bytes:
    """2,000 × 1,000 pixels: past a limit of one megapixel."""
    out = io.BytesIO()
    Image.new("L", (2000, 1000), 255).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("letter.docx", lambda: b"PK\x03\x04 word document",
         "a .docx is not a scan: capture takes PDF, TIFF, PNG or JPEG"),
        ("empty.pdf", lambda: b"", "'empty.pdf' is empty (0 bytes)"),
        ("locked.pdf", _encrypted, "'locked.pdf' is an encrypted PDF"),
        ("broken.pdf", lambda: b"%PDF-1.7\n1 0 obj <</Type /Catalog", "'broken.pdf' is a damaged PDF"),
        ("wide.png", _wide_png, "(2 megapixels); the limit is 1 megapixels; it is "
         "refused as a possible decompression bomb"),
    ],
)  # fmt: skip
def test_unreadable_input_is_refused_with_its_reason_and_kept(
    actor, source, settings, name, make, reason
):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    data = make()
    batch = _receive(actor, source, data, name)
    assert batch.status == "refused" and reason in batch.problem
    assert default_store().get(batch.sha256) == data  # never lost
    event = AuditEvent.objects.get(action="capture.receive", object_id=str(batch.pk))
    assert event.outcome == "failure" and reason in json.loads(event.detail)["reason"]


def test_an_image_too_large_per_page_is_refused_by_its_size(actor, source, settings):
    settings.CAPTURE_MAX_IMAGE_BYTES = 100_000
    noise = Image.effect_noise((800, 800), 120).convert("L")
    data = scans.png(noise)
    assert len(data) > 100_000
    batch = _receive(actor, source, data, "photo.png")
    assert batch.status == "refused"
    assert batch.problem.startswith(
        f"'photo.png' is {len(data) / 1048576:.1f} MB for 1 page; an image is accepted "
        "up to 0.1 MB a page"
    )


def test_a_multi_page_g4_fax_is_accepted_with_its_page_count(actor, source):
    pages = scans.raster(scans.text_pdf(scans.LINES, ("page 2",), ("page 3",)), dpi=100)
    batch = _receive(actor, source, scans.tiff(pages), "fax.tif")
    assert (batch.status, batch.media_type, batch.page_count) == (
        "received",
        "image/tiff",
        3,
    )


def test_receiving_for_a_facility_outside_ones_scope_is_refused(actor, source):
    south = factories.facility("SOUTH")
    with pytest.raises(PermissionDenied, match="SOUTH is not in your scope"):
        receive_file(
            actor=actor, data=b"%PDF-", filename="a.pdf", source=source, facility=south
        )
    assert not CaptureBatch.objects.exists()


def test_a_source_is_made_once_and_found_by_its_name(db, facility):
    made = source_named("Fax line 2", kind="fax", facility=facility)
    assert source_named("Fax line 2") == made and made.kind == "fax"
    with pytest.raises(ValidationFailed, match="unknown source kind 'copier'"):
        source_named("X", kind="copier")
