"""Which release is in force on a day (R-COD-1), and each release's codes held in
memory for the edits (R-COD-2, R-COD-3, R-COD-5) that a grouping run applies to
thousands of claims a second.

The release in force on a day is the one that started latest on or before it and has
not ended: an April update loaded beside its fiscal year's October release takes over
from April 1; a day no loaded release covers has none (and the edits say so).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q

from .models import Code, CodeSetVersion, DrgWeight, Kind, System


def in_force(system: str, day: date) -> CodeSetVersion | None:
    """The release of `system` in force on `day`, or None."""
    return (
        CodeSetVersion.objects.filter(system=system, effective_from__lte=day)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
        .order_by("-effective_from")
        .first()
    )


def newest(system: str) -> CodeSetVersion | None:
    return (
        CodeSetVersion.objects.filter(system=system).order_by("-effective_from").first()
    )


def for_day_or_newest(system: str, day: date | None) -> CodeSetVersion | None:
    return in_force(system, day) if day is not None else newest(system)


# --- excludes1 references --------------------------------------------------------------

# "(E08.-)", "(O24.4-)", "(P70.2)", "(E10-E13)", "(C00-D49)", "(I21.-, I22.-)"
_RANGE = re.compile(r"\b([A-Z]\d[0-9A-Z])(?:\.[0-9A-Z-]*)?-([A-Z]\d[0-9A-Z])\b")
_REF = re.compile(r"\b([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:\.?-)?")


@dataclass(frozen=True)
class Excluded:
    """What one Excludes1 note names: a code and everything under it (`prefix`), or
    a range of categories (`low`..`high`, first three characters)."""

    prefix: str = ""
    low: str = ""
    high: str = ""

    def covers(self, code: str) -> bool:
        if self.prefix:
            return code.startswith(self.prefix)
        return self.low <= code[:3] <= self.high


def parse_excludes(notes: Iterable[str]) -> tuple[Excluded, ...]:
    found: list[Excluded] = []
    for note in notes:
        for part in re.findall(r"\(([^()]*)\)", note):
            for low, high in _RANGE.findall(part):
                found.append(Excluded(low=low, high=high))
            rest = _RANGE.sub(" ", part)
            for ref in _REF.findall(rest):
                found.append(Excluded(prefix=ref.replace(".", "")))
    return tuple(dict.fromkeys(found))


# --- a release in memory ---------------------------------------------------------------


@dataclass
class CmRelease:
    """An ICD-10-CM release: billable codes, headers, and the Excludes1 notes, with
    each code's ancestry (its parents, block and chapter) to inherit them."""

    version: CodeSetVersion
    billable: set[str] = field(default_factory=set)
    headers: dict[str, bool] = field(default_factory=dict)  # header -> needs 7th char
    parent: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    own_excludes: dict[str, tuple[Excluded, ...]] = field(default_factory=dict)
    _excludes: dict[str, tuple[Excluded, ...]] = field(default_factory=dict)
    _split: dict[str, tuple[frozenset[str], tuple[Excluded, ...]]] = field(
        default_factory=dict
    )

    @classmethod
    def load(cls, version: CodeSetVersion) -> CmRelease:
        release = cls(version)
        rows = Code.objects.filter(version=version).values_list(
            "code", "kind", "billable", "parent", "block", "chapter"
        )
        children_kinds: dict[str, set[str]] = {}
        for code, kind, billable, parent, block, chapter in rows.iterator(
            chunk_size=20000
        ):
            if kind in (Kind.CHAPTER, Kind.BLOCK):
                continue
            release.parent[code] = (
                parent if kind != Kind.CATEGORY else "",
                block,
                chapter,
            )
            if billable:
                release.billable.add(code)
            else:
                release.headers[code] = False
            children_kinds.setdefault(parent, set()).add(kind)
        for code in release.headers:
            # a header whose children are all 7th-character codes needs a 7th character
            release.headers[code] = children_kinds.get(code) == {Kind.CODE}
        notes = Code.objects.filter(
            version=version, notes__has_key="excludes1"
        ).values_list("kind", "code", "notes")
        for kind, code, note in notes.iterator(chunk_size=5000):
            key = f"{kind}:{code}" if kind in (Kind.CHAPTER, Kind.BLOCK) else code
            if parsed := parse_excludes(note.get("excludes1", [])):
                release.own_excludes[key] = parsed
        return release

    def excludes(self, code: str) -> tuple[Excluded, ...]:
        """The Excludes1 notes that apply to `code`: its own and its ancestors'."""
        if (hit := self._excludes.get(code)) is not None:
            return hit
        found: list[Excluded] = []
        at = code
        block = chapter = ""
        while at in self.parent:
            found.extend(self.own_excludes.get(at, ()))
            parent, block, chapter = self.parent[at]
            if not parent:
                break
            at = parent
        found.extend(self.own_excludes.get(f"{Kind.BLOCK}:{block}", ()))
        found.extend(self.own_excludes.get(f"{Kind.CHAPTER}:{chapter}", ()))
        result = tuple(dict.fromkeys(found))
        self._excludes[code] = result
        return result

    def excluded(self, code: str) -> tuple[frozenset[str], tuple[Excluded, ...]]:
        """`excludes(code)` as the code prefixes it names (for set intersection)
        and its category ranges."""
        if (hit := self._split.get(code)) is not None:
            return hit
        notes = self.excludes(code)
        split = (
            frozenset(n.prefix for n in notes if n.prefix),
            tuple(n for n in notes if not n.prefix),
        )
        self._split[code] = split
        return split


@dataclass
class ListRelease:
    version: CodeSetVersion
    codes: set[str]


@dataclass
class WeightRelease:
    version: CodeSetVersion
    weights: dict[str, Decimal]


class Releases:
    """Releases read once per process and kept (a release never changes once loaded;
    a newly loaded one is found on the next day asked about after `forget()`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_day: dict[tuple[str, date], object] = {}
        self._by_version: dict[int, object] = {}

    def forget(self) -> None:
        with self._lock:
            self._by_day.clear()
            self._by_version.clear()

    def _get(self, system: str, day: date, make: object) -> object:
        key = (system, day)
        if key in self._by_day:
            return self._by_day[key]
        version = in_force(system, day)
        found = None
        if version is not None:
            found = self._by_version.get(version.pk)
            if found is None:
                found = make(version)  # type: ignore[operator]
                self._by_version[version.pk] = found
        with self._lock:
            self._by_day[key] = found
        return found

    def cm(self, day: date) -> CmRelease | None:
        return self._get(System.ICD10CM, day, CmRelease.load)  # type: ignore[return-value]

    def pcs(self, day: date) -> ListRelease | None:
        return self._get(System.ICD10PCS, day, _billable_list)  # type: ignore[return-value]

    def poa_exempt(self, day: date) -> ListRelease | None:
        return self._get(System.POA_EXEMPT, day, _billable_list)  # type: ignore[return-value]

    def weights(self, day: date) -> WeightRelease | None:
        return self._get(System.MSDRG, day, _weights)  # type: ignore[return-value]


def _billable_list(version: CodeSetVersion) -> ListRelease:
    codes = Code.objects.filter(version=version, billable=True).values_list(
        "code", flat=True
    )
    return ListRelease(version, set(codes.iterator(chunk_size=20000)))


def _weights(version: CodeSetVersion) -> WeightRelease:
    rows = DrgWeight.objects.filter(version=version).values_list("drg", "weight")
    return WeightRelease(version, dict(rows))


releases = Releases()
