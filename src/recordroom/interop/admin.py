"""Admin for import runs and the quarantine (read-mostly: the raw input stays
encrypted in the blob store; an item is marked resolved once dealt with)."""

from django.contrib import admin

from recordroom.accounts.admin import AuditedAdmin

from .models import ImportRun, QuarantineItem


@admin.register(ImportRun)
class ImportRunAdmin(AuditedAdmin):
    list_display = ("started_at", "source", "started_by", "status", "finished_at")
    list_filter = ("status", "source")
    readonly_fields = ("started_at", "finished_at", "started_by", "source", "paths",
                       "status", "counts")  # fmt: skip

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(QuarantineItem)
class QuarantineItemAdmin(AuditedAdmin):
    list_display = ("received_at", "channel", "resource_type", "location", "reason",
                    "resolved")  # fmt: skip
    list_filter = ("resolved", "channel", "resource_type")
    search_fields = ("reason", "location", "source_id")
    readonly_fields = ("received_at", "run", "channel", "location", "resource_type",
                       "source_id", "reason", "expression", "raw_sha256", "raw_size")  # fmt: skip

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
