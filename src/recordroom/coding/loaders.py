"""Loading code-set releases, each beside the ones before it (R-COD-1, R-COD-8).

* ICD-10-CM from `simple-icd-10-cm` (the CDC tabular and its code list, FY2026 April
  update as packaged), or from another year's pair of the same files;
* ICD-10-PCS from CMS's public files: the tables (`icd10pcs_tables_YYYY.xml`, every
  valid code built from its table rows) or the order file (`icd10pcs_order_YYYY.txt`,
  fixed width);
* the POA exempt list (R-COD-5) from CMS's file, one code a line;
* MS-DRG relative weights from CMS's Table 5 (tab-separated or CSV).

A release with the same system and first effective day as one already loaded is
refused: releases are never overwritten, so coded history keeps the codes it was
checked against. Each load is one transaction with its audit event.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.records.fulltext import tokens

from .models import SID_SPAN, Code, CodeSetVersion, DrgWeight, Kind, System

BATCH = 5000
FTS_TABLE = "coding_code_fts"
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        "january february march april may june july august september october "
        "november december".split()
    )
}


def normalize(code: str) -> str:
    """' i21.4 ' -> 'I214': codes are stored and compared without their dot."""
    return (code or "").strip().upper().replace(".", "")


def cm_display(code: str) -> str:
    """'I214' -> 'I21.4' (R-COD-2: the dot after the third character)."""
    return code if len(code) <= 3 or "-" in code else f"{code[:3]}.{code[3:]}"


def fiscal_year_dates(year: int, month: int) -> tuple[date, date]:
    """A release's dates in force: an April release runs April 1 to September 30 of
    its fiscal year; an October release October 1 to September 30 of the next year
    (an April update loaded later takes over from its own first day)."""
    if month == 4:
        return date(year, 4, 1), date(year, 9, 30)
    return date(year, 10, 1), date(year + 1, 9, 30)


@dataclass(frozen=True)
class Loaded:
    version: CodeSetVersion
    seconds: float


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _new_version(
    *,
    system: str,
    label: str,
    effective_from: date,
    effective_to: date | None,
    source: str,
    sha256: str = "",
) -> CodeSetVersion:
    if effective_to is not None and effective_to < effective_from:
        raise ValidationFailed(
            f"the release ends ({effective_to}) before it starts ({effective_from})",
            field="effective_to",
        )
    same = CodeSetVersion.objects.filter(system=system, effective_from=effective_from)
    if same.exists():
        old = same.get()
        raise Conflict(
            f"{old} (in force from {effective_from}) is already loaded; a release is "
            "never overwritten: give a later --effective-from for a new release"
        )
    return CodeSetVersion.objects.create(
        system=system,
        label=label,
        effective_from=effective_from,
        effective_to=effective_to,
        source=source[:300],
        sha256=sha256,
        loaded_at=clock.now(),
    )


def _store(version: CodeSetVersion, rows: Iterable[Code]) -> int:
    found = list(rows)
    if len(found) >= SID_SPAN:
        raise ValidationFailed(
            f"{len(found)} codes in one release; at most {SID_SPAN - 1}"
        )
    order = sorted(range(len(found)), key=lambda i: (len(found[i].terms), found[i].seq))
    for place, i in enumerate(order, 1):
        found[i].sid = version.pk * SID_SPAN + place
    count = 0
    it = iter(found)
    while batch := list(itertools.islice(it, BATCH)):
        Code.objects.bulk_create(batch)
        count += len(batch)
    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, terms, more_terms) "  # noqa: S608
                "SELECT sid, terms, more_terms FROM coding_code WHERE version_id = %s",
                [version.pk],
            )
    else:
        # fresh statistics: the planner picks the search's plans by how many codes a
        # word finds (an ordered scan for "fracture", the GIN index for "sepsis")
        with connection.cursor() as cur:
            cur.execute("ANALYZE coding_code")
    version.codes = count
    version.save(update_fields=["codes"])
    return count


def _audit(actor: Actor, version: CodeSetVersion) -> None:
    record(
        actor=actor,
        action=actions.CODES_LOAD.name,
        obj=version,
        detail={
            "system": version.system,
            "label": version.label,
            "effective_from": version.effective_from.isoformat(),
            "effective_to": (
                version.effective_to.isoformat() if version.effective_to else None
            ),
            "codes": version.codes,
            "source": version.source,
        },
    )


# --- ICD-10-CM -------------------------------------------------------------------------

_NOTE_FIELDS = (
    ("includes", "includes"),
    ("inclusion_terms", "inclusion_term"),
    ("excludes1", "excludes1"),
    ("excludes2", "excludes2"),
)
_TEXT_FIELDS = (
    ("code_first", "code_first"),
    ("use_additional_code", "use_additional_code"),
    ("code_also", "code_also"),
    ("notes", "notes"),
    ("seventh_character_note", "seven_chr_note"),
)
_KINDS = {
    "chapter": Kind.CHAPTER,
    "section": Kind.BLOCK,
    "category": Kind.CATEGORY,
    "subcategory": Kind.SUBCATEGORY,
    "extended subcategory": Kind.CODE,
}


def _cm_rows(version: CodeSetVersion, chapters: list[Any]) -> Iterator[Code]:
    seq = itertools.count(1)

    def walk(node: Any, chapter: str, block: str, parent: str) -> Iterator[Code]:
        kind = _KINDS[node.type]
        name = node.name if kind in (Kind.CHAPTER, Kind.BLOCK) else normalize(node.name)
        if kind == Kind.CHAPTER:
            chapter = name
        elif kind == Kind.BLOCK:
            block = name
        notes: dict[str, Any] = {}
        for key, attr in _NOTE_FIELDS:
            if values := list(getattr(node, attr)):
                notes[key] = values
        for key, attr in _TEXT_FIELDS:
            if text := getattr(node, attr):
                notes[key] = text
        if node.seven_chr_def:
            notes["seventh_characters"] = dict(node.seven_chr_def)
        more = " ".join(
            " ".join(tokens(t))
            for t in itertools.chain(node.inclusion_term, node.includes)
        )
        yield Code(
            version=version,
            code=name,
            display=name if kind in (Kind.CHAPTER, Kind.BLOCK) else node.name,
            kind=kind,
            billable=kind not in (Kind.CHAPTER, Kind.BLOCK) and not node.children,
            title=node.description,
            parent=parent,
            chapter=chapter,
            block=block,
            seq=next(seq),
            notes=notes,
            terms=" ".join(tokens(node.description)),
            more_terms=more,
        )
        for child in node.children:
            yield from walk(child, chapter, block, name)

    for node in chapters:
        yield from walk(node, "", "", "")


def _package_release() -> tuple[str, int, int]:
    """('April 2026', 2026, 4) from the package's code-list file name."""
    from simple_icd_10_cm import simple_icd_10_cm as cm

    found = re.search(r"([A-Za-z]+)-(\d{4})", cm._all_codes_package_file_name)
    if not found or found.group(1).lower() not in _MONTHS:
        raise ValidationFailed(
            "cannot tell the release of simple-icd-10-cm's data "
            f"({cm._all_codes_package_file_name}); give --effective-from"
        )
    month = _MONTHS[found.group(1).lower()]
    return f"{found.group(1)} {found.group(2)}", int(found.group(2)), month


def load_icd10cm(
    *,
    actor: Actor,
    effective_from: date | None = None,
    effective_to: date | None = None,
    tabular: Path | None = None,
    code_list: Path | None = None,
    label: str = "",
) -> Loaded:
    """Load ICD-10-CM: the package's release, or another year's tabular XML and code
    list (the two files simple-icd-10-cm reads) with its dates given."""
    started = clock.now()
    from simple_icd_10_cm import simple_icd_10_cm as cm

    if (tabular is None) != (code_list is None):
        raise ValidationFailed("give both --tabular and --code-list, or neither")
    if tabular is not None and code_list is not None:
        if effective_from is None:
            raise ValidationFailed(
                "another year's files need --effective-from (October 1 of the year "
                "before the fiscal year, or April 1 for an April update)"
            )
        for path in (tabular, code_list):
            if not path.is_file():
                raise ValidationFailed(f"no file {path}")
        try:
            cm.change_version(str(code_list), str(tabular))
        except (ET.ParseError, ValueError, OSError) as e:
            raise ValidationFailed(f"{tabular}: not an ICD-10-CM tabular ({e})") from e
        source = f"{tabular.name} + {code_list.name}"
        sha = _sha256(tabular)
        label = label or f"from {tabular.name}"
    else:
        name, year, month = _package_release()
        start, end = fiscal_year_dates(year, month)
        if effective_from is None:
            effective_from, effective_to = start, effective_to or end
        fy = year if month == 4 else year + 1
        update = " April update" if month == 4 else ""
        label = label or f"FY{fy}{update}"
        source = f"simple-icd-10-cm ({name})"
        sha = ""
    try:
        with transaction.atomic():
            version = _new_version(
                system=System.ICD10CM,
                label=label,
                effective_from=effective_from,
                effective_to=effective_to,
                source=source,
                sha256=sha,
            )
            _store(version, _cm_rows(version, list(cm._chapter_list)))
            _audit(actor, version)
    finally:
        if tabular is not None:
            cm.change_version()  # the package's own release again
    return Loaded(version, (clock.now() - started).total_seconds())


# --- ICD-10-PCS ------------------------------------------------------------------------

_PCS_CODE = re.compile(r"^[0-9A-HJ-NP-Z]{1,7}$")  # PCS uses neither I nor O


def _labels(axis: ET.Element) -> dict[str, str]:
    found = {}
    for label in axis.findall("label"):
        code = (label.get("code") or "").strip().upper()
        if len(code) != 1 or not _PCS_CODE.match(code):
            raise ValidationFailed(
                f"axis {axis.get('pos')}: label code {code!r} is not one PCS character"
            )
        found[code] = (label.text or "").strip()
    if not found:
        raise ValidationFailed(f"axis {axis.get('pos')} has no labels")
    return found


def _axes(parent: ET.Element, positions: range) -> list[tuple[str, dict[str, str]]]:
    by_pos: dict[int, ET.Element] = {}
    for axis in parent.findall("axis"):
        try:
            by_pos[int(axis.get("pos") or "")] = axis
        except ValueError:
            raise ValidationFailed(
                f"an axis without a numeric pos: {axis.get('pos')!r}"
            ) from None
    missing = [p for p in positions if p not in by_pos]
    if missing:
        raise ValidationFailed(f"a table or row lacks axis position(s) {missing}")
    return [
        ((by_pos[p].findtext("title") or "").strip(), _labels(by_pos[p]))
        for p in positions
    ]


def pcs_codes_from_tables(
    root: ET.Element,
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every valid code the tables build (code, title, axis meanings): a code is valid
    when its first three characters name a table and its last four come from one row
    of that table, each character from that row's axis (the tables' construction
    rule). Titles read like CMS's long titles: operation, body part, approach, device,
    qualifier."""
    tables = root.findall("pcsTable")
    if root.tag != "ICD10PCS.tabular" or not tables:
        raise ValidationFailed(
            f"not an ICD-10-PCS tables file (root <{root.tag}>, {len(tables)} tables)"
        )
    for table in tables:
        head = _axes(table, range(1, 4))
        head_chars = [list(labels.items()) for _t, labels in head]
        if any(len(chars) != 1 for chars in head_chars):
            raise ValidationFailed("a table's axes 1-3 must each have one label")
        prefix = "".join(chars[0][0] for chars in head_chars)
        section, system, operation = (chars[0][1] for chars in head_chars)
        rows = table.findall("pcsRow")
        if not rows:
            raise ValidationFailed(f"table {prefix} has no rows")
        for row in rows:
            axes = _axes(row, range(4, 8))
            for combo in itertools.product(
                *[list(labels.items()) for _t, labels in axes]
            ):
                code = prefix + "".join(c for c, _l in combo)
                body, approach, device, qualifier = (label for _c, label in combo)
                words = [operation, body, approach]
                words += [
                    w
                    for w in (device, qualifier)
                    if w and w != "No Device" and w != "No Qualifier"
                ]
                title = ", ".join([f"{words[0]} {words[1]}", *words[2:]])
                yield (
                    code,
                    title,
                    {
                        "section": section,
                        "body_system": system,
                        "operation": operation,
                        "body_part": body,
                        "approach": approach,
                        "device": device,
                        "qualifier": qualifier,
                    },
                )


def parse_pcs_order(text: str) -> Iterator[tuple[str, bool, str, str]]:
    """CMS's order file, fixed width (the same layout as ICD-10-CM's, R-COD-2): order
    number in columns 1-5, the code in 7-13, 1 (valid) or 0 (header) in 15, the short
    title in 17-76, the long title from 78. Yields (code, valid, short, long)."""
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if len(line) < 17 or not line[:5].strip().isdigit() or line[14] not in "01":
            raise ValidationFailed(
                f"line {n}: not the order file's fixed-width layout "
                "(order number, code, 0/1, short title, long title)"
            )
        code = line[6:13].strip().upper()
        if not _PCS_CODE.match(code):
            raise ValidationFailed(f"line {n}: {code!r} is not an ICD-10-PCS code")
        yield code, line[14] == "1", line[16:76].strip(), line[77:].strip()


def _pcs_rows(version: CodeSetVersion, path: Path) -> Iterator[Code]:
    raw = path.read_bytes()
    seq = itertools.count(1)
    if raw.lstrip().startswith(b"<"):
        try:
            root = ET.fromstring(raw)
        except ET.ParseError as e:
            raise ValidationFailed(f"{path.name}: not well-formed XML ({e})") from e
        tables: dict[str, str] = {}
        for code, title, axes in pcs_codes_from_tables(root):
            table = code[:3]
            if table not in tables:
                tables[table] = (
                    f"{axes['section']}, {axes['body_system']}, {axes['operation']}"
                )
                yield Code(
                    version=version,
                    code=table,
                    display=table,
                    kind=Kind.TABLE,
                    billable=False,
                    title=tables[table],
                    seq=next(seq),
                    notes={k: axes[k] for k in ("section", "body_system", "operation")},
                    terms=" ".join(tokens(tables[table])),
                )
            yield Code(
                version=version,
                code=code,
                display=code,
                kind=Kind.CODE,
                billable=True,
                title=title,
                parent=table,
                seq=next(seq),
                notes={"axes": axes},
                terms=" ".join(tokens(title)),
            )
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    for code, valid, short, long in parse_pcs_order(text):
        yield Code(
            version=version,
            code=code,
            display=code,
            kind=Kind.CODE if valid else Kind.TABLE,
            billable=valid,
            title=long or short,
            parent=code[:3] if valid else "",
            seq=next(seq),
            notes={"short_title": short} if short else {},
            terms=" ".join(tokens(long or short)),
        )


def _year_in(name: str) -> int | None:
    found = re.search(r"(20\d\d)", name)
    return int(found.group(1)) if found else None


def load_file(
    *,
    actor: Actor,
    system: str,
    path: Path,
    effective_from: date | None = None,
    effective_to: date | None = None,
    label: str = "",
) -> Loaded:
    """Load a CMS file of `system` (icd10pcs, poa-exempt, ms-drg). Without dates, a
    file named for its fiscal year (icd10pcs_tables_2026.xml) runs from October 1 of
    the year before to September 30."""
    started = clock.now()
    if not path.is_file():
        raise ValidationFailed(f"no file {path}")
    if effective_from is None:
        year = _year_in(path.name)
        if year is None:
            raise ValidationFailed(
                f"{path.name} does not name its fiscal year; give --effective-from"
            )
        effective_from, effective_to = (
            date(year - 1, 10, 1),
            effective_to or date(year, 9, 30),
        )
        label = label or f"FY{year}"
    label = label or f"from {effective_from.isoformat()}"
    with transaction.atomic():
        version = _new_version(
            system=system,
            label=label,
            effective_from=effective_from,
            effective_to=effective_to,
            source=path.name,
            sha256=_sha256(path),
        )
        if system == System.ICD10PCS:
            count = _store(version, _pcs_rows(version, path))
        elif system == System.POA_EXEMPT:
            count = _store(version, _poa_rows(version, path))
        elif system == System.MSDRG:
            count = _store_weights(version, path)
        else:
            raise ValidationFailed(f"no loader for {system!r}")
        if count == 0:
            raise ValidationFailed(f"{path.name} holds no codes")
        _audit(actor, version)
    return Loaded(version, (clock.now() - started).total_seconds())


# --- POA exempt list, DRG weights ------------------------------------------------------

_CM_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


def _poa_rows(version: CodeSetVersion, path: Path) -> Iterator[Code]:
    """CMS's POA exempt list: a code at the start of each line (dot or not), its title
    after; lines that do not start with a code (headings) are skipped."""
    seen: set[str] = set()
    seq = itertools.count(1)
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.replace("\t", " ").split(None, 1)
        if not parts or not _CM_CODE.match(parts[0].upper()):
            continue
        code = normalize(parts[0])
        if code in seen:
            continue
        seen.add(code)
        title = parts[1].strip() if len(parts) > 1 else ""
        yield Code(
            version=version,
            code=code,
            display=cm_display(code),
            kind=Kind.ITEM,
            billable=True,
            title=title,
            seq=next(seq),
        )


def _decimal(value: str, what: str, n: int) -> Decimal | None:
    value = (value or "").strip().replace(",", "")
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValidationFailed(f"line {n}: {what} {value!r} is not a number") from None


def _store_weights(version: CodeSetVersion, path: Path) -> int:
    """CMS's Table 5 (tab-separated text or CSV): columns MS-DRG, FY final rule post-
    acute DRG, special pay DRG, MDC, TYPE, MS-DRG title, weights, geometric mean LOS,
    arithmetic mean LOS. Columns are found by their headings, so either layout and the
    title lines above the heading row are accepted."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    dialect = "excel-tab" if "\t" in text else "excel"
    rows = list(csv.reader(io.StringIO(text), dialect=dialect))
    drg_names = {"MS-DRG", "MS DRG", "DRG"}
    head_at = next(
        (
            i
            for i, row in enumerate(rows)
            if any(c.strip().upper() in drg_names for c in row)
            and any("WEIGHT" in c.upper() for c in row)
        ),
        None,
    )
    if head_at is None:
        raise ValidationFailed(
            f"{path.name}: no heading row naming the MS-DRG and its weights (Table 5)"
        )
    head = [c.strip().upper() for c in rows[head_at]]

    def col(*words: str) -> int | None:
        for i, c in enumerate(head):
            if all(w in c for w in words):
                return i
        return None

    drg_at = next(i for i, c in enumerate(head) if c in drg_names)
    weight_at, title_at = col("WEIGHT"), col("TITLE")
    gm_at, am_at = col("GEOMETRIC"), col("ARITHMETIC")
    found = []
    for n, row in enumerate(rows[head_at + 1 :], head_at + 2):
        if not row or not row[drg_at].strip():
            continue
        drg = row[drg_at].strip().zfill(3)
        if not drg.isdigit() or len(drg) != 3:
            raise ValidationFailed(f"line {n}: {row[drg_at]!r} is not an MS-DRG number")
        weight = (
            _decimal(row[weight_at], "weight", n) if weight_at is not None else None
        )
        if weight is None:
            raise ValidationFailed(f"line {n}: DRG {drg} has no weight")

        def cell(at: int | None, row: list[str] = row) -> str:
            return row[at] if at is not None and at < len(row) else ""

        found.append(
            DrgWeight(
                version=version,
                drg=drg,
                weight=weight,
                title=cell(title_at).strip(),
                gmlos=_decimal(cell(gm_at), "geometric mean LOS", n),
                amlos=_decimal(cell(am_at), "arithmetic mean LOS", n),
            )
        )
    DrgWeight.objects.bulk_create(found, batch_size=BATCH)
    version.codes = len(found)
    version.save(update_fields=["codes"])
    return len(found)
