"""National Provider Identifier check digit (Luhn over the NPI prefixed with 80840)."""

from __future__ import annotations


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def npi_problem(npi: str) -> str | None:
    """None when `npi` is a valid NPI, else the reason it is not."""
    if len(npi) != 10 or not (npi.isascii() and npi.isdigit()):
        return f"an NPI is 10 digits, got {npi!r}"
    if npi[0] not in "12":
        return f"an NPI starts with 1 or 2, got {npi!r}"
    if not luhn_ok("80840" + npi):
        return f"NPI {npi} fails its check digit (last digit should be {npi_check_digit(npi[:9])})"
    return None


def npi_check_digit(first_nine: str) -> str:
    for d in "0123456789":
        if luhn_ok("80840" + first_nine + d):
            return d
    raise ValueError(first_nine)
