"""Turning an HTTP request into an Actor, shared by pages and API routes."""

from __future__ import annotations

from django.http import HttpRequest

from recordroom.kernel import netaddr
from recordroom.kernel.actor import Actor

# HL7 PurposeOfUse codes a client may state with the X-Purpose-Of-Use header. Emergency
# and break-the-glass purposes (ETREAT, BTG) are not claimable by header: they will come
# with the break-the-glass workflow, which asks for a reason and alerts privacy staff.
PURPOSES = {"TREAT", "HPAYMT", "HOPERAT", "HRESCH", "PUBHLTH", "HLEGAL",
            "PATRQT", "COMPL", "HDIRECT"}  # fmt: skip


def client_address(request: HttpRequest) -> str:
    # Behind a listed proxy, TrustedProxyMiddleware has put the client's address here.
    return netaddr.client_address(request)


def actor_from_request(
    request: HttpRequest, *, channel: str = "web", user=None
) -> Actor:  # type: ignore[no-untyped-def]
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    purpose = request.headers.get("X-Purpose-Of-Use", "HOPERAT").upper()
    return Actor(
        user=user,
        channel=channel,
        client_address=client_address(request),
        request_id=getattr(request, "request_id", ""),
        purpose=purpose if purpose in PURPOSES else "HOPERAT",
    )
