"""Capture reading accuracy (issue 13): documents rendered with reportlab in four
layouts (our header, an outside hospital's, a lab's in capitals, a referral letter
naming the patient only in prose), rasterised with speckle and skew, read by Tesseract,
then read, matched against a real index and decided with the default auto-file rule.

    .venv/bin/python bench/capture/reading.py --documents 200 --data-dir /tmp/rr-bench-capread

Noise on paper as well as in the OCR: 8% of documents carry an MRN with one digit
wrong (often another patient's: MRNs are sequential), 4% a wrong birth date, 10% no MRN
at all (letters), 10% twins (same surname and birth date) in the index. Prints value
accuracy per kind, patient and type accuracy, the auto-file rate, the documents filed
to a wrong patient (the target is none), the type confusion matrix, and how the
auto-file rate and wrong filings move with the patient threshold.
"""

from __future__ import annotations

import argparse
import io
import random
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import _common  # noqa: E402

FAMILIES = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez "
            "Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin "
            "Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker "
            "Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson "
            "Baker Hall Rivera Campbell Mitchell Carter Roberts Kowalski Okafor Novak").split()  # fmt: skip
GIVENS = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
          "Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Daniel Nancy "
          "Matthew Lisa Anthony Betty Mark Sandra Steven Ashley Paul Emily Andrew Donna "
          "Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah").split()  # fmt: skip
TYPES = {
    "18842-5": ("DISCHARGE SUMMARY", ["Hospital course", "Discharge medications", "Disposition and follow-up"]),
    "34117-2": ("HISTORY AND PHYSICAL", ["Chief complaint", "History of present illness", "Review of systems", "Physical examination"]),
    "11504-8": ("OPERATIVE REPORT", ["Preoperative diagnosis", "Anesthesia", "Estimated blood loss", "Findings"]),
    "11506-3": ("PROGRESS NOTE", ["Subjective", "Objective", "Assessment", "Plan"]),
    "18748-4": ("RADIOLOGY REPORT", ["Examination", "Comparison", "Findings", "Impression"]),
    "11502-2": ("LABORATORY REPORT", ["Specimen", "Results", "Reference range"]),
    "59284-0": ("CONSENT FOR OPERATION OR PROCEDURE", ["Signature of patient or representative", "Witness"]),
    "AUTH": ("AUTHORIZATION FOR RELEASE OF HEALTH INFORMATION", ["Information to be released", "Expiration"]),
    "57133-1": ("REFERRAL", ["Reason for referral"]),
}  # fmt: skip
SENTENCE = ("The patient was evaluated and the findings were discussed with the family. "
            "Vital signs were stable and the plan of care was reviewed in detail.")  # fmt: skip


@dataclass(frozen=True)
class Person:
    pk: str
    family: str
    given: str
    born: date
    mrn: str


@dataclass(frozen=True)
class Doc:
    n: int
    truth: str  # patient pk
    code: str
    layout: str
    family: str
    given: str
    born: date
    mrn: str  # as printed ("" none)
    service: date
    clean: bool  # the patient's own MRN and birth date printed


def render(doc: Doc) -> bytes:
    from reportlab.lib.pagesizes import letter
    from reportlab.pdfgen import canvas

    title, sections = TYPES[doc.code]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter, invariant=1)
    y = 740
    dob = doc.born.strftime("%m/%d/%Y")
    svc = doc.service.strftime("%m/%d/%Y")

    def line(text: str, size: int = 10, bold: bool = False, x: int = 54) -> None:
        nonlocal y
        c.setFont("Helvetica-Bold" if bold else "Helvetica", size)
        c.drawString(x, y, text)
        y -= size + 6

    if doc.layout == "ours":
        line("North General Hospital", 13, True)
        line("12 Elm St, Springfield IL  Tel 217-555-0100", 8)
        line(title.title() if doc.code not in ("AUTH", "59284-0") else title, 15, True)
        mrn = f"    MRN: {doc.mrn}" if doc.mrn else ""
        line(
            f"Patient: {doc.family.upper()}, {doc.given}    DOB: {dob}    Sex: unknown{mrn}",
            9,
        )
        line(f"Date of service: {svc}    Author: OSLER, William", 9)
    elif doc.layout == "outside":
        line("ST. ELSEWHERE MEDICAL CENTER", 13, True)
        line(title, 15, True)
        c.setFont("Helvetica", 10)
        c.drawString(54, y, f"Name: {doc.given} {doc.family}")
        if doc.mrn:
            c.drawString(330, y, f"Medical Record No: {doc.mrn}")
        y -= 16
        c.drawString(54, y, f"Date of Birth: {doc.born.strftime('%b %d, %Y')}")
        c.drawString(330, y, f"Admission Date: {svc}")
        y -= 16
    elif doc.layout == "lab":
        line("REGIONAL REFERENCE LABORATORY", 13, True)
        line(title, 14, True)
        mrn = f"        MR#: {doc.mrn}" if doc.mrn else ""
        line(f"PATIENT NAME: {doc.family.upper()}, {doc.given.upper()}{mrn}", 10)
        line(f"DOB: {dob}    COLLECTED: {svc}", 10)
    else:  # a letter: the patient by name and birth date in prose
        line("LAKESIDE FAMILY CLINIC", 13, True)
        line(title, 14, True)
        line(f"Date: {svc}")
        line("Dear Dr. Osler,")
        line(
            f"I am writing about our mutual patient {doc.given} {doc.family} (DOB {dob}) who"
        )
        line("was seen in our clinic this week.")
    y -= 10
    for heading in sections:
        line(heading, 10, True)
        line(SENTENCE[: 60 + (doc.n * 7) % 60])
        y -= 4
    line("Electronically signed by Dr. William Osler, MD", 9)
    c.showPage()
    c.save()
    return buf.getvalue()


def scan_doc(args: tuple[Doc, int]) -> tuple[int, list]:
    from tests.capture.reading.scanned import scan

    doc, dpi = args
    return doc.n, scan(render(doc), dpi=dpi, seed=doc.n)


def population(rng: random.Random, count: int, facility) -> list[Person]:
    from recordroom.kernel.actor import Actor
    from recordroom.mpi.services import (
        IdentifierIn,
        NameIn,
        PatientIn,
        register_patient,
    )

    actor = Actor(channel="bench")
    out: list[Person] = []
    seen: set[tuple[str, str, date]] = set()
    while len(out) < count:
        family, given = rng.choice(FAMILIES), rng.choice(GIVENS)
        born = date(1930, 1, 1) + timedelta(days=rng.randrange(90 * 365))
        twin = out and rng.random() < 0.1
        if twin:  # a twin: the last patient's surname and birth date
            family, born = out[-1].family, out[-1].born
            given = rng.choice([g for g in GIVENS if g != out[-1].given])
        if (family, given, born) in seen:
            continue
        seen.add((family, given, born))
        mrn = f"{len(out) + 1001:08d}"
        p = register_patient(actor=actor, data=PatientIn(
            names=[NameIn(family=family, given=given)], birth_date=born,
            identifiers=[IdentifierIn(kind="MR", value=mrn, facility=facility)]))  # fmt: skip
        out.append(Person(str(p.pk), family, given, born, mrn))
    return out


def documents(rng: random.Random, people: list[Person], count: int) -> list[Doc]:
    docs = []
    for n in range(count):
        p = rng.choice(people)
        code = rng.choice(list(TYPES))
        layout = (
            "letter"
            if code == "57133-1"
            else rng.choice(["ours", "ours", "outside", "lab"])
        )
        mrn, born = p.mrn, p.born
        roll = rng.random()
        if layout == "letter" or roll < 0.10:
            mrn = ""
        elif roll < 0.18:  # one digit keyed wrong (sequential MRNs: often another's)
            k = rng.randrange(5, 8)
            mrn = mrn[:k] + str((int(mrn[k]) + rng.randrange(1, 9)) % 10) + mrn[k + 1 :]
        elif roll < 0.22:
            born = born + timedelta(days=rng.randrange(40, 4000))
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(600))
        clean = mrn == p.mrn and born == p.born
        docs.append(
            Doc(n, p.pk, code, layout, p.family, p.given, born, mrn, day, clean)
        )
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--documents", type=int, default=200)
    ap.add_argument("--patients", type=int, default=400)
    ap.add_argument("--data-dir", default="/tmp/rr-bench-capread")
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--verbose", action="store_true", help="why each document queued")
    args = ap.parse_args()
    _common.ensure_database()
    _common.setup_django(args.data_dir)
    from recordroom.capture.models import CaptureSource
    from recordroom.capture.reading import decide, propose, read_values
    from recordroom.mpi.models import Facility, Patient

    rng = random.Random(args.seed)
    facility = Facility.objects.filter(code="NORTH").first() or Facility.objects.create(
        code="NORTH", name="North General Hospital", mrn_system="urn:bench:north:mrn"
    )
    if Patient.objects.count() == 0:
        people = population(rng, args.patients, facility)
    else:
        raise SystemExit(
            f"{args.data_dir} already holds patients: use a new --data-dir"
        )
    docs = documents(rng, people, args.documents)
    source, _ = CaptureSource.objects.get_or_create(
        name="bench-scanner", kind="scanner", facility=facility
    )
    t0 = _common.time.perf_counter()
    with Pool(args.jobs) as pool:
        scanned = dict(pool.map(scan_doc, [(d, args.dpi) for d in docs], chunksize=4))
    ocr_s = _common.time.perf_counter() - t0
    values_ok: Counter[str] = Counter()
    results = []
    confusion: Counter[tuple[str, str]] = Counter()
    t0 = _common.time.perf_counter()
    for d in docs:
        pages = scanned[d.n]
        values = read_values(pages)
        best = {v.kind: v.normalised for v in reversed(values)}
        values_ok["name"] += (
            best.get("name", "").split(" ")[0].rstrip(",") == d.family.upper()
        )
        values_ok["birth_date"] += best.get("birth_date") == d.born.isoformat()
        values_ok["mrn"] += (
            (best.get("mrn", "") == d.mrn) if d.mrn else ("mrn" not in best)
        )
        proposal = propose(values, pages, facility=facility)
        decision = decide(proposal, source=source)
        confusion[(d.code, proposal.doc_type.code or "-")] += 1
        results.append((d, proposal, decision))
        if args.verbose and not decision.auto_file:
            print(f"  doc {d.n} printed {d.family}, {d.given}; read {best}")
            print("    " + "\n    ".join(pages[0].text.splitlines()[:6]))
    read_s = _common.time.perf_counter() - t0
    n = len(docs)
    print(f"documents {n} (one page each, {args.dpi} dpi), patients {len(people)}; OCR "
          f"{ocr_s:.0f} s with {args.jobs} processes; reading {read_s / n * 1000:.0f} ms per document")  # fmt: skip
    print(
        "\nvalues read right: "
        + ", ".join(
            f"{k} {values_ok[k] / n:.1%}" for k in ("mrn", "name", "birth_date")
        )
    )
    right = sum(str(p.patient.patient_id) == d.truth for d, p, _ in results)
    auto = [(d, p) for d, p, dec in results if dec.auto_file]
    wrong = [(d, p) for d, p in auto if str(p.patient.patient_id) != d.truth]
    type_ok = sum(p.doc_type.code == d.code for d, p, _ in results)
    print(f"patient proposed right: {right / n:.1%}; type right: {type_ok / n:.1%}")
    print(
        f"auto-filed: {len(auto)} ({len(auto) / n:.1%}); to a wrong patient: {len(wrong)}; "
        f"right patient among auto-filed: {(len(auto) - len(wrong)) / max(1, len(auto)):.1%}"
    )
    clean = [(d, dec) for d, _, dec in results if d.clean]
    print(
        f"clean pages (own MRN and birth date printed): {len(clean)}, auto-filed "
        f"{sum(dec.auto_file for _, dec in clean) / max(1, len(clean)):.1%}; the others "
        "(no MRN, an MRN keyed wrong, a wrong birth date) must wait"
    )
    for d, p in wrong:
        print(
            f"  WRONG: doc {d.n} {d.layout} printed {d.family}, {d.given} {d.born} MRN {d.mrn}: {p.patient.evidence}"
        )
    if args.verbose:
        for d, p, dec in results:
            if not dec.auto_file:
                print(
                    f"  queued doc {d.n} {d.layout} {d.code} mrn={d.mrn!r}: {dec.reasons} {p.patient.evidence}"
                )
    print("\nby patient threshold (type 0.90): threshold, auto-filed, wrong")
    for t in (0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995):
        ok = [(d, p) for d, p, _ in results
              if p.patient.patient_id is not None and p.patient.confidence >= t
              and p.doc_type.confidence >= 0.9 and not p.flags]  # fmt: skip
        bad = sum(str(p.patient.patient_id) != d.truth for d, p in ok)
        print(f"  {t:.3f}  {len(ok) / n:6.1%}  {bad}")
    print("\nby layout: auto-filed / documents")
    for layout in ("ours", "outside", "lab", "letter"):
        mine = [(d, dec) for d, _, dec in results if d.layout == layout]
        print(f"  {layout:8} {sum(dec.auto_file for _, dec in mine)} / {len(mine)}")
    print("\ntype confusion (true -> proposed: count), off-diagonal only:")
    for (t, g), k in sorted(confusion.items()):
        if t != g:
            print(f"  {t} -> {g}: {k}")
    _common.footer()


if __name__ == "__main__":
    main()
