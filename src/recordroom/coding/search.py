"""Looking codes up and searching for them as an encoder does.

* By code, with or without the dot, whole or its first characters ("I21", "i21.4",
  "S72001A", "0DT"): the code and those under it, shortest first, in tabular order.
* By words: every word of the query must be found, each as the start of a word
  ("diab mell typ 2", "frac neck femur"), in the title or in the terms that find the
  code in the tabular (inclusion terms, includes notes); coders' abbreviations and
  synonyms (`SYNONYMS`) find the words they stand for ("chf", "heart attack").
  Ranked the same way on SQLite and PostgreSQL: codes whose title holds every word
  first, then the shortest title, then tabular order.

Both engines index the tokens `records.fulltext.tokens` makes (SQLite FTS5 with its
prefix indexes, PostgreSQL a tsvector with a GIN index, see migration 0001); neither
tokenises anything itself, so both find the same codes. Code sets hold no PHI:
searches and lookups are not audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection

from recordroom.kernel.errors import NotFound, ValidationFailed
from recordroom.records.fulltext import tokens

from . import codesets
from .loaders import FTS_TABLE, cm_display, normalize
from .models import SID_SPAN, Code, CodeSetVersion, Kind, System

MAX_QUERY = 200
MAX_LIMIT = 200
SEARCHED = (System.ICD10CM, System.ICD10PCS)
STOPWORDS = frozenset("a an and as at by for in is of on or the to".split())

# Coders' abbreviations and plain words for the tabular's terms: each key (tokens)
# also finds its alternatives (all of their words). The same words as the index:
# folded, no accents, no punctuation.
SYNONYMS: dict[tuple[str, ...], tuple[tuple[str, ...], ...]] = {
    ("mi",): (("myocardial", "infarction"),),
    ("ami",): (("acute", "myocardial", "infarction"),),
    ("heart", "attack"): (("myocardial", "infarction"),),
    ("chf",): (("heart", "failure"),),
    ("copd",): (("chronic", "obstructive", "pulmonary"),),
    ("htn",): (("hypertension",),),
    ("dm",): (("diabetes", "mellitus"),),
    ("t2dm",): (("type", "2", "diabetes"),),
    ("uti",): (("urinary", "tract", "infection"),),
    ("ckd",): (("chronic", "kidney", "disease"),),
    ("aki",): (("acute", "kidney", "failure"),),
    ("afib",): (("atrial", "fibrillation"),),
    ("af",): (("atrial", "fibrillation"),),
    ("cva",): (("cerebral", "infarction"),),
    ("stroke",): (("cerebral", "infarction"),),
    ("gerd",): (("gastro", "esophageal", "reflux"),),
    ("cad",): (("atherosclerotic", "heart", "disease"),),
    ("pna",): (("pneumonia",),),
    ("dvt",): (("deep", "vein"),),
    ("pe",): (("pulmonary", "embolism"),),
    ("sob",): (("shortness", "breath"),),
    ("bph",): (("prostatic", "hyperplasia"),),
    ("ards",): (("respiratory", "distress", "syndrome"),),
    ("hiv",): (("human", "immunodeficiency", "virus"),),
    ("kidney",): (("renal",),),
    ("renal",): (("kidney",),),
    ("high", "blood", "pressure"): (("hypertension",),),
    ("sugar",): (("diabetes",),),
    ("broken",): (("fracture",),),
}


@dataclass(frozen=True)
class Hit:
    system: str
    code: str
    display: str
    title: str
    kind: str
    billable: bool
    version: str


@dataclass(frozen=True)
class Group:
    """One word of the query, or a run of words with synonyms: any alternative may
    match, all words of that alternative required (each a prefix)."""

    alternatives: tuple[tuple[str, ...], ...]


@dataclass
class Results:
    query: str
    by: str  # "code" or "words"
    hits: list[Hit] = field(default_factory=list)
    versions: list[str] = field(default_factory=list)


_CODE_LIKE = re.compile(
    r"^(?:[A-Za-z]\d[0-9A-Za-z]?(?:\.?[0-9A-Za-z]{0,4})?|[0-9A-HJ-NP-Za-hj-np-z]\d?[0-9A-Za-z]{1,6})$"
)


def looks_like_code(text: str) -> bool:
    """'I21.4', 'i214', 'S72', '0DTJ4ZZ', '02H' (a PCS table): yes. 'copd', 'mi': no
    (a code has a digit second, or is a PCS code of digits and letters)."""
    t = text.strip()
    if not _CODE_LIKE.match(t) or not any(c.isdigit() for c in t):
        return False
    return t[0].isalpha() and t[1].isdigit() or t[0].isdigit()


def parse_words(text: str) -> list[Group]:
    words = [t for t in tokens(text) if t not in STOPWORDS]
    groups: list[Group] = []
    i = 0
    longest = max(len(k) for k in SYNONYMS)
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            key = tuple(words[i : i + n])
            if key in SYNONYMS:
                groups.append(Group((key, *SYNONYMS[key])))
                i += n
                break
        else:
            groups.append(Group(((words[i],),)))
            i += 1
    return groups


def _fts5(groups: list[Group]) -> str:
    def alt(words: tuple[str, ...]) -> str:
        parts = [f'"{w}"' + ("*" if len(w) > 1 else "") for w in words]
        return "(" + " AND ".join(parts) + ")"

    return " AND ".join(
        "(" + " OR ".join(alt(a) for a in g.alternatives) + ")" for g in groups
    )


def _tsquery(groups: list[Group]) -> str:
    def alt(words: tuple[str, ...]) -> str:
        parts = [f"'{w}'" + (":*" if len(w) > 1 else "") for w in words]
        return "(" + " & ".join(parts) + ")"

    return " & ".join(
        "(" + " | ".join(alt(a) for a in g.alternatives) + ")" for g in groups
    )


def _tsquery_weighted(groups: list[Group], weight: str) -> str:
    def alt(words: tuple[str, ...]) -> str:
        parts = [f"'{w}':" + ("*" if len(w) > 1 else "") + weight for w in words]
        return "(" + " & ".join(parts) + ")"

    return " & ".join(
        "(" + " | ".join(alt(a) for a in g.alternatives) + ")" for g in groups
    )


def _tiers(groups: list[Group], vendor: str) -> list[tuple[str, list[Any]]]:
    """The search's three tiers, best first, each a condition on the index: (0) the
    title starts with the first word and holds every word, (1) the title holds every
    word, (2) the title or the other terms hold them."""
    first = groups[0].alternatives[0][0]
    if vendor == "sqlite":
        title = "{terms} : (" + _fts5(groups) + ")"
        starts = "{terms} : (^" + f'"{first}"' + ("*" if len(first) > 1 else "") + ")"
        return [(f"{starts} AND {title}", []), (title, []), (_fts5(groups), [])]
    if vendor == "postgresql":
        title = _tsquery_weighted(groups, "AB")
        starts = f"'{first}':" + ("*" if len(first) > 1 else "") + "A"
        return [(f"{starts} & ({title})", []), (title, []), (_tsquery(groups), [])]
    raise NotImplementedError(f"no code search on {vendor!r}")


def _versions(systems: tuple[str, ...], on: date | None) -> list[CodeSetVersion]:
    found = [codesets.for_day_or_newest(s, on) for s in systems]
    return [v for v in found if v is not None]


def _hit(row: tuple[Any, ...], labels: dict[int, tuple[str, str]]) -> Hit:
    version_id, code, display, title, kind, billable = row
    system, label = labels[version_id]
    return Hit(system, code, display, title, kind, billable, label)


def search(
    text: str,
    *,
    on: date | None = None,
    systems: tuple[str, ...] = SEARCHED,
    limit: int = 25,
    billable_only: bool = False,
) -> Results:
    """Codes for a query, ranked (see the module's docstring). `on`: the release in
    force that day (default: the newest loaded)."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("give a code or some words to search for", field="q")
    if len(text) > MAX_QUERY:
        raise ValidationFailed(
            f"the search is {len(text)} characters; at most {MAX_QUERY}", field="q"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be 1 to {MAX_LIMIT}", field="limit")
    unknown = [s for s in systems if s not in SEARCHED]
    if unknown:
        raise ValidationFailed(
            f"cannot search {unknown}; choose from {list(SEARCHED)}", field="system"
        )
    versions = _versions(systems, on)
    if not versions:
        raise NotFound(
            "no code set is loaded"
            + (f" for {on.isoformat()}" if on else "")
            + ": `recordroom codes load icd10cm` loads ICD-10-CM"
        )
    labels = {v.pk: (v.system, v.label) for v in versions}
    results = Results(text, "words", versions=[str(v) for v in versions])
    fields = ("version_id", "code", "display", "title", "kind", "billable")
    if looks_like_code(text):
        code = normalize(text).rstrip("-")
        upper = code[:-1] + chr(ord(code[-1]) + 1)
        rows = Code.objects.filter(
            version__in=versions, code__gte=code, code__lt=upper
        ).exclude(kind__in=(Kind.CHAPTER, Kind.BLOCK))
        if billable_only:
            rows = rows.filter(billable=True)
        # shortest first (the code itself, then its children), in tabular order
        from django.db.models.functions import Length

        found = rows.order_by(Length("code"), "seq").values_list(*fields)[:limit]
        results.by = "code"
        results.hits = [_hit(r, labels) for r in found]
        if results.hits:
            return results
    groups = parse_words(text)
    if not groups:
        raise ValidationFailed(f"{text!r} has no words to search for", field="q")
    results.hits = _word_search(groups, versions, labels, limit, billable_only)
    return results


def _word_search(
    groups: list[Group],
    versions: list[CodeSetVersion],
    labels: dict[int, tuple[str, str]],
    limit: int,
    billable_only: bool,
) -> list[Hit]:
    """Each tier, each release: the first `limit` matches in search order (`sid`),
    which both indexes give without sorting every match."""
    vendor = connection.vendor
    billable = " AND c.billable = %s" if billable_only else ""
    found: dict[int, tuple[int, tuple[Any, ...]]] = {}
    fields = "c.sid, c.version_id, c.code, c.display, c.title, c.kind, c.billable"
    with connection.cursor() as cur:
        for tier, (condition, _extra) in enumerate(_tiers(groups, vendor)):
            for version in versions:
                low, high = version.pk * SID_SPAN, (version.pk + 1) * SID_SPAN
                want = limit + sum(1 for t, _r in found.values() if t < tier)
                if vendor == "sqlite":
                    sql = (
                        f"SELECT {fields} FROM {FTS_TABLE} f "  # noqa: S608
                        f"JOIN coding_code c ON c.sid = f.rowid "
                        f"WHERE {FTS_TABLE} MATCH %s AND f.rowid > %s AND f.rowid < %s"
                        f" AND c.kind NOT IN ('chapter', 'block'){billable} "
                        "ORDER BY f.rowid LIMIT %s"
                    )
                    params: list[Any] = [condition, low, high]
                else:
                    sql = (
                        f"SELECT {fields} FROM coding_code c "  # noqa: S608
                        "WHERE c.search @@ %s::tsquery AND c.sid > %s AND c.sid < %s"
                        f" AND c.kind NOT IN ('chapter', 'block'){billable} "
                        "ORDER BY c.sid LIMIT %s"
                    )
                    params = [condition, low, high]
                if billable_only:
                    params.append(True)
                cur.execute(sql, [*params, want])
                for row in cur.fetchall():
                    found.setdefault(row[0], (tier, tuple(row[1:])))
    ranked = sorted(
        found.items(), key=lambda item: (item[1][0], item[0] % SID_SPAN, item[0])
    )
    return [_hit(row, labels) for _sid, (_tier, row) in ranked[:limit]]


# --- lookup ----------------------------------------------------------------------------

# notes a category or subcategory gives every code under it (the tabular's convention)
INHERITED = (
    "excludes1",
    "excludes2",
    "code_first",
    "use_additional_code",
    "code_also",
    "notes",
    "includes",
)


@dataclass
class Detail:
    system: str
    version: str
    code: str
    display: str
    title: str
    kind: str
    billable: bool
    status: str  # why it may or may not be reported (R-COD-2)
    notes: dict[str, Any]
    inherited: list[dict[str, Any]]  # [{"from": display, "kind", "title", "notes"}]
    ancestors: list[dict[str, str]]
    children: list[dict[str, Any]]
    seventh_characters: dict[str, str]


def lookup(code: str, *, on: date | None = None, system: str = "") -> Detail:
    """One code with its notes, those it inherits, its place in the tabular, and
    whether it may be reported (R-COD-2)."""
    wanted = normalize(code)
    if not wanted or len(wanted) > 7 or not wanted.isalnum():
        raise ValidationFailed(
            f"{code!r} is not an ICD-10-CM or ICD-10-PCS code", field="code"
        )
    systems = (system,) if system else SEARCHED
    for version in _versions(systems, on):
        row = (
            Code.objects.filter(version=version, code=wanted)
            .exclude(kind__in=(Kind.CHAPTER, Kind.BLOCK))
            .first()
        )
        if row is not None:
            return _detail(version, row)
    loaded = _versions(systems, on)
    if not loaded:
        raise NotFound(
            "no code set is loaded" + (f" for {on.isoformat()}" if on else "")
        )
    where = ", ".join(str(v) for v in loaded)
    raise NotFound(f"{code.strip()} is not a code in {where}", field="code")


def _detail(version: CodeSetVersion, row: Code) -> Detail:
    ancestors: list[Code] = []
    at, kind = row.parent, row.kind
    while at and kind != Kind.CATEGORY and len(ancestors) < 8:
        up = (
            Code.objects.filter(version=version, code=at)
            .exclude(kind__in=(Kind.CHAPTER, Kind.BLOCK))
            .first()
        )
        if up is None:
            break
        ancestors.append(up)
        at, kind = up.parent, up.kind
    # the block and the chapter, stored under their own names and kinds
    for name, of_kind in ((row.block, Kind.BLOCK), (row.chapter, Kind.CHAPTER)):
        if name:
            found = Code.objects.filter(
                version=version, kind=of_kind, code=name
            ).first()
            if found is not None:
                ancestors.append(found)
    inherited = []
    seventh: dict[str, str] = dict(row.notes.get("seventh_characters", {}))
    for up in ancestors:
        notes = {k: v for k, v in up.notes.items() if k in INHERITED}
        if notes:
            inherited.append(
                {"from": up.display, "kind": up.kind, "title": up.title, "notes": notes}
            )
        if not seventh and up.notes.get("seventh_characters"):
            seventh = dict(up.notes["seventh_characters"])
    children: list[dict[str, Any]] = [
        dict(c)
        for c in Code.objects.filter(version=version, parent=row.code)
        .exclude(kind__in=(Kind.CHAPTER, Kind.BLOCK))
        .order_by("seq")
        .values("code", "display", "title", "billable")[:100]
    ]
    if row.billable:
        status = "billable: a full code that may be reported"
    elif (
        children
        and all(
            c["code"].startswith(row.code) and len(c["code"]) == 7 for c in children
        )
        and seventh
    ):
        status = "header: needs a 7th character (with X placeholders where the code is short); it may not be reported as it is (R-COD-2)"
    else:
        status = "header: has codes under it; report one of them, at the highest number of characters available (R-COD-2)"
    return Detail(
        system=version.system,
        version=str(version),
        code=row.code,
        display=row.display,
        title=row.title,
        kind=row.kind,
        billable=row.billable,
        status=status,
        notes=row.notes,
        inherited=inherited,
        ancestors=[
            {"code": a.display, "kind": a.kind, "title": a.title} for a in ancestors
        ],
        children=children,
        seventh_characters=seventh
        if version.system == System.ICD10CM and (not row.billable or len(row.code) == 7)
        else {},
    )


__all__ = ["Detail", "Hit", "Results", "SYNONYMS", "cm_display", "lookup", "search"]
