"""Admin for the query templates (configuration, no PHI): each change is audited
(AuditedAdmin) and bumps the template's version, which every query keeps. A template
is never deleted: make it inactive."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from recordroom.accounts.admin import AuditedAdmin

from .models import QueryTemplate


@admin.register(QueryTemplate)
class QueryTemplateAdmin(AuditedAdmin):
    list_display = ("name", "code", "format", "purpose", "yes_no_ground", "version",
                    "active")  # fmt: skip
    list_filter = ("format", "purpose", "active")
    search_fields = ("code", "name", "question")
    readonly_fields = ("version",)

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        if change and form.changed_data:
            obj.version += 1
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # queries name the template they came from: make it inactive
