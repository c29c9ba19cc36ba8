"""What stops a document filing itself whatever the confidences: a page count that is
not the cover sheet's, pages that could not be read, two patients in one document, a
patient the facility has no record of."""

from __future__ import annotations

from typing import Any

from recordroom.capture import cover
from recordroom.capture.types import PageRead, Value
from recordroom.mpi.models import Facility, IdentifierKind, PatientIdentifier
from recordroom.records.models import Encounter

from .boundary import SPARSE
from .match import mrn_owners


def facility_of(values: list[Value]) -> Facility | None:
    """The facility a cover sheet or the page's letterhead names, if one of ours."""
    best = max((v for v in values if v.kind == "facility"),
               key=lambda v: v.confidence, default=None)  # fmt: skip
    return Facility.objects.filter(code=best.normalised).first() if best else None


def _is_cover(page: PageRead) -> bool:
    return any(cover.decode(b.text) is not None for b in page.barcodes)


def document_flags(
    values: list[Value],
    pages: list[PageRead],
    patient_id: Any,
    *,
    facility: Facility | None,
) -> list[str]:
    flags: list[str] = []
    expected = next((int(v.normalised) for v in values if v.kind == "pages"), None)
    kept = [p for p in pages if not _is_cover(p) and not p.blank]
    scanned = len(kept)
    # a back side with a few words on it (a note, a stamp) is not a printed page:
    # the count fits when it lies between the pages with text and all of them
    printed = sum(1 for p in kept if len(p.words) >= SPARSE)
    if expected is not None and not printed <= expected <= scanned:
        flags.append(f"the cover sheet says {expected} pages; {scanned} were scanned")
    for p in pages:
        if "unreadable" in p.flags or (
            not p.blank and not p.words and not _is_cover(p)
        ):
            flags.append(f"page {p.number} could not be read")
    flags += _conflicts(values, facility)
    flags += _cover_disagrees(values, patient_id)
    own = facility_of(values)  # one of our facilities printing the document
    if (
        patient_id is not None
        and facility is not None
        and not _known_at(patient_id, facility)
        and (own is None or not _known_at(patient_id, own))
    ):
        flags.append(f"the patient has no MRN or visit at {facility.code}")
    return flags


def _conflicts(values: list[Value], facility: Facility | None) -> list[str]:
    """Pages of one document that name two patients."""
    out = []
    births = {
        v.normalised for v in values if v.kind == "birth_date" and v.confidence >= 0.8
    }
    if len(births) > 1:
        out.append("pages give different birth dates: " + ", ".join(sorted(births)))
    owners: dict[str, set[int]] = {}
    for v in values:
        if v.kind == "mrn" and v.source == "text" and v.confidence >= 0.8:
            found = mrn_owners(v.normalised, facility)
            if len(found) == 1:  # the same digits at two facilities name nobody
                owners.setdefault(next(iter(found)), set()).add(v.page)
    if len(owners) > 1:
        pages = sorted({p for ps in owners.values() for p in ps})
        out.append(f"MRNs of {len(owners)} different patients on pages {pages}")
    covers = {v.normalised for v in values if v.kind == "mrn" and v.source == "barcode"}
    if len(covers) > 1:
        out.append("two cover sheets naming different patients")
    return out


def _cover_disagrees(values: list[Value], patient_id: Any) -> list[str]:
    """A cover sheet names the patient; the pages' own text names someone else (a
    cover sheet put on another patient's papers)."""
    if patient_id is None or not any(
        v.kind == "mrn" and v.source == "barcode" for v in values
    ):
        return []
    from datetime import date

    from recordroom.mpi.models import Patient

    from .match import Read, birth_level, name_level

    read = Read.of([v for v in values if v.source == "text" and v.confidence >= 0.5])
    p = Patient.objects.filter(pk=patient_id).prefetch_related("names").first()
    if p is None:
        return []
    names = [(n.family, f"{n.given} {n.middle}") for n in p.names.all()]
    born = p.birth_date if isinstance(p.birth_date, date) else None
    if (read.names and name_level(read.names, names) == "disagree") or (
        birth_level(read.birth_date, born) == "disagree"
    ):
        return ["the pages name someone other than the cover sheet's patient"]
    return []


def _known_at(patient_id: Any, facility: Facility) -> bool:
    return (
        PatientIdentifier.objects.filter(patient_id=patient_id, facility=facility,
                                         kind=IdentifierKind.MRN).exists()
        or Encounter.objects.filter(patient_id=patient_id, facility=facility).exists()
    )  # fmt: skip
