"""`recordroom import fhir`: FHIR bundles and NDJSON, from files or folders.

Each bundle (or chunk of NDJSON lines) is one transaction through the FHIR Writer,
so a crash loses at most the unit in flight, and a rerun finds what was committed
by its source keys: a second run adds nothing (idempotent), an interrupted one
picks up where it stopped (resumable). Every input file is kept, encrypted, in the
blob store; every refused resource goes to the quarantine with its reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from django.db import DatabaseError
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.interop.fhir import body as fhir_json
from recordroom.interop.fhir.params import Invalid
from recordroom.interop.fhir.writer import Entry, Result, Writer
from recordroom.interop.models import ImportRun, ImportStatus, QuarantineItem
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import ValidationFailed
from recordroom.mpi.models import Facility

from .runs import beat, fail_abandoned_runs, this_process

SUFFIXES = (".json", ".ndjson", ".jsonl")
NDJSON_CHUNK = 1000
GROUP = 2000  # entries per transaction
STATUSES = ("created", "updated", "unchanged", "skipped", "rejected")


@dataclass
class Unit:
    """One transaction's worth of input."""

    location: str
    entries: list[Entry]


@dataclass
class Summary:
    by_status: dict[str, Counter[str]] = field(
        default_factory=lambda: {s: Counter() for s in STATUSES}
    )
    files: int = 0

    def totals(self) -> dict[str, int]:
        return {s: sum(c.values()) for s, c in self.by_status.items()}

    def as_dict(self) -> dict[str, Any]:
        return {"files": self.files, "totals": self.totals(),
                "by_type": {s: dict(c) for s, c in self.by_status.items() if c}}  # fmt: skip


def discover(paths: list[Path]) -> list[Path]:
    """The files to read, folders walked in name order; a missing path is an error."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*")
                            if p.is_file() and p.suffix.lower() in SUFFIXES)  # fmt: skip
        elif path.is_file():
            files.append(path)
        else:
            raise ValidationFailed(f"{path} does not exist", field="path")
    return files


def _bundle_entries(doc: dict[str, Any], location: str) -> list[Entry]:
    out = []
    for n, e in enumerate(doc.get("entry") or []):
        e = e if isinstance(e, dict) else {}
        request: dict[str, Any] = (
            e["request"] if isinstance(e.get("request"), dict) else {}
        )
        if not request and "response" in e:
            request = {"method": "RESPONSE"}
        out.append(Entry(
            resource=e.get("resource"), full_url=str(e.get("fullUrl") or ""),
            method=str(request.get("method") or "POST"), url=str(request.get("url") or ""),
            if_none_exist=str(request.get("ifNoneExist") or ""),
            location=f"{location}#entry[{n}]",
        ))  # fmt: skip
    return out


# Twenty digits in a row: a number that may be beyond 64 bits (or a long identifier
# in a string). orjson reads such a number as a float without a word, so that text
# goes through the exact reader, which refuses it by path (as the FHIR API does).
_LONG_DIGITS = re.compile(r"\d{20}")


def _json(text: str) -> Any:
    """The JSON value of `text`: orjson, or fhir.body's exact reader where a number
    could be beyond what orjson keeps.

    Raises:
        orjson.JSONDecodeError: not JSON.
        Invalid: a number or string FHIR cannot hold, named by its path.
    """
    if _LONG_DIGITS.search(text):
        return fhir_json.loads(text.encode())
    return orjson.loads(text)


def read_units(path: Path, data: bytes, refuse: Callable[..., None]) -> Iterator[Unit]:
    """Units of a file; what cannot be read at all is refused whole, with why."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        refuse(
            str(path), data, f"not UTF-8 text (byte {exc.start}); FHIR JSON is UTF-8"
        )
        return
    if path.suffix.lower() in (".ndjson", ".jsonl"):
        chunk: list[Entry] = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                chunk.append(Entry(_json(line), location=f"{path}:{n}"))
            except orjson.JSONDecodeError as exc:
                refuse(f"{path}:{n}", line.encode(), f"line {n} is not JSON: {exc.msg}")
            except Invalid as exc:
                refuse(f"{path}:{n}", line.encode(), f"line {n}: {exc.message}")
            if len(chunk) >= NDJSON_CHUNK:
                yield Unit(f"{path}:{n}", chunk)
                chunk = []
        if chunk:
            yield Unit(str(path), chunk)
        return
    try:
        doc = _json(text)
    except orjson.JSONDecodeError as exc:
        refuse(str(path), data, f"not JSON: {exc.msg} at line {exc.lineno} column "
               f"{exc.colno}")  # fmt: skip
        return
    except Invalid as exc:
        refuse(str(path), data, exc.message)
        return
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        if not isinstance(doc.get("entry") or [], list):
            refuse(str(path), data, "Bundle.entry is not an array", "Bundle",
                   expression="Bundle.entry")  # fmt: skip
            return
        yield Unit(str(path), _bundle_entries(doc, str(path)))
    else:
        yield Unit(str(path), [Entry(doc, location=str(path))])


def import_fhir(
    *,
    actor: Actor,
    paths: list[Path],
    source: str = "fhir-import",
    facility: Facility | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ImportRun, Summary]:
    """Import FHIR files; return the run (with its counts) and the summary.

    Raises:
        ValidationFailed: a path does not exist (nothing is read).
    """
    files = discover(paths)
    store = default_store()
    fail_abandoned_runs(actor=actor)  # runs a killed import left "running"
    run = ImportRun.objects.create(
        started_by=actor.username[:150], source=source, paths=[str(p) for p in paths],
        **this_process(),
    )  # fmt: skip
    summary = Summary()
    writer = Writer(actor=actor, source=source, facility=facility, own_ids=True)

    def refuse(location: str, raw: bytes, reason: str, rtype: str = "",
               sid: str = "", expression: str = "", count: bool = True) -> None:  # fmt: skip
        blob = store.put(raw)
        QuarantineItem.objects.create(
            run=run, channel="import", location=location[:300], resource_type=rtype,
            source_id=sid[:200], reason=reason, expression=expression[:200],
            raw_sha256=blob.sha256, raw_size=len(raw),
        )  # fmt: skip
        if count:
            summary.by_status["rejected"][rtype or "file"] += 1

    deferred: list[Entry] = []

    def settle(unit: Unit, results: list[Result], final: bool) -> None:
        for r in results:
            entry = unit.entries[r.index] if r.index < len(unit.entries) else None
            if r.status == "rejected" and r.unresolved and not final and entry:
                deferred.append(entry)  # its reference may be in a later file
                continue
            if r.status == "rejected":
                raw = json.dumps(entry.resource if entry else None).encode()
                refuse(entry.location if entry else unit.location, raw, r.reason,
                       r.resource_type, r.source_id, r.expression, count=False)  # fmt: skip
            summary.by_status[r.status][r.resource_type or "?"] += 1

    batch: list[Unit] = []
    unstored: list[bytes] = []

    def flush() -> None:
        # Small bundles are applied together, one transaction per GROUP entries;
        # if the database refuses the group, each bundle is tried on its own. Their
        # files are made durable first, with one sync for the group.
        beat(run)
        if unstored:
            store.put_many(unstored)
            unstored.clear()
        if not batch:
            return
        group = Unit(batch[0].location, [e for u in batch for e in u.entries])
        try:
            settle(
                group, writer.apply(group.entries, all_or_nothing=False), final=False
            )
        except DatabaseError:
            for unit in batch:
                settle(unit, _apply(writer, unit), final=False)
        batch.clear()

    try:
        for path in files:
            data = path.read_bytes()
            raw_sha256 = hashlib.sha256(data).hexdigest()
            unstored.append(data)
            for unit in read_units(path, data, refuse):
                for entry in unit.entries:
                    entry.raw_sha256 = raw_sha256
                batch.append(unit)
                if sum(len(u.entries) for u in batch) >= GROUP:
                    flush()
            summary.files += 1
            if progress:
                progress(len(data))
        flush()
        while deferred:
            unit, deferred = Unit("retry", deferred), []
            results = _apply(writer, unit)
            stuck = sum(r.status == "rejected" and r.unresolved for r in results)
            settle(unit, results, final=stuck == len(unit.entries))
    finally:
        run.finished_at = timezone.now()
        run.counts = summary.as_dict()
        run.status = (ImportStatus.FINISHED if summary.files == len(files)
                      else ImportStatus.FAILED)  # fmt: skip
        run.save()
        record(actor=actor, action=actions.INTEROP_IMPORT.name, obj=run,
               detail={"source": source, **summary.as_dict()})  # fmt: skip
    return run, summary


def _apply(writer: Writer, unit: Unit) -> list[Result]:
    try:
        return writer.apply(unit.entries, all_or_nothing=False)
    except DatabaseError as exc:
        # The unit rolled back as a whole: refuse each entry, keep them all.
        return [Result(i, "rejected", _type_of(e.resource),
                       reason=f"the database refused the bundle: {exc}")
                for i, e in enumerate(unit.entries)]  # fmt: skip


def _type_of(resource: Any) -> str:
    if isinstance(resource, dict):
        return str(resource.get("resourceType", ""))[:40]
    return ""
