"""Compliant queries as a demo finds them: queries at every stage (just sent, a
reminder sent, escalated to the physician advisor, answered and agreed, answered
"clinically undetermined", answered in the provider's words as an addendum, and
withdrawn), each about a discharged visit with an attending and a document whose
text the query quotes. Deterministic: the same visits (the oldest discharges with a
readable document) and times relative to `as_of`."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import RecordroomError
from recordroom.queries import services
from recordroom.queries.models import Query, QueryTemplate
from recordroom.records.fulltext import index_version
from recordroom.records.models import Document, Encounter, PageText
from recordroom.records.services import current_version

logger = logging.getLogger(__name__)

# (days before as_of, stage)
STAGES: tuple[tuple[int, str], ...] = (
    (0, "sent"), (3, "reminder"), (9, "escalated"), (12, "agreed"),
    (15, "undetermined"), (20, "addendum"), (6, "withdrawn"),
)  # fmt: skip
QUESTION = ("Based on the clinical indicators below, please clarify the condition "
            "being evaluated, monitored or treated.")  # fmt: skip


def _quote(doc: Document) -> str:
    """A line of the document's text of at least four words (indexed if need be)."""
    version = current_version(doc)
    if not PageText.objects.filter(version=version).exists():
        index_version(version)
    for page in PageText.objects.filter(version=version).order_by("page"):
        for line in page.text.splitlines():
            words = re.sub(r"\s+", " ", line).strip()
            if len(words.split()) >= 4:
                return words[:200]
    return ""


def seed_queries(*, actor: Actor, as_of: date) -> int:
    """Raise the demo queries and take each to its stage; returns how many."""
    visits = (Encounter.objects.filter(discharge_at__isnull=False,
                                       attending__isnull=False,
                                       documents__isnull=False)
              .distinct().order_by("discharge_at", "id"))  # fmt: skip
    anemia = QueryTemplate.objects.filter(code="anemia-type").first()
    made = 0
    now = datetime.combine(as_of, time(15), UTC)
    for visit in visits[:60]:
        if made == len(STAGES):
            break
        doc = (Document.objects.filter(encounter=visit, status__in=["final", "amended"])
               .exclude(source="scan")  # words to quote without reading a scan
               .order_by("service_start").first())  # fmt: skip
        quote = _quote(doc) if doc else ""
        if not quote or doc is None or visit.attending is None:
            continue
        days, stage = STAGES[made]
        multiple = stage in ("agreed", "undetermined") and anemia is not None
        try:
            q = services.raise_query(
                actor=actor, encounter=visit, provider=visit.attending,
                template=anemia if multiple else None,
                format="multiple" if multiple else "open",
                purpose="imprecise" if multiple else "ambiguous",
                question=anemia.question if multiple and anemia else QUESTION,
                options=anemia.options[:3] if multiple and anemia else [],
                document=doc,
                indicators=[services.IndicatorIn(document_id=doc.pk, quote=quote)])  # fmt: skip
        except RecordroomError as exc:  # a document the builder cannot quote
            logger.warning("demo query on %s skipped: %s", visit.pk, exc)
            continue
        raised = now - timedelta(days=days, hours=2)
        Query.objects.filter(pk=q.pk).update(
            raised_at=raised, due_at=raised + (q.due_at - q.raised_at))  # fmt: skip
        q.refresh_from_db()
        _stage(actor, q, stage, now - timedelta(days=days) + timedelta(hours=20))
        made += 1
    services.escalate_due(actor=actor, now=now)
    return made


def _stage(actor: Actor, q: Query, stage: str, answered_at: datetime) -> None:
    if stage in ("sent", "reminder", "escalated"):
        return
    if stage == "withdrawn":
        services.withdraw_query(actor=actor, query=q, reason="The attending documented "
                                "the clarification in the discharge summary.")  # fmt: skip
        return
    if stage == "addendum":
        services.answer_query(actor=actor, query=q, as_addendum=True, at=answered_at,
                              answer_text="Acute on chronic blood loss anemia, "
                              "treated with transfusion.")  # fmt: skip
    else:
        services.answer_query(
            actor=actor, query=q, at=answered_at,
            answer=q.options[0] if stage == "agreed" else "Clinically undetermined")  # fmt: skip
