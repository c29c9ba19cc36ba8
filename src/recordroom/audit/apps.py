from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "recordroom.audit"
    label = "audit"
    verbose_name = "Audit trail"
