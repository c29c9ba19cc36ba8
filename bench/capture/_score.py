"""Scoring capture against the ground truth of generated batches (pure: no database).

A result is what the pipeline made of a batch: documents, each a list of page numbers
of the original file with the patient, type and visit it was filed to (or proposed),
whether it filed itself, and how long from receipt to filing. The figures are the
issue's: pages routed to the right patient among those auto-filed, wrong-patient
auto-files, auto-file rate, document-type accuracy with its confusion matrix, split
accuracy (document boundaries), pages lost, scan-to-file latency.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ResultDoc:
    file: str  # the batch file's name (its truth's "file")
    pages: tuple[int, ...]  # 1-based page numbers in the batch file
    patient_id: str | None
    doc_type: str | None
    encounter_id: str | None = None
    auto_filed: bool = False
    status: str = "queued"  # pending, queued, filed, removed
    latency_s: float | None = None  # receipt to filing, when filed


@dataclass
class Score:
    content_pages: int = 0  # pages that belong in a chart (truth)
    auto_pages: int = 0  # content pages in auto-filed documents
    auto_right: int = 0  # ... whose patient is the true one
    wrong_docs: int = 0  # auto-filed documents holding another patient's page
    wrong_pages: int = 0
    auto_docs: int = 0
    documents: int = 0  # result documents holding a content page
    true_documents: int = 0
    split_exact: int = 0  # true documents cut exactly (same content pages)
    boundaries_true: int = 0
    boundaries_found: int = 0
    boundaries_right: int = 0
    typed: int = 0  # result documents scored for type
    type_right: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    encounter_scored: int = 0
    encounter_right: int = 0
    lost_pages: int = 0  # content pages in no document (or only in removed ones)
    removed_content: int = 0
    latencies: list[float] = field(default_factory=list)

    @property
    def right_patient_rate(self) -> float:
        return self.auto_right / self.auto_pages if self.auto_pages else 0.0

    @property
    def auto_file_rate(self) -> float:
        return self.auto_pages / self.content_pages if self.content_pages else 0.0

    @property
    def type_accuracy(self) -> float:
        return self.type_right / self.typed if self.typed else 0.0

    @property
    def split_accuracy(self) -> float:
        return self.split_exact / self.true_documents if self.true_documents else 0.0

    @property
    def boundary_precision(self) -> float:
        return (
            self.boundaries_right / self.boundaries_found
            if self.boundaries_found
            else 0.0
        )

    @property
    def boundary_recall(self) -> float:
        return (
            self.boundaries_right / self.boundaries_true
            if self.boundaries_true
            else 0.0
        )


def score(truths: dict[str, dict[str, Any]], results: list[ResultDoc]) -> Score:
    """Compare every result document with the ground truth of its batch."""
    s = Score()
    by_file: dict[str, list[ResultDoc]] = {}
    for r in results:
        by_file.setdefault(r.file, []).append(r)
    for name, truth in truths.items():
        _score_batch(s, truth, by_file.get(name, []))
    return s


def _score_batch(s: Score, truth: dict[str, Any], docs: list[ResultDoc]) -> None:
    pages = {p["page"]: p for p in truth["pages"]}
    content = {n for n, p in pages.items() if p["patient_id"] is not None}
    s.content_pages += len(content)
    placed: set[int] = set()
    found_sets: list[frozenset[int]] = []
    for doc in docs:
        mine = [n for n in doc.pages if n in content]
        if doc.status == "removed":
            s.removed_content += len(mine)
            continue
        placed.update(mine)
        if not mine:
            continue
        s.documents += 1
        found_sets.append(frozenset(mine))
        # the true document most of its pages come from
        true_doc = Counter(pages[n]["document"] for n in mine).most_common(1)[0][0]
        t = truth["documents"][true_doc]
        s.typed += 1
        s.type_right += doc.doc_type == t["doc_type"]
        s.confusion[(t["doc_type"], doc.doc_type or "none")] += 1
        if doc.status == "filed" and t["encounter_id"] is not None:
            s.encounter_scored += 1
            s.encounter_right += doc.encounter_id == t["encounter_id"]
        if doc.auto_filed:
            s.auto_docs += 1
            s.auto_pages += len(mine)
            right = sum(1 for n in mine if pages[n]["patient_id"] == doc.patient_id)
            s.auto_right += right
            if right < len(mine):
                s.wrong_docs += 1
                s.wrong_pages += len(mine) - right
        if doc.latency_s is not None and doc.status == "filed":
            s.latencies.append(doc.latency_s)
    s.lost_pages += len(content - placed)
    true_sets = [
        frozenset(d["kept_pages"]) for d in truth["documents"] if d["kept_pages"]
    ]
    s.true_documents += len(true_sets)
    s.split_exact += len(set(true_sets) & set(found_sets))
    true_starts = {min(t) for t in true_sets}
    found_starts = {min(f) for f in found_sets}
    s.boundaries_true += len(true_starts)
    s.boundaries_found += len(found_starts)
    s.boundaries_right += len(true_starts & found_starts)


def confusion_table(s: Score, names: dict[str, str] | None = None) -> list[str]:
    """The confusion matrix as text lines: rows the true type, columns the type
    given (codes; `none` when the pipeline gave none)."""
    names = names or {}
    true_codes = sorted({t for t, _ in s.confusion})
    given = sorted({g for _, g in s.confusion}, key=lambda c: (c == "none", c))
    width = max([len(c) for c in given] + [7])
    head = "true \\ given"
    lines = [f"  {head:<14}" + "".join(f"{c:>{width + 1}}" for c in given)]
    for t in true_codes:
        row = "".join(
            f"{s.confusion.get((t, g), 0) or '.':>{width + 1}}" for g in given
        )
        lines.append(f"  {t:<14}{row}  {names.get(t, '')}")
    return lines
