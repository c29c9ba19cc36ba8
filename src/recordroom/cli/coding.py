"""`recordroom codes ...` (load, list, look up and search the code sets) and
`recordroom coding group FILE` (MS-DRG grouping with the edits, JSON lines in and out)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from .console import err, fail, out
from .setup import cli_actor, django_setup

codes_app = typer.Typer(
    help="Code sets: ICD-10-CM, ICD-10-PCS, POA exempt list, MS-DRG weights.",
    no_args_is_help=True,
)
coding_app = typer.Typer(
    help="Coding: MS-DRG grouping with its edits.", no_args_is_help=True
)

SYSTEMS = {
    "icd10cm": "icd10cm",
    "icd10pcs": "icd10pcs",
    "poa-exempt": "poa-exempt",
    "drg-weights": "ms-drg",
}


def _day(text: str, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is not a date; give YYYY-MM-DD")


@codes_app.command("load")
def load(
    system: str = typer.Argument(
        ..., help="icd10cm, icd10pcs, poa-exempt or drg-weights (CMS Table 5)."
    ),
    file: Path = typer.Argument(
        None,
        help="The CMS file (icd10pcs: icd10pcs_tables_YYYY.xml or "
        "icd10pcs_order_YYYY.txt). icd10cm takes none: it loads simple-icd-10-cm's "
        "release (or --tabular and --code-list).",
    ),  # fmt: skip
    effective_from: str = typer.Option(
        "",
        help="First day in force (YYYY-MM-DD); default: from the release or file name.",
    ),
    effective_to: str = typer.Option("", help="Last day in force (YYYY-MM-DD)."),
    label: str = typer.Option("", help="A name for the release, e.g. 'FY2027'."),
    tabular: Path = typer.Option(None, help="icd10cm: another year's tabular XML."),
    code_list: Path = typer.Option(
        None, help="icd10cm: its list of codes, one a line."
    ),
) -> None:
    """Load a code-set release beside those already loaded (R-COD-1: never over them)."""
    if system not in SYSTEMS:
        fail(f"unknown code set {system!r}; choose from {', '.join(SYSTEMS)}")
    start, end = (
        _day(effective_from, "--effective-from"),
        _day(effective_to, "--effective-to"),
    )
    django_setup()
    from recordroom.coding import loaders
    from recordroom.kernel.errors import RecordroomError

    try:
        if system == "icd10cm":
            if file is not None:
                fail(
                    "icd10cm takes no FILE: give --tabular and --code-list for another year"
                )
            loaded = loaders.load_icd10cm(
                actor=cli_actor(),
                effective_from=start,
                effective_to=end,
                tabular=tabular,
                code_list=code_list,
                label=label,
            )
        else:
            if file is None:
                fail(f"{system} needs the CMS FILE to load")
            loaded = loaders.load_file(
                actor=cli_actor(),
                system=SYSTEMS[system],
                path=file,
                effective_from=start,
                effective_to=end,
                label=label,
            )
    except RecordroomError as e:
        fail(e.message)
    v = loaded.version
    until = v.effective_to.isoformat() if v.effective_to else "open"
    out.print(
        f"loaded {v}: {v.codes} entries, in force {v.effective_from} to {until} "
        f"({loaded.seconds:.1f} s)"
    )


@codes_app.command("list")
def list_releases() -> None:
    """The releases loaded, newest first within each code set."""
    django_setup()
    from recordroom.coding.models import CodeSetVersion

    table = Table("code set", "release", "from", "to", "entries", "source")
    for v in CodeSetVersion.objects.order_by("system", "-effective_from"):
        table.add_row(
            v.get_system_display(),
            v.label,
            v.effective_from.isoformat(),
            v.effective_to.isoformat() if v.effective_to else "open",
            str(v.codes),
            v.source,
        )
    out.print(table)


def _print_notes(notes: dict[str, Any], indent: str = "  ") -> None:
    names = {
        "includes": "Includes",
        "inclusion_terms": "Inclusion terms",
        "excludes1": "Excludes1",
        "excludes2": "Excludes2",
        "code_first": "Code first",
        "use_additional_code": "Use additional code",
        "code_also": "Code also",
        "notes": "Note",
        "seventh_character_note": "7th character note",
    }
    for key, name in names.items():
        value = notes.get(key)
        if not value:
            continue
        lines = value if isinstance(value, list) else str(value).splitlines()
        out.print(f"{indent}[bold]{name}:[/]", highlight=False)
        for line in lines:
            out.print(f"{indent}  {line}", highlight=False, markup=False)


@codes_app.command("lookup")
def lookup(
    code: str = typer.Argument(..., help="A code, with or without its dot."),
    on: str = typer.Option("", help="The release in force on this date (YYYY-MM-DD)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One code: its title, whether it may be reported (R-COD-2), its notes and the
    notes it inherits, its place in the tabular."""
    day = _day(on, "--on")
    django_setup()
    from dataclasses import asdict

    from recordroom.coding.search import lookup as find
    from recordroom.kernel.errors import RecordroomError

    try:
        d = find(code, on=day)
    except RecordroomError as e:
        fail(e.message)
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(asdict(d)).decode() + "\n")
        return
    out.print(f"[bold]{d.display}[/] {d.title}", highlight=False)
    out.print(f"  {d.version}; {d.status}", highlight=False)
    if d.ancestors:
        out.print(
            "  in: " + " < ".join(f"{a['code']} {a['title']}" for a in d.ancestors),
            highlight=False,
            markup=False,
        )
    _print_notes(d.notes)
    for up in d.inherited:
        out.print(f"  [italic]from {up['kind']} {up['from']}:[/]", highlight=False)
        _print_notes(up["notes"], indent="    ")
    if d.seventh_characters:
        out.print("  [bold]7th characters:[/]")
        for char, meaning in d.seventh_characters.items():
            out.print(f"    {char}  {meaning}", highlight=False, markup=False)
    if d.children:
        out.print("  [bold]codes under it:[/]")
        for c in d.children:
            mark = "" if c["billable"] else " (header)"
            out.print(
                f"    {c['display']}  {c['title']}{mark}", highlight=False, markup=False
            )


@codes_app.command("search")
def search(
    words: list[str] = typer.Argument(..., help="A code or its start, or words."),
    on: str = typer.Option("", help="The release in force on this date (YYYY-MM-DD)."),
    system: str = typer.Option("", help="Only icd10cm or icd10pcs."),
    limit: int = typer.Option(25, min=1, max=200, help="At most this many codes."),
    billable: bool = typer.Option(False, help="Only codes that may be reported."),
) -> None:
    """Search codes by code, words, partial words and synonyms, best first."""
    day = _day(on, "--on")
    django_setup()
    from recordroom.coding.search import SEARCHED
    from recordroom.coding.search import search as find
    from recordroom.kernel.errors import RecordroomError

    systems = (system,) if system else SEARCHED
    try:
        found = find(
            " ".join(words),
            on=day,
            systems=systems,
            limit=limit,
            billable_only=billable,
        )
    except RecordroomError as e:
        fail(e.message)
    if not found.hits:
        err.print(f"no codes for {found.query!r} in {', '.join(found.versions)}")
        raise typer.Exit(1)
    for h in found.hits:
        mark = "" if h.billable else "  (header)"
        out.print(f"{h.display:<9} {h.title}{mark}", highlight=False, markup=False)


@coding_app.command("group")
def group(
    file: Path = typer.Argument(
        ..., help="Claims as JSON lines ('-' for standard input)."
    ),
    output: Path = typer.Option(
        None, "--out", help="Write here (default: standard output)."
    ),
) -> None:
    """Group inpatient claims to MS-DRGs with the edits (validity for the discharge
    date R-COD-1, header codes R-COD-2, Excludes1 R-COD-3, the Medicare Code Editor
    R-COD-4, present on admission R-COD-5). One JSON line in, one out, same `id`; a
    line that cannot be read gets an `error` and the command exits 1 at the end."""
    django_setup()
    from recordroom.coding.grouping import Grouper

    if str(file) != "-" and not file.is_file():
        fail(f"no file {file}")
    source = sys.stdin.buffer if str(file) == "-" else file.open("rb")
    sink = output.open("wb") if output else sys.stdout.buffer
    refused = done = 0
    try:
        with Grouper() as grouper:
            for n, line in enumerate(source, 1):
                if not line.strip():
                    continue
                result = grouper.group_line(line, n)
                done += 1
                refused += "error" in result
                sink.write(grouper.dumps(result))
    finally:
        if source is not sys.stdin.buffer:
            source.close()
        if output:
            sink.close()
        else:
            sink.flush()
    err.print(f"{done} claims, {done - refused} grouped, {refused} refused")
    if refused:
        raise typer.Exit(1)
