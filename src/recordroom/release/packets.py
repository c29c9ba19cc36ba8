"""Building a release packet: cover letter, Part 2 notice when Part 2 records go out
(R-P2-5), index, the included documents with their pages excluded and redactions
removed, every page stamped; a zip with a FHIR bundle for an electronic copy. The
packet is stored encrypted and waits for its quality review."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import TooLarge, ValidationFailed
from recordroom.mpi.models import IdentifierKind, Patient
from recordroom.records import disclosure_materials

from . import authorizations, bundle, frontmatter, letters, pdfs
from . import results as release_results
from .legal import PART2_LABELS
from .models import (
    AuthorizationKind,
    Format,
    Packet,
    ReleaseItem,
    ReleaseRequest,
    Status,
)
from .requests import refuse
from .scope import check_workable, gate_changes, version_pdf


def patient_line(patient: Patient) -> tuple[str, str]:
    """The patient's legal name ("Family, Given Middle") and birth date as printed."""
    name = patient.legal_name()
    text = "(no name)" if name is None else ", ".join(
        part for part in (name.family, " ".join(p for p in (name.given, name.middle) if p)) if part)  # fmt: skip
    return text, clock.slash_date(patient.birth_date) or "unknown"


def recipient_line(req: ReleaseRequest) -> str:
    org = req.requester_organization
    return f"{req.requester_name}, {org}" if org else req.requester_name


def local_today(req: ReleaseRequest) -> date:
    return clock.today(req.facility)


def basis_text(req: ReleaseRequest) -> str:
    """The basis of the release in words (authorizations.check_basis), for the
    accounting's purpose when the request gives none."""
    return authorizations.check_basis(req).basis or req.get_requester_type_display()


def part2_scope(req: ReleaseRequest) -> list[str]:
    """The clear explanation of the consent's scope sent with Part 2 records
    (R-P2-5); for a court order (R-P2-6), the order's terms."""
    lines = []
    consents = req.authorizations.filter(
        kind__in=[AuthorizationKind.PART2, AuthorizationKind.PART2_COUNSELING],
        revoked_at__isnull=True,
    )
    for a in consents:
        ends = a.expires_on.isoformat() if a.expires_on else (a.expiration_event or "-")
        lines += [f"{a.get_kind_display()} signed {a.signed_on or '-'} by "
                  f"{a.signed_by or 'the patient'}",
                  f"Information: {a.description or '-'}",
                  f"To: {a.recipient or recipient_line(req)}",
                  f"Purpose: {a.purpose or req.purpose or '-'}",
                  f"Expires: {ends}; revocable in writing at any time", ""]  # fmt: skip
    if not lines:
        lines = [f"Released under: {basis_text(req)}",
                 f"To: {recipient_line(req)}", f"Purpose: {req.purpose or '-'}"]  # fmt: skip
        lines += [f"{k.replace('_', ' ').capitalize()}: {v}"
                  for k, v in sorted(req.legal_detail.items()) if isinstance(v, str) and v]  # fmt: skip
    return lines


@dataclass
class _Doc:
    """An included document as it goes in: its pages kept and their redactions
    (its bytes are read when it is added, so the packet never holds them all)."""

    item: ReleaseItem
    keep: list[int]
    redactions: dict[int, pdfs.PageRedaction]

    @property
    def pages(self) -> int:
        return len(self.keep)

    def source(self) -> pdfs.Source:
        return pdfs.Source(version_pdf(self.item.version), self.keep, self.redactions)


def _sources(req: ReleaseRequest) -> list[_Doc]:
    items = list(req.items.filter(included=True)
                 .select_related("document__doc_type", "version")
                 .prefetch_related("redactions").order_by("position"))  # fmt: skip
    docs = []
    for item in items:
        keep = [p for p in range(1, item.pages + 1) if p not in item.excluded_pages]
        if not keep:
            continue
        redactions: dict[int, pdfs.PageRedaction] = {}
        for r in item.redactions.all():
            pr = redactions.setdefault(r.page, pdfs.PageRedaction())
            if r.text:
                pr.texts.append(r.text)
            else:
                pr.boxes.append(
                    pdfs.Box(r.x or 0, r.y or 0, r.width or 0, r.height or 0)
                )
        docs.append(_Doc(item, keep, redactions))
    return docs


def _assemble(asm: pdfs.Assembly, actor: Actor, req: ReleaseRequest, docs: list[_Doc],
              number: str, today: date,
              results: list[release_results.ResultOut] | None = None,
              ) -> tuple[Path, list[dict[str, Any]], int, list[tuple[int, int]]]:  # fmt: skip
    """The stamped PDF, its table of contents, page count and each document's pages
    (the results' pages, when any go out, follow the documents)."""
    results = results or []
    name, dob = patient_line(req.patient)
    part2 = any(set(d.item.labels) & PART2_LABELS for d in docs) or any(
        set(r.labels) & PART2_LABELS for r in results
    )
    cover = letters.cover_letter_pdf(req, [d.item for d in docs], number,
                                     letters.signer_of(actor))  # fmt: skip
    notice = frontmatter.notice_pdf(part2_scope(req)) if part2 else b""
    front = pdfs.page_count(cover) + (1 if part2 else 0)
    # What must go out with these documents (R-AMD-6: an amendment's request,
    # denial, disagreement and rebuttal), from the apps registered for it.
    extras = disclosure_materials.materials_for(d.item.document_id for d in docs)
    index_n = frontmatter.index_pages(len(docs) + (1 if results else 0) + len(extras))
    first, rows, ranges = front + index_n + 1, [], []
    for n, d in enumerate(docs, 1):
        doc = d.item.document
        note = "redacted" if d.redactions else ""
        if d.item.excluded_pages:
            note = f"{len(d.item.excluded_pages)} p. withheld" + (
                ", redacted" if note else ""
            )
        rows.append(frontmatter.IndexRow(n, doc.title or doc.doc_type.display,
                                         clock.slash_date(doc.service_start, req.facility), d.pages,
                                         first, first + d.pages - 1, note))  # fmt: skip
        ranges.append((first, first + d.pages - 1))
        first += d.pages
    results_part = _results_part(req, results, len(docs) + 1, first)
    if results_part is not None:
        rows.append(results_part[1])
        first = results_part[1].last + 1
    extra_parts = []
    for m in extras:
        pages = pdfs.page_count(m.pdf)
        rows.append(frontmatter.IndexRow(len(rows) + 1, m.title, "", pages, first,
                                         first + pages - 1, m.reference))  # fmt: skip
        extra_parts.append({"part": m.kind, "title": m.title, "reference": m.reference,
                            "documents": list(m.documents), "pages": pages,
                            "first": first, "last": first + pages - 1, **m.detail})  # fmt: skip
        first += pages
    asm.add(pdfs.Source(cover))
    if part2:
        asm.add(pdfs.Source(notice))
    asm.add(pdfs.Source(frontmatter.index_pdf(rows, number=number, patient=name)))
    for d in docs:
        asm.add(d.source())
    if results_part is not None:
        asm.add(pdfs.Source(results_part[0]))
    for m in extras:
        asm.add(pdfs.Source(m.pdf))
    total = asm.pages
    who = f"{name} · DOB {dob} · Released to {recipient_line(req)} on {clock.slash_date(today)}"
    path = asm.write(
        [[f"{number} · page {i} of {total}", who] for i in range(1, total + 1)]
    )
    contents: list[dict[str, Any]] = [
        {"part": "cover", "first": 1, "last": front - int(part2)}
    ]
    if part2:
        contents.append({"part": "part2-notice", "first": front, "last": front})
    contents.append({"part": "index", "first": front + 1, "last": front + index_n})
    for d, row in zip(docs, rows[: len(docs)], strict=True):
        contents.append({
            "part": "document", "document": str(d.item.document_id),
            "version": str(d.item.version_id), "version_number": d.item.version.number,
            "type": d.item.document.doc_type.code, "title": row.title,
            "service_date": row.service_date, "pages": d.pages, "first": row.first,
            "last": row.last, "excluded_pages": d.item.excluded_pages,
            "redacted_pages": sorted(d.redactions), "labels": d.item.labels,
        })  # fmt: skip
    if results_part is not None:
        contents.append(results_part[2])
    contents += extra_parts
    return path, contents, total, ranges


def _results_part(
    req: ReleaseRequest, results: list[release_results.ResultOut], n: int, first: int
) -> tuple[bytes, frontmatter.IndexRow, dict[str, Any]] | None:
    """The results' pages, their index row and their entry in the contents."""
    if not results:
        return None
    pdf = release_results.results_pdf(results, req.facility)
    pages = pdfs.page_count(pdf)
    dates = [r.report.effective_at for r in results if r.report.effective_at]
    when = clock.slash_date(min(dates), req.facility) if dates else ""
    row = frontmatter.IndexRow(n, release_results.TITLE, when, pages, first,
                               first + pages - 1, f"{len(results)} reports")  # fmt: skip
    entry = {
        "part": "results", "title": release_results.TITLE, "pages": pages,
        "first": first, "last": first + pages - 1,
        "reports": [{"report": str(r.report.pk), "version": r.report.version,
                     "code": r.report.code, "status": r.report.status,
                     "labels": r.labels} for r in results],
    }  # fmt: skip
    return pdf, row, entry


def _electronic(asm: pdfs.Assembly, req: ReleaseRequest, docs: list[_Doc], pdf: Path,
                number: str, ranges: list[tuple[int, int]]) -> Path:  # fmt: skip
    patient = req.patient
    name = patient.legal_name()
    mrns = patient.identifiers.filter(kind=IdentifierKind.MRN, facility=req.facility)
    resource: dict[str, Any] = {
        "id": str(patient.pk),
        "identifier": [{"system": i.system, "value": i.value} for i in mrns],
        "gender": patient.sex
        if patient.sex in ("male", "female", "other")
        else "unknown",
    }
    if name is not None:
        resource["name"] = [{"family": name.family,
                             "given": [g for g in (name.given, name.middle) if g]}]  # fmt: skip
    if patient.birth_date:
        resource["birthDate"] = patient.birth_date.isoformat()
    entries = []
    parts = pdfs.split(pdf, ranges, asm.dir)
    for n, (d, part) in enumerate(zip(docs, parts, strict=True), 1):
        doc = d.item.document
        entries.append(bundle.Entry(
            str(doc.pk), doc.doc_type.system, doc.doc_type.code, doc.doc_type.display,
            doc.title, doc.status, doc.service_start, doc.service_end, d.item.labels,
            f"documents/{n:03d}-{doc.doc_type.code}-{doc.service_start:%Y%m%d}.pdf", part))  # fmt: skip
    fhir = bundle.bundle(
        resource, entries, bundle_id=str(req.pk), timestamp=timezone.now()
    )
    return bundle.electronic_copy(pdf, fhir, entries, number=number,
                                  out=asm.dir / "electronic.zip")  # fmt: skip


def next_release_number(req: ReleaseRequest) -> str:
    """The request's number; a rebuilt packet adds its build (ROI-2026-000001.2), so a
    stray copy tells which build it came from."""
    built = req.packets.count()
    return req.number if built == 0 else f"{req.number}.{built + 1}"


def build_packet(*, actor: Actor, req: ReleaseRequest) -> Packet:
    """Build the packet of the included documents and send it to quality review.

    Raises:
        ValidationFailed: the request is closed, nothing is selected, or a
            sensitive document's basis changed since it was selected.
        TooLarge: the packet is over RECORDROOM_ROI_MAX_PACKET_MB; nothing is kept.
    All refusals are audited (release.refused)."""
    check_workable(actor, req, "build packet")
    changed = gate_changes(req)
    problem = ""
    if changed:
        problem = ("the basis no longer covers what was selected (" + "; ".join(changed)
                   + "): select the documents again")  # fmt: skip
    docs = [] if problem else _sources(req)
    results = [] if problem else release_results.select_results(req, actor.user)[0]
    if not problem and not docs and not results:
        problem = "no document is selected for release: select the documents first"
    if problem:
        refuse(actor, req, "build packet", problem)
        raise ValidationFailed(problem, field="items")
    today = local_today(req)
    number = next_release_number(req)
    with pdfs.Assembly() as asm:
        path, contents, pages, ranges = _assemble(
            asm, actor, req, docs, number, today, results
        )
        media_type = "application/pdf"
        if req.format == Format.ELECTRONIC:
            path = _electronic(asm, req, docs, path, number, ranges)
            media_type = "application/zip"
        size, limit = path.stat().st_size, settings.ROI_MAX_PACKET_BYTES
        if size > limit:
            reason = (f"the packet is {size / 1048576:.1f} MB, over the limit of "
                      f"{limit / 1048576:.0f} MB set by the administrator: split "
                      "the request or exclude pages; nothing was released")  # fmt: skip
            refuse(actor, req, "build packet", reason, detail={"size": size})
            raise TooLarge(reason, field="packet")
        data = path.read_bytes()
    return _store(actor, req, data, media_type, pages, number, contents)


def _store(actor: Actor, req: ReleaseRequest, data: bytes, media_type: str, pages: int,
           number: str, contents: list[dict[str, Any]]) -> Packet:  # fmt: skip
    stored = default_store().put(data)
    with transaction.atomic():
        packet = Packet.objects.create(
            request=req, sha256=stored.sha256, size=len(data), media_type=media_type,
            pages=pages, release_number=number, built_at=timezone.now(),
            built_by=actor.username, contents=contents)  # fmt: skip
        req.status = Status.QUALITY_REVIEW
        req.save(update_fields=["status", "updated_at"])
        record(actor=actor, action=actions.RELEASE_PACKET.name, patient=req.patient,
               obj=packet, detail={"request": req.number, "number": number,
                                   "pages": pages, "sha256": stored.sha256,
                                   "size": len(data), "media_type": media_type})  # fmt: skip
    return packet


def current_packet(req: ReleaseRequest) -> Packet | None:
    """The latest packet built for the request (older ones are superseded)."""
    return req.packets.order_by("-built_at", "-pk").first()


def packet_bytes(packet: Packet) -> bytes:
    """The stored packet, verified against its hash."""
    data = default_store().get(packet.sha256)
    if hashlib.sha256(data).hexdigest() != packet.sha256:  # the store checks too
        raise ValidationFailed(f"packet {packet.pk} failed its integrity check")
    return data
