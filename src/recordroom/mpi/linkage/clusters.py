"""Pairs grouped into clusters: connected components (union-find), so three records
of one person are reviewed together."""

from __future__ import annotations

from collections.abc import Hashable, Iterable


def clusters(pairs: Iterable[tuple[Hashable, Hashable]]) -> dict[Hashable, int]:
    """Record -> cluster number (1, 2, ... in order of each cluster's first pair)."""
    parent: dict[Hashable, Hashable] = {}

    def root(x: Hashable) -> Hashable:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    order: list[Hashable] = []
    for a, b in pairs:
        for x in (a, b):
            if x not in parent:
                order.append(x)
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra
    numbers: dict[Hashable, int] = {}
    out: dict[Hashable, int] = {}
    for x in order:
        r = root(x)
        out[x] = numbers.setdefault(r, len(numbers) + 1)
    return out
