"""Which way up a scanned page is, and how far it is skewed, from its image alone
(numpy on a page rendered at ORIENT_DPI): the OCR step's orientation detection and
deskew without Tesseract's orientation pass, which costs as much as reading the page.

Text lines give both: the row profile of a page's ink is sharpest when the lines are
level (the skew; a page turned a quarter is sharpest in its column profile), and Latin
print has more ink above a line's x-height band (ascenders, capitals) than below it
(descenders), which tells a page from its upside-down image. A page where the two
sides come out too close to call is left to Tesseract's orientation detection.
"""

from __future__ import annotations

import io
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

ORIENT_DPI = 150  # the resolution the page is looked at
SKEW_RANGE = 10.0  # degrees searched either way; scanners skew less than that
# |above - below| / (above + below) over the page's lines below which upright and
# upside down are too close to call (measured on generated pages: upright pages
# score 0.25 to 0.6)
SURE = 0.12
# a turn needs more: below it Tesseract is asked (upright pages near it were seen
# turned 180 or a quarter by this test; truly turned ones scored 0.24 and up)
SURE_TURN = 0.35
MIN_LINES = 8  # text lines the up-or-down test needs
SURE_AXIS = 1.5  # the sharpest profile this many times the best the other way
MIN_INK = 400  # dark pixels (at ORIENT_DPI) below which a page has nothing to tell
MARGIN = 0.04  # the outer share of each side left out


@dataclass(frozen=True)
class Orientation:
    """`turn`: degrees the page image must be turned clockwise to stand upright (0, 90,
    180, 270; what a PDF page's /Rotate holds); `skew`: degrees counter-clockwise that
    level its lines, measured on the image as it lies (the same once it is turned);
    `sure`: the test was decisive (else `turn` is 0 and, when the page has
    MIN_LINES text `lines` or more, the caller asks Tesseract); `cased`: the lines
    with ascenders or descenders the up-or-down `score` (> 0: upright as turned) was
    taken from; `across`, `plain`: which way the lines run, and whether that is
    beyond doubt."""

    turn: int
    skew: float
    sure: bool
    lines: int
    cased: int
    score: float = 0.0
    across: bool = True  # the lines run across the image as it lies
    plain: bool = False  # and that is plain (the other way is far less sharp)


def _mask(gray: Image.Image) -> np.ndarray:
    """Dark pixels, the outer MARGIN of each side left out (a scanner's dark edge or
    a punch hole would outweigh the text)."""
    arr = np.asarray(gray.convert("L"))
    h, w = arr.shape
    mx, my = int(w * MARGIN), int(h * MARGIN)
    return arr[my : h - my or h, mx : w - mx or w] < 128


def _points(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inked pixels' coordinates (x, y) from the image's centre."""
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    return xs - width / 2.0, ys - height / 2.0


def _profile(xs: np.ndarray, ys: np.ndarray, angle: float, across: bool) -> np.ndarray:
    """The ink profile of the image turned `angle` degrees counter-clockwise (as PIL
    turns it): by rows when `across`, else by columns (left to right)."""
    a = np.radians(angle)
    if across:
        coord = ys * np.cos(a) - xs * np.sin(a)
    else:
        coord = xs * np.cos(a) + ys * np.sin(a)
    bins = np.round(coord - coord.min()).astype(np.int64)
    return np.bincount(bins).astype(np.float64)


def _sharpness(profile: np.ndarray) -> float:
    return float(np.sum(np.diff(profile) ** 2))


def level(gray: Image.Image) -> tuple[float, bool, float]:
    """(skew, across, margin): the angle (degrees, counter-clockwise positive) that
    makes the text lines of `gray` level or plumb; whether they run across the image
    (False: up and down, the page lies turned a quarter); and how much sharper the
    best profile is than the best one the other way (1.0: no telling)."""
    width, height = gray.size
    factor = max(1, min(width, height) // 500)
    small = gray.reduce(factor) if factor > 1 else gray
    xs, ys = _points(_mask(small))
    steps = [a / 2 for a in range(-int(SKEW_RANGE * 2), int(SKEW_RANGE * 2) + 1)]
    best = {True: (-1.0, 0.0), False: (-1.0, 0.0)}
    for across in (True, False):
        for angle in steps:
            s = _sharpness(_profile(xs, ys, angle, across))
            if s > best[across][0]:
                best[across] = (s, angle)
    across = best[True][0] >= best[False][0]
    coarse = best[across][1]
    fine = max((coarse + a / 8 for a in range(-4, 5)),
               key=lambda a: _sharpness(_profile(xs, ys, a, across)))  # fmt: skip
    other = max(best[not across][0], 1.0)
    return round(fine, 2), across, best[across][0] / other


def _lines(profile: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) rows of each run of inked rows: the text lines."""
    inked = profile > max(2.0, 0.02 * float(profile.max()))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], inked.astype(np.int8), [0]))))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def up_score(profile: np.ndarray) -> tuple[float, int, int]:
    """(score, cased, lines) for the row profile of a level image whose lines run
    across (top to bottom): score > 0 when it is upright (more ink above the x-height
    band of its lines than below it), < 0 when upside down, in -1..1; the `cased`
    lines it was taken from, of the text `lines` seen (a line of capitals and digits
    says nothing)."""
    above = below = 0.0
    counted = lines = 0
    for first, last in _lines(profile):
        height = last - first + 1
        if height < 6 or height > 80:  # a speck or a rule; a picture or a stamp
            continue
        lines += 1
        run = profile[first : last + 1]
        core = np.flatnonzero(run >= 0.5 * run.max())
        top, bottom = int(core[0]), int(core[-1])
        a, b = float(run[:top].sum()), float(run[bottom + 1 :].sum())
        if a + b < 0.05 * float(run.sum()):
            continue  # capitals and digits only: no ascenders, no descenders
        above += a
        below += b
        counted += 1
    if not counted or above + below == 0:
        return 0.0, counted, lines
    return (above - below) / (above + below), counted, lines


def orientation(gray: Image.Image) -> Orientation:
    """How `gray` (a page image, ideally at ORIENT_DPI) must be turned and levelled.

    A page with too little ink, or too few text lines to tell up from down, is
    returned unturned and not `sure`.
    """
    mask = _mask(gray)
    if int(np.count_nonzero(mask)) < MIN_INK:
        return Orientation(0, 0.0, False, 0, 0)
    skew, across, margin = level(gray)
    xs, ys = _points(mask)
    # lines up and down: the columns left to right are the rows of the image turned
    # a quarter clockwise
    score, cased, lines = up_score(_profile(xs, ys, skew, across))
    if margin < SURE_AXIS:
        # which way the lines run is itself in doubt (a table, lines repeated):
        # count the text lines the other way too, so that Tesseract is asked
        lines = max(lines, up_score(_profile(xs, ys, skew, not across))[2])
    if across:
        turn = 180 if score < 0 else 0
    else:
        # the page lay a quarter counter-clockwise (upright once turned a quarter
        # clockwise) or, upside down after that, a quarter clockwise
        turn = 90 if score >= 0 else 270
    sure = (
        cased >= MIN_LINES
        and margin >= SURE_AXIS
        and (score >= SURE if turn == 0 else abs(score) >= SURE_TURN)
    )
    return Orientation(turn if sure else 0, skew, sure, lines, cased, round(score, 3),
                       across, margin >= SURE_AXIS)  # fmt: skip


# --- a PDF's pages stood upright and levelled ---------------------------------------

DESKEW_MIN = 0.25  # degrees of skew below which a page is left as it is
# text lines a page needs to be levelled by them (a back side's note or a stamp is
# often tilted on a straight page)
DESKEW_LINES = 4
OSD_DPI = 300  # Tesseract's orientation detection loses confidence below it


@dataclass
class Straightened:
    """What `straighten` did: the pages it turned and levelled, and how many it asked
    Tesseract about."""

    turned: dict[int, int]  # page number -> degrees turned clockwise
    levelled: dict[int, float]  # page number -> degrees turned counter-clockwise
    asked: int = 0


def tesseract_turn(gray: Image.Image, *, confidence: float, dpi: int = OSD_DPI) -> int:
    """Tesseract's orientation detection (`--psm 0`) on `gray` (at `dpi`): the
    clockwise turn that stands it upright, or 0 below `confidence` or when it sees
    too little."""
    with tempfile.TemporaryDirectory(prefix="rr-osd-") as tmp:
        path = Path(tmp) / "page.png"
        gray.save(path, dpi=(dpi, dpi))  # without it Tesseract takes 70 dpi
        done = subprocess.run(
            ["tesseract", str(path), "stdout", "--psm", "0", "-l", "osd"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    found = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    try:
        turn = int(found["Rotate"].strip()) % 360
        sure = float(found["Orientation confidence"].strip())
    except (KeyError, ValueError):
        return 0  # "Too few characters": nothing to turn by
    return turn if sure >= confidence and turn in (90, 180, 270) else 0


def straighten(pdf: bytes, *, pages: list[int], rotate: bool, deskew: bool,
               confidence: float) -> tuple[bytes, Straightened]:  # fmt: skip
    """`pdf` with `pages` (numbers from 1) turned upright (/Rotate, lossless) when
    `rotate`, and levelled when `deskew` (the page's content drawn turned about its
    centre: the scanned image is kept as it was). Tesseract is asked only about a page
    with text lines this module cannot stand upright itself (`confidence`: the least
    orientation confidence it turns a page at)."""
    import pikepdf
    import pypdfium2 as pdfium

    done = Straightened({}, {})
    doc = pdfium.PdfDocument(pdf)
    try:
        for number in pages:
            page = doc[number - 1]
            try:
                gray = page.render(scale=ORIENT_DPI / 72, grayscale=True).to_pil()
                found = orientation(gray)
                del gray
                turn = found.turn
                if rotate and not found.sure and found.lines >= MIN_LINES:
                    done.asked += 1
                    big = page.render(scale=OSD_DPI / 72, grayscale=True).to_pil()
                    turn = tesseract_turn(big, confidence=confidence)
                    if found.plain and (turn in (0, 180)) != found.across:
                        # Tesseract's answer at low confidence can be a quarter
                        # off; which way the lines run is plain from the image
                        turn = 0
                if rotate and turn:
                    done.turned[number] = turn
                if (
                    deskew
                    and found.lines >= DESKEW_LINES
                    and abs(found.skew) >= DESKEW_MIN
                ):
                    done.levelled[number] = found.skew
            finally:
                page.close()
    finally:
        doc.close()
    if not done.turned and not done.levelled:
        return pdf, done
    with pikepdf.open(io.BytesIO(pdf)) as out:
        for number, turn in done.turned.items():
            page = out.pages[number - 1]
            page.rotate(turn, relative=True)
        for number, angle in done.levelled.items():
            _level_page(out, out.pages[number - 1], angle)
        buf = io.BytesIO()
        out.save(buf)
    return buf.getvalue(), done


def _level_page(pdf: Any, page: Any, angle: float) -> None:
    """Draw `page`'s content turned `angle` degrees counter-clockwise about the
    centre of its media box."""
    import pikepdf

    x0, y0, x1, y1 = (float(v) for v in page.mediabox)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    e, f = cx - c * cx + s * cy, cy - s * cx - c * cy
    page.contents_coalesce()
    page.contents_add(pikepdf.Stream(pdf, f"q {c:.6f} {s:.6f} {-s:.6f} {c:.6f} "
                                          f"{e:.3f} {f:.3f} cm\n".encode()),
                      prepend=True)  # fmt: skip
    page.contents_add(pikepdf.Stream(pdf, b"\nQ\n"))
