"""The capture accuracy benchmark's scoring (bench/capture/_score.py) on hand-made
results against a hand-made ground truth: right and wrong patients among auto-filed
pages, auto-file rate, type accuracy and its confusion matrix, split accuracy,
lost pages and latency."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "capture"
sys.path.insert(0, str(BENCH))

from _score import ResultDoc, confusion_table, score  # noqa: E402

A, B = "patient-a", "patient-b"


def _page(n, doc, patient=None, code=None, **flags):
    return {"page": n, "document": doc, "patient_id": patient, "doc_type": code,
            "blank": flags.get("blank", False), "cover": flags.get("cover", False),
            "separator": flags.get("separator", False)}  # fmt: skip


def _truth():
    """cover | H&P of A (2 pages, a blank back) | separator | lab of B | consent of A"""
    return {
        "batch.pdf": {
            "file": "batch.pdf",
            "documents": [
                {
                    "index": 0,
                    "patient_id": A,
                    "doc_type": "34117-2",
                    "encounter_id": "enc-1",
                    "kept_pages": [2, 3],
                },
                {
                    "index": 1,
                    "patient_id": B,
                    "doc_type": "11502-2",
                    "encounter_id": None,
                    "kept_pages": [6],
                },
                {
                    "index": 2,
                    "patient_id": A,
                    "doc_type": "59284-0",
                    "encounter_id": "enc-1",
                    "kept_pages": [7],
                },
            ],  # fmt: skip
            "pages": [
                _page(1, 0, cover=True),
                _page(2, 0, A, "34117-2"),
                _page(3, 0, A, "34117-2"),
                _page(4, 0, blank=True),
                _page(5, None, separator=True),
                _page(6, 1, B, "11502-2"),
                _page(7, 2, A, "59284-0"),
            ],  # fmt: skip
        }
    }


def test_a_perfect_result_scores_everything_right():
    results = [
        ResultDoc("batch.pdf", (1, 2, 3), A, "34117-2", "enc-1", True, "filed", 4.0),
        ResultDoc("batch.pdf", (4,), None, None, status="removed"),
        ResultDoc("batch.pdf", (6,), B, "11502-2", None, True, "filed", 6.0),
        ResultDoc("batch.pdf", (7,), A, "59284-0", "enc-1", True, "filed", 5.0),
    ]
    s = score(_truth(), results)
    assert (s.content_pages, s.auto_pages, s.auto_right) == (4, 4, 4)
    assert s.right_patient_rate == 1.0 and s.wrong_docs == 0
    assert s.auto_file_rate == 1.0 and s.type_accuracy == 1.0
    assert s.split_accuracy == 1.0 and s.boundary_recall == 1.0
    assert s.boundary_precision == 1.0
    assert s.encounter_scored == 2 and s.encounter_right == 2
    assert s.lost_pages == 0 and sorted(s.latencies) == [4.0, 5.0, 6.0]


def test_a_merged_document_filed_to_one_patient_is_a_wrong_patient_auto_file():
    results = [  # the lab page of B stuck to A's consent and auto-filed to A
        ResultDoc("batch.pdf", (2, 3), A, "34117-2", "enc-1", True, "filed", 3.0),
        ResultDoc("batch.pdf", (6, 7), A, "59284-0", None, True, "filed", 3.0),
    ]
    s = score(_truth(), results)
    assert s.wrong_docs == 1 and s.wrong_pages == 1
    assert s.auto_pages == 4 and s.auto_right == 3
    assert s.right_patient_rate == 0.75
    # the merged document is scored as its majority true document (a tie: the first)
    assert s.split_exact == 1 and s.true_documents == 3
    assert s.boundaries_found == 2 and s.boundaries_right == 2
    assert s.boundary_recall == 2 / 3


def test_queued_documents_lower_the_auto_file_rate_and_types_fill_the_matrix():
    results = [
        ResultDoc("batch.pdf", (1, 2, 3), A, "11506-3", None, False, "queued"),
        ResultDoc("batch.pdf", (6,), None, None, None, False, "queued"),
        ResultDoc("batch.pdf", (7,), A, "59284-0", "enc-1", True, "filed", 2.0),
    ]
    s = score(_truth(), results)
    assert s.auto_file_rate == 0.25 and s.auto_docs == 1 and s.documents == 3
    assert s.type_right == 1 and s.typed == 3
    assert s.confusion[("34117-2", "11506-3")] == 1
    assert s.confusion[("11502-2", "none")] == 1
    table = "\n".join(confusion_table(s, {"34117-2": "History and physical"}))
    assert "History and physical" in table and "none" in table


def test_pages_in_no_document_are_lost_and_removed_content_is_counted():
    results = [
        ResultDoc("batch.pdf", (2, 3), A, "34117-2", "enc-1", True, "filed", 1.0),
        ResultDoc("batch.pdf", (6,), B, "11502-2", None, False, "removed"),
    ]
    s = score(_truth(), results)
    assert s.lost_pages == 2  # page 6 only in a removed document, page 7 in none
    assert s.removed_content == 1
