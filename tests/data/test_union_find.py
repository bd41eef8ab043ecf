"""The one union-find: components rooted at their smallest member."""

from __future__ import annotations

from hybrid_core.data.union_find import components


def test_components_by_hand() -> None:
    assert components([1, 2, 3, 4], [(2, 4), (4, 3)]) == {1: 1, 2: 2, 3: 2, 4: 2}
    assert components("abc", []) == {"a": "a", "b": "b", "c": "c"}
    chain = components(range(6), [(5, 4), (4, 3), (3, 2), (2, 1), (1, 0)])
    assert set(chain.values()) == {0}
