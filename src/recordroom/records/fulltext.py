"""Search inside documents: the text of each version, page by page, indexed on SQLite
(FTS5) and PostgreSQL (tsvector) so that both find exactly the same pages.

How the two engines are made to agree: neither tokenises anything. `tokens()` (in
Python, for both) folds case and strips accents and cuts the text into words of
letters and digits; a page's `terms` are those tokens with one space between. FTS5
indexes `terms` with its `ascii` tokenizer (which splits at the spaces, the only
ASCII non-alphanumerics left, and nowhere else) and PostgreSQL takes the same
tokens as lexemes as they are (`array_to_tsvector`, no parser, no stemming). A
query (`parse_query`) is a list of terms, all required: a word, a "quoted phrase",
or a word ending in `*` (a prefix). FTS5 answers phrases by token positions;
PostgreSQL finds the pages holding every token through its GIN index and checks each
phrase as consecutive tokens in `terms` (`LIKE '% a b %'`): the same test, without
the tsvector's position limits (16,383 positions, 256 per word). Results come in
one order on both (newest date of service, then document, then page), never by a
rank each engine computes its own way.

Only a document's newest indexed version is searched (`PageText.current`), and only
documents the user could open (the facility scope, the chart's facilities and the
sensitivity labels with break-the-glass, as records.services.get_document checks
one). Each search is audited (`document.search`, one event per patient whose pages
were returned); a page image with its hits highlighted is a document view.

Indexing reads the version's bytes: a PDF's text layer (what OCR wrote into a scan,
or a born-digital PDF's text) through PDFium, with each word's box on the page image
at `DPI`; a text file as one page. It runs in `recordroom worker` (records.tasks),
queued when a version is stored, so that filing a 2,000-page fax does not wait for
it; `index_version` is the same work in the caller's process (tests, `reindex`).
"""

from __future__ import annotations

import ctypes
import html
import io
import logging
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import connection, transaction
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from recordroom.audit.services import EventSpec, record_many
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.errors import IntegrityFailure, NotFound, ValidationFailed
from recordroom.mpi.models import Patient, PatientIdentifier

from .access import readable_documents
from .models import Document, DocumentVersion, PageText, TextStatus, VersionText

logger = logging.getLogger(__name__)

DPI = 100  # word boxes and page images: pixels at this resolution
MAX_TOKEN = 64  # longer runs of letters (a base64 blob) are cut to this
MAX_TERMS = 12
MAX_QUERY = 500
MAX_LIMIT = 100
SNIPPET_BEFORE, SNIPPET_AFTER = 8, 16  # words around the first hit
FTS_TABLE = "records_pagetext_fts"

# --- words ------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans("", "", "'\u2019")


def tokens(text: str) -> list[str]:
    """'Núñez-O'Brien, 12.5 mg' -> ['nunez', 'obrien', '12', '5', 'mg'].

    Case folded, accents stripped (NFKD, combining marks dropped), apostrophes
    removed inside a word (as patient search's keys), anything but letters and
    digits a separator. The one definition both databases index and query with.
    """
    if not text:
        return []
    folded = unicodedata.normalize("NFKD", text.casefold())
    if not folded.isascii():
        folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [t[:MAX_TOKEN] for t in _TOKEN.findall(folded.translate(_APOSTROPHES))]


# --- the query language -------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """Tokens that must stand next to each other on the page, in this order (one for
    a word); with `prefix`, the last one need only start with its token."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[Term, ...]

    def matcher(self) -> Callable[[list[str]], bool]:
        """Whether a word (its tokens) is one a hit is made of: for highlighting."""
        exact = {t for term in self.terms for t in term.tokens[:-1]}
        exact |= {term.tokens[-1] for term in self.terms if not term.prefix}
        starts = tuple(term.tokens[-1] for term in self.terms if term.prefix)

        def hit(word_tokens: list[str]) -> bool:
            return any(t in exact or t.startswith(starts) for t in word_tokens)

        return hit


_PART = re.compile(r'"([^"]*)("?)|(\S+)')


def parse_query(text: str) -> Query:
    """Words (all required), "quoted phrases" and prefixes (`cardi*`).

    A word that folds to several tokens ("O'Brien-Núñez", "12.5") is a phrase of
    them. Raises ValidationFailed, naming the problem, for an empty or too long query
    or a prefix of fewer than two letters.
    """
    text = (text or "").strip()
    if len(text) > MAX_QUERY:
        raise ValidationFailed(
            f"the search is {len(text)} characters; at most {MAX_QUERY}", field="q"
        )
    terms: list[Term] = []
    for quoted, _closed, bare in _PART.findall(text):
        raw = quoted if bare == "" else bare
        prefix = raw.rstrip().endswith("*")
        found = tuple(tokens(raw))
        if not found:
            continue
        if prefix and len(found[-1]) < 2:
            raise ValidationFailed(
                f"'{raw.strip()}': a prefix needs at least two letters before the *",
                field="q",
            )
        term = Term(found, prefix)
        if term not in terms:
            terms.append(term)
    if not terms:
        raise ValidationFailed(
            "type a word to search for (letters or digits)", field="q"
        )
    if len(terms) > MAX_TERMS:
        raise ValidationFailed(
            f"the search has {len(terms)} words or phrases; at most {MAX_TERMS}",
            field="q",
        )
    return Query(text, tuple(terms))


def fts5_query(query: Query) -> str:
    """The query in FTS5's syntax: each term a quoted phrase, `*` after a prefix."""
    return " AND ".join(
        '"' + " ".join(t.tokens) + '"' + ("*" if t.prefix else "") for t in query.terms
    )


def tsquery(query: Query) -> str:
    """Every token of the query as a tsquery (phrases are checked on `terms`)."""
    parts: list[str] = []
    for term in query.terms:
        for i, token in enumerate(term.tokens):
            last = i == len(term.tokens) - 1
            part = f"'{token}'" + (":*" if term.prefix and last else "")
            if part not in parts:
                parts.append(part)
    return " & ".join(parts)


def match_sql(query: Query, vendor: str) -> tuple[str, list[Any]]:
    """A WHERE condition on records_pagetext: the pages holding every term."""
    table = PageText._meta.db_table
    if vendor == "sqlite":
        return (
            f'"{table}"."id" IN (SELECT rowid FROM {FTS_TABLE} '  # noqa: S608
            f"WHERE {FTS_TABLE} MATCH %s)",
            [fts5_query(query)],
        )
    if vendor == "postgresql":
        sql = [f'"{table}"."search" @@ %s::tsquery']
        params: list[Any] = [tsquery(query)]
        for term in query.terms:
            if len(term.tokens) > 1:
                sql.append(f"(' ' || \"{table}\".\"terms\" || ' ') LIKE %s")
                phrase = " ".join(term.tokens)
                params.append(f"% {phrase}%" if term.prefix else f"% {phrase} %")
        return " AND ".join(sql), params
    raise NotImplementedError(f"no full-text search on {vendor!r}")


# --- reading a version's text ---------------------------------------------------------


@dataclass
class PageWords:
    """One page's words in reading order, `breaks` the indexes of words that start a
    line, `boxes` [x0, y0, x1, y1] per word in pixels at DPI (empty for text files)."""

    number: int
    words: list[str] = field(default_factory=list)
    breaks: set[int] = field(default_factory=set)
    boxes: list[int] = field(default_factory=list)
    width: int = 0
    height: int = 0

    def text(self) -> str:
        out: list[str] = []
        for i, word in enumerate(self.words):
            if i:
                out.append("\n" if i in self.breaks else " ")
            out.append(word)
        return "".join(out)

    def terms(self) -> str:
        return " ".join(t for w in self.words for t in tokens(w))


class Unreadable(Exception):
    """A file whose text cannot be read (corrupt, encrypted)."""


def page_size(page: Any, scale: float) -> tuple[int, int]:
    """The size pypdfium2 renders a page at `scale` (its own rounding)."""
    width, height = page.get_size()
    return math.ceil(width * scale), math.ceil(height * scale)


def pdf_pages(data: bytes, *, dpi: int = DPI) -> Iterable[PageWords]:
    """Each page's words with their boxes, from the PDF's text layer (PDFium)."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise Unreadable(f"the PDF cannot be read ({exc})") from None
    try:
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            try:
                yield _Reader(page, textpage, index + 1, dpi / 72).read()
            finally:
                textpage.close()
                page.close()
    finally:
        pdf.close()


class _Reader:
    """One PDF page's characters (FPDFText, one call each: the text of a whole page
    need not line up with the character indexes) gathered into words; a word's box
    is its characters' boxes joined, mapped to the page image by FPDF_PageToDevice
    (which applies the page's rotation as rendering does)."""

    def __init__(self, page: Any, textpage: Any, number: int, scale: float) -> None:
        self.page, self.textpage = page.raw, textpage.raw
        self.out = PageWords(number)
        self.out.width, self.out.height = page_size(page, scale)
        self.word: list[str] = []
        self.box: list[float] = []
        self.line_start = True
        self.dx, self.dy = ctypes.c_int(), ctypes.c_int()

    def device(self, x: float, y: float) -> tuple[int, int]:
        import pypdfium2.raw as raw

        raw.FPDF_PageToDevice(self.page, 0, 0, self.out.width, self.out.height, 0,
                              x, y, ctypes.byref(self.dx), ctypes.byref(self.dy))  # fmt: skip
        return self.dx.value, self.dy.value

    def flush(self) -> None:
        out, box = self.out, self.box
        if not self.word:
            return
        if self.line_start and out.words:
            out.breaks.add(len(out.words))
        self.line_start = False
        out.words.append("".join(self.word))
        if box:
            x0, y0 = self.device(box[0], box[3])
            x1, y1 = self.device(box[1], box[2])
            out.boxes += [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
        else:
            out.boxes += [0, 0, 0, 0]
        self.word = []
        self.box = []

    def read(self) -> PageWords:
        import pypdfium2.raw as raw

        left, right, bottom, top = (ctypes.c_double() for _ in range(4))
        refs = [ctypes.byref(v) for v in (left, right, bottom, top)]
        tp = self.textpage
        for i in range(raw.FPDFText_CountChars(tp)):
            code = raw.FPDFText_GetUnicode(tp, i)
            ch = chr(code) if 0 < code < 0x110000 else " "
            if ch in "\r\n":
                self.flush()
                self.line_start = True
                continue
            if ch.isspace() or code < 32:
                self.flush()
                continue
            self.word.append(ch)
            if raw.FPDFText_GetCharBox(tp, i, *refs) and right.value > left.value:
                box = self.box
                if box:
                    box[0] = min(box[0], left.value)
                    box[1] = max(box[1], right.value)
                    box[2] = min(box[2], bottom.value)
                    box[3] = max(box[3], top.value)
                else:
                    box += [left.value, right.value, bottom.value, top.value]
        self.flush()
        return self.out


_TAG = re.compile(r"<[^>]*>")


def text_pages(data: bytes, media_type: str) -> list[PageWords]:
    """A text file as one page of words (markup of HTML and XML taken out)."""
    text = data.decode("utf-8", errors="replace")
    if media_type in ("text/html", "text/xml"):
        text = html.unescape(_TAG.sub(" ", text))
    page = PageWords(1)
    for line in text.splitlines():
        words = line.split()
        if words and page.words:
            page.breaks.add(len(page.words))
        page.words += words
    return [page]


def read_pages(data: bytes, media_type: str) -> Iterable[PageWords]:
    if media_type == "application/pdf":
        return pdf_pages(data)
    if media_type in ("text/plain", "text/html", "text/xml"):
        return text_pages(data, media_type)
    raise LookupError(media_type)


# --- indexing -------------------------------------------------------------------------

_BATCH = 200  # pages written at a time


def index_version(version: DocumentVersion) -> int:
    """Read the version's text and (re)write its pages and their index; returns the
    number of pages indexed (0 for a file without text, which is recorded too).

    Idempotent: indexing a version again replaces its pages. The document's newest
    indexed version becomes the one search finds.
    """
    try:
        data = default_store().get(version.sha256)
    except IntegrityFailure as exc:
        _finish(version, TextStatus.FAILED, [], detail=exc.message)
        return 0
    try:
        pages = list(read_pages(data, version.media_type))
    except LookupError:
        _finish(version, TextStatus.UNSUPPORTED, [],
                detail=f"{version.media_type} has no text layer to index")  # fmt: skip
        return 0
    except Unreadable as exc:
        _finish(version, TextStatus.FAILED, [], detail=str(exc)[:300])
        return 0
    written = [p for p in pages if p.words]
    status = TextStatus.INDEXED if written else TextStatus.NO_TEXT
    _finish(version, status, written, page_count=len(pages))
    return len(written)


def _finish(
    version: DocumentVersion, status: str, pages: list[PageWords], *,
    detail: str = "", page_count: int = 0,
) -> None:  # fmt: skip
    with transaction.atomic():
        # One indexer at a time per document (two versions, or a reindex).
        Document.objects.select_for_update().filter(pk=version.document_id).first()
        _delete_pages(PageText.objects.filter(version=version))
        rows = [
            PageText(
                version=version, document_id=version.document_id, current=False,
                page=p.number, width=p.width, height=p.height, text=p.text(),
                boxes=p.boxes, terms=p.terms(),
            )
            for p in pages
        ]  # fmt: skip
        for start in range(0, len(rows), _BATCH):
            _insert_pages(rows[start : start + _BATCH])
        VersionText.objects.update_or_create(
            version=version,
            defaults={
                "status": status,
                "pages": page_count or len(pages),
                "words": sum(len(p.words) for p in pages),
                "dpi": DPI if version.media_type == "application/pdf" else 0,
                "detail": detail,
                "indexed_at": timezone.now(),
            },
        )
        _mark_current(version.document_id)


def _insert_pages(rows: list[PageText]) -> None:
    PageText.objects.bulk_create(rows)
    if connection.vendor == "sqlite":
        ids = [r.pk for r in rows]
        if None in ids:  # bulk_create sets them on SQLite 3.35+; read them otherwise
            ids = list(
                PageText.objects.filter(
                    version_id=rows[0].version_id, page__in=[r.page for r in rows]
                ).values_list("pk", flat=True)
            )
        with connection.cursor() as cur:
            marks = ", ".join(["%s"] * len(ids))
            cur.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, terms) SELECT id, terms "  # noqa: S608
                f"FROM {PageText._meta.db_table} WHERE id IN ({marks})",
                ids,
            )


def _delete_pages(rows: Any) -> None:
    """Delete page rows (and on SQLite their entries in the external-content index,
    which must be told the text it indexed)."""
    if connection.vendor == "sqlite":
        sql, params = rows.values("pk").query.sql_with_params()
        with connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, terms) "  # noqa: S608
                f"SELECT 'delete', id, terms FROM {PageText._meta.db_table} "
                f"WHERE id IN ({sql})",
                params,
            )
    rows.delete()


def _mark_current(document_id: Any) -> None:
    """The pages of the document's newest indexed version are the ones search finds."""
    newest = (
        VersionText.objects.filter(version__document_id=document_id,
                                   status=TextStatus.INDEXED)
        .order_by("-version__number").values_list("version_id", flat=True).first()
    )  # fmt: skip
    PageText.objects.filter(document_id=document_id).update(
        current=Case(
            When(version_id=newest, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
        if newest is not None
        else Value(False)
    )


def queue_index(version_id: Any) -> None:
    """Index a version in the worker once the transaction that stored it commits
    (called by records.services when a version is stored)."""
    from .tasks import index_text

    transaction.on_commit(lambda: index_text.enqueue(str(version_id)), robust=True)


@dataclass(frozen=True)
class Reindexed:
    versions: int
    pages: int


def reindex(
    *, missing_only: bool = True, document: Document | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Reindexed:  # fmt: skip
    """Index versions again (or, with `missing_only`, those never indexed: after an
    upgrade, a restore, a bulk load), oldest first, one version per transaction."""
    rows = DocumentVersion.objects.order_by("created_at", "pk")
    if document is not None:
        rows = rows.filter(document=document)
    if missing_only:
        rows = rows.exclude(Exists(VersionText.objects.filter(version=OuterRef("pk"))))
    ids = list(rows.values_list("pk", flat=True))
    pages = 0
    for done, pk in enumerate(ids, 1):
        version = DocumentVersion.objects.filter(pk=pk).first()
        if version is not None:
            pages += index_version(version)
        if progress is not None:
            progress(done, len(ids))
    return Reindexed(len(ids), pages)


# --- search ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """A page that holds every term: the document (its patient, type and facility
    loaded), the version, the page, and a snippet around the first hit with the
    hits' [start, end) character ranges in it."""

    document: Document
    version: int
    page: int
    snippet: str
    marks: list[tuple[int, int]]

    @property
    def cursor(self) -> str:
        return f"{self.document.pk}.{self.page}"


@dataclass(frozen=True)
class HitPage:
    hits: list[Hit]
    next: str | None  # the cursor of the following page, None at the end

    def patients(self) -> list[Any]:
        seen: dict[Any, None] = {}
        for hit in self.hits:
            seen.setdefault(hit.document.patient_id, None)
        return list(seen)


def openable_documents(user: Any) -> Any:
    """The documents `user` could open now, as records.services.get_document decides
    for one: at a facility in scope, of a chart in scope (an identifier at one of the
    facilities, the chart's or the one it was merged into), without a label the
    user may not read (break-the-glass counted)."""
    from .services import visible_documents

    rows = visible_documents(user)
    scope = user.facility_ids() if user is not None else None
    if scope is not None:
        ids = PatientIdentifier.objects.filter(facility_id__in=scope)
        rows = rows.filter(
            Exists(ids.filter(patient_id=OuterRef("patient_id")))
            | Exists(ids.filter(patient_id=OuterRef("patient__merged_into_id")))
        )
    return readable_documents(rows, user)


def _cursor(value: str | None) -> tuple[UUID, int] | None:
    if not value:
        return None
    try:
        doc, page = value.rsplit(".", 1)
        return UUID(doc), int(page)
    except ValueError:
        raise ValidationFailed(
            f"cursor {value[:60]!r} is not one this search gave; start again without it",
            field="cursor",
        ) from None


def find_pages(
    *, user: Any, query: Query | str, patient: Patient | None = None,
    limit: int = 20, cursor: str | None = None,
) -> HitPage:  # fmt: skip
    """The pages matching `query` in documents `user` could open (of `patient` only,
    if given): newest date of service first, then by document, then page order;
    `cursor` is the `next` of the page before. Not audited: search_documents is."""
    if isinstance(query, str):
        query = parse_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit {limit} is out of range; ask for 1 to {MAX_LIMIT} pages",
            field="limit",
        )
    docs = openable_documents(user)
    if patient is not None:
        docs = docs.filter(patient=patient)
    sql, params = match_sql(query, connection.vendor)
    matching = PageText.objects.filter(current=True).filter(
        RawSQL(sql, params, output_field=BooleanField())
    )
    after = _cursor(cursor)
    anchor = None
    if after is not None:
        anchor = (
            docs.filter(pk=after[0]).values_list("service_start", flat=True).first()
        )
        if anchor is None:
            raise ValidationFailed(
                "cursor names a document not in this search; start again without it",
                field="cursor",
            )
        doc_id, page = after
        matching = matching.filter(
            Q(document__service_start__lt=anchor)
            | Q(document__service_start=anchor, document_id__lt=doc_id)
            | Q(document__service_start=anchor, document_id=doc_id, page__gt=page)
        )
    matching = matching.select_related(
        "document", "document__doc_type", "document__patient", "document__facility",
        "version",
    ).prefetch_related("document__patient__names").order_by(
        "-document__service_start", "-document_id", "page"
    )  # fmt: skip
    if patient is not None and connection.vendor == "sqlite":
        # One chart's documents are few: list them, then their pages that match
        # (PostgreSQL plans this worse than the walk below: bench/fulltext.py).
        found = list(matching.filter(document__in=docs.values("pk"))[: limit + 1])
    elif _few(matching):
        # Few pages hold the words: check each one's document (a rare word among a
        # million pages: milliseconds).
        rows = matching.filter(Exists(docs.filter(pk=OuterRef("document_id"))))
        found = list(rows[: limit + 1])
    else:
        # Many: walk the documents the user may open newest first, in growing
        # batches, taking their pages that match (sorting 90,000 pages is slower).
        if after is not None:
            docs = docs.filter(Q(service_start__lt=anchor)
                               | Q(service_start=anchor, pk__lte=after[0]))  # fmt: skip
        found = _walk(matching, docs.order_by("-service_start", "-pk"), limit + 1)
    more = len(found) > limit
    hit = query.matcher()
    hits = [
        Hit(row.document, row.version.number, row.page, *snippet(row.text, hit))
        for row in found[:limit]
    ]
    return HitPage(hits, hits[-1].cursor if more and hits else None)


FEW = 2000  # pages: below, each page's document is checked; above, documents listed


def _few(matching: Any) -> bool:
    """Whether at most FEW pages hold the words (whoever may read them): a count the
    index answers, stopped at FEW + 1."""
    return len(matching.order_by().values_list("pk", flat=True)[: FEW + 1]) <= FEW


BATCH = 200  # documents in the walk's first batch; each next one four times larger


def _walk(matching: Any, ordered_docs: Any, wanted: int) -> list[PageText]:
    """The first `wanted` matching pages of `ordered_docs`, in their order: batch by
    batch of documents, so that the pages found come in the documents' order."""
    found: list[PageText] = []
    offset, size = 0, BATCH
    while len(found) < wanted:
        batch = list(ordered_docs.values_list("pk", flat=True)[offset : offset + size])
        if not batch:
            break
        found += list(matching.filter(document_id__in=batch)[: wanted - len(found)])
        if len(batch) < size:
            break
        offset, size = offset + size, size * 4
    return found


def snippet(
    text: str, hit: Callable[[list[str]], bool]
) -> tuple[str, list[tuple[int, int]]]:
    """Some words around the first hit on the page, with every hit in them marked
    (only the words up to the end of the window are looked at)."""
    words = text.split()
    first = next((i for i, w in enumerate(words) if hit(tokens(w))), 0)
    start = max(0, first - SNIPPET_BEFORE)
    end = min(len(words), first + SNIPPET_AFTER + 1)
    out = "… " if start > 0 else ""
    marks: list[tuple[int, int]] = []
    for i in range(start, end):
        if i > start:
            out += " "
        if hit(tokens(words[i])):
            marks.append((len(out), len(out) + len(words[i])))
        out += words[i]
    if end < len(words):
        out += " …"
    return out, marks


def search_documents(
    *, actor: Actor, query: str, patient: Patient | None = None,
    limit: int = 20, cursor: str | None = None,
) -> HitPage:  # fmt: skip
    """find_pages for `actor.user`, audited as a PHI query (`document.search`): one
    event per patient whose pages were returned, naming the documents and pages, or
    one event without a patient when none were."""
    parsed = parse_query(query)
    page = find_pages(user=actor.user, query=parsed, patient=patient,
                      limit=limit, cursor=cursor)  # fmt: skip
    base = {
        "query": parsed.text,
        "within": "chart" if patient is not None else "charts in scope",
        "results": len(page.hits),
        **({"cursor": cursor} if cursor else {}),
    }
    events: list[EventSpec] = []
    for patient_id in page.patients():
        mine = [h for h in page.hits if h.document.patient_id == patient_id]
        detail = {
            **base,
            "documents": sorted({str(h.document.pk) for h in mine}),
            "pages": [f"{h.document.pk}/{h.version}/{h.page}" for h in mine],
        }
        events.append(EventSpec(actor, actions.DOCUMENT_SEARCH.name, patient_id,
                                detail=detail))  # fmt: skip
    if not events:
        events.append(EventSpec(actor, actions.DOCUMENT_SEARCH.name,
                                patient.pk if patient is not None else None,
                                detail=base))  # fmt: skip
    record_many(events)
    return page


# --- a page with its hits -------------------------------------------------------------


@dataclass(frozen=True)
class PageHits:
    """A page of a version as indexed, with the boxes of the words that hit."""

    row: PageText
    boxes: list[tuple[int, int, int, int]]
    words: list[tuple[str, bool]]  # the page's words, each with whether it hits


def page_hits(document: Document, page: int, query: str, *,
              version_number: int | None = None) -> PageHits | None:  # fmt: skip
    """The indexed page (of the current indexed version, or `version_number`) and the
    words on it that `query` hits; None if that page has no text indexed. The
    caller has opened the document (get_document) and audits the read."""
    rows = PageText.objects.filter(document=document, page=page).select_related(
        "version"
    )
    rows = (
        rows.filter(version__number=version_number)
        if version_number is not None
        else rows.filter(current=True)
    )
    row = rows.first()
    if row is None:
        return None
    hit = parse_query(query).matcher() if query.strip() else (lambda _w: False)
    words = row.text.split()
    flags = [hit(tokens(w)) for w in words]
    boxes = [
        (
            row.boxes[4 * i],
            row.boxes[4 * i + 1],
            row.boxes[4 * i + 2],
            row.boxes[4 * i + 3],
        )
        for i, flag in enumerate(flags)
        if flag and 4 * i + 3 < len(row.boxes) and row.boxes[4 * i + 2] > 0
    ]
    return PageHits(row, boxes, list(zip(words, flags, strict=True)))


HIGHLIGHT = (255, 214, 0, 110)  # translucent yellow
OUTLINE = (200, 90, 0, 255)


def render_page(
    *, actor: Actor, document: Document, page: int, hits: PageHits | None = None,
    version_number: int | None = None, dpi: int = DPI,
) -> bytes:  # fmt: skip
    """The page as a PNG with the hits' boxes drawn on it (none without `hits`, a
    page not indexed yet). Reads the version's bytes through read_content, so it is
    audited as a document view. The caller has opened the document (get_document).

    Raises:
        NotFound: the version is not a PDF, or has no such page.
    """
    import pypdfium2 as pdfium
    from PIL import Image, ImageDraw

    from .services import read_content

    if hits is not None:
        version_number = hits.row.version.number
    content = read_content(actor=actor, document=document, how="view",
                           version_number=version_number)  # fmt: skip
    if content.version.media_type != "application/pdf":
        raise NotFound(f"document {document.pk} is not a PDF: it has no page images")
    pdf = pdfium.PdfDocument(content.data)
    try:
        if not 1 <= page <= len(pdf):
            raise NotFound(f"document {document.pk} has no page {page}")
        pdf_page = pdf[page - 1]
        image = pdf_page.render(scale=dpi / 72).to_pil().convert("RGBA")
        pdf_page.close()
    finally:
        pdf.close()
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    if hits is not None and hits.row.width and hits.row.height:
        sx, sy = image.width / hits.row.width, image.height / hits.row.height
        draw = ImageDraw.Draw(layer)
        for x0, y0, x1, y1 in hits.boxes:
            box = (x0 * sx - 2, y0 * sy - 2, x1 * sx + 2, y1 * sy + 2)
            draw.rectangle(box, fill=HIGHLIGHT, outline=OUTLINE, width=2)
    out = io.BytesIO()
    Image.alpha_composite(image, layer).convert("RGB").save(out, format="PNG")
    return out.getvalue()


# The name CAPTURE-CONTRACT.md gives the search (capture's pages link to it).
search = search_documents
