"""Users, role policies, API tokens, TOTP devices, sign-in throttling, and the
system clients (OAuth2) with their access tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, Group
from django.db import models

from .roles import PERMISSIONS


class Capability(models.Model):
    """Holder of the role permissions (no table): `accounts.<codename>`."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = sorted(PERMISSIONS.items())

    def __str__(self) -> str:
        return "capability holder"


class User(AbstractUser):
    """A person with a unique account (R-SEC-1 unique user identification)."""

    # Facility scope is `records.Facility.members` (related name `facilities`), kept on
    # the facility side so that accounts does not depend on records.
    all_facilities = models.BooleanField(
        default=False,
        help_text="Enterprise-wide access (HIM director, privacy officer).",
    )
    job_title = models.CharField(
        max_length=100,
        blank=True,
        default="",
        help_text="As letters print it under the name: 'Release of Information "
        "Specialist', 'Director, Health Information Management'.",
    )
    mfa_waived_for_demo = models.BooleanField(
        default=False,
        help_text="DEMO ONLY: second factor waived for this synthetic-data demo account.",
    )

    def signature(self) -> list[str]:
        """The lines a letter is signed with: full name and job title; none when
        the user has no full name (the letter is then signed by the department,
        never with a user name)."""
        name = self.get_full_name().strip()
        return (
            [name, *([self.job_title.strip()] if self.job_title.strip() else [])]
            if name
            else []
        )

    def role_names(self) -> list[str]:
        cached = getattr(self, "_role_names", None)
        if cached is None:
            cached = sorted(g.name for g in self.groups.all())
            self._role_names = cached
        return cached

    def capabilities(self) -> frozenset[str]:
        """Capability codenames granted by the user's roles (never by superuser status)."""
        cached = getattr(self, "_capabilities", None)
        if cached is None:
            from django.contrib.auth.models import Permission

            cached = frozenset(
                Permission.objects.filter(
                    group__user=self,
                    content_type__app_label="accounts",
                    content_type__model="capability",
                ).values_list("codename", flat=True)
            )
            self._capabilities = cached
        return cached

    def requires_mfa(self) -> bool:
        if self.mfa_waived_for_demo:
            return False
        return RolePolicy.objects.filter(group__user=self, require_mfa=True).exists()

    def facility_ids(self) -> list[object] | None:
        """Facility ids in scope, or None meaning every facility."""
        if self.all_facilities:
            return None
        return list(self.facilities.values_list("pk", flat=True))  # type: ignore[attr-defined]


class RolePolicy(models.Model):
    """Per-role security settings an administrator can change."""

    group = models.OneToOneField(Group, on_delete=models.CASCADE, related_name="policy")
    require_mfa = models.BooleanField(
        default=False, help_text="Members must sign in with a TOTP second factor."
    )

    class Meta:
        verbose_name_plural = "role policies"

    def __str__(self) -> str:
        return f"{self.group.name}: second factor {'required' if self.require_mfa else 'optional'}"


class TotpDevice(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp")
    secret = models.BinaryField(help_text="AES-GCM encrypted base32 secret")
    confirmed = models.BooleanField(default=False)
    last_counter = models.BigIntegerField(default=0, help_text="refuses code replay")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"TOTP for {self.user.username} ({'confirmed' if self.confirmed else 'pending'})"


class ApiToken(models.Model):
    """A per-user API token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, default="")
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user.username} {self.prefix}… {self.name}"


class LoginFailure(models.Model):
    """Failed sign-ins, counted per user name and per address for throttling."""

    username = models.CharField(max_length=150)
    client_address = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="loginfail_user_idx"),
            models.Index(fields=["client_address", "at"], name="loginfail_addr_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.client_address} at {self.at:%Y-%m-%d %H:%M}"


class ApiClient(models.Model):
    """A registered system that signs in with OAuth2 client credentials.

    It acts as its own service user (`client:<name>`), so roles and facility scope
    apply unchanged; its SMART scopes only narrow them. Only the secret's SHA-256 is
    stored; the secret is shown once, when the client is created. A client with a
    registered JWKS may instead sign a `private_key_jwt` assertion (SMART Backend
    Services); one registered with keys only has no secret (empty digest).
    """

    client_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=64, unique=True)
    user = models.OneToOneField(
        User, on_delete=models.PROTECT, related_name="api_client"
    )
    secret_digest = models.CharField(max_length=64, blank=True)
    scopes = models.TextField(
        help_text="SMART scopes it may ask for, space-separated (e.g. system/*.read)."
    )
    jwks = models.TextField(
        blank=True,
        default="",
        help_text="Public keys (JWKS JSON) its private_key_jwt assertions are checked "
        "against; set with `recordroom client set-jwks`.",
    )
    active = models.BooleanField(
        default=True,
        help_text="Clear to revoke the client: its access tokens stop working at once.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "system client (OAuth2)"
        verbose_name_plural = "system clients (OAuth2)"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from recordroom.kernel.errors import ValidationFailed

        from .scopes import format_scopes, parse_grantable

        try:
            scopes = parse_grantable(self.scopes)
        except ValidationFailed as exc:
            raise ValidationError({"scopes": exc.message}) from None
        if not scopes:
            raise ValidationError({"scopes": "give at least one scope"})
        self.scopes = format_scopes(scopes)


class AccessToken(models.Model):
    """A short-lived OAuth2 access token of a client; only its SHA-256 is stored."""

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="access_tokens"
    )
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.TextField(help_text="The scopes granted, space-separated.")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "OAuth2 access token"

    def __str__(self) -> str:
        return f"{self.client.name} token until {self.expires_at:%Y-%m-%d %H:%M}"


class UsedAssertion(models.Model):
    """The jti of a client assertion already used, kept until the assertion expires so
    that a replayed assertion is refused (SMART Backend Services, RFC 7523 §3)."""

    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="used_assertions"
    )
    jti = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "used client assertion"
        constraints = [
            models.UniqueConstraint(fields=["client", "jti"], name="assertion_jti_once")
        ]
        indexes = [models.Index(fields=["expires_at"], name="assertion_expiry_idx")]

    def __str__(self) -> str:
        return f"{self.client.name} jti {self.jti} until {self.expires_at:%H:%M:%S}"


class LabelPolicy(models.Model):
    """Who may read documents, encounters and charts carrying one sensitivity label
    (R-MIN-3 role-based access, R-SEC-1): its grants. Seeded once per label with the
    defaults of accounts.label_defaults; an administrator changes them in the admin."""

    label = models.CharField(max_length=16, unique=True)

    class Meta:
        verbose_name = "sensitivity label access"
        verbose_name_plural = "sensitivity label access"
        ordering = ["label"]

    def __str__(self) -> str:
        from recordroom.kernel.labels import plain

        return f"{self.label}: {plain(self.label)}"


class LabelGrant(models.Model):
    """A role (or one user) that may read a label: always, or only after breaking
    the glass on that patient (a reason, time-boxed, audited)."""

    policy = models.ForeignKey(
        LabelPolicy, on_delete=models.CASCADE, related_name="grants"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="A role; leave empty to grant one user.",
    )  # fmt: skip
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="One user (instead of a role).",
    )  # fmt: skip
    break_glass = models.BooleanField(
        default=False,
        help_text="Only after giving a reason on that patient's chart "
        "(break-the-glass); otherwise the label is always readable.",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__isnull=False, user__isnull=True)
                | models.Q(group__isnull=True, user__isnull=False),
                name="labelgrant_group_or_user",
            ),
        ]

    def __str__(self) -> str:
        who = self.group.name if self.group else getattr(self.user, "username", "?")
        how = "by break-the-glass" if self.break_glass else "always"
        return f"{who} reads {self.policy.label} {how}"


class BreakGlass(models.Model):
    """A user opened a chart they could not otherwise read, giving a reason
    (R-SEC-1 emergency access): valid until `expires_at`, reviewed by privacy staff
    through its audit event (chart.break_glass)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # No foreign key: accounts sits below mpi (DESIGN.md layers).
    patient_id = models.UUIDField()
    reason = models.TextField()
    at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "break-the-glass access"
        verbose_name_plural = "break-the-glass accesses"
        indexes = [
            models.Index(fields=["user", "patient_id", "expires_at"], name="btg_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user.username} on {self.patient_id} until {self.expires_at}"
