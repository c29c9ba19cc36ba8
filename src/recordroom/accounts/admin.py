"""Admin for users, role policies, API tokens and system clients; every admin change
is audited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from recordroom.audit.services import record
from recordroom.kernel import actions, netaddr
from recordroom.kernel.actor import CLIENT_USER_PREFIX, Actor
from recordroom.kernel.errors import ValidationFailed

from .models import (
    ApiClient,
    ApiToken,
    LabelGrant,
    LabelPolicy,
    RolePolicy,
    User,
)
from .services import check_token_expiry


class AuditedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Writes an audit event for every add, change and delete made in the admin."""

    def _audit(
        self, request: HttpRequest, obj: Any, what: str, message: Any = ""
    ) -> None:
        record(
            actor=Actor(
                user=request.user,
                channel="admin",
                client_address=netaddr.client_address(request),
                request_id=getattr(request, "request_id", ""),
            ),
            action=actions.ADMIN_CHANGE.name,
            obj=obj,
            detail={
                "change": what,
                "object": str(obj)[:200],
                "message": str(message)[:500],
            },
        )

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "add", message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._audit(request, obj, "change", message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, obj, "delete")
        return super().log_deletions(request, queryset)


@admin.register(User)
class RecordroomUserAdmin(AuditedAdmin, UserAdmin):  # type: ignore[misc]
    list_display = (
        "username",
        "first_name",
        "last_name",
        "job_title",
        "email",
        "is_active",
        "all_facilities",
        "mfa_waived_for_demo",
    )
    list_filter = ("is_active", "groups", "all_facilities")
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        (
            "Recordroom",
            {"fields": ("job_title", "all_facilities", "mfa_waived_for_demo")},
        ),
    )
    # Only `recordroom demo` sets the waiver; nobody can waive a second factor here.
    readonly_fields = ("mfa_waived_for_demo",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.username.startswith(CLIENT_USER_PREFIX):
            # A client's service user keeps its name (the ":" would not validate).
            return (*fields, "username")
        return fields


@admin.register(RolePolicy)
class RolePolicyAdmin(AuditedAdmin):
    list_display = ("group", "require_mfa")
    list_editable = ("require_mfa",)


class ApiTokenForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ApiToken
        fields = ("name", "expires_at", "revoked_at")

    def clean_expires_at(self) -> Any:
        value = self.cleaned_data.get("expires_at")
        try:
            check_token_expiry(self.instance, value)
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None
        return value


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin):
    form = ApiTokenForm
    list_display = (
        "user",
        "prefix",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = ("user", "prefix", "digest", "created_at", "last_used_at")
    fields = (
        "user",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are issued with `recordroom token create` (shown once)


@admin.register(ApiClient)
class ApiClientAdmin(AuditedAdmin):
    """Scopes and the active flag are editable; the secret is never shown."""

    list_display = ("name", "client_id", "user", "scopes", "active", "last_used_at")
    list_filter = ("active",)
    search_fields = ("name", "client_id")
    fields = ("name", "client_id", "user", "scopes", "active", "jwks", "created_at",
              "last_used_at")  # fmt: skip
    # Keys are replaced with `recordroom client set-jwks`, which checks them.
    readonly_fields = ("name", "client_id", "user", "jwks", "created_at",
                       "last_used_at")  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `recordroom client create` makes them (secret shown once)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: audit rows keep naming the client


class LabelGrantInline(admin.TabularInline):  # type: ignore[type-arg]
    model = LabelGrant
    extra = 1
    fields = ("group", "user", "break_glass")


@admin.register(LabelPolicy)
class LabelPolicyAdmin(AuditedAdmin):
    """Who may read each sensitivity label: one row per label, its grants inline.
    Changing a grant is a change of the label's row, audited as admin.change."""

    list_display = ("label", "meaning", "always", "by_break_glass")
    readonly_fields = ("label", "meaning")
    fields = ("label", "meaning")
    inlines = (LabelGrantInline,)

    @admin.display(description="meaning")
    def meaning(self, obj: LabelPolicy) -> str:
        from recordroom.kernel.labels import plain

        return plain(obj.label)

    def _who(self, obj: LabelPolicy, glass: bool) -> str:
        return ", ".join(
            g.group.name if g.group else f"user {g.user.username}"  # type: ignore[union-attr]
            for g in obj.grants.all()
            if g.break_glass is glass
        )

    @admin.display(description="always readable by")
    def always(self, obj: LabelPolicy) -> str:
        return self._who(obj, False)

    @admin.display(description="readable after break-the-glass by")
    def by_break_glass(self, obj: LabelPolicy) -> str:
        return self._who(obj, True)

    def get_queryset(self, request: HttpRequest) -> Any:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("grants__group", "grants__user")
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one row per label, created by `recordroom init`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
