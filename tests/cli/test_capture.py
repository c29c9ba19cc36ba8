"""`recordroom capture import|watch` on real files and a real folder."""

from __future__ import annotations

import os
import time

from tests.capture import scans
from typer.testing import CliRunner

from recordroom.capture.intake import source_named
from recordroom.capture.models import CaptureBatch, CaptureDocument
from recordroom.capture.watch import Watch, complete_files, poll
from recordroom.cli.app import app
from recordroom.kernel.actor import Actor

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    result.text = " ".join(result.output.split())
    return result


def test_import_with_wait_reads_each_file_and_names_the_refused(db, facility, tmp_path):
    (tmp_path / "a.pdf").write_bytes(scans.text_pdf(scans.LINES))
    (tmp_path / "notes.txt").write_text("not a scan")
    done = invoke("capture", "import", tmp_path / "a.pdf", tmp_path / "notes.txt",
                  "--source", "Mailroom", "--facility", "north", "--wait")  # fmt: skip
    assert done.exit_code == 1  # one file refused
    a = CaptureBatch.objects.get(filename="a.pdf")
    assert f"a.pdf: batch {a.pk} indexing" in done.text
    assert "notes.txt: batch" in done.text
    assert (
        "refused (a .txt is not a scan: capture takes PDF, TIFF, PNG or JPEG)"
        in done.text
    )
    assert a.source.name == "Mailroom" and a.facility == facility
    assert CaptureDocument.objects.get(batch=a).status == "queued"


def test_import_without_wait_leaves_the_batches_to_the_worker(db, tmp_path):
    (tmp_path / "a.pdf").write_bytes(scans.text_pdf(scans.LINES))
    done = invoke("capture", "import", tmp_path)
    assert done.exit_code == 0, done.output
    assert "a.pdf: batch" in done.text and "received" in done.text
    assert "queued: `recordroom worker` reads them" in done.text


def test_an_unknown_facility_is_refused_by_name(db, tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4")
    done = invoke("capture", "import", tmp_path / "a.pdf", "--facility", "MARS")
    assert done.exit_code == 1 and "unknown facility code 'MARS'" in done.text


def test_a_watched_file_is_taken_only_once_complete_and_never_deleted(db, tmp_path):
    state = Watch(tmp_path)
    source = source_named("Fax 1", kind="fax")
    actor = Actor(channel="test", name="watch")
    growing = tmp_path / "fax.pdf"
    data = scans.text_pdf(scans.LINES)
    growing.write_bytes(data[:100])
    assert poll(state, actor=actor, source=source, facility=None) == []  # first look
    with growing.open("ab") as fh:  # still arriving
        fh.write(data[100:])
    os.utime(growing, (time.time() + 5, time.time() + 5))
    assert poll(state, actor=actor, source=source, facility=None) == []  # it changed
    (taken,) = poll(state, actor=actor, source=source, facility=None)  # unchanged now
    assert (
        taken.path == tmp_path / "done" / "fax.pdf" and taken.batch.status == "received"
    )
    assert taken.path.read_bytes() == data and not growing.exists()
    # the same name again: kept beside the first, not over it
    (tmp_path / "fax.pdf").write_bytes(scans.text_pdf(("second",)))
    assert complete_files(state) == []
    (again,) = poll(state, actor=actor, source=source, facility=None)
    assert again.path == tmp_path / "done" / "fax-2.pdf"


def test_an_unreadable_watched_file_goes_to_rejected_with_its_reason(db, tmp_path):
    (tmp_path / "letter.docx").write_bytes(b"PK\x03\x04 word")
    (tmp_path / ".hidden.pdf").write_bytes(b"x")
    (tmp_path / "scan.pdf.part").write_bytes(b"%PDF")
    done = invoke("capture", "watch", tmp_path, "--source", "Scanner 2", "--interval", "0.05",
                  "--polls", "3")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "letter.docx: refused (a .docx is not a scan" in done.text
    rejected = tmp_path / "rejected" / "letter.docx"
    assert rejected.read_bytes() == b"PK\x03\x04 word"
    reason = (tmp_path / "rejected" / "letter.docx.reason.txt").read_text()
    assert reason == "a .docx is not a scan: capture takes PDF, TIFF, PNG or JPEG\n"
    assert (tmp_path / ".hidden.pdf").exists() and (tmp_path / "scan.pdf.part").exists()
    assert CaptureBatch.objects.get().source.kind == "scanner"
