"""Robustness curves: clean + noisy results of one run -> a tidy table (hand-computed) and a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis.robustness import noise_curve_table, parse_noisy_name, robustness_figure
from hybrid_core.augment.perturb import noisy_name
from hybrid_core.errors import HybridIRError
from hybrid_core.runs import RunStore


def _per_query(mono: list[float], cross: list[float]) -> pd.DataFrame:
    rows = [("en->en", "mono", "en", f"en:q{i}", v) for i, v in enumerate(mono)]
    rows += [("de->en", "cross", "de", f"de:q{i}", v) for i, v in enumerate(cross)]
    return pd.DataFrame(rows, columns=["setting", "kind", "query_language", "query_id", "map"])


@pytest.fixture
def run(tmp_path):
    run = RunStore(tmp_path / "runs").create("r", kind="evaluate", model="m")
    n = 40
    run.save_result("set", _per_query([1.0] * n, [0.5] * n), {})
    run.save_result(noisy_name("set", "typos:0.1", 0), _per_query([0.8] * n, [0.5] * n), {})
    run.save_result(noisy_name("set", "typos:0.2", 0), _per_query([0.5] * n, [0.25] * n), {})
    run.save_result("other", _per_query([0.0] * n, [0.0] * n), {})
    return run


def test_parse_noisy_name_round_trip():
    name = noisy_name("xquad-r-q200-s0", "typos:0.05,casing:1", 3)
    assert parse_noisy_name(name) == ("xquad-r-q200-s0", [("typos", 0.05), ("casing", 1.0)], 3)
    assert parse_noisy_name("xquad-r") is None


def test_curve_table_by_hand(run):
    t = noise_curve_table(run, "set", by="kind", n_boot=200, n_perm=500)
    assert list(t["level"].unique()) == [0.0, 0.1, 0.2] and set(t["group"]) == {"mono", "cross"}
    mono = t[t["group"] == "mono"].set_index("level")
    np.testing.assert_allclose(mono["value"], [1.0, 0.8, 0.5])
    np.testing.assert_allclose(mono["drop"], [0.0, -0.2, -0.5])
    assert mono.loc[0.0, "noise"] == "none" and mono.loc[0.1, "noise"] == "typos:0.1"
    np.testing.assert_allclose(mono["ci_low"], mono["value"])  # constant values: a zero-width CI
    assert mono.loc[0.2, "p_holm"] < 0.01 and np.isnan(mono.loc[0.0, "p"])
    cross = t[t["group"] == "cross"].set_index("level")
    assert cross.loc[0.1, "p"] == 1.0  # no change: the paired test finds nothing
    by_lang = noise_curve_table(run, "set", by="language", n_boot=100, n_perm=100)
    assert set(by_lang["group"]) == {"en", "de"}
    fig = robustness_figure(t)
    assert len(fig.data) == 4 and list(fig.data[1].x) == [0.0, 0.1, 0.2]


def test_missing_results_are_errors(run, tmp_path):
    with pytest.raises(HybridIRError, match="no noisy results for 'other'"):
        noise_curve_table(run, "other")
    with pytest.raises(HybridIRError, match="no clean results for 'nope'"):
        noise_curve_table(run, "nope")
    with pytest.raises(HybridIRError, match="'kind' or 'language'"):
        noise_curve_table(run, "set", by="slice")
