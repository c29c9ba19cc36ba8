"""Admin for chart completion's configuration: deficiency rules (each save a new
version through rules.save_rule, audited) and providers' standing. Deficiencies
change only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from recordroom.accounts.admin import AuditedAdmin
from recordroom.kernel import netaddr
from recordroom.kernel.actor import Actor

from .models import DeficiencyRule, DeficiencyRuleVersion, ProviderStanding
from .rules import save_rule


class RuleVersionInline(admin.TabularInline):  # type: ignore[type-arg]
    model = DeficiencyRuleVersion
    extra = 0
    can_delete = False
    fields = ("version", "changed_by", "changed_at", "reason", "data")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DeficiencyRule)
class DeficiencyRuleAdmin(AuditedAdmin):
    list_display = ("code", "name", "kind", "event", "due_hours", "facility",
                    "cites", "version", "active")  # fmt: skip
    list_filter = ("kind", "event", "active", "facility")
    search_fields = ("code", "name", "cites")
    readonly_fields = ("version",)
    inlines = (RuleVersionInline,)

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        actor = Actor(user=request.user, channel="admin",
                      client_address=netaddr.client_address(request),
                      request_id=getattr(request, "request_id", ""))  # fmt: skip
        save_rule(actor=actor, rule=obj, reason="changed in the admin")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a rule that raised deficiencies is kept: make it inactive


@admin.register(ProviderStanding)
class ProviderStandingAdmin(AuditedAdmin):
    list_display = ("provider", "standing", "supervisor")
    list_filter = ("standing",)
    search_fields = ("provider__family", "provider__given", "provider__npi")
    autocomplete_fields = ("provider", "supervisor")
