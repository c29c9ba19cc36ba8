"""Release packet: 1,000 document pages with 10 redactions, stamping and index.

    .venv/bin/python bench/roi_packet.py --data-dir /tmp/rr-bench-roi

Files one synthetic patient's documents through the records service (real PDFs:
text notes laid out by reportlab, 46 lines a page, and scanned forms, one bilevel
150 dpi image a page with no text layer), selects them for a request, adds ten
redactions (six texts, four regions; two of the regions on scanned pages) and
builds the packet in a child process: cover letter, index, every page rendered into
place and stamped, redacted pages replaced by images. Prints the build's wall and
CPU time and the child's peak RSS, and checks the output (page count, redacted
strings gone). Targets: <= 10 s and <= 1 GB peak memory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
import zlib

import _common

TARGET_S = 10.0
TARGET_MB = 1024
SECRET = "REDACT-ME-{n:02d}"


def _text_pages(rng: random.Random, n_pages: int, title: str) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    words = ("patient reports improved appetite denies chest pain vitals stable plan "
             "continue current regimen follow up in clinic labs reviewed tolerated "
             "diet ambulating independently wound clean dry intact").split()  # fmt: skip
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    for p in range(n_pages):
        t = c.beginText(54, 740)
        t.setFont("Helvetica-Bold", 12, 16)
        t.textLine(f"{title} - page {p + 1} of {n_pages}")
        t.setFont("Helvetica", 10, 13)
        for _ in range(46):
            t.textLine(" ".join(rng.choice(words) for _ in range(15)))
        c.drawText(t)
        c.showPage()
    c.save()
    return buf.getvalue()


def _scanned_pages(rng: random.Random, n_pages: int, gray: bool) -> bytes:
    """Scanned pages: bilevel Flate images (a fax-quality scanner), or 8-bit gray
    JPEG with paper noise (an office scanner: about ten times the bytes)."""
    import pikepdf
    from PIL import Image, ImageDraw

    from recordroom.demo.render import DPI, image_pdf

    out = pikepdf.new()
    w, h = int(8.5 * DPI), 11 * DPI
    noise = Image.effect_noise((w, h), 12).point(lambda v: 255 - abs(v - 128) // 4) \
        if gray else None  # fmt: skip
    for p in range(n_pages):
        img = noise.copy() if noise is not None else Image.new("1", (w, h), 1)
        draw = ImageDraw.Draw(img)
        for line in range(40):
            y = 150 + line * 38
            draw.line((150, y, 150 + rng.randrange(600, w - 300), y), fill=0, width=3)
        draw.text((150, 80), f"SCANNED FORM page {p + 1}", fill=0)
        if gray:
            buf = io.BytesIO()
            img.save(buf, "PDF", resolution=DPI, quality=75)
            one = buf.getvalue()
        else:
            one = image_pdf([(zlib.compress(img.tobytes(), 6), w, h, 0, 0)], dpi=DPI)
        out.pages.extend(pikepdf.open(io.BytesIO(one)).pages)
    buf = io.BytesIO()
    out.save(buf)
    return buf.getvalue()


def build(pages: int, doc_pages: int, share: float, gray: bool) -> str:
    """File the documents and select them; returns the request id (reused)."""
    from datetime import UTC, date, datetime, timedelta

    from recordroom.kernel import clock
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.models import Facility
    from recordroom.mpi.services import (
        IdentifierIn,
        NameIn,
        PatientIn,
        register_patient,
    )
    from recordroom.records import services as records
    from recordroom.records.models import DocumentType
    from recordroom.release import redaction, scope
    from recordroom.release.models import ReleaseRequest
    from recordroom.release.requests import RequestIn, log_request

    purpose = (
        f"bench {pages}/{doc_pages} scans {share:g} {'gray' if gray else 'bilevel'}"
    )
    existing = ReleaseRequest.objects.filter(purpose=purpose).first()
    if existing is not None:
        return str(existing.pk)
    actor = Actor(channel="cli", name="bench")
    facility, _ = Facility.objects.get_or_create(
        code="BENCH", defaults={"name": "Bench General Hospital",
                                "mrn_system": "urn:recordroom:facility:bench:mrn"})  # fmt: skip
    mrn = f"B{zlib.crc32(purpose.encode()):010d}"
    patient = register_patient(actor=actor, data=PatientIn(
        names=[NameIn(family="Bench", given="Patricia")], birth_date=date(1970, 3, 4),
        sex="female", identifiers=[IdentifierIn(kind="MR", value=mrn, facility=facility)]))  # fmt: skip
    rng = random.Random(20261127)
    dtype = DocumentType.objects.get(code="11506-3")
    form = DocumentType.objects.get(code="59284-0")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    docs, texts = pages // doc_pages, 0
    for n in range(docs):
        scanned = int((n + 1) * share) > int(n * share)  # that share of documents
        data = (_scanned_pages(rng, doc_pages, gray) if scanned
                else _text_pages(rng, doc_pages, f"Progress note {n + 1}"))  # fmt: skip
        if not scanned and texts < 6:  # the strings the text redactions remove
            data = _text_pages(rng, doc_pages - 1, f"Progress note {n + 1}")
            data = _with_secret(data, SECRET.format(n=texts))
        texts += not scanned
        records.file_document(
            actor=actor, patient=patient, doc_type=form if scanned else dtype, data=data,
            filename=f"doc{n}.pdf", facility=facility,
            service_start=start + timedelta(days=n), title=f"Document {n + 1}")  # fmt: skip
    req = log_request(actor=actor, data=RequestIn(
        patient_id=patient.pk, facility_code="BENCH", requester_type="attorney",
        requester_name="Bench Counsel", requester_organization="Bench & Co LLP",
        received_on=clock.today(facility), channel="mail", format="pdf", delivery="mail",
        requester_address="1 Court St, Springfield", entire_record=True,
        entire_record_reason="litigation over the whole course of care",
        purpose=purpose))  # fmt: skip
    items = scope.select_documents(actor=actor, req=req)
    text_items = [i for i in items if i.document.doc_type_id == dtype.pk]
    scan_items = [i for i in items if i.document.doc_type_id == form.pk]
    for n, item in enumerate(text_items[:6]):
        redaction.add_redaction(actor=actor, item=item, page=item.pages,
                                text=SECRET.format(n=n), reason="bench")  # fmt: skip
    regions = (scan_items[:2] + text_items[6:] + scan_items[2:])[
        : 10 - min(6, len(text_items))
    ]
    for item in regions:
        redaction.add_redaction(actor=actor, item=item, page=2, x=100, y=400, width=300,
                                height=60, reason="bench")  # fmt: skip
    return str(req.pk)


def _with_secret(data: bytes, secret: str) -> bytes:
    """The document with one more page carrying `secret` among other text."""
    import pikepdf
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.drawString(72, 720, f"Addendum: the visitor's number {secret} was written here")
    c.drawString(72, 700, "This line stays.")
    c.showPage()
    c.save()
    doc = pikepdf.open(io.BytesIO(data))
    doc.pages.extend(pikepdf.open(io.BytesIO(buf.getvalue())).pages)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def child(request_id: str) -> None:
    """Build the packet (what is measured) and report as JSON on stdout."""
    from recordroom.kernel.actor import Actor
    from recordroom.release import packets
    from recordroom.release.models import ReleaseRequest

    req = ReleaseRequest.objects.get(pk=request_id)
    actor = Actor(name="bench", channel="cli")
    wall, cpu = time.perf_counter(), time.process_time()
    packet = packets.build_packet(actor=actor, req=req)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss, "packet": str(packet.pk),
                      "pages": packet.pages, "size": packet.size}))  # fmt: skip


def verify(packet_id: str) -> tuple[int, int]:
    """Pages of the packet and how many redacted strings are still in it (0)."""
    from pypdf import PdfReader

    from recordroom.release import packets
    from recordroom.release.models import Packet

    data = packets.packet_bytes(Packet.objects.get(pk=packet_id))
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(p.extract_text() or "" for p in reader.pages)
    left = sum(SECRET.format(n=n) in text for n in range(6))
    return len(reader.pages), left


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--doc-pages", type=int, default=20)
    ap.add_argument(
        "--scan-share",
        type=float,
        default=0.2,
        help="share of documents that are scanned (default 0.2)",
    )
    ap.add_argument(
        "--gray",
        action="store_true",
        help="scans as 8-bit gray JPEG (office scanner) instead of bilevel",
    )
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir, migrate=not args.child)
    if args.child:
        child(args.child)
        return
    t0 = time.perf_counter()
    request_id = build(args.pages, args.doc_pages, args.scan_share, args.gray)
    print(f"documents filed and selected in {time.perf_counter() - t0:.1f} s "
          f"({args.pages} pages, {args.pages // args.doc_pages} documents)")  # fmt: skip
    from django.db import connections

    connections.close_all()
    env = {**os.environ, "RECORDROOM_DATA_DIR": os.path.abspath(args.data_dir)}
    out = subprocess.run([sys.executable, __file__, "--data-dir", args.data_dir,
                          "--child", request_id], env=env, check=True,
                         stdout=subprocess.PIPE, text=True)  # fmt: skip
    fig = json.loads(out.stdout.strip().splitlines()[-1])
    pages, left = verify(fig["packet"])
    kind = "gray JPEG" if args.gray else "bilevel"
    print(f"\nROI packet build (10 redactions, stamping, index; {args.scan_share:.0%} of "
          f"documents {kind} scans)")  # fmt: skip
    print(f"  pages in packet      {fig['pages']:>8}   (read back: {pages})")
    print(f"  packet size          {fig['size'] / 1048576:>8.1f} MB")
    verdict = "ok" if fig["wall"] <= TARGET_S else "MISSED"
    print(
        f"  build wall time      {fig['wall']:>8.2f} s   target <= {TARGET_S:g} s {verdict}"
    )
    print(f"  build CPU time       {fig['cpu']:>8.2f} s")
    verdict = "ok" if fig["rss_mb"] <= TARGET_MB else "MISSED"
    print(
        f"  peak RSS (child)     {fig['rss_mb']:>8.0f} MB  target <= {TARGET_MB} MB {verdict}"
    )
    print(f"  redacted strings left {left:>7}   (must be 0)")
    _common.footer()


if __name__ == "__main__":
    main()
