"""Admin for facilities (patients are changed through services, never the admin)."""

from django.contrib import admin

from recordroom.accounts.admin import AuditedAdmin

from .models import Facility


@admin.register(Facility)
class FacilityAdmin(AuditedAdmin):
    list_display = ("code", "name", "timezone", "mrn_system")
    search_fields = ("code", "name")
    filter_horizontal = ("members",)
