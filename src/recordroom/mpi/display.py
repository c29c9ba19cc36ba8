"""Names people read for the index's internals: identifier systems, match evidence.

One mapping for every staff page: a raw system URI, a comparison's code name or a
level's technical label is shown in words (DESIGN.md rule 11); codes stay in the
data, the API and the audit trail.
"""

from __future__ import annotations

import re
from typing import Any

# Identifier systems every installation meets (FHIR's US identifier systems and
# their OIDs); a facility's MRN system is named after the facility instead.
KNOWN_SYSTEMS = {
    "http://hl7.org/fhir/sid/us-ssn": "SSN",
    "urn:oid:2.16.840.1.113883.4.1": "SSN",
    "http://hl7.org/fhir/sid/us-npi": "NPI",
    "urn:oid:2.16.840.1.113883.4.6": "NPI",
    "http://hl7.org/fhir/sid/us-medicare": "Medicare",
    "http://hl7.org/fhir/sid/us-mbi": "Medicare",
    "urn:oid:2.16.840.1.113883.4.3.25": "Driver's licence",
    "http://hl7.org/fhir/sid/passport-USA": "US passport",
}

COMPARISONS = {
    "prior": "Starting likelihood",
    "given_name": "Given name",
    "family_name": "Surname",
    "birth_date": "Date of birth",
    "sex": "Sex",
    "ssn": "SSN",
    "phone": "Phone",
    "email": "E-mail",
    "address": "Address",
    "identifiers": "Other identifiers",
    "multiple_birth": "Twins check",
    "generation": "Jr./Sr. check",
}

OVERLAY_KINDS = {
    "two-ssns": "Two SSNs",
    "identity-rewrite": "Identity rewritten by an update",
    "care-after-death": "Care after death",
    "care-before-birth": "Care before birth",
    "two-births": "Two births",
    "sex-conflicting-care": "Care that conflicts with the recorded sex",
    "wrong-auto-link": "Automatic link judged wrong",
}

# Level labels that name the string metric: said in words.
_LEVELS = {
    "close (Jaro-Winkler >= 0.92)": "spelled almost the same",
    "similar (Jaro-Winkler >= 0.80)": "spelled similarly",
}
_TECHNICAL = re.compile(r"\s*\((?:Jaro|Levenshtein|OSA|Soundex|Metaphone)[^)]*\)")


def system_label(system: str, facility: Any = None) -> str:
    """A readable name for an identifier's assigning system.

    "MRN (NORTH)" for a facility's MRNs, "SSN" for the US SSN system, a payer's
    name from the last part of its URI (urn:...:payer:lakeshore-health-plan ->
    "Lakeshore Health Plan"), else "another system".
    """
    if facility is not None:
        return f"MRN ({facility.code})"
    if system in KNOWN_SYSTEMS:
        return KNOWN_SYSTEMS[system]
    tail = re.split(r"[:/#]", system.rstrip(":/#"))[-1] if system else ""
    if tail and not tail.replace(".", "").isdigit():  # a word, not an OID's number
        return " ".join(w.capitalize() for w in re.split(r"[-_]+", tail) if w)
    return "another system"


def comparison_label(name: str) -> str:
    """A comparison's name in words ("birth_date" -> "Date of birth")."""
    return COMPARISONS.get(name) or name.replace("_", " ").capitalize()


def level_label(label: str) -> str:
    """A comparison level in words, without the metric's name or the prior's λ."""
    if label.startswith("λ = "):
        return f"{label[4:]} of pairs compared are the same person"
    return _LEVELS.get(label) or _TECHNICAL.sub("", label)


def overlay_kind_label(kind: str) -> str:
    """An overlay flag's kind in words ("two-ssns" -> "Two SSNs")."""
    return (
        OVERLAY_KINDS.get(kind) or kind.replace("-", " ").replace("_", " ").capitalize()
    )


def identifier_label(ident: Any) -> str:
    """An identifier as staff read it: "MRN N100123 (NORTH)", "SSN ***-**-1234",
    "Insurance member id LHP5 (Lakeshore Health Plan)"."""
    kind = "MRN" if ident.kind == "MR" else ident.get_kind_display()
    if ident.facility is not None:
        return f"{kind} {ident.value} ({ident.facility.code})"
    where = system_label(ident.system)
    if where == kind or where == "another system":
        return f"{kind} {ident.value}"
    return f"{kind} {ident.value} ({where})"
