"""Synthetic population generator with ground truth (deterministic by seed).

Other apps use: `load_demo`, `DemoSummary`, `create_demo_users`, `DEMO_PASSWORD`.

`load_demo` writes `<data dir>/demo/ground-truth.csv`, one row per patient record:
`patient_id,person_id,mrn,facility,relation`. Records sharing a person_id are one
person; `relation` is `original`, `twin` (a twin: another person with the same
surname, birth date and address), or `duplicate:<error>` for a second registration
of the same person, where the error is typo, nickname, transposed-dob,
surname-change, swapped-names or missing-fields. `mrn` and `facility` are the
record's first MRN; people seen at both facilities have an MRN at each.

Everything is synthetic: names from Faker and curated lists, SSNs in the 900-999
area (never issued), phone numbers in the (all but unassigned) 555 exchange, e-mail
at example.* domains.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loader import DemoSummary, load_demo
    from .users import DEMO_PASSWORD, create_demo_users

__all__ = ["DEMO_PASSWORD", "DemoSummary", "create_demo_users", "load_demo"]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package must not need Django set up (the CLI imports it
    # before configuring settings).
    if name in ("DemoSummary", "load_demo"):
        from . import loader

        return getattr(loader, name)
    if name in ("DEMO_PASSWORD", "create_demo_users"):
        from . import users

        return getattr(users, name)
    raise AttributeError(f"module 'recordroom.demo' has no attribute {name!r}")
