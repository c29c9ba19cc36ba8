"""Memory of the capture pipeline on a long fax: a G4 TIFF of N pages made into a PDF,
OCRed (unless --no-ocr) and read page by page, as the worker does; prints the peak
resident memory of this process and of its largest child (Tesseract, OCRmyPDF's).

    PYTHONPATH=src RECORDROOM_DATA_DIR=/tmp/rr-bench python bench/capture_fax_memory.py --pages 2000
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recordroom.settings")

import django  # noqa: E402

django.setup()

from PIL import Image, ImageDraw, TiffImagePlugin  # noqa: E402

from recordroom.capture import ocr  # noqa: E402


def fax(pages: int) -> bytes:
    """`pages` fax pages (1728 × 2200 at 204 × 196 dpi, black and white, G4)."""

    def page(n: int) -> Image.Image:
        img = Image.new("1", (1728, 2200), 1)
        draw = ImageDraw.Draw(img)
        for line in range(40):
            draw.text((120, 120 + line * 48), f"Page {n} line {line}: outside records "
                      "received by fax for continuity of care", fill=0)  # fmt: skip
        return img

    out = io.BytesIO()
    # one frame at a time (Pillow's save_all would hold every page in memory)
    with TiffImagePlugin.AppendingTiffWriter(out, new=True) as tiff:
        for n in range(1, pages + 1):
            page(n).save(tiff, "TIFF", compression="group4", dpi=(204, 196))
            tiff.newFrame()
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--no-ocr", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    data = fax(args.pages)
    made = time.monotonic()
    pdf = ocr.image_to_pdf(data)
    del data
    if not args.no_ocr:
        pdf = ocr.make_searchable(pdf, jobs=1)
    ocred = time.monotonic()
    pages = words = 0
    for page in ocr.iter_pages(pdf):
        pages += 1
        words += len(page.words)
    done = time.monotonic()
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"pages {pages}, words {words}, PDF {len(pdf) / 1048576:.1f} MB")
    print(f"make fax {made - started:.1f} s, to PDF{'' if args.no_ocr else ' + OCR'} "
          f"{ocred - made:.1f} s, read pages {done - ocred:.1f} s")  # fmt: skip
    print(f"peak memory: this process {me:.0f} MB, largest child {kids:.0f} MB")
    print(
        "rerun: PYTHONPATH=src RECORDROOM_DATA_DIR=/tmp/rr-bench python "
        f"bench/capture_fax_memory.py --pages {args.pages}"
        f"{' --no-ocr' if args.no_ocr else ''}"
    )


if __name__ == "__main__":
    main()
