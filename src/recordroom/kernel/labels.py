"""Sensitivity labels (HL7 v3 ActCode security labels, DESIGN.md security model).

Labels ride on documents and encounters; chart labels ride on a whole chart (a VIP or
restricted patient). They drive who may read (accounts.labels, R-MIN-3) and what may be
released under which consent (release.gates). Declared once here as data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    code: str
    display: str
    rule: str  # where RULES.md says why it is special


LABELS: tuple[Label, ...] = (
    Label("ETH", "Substance abuse information (42 CFR Part 2)", "R-P2"),
    Label("SUD", "Substance use disorder information (42 CFR Part 2)", "R-P2"),
    Label("PSY", "Psychiatry information", "R-STATE-2"),
    Label("MH", "Mental health information", "R-STATE-2"),
    Label("PSYTHPN", "Psychotherapy note", "R-PN"),
    Label("HIV", "HIV/AIDS information", "R-STATE-2"),
    Label("STD", "Sexually transmitted disease information", "R-STATE-2"),
    Label("GDIS", "Genetic disease information", "R-STATE-2"),
    Label("SDV", "Sexual assault, abuse or domestic violence", "R-STATE-2"),
    Label("SEX", "Sexuality and reproductive health information", "R-STATE-2"),
    Label("MINCC", "Minor's confidential care", "R-STATE-2"),
)
# Whole-chart labels, from the patient's VIP and restricted flags: never on a document.
CHART_LABELS: tuple[Label, ...] = (
    Label("VIP", "VIP chart", "R-SEC-1"),
    Label("RESTRICTED", "Restricted chart", "R-SEC-1"),
)
BY_CODE = {label.code: label for label in LABELS}
ALL_BY_CODE = {label.code: label for label in (*LABELS, *CHART_LABELS)}


def plain(code: str) -> str:
    """A label in plain words (its display), or the code itself when unknown."""
    label = ALL_BY_CODE.get(code)
    return label.display if label else code


def check_labels(codes: list[str] | tuple[str, ...]) -> list[str]:
    """Return the codes sorted and de-duplicated, refusing unknown ones by name."""
    from .errors import ValidationFailed

    unknown = sorted(set(codes) - BY_CODE.keys())
    if unknown:
        raise ValidationFailed(
            f"unknown sensitivity label(s) {', '.join(unknown)}; known: "
            + ", ".join(BY_CODE),
            field="sensitivity",
        )
    return sorted(set(codes))
