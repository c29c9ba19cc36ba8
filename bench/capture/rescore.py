"""Capture accuracy again on pages already read (issue 13): the batches that
accuracy.py received and OCRed in `--data-dir` are split, read, matched, classified
and decided again by the current code, without OCR and without filing, and scored
against their ground truth with the same figures (a document "auto-filed" is one the
decision lets file itself).

    .venv/bin/python bench/capture/rescore.py --data-dir /tmp/rr-capacc

OCR is the slow part of accuracy.py (minutes a batch on a busy machine); this measures
what the reading code makes of the same OCR output in seconds. The type model is
trained afresh on the filed documents that are not captured ones (the demo's charts),
so that nothing the first run filed teaches it. The data folder's capture documents
are replaced (run it on a copy when the first run's filings matter).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402
import _scans  # noqa: E402
from _score import ResultDoc, confusion_table, score  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None, help="default: <data dir>/scans")
    args = p.parse_args()
    _common.setup_django(args.data_dir)
    from django.utils import timezone

    from recordroom.capture.models import CaptureBatch, CaptureDocument, TypeModel
    from recordroom.capture.reading.classify import PER_TYPE_PDFS, _pdf_samples, train
    from recordroom.capture.steps.decide import AUTO, propose_documents
    from recordroom.capture.steps.split import split_batch

    out = args.out or args.data_dir / "scans"
    truths = _scans.truths(out) if out.exists() else {}
    samples = _pdf_samples(PER_TYPE_PDFS)
    TypeModel.objects.create(trained_at=timezone.now(), documents=len(samples),
                             weights=train(samples) if samples else {"classes": []})  # fmt: skip
    results, scored, reasons = [], {}, Counter()
    for name, truth in sorted(truths.items()):
        stem = name.rsplit(".", 1)[0]
        batch = (CaptureBatch.objects.filter(filename__in=[name, f"{stem}.pdf"],
                                             status__in=["indexing", "done"])
                 .order_by("received_at").first())  # fmt: skip
        if batch is None:
            continue
        CaptureDocument.objects.filter(batch=batch).update(filed=None)
        CaptureDocument.objects.filter(batch=batch).delete()
        split_batch(batch)
        propose_documents(batch)
        scored[name] = truth
        for doc in CaptureDocument.objects.filter(batch=batch).select_related("doc_type"):
            auto = doc.evidence.get("decision") == AUTO
            reasons.update(_general(r) for r in doc.queue_reasons)
            results.append(ResultDoc(
                file=name, pages=tuple(int(x["page"]) for x in doc.pages),
                patient_id=str(doc.patient_id) if doc.patient_id else None,
                doc_type=doc.doc_type.code if doc.doc_type else None,
                auto_filed=auto, status="queued",
            ))  # fmt: skip
    s = score(scored, results)
    print(f"rescored {len(scored)} batches ({s.content_pages:,} pages that belong in a "
          f"chart, {s.true_documents} true documents); type model on {len(samples)} "
          "filed documents")  # fmt: skip
    print(f"  right patient among auto-filed pages: {s.auto_right}/{s.auto_pages}; "
          f"wrong-patient auto-files: {s.wrong_docs}")  # fmt: skip
    print(f"  auto-file rate: {s.auto_file_rate:.2%} of pages ({s.auto_pages}/"
          f"{s.content_pages}), documents {s.auto_docs}/{s.documents}")  # fmt: skip
    print(f"  document-type accuracy: {s.type_accuracy:.2%} ({s.type_right}/{s.typed})")
    print(f"  split: {s.split_exact}/{s.true_documents} true documents cut exactly; "
          f"boundary precision {s.boundary_precision:.3f}, recall "
          f"{s.boundary_recall:.3f}")  # fmt: skip
    print("  why documents waited (documents):")
    for reason, n in reasons.most_common(10):
        print(f"    {n:>4}  {reason}")
    print("  confusion matrix (rows: true type; columns: type given):")
    for line in confusion_table(s):
        print(line)
    _common.footer()
    return 0


def _general(reason: str) -> str:
    """A queue reason without its numbers and codes (to count alike ones together)."""
    import re

    return re.sub(r"\d[\d.,\[\] ]*", "N ", reason).strip()


if __name__ == "__main__":
    sys.exit(main())
