"""Planning scanned test batches (pure, seeded): which patients' documents, of which
types and layouts, in which order, with which covers, separators, backs, stamps,
turns and skews; and the ground truth that follows from the plan."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from recordroom.capture import cover as cover_code

from .problems import BY_KEY, fitting
from .render import DocJob
from .scan_layout import OUTSIDE, PrintedDoc

TRUTH_SUFFIX = ".truth.json"


@dataclass(frozen=True)
class Person:
    """A patient as papers name them (MRN and facility: their record number there)."""

    id: str
    family: str
    given: str
    birth_date: date
    sex: str
    mrn: str
    facility: str


@dataclass(frozen=True)
class Visit:
    id: str
    patient_id: str
    facility: str
    account: str
    cls: str  # IMP, AMB, EMER, OBSENC, VR ...
    admit: datetime
    discharge: datetime | None
    attending: str


@dataclass(frozen=True)
class Site:
    code: str
    name: str
    address: str = ""
    phone: str = ""


@dataclass
class Population:
    people: list[Person]
    visits: list[Visit] = field(default_factory=list)
    sites: dict[str, Site] = field(default_factory=dict)
    authors: list[str] = field(default_factory=list)  # "Given Family, MD"


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str  # pdf, tiff, png, jpeg
    dpi: tuple[int, int]
    bilevel: bool
    fax: bool = False
    single: bool = False  # one page per file (PNG, JPEG)


PROFILES = {
    p.name: p
    for p in (
        Profile("scan-300-bw", "pdf", (300, 300), True),
        Profile("fax-fine", "tiff", (204, 196), True, fax=True),
        Profile("scan-200-gray", "pdf", (200, 200), False),
        Profile("scan-png", "png", (300, 300), True, single=True),
        Profile("fax-standard", "tiff", (204, 98), True, fax=True),
        Profile("photo-jpeg", "jpeg", (200, 200), False, single=True),
    )
}
_PROFILE_WEIGHTS = {"scan-300-bw": 30, "fax-fine": 20, "scan-200-gray": 20,
                    "scan-png": 10, "fax-standard": 10, "photo-jpeg": 10}  # fmt: skip
# Features each of the first four multi-page batches must show (so that a small set,
# the demo's six batches, has every one of them).
_MUST = (
    {"blank-back", "back-note", "cover-qrcode", "separator", "rotated-90", "layout-lab",
     "mixed-patients", "scribble"},
    {"name-dob-only", "layout-outside", "stamp", "skew"},
    {"bleed-through", "back-stamp", "cover-datamatrix", "rotated-180", "layout-ours",
     "mixed-patients", "edge"},
    {"stamp", "layout-outside", "cover-qrcode"},
)  # fmt: skip

# code: (display, weight, pages low, pages high, layouts allowed)
TYPES: dict[str, tuple[str, int, int, int, tuple[str, ...]]] = {
    "34117-2": ("History and Physical", 9, 1, 3, ("ours",)),
    "18842-5": ("Discharge Summary", 9, 1, 3, ("ours",)),
    "11504-8": ("Operative Report", 6, 1, 2, ("ours",)),
    "11506-3": ("Progress Note", 12, 1, 2, ("ours", "ours", "outside")),
    "11488-4": ("Consultation Note", 8, 1, 2, ("ours", "outside")),
    "34111-5": ("Emergency Department Note", 8, 1, 3, ("ours",)),
    "18748-4": ("Radiology Report", 7, 1, 1, ("ours", "outside")),
    "11502-2": ("Laboratory Report", 8, 1, 2, ("lab", "lab", "ours")),
    "11526-1": ("Pathology Report", 5, 1, 1, ("lab", "ours")),
    "59284-0": ("Consent for Operation or Procedure", 7, 1, 1, ("ours",)),
    "AUTH": ("Authorization for Release of Health Information", 6, 1, 1, ("ours",)),
    "CORR": ("Correspondence", 8, 1, 3, ("outside",)),
    "57133-1": ("Referral Letter", 7, 1, 1, ("outside",)),
}
_INPATIENT_TYPES = {"34117-2", "18842-5", "11504-8", "11526-1"}
_OUTSIDE_AUTHORS = ("Anne Keller, MD", "Rafael Ortiz, DO", "Priya Natarajan, MD",
                    "Thomas Byrne, PA-C", "Helen Osei, MD", "Mark Lindqvist, MD")  # fmt: skip
_BACK_NOTES = ("Pt notified of results", "Copy sent to PCP", "Reviewed - see chart",
               "Called pt, left message", "Orig. to HIM")  # fmt: skip


@dataclass(frozen=True)
class PagePlan:
    kind: str  # content, back, cover, separator
    doc: int | None  # the batch's document index (a cover's: the one it starts)
    index: int = 0  # the printed page of the document (a back: its front's)
    back: str = ""  # blank, bleed, note, stamp
    turn: int = 0  # degrees the image is turned counter-clockwise
    skew: float = 0.0  # degrees
    stamp: bool = False
    scribble: bool = False
    edge: bool = False
    speckle: float = 0.0001
    note: str = ""


@dataclass(frozen=True)
class DocPlan:
    index: int
    patient_id: str
    encounter_id: str | None
    code: str
    service_date: date
    printed: PrintedDoc
    identifiers: str  # "mrn+name+dob" or "name+dob"
    cover: str = ""  # "", "qrcode", "datamatrix"
    cover_text: str = ""
    cover_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchPlan:
    number: int
    name: str
    profile: Profile
    key: str
    received: date
    docs: tuple[DocPlan, ...]
    pages: tuple[PagePlan, ...]
    fax_from: str = ""

    @property
    def filename(self) -> str:
        ext = {"pdf": "pdf", "tiff": "tif", "png": "png", "jpeg": "jpg"}
        return f"{self.name}.{ext[self.profile.kind]}"


# --- planning (pure) -------------------------------------------------------------------


BACK_FEATURES = {"blank-back": "blank", "bleed-through": "bleed", "back-note": "note",
                 "back-stamp": "stamp"}  # fmt: skip


class _Wants:
    """Random choices, except that a feature the batch must show comes out yes the
    first time it is asked."""

    def __init__(self, rng: random.Random, must: set[str]) -> None:
        self.rng = rng
        self.must = set(must)

    def pending(self, feature: str) -> bool:
        return feature in self.must

    def __call__(self, feature: str, p: float) -> bool:
        if feature in self.must:
            self.must.discard(feature)
            return True
        return self.rng.random() < p


class Planner:
    def __init__(self, population: Population, seed: int) -> None:
        if not population.people:
            raise ValueError("the population has nobody to scan papers for")
        self.pop = population
        self.seed = seed
        self.visits: dict[str, list[Visit]] = {}
        for v in population.visits:
            self.visits.setdefault(v.patient_id, []).append(v)
        self.codes = list(TYPES)
        self.weights = [TYPES[c][1] for c in self.codes]
        self.anchor = max(
            [v.admit.date() for v in population.visits] or [date(2026, 6, 1)]
        )

    def profile_for(self, number: int) -> tuple[Profile, set[str]]:
        """The first six batches take each profile once (the first four multi-page
        ones with the features they must show); later ones are drawn by weight."""
        names = list(PROFILES)
        if number < len(names):
            profile = PROFILES[names[number]]
            multi = [n for n in names[: number + 1] if not PROFILES[n].single]
            must = (
                set() if profile.single else set(_MUST[(len(multi) - 1) % len(_MUST)])
            )
            return profile, must
        rng = random.Random(f"recordroom-scans-profile:{self.seed}:{number}")
        name = rng.choices(names, [_PROFILE_WEIGHTS[n] for n in names])[0]
        return PROFILES[name], set()

    def batch(self, number: int) -> BatchPlan:
        profile, must = self.profile_for(number)
        key = f"recordroom-scans:{self.seed}:{number}"
        rng = random.Random(key)
        want = _Wants(rng, must)
        n_people = 1 if profile.single else rng.choice((1, 2, 2, 3, 4))
        if want.pending("mixed-patients"):
            want("mixed-patients", 0)
            n_people = max(n_people, 2)
        people = rng.sample(self.pop.people, min(n_people, len(self.pop.people)))
        n_docs = 1 if profile.single else rng.randrange(2, 6 if profile.fax else 8)
        n_docs = max(n_docs, len(people))
        sender = rng.randrange(len(OUTSIDE))
        docs = [
            self._doc(rng, i, people[i % len(people)], profile, want, sender, number)
            for i in range(n_docs)
        ]
        received = max(d.service_date for d in docs) + timedelta(rng.randrange(1, 15))
        pages, docs = self._pages(rng, docs, profile, want)
        return BatchPlan(
            number, f"batch-{number:04d}-{profile.name}", profile, key, received,
            tuple(docs), tuple(pages),
            fax_from=_fax_sender(sender) if profile.fax else "",
        )  # fmt: skip

    def _code(
        self, rng: random.Random, profile: Profile, want: _Wants
    ) -> tuple[str, str]:
        if profile.single:
            code = rng.choice(("59284-0", "AUTH", "57133-1", "CORR", "11502-2"))
            return code, rng.choice(TYPES[code][4])
        if want.pending("layout-lab"):
            want("layout-lab", 0)
            return "11502-2", "lab"
        if want.pending("layout-outside") or want.pending("name-dob-only"):
            want("layout-outside", 0)
            want("name-dob-only", 0)
            return rng.choice(("CORR", "57133-1", "11488-4")), "outside"
        if want.pending("layout-ours"):
            want("layout-ours", 0)
            return rng.choice(("34117-2", "18842-5", "34111-5")), "ours"
        code = rng.choices(self.codes, self.weights)[0]
        layouts = TYPES[code][4]
        layout = rng.choice(layouts)
        if profile.fax and "outside" in layouts and rng.random() < 0.7:
            layout = "outside"
        return code, layout

    def _doc(self, rng: random.Random, index: int, person: Person, profile: Profile,
             want: _Wants, sender: int, number: int) -> DocPlan:  # fmt: skip
        code, layout = self._code(rng, profile, want)
        display, _w, low, high, _layouts = TYPES[code]
        visit = self._visit(rng, person, code) if layout == "ours" else None
        service = self._service(rng, visit, code)
        site = self.pop.sites.get(visit.facility if visit else person.facility) or Site(
            person.facility, person.facility)  # fmt: skip
        show_mrn = layout == "ours" or (layout == "lab" and rng.random() < 0.5)
        author = (visit.attending if visit and visit.attending else
                  rng.choice(self.pop.authors) if layout == "ours" and self.pop.authors
                  else rng.choice(_OUTSIDE_AUTHORS))  # fmt: skip
        age = max(0, (service - person.birth_date).days // 365)
        problems = fitting(visit.cls if visit else "AMB", age, person.sex) or [
            BY_KEY["annual"]]  # fmt: skip
        job = DocJob(
            key=f"{self.seed}:{number}:{index}", code=code, title=display,
            facility=site.name, facility_line=f"{site.address}  Tel {site.phone}",
            patient=f"{person.family.upper()}, {person.given}",
            birth_date=f"{person.birth_date:%m/%d/%Y}", sex=person.sex, age=age,
            mrn=person.mrn, service=f"{service:%m/%d/%Y} {rng.randrange(7, 19):02d}:"
            f"{rng.choice((0, 15, 30, 45)):02d}",
            author=author, problem=rng.choice(problems).key,
            account=visit.account if visit else "",
            encounter=f"{_CLASS_WORD.get(visit.cls, visit.cls)} visit" if visit else "",
            admit=f"{visit.admit:%m/%d/%Y}" if visit else "",
            discharge=f"{visit.discharge:%m/%d/%Y}" if visit and visit.discharge else "",
            attending=visit.attending if visit else "",
        )  # fmt: skip
        printed = PrintedDoc(
            job=job, layout=layout,
            pages=1 if profile.single else rng.randrange(low, high + 1),
            given=person.given, family=person.family, birth=person.birth_date,
            service_day=service, sender=sender if layout == "outside" else rng.randrange(2),
            show_mrn=show_mrn, signature=code in ("59284-0", "AUTH"),
        )  # fmt: skip
        return DocPlan(
            index=index, patient_id=person.id,
            encounter_id=visit.id if visit else None, code=code, service_date=service,
            printed=printed, identifiers="mrn+name+dob" if show_mrn else "name+dob",
        )  # fmt: skip

    def _visit(self, rng: random.Random, person: Person, code: str) -> Visit | None:
        visits = self.visits.get(person.id, [])
        if not visits:
            return None
        inpatient = [v for v in visits if v.cls in ("IMP", "OBSENC")]
        emergency = [v for v in visits if v.cls == "EMER"]
        if code in _INPATIENT_TYPES and inpatient:
            return rng.choice(inpatient)
        if code == "34111-5" and emergency:
            return rng.choice(emergency)
        return rng.choice(visits)

    def _service(self, rng: random.Random, visit: Visit | None, code: str) -> date:
        if visit is None:  # outside care: some day in the two years before
            return self.anchor - timedelta(rng.randrange(0, 700))
        start = visit.admit.date()
        end = (visit.discharge or visit.admit).date()
        if code == "18842-5":
            return end
        if code in ("34117-2", "34111-5", "59284-0"):
            return start
        return start + timedelta(rng.randrange(0, (end - start).days + 1))

    def _pages(self, rng: random.Random, docs: list[DocPlan], profile: Profile,
               want: _Wants) -> tuple[list[PagePlan], list[DocPlan]]:  # fmt: skip
        out: list[PagePlan] = []
        paper = not profile.fax and not profile.single
        forced = [b for f, b in BACK_FEATURES.items() if want.pending(f)]
        duplex = paper and (bool(forced) or rng.random() < 0.45)
        for f in BACK_FEATURES:
            want.must.discard(f)
        docs = list(docs)
        for d_i, doc in enumerate(docs):
            qr = not profile.single and want(
                "cover-qrcode", 0.05 if profile.fax else 0.12
            )
            dm = not qr and not profile.single and want("cover-datamatrix", 0.08)
            if qr or dm:
                docs[d_i] = doc = _with_cover(doc, "qrcode" if qr else "datamatrix")
                out.append(PagePlan("cover", d_i, turn=180 if rng.random() < 0.03 else 0,
                                    skew=_skew(rng, 1.5), speckle=0.00005))  # fmt: skip
            elif d_i and paper and want("separator", 0.15):
                out.append(PagePlan("separator", None, skew=_skew(rng, 1.5)))
            for p in range(doc.printed.pages):
                turn = 90 if want("rotated-90", 0.025) else (
                    180 if want("rotated-180", 0.025) else 0)  # fmt: skip
                out.append(PagePlan(
                    "content", d_i, p, turn=turn,
                    skew=_skew(rng, 3.0) if want("skew", 0.6) else 0.0,
                    stamp=p == 0 and want("stamp", 0.35 if profile.fax else 0.2),
                    scribble=(p == doc.printed.pages - 1 and doc.printed.signature)
                    or want("scribble", 0.15),
                    edge=want("edge", 0.1), speckle=rng.uniform(0.00003, 0.0003),
                ))  # fmt: skip
                if duplex:
                    back = forced.pop() if forced else rng.choices(
                        ("blank", "bleed", "note", "stamp"), (70, 16, 7, 7))[0]  # fmt: skip
                    out.append(PagePlan(
                        "back", d_i, p, back=back, skew=_skew(rng, 2.0),
                        speckle=rng.uniform(0.00001, 0.00008),
                        note=rng.choice(_BACK_NOTES) if back == "note" else "",
                    ))  # fmt: skip
        return out, docs


_CLASS_WORD = {"IMP": "Inpatient", "AMB": "Outpatient", "EMER": "Emergency",
               "OBSENC": "Observation", "VR": "Telehealth"}  # fmt: skip


def _skew(rng: random.Random, limit: float) -> float:
    return round(rng.uniform(-limit, limit), 2)


def _fax_sender(sender: int) -> str:
    name, _address, phone = OUTSIDE[sender % len(OUTSIDE)]
    return f"{name.upper()} {phone[:-4]}0199"


def _with_cover(doc: DocPlan, kind: str) -> DocPlan:
    job = doc.printed.job
    text = cover_code.encode(cover_code.Cover(
        patient_id=uuid.UUID(doc.patient_id),
        encounter_id=uuid.UUID(doc.encounter_id) if doc.encounter_id else None,
        doc_type=doc.code, pages=doc.printed.pages,
    ))  # fmt: skip
    lines = (job.patient, job.mrn, job.birth_date, job.title, job.account, job.facility)
    fields = {f: getattr(doc, f) for f in DocPlan.__dataclass_fields__}
    fields.update(cover=kind, cover_text=text, cover_lines=lines)
    return DocPlan(**fields)
