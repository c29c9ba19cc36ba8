"""Who is acting, from where and why: passed to every service and written to audit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """The person or system behind an action.

    `user` is the accounts.User (None for the system itself); `channel` is the adapter
    (web, api, cli, worker, hl7); `purpose` is the HL7 PurposeOfUse code. A system
    client (OAuth2) acts as its service user and adds `client_id` and the `scopes` its
    access token grants (None: whatever the user's role allows).
    """

    user: Any = None
    channel: str = "system"
    client_address: str = ""
    request_id: str = ""
    purpose: str = "HOPERAT"
    facility_id: Any = None
    name: str = ""  # who, when there is no user row (e.g. "cli:root", an interface)
    client_id: str = ""
    scopes: tuple[str, ...] | None = None

    @property
    def username(self) -> str:
        return getattr(self.user, "username", "") or self.name or f"<{self.channel}>"

    @property
    def user_id(self) -> Any:
        return getattr(self.user, "pk", None)

    @property
    def role(self) -> str:
        names = getattr(self.user, "role_names", None)
        return ",".join(names()) if callable(names) else ""


SYSTEM = Actor(channel="system")

# User names of system clients' service users start with this (never a person's: the
# admin's user name validator refuses ":").
CLIENT_USER_PREFIX = "client:"
