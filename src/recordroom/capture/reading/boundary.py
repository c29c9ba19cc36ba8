"""Where a new document starts inside a run of pages with no separator: what each page
says about its place (the patient it names, a title heading it, its page number, its
date of service), and whether that differs from the document being gathered. Each cut
gives its reason in plain words (kept as evidence, shown in the indexing queue)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz

from recordroom.capture.types import PageRead, Value

from .classify import title_on
from .extract import read_page
from .match import birth_level

# "Page 2 of 3", "PAGE 2 OF 3", "Page 2/3", "Pg. 2", "Page 2": the page's number in its
# document (a fax machine's transmission header counts the whole fax, not a document:
# its line is left out)
_PAGE_NO = re.compile(
    r"(?<![A-Za-z])(?:page|pg\.?)[ ]*(\d{1,3})(?:[ ]*(?:of|/)[ ]*(\d{1,3}))?(?!\d)",
    re.I,
)
_TRANSMISSION = re.compile(r"\b(?:from|to)\s*:|\bfax\b|\btx\b", re.I)
SURE = 0.8  # the confidence an identifier read needs to cut a document on
SPARSE = 12  # words: fewer make a page that cannot start a document on its own


@dataclass(frozen=True)
class Marks:
    """What one page says about where it belongs."""

    number: int  # the page in the batch
    page_no: int | None = None  # its printed page number
    page_of: int | None = None  # of how many
    title: str | None = None  # the type code its heading names
    title_text: str = ""
    mrns: frozenset[str] = frozenset()
    births: frozenset[str] = frozenset()  # ISO dates
    names: frozenset[str] = frozenset()  # "FAMILY, GIVEN"
    service: str | None = None  # ISO date of service
    words: int = 0

    @property
    def header(self) -> bool:
        """Does the page carry a document's header (a title or whose it is)?"""
        return bool(self.title or self.mrns or self.births or self.names)


def page_number(page: PageRead) -> tuple[int | None, int | None]:
    """(number, of) printed on the page; (None, None) when none."""
    for line in page.text.splitlines():
        if _TRANSMISSION.search(line):
            continue
        m = _PAGE_NO.search(line)
        if m is not None:
            n = int(m.group(1))
            of = int(m.group(2)) if m.group(2) else None
            if n >= 1 and (of is None or 1 <= n <= of):
                return n, of
    return None, None


def marks(page: PageRead, facility_names: dict[str, str]) -> Marks:
    """Read `page` for the marks that place it in a document."""
    values = read_page(page, facility_names)
    n, of = page_number(page)
    title = title_on(page)

    def sure(kind: str, at: float = SURE) -> frozenset[str]:
        return frozenset(v.normalised for v in values
                         if v.kind == kind and v.confidence >= at)  # fmt: skip

    services = sorted((v for v in values if v.kind == "service_date"
                       and v.confidence >= SURE), key=lambda v: -v.confidence)  # fmt: skip
    return Marks(
        number=page.number, page_no=n, page_of=of,
        title=title[0] if title else None, title_text=title[1] if title else "",
        mrns=sure("mrn"), births=sure("birth_date"), names=_names(values),
        service=services[0].normalised if services else None, words=len(page.words),
    )  # fmt: skip


def _names(values: list[Value]) -> frozenset[str]:
    return frozenset(v.normalised for v in values if v.kind == "name"
                     and v.confidence >= 0.5 and ", " in v.normalised)  # fmt: skip


@dataclass
class Running:
    """The document being gathered: what its pages have said so far."""

    pages: list[int] = field(default_factory=list)
    title: str | None = None
    title_text: str = ""
    mrns: set[str] = field(default_factory=set)
    births: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    service: str | None = None
    last_no: int | None = None
    last_of: int | None = None
    numbered: bool = False  # a page of it carried a page number
    expected: int | None = None  # the pages its cover sheet counted
    printed: int = 0  # its pages with a header or more than a few words

    def add(self, m: Marks) -> None:
        self.pages.append(m.number)
        self.printed += m.header or m.words >= SPARSE
        if self.title is None and m.title:
            self.title, self.title_text = m.title, m.title_text
        self.mrns |= m.mrns
        self.births |= m.births
        self.names |= m.names
        self.service = self.service or m.service
        if m.page_no is not None:
            self.last_no, self.last_of, self.numbered = m.page_no, m.page_of, True


def _same_id(a: str, b: str) -> bool:
    """One identifier, allowing leading zeros and a single OCR slip."""
    if a.lstrip("0") == b.lstrip("0"):
        return True
    return len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) <= 1


def _family(name: str) -> str:
    return name.partition(", ")[0].replace(" ", "")


def _given(name: str) -> str:
    return name.partition(", ")[2].split(" ")[0]


def other_patient(run: Running, m: Marks) -> str | None:
    """Why `m` names someone else than the running document, or None."""
    if run.mrns and m.mrns:
        if any(_same_id(a, b) for a in run.mrns for b in m.mrns):
            return None  # the same record number: the same patient
        return (f"page {m.number} names MRN {min(m.mrns)}, the pages before "
                f"MRN {min(run.mrns)}")  # fmt: skip
    if run.births and m.births:
        levels = {birth_level(date.fromisoformat(b), date.fromisoformat(a))
                  for a in run.births for b in m.births}  # fmt: skip
        if not levels & {"agree", "near"}:
            return (f"page {m.number} gives birth date {min(m.births)}, the pages "
                    f"before {min(run.births)}")  # fmt: skip
    if run.names and m.names:
        close = any(fuzz.ratio(_family(a), _family(b)) >= 80
                    for a in run.names for b in m.names)  # fmt: skip
        # 'BUMS, DAVID' after 'BURNS, DAVID' born the same day: an OCR slip
        slip = bool(run.births & m.births) and bool(
            {_given(a) for a in run.names} & {_given(b) for b in m.names})
        if not close and not slip:
            return (f"page {m.number} names {min(m.names)}, the pages before "
                    f"{min(run.names)}")  # fmt: skip
    return None


def new_document(run: Running, m: Marks) -> str | None:
    """The reason page `m` starts a new document after `run`, or None when it goes on
    with it. A page that names another patient always starts one; a page numbered
    as the next of the running document never does otherwise."""
    if not run.pages:
        return None
    other = other_patient(run, m)
    if other:
        return other
    if (run.expected is not None and run.printed >= run.expected
            and m.header and m.words >= SPARSE):  # fmt: skip
        return (f"the cover sheet counted {run.expected} page"
                f"{'s' if run.expected != 1 else ''} and page {m.number} has a header")  # fmt: skip
    nxt = (
        m.page_no is not None
        and m.page_no > 1
        and run.last_no is not None
        and m.page_no == run.last_no + 1
        and (m.page_of is None or run.last_of is None or m.page_of == run.last_of)
    )
    if nxt:
        return None
    if m.page_no == 1:
        return f"page {m.number} is page 1" + (f" of {m.page_of}" if m.page_of else "")
    if m.page_no is not None and run.last_no is not None and m.page_no <= run.last_no:
        return (f"page {m.number} is numbered {m.page_no} after page "
                f"{run.last_no}: the numbering starts again")  # fmt: skip
    if m.title and run.title and m.title != run.title:
        return (f"page {m.number} is headed '{m.title_text}', the pages before "
                f"'{run.title_text}'")  # fmt: skip
    if m.title and m.service and run.service and m.service != run.service:
        return (f"page {m.number} has a new header with date of service "
                f"{m.service} (the pages before: {run.service})")  # fmt: skip
    if m.header and m.words >= SPARSE and m.page_no is None and run.numbered:
        return (f"page {m.number} has a header but no page number, the pages "
                "before were numbered")  # fmt: skip
    if (m.header and m.page_no is None and run.last_of is not None
            and run.last_no == run.last_of):  # fmt: skip
        return f"the document before ended at page {run.last_no} of {run.last_of}"
    return None
