"""Where a patient lives and how to reach them, as PID sends it: addresses (PID-11,
any country, with their type), home phones and e-mail (PID-13) and business phones
(PID-14). What cannot be stored as sent is refused naming the field, never dropped."""

from __future__ import annotations

from typing import Any

from recordroom.mpi.postal import country_code, us_state_code

from .nulls import clean
from .parser import Hl7Error, Segment, component, unescape

# HL7 table 0190 (address type, PID-11.7) -> FHIR Address.use
ADDRESS_USE = {
    "H": "home",  # home
    "P": "home",  # permanent
    "L": "home",  # legal
    "M": "home",  # mailing (FHIR type postal)
    "N": "home",  # birth (nee)
    "BR": "home",  # residence at birth
    "BDL": "home",  # birth delivery location
    "F": "home",  # country of origin
    "RH": "home",  # registry home
    "SH": "home",  # shipping (FHIR type postal)
    "B": "work",  # firm/business
    "O": "work",  # office/business
    "TM": "work",  # tube address
    "C": "temp",  # current or temporary
    "V": "temp",  # vacation
    "BA": "old",  # bad address
    "BI": "billing",  # billing
}
# the words some senders write for the codes
ADDRESS_WORDS = {"HOME": "H", "MAILING": "M", "MAIL": "M", "BUSINESS": "B",
                 "WORK": "B", "OFFICE": "O", "TEMPORARY": "C", "CURRENT": "C",
                 "PERMANENT": "P", "LEGAL": "L", "BILLING": "BI", "VACATION": "V"}  # fmt: skip
# XTN-2 telecommunication use code (table 0201) -> FHIR ContactPoint.use
PHONE_USE = {"WPN": "work", "ORN": "mobile", "VHN": "temp"}
# XTN-3 equipment type (table 0202) -> FHIR ContactPoint.system
EQUIPMENT = {"FX": "fax", "BP": "pager", "Internet": "email", "X.400": "email"}


def addresses(pid: Segment) -> list[dict[str, Any]]:
    """PID-11's repetitions as addresses; an empty repetition is skipped.

    Raises:
        Hl7Error: a country, a US state or an address type we do not know, or a
            postal code longer than any country's.
    """
    out = []
    for rep in pid.reps(11):
        parts = [clean(component(rep, c, pid.enc)) for c in range(1, 8)]
        _, line2, city, state, postal, country, kind = parts
        kind = ADDRESS_WORDS.get(kind.upper(), kind.upper())
        street = rep.split(pid.enc.component)[0].split(pid.enc.subcomponent)
        street = [clean(unescape(p, pid.enc).strip()) for p in street]
        line1 = " ".join(s for s in street if s)
        if not any((line1, line2, city, state, postal)):
            continue
        code = _country(country)
        out.append(
            {
                "use": _use(kind),
                "type_code": kind,
                "line1": line1[:200],
                "line2": line2[:200],
                "city": city[:100],
                "state": _state(state) if code == "US" else state[:100],
                "postal_code": _postal(postal),
                "country": code,
            }
        )
    return out


def _country(text: str) -> str:
    if not text:
        return "US"  # the sender's own country: our installations are in the US
    code = country_code(text)
    if code is None:
        raise Hl7Error(
            f"PID-11.6 country {text!r} is not an ISO 3166 country; send its "
            "alpha-3 or alpha-2 code (USA, CAN, GBR) or its English name",
            "PID-11",
            "103",
        )
    return code


def _state(text: str) -> str:
    if not text:
        return ""
    code = us_state_code(text)
    if code is None:
        raise Hl7Error(
            f"PID-11.4 state {text!r} is not a US state or territory; send its "
            "two-letter code (IL) or its name (Illinois), or PID-11.6 the country "
            "of an address outside the US",
            "PID-11",
            "103",
        )
    return code


def _postal(text: str) -> str:
    if len(text) > 20:
        raise Hl7Error(
            f"PID-11.5 postal code {text!r} is longer than 20 characters",
            "PID-11",
            "102",
        )
    return text


def _use(kind: str) -> str:
    if not kind:
        return "home"
    if kind not in ADDRESS_USE:
        raise Hl7Error(
            f"PID-11.7 address type {kind!r} is not in HL7 table 0190; use one of "
            f"{', '.join(sorted(ADDRESS_USE))}",
            "PID-11",
            "103",
        )
    return ADDRESS_USE[kind]


def telecoms(pid: Segment, n: int) -> list[dict[str, Any]]:
    """PID-13 (home: phones, mobiles, e-mail) or PID-14 (business: every entry
    is a work one) as contact points; an empty repetition is skipped."""
    enc = pid.enc
    out = []
    for rep in pid.reps(n):
        comps = [clean(component(rep, c, enc)) for c in range(1, 9)]
        legacy, use_code, equipment, email, country, area, local, extension = comps
        system = EQUIPMENT.get(equipment, "phone")
        use = "work" if n == 14 else PHONE_USE.get(use_code, "home")
        if equipment == "CP" and n == 13:
            use = "mobile"
        if system == "email" or use_code == "NET":
            if email or legacy:
                out.append({"system": "email", "use": use, "value": email or legacy})
            continue
        number = legacy or f"{area}{local}"
        if number and country and not legacy:
            number = f"+{country.lstrip('+')} {number}"
        if number and extension:
            number = f"{number} x{extension}"
        if number:
            out.append({"system": system, "use": use, "value": number[:200]})
    return out
