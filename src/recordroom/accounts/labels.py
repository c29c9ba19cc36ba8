"""Who may read what a sensitivity label marks (R-MIN-3, R-SEC-1): the one check every
adapter uses (`access`, `require_read`), break-the-glass, and the default grants.

A label is readable by a user when a grant names one of the user's roles or the user:
always, or only after breaking the glass on that patient's chart (a reason, time-boxed,
audited as chart.break_glass for the privacy officer). A document's author always reads
the document's own labels (R-PN-2: use by the originator). Who holds which grant is
admin data (LabelPolicy, LabelGrant), seeded once per label from DEFAULT_GRANTS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import PermissionDenied, ValidationFailed
from recordroom.kernel.labels import ALL_BY_CODE, CHART_LABELS, LABELS, plain

from .models import BreakGlass, LabelGrant, LabelPolicy
from .roles import ROLES

# How long a reason given to break the glass opens the chart (a shift).
BREAK_GLASS_HOURS = 8
MIN_REASON = 10  # characters: a word like "test" is not a reason

ALWAYS = "always"
BREAK_GLASS = "break-the-glass"

# label -> (role key, only by break-the-glass) pairs. Part 2 (R-P2-1) and the state
# categories (R-STATE-2) are read by treating, release and privacy roles; psychotherapy
# notes (R-PN-1/2) by their author only, and by the privacy officer with a reason; a VIP
# or restricted chart opens with a reason unless the role manages such charts.
_P2 = (("provider", False), ("roi_specialist", False), ("privacy_officer", False),
       ("him_manager", False))  # fmt: skip
_STATE = (("provider", False), ("roi_specialist", False), ("privacy_officer", False),
          ("him_manager", False), ("coder", False), ("him_specialist", True))  # fmt: skip
_CHART = (("privacy_officer", False), ("him_manager", False), ("provider", True),
          ("him_specialist", True), ("roi_specialist", True), ("coder", True))  # fmt: skip
DEFAULT_GRANTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "ETH": _P2,
    "SUD": _P2,
    "PSYTHPN": (("privacy_officer", True),),
    **{
        code: _STATE
        for code in ("PSY", "MH", "HIV", "STD", "GDIS", "SDV", "SEX", "MINCC")
    },  # fmt: skip
    "VIP": _CHART,
    "RESTRICTED": _CHART,
}
CHART_CODES = frozenset(label.code for label in CHART_LABELS)


def seed_label_policies() -> None:
    """Create each label's policy with its default grants, once (after migrate).

    A label whose policy exists keeps whatever an administrator set.
    """
    groups = {g.name: g for g in Group.objects.all()}
    seeded = False
    for label in (*LABELS, *CHART_LABELS):
        policy, created = LabelPolicy.objects.get_or_create(label=label.code)
        if not created:
            continue
        seeded = True
        for role_key, glass in DEFAULT_GRANTS.get(label.code, ()):
            group = groups.get(ROLES[role_key].name)
            if group is not None:
                LabelGrant.objects.create(policy=policy, group=group, break_glass=glass)
    admin = groups.get(ROLES["administrator"].name)
    if seeded and admin is not None:
        # An installation from before these tables: its administrators may now
        # change them in the admin (a new one gets this from accounts.roles).
        admin.permissions.add(*Permission.objects.filter(
            content_type__app_label="accounts",
            content_type__model__in=("labelpolicy", "labelgrant"),
        ).exclude(codename__in=("add_labelpolicy", "delete_labelpolicy")))  # fmt: skip


# --- the check -------------------------------------------------------------------------


@dataclass(frozen=True)
class Grants:
    """What one user may read: labels always, labels after break-the-glass, and the
    patients whose glass the user has broken (still valid)."""

    always: frozenset[str]
    by_glass: frozenset[str]
    glass_patients: frozenset[Any]

    def refused(
        self, codes: Iterable[str], *, patient_id: Any = None, author: bool = False
    ) -> tuple[list[str], list[str]]:
        """(labels not readable now, those of them readable after break-the-glass)."""
        glass = patient_id is not None and patient_id in self.glass_patients
        out = []
        for code in dict.fromkeys(codes):
            if code in self.always or (author and code not in CHART_CODES):
                continue
            if glass and code in self.by_glass:
                continue
            out.append(code)
        return out, [c for c in out if c in self.by_glass]


def grants(user: Any) -> Grants | None:
    """The user's label grants (cached on the user); None means the system itself."""
    if user is None:
        return None
    cached = getattr(user, "_label_grants", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    always: set[str] = set()
    by_glass: set[str] = set()
    patients: frozenset[Any] = frozenset()
    if user.is_authenticated and user.is_active:
        for label, glass in LabelGrant.objects.filter(
            Q(group__user=user) | Q(user=user)
        ).values_list("policy__label", "break_glass"):
            (by_glass if glass else always).add(label)
        patients = frozenset(
            BreakGlass.objects.filter(
                user=user, expires_at__gt=timezone.now()
            ).values_list("patient_id", flat=True)
        )
    result = Grants(frozenset(always), frozenset(by_glass - always), patients)
    user._label_grants = result
    return result


@dataclass(frozen=True)
class Access:
    """The outcome of checking labels: `refused` lists labels the user may not read
    now (`breakable` says break-the-glass would open all of them); `how` says what let
    a read through ("grant", "author", "break-the-glass"; "" when nothing was needed)."""

    refused: tuple[str, ...]
    breakable: bool
    how: str

    @property
    def allowed(self) -> bool:
        return not self.refused

    def audit(self) -> dict[str, Any]:
        """What a read's audit detail says about how labels were passed."""
        return {"label_access": self.how} if self.allowed and self.how else {}


def access(
    user: Any, codes: Iterable[str], *, patient_id: Any = None,
    author_user_id: Any = None,
) -> Access:  # fmt: skip
    """Whether `user` may read what carries `codes` (document, visit and chart labels).

    `patient_id` lets a valid break-the-glass on that chart count; `author_user_id`
    is the user who wrote the document (the author reads its own labels).
    """
    codes = [c for c in dict.fromkeys(codes) if c in ALL_BY_CODE]
    held = grants(user)
    if not codes or held is None:
        return Access((), False, "")
    author = author_user_id is not None and author_user_id == user.pk
    refused, breakable = held.refused(codes, patient_id=patient_id, author=author)
    if refused:
        return Access(tuple(refused), len(breakable) == len(refused), "")
    needed = [c for c in codes if c not in held.always]
    if not needed:
        how = "grant"
    elif author and not any(c in CHART_CODES for c in needed):
        how = "author"
    else:
        how = BREAK_GLASS
    return Access((), False, how)


def can_read(user: Any, codes: Iterable[str], **where: Any) -> bool:
    return access(user, codes, **where).allowed


def refusal(user: Any, result: Access, what: str) -> PermissionDenied:
    """PermissionDenied naming the labels in plain words and what the user can do."""
    words = " and ".join(plain(c) for c in result.refused)
    roles = ", ".join(user.role_names()) if user is not None else ""
    tail = (
        "give a reason to break the glass on this chart if you must read it now "
        "(the privacy officer reviews every such access)"
        if result.breakable
        else "ask your privacy officer for access"
    )
    return PermissionDenied(
        f"{what} is restricted ({words}); your role ({roles or 'none'}) may not read "
        f"it: {tail}"
    )


def require_read(user: Any, codes: Iterable[str], *, what: str, **where: Any) -> Access:
    """The Access, or PermissionDenied (a 403) naming the labels in plain words."""
    result = access(user, codes, **where)
    if not result.allowed:
        raise refusal(user, result, what)
    return result


# --- break-the-glass -------------------------------------------------------------------


def break_the_glass(
    *, actor: Actor, patient_id: Any, labels: Iterable[str], reason: str
) -> BreakGlass:
    """Open a chart's restricted labels to the actor for BREAK_GLASS_HOURS, audited.

    `labels` are those the chart holds that the actor may not read now.

    Raises:
        ValidationFailed: the reason is missing or too short.
        PermissionDenied: break-the-glass opens none of these labels for the role.
    """
    reason = " ".join(reason.split())
    if len(reason) < MIN_REASON:
        raise ValidationFailed(
            f"give the reason you need this chart now (at least {MIN_REASON} "
            f"characters), not {reason!r}",
            field="reason",
        )
    held = grants(actor.user)
    wanted = list(dict.fromkeys(labels))
    if held is None or actor.user is None:
        raise PermissionDenied("break-the-glass is for a signed-in person")
    opened = [c for c in wanted if c in held.by_glass]
    if not opened:
        raise refusal(actor.user, Access(tuple(wanted), False, ""), "this chart")
    now = timezone.now()
    with transaction.atomic():
        row = BreakGlass.objects.create(
            user=actor.user, patient_id=patient_id, reason=reason, at=now,
            expires_at=now + timedelta(hours=BREAK_GLASS_HOURS),
        )  # fmt: skip
        record(
            actor=actor, action=actions.CHART_BREAK_GLASS.name, patient=patient_id,
            obj=row, detail={"reason": reason, "labels": opened,
                             "until": row.expires_at.isoformat()},
        )  # fmt: skip
    actor.user.__dict__.pop("_label_grants", None)
    return row


# --- admin data from the CLI -----------------------------------------------------------


def label_table() -> list[tuple[str, str, list[str], list[str]]]:
    """(code, plain words, who always, who by break-the-glass) for every label."""
    rows: dict[str, tuple[list[str], list[str]]] = {
        code: ([], []) for code in ALL_BY_CODE
    }
    for grant in LabelGrant.objects.select_related("policy", "group", "user"):
        who = grant.group.name if grant.group else f"user {grant.user.username}"  # type: ignore[union-attr]
        rows.setdefault(grant.policy.label, ([], []))[int(grant.break_glass)].append(
            who
        )
    return [(c, plain(c), sorted(a), sorted(b)) for c, (a, b) in rows.items()]


def set_grant(
    *, actor: Actor, label: str, role: str, break_glass: bool = False,
    revoke: bool = False,
) -> None:  # fmt: skip
    """Grant a role a label (always or by break-the-glass), or revoke it; audited."""
    if label not in ALL_BY_CODE:
        raise ValidationFailed(
            f"unknown label '{label}'; known: {', '.join(ALL_BY_CODE)}", field="label"
        )
    if role not in ROLES:
        raise ValidationFailed(
            f"unknown role '{role}'; choose one of: {', '.join(ROLES)}", field="role"
        )
    group = Group.objects.filter(name=ROLES[role].name).first()
    if group is None:
        raise ValidationFailed(f"role '{role}' has no group; run 'recordroom init'")
    with transaction.atomic():
        policy, _ = LabelPolicy.objects.get_or_create(label=label)
        LabelGrant.objects.filter(policy=policy, group=group).delete()
        if not revoke:
            LabelGrant.objects.create(
                policy=policy, group=group, break_glass=break_glass
            )
        record(
            actor=actor, action=actions.LABEL_ACCESS_CHANGE.name, obj=policy,
            detail={"label": label, "role": role,
                    "grant": "none" if revoke else BREAK_GLASS if break_glass
                    else ALWAYS},
        )  # fmt: skip
