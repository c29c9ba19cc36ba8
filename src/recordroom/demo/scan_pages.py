"""Rendering one planned batch: each document printed (scan_layout), rasterised and
scanned (scan_image) page by page as its plan says, written as one file beside its
ground truth. Runs in a worker process; needs no database."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from . import scan_image as im
from .scan_layout import cover_pdf, document_pdf, received_stamp, separator_pdf
from .scan_plan import TRUTH_SUFFIX, BatchPlan, PagePlan


@cache
def _separator(dpi: int) -> Image.Image:
    page = im.rasterise(separator_pdf(), dpi)[0]
    code = im.barcode("RRSEP", "code128", max(3, dpi // 60))
    im.paste_barcode(
        page, code, right=(page.width - code.width) // 2, top=int(dpi * 3.6)
    )
    return page


def _cover(plan: BatchPlan, doc_index: int, dpi: int) -> Image.Image:
    doc = plan.docs[doc_index]
    patient, mrn, birth, title, account, facility = doc.cover_lines
    page = im.rasterise(cover_pdf(
        patient=patient, mrn=mrn, birth=birth, doc_title=title, visit=account,
        pages=doc.printed.pages, facility=facility,
    ), dpi)[0]  # fmt: skip
    # a module of about 1/50 inch (1/35 on a fax, which halves the lines)
    module = max(3, dpi // (35 if plan.profile.fax else 50))
    code = im.barcode(doc.cover_text, doc.cover, module)
    im.paste_barcode(page, code, right=int(dpi * 0.7), top=int(dpi * 0.6))
    return page


def _fax_header(
    page: Image.Image, plan: BatchPlan, n: int, total: int, dpi: int
) -> None:
    when = plan.received
    text = (f"{when:%b %d %Y}".upper() + f" {9 + n % 8:02d}:{(n * 7) % 60:02d}   FROM: "
            f"{plan.fax_from}   TO: 847-555-0100   P. {n}/{total}")  # fmt: skip
    ImageDraw.Draw(page).rectangle((0, 0, page.width, int(dpi * 0.22)), fill=255)
    ImageDraw.Draw(page).text((int(dpi * 0.3), int(dpi * 0.06)), text,
                              font=im._font(int(dpi * 0.11)), fill=0)  # fmt: skip


def _pages(plan: BatchPlan) -> Iterator[tuple[Image.Image, list[str]]]:
    profile = plan.profile
    dpi = profile.dpi[0]
    vertical = profile.dpi[1] / profile.dpi[0]
    printed: dict[int, list[Image.Image]] = {}
    total = len(plan.pages)
    for n, p in enumerate(plan.pages, 1):
        rng = random.Random(f"{plan.key}:page:{n}")
        features: list[str] = []
        page = _page(plan, p, printed, dpi, rng, features)
        if profile.fax and p.kind != "back":
            _fax_header(page, plan, n, total, dpi)
            features.append("fax-header")
        if p.speckle:
            page = im.speckle(page, rng, p.speckle)
            features.append("speckle")
        if p.skew:
            page = im.skew(page, p.skew, smooth=not profile.bilevel)
            features.append("skew")
        if p.turn:
            features.append(f"rotated-{p.turn}")
        yield im.finish(page, bilevel=profile.bilevel, vertical=vertical, turn=p.turn), \
            features  # fmt: skip


def _page(plan: BatchPlan, p: PagePlan, printed: dict[int, list[Image.Image]], dpi: int,
          rng: random.Random, features: list[str]) -> Image.Image:  # fmt: skip
    if p.kind == "separator":
        features.append("separator")
        return _separator(dpi).copy()
    if p.kind == "cover":
        features.append(f"cover-{plan.docs[p.doc or 0].cover}")
        return _cover(plan, p.doc or 0, dpi)
    assert p.doc is not None
    if p.doc not in printed:
        printed.clear()  # one document's pages in memory at a time
        printed[p.doc] = im.rasterise(document_pdf(plan.docs[p.doc].printed), dpi)
    front = printed[p.doc][p.index]
    if p.kind == "back":
        return _back(plan, p, front, dpi, rng, features)
    page = front.copy()
    doc = plan.docs[p.doc]
    if p.stamp:
        im.stamp(page, received_stamp(plan.received), rng, dpi,
                 at=(rng.uniform(5.6, 6.4), rng.uniform(0.25, 0.5)))  # fmt: skip
        features.append("stamp")
    if p.scribble:
        if doc.printed.signature and p.index == doc.printed.pages - 1:
            _signature(page, rng, dpi)
            features.append("signature")
        else:
            im.scribble(page, rng, dpi, box=(rng.uniform(0.4, 5.5), rng.uniform(9.6, 10.2),
                                             rng.uniform(1.0, 2.4), 0.3))  # fmt: skip
        features.append("scribble")
    if p.edge:
        im.edge(page, rng)
        features.append("edge")
    features.append(f"layout-{doc.printed.layout}")
    if doc.identifiers == "name+dob":
        features.append("name-dob-only")
    return page


def _signature(page: Image.Image, rng: random.Random, dpi: int) -> None:
    """A signature scrawled over the signature line, wherever the layout put it."""
    x0, y0 = int(dpi), int(dpi * 1.2)
    region = np.asarray(page.crop((x0, y0, int(dpi * 4.2), page.height - dpi // 3)))
    rows = np.flatnonzero((region < 100).sum(axis=1) > dpi * 2.5)  # the drawn line
    top = (int(rows[-1]) + y0) / dpi - 0.42 if len(rows) else 9.5
    im.scribble(page, rng, dpi, box=(1.1, top, 2.2, 0.4))


def _back(plan: BatchPlan, p: PagePlan, front: Image.Image, dpi: int,
          rng: random.Random, features: list[str]) -> Image.Image:  # fmt: skip
    if p.back == "bleed":
        features.append("bleed-through")
        return im.bleed_through(front, rng)
    page = im.blank(front.width, front.height)
    if p.back == "blank":
        features.append("blank-back")
    elif p.back == "note":
        im.note(
            page, p.note, rng, dpi, at=(rng.uniform(0.8, 3.5), rng.uniform(1.0, 8.0))
        )
        features.append("back-note")
    elif p.back == "stamp":
        im.stamp(page, received_stamp(plan.received), rng, dpi,
                 at=(rng.uniform(1.0, 5.5), rng.uniform(1.0, 8.0)))  # fmt: skip
        features.append("back-stamp")
    return page


# --- ground truth ------------------------------------------------------------------------


def truth(plan: BatchPlan, features: dict[int, list[str]]) -> dict[str, Any]:
    """The batch's ground truth: per document and per page (1-based numbers)."""
    docs: list[dict[str, Any]] = []
    for d in plan.docs:
        docs.append({
            "index": d.index, "patient_id": d.patient_id, "encounter_id": d.encounter_id,
            "doc_type": d.code, "service_date": d.service_date.isoformat(),
            "layout": d.printed.layout, "identifiers": d.identifiers,
            "cover": d.cover or None, "cover_text": d.cover_text or None,
            "printed_pages": d.printed.pages, "pages": [], "kept_pages": [],
        })  # fmt: skip
    pages = []
    for n, p in enumerate(plan.pages, 1):
        blank = p.kind == "back" and p.back in ("blank", "bleed")
        content = p.kind == "content" or (p.kind == "back" and not blank)
        doc = plan.docs[p.doc] if p.doc is not None else None
        if p.doc is not None:
            docs[p.doc]["pages"].append(n)
            if content:
                docs[p.doc]["kept_pages"].append(n)
        pages.append({
            "page": n, "patient_id": doc.patient_id if doc and content else None,
            "document": p.doc, "doc_type": doc.code if doc and content else None,
            "encounter_id": doc.encounter_id if doc and content else None,
            "service_date": doc.service_date.isoformat() if doc and content else None,
            "blank": blank, "cover": p.kind == "cover", "separator": p.kind == "separator",
            "back": p.kind == "back", "rotation": p.turn, "skew": p.skew,
            "features": features.get(n, []),
        })  # fmt: skip
    profile = plan.profile
    return {
        "batch": plan.name, "file": plan.filename, "format": profile.kind,
        "profile": profile.name, "dpi": list(profile.dpi), "bilevel": profile.bilevel,
        "received": plan.received.isoformat(), "fax_from": plan.fax_from or None,
        "page_count": len(plan.pages),
        "patients": sorted({d.patient_id for d in plan.docs}),
        "documents": docs, "pages": pages,
        "rotation_note": "degrees the page image is turned counter-clockwise; turn it as "
        "many degrees clockwise to read it",
    }  # fmt: skip


def render_batch(plan: BatchPlan, out_dir: Path) -> dict[str, Any]:
    """Write the batch's file and its ground truth; return the ground truth."""
    features: dict[int, list[str]] = {}

    def images() -> Iterator[Image.Image]:
        for n, (page, found) in enumerate(_pages(plan), 1):
            features[n] = found
            yield page

    count = im.write(images(), out_dir / plan.filename, kind=plan.profile.kind,
                     dpi=plan.profile.dpi)  # fmt: skip
    if count != len(plan.pages):
        raise RuntimeError(f"{plan.name}: wrote {count} of {len(plan.pages)} pages")
    found = truth(plan, features)
    (out_dir / f"{plan.name}{TRUTH_SUFFIX}").write_text(json.dumps(found, indent=1))
    return found
