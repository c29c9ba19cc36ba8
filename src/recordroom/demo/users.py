"""Demo sign-ins: one user per role, MFA waived (clearly labelled), shared password."""

from __future__ import annotations

from django.contrib.auth.hashers import make_password
from django.db import transaction

from recordroom.accounts.models import User
from recordroom.accounts.roles import ROLES
from recordroom.accounts.services import create_user
from recordroom.kernel.actor import Actor
from recordroom.records.models import Provider

from .places import FACILITIES, roster
from .setup import ensure_scenery

DEMO_PASSWORD = "recordroom-demo"
USERNAMES = {
    "him_specialist": "demo-him", "roi_specialist": "demo-roi", "coder": "demo-coder",
    "provider": "demo-provider", "privacy_officer": "demo-privacy",
    "him_manager": "demo-manager", "auditor": "demo-auditor",
    "administrator": "demo-admin",
}  # fmt: skip
# Synthetic people behind the demo accounts: letters are signed with the name and
# job title, never the user name.
PEOPLE = {
    "him_specialist": ("Renee", "Okafor", "Health Information Technician, RHIT"),
    "roi_specialist": ("Marisol", "Ferreira", "Release of Information Specialist"),
    "coder": ("Daniel", "Whitcomb", "Inpatient Coder, CCS"),
    "provider": ("Priya", "Raman", "Attending Physician, MD"),
    "privacy_officer": ("Gloria", "Haddad", "Privacy Officer"),
    "him_manager": ("Thomas", "Lindqvist", "Director, Health Information Management"),
    "auditor": ("Alan", "Mercer", "Compliance Auditor"),
    "administrator": ("Keiko", "Tanaka", "Systems Administrator"),
}
# More providers with inboxes of their own (demo/inbox.py): user, roster index, name.
EXTRA_PROVIDERS: tuple[tuple[str, int, tuple[str, str, str]], ...] = (
    ("demo-provider-2", 1, ("Samuel", "Adeyemi", "Hospitalist, MD")),
    ("demo-provider-3", 2, ("Lena", "Novak", "Hospitalist, MD")),
)
ENTERPRISE_ROLES = {"him_manager", "privacy_officer", "auditor"}
DEMO_ACTOR = Actor(channel="demo")


def create_demo_users(
    *, password: str | None = None, actor: Actor | None = None
) -> list[tuple[str, str, str]]:
    """Create (or reset the password of) one demo user per role.

    Returns (username, role name, password) for each. These accounts exist only for
    the synthetic demo: their second factor is waived (`mfa_waived_for_demo`) and
    they share a printed password. The provider is linked to a demo Provider so that
    they can sign documents.
    """
    password = password or DEMO_PASSWORD
    actor = actor or DEMO_ACTOR
    # One Argon2 hash serves every demo account (same shared password): hashing is
    # deliberately slow, and `make demo` has a time budget.
    hashed = make_password(password)
    ensure_scenery()
    codes = [f.code for f in FACILITIES]
    out: list[tuple[str, str, str]] = []
    for key, role in ROLES.items():
        username = USERNAMES.get(key, f"demo-{key.replace('_', '-')}")
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                enterprise = key in ENTERPRISE_ROLES
                first, last, title = PEOPLE.get(key, ("", "", ""))
                user = create_user(
                    actor=actor, username=username, role=key, password=None,
                    facility_codes=[] if enterprise else codes,
                    all_facilities=enterprise, demo=True, first_name=first,
                    last_name=last, job_title=title,
                )  # fmt: skip
            user.password = hashed
            user.save(update_fields=["password"])
            if key == "provider":
                _link_provider(user)
        out.append((username, role.name, password))
    for username, index, (first, last, title) in EXTRA_PROVIDERS:
        with transaction.atomic():
            user = User.objects.filter(username=username).first()
            if user is None:
                user = create_user(
                    actor=actor, username=username, role="provider", password=None,
                    facility_codes=codes, demo=True, first_name=first,
                    last_name=last, job_title=title,
                )  # fmt: skip
            user.password = hashed
            user.save(update_fields=["password"])
            _link_provider(user, index)
        out.append((username, ROLES["provider"].name, password))
    return out


def _link_provider(user: User, index: int = 0) -> None:
    if Provider.objects.filter(user=user).exists():
        return
    Provider.objects.filter(npi=roster()[index].npi, user__isnull=True).update(
        user=user
    )
