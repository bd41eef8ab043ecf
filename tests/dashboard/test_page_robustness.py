"""Robustness page: noisy-query curves and augmentation comparisons over runs evaluated by the real core.

The numbers drawn and tabulated must be the core's (:func:`hybrid_core.analysis.robustness.robustness_curves`).
"""

from __future__ import annotations

import numpy as np
import pytest

from hybrid_core.analysis import robustness
from hybrid_core.augment.perturb import noisy_name
from hybrid_core.runs import RunStore
from tests.dashboard.helpers import app, built_store, figures, no_exceptions, use_store
from tests.dashboard.noisy_runs import make_noisy_runs


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    return built_store(tmp_path_factory.mktemp("noisy"), make_noisy_runs)


@pytest.fixture(autouse=True)
def _noisy_dirs(noisy, monkeypatch):
    use_store(monkeypatch, noisy)


def _curve(fig, name):
    return next(t for t in fig.data if t.name == name and t.mode == "lines+markers")


def test_noisy_results_come_from_the_evaluation_path(noisy):
    run = RunStore(noisy.runs).get("tiny-0")
    names = run.datasets()
    assert {noisy.ds.name, noisy_name(noisy.ds.name, "typos:0.2", 0), noisy_name(noisy.ds.name, "typos:0.5", 0)} <= set(
        names
    )
    assert robustness.noisy_bases({"tiny-0": names}) == {noisy.ds.name: ["tiny-0"]}


def test_curves_show_the_cores_numbers(noisy):
    base = noisy.ds.name
    at = app("robustness", robust_kind="cross")
    no_exceptions(at)
    assert at.selectbox(key="robust_dataset").value == base
    assert at.multiselect(key="robust_runs").value == [*noisy.names["augment"], *noisy.names["eval"]]
    at.multiselect(key="robust_runs").set_value(["tiny-0", "tiny-1"]).run()
    no_exceptions(at)
    core = robustness.robustness_curves(
        {"tiny-0": ["tiny-0"], "tiny-1": ["tiny-1"]}, base, RunStore(noisy.runs), kinds=("cross",)
    )
    fig = figures(at)[0]
    for run in ("tiny-0", "tiny-1"):
        line, want = _curve(fig, run), core[core["series"] == run].sort_values("level")
        np.testing.assert_array_equal(np.asarray(line.x, dtype=float), [0.0, 0.2, 0.5])
        np.testing.assert_allclose(np.asarray(line.y, dtype=float), want["value"], rtol=1e-12)
    shown = at.dataframe[0].value  # the noisy-queries tab comes first
    want = robustness.curve_display(core)
    assert list(shown["change vs clean"]) == list(want["change vs clean"])
    assert list(shown["map"]) == list(want["map"])
    # the drop at the highest level is the paired difference of macro means: noisy - clean
    top = core[(core["series"] == "tiny-0") & (core["level"] == 0.5)].iloc[0]
    clean = core[(core["series"] == "tiny-0") & (core["level"] == 0.0)].iloc[0]
    assert top["drop"] == pytest.approx(top["value"] - clean["value"], abs=1e-12)
    # beside the absolute view: the change vs clean with its paired CI, as the core computed it
    at.radio(key="robust_view").set_value("change vs clean").run()
    no_exceptions(at)
    fig = figures(at)[0]
    for run in ("tiny-0", "tiny-1"):
        line, want = _curve(fig, run), core[core["series"] == run].sort_values("level")
        np.testing.assert_allclose(np.asarray(line.y, dtype=float), want["drop"], rtol=1e-12, atol=1e-15)
        band = next(t for t in fig.data if t.legendgroup == run and t.fill == "toself")
        want_band = [*want["drop_high"], *want["drop_low"][::-1]]
        np.testing.assert_allclose(np.asarray(band.y, dtype=float), want_band, rtol=1e-12, atol=1e-15)
    assert fig.layout.yaxis.title.text == "change in map vs clean"


def test_language_slice_and_all_kinds(noisy):
    at = app("robustness", robust_runs=["tiny-0"], robust_kind="all kinds", robust_slice="lang:de")
    no_exceptions(at)
    core = robustness.robustness_curves({"tiny-0": ["tiny-0"]}, noisy.ds.name, RunStore(noisy.runs), languages=["de"])
    fig = figures(at)[0]
    for kind in ("mono", "cross", "multi"):
        want = core[core["kind"] == kind].sort_values("level")["value"]
        np.testing.assert_allclose(np.asarray(_curve(fig, f"tiny-0 · {kind}").y, dtype=float), want, rtol=1e-12)


def test_augmentation_groups_average_seeds(noisy):
    at = app("robustness")
    no_exceptions(at)
    assert "3 runs: aug-none, aug-typos, aug-typos-s1" in at.selectbox(key="augment_group").options[0]
    at.selectbox(key="augment_kind").set_value("mono").run()
    no_exceptions(at)
    core = robustness.robustness_curves(
        {"none": ["aug-none"], "noise=typos:0.1": ["aug-typos", "aug-typos-s1"]},
        noisy.ds.name,
        RunStore(noisy.runs),
        kinds=("mono",),
    )
    fig = figures(at)[1]  # the first tab's figure comes first
    for label in ("none", "noise=typos:0.1"):
        want = core[core["series"] == label].sort_values("level")["value"]
        np.testing.assert_allclose(np.asarray(_curve(fig, label).y, dtype=float), want, rtol=1e-12)
    # two seeds: their per-query values are averaged, so the clean point is the mean of the two runs' macro means
    single = robustness.robustness_curves(
        {"a": ["aug-typos"], "b": ["aug-typos-s1"]}, noisy.ds.name, RunStore(noisy.runs), kinds=("mono",)
    )
    clean = single[single["level"] == 0.0]["value"].mean()
    assert core[(core["series"] == "noise=typos:0.1") & (core["level"] == 0.0)]["value"].iloc[0] == pytest.approx(
        clean, abs=1e-12
    )
    versus = robustness.versus_baseline(
        {"none": ["aug-none"], "noise=typos:0.1": ["aug-typos", "aug-typos-s1"]},
        noisy.ds.name,
        "none",
        RunStore(noisy.runs),
        kinds=("mono",),
    )
    shown = next(d.value for d in at.dataframe if "Δ map vs none" in d.value.columns)
    want = robustness.versus_display(versus)
    assert list(shown["Δ map vs none"]) == list(want["Δ map vs none"]) and len(want) == 3  # clean + 2 levels


def test_no_noisy_results_is_a_notice(dash, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_RUNS", str(dash.runs))
    at = app("robustness")
    no_exceptions(at)
    assert any("No run has noisy results yet" in i.value for i in at.info)


def _core_hits(noisy, text: str, k: int):
    from hybrid_core.evaluation import search
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model

    ref = resolve_model(RunStore(noisy.runs).get("tiny-0").info["model"])
    model = load_model(ref)
    return search.search(model, search.corpus_index(model, noisy.ds, model_fingerprint(ref)), text, k)


def test_custom_query_with_noise_shows_noisy_text_and_its_hits(noisy):
    from hybrid_core.augment.noise import apply_noise

    text, spec, seed = "Where does the Danube rise?", "typos:0.5", 3
    at = app("custom_queries", custom_search_run="tiny-0", custom_search_set="tiny-parallel", custom_k=5)
    at.text_input(key="custom_noise").input(spec)
    at.number_input(key="custom_noise_seed").set_value(seed)
    at.text_input(key="custom_query").input(text).run()
    no_exceptions(at)
    noisy_text = apply_noise(text, spec, seed)
    assert noisy_text != text
    assert any(f"**{noisy_text}**" in m.value for m in at.markdown)
    clean_hits, noisy_hits = at.dataframe[0].value, at.dataframe[1].value
    for shown, want in ((clean_hits, _core_hits(noisy, text, 5)), (noisy_hits, _core_hits(noisy, noisy_text, 5))):
        assert list(shown["id"]) == list(want["id"])
        np.testing.assert_allclose(shown["score"].to_numpy(), want["score"].to_numpy(), rtol=1e-6, atol=1e-6)
    ranks = dict(zip(clean_hits["id"], clean_hits["rank"], strict=True))
    assert [ranks.get(i) for i in noisy_hits["id"]] == [
        None if np.isnan(r) else int(r) for r in noisy_hits["clean_rank"]
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("typos:1.5", "rate 1.5 of typos is outside [0, 1]"),
        ("tyops:0.1", "unknown kind 'tyops'; known: typos, casing"),
        ("typos", "item 'typos' is not kind:rate"),
    ],
)
def test_custom_query_bad_noise_spec_is_a_clear_error(noisy, spec, message):
    at = app("custom_queries", custom_search_run="tiny-0", custom_search_set="tiny-parallel")
    at.text_input(key="custom_noise").input(spec)
    at.text_input(key="custom_query").input("Where does the Danube rise?").run()
    no_exceptions(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message in errors[0], errors
    assert not at.dataframe
