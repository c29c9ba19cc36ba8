"""A visit's chart as the analysis reads it: its documents (the current version's
signatures), procedures and authors' standings, in a handful of queries."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pypdfium2 as pdfium

from recordroom.kernel.blobs import default_store
from recordroom.records.models import (
    DocumentStatus,
    DocumentVersion,
    Procedure,
    Provider,
    Signature,
    SignatureMeaning,
)

from .models import Standing

# Credentials that make a provider an advanced practice provider when no standing
# is recorded for them.
APP_CREDENTIALS = frozenset({"NP", "PA", "PA-C", "CNM", "CRNA", "CNS", "APRN"})
AUTHENTICATING = frozenset({SignatureMeaning.AUTHOR, SignatureMeaning.AUTHENTICATOR})


@dataclass
class Doc:
    id: Any
    type_code: str
    type_display: str
    requires_signature: bool
    status: str
    service_start: datetime
    author_id: Any
    version_sha: str = ""
    media_type: str = ""
    signatures: list[tuple[Any, str]] = field(default_factory=list)

    @property
    def in_error(self) -> bool:
        return self.status == DocumentStatus.ENTERED_IN_ERROR

    def signed_as(self, meanings: frozenset[str]) -> bool:
        return any(meaning in meanings for _, meaning in self.signatures)


@dataclass
class Proc:
    id: Any
    code: str
    display: str
    start: Any  # datetime (the query asks for a start)
    end: Any
    performer_id: Any


@dataclass
class Chart:
    documents: list[Doc]
    procedures: list[Proc]
    standings: dict[Any, str]


def load_chart(encounter_id: Any, *, need_standings: bool) -> Chart:
    return load_charts([encounter_id], need_standings=need_standings)[encounter_id]


def load_charts(encounter_ids: list[Any], *, need_standings: bool) -> dict[Any, Chart]:
    """The charts of many visits in four queries (a batch run reads 200 at a time):
    documents with every version (a document has at least one), the signatures,
    procedures, and the authors' standings."""
    by_id: dict[Any, Doc] = {}
    visit_of: dict[Any, Any] = {}
    latest: dict[Any, tuple[int, Any]] = {}
    for row in DocumentVersion.objects.filter(
        document__encounter_id__in=encounter_ids
    ).order_by().values_list(
        "document_id", "document__doc_type__code", "document__doc_type__display",
        "document__doc_type__requires_signature", "document__status",
        "document__service_start", "document__author_id", "id", "number", "sha256",
        "media_type", "document__encounter_id",
    ):  # fmt: skip
        doc = by_id.get(row[0])
        if doc is None:
            doc = by_id[row[0]] = Doc(*row[:7])
            visit_of[doc.id] = row[11]
        if row[8] > latest.get(doc.id, (0, None))[0]:
            latest[doc.id] = (row[8], row[7])
            doc.version_sha, doc.media_type = row[9], row[10]
    if by_id:
        owner = {vid: did for did, (_, vid) in latest.items()}
        for vid, signer, meaning in (
            Signature.objects.filter(version_id__in=owner)
            .order_by()
            .values_list("version_id", "signer_id", "meaning")
        ):
            by_id[owner[vid]].signatures.append((signer, meaning))
    charts = {pk: Chart([], [], {}) for pk in encounter_ids}
    for doc in sorted(by_id.values(), key=lambda d: (d.service_start, str(d.id))):
        charts[visit_of[doc.id]].documents.append(doc)
    for r in Procedure.objects.filter(
        encounter_id__in=encounter_ids, performed_start__isnull=False
    ).exclude(status__in=("entered-in-error", "not-done")).order_by().values(
        "id", "encounter_id", "code", "display", "text", "performed_start",
        "performed_end", "performer_id",
    ):  # fmt: skip
        charts[r["encounter_id"]].procedures.append(Proc(
            r["id"], r["code"], r["display"] or r["text"] or r["code"],
            r["performed_start"], r["performed_end"] or r["performed_start"],
            r["performer_id"]))  # fmt: skip
    authors = {d.author_id for d in by_id.values() if d.author_id is not None}
    if need_standings and authors:
        standings = {
            pk: standing or _by_credentials(credentials)
            for pk, credentials, standing in Provider.objects.filter(
                id__in=authors
            ).values_list("id", "credentials", "standing__standing")
        }
        for chart in charts.values():
            chart.standings = standings
    return charts


def _by_credentials(credentials: str) -> str:
    words = {w.strip(" .").upper() for w in re.split(r"[,/ ]+", credentials or "")}
    return Standing.APP if words & APP_CREDENTIALS else Standing.PHYSICIAN


# --- content ----------------------------------------------------------------------------

_TEXTS: OrderedDict[str, str | None] = OrderedDict()
_TEXTS_MAX = 2048


def text_of(doc: Doc) -> str | None:
    """The current version's text, lower-cased with runs of space as one (None: it
    has no text to read, a scan without a text layer). Cached by the bytes' hash."""
    key = doc.version_sha
    if key in _TEXTS:
        _TEXTS.move_to_end(key)
        return _TEXTS[key]
    data = default_store().get(key)
    text: str | None = None
    if doc.media_type.startswith("text/"):
        text = data.decode("utf-8", "replace")
    elif doc.media_type == "application/pdf":
        pdf = pdfium.PdfDocument(data)
        try:
            text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
        finally:
            pdf.close()
    text = " ".join(text.lower().split()) if text and text.strip() else None
    _TEXTS[key] = text
    if len(_TEXTS) > _TEXTS_MAX:
        _TEXTS.popitem(last=False)
    return text


def missing_phrases(text: str, phrases: list[str]) -> list[str]:
    """The required phrases the text lacks ('a|b' is met by either)."""
    return [
        p for p in phrases
        if not any(" ".join(alt.lower().split()) in text for alt in p.split("|"))
    ]  # fmt: skip
