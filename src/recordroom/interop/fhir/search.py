"""FHIR search parameters as declarations, and a search's query string applied to a
queryset through them: modifiers (:missing :exact :contains :Type), chains
(patient.identifier, subject:Patient.family), and refusal of what is not declared
unless the client asked for lenient handling. The CapabilityStatement reads the same
declarations, so it cannot list a parameter the parser refuses, or the reverse."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from .dates import Invalid

if TYPE_CHECKING:
    from .registry import ResourceType

# Each filter: (queryset, value, param name, user) -> queryset.
Filter = Callable[[QuerySet[Any], str, str, Any], QuerySet[Any]]

# Parameters about the result, not the resources; accepted for every type.
# `_totalMethod=count` is how fhirpy's count() asks for the total.
RESULT_PARAMS = ("_count", "_after", "_format", "_include", "_revinclude", "_total",
                 "_totalMethod", "_summary")  # fmt: skip


@dataclass(frozen=True)
class SearchParam:
    """One search parameter of a type: its FHIR type and its filter, with what it
    supports beyond the plain form."""

    type: str  # FHIR search parameter type: token, string, date, reference, ...
    apply: Filter
    missing: Q | None = None  # rows with no value (`:missing=true`)
    target: str | None = None  # a reference's type: chains and `:Type`
    column: str | None = None  # a reference's column, for chains
    exact: Filter | None = None  # string `:exact`
    contains: Filter | None = None  # string `:contains`

    @property
    def modifiers(self) -> list[str]:
        return [name for name, there in (("missing", self.missing),
                ("exact", self.exact), ("contains", self.contains),
                (self.target or "", self.target)) if there is not None]  # fmt: skip


class Unsupported(Invalid):
    """A parameter, modifier or chain this server does not search by."""


def declare(
    params: Mapping[str, Filter | SearchParam], types: Mapping[str, str],
    last_updated: SearchParam | None,
) -> dict[str, SearchParam]:  # fmt: skip
    """A type's parameters as SearchParams: a plain filter takes its FHIR type from
    `types`; `subject` comes with a `patient` that references Patient (FHIR defines
    both on the clinical types), and `_lastUpdated` wherever the type keeps one."""
    out: dict[str, SearchParam] = {}
    for name, p in params.items():
        if not isinstance(p, SearchParam) and name not in types:
            raise TypeError(f"search parameter {name!r} has no FHIR type: declare it "
                            "as a SearchParam, or name its type in PARAM_TYPES")  # fmt: skip
        out[name] = p if isinstance(p, SearchParam) else SearchParam(types[name], p)
    patient = out.get("patient")
    if patient is not None and patient.target == "Patient":
        out.setdefault("subject", patient)
    if last_updated is not None:
        out.setdefault("_lastUpdated", last_updated)
    return out


def narrow(
    rt: ResourceType, qs: QuerySet[Any], query: Any, user: Any, *, lenient: bool
) -> tuple[QuerySet[Any], list[tuple[str, str]], list[str]]:
    """`qs` narrowed by every search parameter of `query` (a QueryDict), the
    (parameter, value) pairs used, and those ignored (lenient handling only)."""
    used: list[tuple[str, str]] = []
    ignored: list[str] = []
    for key in query:
        if key in RESULT_PARAMS:
            continue
        try:
            for value in query.getlist(key):
                if value != "":
                    qs = apply(rt, qs, key, value, user)
                    used.append((key, value))
        except Unsupported:
            if not lenient:
                raise
            ignored.append(key)
            used = [(k, v) for k, v in used if k != key]
    return qs, used, ignored


def apply(
    rt: ResourceType, qs: QuerySet[Any], key: str, value: str, user: Any
) -> QuerySet[Any]:
    """One `key=value` of a search, on a queryset of `rt`; `a,b` matches either
    (`\\,` is a comma in a value)."""
    alternatives = [v.replace("\\,", ",") for v in _COMMA.split(value)]
    if len(alternatives) == 1:
        return _apply_one(rt, qs, key, alternatives[0], user)
    either = Q()
    for v in alternatives:
        matches = _apply_one(rt, qs.model.objects.all(), key, v, user)
        either |= Q(pk__in=matches.order_by().values("pk"))
    return qs.filter(either)


_COMMA = re.compile(r"(?<!\\),")


def _apply_one(
    rt: ResourceType, qs: QuerySet[Any], key: str, value: str, user: Any
) -> QuerySet[Any]:
    from .registry import REGISTRY

    head, _, chain = key.partition(".")
    name, _, modifier = head.partition(":")
    p = rt.search_params.get(name)
    if p is None:
        raise Unsupported(
            f"search parameter {name!r} is not supported for {rt.name}; supported: "
            f"{', '.join(rt.search_params)} (send 'Prefer: handling=lenient' to "
            "have unsupported parameters ignored)", field=key,
        )  # fmt: skip
    if modifier and modifier not in p.modifiers:
        raise Unsupported(
            f"modifier :{modifier} is not supported on {rt.name} {name}; supported: "
            f"{', '.join(':' + m for m in p.modifiers) or 'none'}", field=key,
        )  # fmt: skip
    if chain:
        if p.target is None or p.column is None or p.target not in REGISTRY:
            raise Unsupported(f"{rt.name} {name} cannot be chained ({key!r})",
                              field=key)  # fmt: skip
        target = REGISTRY[p.target]
        inner = _apply_one(target, target.queryset(user), chain, value, user)
        return qs.filter(**{f"{p.column}__in": inner.order_by().values("pk")})
    if modifier == "missing":
        if value not in ("true", "false"):
            raise Invalid(f"{key} must be true or false, not {value!r}", field=key)
        assert p.missing is not None
        return qs.filter(p.missing if value == "true" else ~p.missing)
    if modifier in ("exact", "contains"):
        f = p.exact if modifier == "exact" else p.contains
        assert f is not None
        return f(qs, value, key, user)
    return p.apply(qs, value, key, user)


def base_name(key: str) -> str:
    """`subject:Patient.family` -> `subject`."""
    return key.partition(".")[0].partition(":")[0]


# --- _revinclude -------------------------------------------------------------------


def revincludes(
    rt: ResourceType, values: Iterable[str], includes: dict[tuple[str, str], Any]
) -> list[tuple[str, str, str]]:
    """For each `_revinclude=Source:param`, (source type, param, column holding
    this type's id); refused by name when not among `includes` for this type."""
    out = []
    for value in values:
        source, _, param = value.partition(":")
        found = includes.get((source, param))
        if found is None or found[0] != rt.name:
            known = [f"{s}:{p}" for (s, p), (t, _) in includes.items() if t == rt.name]
            raise Unsupported(
                f"_revinclude={value!r} is not supported; for {rt.name}: "
                f"{', '.join(known) or 'none'}", field="_revinclude",
            )  # fmt: skip
        out.append((source, param, found[1]))
    return out
