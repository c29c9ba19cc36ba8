"""Admin for providers, organizations and document types (configuration, not PHI)."""

from django.contrib import admin

from recordroom.accounts.admin import AuditedAdmin

from .models import DocumentType, Organization, Provider


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ("family", "given", "credentials", "npi", "specialty", "active")
    search_fields = ("family", "given", "npi")
    list_filter = ("active", "specialty")
    filter_horizontal = ("facilities",)


@admin.register(DocumentType)
class DocumentTypeAdmin(AuditedAdmin):
    list_display = (
        "display",
        "code",
        "system",
        "category",
        "requires_signature",
        "active",
    )
    list_filter = ("category", "active")
    search_fields = ("display", "code")


@admin.register(Organization)
class OrganizationAdmin(AuditedAdmin):
    """Link an organization to one of our facilities so that visits sent with it
    as serviceProvider are filed there."""

    list_display = ("name", "npi", "kind", "facility", "active")
    search_fields = ("name", "npi")
    list_filter = ("active", "kind")
