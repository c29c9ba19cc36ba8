"""Account services: users, roles, sign-in with throttling, TOTP, API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from recordroom.audit.models import Outcome
from recordroom.audit.services import record
from recordroom.kernel import actions, crypto
from recordroom.kernel.actor import CLIENT_USER_PREFIX, Actor
from recordroom.kernel.errors import (
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

from .models import ApiToken, LoginFailure, RolePolicy, TotpDevice, User
from .roles import ADMIN_MODEL_PERMISSIONS, ROLES
from .throttle import Throttled as Throttled
from .throttle import account_locked_here, check_credential, guesses_throttled

TOKEN_PREFIX = "rr_"


def sync_roles() -> None:
    """Create each declared role as a group with its permissions and policy, and each
    sensitivity label's default grants, once.

    Runs after every migrate; a group that exists keeps whatever an administrator set.
    """
    perms = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role in ROLES.values():
        group, created = Group.objects.get_or_create(name=role.name)
        if created:
            wanted = [f"accounts.{c}" for c in role.permissions]
            wanted += role.model_permissions
            if role.admin_site:
                wanted += ADMIN_MODEL_PERMISSIONS
            missing = [w for w in wanted if w not in perms]
            if missing:
                raise RuntimeError(
                    f"permissions missing for role {role.key}: {missing}"
                )
            group.permissions.set([perms[w] for w in wanted])
        RolePolicy.objects.get_or_create(
            group=group, defaults={"require_mfa": role.require_mfa}
        )
    from .labels import seed_label_policies

    seed_label_policies()  # needs the role groups


def _group_for(role_key: str) -> Group:
    role = ROLES.get(role_key)
    if role is None:
        raise ValidationFailed(
            f"unknown role '{role_key}'; choose one of: {', '.join(ROLES)}",
            field="role",
        )
    group = Group.objects.filter(name=role.name).first()
    if group is None:
        raise NotFound(f"role group '{role.name}' is missing; run 'recordroom init'")
    return group


def create_user(
    *,
    actor: Actor,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    facility_codes: list[str] | None = None,
    all_facilities: bool = False,
    demo: bool = False,
    first_name: str = "",
    last_name: str = "",
    job_title: str = "",
) -> User:
    """Create a user in one role. Passwords are hashed with Argon2. The full name
    and job title are what letters are signed with."""
    username = username.strip()
    if not username:
        raise ValidationFailed("a user name is required", field="username")
    group = _group_for(role)
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise ValidationFailed(
                f"user '{username}' already exists", field="username"
            )
        user = User(
            username=username,
            email=email,
            all_facilities=all_facilities,
            first_name=first_name.strip()[:150],
            last_name=last_name.strip()[:150],
            job_title=job_title.strip()[:100],
        )
        user.mfa_waived_for_demo = demo
        # Nobody is a Django superuser: a superuser passes every permission check,
        # PHI included. Administrators reach the admin through their role's model
        # permissions (accounts.roles.ADMIN_MODEL_PERMISSIONS) only.
        user.is_staff = ROLES[role].admin_site
        if password:
            try:
                validate_password(password, user)
            except DjangoValidationError as exc:
                raise ValidationFailed(
                    "password refused: " + " ".join(exc.messages), field="password"
                ) from None
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        user.groups.add(group)
        if facility_codes:
            from django.apps import apps

            facility_model = apps.get_model("mpi", "Facility")
            found = list(facility_model.objects.filter(code__in=facility_codes))
            missing = set(facility_codes) - {f.code for f in found}
            if missing:
                raise NotFound(
                    f"unknown facility code(s): {', '.join(sorted(missing))}"
                )
            for facility in found:
                facility.members.add(user)
        record(
            actor=actor,
            action=actions.USER_CREATED.name,
            obj=user,
            detail={
                "username": username,
                "role": role,
                "facilities": facility_codes or [],
                "job_title": user.job_title,
            },
        )
    return user


# --- sign-in ---------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    user: User | None
    needs_second_factor: bool = False
    needs_enrolment: bool = False
    error: str = ""


def sign_in(
    *, actor: Actor, username: str, password: str, request: object = None
) -> SignIn:
    """Check a password, throttling repeated failures (R-SEC-1, log-in monitoring).

    Every refusal is audited with its reason; success is audited once the second
    factor (if required) has passed, by `complete_sign_in`.
    """
    username = (username or "").strip()[:150]
    if account_locked_here(username, actor.client_address):
        _failed(actor, username, "throttled")
        return SignIn(
            None,
            error=(
                "Too many failed sign-ins for this account from this address; try "
                f"again in {settings.LOGIN_LOCKOUT_MINUTES} minutes or ask an "
                "administrator."
            ),
        )
    user = authenticate(request, username=username, password=password)  # type: ignore[arg-type]
    if user is None:
        if guesses_throttled(username, actor.client_address):
            _failed(actor, username, "throttled")
            return SignIn(None, error=(
                "The user name or password is not correct. There have been many "
                "failed sign-ins for this account or from this address; they are "
                "recorded for the security officer."
            ))  # fmt: skip
        _failed(actor, username, "bad credentials")
        return SignIn(None, error="The user name or password is not correct.")
    assert isinstance(user, User)
    if user.requires_mfa():
        device = getattr(user, "totp", None)
        confirmed = device is not None and device.confirmed
        return SignIn(user, needs_second_factor=True, needs_enrolment=not confirmed)
    return SignIn(user)


def _failed(actor: Actor, username: str, reason: str) -> None:
    with transaction.atomic():
        LoginFailure.objects.create(
            username=username, client_address=actor.client_address, at=timezone.now()
        )
        record(
            actor=actor,
            action=actions.LOGIN_FAILED.name,
            outcome=Outcome.DENIED,
            detail={"username": username, "reason": reason},
        )


def complete_sign_in(*, actor: Actor, second_factor: bool) -> None:
    record(
        actor=actor, action=actions.LOGIN.name, detail={"second_factor": second_factor}
    )


def sign_out(*, actor: Actor, reason: str = "user") -> None:
    record(actor=actor, action=actions.LOGOUT.name, detail={"reason": reason})


# --- TOTP second factor ------------------------------------------------------------


def start_totp_enrolment(*, user: User) -> str:
    """Give the user a fresh, unconfirmed secret; return the otpauth:// URI."""
    secret = pyotp.random_base32()
    sealed = crypto.encrypt(secret.encode(), purpose="totp", aad=str(user.pk).encode())
    TotpDevice.objects.update_or_create(
        user=user, defaults={"secret": sealed, "confirmed": False, "last_counter": 0}
    )
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.username, issuer_name="Recordroom"
    )


def totp_secret(user: User) -> str:
    device = TotpDevice.objects.get(user=user)
    return crypto.decrypt(
        bytes(device.secret), purpose="totp", aad=str(user.pk).encode()
    ).decode()


def check_totp(*, actor: Actor, user: User, code: str) -> bool:
    """Accept a current 6-digit code once (a replayed code is refused)."""
    device = TotpDevice.objects.filter(user=user).first()
    code = (code or "").strip().replace(" ", "")
    if device is None or not (code.isascii() and code.isdigit()):
        _failed(actor, user.username, "bad second factor")
        return False
    totp = pyotp.TOTP(totp_secret(user))
    now = timezone.now().timestamp()
    for drift in (0, -1, 1):
        counter = int(now // 30) + drift
        if counter > device.last_counter and totp.at(counter * 30) == code:
            with transaction.atomic():
                first = not device.confirmed
                # Conditional on the counter, so a code raced by two requests passes once.
                claimed = TotpDevice.objects.filter(
                    pk=device.pk, last_counter__lt=counter
                ).update(last_counter=counter, confirmed=True)
                if claimed and first:
                    record(actor=actor, action=actions.MFA_ENROLLED.name, obj=user)
            if claimed:
                return True
            break
    _failed(actor, user.username, "bad second factor")
    return False


# --- API tokens --------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    *, actor: Actor, username: str, name: str = "", days: int | None = None
) -> tuple[ApiToken, str]:
    """Issue a token; return the row and the token text, which is never stored."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"no active user named '{username}'")
    if username.startswith(CLIENT_USER_PREFIX):
        # A token would carry the role without the client's scopes.
        raise ValidationFailed(
            f"'{username}' is a system client's service user; the client gets "
            "access tokens from /oauth/token with its secret",
            field="username",
        )
    lifetime = token_lifetime(user, days)
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    expires = timezone.now() + timedelta(days=lifetime)
    with transaction.atomic():
        row = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            digest=_digest(token),
            expires_at=expires,
        )
        record(
            actor=actor,
            action=actions.TOKEN_CREATED.name,
            obj=row,
            detail={"user": username, "prefix": prefix},
        )
    return row, token


def token_lifetime(user: User, days: int | None) -> int:
    """Days a new token of `user` lives: `days`, or the default, within the maximum.

    Every token expires (R-SEC-1): RECORDROOM_TOKEN_DAYS by default, at most
    RECORDROOM_TOKEN_MAX_DAYS; an administrator's (a user of the admin site) at most
    RECORDROOM_ADMIN_TOKEN_DAYS, since a token skips the second factor.
    """
    cap = _token_cap(user)
    if days is None:
        return min(settings.TOKEN_DAYS, cap.days)
    if days < 1 or days > cap.days:
        raise ValidationFailed(f"{cap.refusal}; {days} asked", field="days")
    return days


def check_token_expiry(token: ApiToken, expires_at: datetime | None) -> None:
    """Refuse an expiry set on an existing token (the admin) that `token_lifetime`
    would not give: none at all, or past the maximum from the token's creation. A
    token from before expiry was the default may keep its "never" until replaced."""
    if expires_at is None:
        if token.pk and token.expires_at is None:
            return
        raise ValidationFailed(
            "every API token expires; give a date (RECORDROOM_TOKEN_MAX_DAYS)",
            field="expires_at",
        )
    cap = _token_cap(token.user)
    if expires_at > token.created_at + timedelta(days=cap.days, minutes=1):
        raise ValidationFailed(f"{cap.refusal} from its creation", field="expires_at")


@dataclass(frozen=True)
class _Cap:
    days: int
    refusal: str


def _token_cap(user: User) -> _Cap:
    if user.is_staff or user.is_superuser:
        days = settings.ADMIN_TOKEN_DAYS
        return _Cap(days, f"an administrator's API token may live at most {days} "
                    "days (RECORDROOM_ADMIN_TOKEN_DAYS)")  # fmt: skip
    days = settings.TOKEN_MAX_DAYS
    return _Cap(days, f"an API token may live at most {days} days "
                "(RECORDROOM_TOKEN_MAX_DAYS)")  # fmt: skip


def active_tokens(*, never_expiring: bool = False) -> QuerySet[ApiToken]:
    """Tokens neither revoked nor expired, oldest first; with `never_expiring`, only
    those created before tokens expired by default (to be replaced)."""
    rows = ApiToken.objects.select_related("user").filter(revoked_at=None)
    rows = rows.filter(Q(expires_at=None) | Q(expires_at__gt=timezone.now()))
    if never_expiring:
        rows = rows.filter(expires_at=None)
    return rows.order_by("created_at", "pk")


def user_for_token(token: str) -> User:
    """Resolve a bearer token, refusing unknown, revoked, expired or disabled ones."""
    parts = (token or "").split("_")
    if len(parts) < 3 or not token.startswith(TOKEN_PREFIX):
        raise PermissionDenied(
            "the API token is malformed; expected 'rr_<prefix>_<secret>'"
        )
    row = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if row is None or not secrets.compare_digest(row.digest, _digest(token)):
        raise PermissionDenied("the API token is not valid")
    now = timezone.now()
    if row.revoked_at is not None:
        raise PermissionDenied(f"the API token {row.prefix}… was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise PermissionDenied(
            f"the API token {row.prefix}… expired on {row.expires_at:%Y-%m-%d}"
        )
    if not row.user.is_active:
        raise PermissionDenied(f"user '{row.user.username}' is disabled")
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def authenticate_token(*, actor: Actor, token: str) -> User:
    """The user of an API bearer token, throttled like password sign-ins (R-SEC-1).

    A refused token is a failed sign-in from the client's address: counted, and
    audited with its reason (never the token). A valid token always passes: a token
    cannot be guessed, so others' failures from its address never refuse it.

    Raises:
        Throttled: the token is refused and its address has too many recent failures
            (password and token alike); says for how many minutes.
        PermissionDenied: the token is malformed, unknown, revoked or expired, or its
            user is disabled (the reason from `user_for_token`).
    """
    return check_credential(
        actor, method="api token", check=lambda: user_for_token(token)
    )


def revoke_token(*, actor: Actor, prefix: str) -> None:
    with transaction.atomic():
        updated = ApiToken.objects.filter(prefix=prefix, revoked_at=None).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise NotFound(f"no active API token with prefix '{prefix}'")
        record(
            actor=actor, action=actions.TOKEN_REVOKED.name, detail={"prefix": prefix}
        )
