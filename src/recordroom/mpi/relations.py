"""What belongs to a patient, app by app. Every app whose rows point at a patient
registers them here (in its AppConfig.ready), so a merge moves every one of them
and an unmerge puts exactly those back; an app that forgets is caught by a test
that looks for unregistered foreign keys to Patient."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class Relation:
    model: type[models.Model]
    field: str = "patient"  # the foreign key to mpi.Patient
    # (foreign key, label of a registered model): these rows go where that row
    # goes when a chart is split (a visit's documents go with the visit).
    follows: tuple[str, str] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower


_RELATIONS: dict[str, Relation] = {}
# Rows that record what happened to a patient and stay as they were (a log).
_KEPT: dict[str, str] = {}


def register(
    model: type[models.Model],
    field: str = "patient",
    follows: tuple[str, str] | None = None,
) -> None:
    """Rows of `model` move with their patient in a merge (and, with `follows`,
    with the row they belong to in a split)."""
    relation = Relation(model, field, follows)
    _RELATIONS[relation.label] = relation


def keep(model: type[models.Model], why: str) -> None:
    """Rows of `model` stay with the record they were written for (logs, history)."""
    _KEPT[model._meta.label_lower] = why


def relations() -> list[Relation]:
    return list(_RELATIONS.values())


def kept() -> dict[str, str]:
    return dict(_KEPT)
