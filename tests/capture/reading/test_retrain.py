"""When the document-type model is retrained: after RECORDROOM_CAPTURE_RETRAIN_AFTER
types corrected by indexers (queued for the worker when an indexer files), nightly when
anything was filed, and by `recordroom capture retrain`; each training audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from typer.testing import CliRunner

from recordroom.audit.models import AuditEvent
from recordroom.capture import queue
from recordroom.capture.models import (
    CaptureBatch,
    CaptureDocument,
    CapturePage,
    CaptureSource,
    TypeModel,
)
from recordroom.capture.reading.classify import (
    corrections_since_model,
    filed_since_model,
    retrain,
)
from recordroom.capture.tasks import retrain_if_corrected, retrain_type_model_task
from recordroom.cli.app import app
from recordroom.records.models import DocumentType
from tests import factories

from ..queue_data import batch as queued_batch
from ..queue_data import document, source

pytestmark = pytest.mark.django_db

LETTER = "Dear doctor, thank you for seeing our patient in consultation next week."


@pytest.fixture
def scanned_batch(db):
    src = CaptureSource.objects.create(name="scanner-r", kind="scanner")
    return CaptureBatch.objects.create(
        source=src, filename="r.pdf", sha256="1" * 64, size=1,
        received_at=datetime(2026, 12, 1, tzinfo=UTC), received_by="him1",
    )  # fmt: skip


def _filed(b, number, *, filed_as, proposed, auto=False):
    CapturePage.objects.create(batch=b, number=number, text=f"{LETTER} {number}")
    return CaptureDocument.objects.create(
        batch=b, pages=[{"page": number, "rotate": 0}], status="filed",
        doc_type=DocumentType.objects.get(code=filed_as), auto_filed=auto,
        decided_at=timezone.now(), evidence={"type_proposed": proposed},
    )  # fmt: skip


def _queued_retrains():
    return DBTaskResult.objects.filter(
        task_path__endswith=".retrain_type_model_task", status="READY"
    ).count()


def test_retrain_is_queued_after_the_set_number_of_corrections(
    scanned_batch, settings
):
    settings.CAPTURE_RETRAIN_AFTER = 3
    _filed(scanned_batch, 1, filed_as="57133-1", proposed="CORR")
    _filed(scanned_batch, 2, filed_as="CORR", proposed="CORR")  # a confirmation
    _filed(scanned_batch, 3, filed_as="57133-1", proposed="CORR", auto=True)  # no one
    assert corrections_since_model() == 1
    assert retrain_if_corrected() is False and _queued_retrains() == 0
    _filed(scanned_batch, 4, filed_as="57133-1", proposed="CORR")
    _filed(scanned_batch, 5, filed_as="11488-4", proposed="57133-1")
    assert corrections_since_model() == 3
    assert retrain_if_corrected() is True and _queued_retrains() == 1
    assert retrain_if_corrected() is False and _queued_retrains() == 1  # one waits
    # the worker runs it: the corrections are counted from the new model on
    retrain_type_model_task.call(False)
    model = TypeModel.objects.get()
    assert model.weights["samples"] == {"57133-1": 3, "CORR": 1, "11488-4": 1}
    assert corrections_since_model() == 0


def test_zero_turns_the_trigger_off(scanned_batch, settings):
    settings.CAPTURE_RETRAIN_AFTER = 0
    for n in range(1, 4):
        _filed(scanned_batch, n, filed_as="57133-1", proposed="CORR")
    assert retrain_if_corrected() is False and _queued_retrains() == 0


def test_an_indexer_filing_queues_the_retrain_on_commit(
    facility, patient, him, settings, django_capture_on_commit_callbacks
):
    settings.CAPTURE_RETRAIN_AFTER = 1
    b = queued_batch(["REFERRAL LETTER\nMRN N100001"], src=source(facility=facility),
                     facility=facility)  # fmt: skip
    doc = document(b, [1], patient=patient, confidence=0.99,
                   doc_type=DocumentType.objects.get(code="57133-1"),
                   type_confidence=0.95)  # fmt: skip
    doc.evidence = {**doc.evidence, "type_proposed": "CORR"}  # the reader said letter
    doc.save(update_fields=["evidence"])
    with django_capture_on_commit_callbacks(execute=True):
        queue.file(actor=factories.actor(him), capdoc=doc)
    assert _queued_retrains() == 1


def test_nightly_retrains_only_when_something_was_filed(scanned_batch):
    assert filed_since_model() is True  # no model yet
    assert retrain_type_model_task.call(True).startswith("trained on ")
    assert filed_since_model() is False
    assert retrain_type_model_task.call(True) == "unchanged"
    assert TypeModel.objects.count() == 1
    _filed(scanned_batch, 1, filed_as="CORR", proposed="CORR")
    assert filed_since_model() is True


def test_retrain_is_audited_and_the_cli_prints_what_it_learnt(scanned_batch):
    _filed(scanned_batch, 1, filed_as="57133-1", proposed="CORR")
    _filed(scanned_batch, 2, filed_as="CORR", proposed="CORR")
    result = CliRunner().invoke(app, ["capture", "retrain"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "type model trained on 2 documents (2 types)" in result.output
    assert "57133-1: 1" in result.output
    event = AuditEvent.objects.get(action="capture.retrain")
    detail = json.loads(event.detail)
    assert detail["documents"] == 2 and detail["corrections"] == 1
    again = CliRunner().invoke(app, ["capture", "retrain", "--if-changed"])
    assert "nothing filed since the last model: not retrained" in again.output
    assert retrain().documents == 2
