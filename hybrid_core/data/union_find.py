"""Connected components by union-find (path halving, union by smaller root).

Used where items linked by a shared key must stay together: articles linked across languages by a
shared question (:mod:`hybrid_core.data.lareqa`), and training questions linked by a shared answer
text (:mod:`hybrid_core.training.pairs`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

T = TypeVar("T", bound=Hashable)


def components(nodes: Iterable[T], links: Iterable[tuple[T, T]]) -> dict[T, T]:
    """``{node: root}``: the root is the smallest member of the node's connected component.

    Every node of ``links`` must be in ``nodes``. Example: nodes 1..4, links (2, 4) and (4, 3)
    -> {1: 1, 2: 2, 3: 2, 4: 2}.
    """
    parent = {n: n for n in nodes}

    def find(x: T) -> T:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # type: ignore[type-var]
    return {n: find(n) for n in parent}
