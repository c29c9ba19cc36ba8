"""Code sets over the JSON API: search and look up ICD-10-CM and ICD-10-PCS codes.

Thin adapters over coding.search. Code sets are reference data, not PHI: any
signed-in user may read them and the reads are not audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from . import search as codes

router = Router(tags=["codes"])
ANY_USER = {"x-capability": "signed_in"}


class HitOut(Schema):
    system: str
    code: str
    display: str
    title: str
    kind: str
    billable: bool
    version: str


class SearchOut(Schema):
    query: str
    by: str = Field(description="code or words")
    versions: list[str]
    hits: list[HitOut]


class SearchIn(Schema):
    q: str = Field(
        description="a code (with or without its dot, or its start) or words"
    )
    system: str = Field("", description="icd10cm or icd10pcs; both by default")
    on: date | None = Field(None, description="the release in force on this date")
    limit: int = Field(25, ge=1, le=codes.MAX_LIMIT)
    billable: bool = Field(False, description="only codes that may be reported")


class DetailOut(Schema):
    system: str
    version: str
    code: str
    display: str
    title: str
    kind: str
    billable: bool
    status: str
    notes: dict[str, Any]
    inherited: list[dict[str, Any]]
    ancestors: list[dict[str, str]]
    children: list[dict[str, Any]]
    seventh_characters: dict[str, str]


@router.get("/codes/search", response=SearchOut, openapi_extra=ANY_USER)
def search(request: HttpRequest, params: Query[SearchIn]) -> Any:
    """Codes by code, words, partial words and synonyms, best first."""
    systems = (params.system,) if params.system else codes.SEARCHED
    return codes.search(
        params.q,
        on=params.on,
        systems=systems,
        limit=params.limit,
        billable_only=params.billable,
    )


@router.get("/codes/{code}", response=DetailOut, openapi_extra=ANY_USER)
def lookup(
    request: HttpRequest, code: str, on: date | None = None, system: str = ""
) -> Any:
    """One code with its notes, inherited notes, place in the tabular and whether it
    may be reported (R-COD-2)."""
    if system and system not in codes.SEARCHED:
        from recordroom.kernel.errors import ValidationFailed

        raise ValidationFailed(
            f"system: choose from {list(codes.SEARCHED)}", field="system"
        )
    return codes.lookup(code, on=on, system=system)
