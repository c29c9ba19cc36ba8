"""Admin for the desk's configuration (DESIGN.md rule 10): deadline rules per state
and requester type, fee schedules. Neither holds PHI; requests, authorizations and
disclosures change only through the services, which audit every change."""

from django.contrib import admin

from recordroom.accounts.admin import AuditedAdmin

from .models import DeadlineRule, FeeSchedule


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(AuditedAdmin):
    list_display = (
        "requester_type",
        "state",
        "profile",
        "days",
        "extension_days",
        "rule",
    )
    list_filter = ("profile", "state", "requester_type")


@admin.register(FeeSchedule)
class FeeScheduleAdmin(AuditedAdmin):
    list_display = ("name", "code", "state", "electronic_flat_cents", "search_fee_cents",
                    "retrieval_fee_cents", "active", "rule")  # fmt: skip
    list_filter = ("active", "state")
    search_fields = ("name", "code")
