"""What of a selected document goes out: pages excluded, regions and text redacted
(removed from the packet file itself when it is built, pdfs.redacted_page), and a
document left out by hand or put back."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, ValidationFailed

from . import authorizations, pdfs
from .models import Redaction, ReleaseItem, ReleaseRequest
from .requests import refuse
from .scope import MANUAL, check_workable, reopen, version_pdf


def get_item(*, req: ReleaseRequest, item_id: Any) -> ReleaseItem:
    """An item of this request.

    Raises:
        NotFound: no such item on the request."""
    try:
        return req.items.select_related("document", "version").get(pk=item_id)
    except (ReleaseItem.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"request {req.number} has no item {item_id}") from None


def _refused(
    actor: Actor, item: ReleaseItem, step: str, message: str, field: str
) -> ValidationFailed:
    refuse(actor, item.request, step, message, detail={"item": item.pk})
    return ValidationFailed(message, field=field)


def _check_page(actor: Actor, item: ReleaseItem, page: int, step: str) -> None:
    if not item.included:
        raise _refused(actor, item, step, f"document {item.document_id} is left out "
                       "of this release; nothing of it goes out", "item")  # fmt: skip
    if not 1 <= page <= item.pages:
        raise _refused(actor, item, step, f"page {page} is not a page of this document "
                       f"(it has {item.pages})", "page")  # fmt: skip


def _audit(actor: Actor, item: ReleaseItem, detail: dict[str, Any]) -> None:
    record(actor=actor, action=actions.RELEASE_REDACT.name,
           patient=item.request.patient_id, obj=item.request,
           detail={"item": item.pk, "document": str(item.document_id), **detail})  # fmt: skip


def exclude_pages(
    *, actor: Actor, item: ReleaseItem, pages: list[int], reason: str
) -> ReleaseItem:
    """Set the pages of a document left out of the packet (1-based; an empty list
    puts every page back). Leaving out every page is leaving out the document:
    use `set_included`.

    Raises:
        ValidationFailed: a page the document does not have, every page, no reason,
            or a closed request."""
    check_workable(actor, item.request, "exclude pages")
    wanted = sorted(set(pages))
    for page in wanted:
        _check_page(actor, item, page, "exclude pages")
    if wanted and len(wanted) == item.pages:
        raise _refused(actor, item, "exclude pages", "that is every page of the "
                       "document: leave the document out instead", "pages")  # fmt: skip
    if wanted and not reason.strip():
        raise _refused(actor, item, "exclude pages", "say why the pages are left out",
                       "reason")  # fmt: skip
    with transaction.atomic():
        before = item.excluded_pages
        item.excluded_pages = wanted
        item.save(update_fields=["excluded_pages"])
        item.redactions.filter(page__in=wanted).delete()  # those pages are gone anyway
        reopen(item.request)
        _audit(actor, item, {"excluded_pages": [before, wanted],
                             "reason": reason.strip()[:300]})  # fmt: skip
    return item


def add_redaction(
    *,
    actor: Actor,
    item: ReleaseItem,
    reason: str,
    page: int | None = None,
    x: float | None = None,
    y: float | None = None,
    width: float | None = None,
    height: float | None = None,
    text: str = "",
) -> list[Redaction]:
    """Redact a region of a page (x, y, width, height in PDF points, origin at the
    page's bottom left) or a text: on one page, or on every page where it occurs
    when no page is given (one redaction per page found). The content is removed
    from the packet when it is built, not covered.

    Raises:
        ValidationFailed: no reason; a region off the page or of no size; a text
            that does not occur (a scanned page has no text layer: redact a region);
            a page that is excluded or not the document's; a closed request."""
    check_workable(actor, item.request, "redact")
    step = "redact"
    if not reason.strip():
        raise _refused(actor, item, step, "say why the content is redacted", "reason")
    text = text.strip()
    region = (x, y, width, height)
    if text and any(v is not None for v in region):
        raise _refused(actor, item, step, "redact a region or a text, not both", "text")
    if not text:
        if page is None or any(v is None for v in region):
            raise _refused(actor, item, step, "a region needs its page, x, y, width "
                           "and height (PDF points)", "x")  # fmt: skip
        return [_region(actor, item, reason, page, pdfs.Box(*map(float, region)))]  # type: ignore[arg-type]
    if page is not None:
        _check_page(actor, item, page, step)
    elif not item.included:
        _check_page(actor, item, 1, step)
    wanted = [page] if page is not None else [
        p for p in range(1, item.pages + 1) if p not in item.excluded_pages]  # fmt: skip
    found = pdfs.find_text(version_pdf(item.version), text, wanted)
    if not found:
        where = f"on page {page}" if page is not None else "in the document's text"
        raise _refused(actor, item, step, f"{text!r} does not occur {where}; a scanned "
                       "page has no text layer: redact it as a region", "text")  # fmt: skip
    return _save(actor, item, reason, [
        Redaction(item=item, page=p, text=text[:300]) for p in sorted(found)])  # fmt: skip


def _region(
    actor: Actor, item: ReleaseItem, reason: str, page: int, box: pdfs.Box
) -> Redaction:
    step = "redact"
    _check_page(actor, item, page, step)
    if page in item.excluded_pages:
        raise _refused(actor, item, step, f"page {page} is excluded already", "page")
    if box.width <= 0 or box.height <= 0:
        raise _refused(actor, item, step, f"a region of {box.width} x {box.height} "
                       "points has no area", "width")  # fmt: skip
    visible = pdfs.page_box(version_pdf(item.version), page)
    inside = (box.x < visible.x + visible.width and box.x + box.width > visible.x
              and box.y < visible.y + visible.height and box.y + box.height > visible.y)  # fmt: skip
    if not inside:
        raise _refused(actor, item, step, f"the region ({box.x}, {box.y}, {box.width} "
                       f"x {box.height}) is off page {page} ({visible.width:.0f} x "
                       f"{visible.height:.0f} points)", "x")  # fmt: skip
    return _save(actor, item, reason, [Redaction(
        item=item, page=page, x=box.x, y=box.y, width=box.width, height=box.height)])[0]  # fmt: skip


def _save(
    actor: Actor, item: ReleaseItem, reason: str, rows: list[Redaction]
) -> list[Redaction]:
    now = timezone.now()
    with transaction.atomic():
        for r in rows:
            r.reason, r.created_at, r.created_by = (
                reason.strip()[:300],
                now,
                actor.username,
            )
            r.save()
        reopen(item.request)
        _audit(actor, item, {"redactions": [
            {"id": r.pk, "page": r.page, "text": bool(r.text)} for r in rows],
            "reason": reason.strip()[:300]})  # fmt: skip
    return rows


def remove_redaction(*, actor: Actor, redaction: Redaction) -> None:
    """Take a redaction back (before release)."""
    item = redaction.item
    check_workable(actor, item.request, "remove redaction")
    with transaction.atomic():
        detail = {"removed": redaction.pk, "page": redaction.page}
        redaction.delete()
        reopen(item.request)
        _audit(actor, item, detail)


def set_included(
    *, actor: Actor, item: ReleaseItem, included: bool, reason: str
) -> ReleaseItem:
    """Leave a selected document out by hand (e.g. misfiled: another patient's), or
    put back one left out by hand. A document the basis's gate left out (R-PN,
    R-P2, R-STATE-2) is put back only by a basis that covers it and a new scope.

    Raises:
        ValidationFailed: no reason, a gate's exclusion, or a closed request."""
    check_workable(actor, item.request, "include document")
    if not reason.strip():
        raise _refused(actor, item, "include document", "say why", "reason")
    if included and not item.included and item.rule != MANUAL:
        raise _refused(actor, item, "include document",
                       f"the document was left out under {item.rule}: {item.reason}; "
                       "record a basis that covers it and select the documents again",
                       "included")  # fmt: skip
    rule, why = MANUAL, reason.strip()[:300]
    if included:  # back under the basis's gate, as a new scope would put it
        passed = authorizations.gate_for(item.request)(item.labels)
        if not passed.include:
            raise _refused(actor, item, "include document", f"{passed.reason} "
                           f"({passed.rule})", "included")  # fmt: skip
        rule, why = passed.rule, passed.reason
    with transaction.atomic():
        item.included = included
        item.rule, item.reason = rule[:40], why[:300]
        if included and not item.pages:
            item.pages = pdfs.page_count(version_pdf(item.version))
        item.save(update_fields=["included", "rule", "reason", "pages"])
        reopen(item.request)
        _audit(actor, item, {"included": included, "reason": reason.strip()[:300]})
    return item
