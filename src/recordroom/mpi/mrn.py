"""MRN assignment: a facility numbers its own patients from a sequence (zero padded,
with an optional prefix and check digit), or takes its MRNs from another system
(then they are typed or sent, and checked)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from django.db import transaction
from django.db.models import F

from recordroom.audit.services import record
from recordroom.kernel import actions
from recordroom.kernel.actor import Actor
from recordroom.kernel.errors import ValidationFailed

from .models import (
    Facility,
    IdentifierKind,
    MrnCheckDigit,
    MrnSource,
    PatientIdentifier,
)
from .services import IdentifierIn, PatientIn, identifier_lookup

MAX_WIDTH = 18  # digits a PositiveBigIntegerField sequence can fill
_PREFIX = re.compile(r"^[A-Z0-9]{0,10}$")


# --- check digits ----------------------------------------------------------------------


def luhn_digit(digits: str) -> str:
    """The Luhn (mod 10) check digit of a string of digits (ISO/IEC 7812-1 Annex B;
    the NPI's check digit is the same formula)."""
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = int(ch)
        if n % 2 == 0:  # every second digit from the right, the check's neighbour first
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def mod11_digit(digits: str) -> str | None:
    """The modulus 11 check digit as the NHS number computes it (weights 2, 3, 4 ...
    from the rightmost digit; 11 - remainder, 11 -> 0), or None where it would be 10:
    such a number is never issued."""
    total = sum(int(ch) * (n + 2) for n, ch in enumerate(reversed(digits)))
    check = (11 - total % 11) % 11
    return None if check == 10 else str(check)


def check_digit(scheme: str, digits: str) -> str | None:
    """'' for no scheme; None when this number cannot carry the scheme's digit."""
    if scheme == MrnCheckDigit.LUHN:
        return luhn_digit(digits)
    if scheme == MrnCheckDigit.MOD11:
        return mod11_digit(digits)
    return ""


def format_mrn(facility: Facility, number: int) -> str | None:
    """The MRN the facility's settings make of a sequence number (None: the number
    cannot carry the check digit and is skipped)."""
    digits = str(number).zfill(facility.mrn_width)
    check = check_digit(facility.mrn_check_digit, digits)
    if check is None:
        return None
    return f"{facility.mrn_prefix}{digits}{check}"


def validate_mrn(facility: Facility, value: str) -> str:
    """A typed or sent MRN checked against the facility's check-digit scheme.

    Raises:
        ValidationFailed: no value, or its check digit is wrong (a mistyped digit).
    """
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(
            f"an MRN is required: {facility.code} takes its MRNs from another system; "
            "type the number that system gave",
            field="identifiers.value",
        )
    scheme = facility.mrn_check_digit
    if scheme == MrnCheckDigit.NONE:
        return value
    key = identifier_lookup(value)
    body = key.removeprefix(facility.mrn_prefix.upper())
    digits, given = body[:-1], body[-1:]
    if not (digits.isdigit() and given.isdigit()):
        raise ValidationFailed(
            f"MRN {value!r} is not {facility.mrn_prefix or ''}digits and a check "
            f"digit, as {facility.code}'s MRNs are",
            field="identifiers.value",
        )
    if check_digit(scheme, digits) != given:
        label = MrnCheckDigit(scheme).label
        raise ValidationFailed(
            f"MRN {value!r} fails its {label} check digit: a digit is mistyped or "
            "swapped; check the number",
            field="identifiers.value",
        )
    return value


# --- the sequence ------------------------------------------------------------------------


def next_mrn(facility: Facility) -> str:
    """Take the facility's next MRN, in the caller's transaction.

    The UPDATE comes first, so the row is locked (PostgreSQL) or the database is
    (SQLite, whose write transactions begin IMMEDIATE here) before the number is read:
    two registrations at once never get one number. Numbers already held (loaded
    from an earlier system) and numbers the check digit cannot carry are skipped.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("next_mrn runs inside the registration's transaction")
    rows = Facility.objects.filter(pk=facility.pk)
    for _ in range(1000):
        rows.update(mrn_next=F("mrn_next") + 1)
        number = rows.values_list("mrn_next", flat=True).get() - 1
        if len(str(number)) > facility.mrn_width:
            raise ValidationFailed(
                f"{facility.code}'s MRN sequence is past {facility.mrn_width} digits "
                f"({number}); an administrator widens it (recordroom facility mrn "
                f"{facility.code} --width N)",
                field="identifiers.value",
            )
        value = format_mrn(facility, number)
        if value is None:
            continue
        taken = PatientIdentifier.objects.filter(
            kind=IdentifierKind.MRN, system=facility.mrn_system,
            lookup=identifier_lookup(value),
        ).exists()  # fmt: skip
        if not taken:
            return value
    raise ValidationFailed(
        f"{facility.code}: the next 1000 MRNs are all taken; set the sequence past "
        "the numbers in use (recordroom facility mrn --next N)",
        field="identifiers.value",
    )


# --- registrations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A registration with the MRNs still to assign taken out: `data` is what is
    matched; `facility` is where a number is to be assigned (None: none)."""

    data: PatientIn
    facility: Facility | None


def to_assign(facility: Facility) -> IdentifierIn:
    """The MRN a registration at a facility that assigns its own asks for."""
    return IdentifierIn(kind=IdentifierKind.MRN, value="", facility=facility)


def prepare(data: PatientIn) -> Pending:
    """Check each MRN of a registration against its facility's settings.

    An MRN without a value at a facility that assigns its own is to be assigned; at
    a facility whose MRNs come from another system it is refused. A typed MRN is
    checked against the facility's check digit.

    Raises:
        ValidationFailed: as validate_mrn.
    """
    kept: list[IdentifierIn] = []
    assign_at: Facility | None = None
    for ident in data.identifiers:
        facility = ident.facility
        if ident.kind != IdentifierKind.MRN or facility is None:
            kept.append(ident)
        elif not ident.value.strip() and facility.mrn_source == MrnSource.HERE:
            assign_at = assign_at or facility
        else:
            kept.append(replace(ident, value=validate_mrn(facility, ident.value)))
    return Pending(replace(data, identifiers=kept), assign_at)


def assign(pending: Pending) -> list[IdentifierIn]:
    """The assigned MRN as an identifier (none when nothing is to be assigned)."""
    if pending.facility is None:
        return []
    value = next_mrn(pending.facility)
    return [IdentifierIn(kind=IdentifierKind.MRN, value=value,
                         facility=pending.facility)]  # fmt: skip


# --- settings ------------------------------------------------------------------------------


SETTINGS = ("mrn_source", "mrn_next", "mrn_width", "mrn_prefix", "mrn_check_digit")


def describe(facility: Facility) -> dict[str, Any]:
    """The MRN settings, with the next number as it will be issued."""
    out: dict[str, Any] = {k: getattr(facility, k) for k in SETTINGS}
    out["next_value"] = (
        format_mrn(facility, facility.mrn_next)
        if facility.mrn_source == MrnSource.HERE else None
    )  # fmt: skip
    return out


def set_mrn_settings(
    *, actor: Actor, facility: Facility, changes: dict[str, Any]
) -> Facility:
    """Change a facility's MRN settings, audited with before and after.

    Raises:
        ValidationFailed: an unknown setting or value, a width outside 1-18, a prefix
            that is not letters and digits, or a next number that is not positive.
    """
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise ValidationFailed(f"unknown MRN setting {', '.join(sorted(unknown))}; "
                               f"known: {', '.join(SETTINGS)}")  # fmt: skip
    new = {**{k: getattr(facility, k) for k in SETTINGS}, **changes}
    if new["mrn_source"] not in MrnSource.values:
        raise ValidationFailed(f"MRN source {new['mrn_source']!r} is neither "
                               "'here' nor 'external'", field="mrn_source")  # fmt: skip
    if new["mrn_check_digit"] not in MrnCheckDigit.values:
        raise ValidationFailed(
            f"check digit {new['mrn_check_digit']!r} is not one of "
            f"{', '.join(MrnCheckDigit.values)}", field="mrn_check_digit")  # fmt: skip
    if not 1 <= int(new["mrn_width"]) <= MAX_WIDTH:
        raise ValidationFailed(f"MRN width {new['mrn_width']} is not between 1 and "
                               f"{MAX_WIDTH} digits", field="mrn_width")  # fmt: skip
    new["mrn_prefix"] = str(new["mrn_prefix"]).strip().upper()
    if not _PREFIX.match(new["mrn_prefix"]):
        raise ValidationFailed(f"MRN prefix {new['mrn_prefix']!r} is not up to 10 "
                               "letters and digits", field="mrn_prefix")  # fmt: skip
    if int(new["mrn_next"]) < 1:
        raise ValidationFailed(f"the next MRN number must be 1 or more, got "
                               f"{new['mrn_next']}", field="mrn_next")  # fmt: skip
    before = {k: getattr(facility, k) for k in SETTINGS}
    with transaction.atomic():
        for key, value in new.items():
            setattr(facility, key, value)
        facility.save(update_fields=list(SETTINGS))
        record(actor=actor, action=actions.FACILITY_MRN_SETTINGS.name, obj=facility,
               detail={"facility": facility.code, "before": before,
                       "after": {k: getattr(facility, k) for k in SETTINGS}})  # fmt: skip
    return facility
