"""Sensitivity labels (HL7 v3 ActCode security labels, DESIGN.md security model).

Labels ride on documents and encounters; they drive who may see and what may be
released under which consent (later issues). Declared once here as data.
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
BY_CODE = {label.code: label for label in LABELS}


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
