"""The generated scanned batches as a scanner with its own OCR would send them: each
file a PDF of the same page images with an invisible text layer of the words printed
on the page (the generator's text at the printed places), so that the capture
pipeline does not run Tesseract on it (a PDF whose pages have text is not OCRed
again). A page the generator turned sideways or upside down is turned upright by its
/Rotate, as such a scanner (or OCRmyPDF) does, its text layer laid the same way.
Blank backs and bleed-throughs get no text layer: the pipeline OCRs those pages.

Used by accuracy.py --text-layer to measure reading, splitting, matching and
classification on many pages when OCR would take hours; the figures then say
nothing of OCR quality except on the pages left to it.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pikepdf

_TEXT_OPS = {"BT", "ET", "Tf", "Td", "TD", "Tm", "T*", "Tj", "TJ", "'", '"', "Tc",
             "Tw", "Tz", "TL", "Ts", "q", "Q", "cm"}  # fmt: skip


def invisible(pdf: bytes) -> pikepdf.Pdf:
    """`pdf` with only its text, drawn invisibly (render mode 3), on every page."""
    doc = pikepdf.open(io.BytesIO(pdf))
    for page in doc.pages:
        ops = []
        for operands, op in pikepdf.parse_content_stream(page):
            name = str(op)
            if name not in _TEXT_OPS:
                continue
            ops.append((operands, op))
            if name == "BT":
                ops.append(([3], pikepdf.Operator("Tr")))
        page.obj.Contents = doc.make_stream(pikepdf.unparse_content_stream(ops))
    return doc


def _text_pages(plan: Any) -> list[bytes | None]:
    """Per page of the planned batch: a one-page PDF of its printed text, or None."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    from recordroom.demo.scan_layout import (
        cover_pdf,
        document_pdf,
        received_stamp,
        separator_pdf,
    )

    docs: dict[int, pikepdf.Pdf] = {}
    out: list[bytes | None] = []
    total = len(plan.pages)
    for n, p in enumerate(plan.pages, 1):
        page_pdf: bytes | None = None
        if p.kind == "separator":
            page_pdf = separator_pdf()
        elif p.kind == "cover":
            doc = plan.docs[p.doc or 0]
            patient, mrn, birth, title, account, facility = doc.cover_lines
            page_pdf = cover_pdf(patient=patient, mrn=mrn, birth=birth,
                                 doc_title=title, visit=account,
                                 pages=doc.printed.pages, facility=facility)  # fmt: skip
        elif p.kind == "content":
            if p.doc not in docs:
                docs.clear()
                docs[p.doc] = pikepdf.open(io.BytesIO(
                    document_pdf(plan.docs[p.doc].printed)))  # fmt: skip
            one = pikepdf.new()
            one.pages.append(docs[p.doc].pages[p.index])
            buf = io.BytesIO()
            one.save(buf)
            page_pdf = buf.getvalue()
        elif p.kind == "back" and p.back in ("note", "stamp"):
            buf = io.BytesIO()
            c = canvas.Canvas(buf, pagesize=letter, invariant=1)
            c.setFont("Helvetica", 12)
            lines = [p.note] if p.back == "note" else received_stamp(plan.received)
            for k, line in enumerate(lines):
                c.drawString(150, 500 - 16 * k, line)
            c.showPage()
            c.save()
            page_pdf = buf.getvalue()
        if page_pdf is not None and plan.profile.fax and p.kind != "back":
            page_pdf = _with_fax_header(page_pdf, plan, n, total)
        out.append(page_pdf)
    return out


def _with_fax_header(page_pdf: bytes, plan: Any, n: int, total: int) -> bytes:
    """The fax machine's transmission line at the top (drawn on the image too)."""
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    when = plan.received
    text = (f"{when:%b %d %Y}".upper() + f" {9 + n % 8:02d}:{(n * 7) % 60:02d}   FROM: "
            f"{plan.fax_from}   TO: 847-555-0100   P. {n}/{total}")  # fmt: skip
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    c.setFont("Helvetica", 8)
    c.drawString(21.6, 792 - 4.3 - 8, text)
    c.showPage()
    c.save()
    base = pikepdf.open(io.BytesIO(page_pdf))
    head = pikepdf.open(io.BytesIO(buf.getvalue()))
    base.pages[0].add_overlay(head.pages[0])
    out = io.BytesIO()
    base.save(out)
    return out.getvalue()


def _image_pdf(path: Path) -> bytes:
    if path.suffix == ".pdf":
        return path.read_bytes()
    from recordroom.capture.ocr import image_to_pdf

    return image_to_pdf(path.read_bytes())


def with_text_layer(plan: Any, src: Path, dest: Path) -> None:
    """Write `src` (the batch's images) as `dest`, a PDF with the text layer."""
    pdf = pikepdf.open(io.BytesIO(_image_pdf(src)))
    texts = _text_pages(plan)
    if len(texts) != len(pdf.pages):
        raise RuntimeError(f"{src.name}: {len(pdf.pages)} pages, {len(texts)} planned")
    for page, text, p in zip(pdf.pages, texts, plan.pages, strict=True):
        if text is None:
            continue
        layer = invisible(text)
        _overlay(pdf, page, layer.pages[0], p.turn)
        if p.turn:
            page.obj.Rotate = p.turn  # shown upright: the image is turned that much
    pdf.save(dest)


def _overlay(pdf: pikepdf.Pdf, page: Any, layer: Any, turn: int) -> None:
    """Draw `layer` (an upright letter page) over `page`, whose image is turned
    `turn` degrees counter-clockwise, so that each word lies on its printed place."""
    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    w2, h2 = x1 - x0, y1 - y0
    w, h = (float(v) for v in layer.mediabox[2:])
    if turn in (90, 270):
        s1, s2 = w2 / h, h2 / w
        m = (0, s2, -s1, 0, w2, 0) if turn == 90 else (0, -s2, s1, 0, 0, h2)
    elif turn == 180:
        m = (-w2 / w, 0, 0, -h2 / h, w2, h2)
    else:
        m = (w2 / w, 0, 0, h2 / h, 0, 0)
    form = pdf.copy_foreign(layer.as_form_xobject())
    name = page.add_resource(form, pikepdf.Name.XObject, prefix="Tx")
    cm = " ".join(f"{v:.4f}" for v in m)
    page.contents_add(pdf.make_stream(f"q {cm} cm {name} Do Q".encode()), prepend=False)


def text_layer_set(out: Path, dest: Path, *, pages: int, seed: int,
                   population: Any) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The generated set in `out` rewritten into `dest` with text layers (reused when
    there); the truths, by the new file names."""
    from recordroom.demo.scans import plan_batches

    dest.mkdir(parents=True, exist_ok=True)
    plans = plan_batches(population(), seed=seed, pages=pages)
    found: dict[str, dict[str, Any]] = {}
    for k, plan in enumerate(plans, 1):
        truth = json.loads((out / f"{plan.name}.truth.json").read_text())
        name = f"{plan.name}.pdf"
        target = dest / name
        if not target.exists():
            with_text_layer(plan, out / plan.filename, target)
        truth["file"] = name
        found[name] = truth
        if k % 20 == 0:
            print(f"  text layers: {k} / {len(plans)} batches", file=sys.stderr)
    return found
