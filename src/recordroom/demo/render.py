"""Render demo documents as PDF bytes and store them in the blob store.

Text documents are laid out with reportlab. "Scanned" documents are what a scanner
writes: one bilevel image per page and no text layer; they are drawn with Pillow and
written by `image_pdf` (reportlab would re-encode the bitmap as 8-bit RGB, ten times
slower for the same page). A document's text depends only on its `DocJob`, whose
`key` seeds its randomness, so output is identical whichever process renders it.
"""

from __future__ import annotations

import io
import random
import zlib
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from recordroom.kernel.blobs import default_store
from recordroom.kernel.pdftext import FastCanvas, no_ascii85
from recordroom.records.files import check_file

from . import notes

PAGE_W, PAGE_H = letter
LINES_PER_PAGE = 46
WRAP = 98
FOOTER = "SYNTHETIC DEMO DATA - not a real patient"


@dataclass(frozen=True)
class DocJob:
    """Everything printed on one document (picklable: sent to render workers)."""

    key: str  # "seed:person:ordinal:index"
    code: str
    title: str
    facility: str
    facility_line: str
    patient: str  # "FAMILY, Given Middle"
    birth_date: str
    sex: str
    age: int
    mrn: str
    service: str
    author: str
    problem: str
    account: str = ""
    encounter: str = ""
    admit: str = ""
    discharge: str = ""
    disposition: str = ""
    attending: str = ""
    labels: tuple[str, ...] = ()
    preliminary: bool = False
    scanned: bool = False

    @property
    def sex_word(self) -> str:
        return {"female": "woman", "male": "man"}.get(self.sex, "patient") if self.age >= 18 \
            else {"female": "girl", "male": "boy"}.get(self.sex, "child")  # fmt: skip


# --- text PDFs (reportlab) -------------------------------------------------------------


def _wrap(text: str, width: int = WRAP) -> list[str]:
    """Greedy word wrap (textwrap's regex splitting costs more than the whole page)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, line] if line else lines


def _lines(job: DocJob, rng: random.Random) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for heading, paragraphs in notes.body(job, rng):
        out.append(("h", heading))
        for para in paragraphs:
            out += [("p", line) for line in _wrap(para)]
        out.append(("p", ""))
    return out


def _header(c: canvas.Canvas, job: DocJob, page: int, pages: int) -> float:
    c.setFont("Helvetica", 8)
    c.drawRightString(PAGE_W - 54, 750, f"Page {page} of {pages}")
    if job.preliminary or job.labels:
        stamp = "PRELIMINARY - NOT SIGNED" if job.preliminary else "CONFIDENTIAL"
        c.setFont("Helvetica-Bold", 10)
        c.drawRightString(PAGE_W - 54, 712, stamp)
    t = c.beginText(54, 750)
    t.setFont("Helvetica-Bold", 13, 11)
    t.textLine(job.facility)
    t.setFont("Helvetica", 8, 27)
    t.textLine(job.facility_line)
    t.setFont("Helvetica-Bold", 15, 18)
    t.textLine(job.title)
    t.setFont("Helvetica", 9, 12)
    t.textLine(f"Patient: {job.patient}    DOB: {job.birth_date}    Sex: {job.sex}    "
               f"MRN: {job.mrn}")  # fmt: skip
    if job.account:
        t.textLine(f"Account: {job.account}    {job.encounter}")
        t.textLine(f"Admitted: {job.admit}    Discharged: {job.discharge or '-'}    "
                   f"Attending: {job.attending}")  # fmt: skip
    t.textLine(f"Date of service: {job.service}    Author: {job.author or '(none)'}")
    c.drawText(t)
    y = t.getY()
    c.line(54, y + 4, PAGE_W - 54, y + 4)
    c.setFont("Helvetica", 7)
    c.drawString(54, 30, f"{FOOTER} - {job.patient} - MRN {job.mrn}")
    return y - 12


def text_pdf(job: DocJob) -> bytes:
    lines = _lines(job, random.Random(job.key))
    pages = [
        lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)
    ]
    buf = io.BytesIO()
    c = FastCanvas(buf, pagesize=letter, invariant=1)
    c.setTitle(f"{job.title} - {job.patient}")
    c.setAuthor(job.author or job.facility)
    for n, page in enumerate(pages, 1):
        t = c.beginText(54, _header(c, job, n, len(pages)))
        bold = None
        for kind, text in page:
            if (kind == "h") is not bold:
                bold = kind == "h"
                t.setFont("Helvetica-Bold" if bold else "Helvetica", 10, 13)
            t.textLine(text)
        c.drawText(t)
        c.showPage()
    with no_ascii85():
        c.save()
    return buf.getvalue()


# --- scanned PDFs (Pillow + a one-image-per-page writer) -------------------------------

DPI = 150
_FORMS = {
    "59284-0": ("CONSENT FOR OPERATION OR PROCEDURE", notes.consent),
    "AUTH": ("AUTHORIZATION FOR RELEASE OF HEALTH INFORMATION", notes.authorization),
    "CORR": ("CORRESPONDENCE", notes.correspondence),
    "57133-1": ("REFERRAL", notes.referral),
}


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


@cache
def _blank_form(code: str, variant: int) -> tuple[bytes, int, int, int]:
    """A form's printed page, speckled and skewed as scanned, Flate-compressed once per
    process: (data, width, height, y of the signature line). Every copy reuses it."""
    rng = random.Random(f"recordroom-demo-form:{code}:{variant}")
    w, h = int(8.5 * DPI), 11 * DPI
    page = Image.new("1", (w, h), 1)
    draw = ImageDraw.Draw(page)
    title = _FORMS.get(code, ("DOCUMENT", notes.correspondence))[0]
    draw.text((DPI, int(DPI * 1.9)), title, font=_font(30), fill=0)
    y = int(DPI * 2.4)
    boiler = (
        "Please read this form carefully and ask about anything you do not understand. "
        "Your signature below confirms that the information above was explained to you, "
        "that you had the opportunity to ask questions, and that your questions were "
        "answered. This form becomes part of your medical record. "
    ) * 3
    for line in _wrap(boiler, 78):
        draw.text((DPI, y), line, font=_font(21), fill=0)
        y += 31
    signature_y = 0
    for label, dy in (
        ("Signature of patient or representative", 1.2),
        ("Witness", 0.8),
    ):
        y += int(DPI * dy)
        signature_y = signature_y or y
        draw.line((DPI, y, DPI * 5, y), fill=0, width=2)
        draw.text((DPI, y + 6), label, font=_font(18), fill=0)
    for _ in range(int(w * h * 0.0004)):  # speckle
        x, yy = rng.randrange(w), rng.randrange(h)
        draw.point([(x, yy), (x + 1, yy)], fill=0)
    draw.rectangle((w - 12 - variant * 3, 0, w - 1, h - 1), fill=0)  # scanner edge
    page = page.rotate(
        rng.uniform(-1.2, 1.2), resample=Image.Resampling.NEAREST, fillcolor=1
    )
    return zlib.compress(page.tobytes(), 6), w, h, signature_y


def _small_image(
    lines: list[str], size: int, angle: float, border: bool
) -> Image.Image:
    font = _font(size)
    width = max(int(font.getlength(line)) for line in lines) + 24  # type: ignore[attr-defined]
    img = Image.new("1", (width, len(lines) * (size + 8) + 16), 1)
    draw = ImageDraw.Draw(img)
    for n, line in enumerate(lines):
        draw.text((12, 8 + n * (size + 8)), line, font=font, fill=0)
    if border:
        draw.rectangle((0, 0, img.width - 1, img.height - 1), outline=0, width=2)
    return img.rotate(
        angle, resample=Image.Resampling.NEAREST, expand=True, fillcolor=1
    )


def _scribble(rng: random.Random) -> Image.Image:
    img = Image.new("1", (420, 70), 1)
    points = [(10 + i * 400 / 14, rng.uniform(8, 62)) for i in range(15)]
    ImageDraw.Draw(img).line(points, fill=0, width=3)
    return img


def scanned_pdf(job: DocJob) -> bytes:
    """A scanned paper form: the shared printed page plus, per document, a patient
    label sticker, the handwritten-in fields and a signature (no text layer)."""
    rng = random.Random(job.key)
    data, w, h, signature_y = _blank_form(job.code, rng.randrange(4))
    label = _small_image(
        [job.patient, f"DOB {job.birth_date}   {job.sex.upper()}   MRN {job.mrn}",
         job.facility, f"Date {job.service}"],
        24, rng.uniform(-2.5, 2.5), border=True,
    )  # fmt: skip
    body = [text for kind, text in _lines(job, rng) if kind == "p" and text][:4]
    fields = _small_image(body or [job.title], 20, rng.uniform(-0.8, 0.8), border=False)
    parts = [
        (data, w, h, 0, 0),
        (*_packed(label), DPI - 10, int(DPI * 0.45)),
        (*_packed(fields), DPI, int(DPI * 8.6)),
        (*_packed(_scribble(rng)), DPI + 20, signature_y - 72),
    ]
    return image_pdf(parts, dpi=DPI)


def _packed(img: Image.Image) -> tuple[bytes, int, int]:
    return zlib.compress(img.tobytes(), 6), img.width, img.height


def image_pdf(images: list[tuple[bytes, int, int, int, int]], *, dpi: int) -> bytes:
    """A one-page PDF of bilevel images (1 bit, 1 = white, Flate), the first one
    filling the page: (data, width, height, left, top) in pixels."""
    scale = 72 / dpi
    page_w, page_h = images[0][1] * scale, images[0][2] * scale
    names = " ".join(f"/Im{n} {6 + n} 0 R" for n in range(len(images)))
    draws = " ".join(
        f"q {w * scale:.2f} 0 0 {h * scale:.2f} {x * scale:.2f} "
        f"{page_h - (y + h) * scale:.2f} cm /Im{n} Do Q"
        for n, (_d, w, h, x, y) in enumerate(images)
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_w:.2f} {page_h:.2f}] "
        f"/Resources << /XObject << {names} >> >> /Contents 4 0 R >>".encode(),
        f"<< /Length {len(draws)} >>\nstream\n".encode() + draws + b"\nendstream",
        b"<< /Producer (Recordroom demo scanner) >>",
    ]
    for data, w, h, _x, _y in images:
        objects.append(
            f"<< /Type /XObject /Subtype /Image /Width {w} /Height {h} "
            "/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode "
            f"/Length {len(data)} >>\nstream\n".encode()
            + data
            + b"\nendstream"
        )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R >>\n".encode()
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- the unit of work ------------------------------------------------------------------


def render(job: DocJob) -> bytes:
    return scanned_pdf(job) if job.scanned else text_pdf(job)


def render_and_store(jobs: list[DocJob]) -> list[tuple[str, int]]:
    """Render each job, then store them all encrypted in the blob store.

    Returns [(sha256, size)] in job order. The batch is made durable with one sync
    rather than an fsync per file (BlobStore.put_many).
    """
    store = default_store()
    pdfs = [
        check_file(
            render(job), filename="document.pdf", media_type="application/pdf"
        ).data
        for job in jobs
    ]

    return [(stored.sha256, stored.size) for stored in store.put_many(pdfs)]
