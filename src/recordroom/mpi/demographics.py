"""The US Core demographics a patient carries (mpi.models.US_CORE_FIELDS) in words,
for the chart's demographics section."""

from __future__ import annotations

from typing import Any


def demographics_summary(p: Any) -> list[tuple[str, str]]:
    """Label and text of each demographic kept, for the chart's identity section."""
    rows = []
    for label, value in (("Race", p.race), ("Ethnicity", p.ethnicity)):
        if value:
            names = [c.get("display") or c["code"] for c in value.get("ombCategory", [])
                     + value.get("detailed", [])]  # fmt: skip
            rows.append((label, value.get("text") or ", ".join(names)))
    if p.birth_sex:
        rows.append(("Birth sex", {"F": "Female", "M": "Male", "ASKU": "Asked but "
                     "declined", "UNK": "Unknown", "OTH": "Other"}[p.birth_sex]))  # fmt: skip
    if p.marital_status:
        rows.append(("Marital status", _concept_text(p.marital_status)))
    for c in p.communication or []:
        text = _concept_text(c["language"])
        rows.append(("Language", f"{text} (preferred)" if c.get("preferred") else text))
    if p.birth_order:
        rows.append(("Multiple birth", f"yes, born {p.birth_order}"))
    elif p.multiple_birth is not None:
        rows.append(("Multiple birth", "yes" if p.multiple_birth else "no"))
    if p.deceased_at or p.deceased_date or p.deceased:
        when = p.deceased_at or p.deceased_date
        rows.append(("Deceased", f"{when:%Y-%m-%d %H:%M} UTC" if p.deceased_at
                     else str(when) if when else "yes (date not known)"))  # fmt: skip
    return rows


MARITAL = {"A": "Annulled", "D": "Divorced", "I": "Interlocutory",
           "L": "Legally separated", "M": "Married", "C": "Common law",
           "P": "Polygamous", "T": "Domestic partner", "U": "Unmarried",
           "S": "Never married", "W": "Widowed", "UNK": "Unknown"}  # fmt: skip


def _concept_text(cc: dict[str, Any]) -> str:
    codings = cc.get("coding") or [{}]
    first = codings[0]
    code = first.get("code", "")
    display = first.get("display", "")
    if "MaritalStatus" in first.get("system", "") and (not display or display == code):
        display = MARITAL.get(code, display)
    return display or cc.get("text") or code
