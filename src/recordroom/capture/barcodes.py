"""What a page image carries besides text: barcodes (Code 128, QR, DataMatrix with
zxing-cpp; a PATCH-T sheet), its ink, its skew, and whether it is blank.

PATCH-T: a Kodak patch code is a bar pattern scanners detect in hardware; a page image
has no reliable trace of which patch it was once printed as a sheet, so a patch-T sheet
here is the Code 128 barcode "PATCHT" (what patch-sheet generators print beside the
bars) and is reported with kind "patch-t".
"""

from __future__ import annotations

import numpy as np
import zxingcpp
from PIL import Image

from .types import Barcode

PATCH_T_TEXT = "PATCHT"
_FORMATS = zxingcpp.barcode_formats_from_str("Code128,QRCode,DataMatrix")
_KINDS = {"Code128": "code128", "QRCode": "qrcode", "DataMatrix": "datamatrix"}
# the outer share of each side left out of the ink count (scanner edges, punch holes)
MARGIN = 0.04


def read_barcodes(image: Image.Image, *, scale: float = 1.0) -> list[Barcode]:
    """Code 128, QR and DataMatrix codes on `image`; boxes multiplied by `scale` (to
    the page's pixels when the image was rendered at another resolution)."""
    found: list[Barcode] = []
    for result in zxingcpp.read_barcodes(image, formats=_FORMATS):
        if not result.valid or not result.text:
            continue
        pos = result.position
        xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
        ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
        box = (int(min(xs) * scale), int(min(ys) * scale),
               int(max(xs) * scale), int(max(ys) * scale))  # fmt: skip
        kind = _KINDS.get(result.format.name, result.format.name.lower())
        if kind == "code128" and result.text.strip().upper() == PATCH_T_TEXT:
            kind = "patch-t"
        found.append(Barcode(kind, result.text, box))
    return found


def ink(gray: Image.Image) -> float:
    """Share of dark pixels (0..1) inside the margins. Reduced first, so that scanner
    speckle averages out and what is left is writing, print or a stamp."""
    width, height = gray.size
    factor = max(1, min(width, height) // 600)
    small = gray.reduce(factor) if factor > 1 else gray
    w, h = small.size
    mx, my = int(w * MARGIN), int(h * MARGIN)
    arr = np.asarray(small.convert("L"))[my : h - my or h, mx : w - mx or w]
    if arr.size == 0:
        return 0.0
    return float(np.count_nonzero(arr < 128)) / arr.size


def is_blank(ink_share: float, *, words: int, barcodes: int, threshold: float) -> bool:
    """Blank: less ink than the threshold and nothing read from it (a back side
    that carries a signature or a few words is not blank)."""
    return ink_share < threshold and words == 0 and barcodes == 0


def skew(gray: Image.Image) -> float:
    """The angle (degrees, counter-clockwise positive) that makes text lines level,
    by the sharpest row profile; 0.0 for a page with too little ink to tell."""
    width, height = gray.size
    factor = max(1, min(width, height) // 500)
    small = gray.reduce(factor) if factor > 1 else gray
    mask = small.convert("L").point(lambda v: 255 if v < 128 else 0)
    if np.count_nonzero(np.asarray(mask)) < 200:
        return 0.0

    def sharpness(angle: float) -> float:
        rows = np.asarray(mask.rotate(angle, resample=Image.Resampling.NEAREST))
        profile = rows.sum(axis=1, dtype=np.float64)
        return float(np.sum(np.diff(profile) ** 2))

    best = max((a / 2 for a in range(-20, 21)), key=sharpness)
    fine = max((best + a / 8 for a in range(-4, 5)), key=sharpness)
    return round(fine, 2)
