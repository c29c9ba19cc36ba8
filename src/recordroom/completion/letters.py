"""Letters to providers about their incomplete records (R-RC-7): one per provider
and facility, as a PDF in the house letter layout, kept encrypted in the blob store
(ProviderLetter), audited per patient it lists, and sent by e-mail when SMTP is
set up and the provider has an address. A run on the same day writes no second
letter; a letter whose e-mail failed is sent again."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import EventSpec, record, record_many
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.blobs import default_store
from recordroom.kernel.letterpdf import LetterDoc, render
from recordroom.mpi.models import Facility
from recordroom.records.models import Provider

from .models import Deficiency, LetterLevel, LetterStatus, ProviderLetter
from .suspension import open_on_discharged, suspension_list

DEPARTMENT = "Health Information Management - Chart Completion"
TITLES = {
    LetterLevel.REMINDER: "Records awaiting your completion",
    LetterLevel.DELINQUENT: "Delinquent records awaiting your completion",
    LetterLevel.SUSPENSION: "Delinquent records: notice to the medical staff office",
}


@dataclass
class Due:
    """What one provider owes at one facility."""

    provider: Provider
    facility: Facility
    level: str
    items: list[Deficiency]


def due_letters(
    *, facility: Facility | None = None, as_of: datetime | None = None
) -> list[Due]:
    """Providers with open deficiencies on records discharged at least the first
    aging level's days ago, per facility, with the level their letter takes."""
    as_of = as_of or timezone.now()
    first = settings.COMPLETION_AGING_LEVELS[0] if settings.COMPLETION_AGING_LEVELS else 0
    qs = (
        open_on_discharged(facility)
        .filter(provider__isnull=False,
                encounter__discharge_at__lte=as_of - timedelta(days=first))
        .select_related("encounter", "patient", "provider", "facility", "document")
        .order_by("provider_id", "facility_id", "encounter__discharge_at", "id")
    )  # fmt: skip
    suspended = {(s.provider.pk, s.facility.pk)
                 for s in suspension_list(facility=facility, as_of=as_of)}  # fmt: skip
    late = as_of - timedelta(days=settings.COMPLETION_DELINQUENCY_DAYS)
    groups: dict[tuple[Any, Any], Due] = {}
    for d in qs:
        key = (d.provider_id, d.facility_id)
        if key not in groups:
            assert d.provider is not None
            groups[key] = Due(d.provider, d.facility, LetterLevel.REMINDER, [])
        groups[key].items.append(d)
    for key, due in groups.items():
        if key in suspended:
            due.level = LetterLevel.SUSPENSION
        elif any(d.encounter.discharge_at <= late for d in due.items):  # type: ignore[operator]
            due.level = LetterLevel.DELINQUENT
    return list(groups.values())


def _patient(d: Deficiency) -> str:
    name = d.patient.legal_name()
    return f"{name.family.upper()}, {name.given}" if name else "(no name)"


def letter_doc(due: Due, *, as_of: datetime, signer: list[str]) -> LetterDoc:
    """The letter's words: plain, no setting names, rule IDs or user names."""
    facility, items = due.facility, due.items
    records = len({d.encounter_id for d in items})
    on = clock.today(facility, now=as_of)
    doc = LetterDoc(
        organization=facility.name, department=DEPARTMENT,
        reference=f"Records to complete, {clock.long_date(on)}",
        to=[str(due.provider)], subject=f"{records} record{'s' if records != 1 else ''}"
        f" awaiting your completion at {facility.name}",
        title=TITLES[LetterLevel(due.level)], on=on,
        signature=[*signer, "Health Information Management", facility.name],
    )  # fmt: skip
    days = settings.COMPLETION_DELINQUENCY_DAYS
    doc.p(f"As of {clock.long_date(on)}, {records} record{'s' if records != 1 else ''} "
          f"of patients discharged from {facility.name} await your completion "
          f"({len(items)} item{'s' if len(items) != 1 else ''}, listed below). The "
          f"medical staff rules require a record to be complete within {days} days "
          "after the patient's discharge.")  # fmt: skip
    late = [d for d in items
            if (as_of - d.encounter.discharge_at).days >= days]  # type: ignore[operator]  # fmt: skip
    if late:
        n = len({d.encounter_id for d in late})
        doc.p(f"{n} of these record{'s are' if n != 1 else ' is'} past that deadline "
              "and counted as delinquent.")  # fmt: skip
    if due.level == LetterLevel.SUSPENSION:
        doc.p("Because records discharged more than "
              f"{settings.COMPLETION_SUSPENSION_DAYS} days ago are still incomplete, "
              "your name is on the list of providers with delinquent records sent to "
              "the medical staff office, which may suspend privileges under the "
              "medical staff rules. Completing the records removes your name from "
              "the next list.")  # fmt: skip
    doc.table([["Account", "Patient", "Discharged", "Days", "To complete"],
               *[[d.encounter.account_number, _patient(d),
                  clock.short_date(d.encounter.discharge_at, facility),
                  str((as_of - d.encounter.discharge_at).days),  # type: ignore[operator]
                  d.description] for d in items]],
              widths=[1.0, 1.5, 0.9, 0.5, 2.6])  # fmt: skip
    doc.p("Please sign in to Recordroom to sign, dictate or complete these items, or "
          "tell the Health Information Management department if one was assigned to "
          "you in error.")  # fmt: skip
    return doc


def _signer(actor: Actor) -> list[str]:
    return actor.user.signature() if actor.user is not None else []


def write_letter(*, actor: Actor, due: Due, as_of: datetime) -> ProviderLetter:
    """Render, store and audit one letter (one completion.letter event per patient
    it lists, in the letter's transaction)."""
    pdf = render(letter_doc(due, as_of=as_of, signer=_signer(actor)))
    stored = default_store().put(pdf)
    user = due.provider.user
    with transaction.atomic():
        letter = ProviderLetter.objects.create(
            provider=due.provider, facility=due.facility, level=due.level,
            as_of=as_of, records=len({d.encounter_id for d in due.items}),
            deficiencies=len(due.items),
            oldest_discharge=min(d.encounter.discharge_at or as_of for d in due.items),
            detail={"deficiencies": [str(d.pk) for d in due.items],
                    "encounters": sorted({str(d.encounter_id) for d in due.items})},
            sha256=stored.sha256, size=stored.size, created_at=timezone.now(),
            created_by=actor.username, email=(user.email if user else "") or "",
            status=LetterStatus.WRITTEN,
        )  # fmt: skip
        patients = dict.fromkeys(d.patient_id for d in due.items)
        record_many([EventSpec(actor, actions.COMPLETION_LETTER.name, pid, letter,
                               detail={"level": due.level, "sha256": stored.sha256,
                                       "provider": str(due.provider.pk)})
                     for pid in patients])  # fmt: skip
    return letter


def letter_pdf(letter: ProviderLetter) -> bytes:
    """The letter's PDF, verified against its hash."""
    return default_store().get(letter.sha256)


def email_ready() -> bool:
    return bool(settings.EMAIL_HOST)


def send_letter(
    *, actor: Actor, letter: ProviderLetter, connection: Any = None
) -> ProviderLetter:
    """E-mail the letter (the PDF attached; the body names no patient). Marked sent
    only once the SMTP server took it; a refusal is kept as the letter's error.
    Audited either way (completion.letter_send)."""
    if not letter.email:
        raise ValueError(f"letter {letter.pk} has no e-mail address")
    day = clock.short_date(letter.as_of, letter.facility)
    message = EmailMessage(
        subject=f"{TITLES[LetterLevel(letter.level)]} - {letter.facility.name}",
        body=(f"{letter.provider},\n\nAs of {day}, {letter.records} record"
              f"{'s' if letter.records != 1 else ''} at {letter.facility.name} await "
              "your completion. The attached letter lists them.\n\nHealth Information "
              f"Management, {letter.facility.name}\n"),
        from_email=settings.DEFAULT_FROM_EMAIL, to=[letter.email],
        connection=connection,
    )  # fmt: skip
    message.attach(f"records-to-complete-{day}.pdf", letter_pdf(letter),
                   "application/pdf")  # fmt: skip
    error = ""
    try:
        message.send(fail_silently=False)
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    with transaction.atomic():
        letter.status = LetterStatus.FAILED if error else LetterStatus.SENT
        letter.sent_at = None if error else timezone.now()
        letter.error = error
        letter.save(update_fields=["status", "sent_at", "error"])
        record(actor=actor, action=actions.COMPLETION_LETTER_SEND.name, obj=letter,
               outcome=Outcome.FAILURE if error else Outcome.SUCCESS,
               detail={"to": letter.email, "error": error})  # fmt: skip
    return letter


@dataclass
class Run:
    written: list[ProviderLetter]  # new today
    sent: int
    failed: int
    not_sent: int  # no SMTP server, or no address: to print
    skipped: int  # already written (and sent, if it could be) today


def run_letters(
    *,
    actor: Actor,
    facility: Facility | None = None,
    as_of: datetime | None = None,
    send: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Write today's letters (one per provider and facility owing records) and, when
    asked and SMTP is set up, send them; retry today's failed sends."""
    as_of = as_of or timezone.now()
    dues = due_letters(facility=facility, as_of=as_of)
    # "today" is the facility's calendar day (DESIGN.md rule 8)
    recent = ProviderLetter.objects.filter(
        as_of__gte=as_of - timedelta(days=2), as_of__lte=as_of + timedelta(days=2)
    ).select_related("facility", "provider")
    today = {(lt.provider_id, lt.facility_id): lt for lt in recent.order_by("created_at")
             if clock.today(lt.facility, now=lt.as_of)
             == clock.today(lt.facility, now=as_of)}  # fmt: skip
    run = Run([], 0, 0, 0, 0)
    connection = get_connection(fail_silently=False) if send and email_ready() else None
    for n, due in enumerate(dues, 1):
        letter = today.get((due.provider.pk, due.facility.pk))
        can_send = connection is not None and bool(due.provider.user
                                                   and due.provider.user.email)  # fmt: skip
        if letter is not None and (letter.status == LetterStatus.SENT or not can_send):
            run.skipped += 1
        else:
            if letter is None:
                letter = write_letter(actor=actor, due=due, as_of=as_of)
                run.written.append(letter)
            if connection is not None and letter.email:
                letter = send_letter(actor=actor, letter=letter, connection=connection)
                run.sent += letter.status == LetterStatus.SENT
                run.failed += letter.status == LetterStatus.FAILED
            else:
                run.not_sent += 1
        if progress is not None:
            progress(n, len(dues))
    return run
