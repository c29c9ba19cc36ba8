"""What the OCR step's own orientation and deskew cost in quality (issue 13): on
generated scanned batches with ground truth, the pages turned right and the words
read right, by the normalise step as it is (capture.ocr.searchable: orientation and
skew from the page image, Tesseract asked only when that cannot tell) and by
OCRmyPDF's own passes (rotate_pages, deskew: a Tesseract orientation pass and a
layout pass per page) on the same files, one process each, side by side.

    .venv/bin/python bench/capture/ocr_quality.py --work /tmp/rr-cap-q --pages 400

Turned right: the output page's /Rotate is the turn the generator gave the page
(pages with text only). Words read right: of the words the generator printed on a
content page (its born-digital PDF's text), the share found in the output page's
text layer (a multiset: each printed word counts once per time it is found).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import multiprocessing
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common  # noqa: E402

_WORD = re.compile(r"[A-Za-z0-9]{2,}")


def _words(text: str) -> collections.Counter[str]:
    return collections.Counter(_WORD.findall(text))


def printed_words(seed: int, pages: int, people: int) -> dict[str, list[Any]]:
    """Per batch file, per page: the Counter of words printed on it (None for a
    cover, separator or back side)."""
    import pypdfium2 as pdfium

    from recordroom.demo.scan_layout import document_pdf
    from recordroom.demo.scans import plan_batches, population_from_plans

    plans = plan_batches(population_from_plans(people=people, seed=seed), seed=seed,
                         pages=pages)  # fmt: skip
    found: dict[str, list[Any]] = {}
    for plan in plans:
        texts: dict[int, list[collections.Counter[str]]] = {}
        rows: list[Any] = []
        for p in plan.pages:
            if p.kind != "content" or p.doc is None:
                rows.append(None)
                continue
            if p.doc not in texts:
                doc = pdfium.PdfDocument(document_pdf(plan.docs[p.doc].printed))
                texts[p.doc] = [
                    _words(doc[i].get_textpage().get_text_range())
                    for i in range(len(doc))
                ]
                doc.close()
            rows.append(texts[p.doc][p.index])
        found[plan.filename] = rows
    return found


def _run(args: tuple[str, str, str]) -> tuple[str, str, float]:
    """OCR one batch file by `engine` ('ours' or 'ocrmypdf'); (file, out, seconds)."""
    src, out, engine = args
    import os

    os.environ["OMP_THREAD_LIMIT"] = "1"
    _common.setup_django(Path(out).parent / "django", migrate=False)
    from django.conf import settings

    from recordroom.capture import ocr

    data = Path(src).read_bytes()
    pdf = data if src.endswith(".pdf") else ocr.image_to_pdf(data)
    started = time.perf_counter()
    if engine == "ours":
        made = ocr.searchable(pdf, jobs=1).pdf
    else:
        import ocrmypdf

        buf = io.BytesIO()
        ocrmypdf.ocr(
            io.BytesIO(pdf), buf, language=["eng"],
            output_type="auto" if settings.CAPTURE_PDFA else "pdf",
            pdfa_backend="internal", jobs=1, skip_text=True, deskew=True,
            rotate_pages=True, rotate_pages_threshold=ocr.ROTATE_CONFIDENCE,
            progress_bar=False, optimize=0,
        )  # fmt: skip
        made = buf.getvalue()
    seconds = time.perf_counter() - started
    Path(out).write_bytes(made)
    return src, out, seconds


def score(out: Path, truth: dict[str, Any], printed: list[Any]) -> dict[str, float]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(out)
    s = collections.Counter[str]()
    for i, page_truth in enumerate(truth["pages"]):
        page = doc[i]
        text = page.get_textpage().get_text_range()
        if _WORD.search(text) and not page_truth["blank"]:
            s["text pages"] += 1
            s["turned right"] += (page.get_rotation() % 360) == page_truth["rotation"]
            if page_truth["rotation"]:
                s["turned pages"] += 1
                s["turned pages right"] += page.get_rotation() == page_truth["rotation"]
        want = printed[i] if i < len(printed) else None
        if want:
            got = _words(text)
            s["printed words"] += sum(want.values())
            s["words found"] += sum((want & got).values())
            if page_truth["rotation"]:
                s["printed words, turned pages"] += sum(want.values())
                s["words found, turned pages"] += sum((want & got).values())
    doc.close()
    return dict(s)


def pick(files: list[Path], folder: Path, printed: dict[str, list[Any]],
         args: Any) -> dict[Path, tuple[dict[str, Any], list[Any]]]:  # fmt: skip
    """The files to OCR, each with its truth and printed words: every batch as it is
    ("all"), or ("hard") a PDF of each batch's turned pages and content pages skewed
    1.5 degrees or more (what orientation and deskew are for), at most
    `args.max_pages` in all."""
    import pikepdf

    from recordroom.capture import ocr

    found: dict[Path, tuple[dict[str, Any], list[Any]]] = {}
    left = args.max_pages
    for f in files:
        truth = json.loads((folder / f"{f.stem}.truth.json").read_text())
        if args.select == "all":
            found[f] = (truth, printed[f.name])
            continue
        keep = [i for i, p in enumerate(truth["pages"])
                if p["rotation"] or (abs(p["skew"] or 0) >= 1.5 and printed[f.name][i])
                ][:left]  # fmt: skip
        if not keep:
            continue
        left -= len(keep)
        data = f.read_bytes()
        pdf = data if f.suffix == ".pdf" else ocr.image_to_pdf(data)
        out = args.work / f"{f.stem}.hard.pdf"
        with pikepdf.open(io.BytesIO(pdf)) as src, pikepdf.new() as dst:
            for i in keep:
                dst.pages.append(src.pages[i])
            dst.save(out)
        sub = {**truth, "pages": [truth["pages"][i] for i in keep]}
        found[out] = (sub, [printed[f.name][i] for i in keep])
        if left <= 0:
            break
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--pages", type=int, default=120)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--people", type=int, default=200)
    p.add_argument("--engines", default="ours,ocrmypdf")
    p.add_argument("--select", choices=["all", "hard"], default="hard")
    p.add_argument("--max-pages", type=int, default=24)
    _common.add_target_flag(p)
    args = p.parse_args()
    _common.setup_django(args.work / "django")
    from recordroom.demo.scans import generate, population_from_plans

    folder = args.work / f"set-{args.seed}-{args.pages}"
    if not (folder / "manifest.json").exists():
        generate(population_from_plans(people=args.people, seed=args.seed), folder,
                 seed=args.seed, pages=args.pages, processes=2)  # fmt: skip
    printed = printed_words(args.seed, args.pages, args.people)
    files = sorted(f for f in folder.iterdir() if f.name in printed)
    picked = pick(files, folder, printed, args)
    engines = args.engines.split(",")
    jobs = [(str(src), str(args.work / f"{src.stem}.{e}.pdf"), e)
            for src in picked for e in engines]  # fmt: skip
    totals = {e: collections.Counter[str]() for e in engines}
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        for src, out, seconds in pool.imap_unordered(_run, jobs):
            engine = out.rsplit(".", 2)[-2]
            truth, words = picked[Path(src)]
            totals[engine].update(score(Path(out), truth, words))
            totals[engine]["seconds"] += seconds
            totals[engine]["pages"] += len(truth["pages"])
    pages = sum(len(t["pages"]) for t, _ in picked.values())
    print(f"\nOCR quality on {pages} generated pages ({args.select}, from "
          f"{len(files)} batches, seed {args.seed})")  # fmt: skip
    for engine, t in totals.items():
        label = {"ours": "capture.ocr.searchable (orient + sandwich)",
                 "ocrmypdf": "OCRmyPDF rotate_pages + deskew"}[engine]  # fmt: skip

        def pct(a: str, b: str, t: Any = t) -> str:
            return (
                f"{100 * t[a] / t[b]:.1f}% ({t[a]:,.0f}/{t[b]:,.0f})" if t[b] else "-"
            )

        turned = (f"turned right {pct('turned right', 'text pages')}, turned pages "
                  f"right {pct('turned pages right', 'turned pages')}, "
                  if engine == "ours" else  # OCRmyPDF turns the image, not /Rotate
                  "turned: (its pages' images are redrawn upright, see words), ")  # fmt: skip
        print(f"  {label}: {turned}"
              f"words found {pct('words found', 'printed words')}, on turned pages "
              f"{pct('words found, turned pages', 'printed words, turned pages')}; "
              f"{t['seconds']:.0f} s for {t['pages']:,.0f} pages")  # fmt: skip
    _common.footer()
    return 0


if __name__ == "__main__":
    sys.exit(main())
