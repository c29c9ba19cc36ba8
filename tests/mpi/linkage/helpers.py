"""Small tables of records for the engine's tests (no database needed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from recordroom.mpi.linkage.features import Table, TableBuilder
from recordroom.mpi.services import ssn_lookup


def table(*records: dict[str, Any]) -> Table:
    """Records as dicts: family, given, middle, suffix, dob, sex, ssn, phones,
    emails, address (line1, zip), history (list of previous family names)."""
    b = TableBuilder(len(records))
    for i, r in enumerate(records):
        b.person(i, f"r{i}", r.get("dob"), r.get("sex", "unknown"))
        b.name(i, family=r.get("family", ""), given=r.get("given", ""),
               middle=r.get("middle", ""), suffix=r.get("suffix", ""))  # fmt: skip
        for old in r.get("history", ()):
            b.name(i, family=old, given=r.get("given", ""), current_legal=False)
        if r.get("ssn"):
            digits = r["ssn"].replace("-", "")
            b.ssn(i, ssn_lookup(digits), digits[-4:])
        for phone in r.get("phones", ()):
            b.telecom(i, "phone", phone)
        for email in r.get("emails", ()):
            b.telecom(i, "email", email)
        if r.get("address"):
            line1, zip_code = r["address"]
            b.address(i, line1, "", zip_code, current=True)
    return b.build()


def pair_levels(model: Any, t: Table, comparison: str, a: int = 0, b: int = 1) -> str:
    """The label of the level pair (a, b) falls in for one comparison."""
    from recordroom.mpi.linkage.scoring import comparison_levels

    c = [comp.name for comp in model.comparisons].index(comparison)
    levels = comparison_levels(model, t, np.array([a]), np.array([b]))
    return model.comparisons[c].levels[int(levels[0, c])].label


DOB = date(1980, 4, 12)
