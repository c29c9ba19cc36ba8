"""The printed pages of scanned test batches, as PDF (reportlab): documents in three
header layouts (our hospital's, an outside clinic's letterhead, a laboratory's
all-caps report), cover sheets and separator sheets. Barcodes are added on the
image (demo/scan_image.py); this module only lays out text."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime

from reportlab.lib.pagesizes import letter

from recordroom.kernel.pdftext import FastCanvas, no_ascii85

from . import notes
from .render import FOOTER, DocJob, _wrap

PAGE_W, PAGE_H = letter
LINES_PER_PAGE = 44

# Outside senders: fictional practices (555 phone numbers).
OUTSIDE = (
    ("Lakeshore Family Practice", "820 Sheridan Road, Evanston, IL 60202", "847-555-0192"),
    ("Prairie Orthopaedic Associates, S.C.", "3 Commerce Drive, Skokie, IL 60077",
     "847-555-0133"),
    ("Riverside Imaging Center", "77 Harbor Street, Calumet City, IL 60409",
     "708-555-0171"),
    ("North Shore Cardiology Group", "1515 Green Bay Road, Highland Park, IL 60035",
     "224-555-0148"),
    ("Calumet Pediatrics", "240 State Street, Hammond, IN 46320", "219-555-0116"),
)  # fmt: skip
LABS = (
    ("MIDWEST REFERENCE LABORATORIES", "PO BOX 5500, DES PLAINES IL 60016",
     "800-555-0164"),
    ("GREAT LAKES PATHOLOGY PARTNERS", "9100 W 95TH ST, OAK LAWN IL 60453",
     "708-555-0187"),
)  # fmt: skip
# What an outside sender titles each kind of document (never our display name).
OUTSIDE_TITLES = {
    "CORR": ("Office Visit Summary", "Records Enclosed", "Letter"),
    "57133-1": ("Referral Letter", "Request for Consultation"),
    "11488-4": ("Consultation Report", "Specialist Consultation"),
    "18748-4": ("Imaging Report", "Diagnostic Imaging"),
    "11506-3": ("Clinic Note", "Office Visit"),
}


@dataclass(frozen=True)
class PrintedDoc:
    """What a document's pages show (picklable)."""

    job: DocJob  # the text's seed, patient, dates; notes.body writes its sections
    layout: str  # "ours", "outside", "lab"
    pages: int
    given: str
    family: str
    birth: date
    service_day: date
    sender: int = 0  # index into OUTSIDE or LABS
    show_mrn: bool = True
    signature: bool = False  # a signature line (signed by hand on the image)


def month_day(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _lines(doc: PrintedDoc, rng: random.Random) -> list[list[tuple[str, str]]]:
    """The body's lines cut into exactly `doc.pages` pages (more sections appended
    when the note is short, so a long document really is several pages)."""
    out: list[tuple[str, str]] = []
    caps = doc.layout == "lab"
    rounds = 0
    while len(out) < (doc.pages - 1) * LINES_PER_PAGE + 8 and rounds < 12:
        sections = notes.body(doc.job, rng)
        if rounds:
            sections = [(f"Continued ({rounds})", ["Interval documentation follows."])] \
                + notes.progress(doc.job, rng)  # fmt: skip
        for heading, paragraphs in sections:
            out.append(("h", heading.upper() if caps else heading))
            for para in paragraphs:
                out += [
                    ("p", line.upper() if caps else line) for line in _wrap(para, 92)
                ]
            out.append(("p", ""))
        rounds += 1
    per = max(1, min(LINES_PER_PAGE, -(-len(out) // doc.pages)))
    return [out[i * per : (i + 1) * per] for i in range(doc.pages)]


def _ours(c: FastCanvas, doc: PrintedDoc, page: int) -> float:
    job = doc.job
    c.setFont("Helvetica", 8)
    c.drawRightString(PAGE_W - 54, 750, f"Page {page} of {doc.pages}")
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
    t.textLine(f"Date of service: {job.service}    Author: {job.author or '(none)'}")
    c.drawText(t)
    y = t.getY()
    c.line(54, y + 4, PAGE_W - 54, y + 4)
    c.setFont("Helvetica", 7)
    c.drawString(54, 30, f"{FOOTER} - {job.patient} - MRN {job.mrn}")
    return y - 12


def _outside(c: FastCanvas, doc: PrintedDoc, page: int) -> float:
    name, address, phone = OUTSIDE[doc.sender % len(OUTSIDE)]
    job = doc.job
    c.setFont("Times-Bold", 17)
    c.drawCentredString(PAGE_W / 2, 742, name)
    c.setFont("Times-Italic", 9)
    c.drawCentredString(PAGE_W / 2, 728, f"{address}  |  Phone {phone}  |  Fax "
                        f"{phone[:-4]}0199")  # fmt: skip
    c.line(90, 720, PAGE_W - 90, 720)
    t = c.beginText(72, 696)
    t.setFont("Times-Roman", 11, 14)
    if page == 1:
        t.textLine(month_day(doc.service_day))
        t.textLine("")
        title = random.Random(job.key).choice(OUTSIDE_TITLES.get(job.code, ("Note",)))
        t.setFont("Times-Bold", 13, 16)
        t.textLine(title)
        t.setFont("Times-Roman", 11, 14)
    b = doc.birth
    t.textLine(f"RE: {doc.given} {doc.family}    DOB: {b.month}/{b.day}/{b.year}")
    if page == 1:
        t.textLine(f"Date of visit: {month_day(doc.service_day)}    Provider: "
                   f"{job.author or 'Staff physician'}")  # fmt: skip
    else:
        t.textLine(f"Page {page}")
    c.drawText(t)
    c.setFont("Times-Italic", 7)
    c.drawCentredString(PAGE_W / 2, 30, f"{FOOTER} - confidential patient information")
    return t.getY() - 14


def _lab(c: FastCanvas, doc: PrintedDoc, page: int) -> float:
    name, address, phone = LABS[doc.sender % len(LABS)]
    job = doc.job
    c.rect(40, 700, PAGE_W - 80, 62)
    c.setFont("Courier-Bold", 14)
    c.drawString(50, 744, name)
    c.setFont("Courier", 8)
    c.drawString(50, 732, f"{address}   TEL {phone}   CLIA 14D0000000")
    c.drawRightString(PAGE_W - 50, 744, f"PAGE {page} OF {doc.pages}")
    c.setFont("Courier-Bold", 10)
    c.drawString(50, 712, "PATHOLOGY REPORT" if job.code == "11526-1" else
                 "LABORATORY REPORT - FINAL")  # fmt: skip
    t = c.beginText(44, 684)
    t.setFont("Courier", 9, 12)
    t.textLine(f"PATIENT NAME: {doc.family.upper()}, {doc.given.upper()}"
               f"      DOB: {doc.birth:%m/%d/%Y}      SEX: {job.sex[:1].upper()}")  # fmt: skip
    ident = f"MRN: {job.mrn}" if doc.show_mrn else "PATIENT ID: NONE"
    accession = random.Random(job.key).randrange(10**7, 10**8)
    t.textLine(f"{ident}      ACCESSION: A{accession}")
    t.textLine(f"COLLECTED: {doc.service_day:%m/%d/%Y}      ORDERING: "
               f"{(job.author or 'UNKNOWN').upper()}")  # fmt: skip
    c.drawText(t)
    y = t.getY()
    c.line(40, y + 4, PAGE_W - 40, y + 4)
    return y - 12


_HEADERS = {"ours": _ours, "outside": _outside, "lab": _lab}
_BODY_FONT = {
    "ours": ("Helvetica", "Helvetica-Bold", 10, 13),
    "outside": ("Times-Roman", "Times-Bold", 11, 13.5),
    "lab": ("Courier", "Courier-Bold", 9, 12),
}


def document_pdf(doc: PrintedDoc) -> bytes:
    """The document's pages as a text PDF (rasterised afterwards, never kept)."""
    rng = random.Random(doc.job.key)
    regular, bold, size, leading = _BODY_FONT[doc.layout]
    buf = io.BytesIO()
    c = FastCanvas(buf, pagesize=letter, invariant=1)
    for n, page in enumerate(_lines(doc, rng), 1):
        t = c.beginText(54 if doc.layout != "outside" else 72, _HEADERS[doc.layout](
            c, doc, n))  # fmt: skip
        is_bold = None
        for kind, text in page:
            if (kind == "h") is not is_bold:
                is_bold = kind == "h"
                t.setFont(bold if is_bold else regular, size, leading)
            t.textLine(text)
        c.drawText(t)
        if doc.signature and n == doc.pages:
            y = max(80, t.getY() - 60)
            c.line(72, y, 300, y)
            c.setFont(regular, 8)
            c.drawString(72, y - 11, "Signature of patient or representative")
            c.drawString(340, y - 11, f"Date: {doc.service_day:%m/%d/%Y}")
        c.showPage()
    with no_ascii85():
        c.save()
    return buf.getvalue()


def cover_pdf(
    *, patient: str, mrn: str, birth: str, doc_title: str, visit: str, pages: int,
    facility: str,
) -> bytes:  # fmt: skip
    """A Recordroom cover sheet's printed text (the barcode goes in the box at the
    top right, added on the image)."""
    buf = io.BytesIO()
    c = FastCanvas(buf, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 22)
    c.drawString(54, 720, "DOCUMENT COVER SHEET")
    c.setFont("Helvetica", 10)
    c.drawString(54, 700, f"{facility} - Health Information Management")
    t = c.beginText(54, 600)
    t.setFont("Helvetica", 13, 22)
    for line in (
        f"Patient: {patient}", f"MRN: {mrn}    DOB: {birth}", f"Document: {doc_title}",
        f"Visit: {visit or '(none)'}", f"Pages following: {pages}",
    ):  # fmt: skip
        t.textLine(line)
    c.drawText(t)
    c.setFont("Helvetica-Oblique", 9)
    c.drawString(
        54, 120, "Place this sheet on top of the document and scan them together."
    )
    c.drawString(54, 106, "Do not photocopy a cover sheet for another patient.")
    c.setFont("Helvetica", 7)
    c.drawString(54, 30, FOOTER)
    c.showPage()
    with no_ascii85():
        c.save()
    return buf.getvalue()


def separator_pdf() -> bytes:
    buf = io.BytesIO()
    c = FastCanvas(buf, pagesize=letter, invariant=1)
    c.setFont("Helvetica-Bold", 28)
    c.drawCentredString(PAGE_W / 2, 620, "SEPARATOR SHEET")
    c.setFont("Helvetica", 12)
    c.drawCentredString(PAGE_W / 2, 590, "A new document starts after this page")
    c.showPage()
    with no_ascii85():
        c.save()
    return buf.getvalue()


def received_stamp(day: date | datetime) -> list[str]:
    return ["RECEIVED", f"{day:%b %d %Y}".upper(), "HIM DEPT"]
