"""Robustness curves: clean + noisy results of one run -> a tidy table (hand-computed) and a figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.analysis.robustness import (
    augment_groups,
    augment_series,
    curves_figure,
    families,
    family_rows,
    noise_curve_table,
    noisy_bases,
    parse_noisy_name,
    robustness_curves,
    robustness_figure,
    study_noise_bases,
    study_noise_table,
    versus_baseline,
)
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


# --- several runs / series: question-level CIs, paired drops, replicates, language slices ---------------------------


def _pq(values: dict[str, list[float]]) -> pd.DataFrame:
    """Per-query rows: ``{setting: [value per question]}``; settings "en->en" (mono), "de->en" (cross)."""
    rows = []
    for setting, vals in values.items():
        lang = setting.split("->")[0]
        kind = "mono" if setting in ("en->en", "de->de") else "cross"
        rows += [(setting, kind, lang, f"{lang}:q{i}", f"q{i}", v) for i, v in enumerate(vals)]
    return pd.DataFrame(rows, columns=["setting", "kind", "query_language", "query_id", "question_id", "map"])


@pytest.fixture
def store(tmp_path):
    store = RunStore(tmp_path / "runs")
    for name, shift in (("a", 0.0), ("b", 0.25), ("c", 0.5)):
        run = store.create(name, kind="evaluate", model="m")
        run.save_result("set", _pq({"en->en": [1.0, 0.5, 1.0, 0.5], "de->de": [1.0, 1.0, 0.5, 0.5]}), {})
        noisy = [0.5 - shift, 0.5, 1.0, 0.0]
        run.save_result(noisy_name("set", "typos:0.1", 0), _pq({"en->en": noisy, "de->de": [1.0, 1.0, 0.5, 0.5]}), {})
    return store


def test_curves_by_hand(store):
    t = robustness_curves({"a": ["a"]}, "set", store, kinds=("mono",), n_boot=200, n_perm=200)
    assert list(t["level"]) == [0.0, 0.1] and list(t["noise"]) == ["none", "typos:0.1"]
    # macro mean: mean over settings of the mean over questions; clean en 0.75, de 0.75; noisy en 0.5, de 0.75
    np.testing.assert_allclose(t["value"], [0.75, 0.625])
    np.testing.assert_allclose(t["drop"], [0.0, -0.125])
    # per-question differences (mean over the two settings): q0 -0.25, q1 0, q2 0, q3 -0.25 -> CI within [-0.25, 0]
    assert -0.25 <= t["drop_low"].iloc[1] <= t["drop"].iloc[1] <= t["drop_high"].iloc[1] <= 0.0
    assert np.isnan(t["p"].iloc[0]) and 0 < t["p_holm"].iloc[1] <= 1
    lang = robustness_curves({"a": ["a"]}, "set", store, kinds=("mono",), languages=["en"], n_boot=50, n_perm=50)
    np.testing.assert_allclose(lang["value"], [0.75, 0.5])
    assert list(lang["n_questions"]) == [4, 4]


def test_replicates_are_averaged_cell_by_cell(store):
    t = robustness_curves({"bc": ["b", "c"]}, "set", store, kinds=("mono",), languages=["en"], n_boot=50, n_perm=50)
    # noisy en: b = [0.25, .5, 1, 0], c = [0, .5, 1, 0] -> mean [0.125, .5, 1, 0] -> 0.40625
    np.testing.assert_allclose(t["value"], [0.75, 0.40625])


def test_missing_clean_results_name_the_series(store):
    with pytest.raises(HybridIRError, match="needs clean results of 'other'"):
        robustness_curves({"a": ["a"]}, "other", store)


def test_noisy_bases_and_families():
    names = [
        "set",
        noisy_name("set", "typos:0.1", 0),
        noisy_name("set", "casing:1", 0),
        noisy_name("x", "typos:0.1", 0),
    ]
    assert noisy_bases({"r": names, "s": ["set"]}) == {"set": ["r"]}
    table = pd.DataFrame({"noise_kinds": ["", "typos", "typos", "casing"], "level": [0, 0.1, 0.2, 1.0]})
    assert families(table) == ["typos", "casing"]
    assert list(family_rows(table, "casing")["level"]) == [0, 1.0]


def test_augment_groups_count_unaugmented_runs_as_none():
    frame = pd.DataFrame(
        {
            "kind": ["train"] * 4 + ["evaluate"],
            "sampler": ["hybrid"] * 4 + [None],
            "alpha": [0.5] * 4 + [None],
            "seed": [0, 0, 1, 0, None],
            "augment": [None, "noise=typos:0.1", "noise=typos:0.1", None, None],
            "steps": [10, 10, 10, 20, None],
        },
        index=pd.Index(["none", "typos", "typos-s1", "longer", "eval"], name="run"),
    )
    assert augment_groups(frame) == [["none", "typos", "typos-s1"]]
    assert augment_series(frame, ["typos", "typos-s1", "none"]) == {
        "none": ["none"],
        "noise=typos:0.1": ["typos", "typos-s1"],
    }


def test_study_noise_table_from_tidy_results():
    rows = []
    for ds, shift in (("set", 0.0), (noisy_name("set", "typos:0.1", 0), 0.1), (noisy_name("set", "typos:0.2", 0), 0.3)):
        for arm, v in (("base", 0.8), ("hybrid", 0.9)):
            rows.append(
                {"dataset": ds, "slice": "all", "arm": arm, "kind": "mono", "metric": "map", "value": v - shift}
            )
    rows.append({"dataset": "set", "slice": "seen", "arm": "base", "kind": "mono", "metric": "map", "value": 0.1})
    tidy = pd.DataFrame(rows).assign(ci_low=lambda t: t["value"] - 0.05, ci_high=lambda t: t["value"] + 0.05)
    assert study_noise_bases(tidy) == ["set"]
    t = study_noise_table(tidy, "set", "all")
    hybrid = t[t["series"] == "hybrid"]
    np.testing.assert_allclose(hybrid["level"], [0.0, 0.1, 0.2])
    np.testing.assert_allclose(hybrid["drop"], [0.0, -0.1, -0.3])
    fig = curves_figure(t)
    assert [tr.name for tr in fig.data if tr.mode == "lines+markers"] == ["base", "hybrid"]


def test_versus_baseline_by_hand(store):
    t = versus_baseline(
        {"a": ["a"], "c": ["c"]}, "set", "a", store, kinds=("mono",), languages=["en"], n_boot=50, n_perm=50
    )
    assert list(t["series"]) == ["c", "c"] and list(t["level"]) == [0.0, 0.1]
    # clean queries: identical results -> 0 with p = 1; noisy en: c - a = [0 - 0.5, 0, 0, 0] / 4 = -0.125
    np.testing.assert_allclose(t["delta"], [0.0, -0.125])
    assert t["p"].iloc[0] == 1.0 and t["delta_low"].iloc[1] <= -0.125 <= t["delta_high"].iloc[1]
    with pytest.raises(HybridIRError, match="baseline 'x' is not among the series"):
        versus_baseline({"a": ["a"]}, "set", "x", store)


def test_change_vs_clean_is_paired_and_narrower_than_the_absolute_bands(tmp_path):
    """Every question loses exactly 0.1 under noise while questions differ a lot: the absolute CIs (over
    questions) overlap, the paired change is -0.1 with a zero-width CI; the change view draws it (0 at clean)."""
    store = RunStore(tmp_path / "runs")
    run = store.create("r", kind="evaluate", model="m")
    clean = [1.0, 0.2, 0.6, 0.4, 0.8, 0.3]  # mean 0.55
    run.save_result("set", _pq({"en->en": clean}), {})
    run.save_result(noisy_name("set", "typos:0.1", 0), _pq({"en->en": [v - 0.1 for v in clean]}), {})
    t = robustness_curves({"r": ["r"]}, "set", store, kinds=("mono",), n_boot=500, n_perm=200)
    np.testing.assert_allclose(t["value"], [0.55, 0.45], atol=1e-12)
    np.testing.assert_allclose(t[["drop", "drop_low", "drop_high"]].iloc[1], [-0.1, -0.1, -0.1], atol=1e-12)
    assert t["ci_high"].iloc[1] > t["ci_low"].iloc[0]  # the absolute bands overlap
    assert t["ci_high"].iloc[0] - t["ci_low"].iloc[0] > 0.1
    change = curves_figure(t, change=True)
    band, line = change.data
    np.testing.assert_allclose(np.asarray(line.y, dtype=float), [0.0, -0.1], atol=1e-12)
    np.testing.assert_allclose(np.asarray(band.y, dtype=float), [0.0, -0.1, -0.1, 0.0], atol=1e-12)  # high, low
    assert change.layout.yaxis.title.text == "change in map vs clean" and change.layout.shapes[0].y0 == 0
    absolute = curves_figure(t)
    np.testing.assert_allclose(np.asarray(absolute.data[1].y, dtype=float), [0.55, 0.45], atol=1e-12)
    assert not absolute.layout.shapes
    # the hover reads the same numbers in both views (the metric value from customdata, not from y)
    np.testing.assert_allclose(np.asarray(line.customdata, dtype=object)[:, 7].astype(float), [0.55, 0.45])
