"""The conditions of a patient search, exact or tolerant of how registrars mistype
(a surname that sounds alike, a nickname, day and month swapped, an MRN with or
without its leading zeros), and the words that say why a tolerant match matched."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from recordroom.kernel.text import prefix_upper_bound, search_key

from .models import IdentifierKind, PatientIdentifier, PatientName
from .search_keys import formal_of, nickname_family, sound_key, swapped, zero_variants
from .services import identifier_lookup

if TYPE_CHECKING:
    from .search import PatientHit, PatientQuery

MIN_SOUND = 3  # letters a typed surname needs before its sound is searched


def name_readings(text: str) -> list[tuple[str, str]]:
    """(family, given) readings of a typed name: 'garcia, maria' is one; 'maria
    garcia' may be given + family or the reverse; 'garc' a family prefix."""
    if "," in text:
        family, _, given = text.partition(",")
        readings = [(search_key(family), search_key(given))]
    else:
        words = search_key(text).split()
        if not words:
            return []
        if len(words) == 1:
            readings = [(words[0], "")]
        else:
            readings = [(" ".join(words[1:]), words[0]),
                        (" ".join(words[:-1]), words[-1])]  # fmt: skip
    return [(f, g) for f, g in readings if f]


def _prefix(column: str, key: str) -> tuple[str, list[Any]]:
    return f"n.{column} >= %s AND n.{column} < %s", [key, prefix_upper_bound(key)]


def reading_terms(
    family: str, given: str, *, tolerant: bool
) -> list[tuple[str, list[Any]]]:
    """Alternatives (each one index range or lookup on the name row `n`, as SQL and
    its parameters) for one reading."""
    families = [_prefix("family_key", family)]
    sound = sound_key(family) if tolerant and len(family) >= MIN_SOUND else ""
    if sound:
        families.append(("n.family_sound = %s", [sound]))
    if not given:
        return families
    givens = [_prefix("given_key", given)]
    nicks = sorted(nickname_family(given)) if tolerant else []
    if nicks:
        givens.append((f"n.given_key IN ({', '.join(['%s'] * len(nicks))})", nicks))
    return [(f"{f} AND {g}", [*fp, *gp]) for f, fp in families for g, gp in givens]


def birth_dates(day: date | None, *, tolerant: bool) -> list[date]:
    """The birth dates searched: the typed one, and tolerant its day/month swap."""
    if day is None:
        return []
    other = swapped(day) if tolerant else None
    return [day, other] if other else [day]


def identifier_keys(typed: str, *, tolerant: bool) -> list[str]:
    key = identifier_lookup(typed)
    return [key, *zero_variants(key)] if tolerant else [key]


# --- why it matched ------------------------------------------------------------------


def reasons_for(hit: PatientHit, query: PatientQuery) -> list[str]:
    """What a tolerant match differs in from what was typed, in plain words."""
    out: list[str] = []
    if query.name.strip():
        out += _name_reasons(hit.names, name_readings(query.name))
    born = hit.patient.birth_date
    if query.birth_date and born and born != query.birth_date:
        out.append(f"birth date day/month swapped ({born:%Y-%m-%d} on file, "
                   f"{query.birth_date:%Y-%m-%d} typed)")  # fmt: skip
    if query.identifier.strip():
        out += _identifier_reasons(hit, query.identifier)
    return out or ["close match"]


def _name_reasons(
    names: list[PatientName], readings: list[tuple[str, str]]
) -> list[str]:
    best: list[str] | None = None
    for name in names:
        for family, given in readings:
            found = _reading_reasons(name, family, given)
            if found is not None and (best is None or len(found) < len(best)):
                best = found
    return best or []


def _reading_reasons(name: PatientName, family: str, given: str) -> list[str] | None:
    """Why `name` matches a reading tolerantly ([] exactly), None if it does not."""
    out = []
    if not name.family_key.startswith(family):
        if not (len(family) >= MIN_SOUND and name.family_sound == sound_key(family)):
            return None
        out.append(f"{name.family} sounds like {family.title()}")
    if given and not name.given_key.startswith(given):
        if name.given_key not in nickname_family(given):
            return None
        formal = formal_of(name.given_key, given)
        nick = given if formal == name.given_key else name.given_key
        out.append(f"{nick.title()} is a nickname of {formal.title()}")
    return out


def _identifier_reasons(hit: PatientHit, typed: str) -> list[str]:
    key = identifier_lookup(typed)
    held = PatientIdentifier.objects.filter(
        patient=hit.patient, lookup__in=identifier_keys(typed, tolerant=True)
    ).exclude(kind=IdentifierKind.SSN)
    values = list(held.values_list("value", "lookup"))
    if not values or any(lookup == key for _, lookup in values):
        return []
    value, lookup = values[0]
    how = "without" if len(key) < len(lookup) else "with extra"
    return [f"MRN {value} typed {how} leading zeros ({typed.strip()})"]


def address_and_phone(ids: list[Any]) -> tuple[dict[Any, str], dict[Any, str]]:
    """Each patient's current address and phone, to tell namesakes apart (plain SQL,
    kernel.sqlrows: the ORM's building of these two spent more CPU than the search)."""
    from recordroom.kernel import sqlrows

    from .models import PatientAddress, PatientTelecom

    out: list[dict[Any, str]] = []
    for model, extra in (
        (PatientAddress, ""),
        (PatientTelecom, " AND \"system\" = 'phone'"),
    ):
        marks = ", ".join(["%s"] * len(ids))
        rows = sqlrows.fetch(
            f"SELECT {sqlrows.columns(model)} FROM {model._meta.db_table} "  # noqa: S608
            f"WHERE patient_id IN ({marks}) AND period_end IS NULL{extra} "
            "ORDER BY period_start DESC",
            [sqlrows.param(model, "patient_id", pk) for pk in ids],
            model,
        )
        found: dict[Any, str] = {}
        for (row,) in rows:
            found.setdefault(row.patient_id, row.value if model is PatientTelecom
                             else str(row))  # fmt: skip
        out.append(found)
    return out[0], out[1]
