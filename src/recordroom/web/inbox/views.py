"""The provider's inbox pages: their open deficiencies by patient and age, one
deficiency with its document shown (sign, file the missing document, refuse with
a reason), and the signing pass: each document shown, then signed or skipped.

The page is built from sections (PANELS, deficiencies first); other work for a
provider, such as queries, adds a panel with `register_panel`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from recordroom.audit.services import EventSpec, record, record_many
from recordroom.completion import inbox, services
from recordroom.completion.delinquency import aging
from recordroom.completion.models import Deficiency, Kind
from recordroom.kernel import actions, clock
from recordroom.kernel.errors import RecordroomError, ValidationFailed
from recordroom.queries.models import Query
from recordroom.records import services as records
from recordroom.records.models import Provider
from recordroom.web.request import actor_from_request
from recordroom.web.views_common import requires
from recordroom.web.views_documents import viewer_kind

CAP = "sign_document"
PASS = "inbox_pass"  # the signing pass in the session: ids, position, tallies

# A panel renders one inbox section: (request, provider) -> (template, context).
Panel = Callable[[HttpRequest, Provider], tuple[str, dict[str, Any]]]
_PANELS: dict[str, Panel] = {}


def register_panel(key: str, panel: Panel) -> None:
    """The page part of an inbox section (completion.inbox.register_section)."""
    _PANELS[key] = panel


def _deficiency_panel(
    request: HttpRequest, provider: Provider
) -> tuple[str, dict[str, Any]]:
    rows = inbox.open_rows(provider=provider)
    groups = inbox.by_patient(rows)
    actor = actor_from_request(request)
    record_many([EventSpec(actor, actions.COMPLETION_VIEW.name, g.patient_id,
                           detail={"inbox": len(g.rows)}) for g in groups])  # fmt: skip
    # one link prefix, not a reverse() per row
    prefix = reverse("web:inbox_item", kwargs={"deficiency_id": _ZERO})[:-36]
    zone = timezone.get_current_timezone()
    return "web/inbox/_deficiencies.html", {
        "groups": [(g, _rows_html(g.rows, prefix, zone)) for g in groups],
        "total": len(rows), "signable": sum(1 for r in rows if r.signable),
    }  # fmt: skip


_ZERO = UUID(int=0)


def _rows_html(rows: list[inbox.Row], prefix: str, zone: Any) -> str:
    """The rows of one patient's table. Built here rather than in the template: 500
    rows through the template engine take most of the page's time (bench/
    completion_inbox.py). Text is escaped with html.escape; ids and numbers are
    ours."""
    out = []
    for r in rows:
        text = escape(r.description)
        box = (f'<input type="checkbox" name="d" value="{r.id}" aria-label="Include '
               f'in the pass: {text}">' if r.signable else "")  # fmt: skip
        since = r.age.days_since_discharge
        level = (f' <span class="tag flag">level {r.age.level}</span>'
                 if r.age.level else "")  # fmt: skip
        due = f"{r.due_at.astimezone(zone):%Y-%m-%d %H:%M}" if r.due_at else "—"
        late = ' <span class="tag flag">overdue</span>' if r.overdue else ""
        row_class = ' class="overdue"' if r.overdue else ""
        out.append(
            f"<tr{row_class}><td>{box}</td>"
            f'<td><a href="{prefix}{r.id}">{text}</a></td>'
            f"<td>{escape(r.kind_display)}</td>"
            f'<td class="nowrap">{escape(r.account)} <span class="muted">'
            f"{escape(r.facility)}</span></td>"
            f'<td class="num">{"in house" if since is None else since}{level}</td>'
            f'<td class="num">{r.age.days_since_assignment}</td>'
            f'<td class="nowrap">{due}{late}</td></tr>'
        )
    return mark_safe("\n".join(out))  # every value above escaped or ours


register_panel("deficiencies", _deficiency_panel)


def _provider(request: HttpRequest) -> Provider:
    return inbox.require_provider(actor_from_request(request))


@requires(CAP)
def inbox_page(request: HttpRequest) -> HttpResponse:
    provider = inbox.provider_of(request.user)
    if provider is None:
        return render(request, "web/inbox/inbox.html", {"unlinked": True})
    counts = inbox.counts(provider=provider)
    parts = []
    for section in inbox.sections():
        panel = _PANELS.get(section.key)
        if panel is not None:
            template, context = panel(request, provider)
            parts.append({"section": section, "count": counts[section.key],
                          "template": template, **context})  # fmt: skip
    return render(request, "web/inbox/inbox.html", {
        "provider": provider, "parts": parts, "total": sum(counts.values()),
    })  # fmt: skip


def badge(request: HttpRequest) -> int:
    """The landing page's count: the provider's open items in every section."""
    cached = getattr(request, "_inbox_badge", None)
    if cached is None:
        provider = inbox.provider_of(getattr(request, "user", None))
        cached = sum(inbox.counts(provider=provider).values()) if provider else 0
        request._inbox_badge = cached  # type: ignore[attr-defined]
    return int(cached)


# --- one deficiency ------------------------------------------------------------------


def _pass(request: HttpRequest) -> dict[str, Any] | None:
    return request.session.get(PASS)


@requires(CAP)
def item(request: HttpRequest, deficiency_id: UUID) -> HttpResponse:
    """One deficiency: its document shown (the read is audited), and what the
    provider can do about it."""
    if inbox.provider_of(request.user) is None:  # the inbox page says why
        return redirect("web:inbox")
    actor = actor_from_request(request)
    d = inbox.own_deficiency(actor=actor, deficiency_id=deficiency_id)
    context: dict[str, Any] = {"d": d, "age": aging(d),
                               "overdue": d.due_at is not None
                               and d.due_at < timezone.now(),
                               "legal_name": d.patient.legal_name(),
                               "zone": d.facility.timezone}  # fmt: skip
    if d.kind == Kind.QUERY:  # answered on the query's own page
        context["query"] = Query.objects.filter(deficiency=d).only("pk", "number").first()
    current = _pass(request)
    if current is not None and str(d.pk) in current["ids"]:
        context["pass"] = {**current, "at": current["ids"].index(str(d.pk)) + 1,
                           "of": len(current["ids"])}  # fmt: skip
    if d.document_id is not None:
        doc = records.get_document(user=request.user, document_id=d.document_id)
        version = records.current_version(doc)
        kind = viewer_kind(version.media_type)
        context.update(doc=doc, version=version, kind=kind,
                       signatures=list(version.signatures.select_related("signer")))  # fmt: skip
        if kind == "text":
            content = records.read_content(actor=actor, document=doc, how="view",
                                           version_number=version.number)  # fmt: skip
            context["text"] = content.data.decode("utf-8", errors="replace")
    if d.document_id is None or context.get("kind") != "text":
        # the page shows PHI (patient, visit, document details); a PDF's bytes are
        # audited by the viewer's own request
        record(actor=actor, action=actions.CHART_OPEN.name, patient=d.patient_id,
               obj=d, detail={"part": "provider inbox"})  # fmt: skip
    if d.kind == Kind.MISSING_DOCUMENT:
        context["types"] = inbox.upload_types(d)
        context["now_local"] = clock.local(timezone.now(), d.facility)
    context["signable"] = d.kind in inbox.SIGNABLE and d.document_id is not None
    return render(request, "web/inbox/item.html", context)


def _after(
    request: HttpRequest, d: Deficiency, *, signed: bool = False
) -> HttpResponse:
    """Where to go after acting on one: the next of the pass, or the inbox."""
    current = _pass(request)
    if current is None or str(d.pk) not in current["ids"]:
        return redirect("web:inbox")
    current["signed" if signed else "skipped"] += 1
    ids = current["ids"]
    at = ids.index(str(d.pk))
    request.session[PASS] = current
    if at + 1 < len(ids):
        return redirect("web:inbox_item", deficiency_id=ids[at + 1])
    request.session.pop(PASS, None)
    messages.success(request, f"Pass finished: {current['signed']} signed, "
                              f"{current['skipped']} skipped.")  # fmt: skip
    return redirect("web:inbox")


def _post_only(request: HttpRequest, deficiency_id: UUID) -> HttpResponse | None:
    if request.method != "POST":
        return redirect("web:inbox_item", deficiency_id=deficiency_id)
    return None


@requires(CAP)
def sign(request: HttpRequest, deficiency_id: UUID) -> HttpResponse:
    """Sign the version shown (its hash came with the form)."""
    if (early := _post_only(request, deficiency_id)) is not None:
        return early
    actor = actor_from_request(request)
    d = inbox.own_deficiency(actor=actor, deficiency_id=deficiency_id)
    try:
        done = inbox.sign_deficiency(actor=actor, deficiency=d,
                                     sha256=request.POST.get("sha256", ""))  # fmt: skip
    except RecordroomError as exc:
        messages.error(request, exc.message)
        return redirect("web:inbox_item", deficiency_id=d.pk)
    sig = done.signature
    when = clock.short_datetime(sig.signed_at, d.facility)
    meaning = sig.get_meaning_display().lower()
    tail = ("the deficiency is closed." if done.closed
            else "the deficiency is still open: see what it waits for.")  # fmt: skip
    messages.success(request, f"Signed as {sig.signer} ({meaning}) at {when}; {tail}")
    return _after(request, done.deficiency, signed=True)


@requires(CAP)
def skip(request: HttpRequest, deficiency_id: UUID) -> HttpResponse:
    if (early := _post_only(request, deficiency_id)) is not None:
        return early
    d = inbox.own_deficiency(actor=actor_from_request(request),
                             deficiency_id=deficiency_id)  # fmt: skip
    return _after(request, d)


@requires(CAP)
def refuse(request: HttpRequest, deficiency_id: UUID) -> HttpResponse:
    """Refuse a deficiency assigned in error, with a reason (back to the
    specialists)."""
    if (early := _post_only(request, deficiency_id)) is not None:
        return early
    actor = actor_from_request(request)
    d = inbox.own_deficiency(actor=actor, deficiency_id=deficiency_id)
    try:
        services.refuse_deficiency(actor=actor, deficiency=d,
                                   reason=request.POST.get("reason", ""))  # fmt: skip
    except RecordroomError as exc:
        messages.error(request, exc.message)
        return redirect("web:inbox_item", deficiency_id=d.pk)
    messages.success(request, "Refused; the records department will reassign it.")
    return _after(request, d)


def _service_start(request: HttpRequest, d: Deficiency) -> datetime | None:
    raw = request.POST.get("service_start", "").strip()
    if not raw:
        return None
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(f"give the date and time of service, not {raw[:30]!r}",
                               field="service_start") from None  # fmt: skip
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=clock.zone_of(d.facility))


@requires("add_document")
def file_document(request: HttpRequest, deficiency_id: UUID) -> HttpResponse:
    """File the missing document: an uploaded file, or the text typed or dictated
    into the box."""
    if (early := _post_only(request, deficiency_id)) is not None:
        return early
    actor = actor_from_request(request)
    d = inbox.own_deficiency(actor=actor, deficiency_id=deficiency_id)
    upload = request.FILES.get("file")
    typed = request.POST.get("text", "").strip()
    try:
        if upload is not None:
            if upload.size and upload.size > settings.MAX_UPLOAD_BYTES:
                raise ValidationFailed("the file is larger than the upload limit",
                                       field="file")  # fmt: skip
            data, name = upload.read(), upload.name or "document"
            media = (upload.content_type or "").split(";")[0].strip().lower()
        elif typed:
            data, name, media = typed.encode("utf-8"), "dictated.txt", "text/plain"
        else:
            raise ValidationFailed("choose a file, or type the document", field="file")
        doc, d = inbox.file_missing_document(
            actor=actor, deficiency=d, data=data, filename=name, media_type=media,
            doc_type_code=request.POST.get("doc_type", ""),
            service_start=_service_start(request, d),
            title=request.POST.get("title", "")[:200],
        )  # fmt: skip
    except RecordroomError as exc:
        messages.error(request, exc.message)
        return redirect("web:inbox_item", deficiency_id=d.pk)
    messages.success(request, f"{doc.doc_type.display} filed"
                     + ("; the deficiency is closed." if d.status == "closed" else
                        "; the deficiency is still open: check the date of service "
                        "against what the rule asks."))  # fmt: skip
    return redirect("web:inbox")


# --- the signing pass -----------------------------------------------------------------


@requires(CAP)
def start_pass(request: HttpRequest) -> HttpResponse:
    """Start a pass over the chosen signature deficiencies (every signable one when
    none is chosen): each is shown in turn, to sign or skip."""
    if request.method != "POST":
        return redirect("web:inbox")
    provider = _provider(request)
    chosen = set(request.POST.getlist("d"))
    rows = [r for g in inbox.by_patient(inbox.open_rows(provider=provider))
            for r in g.rows if r.signable]  # fmt: skip
    ids = [str(r.id) for r in rows
           if not chosen or str(r.id) in chosen][: inbox.BATCH_MAX]  # fmt: skip
    if not ids:
        messages.info(request, "Nothing to sign.")
        return redirect("web:inbox")
    request.session[PASS] = {"ids": ids, "signed": 0, "skipped": 0}
    return redirect("web:inbox_item", deficiency_id=ids[0])


@requires(CAP)
def stop_pass(request: HttpRequest) -> HttpResponse:
    current = request.session.pop(PASS, None) if request.method == "POST" else None
    if current is not None:
        messages.info(request, f"Pass stopped: {current['signed']} signed, "
                               f"{current['skipped']} skipped.")  # fmt: skip
    return redirect("web:inbox")
