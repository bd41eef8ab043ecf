"""Study figures from a hand-built tidy frame: what is drawn where."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hybrid_core.studies.figures import delta_forest, study_figures


def _row(arm, kind, value, delta=None, significant=False, mde=0.01, slice_name="all"):
    tested = delta is not None
    return {
        "dataset": "d",
        "slice": slice_name,
        "languages": "en de",
        "arm": arm,
        "series": arm,
        "axis_name": "alpha",
        "axis": math.nan,
        "kind": kind,
        "metric": "map",
        "value": value,
        "ci_low": value - 0.05,
        "ci_high": value + 0.05,
        "delta": delta if tested else math.nan,
        "delta_low": delta - 0.004 if tested else math.nan,
        "delta_high": delta + 0.006 if tested else math.nan,
        "p": 0.01 if tested else math.nan,
        "p_adj": 0.02 if significant else (0.5 if tested else math.nan),
        "significant": significant,
        "mde": mde if tested else math.nan,
    }


@pytest.fixture
def tidy() -> pd.DataFrame:
    rows = [_row("none", k, 0.6) for k in ("mono", "multi")]  # the baseline: not tested
    rows += [_row("noise", "mono", 0.61, 0.010, True, mde=0.02), _row("noise", "multi", 0.60, -0.002, mde=0.01)]
    rows += [_row("all", "mono", 0.62, 0.020, False, mde=0.03), _row("all", "multi", 0.63, 0.030, True, mde=0.01)]
    rows += [_row("all", "multi", 0.5, 0.1, True, slice_name="lang:en")]
    return pd.DataFrame(rows)


def test_delta_forest_draws_each_arms_difference_with_its_ci(tidy):
    fig = delta_forest(tidy, "d", "all")
    assert [t.name for t in fig.data] == ["mono", "multi"]  # kinds in the usual order, the baseline not drawn
    mono, multi = fig.data
    assert list(mono.text) == ["noise", "all"] and list(mono.x) == pytest.approx([0.010, 0.020])
    assert list(multi.x) == pytest.approx([-0.002, 0.030])
    # filled where significant after correction, open where not
    assert list(mono.marker.symbol) == ["circle", "circle-open"]
    assert list(multi.marker.symbol) == ["circle-open", "circle"]
    assert list(multi.error_x.array) == pytest.approx([0.006, 0.006])
    assert list(multi.error_x.arrayminus) == pytest.approx([0.004, 0.004])
    # one row per compared arm, the kinds side by side inside it
    assert list(fig.layout.yaxis.ticktext) == ["noise", "all"]
    assert mono.y[0] < 0 < multi.y[0] and mono.y[1] < 1 < multi.y[1]
    # the band is the median MDE of the table's comparisons (0.01, 0.01, 0.02, 0.03 -> 0.015)
    band = fig.layout.shapes[0]
    assert (band.x0, band.x1) == pytest.approx((-0.015, 0.015))


def test_study_figures_has_delta_plots_for_tested_slices_only(tidy):
    stems = set(study_figures(tidy))
    assert "delta--d--all--map" in stems
    assert not any(s.startswith("delta--d--lang:") for s in stems)  # per-language plots only on demand


def test_curve_band_counts_seeds_when_the_arms_have_them() -> None:
    from hybrid_core.studies.figures import curve

    rows = []
    for alpha, value in ((0.0, 0.50), (0.5, 0.55), (1.0, 0.52)):
        row = _row(f"a{alpha}", "multi", value) | {"series": "hybrid", "axis": alpha, "n_seeds": 3, "runs": "r"}
        rows.append(row | {"band_low": value - 0.2, "band_high": value + 0.1})
    tidy = pd.DataFrame(rows)

    def band(fig):  # the filled CI polygon: x out and back, upper then lower edge
        poly = next(t for t in fig.data if t.fill == "toself")
        return list(poly.y)

    fig = curve(tidy, "d", "all")
    assert "questions and seeds" in fig.layout.title.text
    assert band(fig) == pytest.approx([0.6, 0.65, 0.62, 0.32, 0.35, 0.3])
    one_seed = curve(tidy.assign(n_seeds=1), "d", "all")  # bands then are the question CIs
    assert "over questions)" in one_seed.layout.title.text
    assert band(one_seed) == pytest.approx([0.55, 0.6, 0.57, 0.47, 0.5, 0.45])
    from hybrid_core.studies.figures import slice_bars

    bars = slice_bars(tidy, "d", kind="multi")
    assert "questions and seeds" in bars.layout.title.text
    assert list(bars.data[0].error_y.arrayminus) == pytest.approx([0.2, 0.2, 0.2])


def test_curve_reference_lines_alternate_label_sides_per_arm() -> None:
    """Arms off the curve (untrained, X-X) are dotted reference lines; their labels alternate sides, so two close
    references (base and X-X at the same cross mAP) stay legible."""
    from hybrid_core.studies.figures import curve

    rows = [
        _row(f"a{a}", "cross", 0.7) | {"series": "hybrid", "axis": a, "n_seeds": 1, "runs": "r"}
        for a in (0.0, 0.5, 1.0)
    ]
    rows += [
        _row(arm, kind, 0.708) | {"n_seeds": 1, "runs": "r"} for arm in ("base", "x-x") for kind in ("mono", "cross")
    ]
    fig = curve(pd.DataFrame(rows), "d", "all")
    labels = {a.text: a for a in fig.layout.annotations if "(" in a.text}
    assert set(labels) == {"base (mono)", "base (cross)", "x-x (mono)", "x-x (cross)"}
    assert labels["base (cross)"].x != labels["x-x (cross)"].x  # same height, opposite sides
    assert labels["base (mono)"].x == labels["base (cross)"].x  # one side per arm
