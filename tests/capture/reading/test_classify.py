"""Document type: title and section rules, and a naive Bayes model retrained from the
documents filed (an indexer's correction weighs more than a confirmation)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recordroom.capture.models import (
    CaptureBatch,
    CaptureDocument,
    CapturePage,
    CaptureSource,
    TypeModel,
)
from recordroom.capture.reading.classify import guess_type, predict, retrain, train
from recordroom.records.models import DocumentType
from tests import factories

from .pages import page

NURSING = ("Patient resting comfortably in bed. Turned and repositioned every two hours. "
           "Skin intact, call light within reach, fall precautions in place, intake and "
           "output recorded, ambulated in hallway with assistance, tolerated well.")  # fmt: skip
PATHOLOGY = ("Specimen received in formalin labeled with the patient's name. Gross: tan "
             "soft tissue fragment measuring two centimeters. Microscopic: sections show "
             "benign glandular tissue without atypia. Margins free. Immunostains reviewed.")  # fmt: skip


def guess(text, **kw):
    return guess_type([], [page(text)], **kw)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "NORTH GENERAL HOSPITAL\nDISCHARGE SUMMARY\nHospital course\nImproved.\nDischarge medications",
            "18842-5",
        ),
        (
            "Lakeside Clinic\nHistory and Physical\nChief complaint\nCough.\nReview of systems",
            "34117-2",
        ),
        (
            "OPERATIVE REPORT\nPreoperative diagnosis: appendicitis\nEstimated blood loss: 20 mL",
            "11504-8",
        ),
        (
            "CONSENT FOR OPERATION OR PROCEDURE\nPlease read this form carefully.\nWitness",
            "59284-0",
        ),
        (
            "AUTHORIZATION FOR RELEASE OF HEALTH INFORMATION\nInformation to be released: all",
            "AUTH",
        ),
        (
            "REGIONAL REFERENCE LABORATORY\nLABORATORY REPORT\nSpecimen: blood\nReference range",
            "11502-2",
        ),
        (
            "Surgical Pathology Report\nGross description\nMicroscopic description",
            "11526-1",
        ),
    ],
)
def test_rules_by_title_and_sections(text, code):
    g = guess(text, weights={})
    assert g.code == code
    assert g.confidence >= 0.9
    assert g.evidence[0].startswith("title '")


@pytest.mark.django_db
def test_a_title_mentioned_in_a_sentence_is_weak():
    g = guess(
        "Dear colleague,\nplease find enclosed the discharge summary of our patient who was seen last week in clinic",
        weights={},
    )
    assert g.code == "18842-5" and g.confidence < 0.6


@pytest.mark.django_db
def test_nothing_points_anywhere():
    g = guess("lorem ipsum", weights={})
    assert (g.code, g.confidence) == (None, 0.0)


def _filed(batch, number, text, code, proposed=""):
    CapturePage.objects.create(batch=batch, number=number, text=text)
    return CaptureDocument.objects.create(
        batch=batch, pages=[{"page": number, "rotate": 0}], status="filed",
        doc_type=DocumentType.objects.get(code=code),
        evidence={"type_proposed": proposed} if proposed else {},
    )  # fmt: skip


@pytest.fixture
def batch(db):
    source = CaptureSource.objects.create(name="scanner-1", kind="scanner")
    return CaptureBatch.objects.create(
        source=source, filename="b.pdf", sha256="0" * 64, size=1,
        received_at=datetime(2026, 12, 1, tzinfo=UTC), received_by="him1",
    )  # fmt: skip


@pytest.mark.django_db
def test_model_retrained_from_filed_documents(batch):
    for n in range(4):
        _filed(batch, 2 * n + 1, f"{NURSING} Note {n}.", "34746-8")
        _filed(batch, 2 * n + 2, f"{PATHOLOGY} Case {n}.", "11526-1")
    model = retrain()
    assert model.documents == 8 and TypeModel.objects.count() == 1
    assert model.weights["samples"] == {"11526-1": 4, "34746-8": 4}
    # untitled pages: only the model can tell
    g = guess(
        "Repositioned every two hours, skin intact, fall precautions, ambulated with assistance."
    )
    assert g.code == "34746-8"
    assert g.evidence[0].startswith("trained model ")
    assert "repositioned" in g.evidence[0] or "fall precautions" in g.evidence[0]
    g = guess(
        "Gross: soft tissue fragment. Microscopic: benign glandular tissue, margins free."
    )
    assert g.code == "11526-1"
    # the model alone never reaches the default 0.90 type threshold on its own
    assert g.confidence <= 0.9


@pytest.mark.django_db
def test_corrections_weigh_more_than_confirmations(batch):
    text = (
        "Outside records packet with medication list and immunization history enclosed."
    )
    _filed(batch, 1, text, "CORR")
    _filed(batch, 2, text + " Copy.", "CORR")
    # an indexer corrected the third: it was proposed as correspondence, filed as a referral
    _filed(batch, 3, text + " Again.", "57133-1", proposed="CORR")
    weights = retrain().weights
    ranked, _ = predict(weights, text)
    assert ranked[0][0] == "57133-1"  # 3 x 1 outweighs 2 x 1


@pytest.mark.django_db
def test_text_layers_of_other_filed_pdfs_train_too(facility, patient):
    words = " ".join(["hospital course uneventful discharge medications reviewed"] * 4)
    factories.document(patient=patient, facility=facility, code="18842-5", text=words)
    model = retrain()
    assert model.documents == 1
    assert model.weights["samples"] == {"18842-5": 1}


def test_train_and_predict_are_plain_numpy():
    w = train([("alpha beta gamma", "A", 1.0), ("alpha beta delta", "A", 1.0),
               ("omega sigma delta", "B", 1.0), ("omega sigma gamma", "B", 1.0)])  # fmt: skip
    ranked, why = predict(w, "omega sigma")
    assert ranked[0][0] == "B" and ranked[0][1] > 0.5
    assert "omega" in why["B"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Lakeshore Family Practice\nReferral Letter\nRE: Jane Doe", "57133-1"),
        ("Lakeshore Family Practice\nRequest for Consultation\nRE: Jane Doe", "57133-1"),
        ("Lakeshore Family Practice\nOffice Visit Summary\nRE: Jane Doe", "CORR"),
        ("Lakeshore Family Practice\nOffice Visit\nRE: Jane Doe", "11506-3"),
    ],
)
def test_a_title_inside_a_longer_one_counts_only_as_the_longer(text, code):
    g = guess(text, weights={})
    assert g.code == code and g.confidence >= 0.9  # a heading alone is enough
    assert not any(e.startswith("also looks like") for e in g.evidence)


@pytest.mark.django_db
def test_a_section_header_is_not_a_title():
    g = guess("Lakeshore Family Practice\nReason for referral\nknee pain", weights={})
    assert g.code == "57133-1" and g.confidence < 0.9


@pytest.mark.django_db
def test_a_heading_title_stands_when_the_model_disagrees_a_mention_does_not(batch):
    for n in range(4):
        _filed(batch, 2 * n + 1, f"{NURSING} Note {n}.", "34746-8")
        _filed(batch, 2 * n + 2, f"{PATHOLOGY} Case {n}.", "11526-1")
    weights = retrain().weights
    titled = guess(f"NORTH GENERAL HOSPITAL\nPROGRESS NOTE\n{NURSING}", weights=weights)
    assert titled.code == "11506-3" and titled.confidence >= 0.9
    assert "the trained model prefers 34746-8" in titled.evidence[-1]
    mention = guess(f"Seen for a progress note today.\n{NURSING}", weights=weights)
    assert mention.confidence <= 0.6
