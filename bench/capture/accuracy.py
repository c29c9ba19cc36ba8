"""Capture accuracy benchmark (issue 13): generated scanned batches with ground truth
through intake and the pipeline, every captured document compared with the truth.

    .venv/bin/python bench/capture/accuracy.py --data-dir /tmp/rr-cap --pages 2000

Loads the demo population into `--data-dir` (once), generates at least `--pages`
pages of mixed batches from it (bench/capture/generate.py's set, reused when the
same), then receives every file (`capture.intake.receive_file`) and runs the
pipeline on it in this process (`capture.pipeline.run_batch`). Prints: pages routed
to the right patient among those auto-filed (target >= 99%), wrong-patient
auto-files (target 0), auto-file rate (target >= 80%), document-type accuracy
(target >= 95%) with the confusion matrix, split accuracy, visit accuracy, pages
lost, pipeline throughput and scan-to-file latency; then the rerun command.
A batch already received in the data folder is not received again (a rerun scores
what is there, resuming unfinished batches).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402
import _scans  # noqa: E402
from _score import ResultDoc, Score, confusion_table, score  # noqa: E402

TARGETS = {"right": 0.99, "wrong": 0, "auto": 0.80, "type": 0.95}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None, help="default: <data dir>/scans")
    p.add_argument("--pages", type=int, default=2000)
    p.add_argument("--patients", type=int, default=300)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--processes", type=int, default=2, help="generation workers")
    p.add_argument(
        "--text-layer", action="store_true",
        help="send each batch as a PDF with the generator's text as an invisible text "
        "layer (a scanner's own OCR): Tesseract reads only the pages without one "
        "(turned pages, blank backs); for many pages when OCR would take hours",
    )  # fmt: skip
    _common.add_target_flag(p)
    args = p.parse_args()
    out = args.out or args.data_dir / "scans"
    if args.text_layer:
        # what a site whose scanners send straight pages with their own OCR sets:
        # only blank backs are left to Tesseract, and they need none of these
        # (orientation detection stays: OCRmyPDF refuses its threshold without it)
        for name in ("PDFA", "DESKEW", "CLEAN"):
            os.environ.setdefault(f"RECORDROOM_CAPTURE_{name}", "0")
    _scans.ensure_demo(args.data_dir, patients=args.patients, seed=args.seed)
    from recordroom.demo.scans import original_records, population_from_db

    manifest = _scans.generated(
        out, pages=args.pages, seed=args.seed, processes=args.processes,
        population=lambda: population_from_db(
            limit=None, only=original_records(args.data_dir)
        ),
    )  # fmt: skip
    truths = _scans.truths(out)
    if args.text_layer:
        from _textlayer import text_layer_set

        truths = text_layer_set(
            out, out.with_name(out.name + "-text"), pages=args.pages, seed=args.seed,
            population=lambda: population_from_db(
                limit=None, only=original_records(args.data_dir)),
        )  # fmt: skip
        out = out.with_name(out.name + "-text")
    print(f"ground truth: {manifest['pages']:,} pages generated in "
          f"{len(truths)} batches, {manifest['documents']:,} documents")  # fmt: skip
    try:
        from recordroom.capture.intake import receive_file, source_named  # noqa: F401
        from recordroom.capture.pipeline import run_batch  # noqa: F401
    except ImportError as exc:
        print(
            f"NOT MEASURED: the capture pipeline is not in this tree ({exc}); "
            "these figures need capture.intake.receive_file and "
            "capture.pipeline.run_batch"
        )
        _common.footer()
        return 0 if args.report_only else 1
    _trained()
    results, seconds = _run(out, truths)
    s = score(truths, results)
    missed = _report(s, manifest, seconds)
    _common.footer()
    return 1 if missed and not args.report_only else 0


def _trained() -> None:
    """The type model a running system would have: trained on the documents already
    filed (the demo's charts), as the worker's nightly retraining does."""
    from recordroom.capture.models import TypeModel
    from recordroom.capture.reading.classify import retrain

    if TypeModel.objects.exists():
        return
    model = retrain()
    print(f"type model trained on {model.documents} filed documents "
          f"({len(model.weights.get('samples', {}))} types)")  # fmt: skip


def _run(out: Path, truths: dict[str, dict[str, Any]]) -> tuple[list[ResultDoc], float]:
    """Receive and process every batch; the captured documents as results."""
    from recordroom.capture.intake import receive_file, source_named
    from recordroom.capture.models import CaptureBatch, CaptureDocument
    from recordroom.capture.pipeline import run_batch
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.models import Facility

    actor = Actor(channel="bench")
    facility = Facility.objects.filter(code="NORTH").first()
    sources = {
        "fax": source_named("bench-fax", kind="fax", facility=facility),
        "scanner": source_named("bench-scanner", kind="scanner", facility=facility),
    }
    batches = {}
    started = time.perf_counter()
    for n, (name, truth) in enumerate(sorted(truths.items()), 1):
        batch = (
            CaptureBatch.objects.filter(filename=name)
            .exclude(status="duplicate")
            .order_by("received_at")
            .first()
        )
        if batch is None:
            batch = receive_file(
                actor=actor, data=(out / name).read_bytes(), filename=name,
                source=sources["fax" if truth["profile"].startswith("fax") else "scanner"],
                facility=facility,
            )  # fmt: skip
        if batch.status not in ("done", "indexing", "refused", "duplicate"):
            batch = run_batch(batch.pk)
        batches[name] = batch
        if n % 10 == 0:
            print(f"  {n} / {len(truths)} batches", file=sys.stderr)
    seconds = time.perf_counter() - started
    results = []
    docs = CaptureDocument.objects.filter(batch__in=list(batches.values()))
    for doc in docs.select_related("batch", "doc_type"):
        latency = (
            (doc.decided_at - doc.batch.received_at).total_seconds()
            if doc.decided_at and doc.status == "filed"
            else None
        )
        results.append(ResultDoc(
            file=doc.batch.filename, pages=tuple(int(p["page"]) for p in doc.pages),
            patient_id=str(doc.patient_id) if doc.patient_id else None,
            doc_type=doc.doc_type.code if doc.doc_type else None,
            encounter_id=str(doc.encounter_id) if doc.encounter_id else None,
            auto_filed=doc.auto_filed, status=doc.status, latency_s=latency,
        ))  # fmt: skip
    return results, seconds


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.2f}% ({num:,}/{den:,})" if den else "- (0)"


def _report(s: Score, manifest: dict[str, Any], seconds: float) -> bool:
    """Print the figures; whether a target was missed."""
    from recordroom.records.models import DocumentType

    names = dict(DocumentType.objects.values_list("code", "display"))
    verdict = {
        "right": s.auto_pages and s.right_patient_rate >= TARGETS["right"],
        "wrong": s.wrong_docs == 0,
        "auto": s.auto_file_rate >= TARGETS["auto"],
        "type": s.type_accuracy >= TARGETS["type"],
    }

    def ok(key: str) -> str:
        return "ok" if verdict[key] else "MISSED"

    pages = manifest["pages"]
    print(f"\ncapture accuracy: {pages:,} pages, {s.content_pages:,} belonging in a "
          f"chart, {s.true_documents:,} true documents")  # fmt: skip
    print(f"  pipeline: {seconds:,.1f} s for {pages:,} pages "
          f"({pages / max(seconds, 1e-9):.2f} pages/s, one process)")  # fmt: skip
    print(f"  right patient among auto-filed pages: "
          f"{_pct(s.auto_right, s.auto_pages)}   target >= 99%  {ok('right')}")  # fmt: skip
    print(f"  wrong-patient auto-files: {s.wrong_docs} documents ({s.wrong_pages} "
          f"pages)   target 0  {ok('wrong')}")  # fmt: skip
    print(f"  auto-file rate: {_pct(s.auto_pages, s.content_pages)} of pages, "
          f"{_pct(s.auto_docs, s.documents)} of documents   target >= 80%  {ok('auto')}")  # fmt: skip
    print(f"  document-type accuracy: {_pct(s.type_right, s.typed)}   target >= 95%  "
          f"{ok('type')}")  # fmt: skip
    print(f"  split: {_pct(s.split_exact, s.true_documents)} of true documents cut "
          f"exactly; boundaries precision {s.boundary_precision:.3f}, recall "
          f"{s.boundary_recall:.3f}")  # fmt: skip
    print(f"  visit of filed documents: {_pct(s.encounter_right, s.encounter_scored)}")
    print(f"  pages lost: {s.lost_pages} (content pages removed by the pipeline: "
          f"{s.removed_content})")  # fmt: skip
    if s.latencies:
        st = _common.percentiles([v * 1000 for v in s.latencies])
        print(f"  scan-to-file latency: p50 {st['p50'] / 1000:.1f} s, p95 "
              f"{st['p95'] / 1000:.1f} s, max {st['max'] / 1000:.1f} s "
              f"({st['n']} filed documents)")  # fmt: skip
    print("  confusion matrix (rows: true type; columns: type given):")
    for line in confusion_table(s, names):
        print(line)
    return not all(verdict.values())


if __name__ == "__main__":
    sys.exit(main())
