"""Reading what identifies a document from its pages: MRN, account, name, birth date,
date of service, facility and author from the text (each with the box of its words and
a confidence), and patient, visit and type from a Recordroom cover sheet's barcode."""

from __future__ import annotations

import re
from dataclasses import dataclass

from recordroom.capture import cover
from recordroom.capture.types import PageRead, Value

from . import dates
from .fields import NOT_NAMES, TITLES, identifier, person_name
from .lines import GAP, Line, page_lines, union

# Labels per kind: (pattern, confidence of a value found after it). Spaces in a
# pattern match any run of spaces (a label split across words); O/0 and l/1 slips
# of the OCR are allowed where they happen.
_LABELS: dict[str, list[tuple[str, float]]] = {
    "mrn": [
        (r"medical record (?:no|number|num|#)\.?", 0.95),
        (r"med(?:ical)? rec(?:ord)? ?(?:no|#)\.?", 0.95),
        (r"m\.?r\.? ?(?:#|no\.?|num(?:ber)?)", 0.95),
        (r"mrn ?#?", 0.95),
        (r"m[r][nm]", 0.85),
        (r"patient (?:id|identifier|number|no\.?|#)", 0.85),
        (r"pt\.? (?:id|#)", 0.8),
        (r"chart (?:no\.?|number|#)", 0.8),
        (r"unit (?:no\.?|number)", 0.75),
    ],
    "account": [
        (r"acc(?:oun)?t\.? ?(?:no\.?|number|num|#)?", 0.9),
        (r"visit (?:no\.?|number|#|id)", 0.9),
        (r"fin ?(?:#|no\.?|number)?", 0.85),
        (r"encounter (?:no\.?|number|#|id)", 0.9),
        (r"csn", 0.8),
        (r"hospital account", 0.9),
    ],
    "birth_date": [
        (r"d\.?[o0]\.?b\.?", 0.95),
        (r"date of birth", 0.95),
        (r"birth ?date", 0.95),
        (r"born(?: on)?", 0.8),
    ],
    "service_date": [
        (r"date of service", 0.9),
        (r"d\.?[o0]\.?s\.?", 0.85),
        (r"service date", 0.9),
        (r"admission date", 0.85),
        (r"admit(?:ted| date)", 0.85),
        (r"date of (?:admission|visit|procedure|surgery|exam)", 0.85),
        (r"(?:visit|encounter|procedure|exam|surgery|collection|report) date", 0.8),
        (r"collected", 0.75),
        (r"date", 0.55),
    ],
    "name": [
        (r"patient(?:'s)? name", 0.95),
        (r"patient", 0.85),
        (r"pt\.? name", 0.9),
        (r"name", 0.75),
        (r"re|regarding|subject", 0.6),
    ],
    "author": [
        (r"electronically signed by", 0.9),
        (r"(?:signed|dictated|authored|reviewed|transcribed for|written) by", 0.85),
        (r"attending(?: physician| provider)?", 0.8),
        (r"(?:surgeon|author|physician|provider|pathologist|radiologist)", 0.7),
    ],
    "facility": [(r"(?:facility|hospital|location)", 0.7)],
}
# Labels after which no colon is needed (they are unlikely words in prose).
_BARE = re.compile(
    r"^(?:mrn|m\.?r\.?|dob|d\.o\.b|medical|acct|fin|csn|date of birth|born|"
    r"electronically|signed|dictated|authored|reviewed|transcribed|written)",
    re.I,
)
_NOT_PATIENT_NAME = re.compile(
    r"(?:provider|physician|doctor|facility|hospital|insurance|guarantor|contact|"
    r"employer|referring|pharmacy|clinic|plan|company|file|user|signer|witness|"
    r"representative|parent|spouse)\W*$",
    re.I,
)


@dataclass(frozen=True)
class _Label:
    kind: str
    start: int
    end: int  # after the label and its colon
    confidence: float
    colon: bool


def _compile() -> list[tuple[str, re.Pattern[str], float]]:
    out = []
    for kind, entries in _LABELS.items():
        for pattern, conf in entries:
            spaced = (
                pattern.replace(" ?", "\x00")
                .replace(" ", "[ ]+")
                .replace("\x00", "[ ]*")
            )
            out.append(
                (
                    kind,
                    re.compile(
                        rf"(?<![A-Za-z0-9])(?:{spaced})(?![A-Za-z0-9])[ ]*(?P<colon>[:;#!]|\.(?= ))?",
                        re.I,
                    ),
                    conf,
                )
            )
    return out


_PATTERNS = _compile()


def _labels(line: Line) -> list[_Label]:
    found: list[_Label] = []
    for kind, pattern, conf in _PATTERNS:
        for m in pattern.finditer(line.text):
            colon = m.group("colon") is not None
            label = m.group(0)
            if not colon and not _BARE.match(label):
                continue
            if kind == "name" and _NOT_PATIENT_NAME.search(line.text[: m.start()]):
                continue
            found.append(_Label(kind, m.start(), m.end(), conf, colon))
    # the longest label wins where two overlap ("Patient Name" over "Name")
    found.sort(key=lambda lb: (lb.start, -(lb.end - lb.start)))
    out: list[_Label] = []
    for lb in found:
        if out and lb.start < out[-1].end:
            continue
        out.append(lb)
    return out


# --- values ---------------------------------------------------------------------------

# --- reading a page -------------------------------------------------------------------


def _region(line: Line, labels: list[_Label], k: int) -> tuple[int, int]:
    """The text a label's value may take: to the next label or a wide gap."""
    start = labels[k].end
    end = labels[k + 1].start if k + 1 < len(labels) else len(line.text)
    gap = line.text.find(GAP, start)
    while gap != -1 and gap < end and not line.text[start:gap].strip(" :#.-"):
        gap = line.text.find(GAP, gap + 1)  # a gap right after the label
    if gap != -1 and gap < end:
        end = gap
    return start, end


def _below(
    lines: list[Line], line: Line, label: _Label
) -> tuple[Line, int, int] | None:
    """The value printed on the next line under a label that ends its own line."""
    if line.index + 1 >= len(lines):
        return None
    nxt = lines[line.index + 1]
    words = line.words_in(label.start, label.end)
    if not words or not nxt.words:
        return None
    x0 = words[0].bbox[0]
    for w, s in zip(nxt.words, nxt.starts, strict=True):
        if w.bbox[2] >= x0 - 5:
            end = nxt.text.find(GAP, s)
            return nxt, s, len(nxt.text) if end == -1 else end
    return None


def _value(
    kind: str,
    line: Line,
    start: int,
    end: int,
    conf: float,
    facility_names: dict[str, str],
) -> Value | None:
    text = line.text[start:end]
    found: tuple[str, int, int] | None = None
    if kind in ("mrn", "account"):
        found = identifier(text)
    elif kind in ("birth_date", "service_date"):
        parsed = dates.parse(text, past=True)
        # a value follows its label closely: a date far on is another field's
        if parsed and not text[: parsed[0][1]].strip(" :#.-\t"):
            day, s, e = parsed[0]
            found = (day.isoformat(), s, e)
    elif kind in ("name", "author"):
        lead = len(text) - len(text.lstrip(" :#.-_~;!|'\"\t"))  # OCR specks
        name = person_name(text[lead:])
        if name is not None:
            family, given, s, e = name
            found = (f"{family.upper()}, {given.upper()}", lead + s, lead + e)
    elif kind == "facility":
        code = _facility_in(text, facility_names)
        if code:
            found = (code, 0, len(text.rstrip()))
    if found is None:
        return None
    norm, s, e = found
    s, e = start + s, start + e
    ocr = line.ocr_confidence(s, e)
    return Value(
        kind=kind,
        text=line.text[s:e].replace(GAP, " ").strip(" ,;:"),
        normalised=norm,
        page=line.page,
        bbox=line.bbox(s, e),
        confidence=round(conf * (0.6 + 0.4 * ocr), 4),
    )


def _facility_in(text: str, names: dict[str, str]) -> str:
    """The code of a facility named in `text` (its name, or its code as a word)."""
    folded = " ".join(text.lower().split())
    for name, code in names.items():
        if name in folded:
            return code
    codes = set(names.values())
    for token in re.findall(r"[A-Z][A-Z0-9]{1,19}", text):
        if token in codes:
            return token
    return ""


_PROSE_DOB = re.compile(
    r"[\(,]?\s*(?:d\.?[o0]\.?b\.?|date of birth|born(?: on)?)\b", re.I
)


def _prose_names(line: Line) -> list[Value]:
    """'... our patient Mary Ann Jones (DOB 3/4/1955) ...': the name just before a
    birth date in running text."""
    out = []
    for m in _PROSE_DOB.finditer(line.text):
        if line.text[m.end() :].lstrip().startswith(":"):
            continue  # a labelled field, read as such
        before = line.text[: m.start()].rstrip(" ,(")
        if GAP in before:
            continue  # a form's columns, not a sentence
        tokens = re.findall(r"[A-Za-z][A-Za-z'\-\.]*", before)[-4:]
        picked: list[str] = []
        for t in reversed(tokens):
            if not t[0].isupper() or t.lower().strip(".") in NOT_NAMES | TITLES:
                break
            picked.insert(0, t)
        if len(picked) > 3:
            picked = picked[-3:]
        if len(picked) < 2:
            continue
        joined = " ".join(picked)
        s = before.rfind(joined)
        if s < 0:
            continue
        name = person_name(joined)
        if name is None:
            continue
        family, given = name[0], name[1]
        e = s + len(joined)
        out.append(
            Value("name", joined, f"{family.upper()}, {given.upper()}", line.page,
                  line.bbox(s, e), round(0.6 * (0.6 + 0.4 * line.ocr_confidence(s, e)), 4))
        )  # fmt: skip
    return out


def facility_names() -> dict[str, str]:
    """Lower-case facility name -> code, and lower-case code -> code."""
    from recordroom.records.models import Facility

    out: dict[str, str] = {}
    for code, name in Facility.objects.values_list("code", "name"):
        out[" ".join(name.lower().split())] = code
    return out


def read_page(page: PageRead, facility_names: dict[str, str]) -> list[Value]:
    lines = page_lines(page)
    values: list[Value] = []
    for line in lines:
        labels = _labels(line)
        for k, label in enumerate(labels):
            start, end = _region(line, labels, k)
            value = None
            if line.text[start:end].strip(" :#.-\t"):
                value = _value(
                    label.kind, line, start, end, label.confidence, facility_names
                )
            elif label.colon or label.kind in ("mrn", "birth_date"):
                below = _below(lines, line, label)
                if below is not None:
                    nxt, s, e = below
                    value = _value(label.kind, nxt, s, e, label.confidence * 0.95,
                                   facility_names)  # fmt: skip
            if value is not None:
                values.append(value)
        values += _prose_names(line)
    values += _header_facility(page, lines, facility_names)
    return values


def _header_facility(
    page: PageRead, lines: list[Line], names: dict[str, str]
) -> list[Value]:
    """A facility named in the page's first lines (its letterhead)."""
    for line in lines[:6]:
        code = _facility_in(line.text.replace(GAP, " "), {n: c for n, c in names.items()
                                                            if " " in n})  # fmt: skip
        if code:
            return [Value("facility", line.text.replace(GAP, " "), code, page.number,
                          union([w.bbox for w in line.words]), 0.8)]  # fmt: skip
    return []


def cover_values(page: PageRead) -> list[Value]:
    """A Recordroom cover sheet's barcode: patient ("mrn" id:<uuid>), visit
    ("account" id:<uuid>), document type, pages that follow, facility; sure."""
    out: list[Value] = []
    for code in page.barcodes:
        found = cover.decode(code.text)
        if found is None:
            continue

        pairs = [("mrn", f"id:{found.patient_id}")]
        if found.encounter_id:
            pairs.append(("account", f"id:{found.encounter_id}"))
        if found.doc_type:
            pairs.append(("doc_type", found.doc_type))
        if found.pages is not None:
            pairs.append(("pages", str(found.pages)))
        if found.facility:
            pairs.append(("facility", found.facility))
        out += [
            Value(kind, code.text, norm, page.number, code.bbox, 1.0, "barcode")
            for kind, norm in pairs
        ]
    return out


def read_values(pages: list[PageRead]) -> list[Value]:
    """Every value read from `pages`, best first within a kind; one per kind, value
    and page (a footer repeating the MRN gives one value per page)."""
    names = facility_names()
    best: dict[tuple[str, str, int], Value] = {}
    for page in pages:
        for v in cover_values(page) + read_page(page, names):
            key = (v.kind, v.normalised, v.page)
            if key not in best or v.confidence > best[key].confidence:
                best[key] = v
    return sorted(
        (_provider(v) if v.kind == "author" else v for v in best.values()),
        key=lambda v: (v.kind, -v.confidence, v.page),
    )


def _provider(value: Value) -> Value:
    """An author read as 'provider:<id>' when exactly one active provider has that
    surname and first name (or initial); else as read."""
    from dataclasses import replace

    from recordroom.records.models import Provider

    family, _, given = value.normalised.partition(", ")
    first = given.split(" ")[0]
    found = list(
        Provider.objects.filter(active=True, family__iexact=family, given__istartswith=first[:1])
        .values_list("pk", "given")[:5]
    )  # fmt: skip
    found = [
        (pk, g)
        for pk, g in found
        if len(first) == 1 or g.lower().startswith(first.lower())
    ]
    if len(found) != 1:
        return value
    return replace(value, normalised=f"provider:{found[0][0]}")
