"""Getting a released packet to the requester: an expiring, passcode-protected
download link (only hashes kept; every download and every refused try audited), or
a logged mailing, fax or pickup."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions, clock
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import NotFound, PermissionDenied, ValidationFailed

from .models import (
    Delivery,
    DeliveryRecord,
    DownloadLink,
    Packet,
    ReleaseRequest,
    Status,
)
from .packets import packet_bytes
from .requests import refuse

PASSCODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
PASSCODE_LENGTH = 8
MAX_FAILED = 5  # wrong passcodes before the link is locked


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _released(actor: Actor, packet: Packet, step: str) -> ReleaseRequest:
    req = packet.request
    if req.status != Status.RELEASED or req.release_number != packet.release_number:
        reason = (f"packet {packet.release_number} has not been released (request "
                  f"{req.number} is {req.get_status_display().lower()}); nothing is "
                  "sent before its release")  # fmt: skip
        refuse(actor, req, step, reason)
        raise ValidationFailed(reason, field="packet")
    return req


def create_link(
    *, actor: Actor, packet: Packet, max_downloads: int = 5
) -> tuple[DownloadLink, str, str]:
    """A download link for a released packet, valid RECORDROOM_ROI_LINK_DAYS days
    and `max_downloads` times. Returns the link, its token (for the URL) and the
    passcode (to give the requester separately); neither is kept, only hashes.

    Raises:
        ValidationFailed: the packet is not the released one, or a bad maximum."""
    req = _released(actor, packet, "create link")
    if not 1 <= max_downloads <= 50:
        raise ValidationFailed(f"allow 1 to 50 downloads, not {max_downloads}",
                               field="max_downloads")  # fmt: skip
    token = secrets.token_urlsafe(32)
    passcode = "".join(
        secrets.choice(PASSCODE_ALPHABET) for _ in range(PASSCODE_LENGTH)
    )
    now = timezone.now()
    with transaction.atomic():
        link = DownloadLink.objects.create(
            packet=packet, token_hash=_token_hash(token),
            passcode_hash=make_password(passcode), created_at=now,
            created_by=actor.username, max_downloads=max_downloads,
            expires_at=now + timedelta(days=settings.ROI_LINK_DAYS))  # fmt: skip
        record(actor=actor, action=actions.RELEASE_LINK.name, patient=req.patient_id,
               obj=link, detail={"request": req.number, "packet": packet.release_number,
                                 "expires_at": link.expires_at.isoformat(),
                                 "max_downloads": max_downloads})  # fmt: skip
    return link, token, passcode


def _link_actor(client_address: str) -> Actor:
    return Actor(channel="link", client_address=client_address[:64],
                 name="requester (download link)")  # fmt: skip


def download(token: str, passcode: str, client_address: str) -> bytes:
    """The packet behind a link, for the requester who has its passcode.

    Raises:
        NotFound: no such link.
        PermissionDenied: the link is revoked, expired or used up, or the passcode
            is wrong (after MAX_FAILED wrong ones the link is locked). Each refusal
            is audited on the patient's record (release.refused)."""
    actor = _link_actor(client_address)
    link = (DownloadLink.objects.select_related("packet__request")
            .filter(token_hash=_token_hash(token or "")).first())  # fmt: skip
    if link is None:
        refuse(actor, None, "download", "no such download link")
        raise NotFound("no such download link: check the address, or ask the records "
                       "office for a new link")  # fmt: skip
    req = link.packet.request
    now = timezone.now()
    problem = ""
    if link.revoked_at:
        problem = (f"this link was revoked on {clock.long_date(link.revoked_at, req.facility)}; "
                   "ask the records office for a new one")  # fmt: skip
    elif now >= link.expires_at:
        problem = (f"this link expired on {clock.short_datetime(link.expires_at, req.facility)}; "
                   "ask the records office for a new one")  # fmt: skip
    elif link.downloads >= link.max_downloads:
        problem = (f"this link has been used its {link.max_downloads} times; ask the "
                   "records office for a new one")  # fmt: skip
    elif not check_password(passcode or "", link.passcode_hash):
        problem = _wrong_passcode(link, now)
    if problem:
        refuse(actor, req, "download", problem,
               detail={"link": str(link.pk), "client": client_address})  # fmt: skip
        # refuse() has recorded it: not audited twice
        raise PermissionDenied(problem, field="passcode", audited=True)
    with transaction.atomic():
        taken = DownloadLink.objects.filter(pk=link.pk, downloads__lt=F("max_downloads"),
                                            revoked_at__isnull=True)  # fmt: skip
        if not taken.update(downloads=F("downloads") + 1):
            raise PermissionDenied("this link has just been used up", field="passcode")
        link.refresh_from_db(fields=["downloads"])
        data = packet_bytes(link.packet)
        record(actor=actor, action=actions.RELEASE_DOWNLOAD.name, patient=req.patient_id,
               obj=link, detail={"request": req.number, "packet": link.packet.release_number,
                                 "download": f"{link.downloads} of {link.max_downloads}",
                                 "bytes": len(data)})  # fmt: skip
    return data


def _wrong_passcode(link: DownloadLink, now: object) -> str:
    DownloadLink.objects.filter(pk=link.pk).update(
        failed_attempts=F("failed_attempts") + 1
    )
    link.refresh_from_db(fields=["failed_attempts"])
    left = MAX_FAILED - link.failed_attempts
    if left > 0:
        return f"wrong passcode ({left} tries left before the link is locked)"
    DownloadLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=now
    )
    return (f"wrong passcode; after {MAX_FAILED} wrong tries the link is locked: ask "
            "the records office for a new one")  # fmt: skip


def revoke_link(*, actor: Actor, link: DownloadLink, reason: str) -> DownloadLink:
    """Stop a link working (sent to the wrong address, requester asks)."""
    if not reason.strip():
        raise ValidationFailed("say why the link is revoked", field="reason")
    with transaction.atomic():
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        record(actor=actor, action=actions.RELEASE_DELIVER.name,
               patient=link.packet.request.patient_id, obj=link,
               detail={"revoked": str(link.pk), "reason": reason.strip()[:300]})  # fmt: skip
    return link


def log_delivery(
    *, actor: Actor, req: ReleaseRequest, method: str, detail: str
) -> DeliveryRecord:
    """Record a released packet mailed, faxed or picked up: the carrier and tracking
    number, the fax number and confirmation, or who picked it up and how their
    identity was checked.

    Raises:
        ValidationFailed: not released, a method other than mail, fax or pickup, or
            no detail. Refusals are audited."""
    packet = req.packets.filter(release_number=req.release_number).first()
    if packet is None or req.status != Status.RELEASED:
        reason = (f"request {req.number} is {req.get_status_display().lower()}: "
                  "nothing is sent before its release")  # fmt: skip
        refuse(actor, req, "log delivery", reason)
        raise ValidationFailed(reason, field="status")
    methods = (Delivery.MAIL, Delivery.FAX, Delivery.PICKUP)
    if method not in methods:
        raise ValidationFailed(f"log a delivery by {', '.join(methods)}, not {method!r} "
                               "(a download link records itself)", field="method")  # fmt: skip
    if not detail.strip():
        what = {"mail": "the carrier and tracking number", "fax": "the fax number and "
                "the transmission confirmation", "pickup": "who picked it up and how "
                "their identity was checked"}[method]  # fmt: skip
        raise ValidationFailed(f"record {what}", field="detail")
    now = timezone.now()
    with transaction.atomic():
        row = DeliveryRecord.objects.create(
            request=req, packet=packet, method=method, detail=detail.strip()[:500],
            delivered_at=now, recorded_at=now, recorded_by=actor.username)  # fmt: skip
        record(actor=actor, action=actions.RELEASE_DELIVER.name, patient=req.patient_id,
               obj=req, detail={"method": method, "detail": row.detail,
                                "packet": packet.release_number})  # fmt: skip
    return row
