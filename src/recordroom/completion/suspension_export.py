"""The suspension list as the medical staff office receives it: CSV, or a PDF in
the house letter layout; each read or export audited (completion.suspension_list)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed
from recordroom.kernel.letterpdf import LetterDoc, render
from recordroom.mpi.models import Facility

from .suspension import Suspension, suspension_list

FORMATS = ("json", "csv", "pdf")
COLUMNS = ("facility", "provider", "npi", "records", "deficiencies",
           "oldest_discharge", "days_since_oldest_discharge", "last_letter")  # fmt: skip


def row(s: Suspension) -> dict[str, Any]:
    return {
        "facility": s.facility.code, "provider": str(s.provider),
        "provider_id": str(s.provider.pk), "npi": s.provider.npi or "",
        "records": s.records, "deficiencies": s.deficiencies,
        "oldest_discharge": clock.short_date(s.oldest_discharge, s.facility),
        "days_since_oldest_discharge": s.days,
        "last_letter": clock.short_date(s.last_letter, s.facility)
        if s.last_letter else "",
    }  # fmt: skip


def _csv(rows: list[Suspension]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(row(s) for s in rows)
    return buf.getvalue().encode("utf-8")


def _pdf(rows: list[Suspension], facility: Facility | None, as_of: datetime,
         signer: list[str]) -> bytes:  # fmt: skip
    where = facility.name if facility else "All facilities"
    on = clock.today(facility, now=as_of)
    doc = LetterDoc(
        organization=where, department="Health Information Management - Chart "
        "Completion", reference=f"Suspension list, {clock.long_date(on)}",
        to=["Medical Staff Office"], subject="providers with delinquent records",
        title="Suspension list", on=on,
        signature=[*signer, "Health Information Management"],
    )  # fmt: skip
    doc.p(f"These providers hold records still incomplete more than "
          f"{settings.COMPLETION_SUSPENSION_DAYS} days after the patient's discharge, "
          f"as of {clock.long_date(on)}.")  # fmt: skip
    if rows:
        doc.table([["Provider", "NPI", "Facility", "Records", "Items",
                    "Oldest discharge", "Days", "Last letter"],
                   *[[str(s.provider), s.provider.npi or "", s.facility.code,
                      str(s.records), str(s.deficiencies),
                      clock.short_date(s.oldest_discharge, s.facility), str(s.days),
                      clock.short_date(s.last_letter, s.facility) or "-"]
                     for s in rows]],
                  widths=[1.7, 0.9, 0.7, 0.6, 0.5, 0.9, 0.45, 0.75])  # fmt: skip
    else:
        doc.p("No provider is on the list today.")
    return render(doc)


def export_suspension_list(
    *, actor: Actor, facility: Facility | None, fmt: str = "json",
    as_of: datetime | None = None,
) -> tuple[list[Suspension], bytes]:  # fmt: skip
    """The list (and its CSV or PDF bytes; b"" for json), audited as read."""
    if fmt not in FORMATS:
        raise ValidationFailed(f"format {fmt!r}: use {', '.join(FORMATS)}",
                               field="format")  # fmt: skip
    as_of = as_of or timezone.now()
    rows = suspension_list(facility=facility, as_of=as_of)
    data = b""
    if fmt == "csv":
        data = _csv(rows)
    elif fmt == "pdf":
        signer = actor.user.signature() if actor.user is not None else []
        data = _pdf(rows, facility, as_of, signer)
    record(actor=actor, action=actions.COMPLETION_SUSPENSION_LIST.name,
           detail={"format": fmt, "facility": facility.code if facility else "",
                   "providers": len(rows)})  # fmt: skip
    return rows, data
