"""A page as a scanner and Tesseract would give it: a PDF page rasterised with
pypdfium2, speckled and slightly skewed, read by the `tesseract` binary (TSV output)
into PageRead words with pixel boxes."""

from __future__ import annotations

import csv
import io
import random
import subprocess
import tempfile
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from recordroom.capture.types import PageRead, Word


def rasterise(
    pdf: bytes, *, dpi: int = 200, seed: int = 1, skew: float = 0.4
) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    rng = random.Random(seed)
    out = []
    for k in range(len(doc)):
        img = doc[k].render(scale=dpi / 72).to_pil().convert("L")
        draw = ImageDraw.Draw(img)
        for _ in range(int(img.width * img.height * 0.0003)):  # scanner speckle
            x, y = rng.randrange(img.width), rng.randrange(img.height)
            draw.point([(x, y), (x + 1, y)], fill=0)
        img = img.rotate(
            rng.uniform(-skew, skew), resample=Image.Resampling.BILINEAR, fillcolor=255
        )
        out.append(img.point(lambda v: 0 if v < 150 else 255).convert("1"))
    doc.close()
    return out


def ocr(img: Image.Image, *, number: int = 1, dpi: int = 200) -> PageRead:
    """Tesseract's words (TSV: level 5 rows) with their boxes and confidences."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        img.save(path, dpi=(dpi, dpi))
        tsv = subprocess.run(
            ["tesseract", str(path), "stdout", "--dpi", str(dpi), "-l", "eng", "tsv"],
            check=True, capture_output=True, text=True,
            env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
        ).stdout  # fmt: skip
    words, lines = [], {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row["level"] != "5" or not (row.get("text") or "").strip():
            continue
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        line = lines.setdefault(key, len(lines))
        x, y, w, h = (int(row[k]) for k in ("left", "top", "width", "height"))
        words.append(Word(row["text"], (x, y, x + w, y + h), float(row["conf"]), line))
    return PageRead(
        number=number, width=img.width, height=img.height, dpi=dpi, words=words
    )


def scan(pdf: bytes, *, dpi: int = 200, seed: int = 1) -> list[PageRead]:
    return [
        ocr(img, number=n, dpi=dpi)
        for n, img in enumerate(rasterise(pdf, dpi=dpi, seed=seed), 1)
    ]
