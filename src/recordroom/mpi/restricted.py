"""Whole-chart sensitivity: the labels a patient's flags put on the entire chart (a VIP,
a restricted chart), and the check that opening such a chart needs."""

from __future__ import annotations

from typing import Any

from recordroom.accounts.labels import require_read

from .models import Patient

# Whole-chart labels and the patient flag each comes from.
CHART_FLAGS = (("VIP", "is_vip"), ("RESTRICTED", "is_restricted"))


def chart_labels(patient: Patient) -> list[str]:
    return [code for code, flag in CHART_FLAGS if getattr(patient, flag)]


def require_chart_labels(user: Any, patient: Patient) -> dict[str, Any]:
    """The chart read's audit detail, or PermissionDenied naming the chart's label
    (VIP, restricted) when the user holds no grant or break-the-glass for it."""
    return require_read(
        user, chart_labels(patient), what="this chart", patient_id=patient.pk
    ).audit()
