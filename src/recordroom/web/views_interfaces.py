"""Interface messages (HL7 v2) for HIM and interface staff: the list with status and
errors, one message with its ACK and raw text, and reprocessing one in error."""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from recordroom.accounts.permissions import has
from recordroom.interop.hl7v2.processed import PROCESSED
from recordroom.interop.hl7v2.queries import (
    get_message,
    message_access,
    message_page,
    read_raw,
)
from recordroom.interop.hl7v2.services import REPROCESSABLE, reprocess
from recordroom.interop.models import MessageStatus
from recordroom.interop.sample_traffic import recent_import_runs
from recordroom.kernel.errors import Conflict, ValidationFailed
from recordroom.kernel.labels import plain
from recordroom.web.request import actor_from_request

from .views_common import requires

PAGE = 50


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *MessageStatus.choices],
    )
    type = forms.CharField(
        label="Message type",
        required=False,
        max_length=40,
        help_text="ADT, MDM, or a whole type such as ADT^A08.",
    )


def _after(request: HttpRequest) -> UUID | None:
    raw = request.GET.get("after", "").strip()
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationFailed(
            f"'after' must be a message id from the previous page, got {raw[:40]!r}",
            field="after",
        ) from None


@requires("view_interfaces")
def interfaces(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    status = message_type = ""
    if form.is_valid():
        status, message_type = form.cleaned_data["status"], form.cleaned_data["type"]
    after = _after(request)
    page = message_page(
        user=request.user,
        status=status,
        message_type=message_type,
        after=after,
        limit=PAGE,
    )
    query = {k: v for k, v in (("status", status), ("type", message_type)) if v}
    context = {
        "form": form,
        "rows": page.items,
        "next": page.next,
        "paged": after is not None,
        "qs": urlencode(query),
        "reprocessable": REPROCESSABLE,
        "runs": [] if after is not None else recent_import_runs(),
        "processed": [] if after is not None else PROCESSED,
    }
    return render(request, "web/interfaces.html", context)


@requires("view_interfaces")
def interface_message(request: HttpRequest, message_id: UUID) -> HttpResponse:
    message = get_message(user=request.user, message_id=message_id)
    # The raw text is PHI: shown to those who may read charts, and audited.
    raw, cut = "", False
    labels = message_access(request.user, message)
    readable = has(request.user, "view_chart") and labels.allowed
    if readable:
        raw, cut = read_raw(actor=actor_from_request(request), message=message)
    context = {
        "m": message,
        "raw": raw,
        "raw_cut": cut,
        "can_read_raw": readable,
        "restricted": [plain(code) for code in labels.refused],
        "can_reprocess": has(request.user, "reprocess_messages")
        and message.status in REPROCESSABLE,
        "can_view_chart": has(request.user, "view_chart"),
    }
    return render(request, "web/interface_message.html", context)


@require_POST
@requires("reprocess_messages")
def interface_reprocess(request: HttpRequest, message_id: UUID) -> HttpResponse:
    message = get_message(user=request.user, message_id=message_id)
    try:
        ack = reprocess(message.pk, actor=actor_from_request(request))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        outcome = f"Reprocessed: {ack.code}" + (f" — {ack.text}" if ack.text else "")
        level = messages.SUCCESS if ack.code == "AA" else messages.ERROR
        messages.add_message(request, level, outcome)
    return redirect("web:interface_message", message_id=message.pk)
