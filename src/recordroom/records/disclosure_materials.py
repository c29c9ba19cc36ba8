"""What must travel with a document when it is disclosed: an extension point
(DESIGN.md rule 6) that the release desk reads when it builds a packet and that
other apps register into (amendments: the request, denial, statement of
disagreement and rebuttal, R-AMD-6). The release desk never imports them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Material:
    """Pages to send with the named documents: a title for the packet's index, the
    PDF, and the documents it concerns (their ids as text)."""

    title: str
    pdf: bytes
    documents: tuple[str, ...]
    kind: str
    reference: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


class MaterialSource(Protocol):
    """Gives the materials that must go out with any of `document_ids`."""

    name: str

    def materials(self, *, document_ids: Iterable[Any]) -> list[Material]: ...


_SOURCES: dict[str, MaterialSource] = {}


def register(source: MaterialSource) -> None:
    """Add a source (an app's ready()); registering one name again replaces it."""
    _SOURCES[source.name] = source


def sources() -> list[MaterialSource]:
    return [_SOURCES[k] for k in sorted(_SOURCES)]


def materials_for(document_ids: Iterable[Any]) -> list[Material]:
    """Every registered source's materials for the documents, in source order."""
    ids = [str(d) for d in document_ids]
    if not ids:
        return []
    return [m for s in sources() for m in s.materials(document_ids=ids)]
