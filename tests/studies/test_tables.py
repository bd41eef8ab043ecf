"""Study tables: display cells, marks, footnote, paper layout, LaTeX that compiles (pdflatex when installed)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from hybrid_core.studies import tables


def _tidy() -> pd.DataFrame:
    rows = []
    for arm, base_value, p_adj in (("base", 0.4, None), ("x_y", 0.6, None), ("hybrid-0.5", 0.65, 0.01)):
        for kind, metric, v in (
            ("mono", "map", base_value),
            ("cross", "map", base_value - 0.1),
            ("multi", "map", base_value - 0.2),
            ("multi", "rank_distance", 300.0),
        ):
            row = {
                "dataset": "xquad-r",
                "slice": "all",
                "languages": "de en",
                "arm": arm,
                "series": arm,
                "axis_name": None,
                "axis": np.nan,
                "kind": kind,
                "metric": metric,
                "value": v,
                "ci_low": v - 0.01,
                "ci_high": v + 0.01,
                "seed_sd": 0.002 if arm != "base" else np.nan,
                "n_seeds": 1 if arm == "base" else 3,
                "n_questions": 100,
                "sampled": False,
                "runs": arm,
            }
            if p_adj is not None:
                row.update(
                    delta=0.05,
                    delta_low=0.01,
                    delta_high=0.09,
                    se=0.02,
                    p=0.005,
                    p_adj=p_adj,
                    d=0.4,
                    better=metric != "rank_distance",
                    significant=True,
                    family_size=4,
                    mde=0.07,
                )
            rows.append(row)
    return pd.DataFrame(rows).reindex(columns=tables.TIDY_COLUMNS)


def test_value_and_delta_cells_marks_and_footnote() -> None:
    t = _tidy()
    values = tables.value_table(t, "xquad-r", "all")
    assert values.loc["hybrid-0.5", "mono mAP"] == "0.650 [0.640, 0.660] ±0.002 ▲"
    assert values.loc["hybrid-0.5", "RD"] == "300.0 [300.0, 300.0] ±0.0 ▼"
    assert values.loc["base", "mono mAP"] == "0.400 [0.390, 0.410]"  # one seed: no spread, no test
    deltas = tables.delta_table(t, "xquad-r", "all")
    assert list(deltas.index) == ["hybrid-0.5"]
    assert deltas.loc["hybrid-0.5", "multi mAP"] == "+0.050 [0.010, 0.090] p=0.010 d=+0.40 MDE 0.070 ▲"
    plan = {"datasets": [{"name": "xquad-r", "spec": "xquad-r", "questions": 1190, "sampled": False}]}
    note = tables.footnote(t, "xquad-r", "all", "x_y", "holm", plan)
    assert "Holm (1979) over the 4 comparisons" in note and "mono mAP 0.070" in note
    assert "Whole set: 1190 questions" in note and "query side X defines the slice" in note


def test_paper_layout_puts_reported_rows_beside_measured() -> None:
    paper = tables.paper_layout(_tidy())
    assert paper.loc["hybrid-0.5 (measured)", "xquad-r mono mAP"] == pytest.approx(0.65)
    assert paper.loc["XLM-R hybrid (reported)", "xquad-r mono mAP"] == pytest.approx(0.798)
    assert paper.loc["XLM-R X-Y (reported)", "xquad-r RD"] == pytest.approx(295.4)
    assert list(paper.columns) == ["xquad-r mono mAP", "xquad-r cross mAP", "xquad-r multi mAP", "xquad-r RD"]


def test_latex_is_escaped_booktabs_and_compiles(tmp_path) -> None:
    t = _tidy()
    tex = tables.latex_table(tables.value_table(t, "xquad-r", "all", latex=True), caption="arm x_y: 95% CI & more")
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "x\\_y" in tex and "95\\% CI \\& more" in tex and "$\\pm$" in tex and "$^{\\uparrow}$" in tex
    if not shutil.which("pdflatex"):
        pytest.skip("pdflatex not installed (apt-get install texlive-latex-base)")
    doc = tmp_path / "t.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs}\\begin{document}\n" + tex + "\\end{document}\n")
    out = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:]
    assert (tmp_path / "t.pdf").read_bytes()[:5] == b"%PDF-"


def test_paper_claims_verdicts_follow_sign_and_corrected_significance() -> None:
    from hybrid_core.studies.tables import TIDY_COLUMNS, paper_claims

    def row(arm, axis, kind, metric, delta=float("nan"), sig=None, mde=0.01):
        return {
            "dataset": "xq",
            "slice": "all",
            "arm": arm,
            "axis_name": "alpha",
            "axis": axis,
            "kind": kind,
            "metric": metric,
            "delta": delta,
            "delta_low": delta - 0.01,
            "delta_high": delta + 0.01,
            "p_adj": 0.01 if sig else 0.4,
            "significant": sig,
            "mde": mde,
        }

    rows = [row("hyb", 0.5, k, m) for k, m in [("mono", "map"), ("cross", "map"), ("multi", "map")]]
    rows += [
        row("mono", 1.0, "cross", "map", -0.03, True),  # X-X-mono worse on cross: supported
        row("mono", 1.0, "multi", "map", 0.02, True),  # X-X-mono better on multi: contradicted
        row("mono", 1.0, "multi", "rank_distance", 5.0, False, mde=12.0),  # n.s.
        row("xy", 0.0, "mono", "map", -0.004, False, mde=0.0123),
    ]
    tidy = pd.DataFrame(rows).reindex(columns=TIDY_COLUMNS)
    claims = paper_claims(tidy, "hyb").set_index("claim")["verdict"].to_dict()
    assert claims == {
        "hybrid >= X-X-mono on cross-lingual mAP": "supported",
        "hybrid >= X-X-mono on multilingual mAP": "contradicted",
        "hybrid rank distance below X-X-mono": "not shown (n.s.; MDE 12)",
        "hybrid >= X-Y on monolingual mAP": "not shown (n.s.; MDE 0.0123)",
    }
    # a baseline that is not a hybrid arm (alpha 0 or 1) has no claims to check
    assert paper_claims(tidy, "mono").empty
    # a baseline without an alpha (e.g. a DAPT arm: axis None) has none either
    none_axis = tidy.astype({"axis": object})
    none_axis.loc[none_axis["arm"] == "hyb", "axis"] = None
    assert paper_claims(none_axis, "hyb").empty


def test_study_results_put_seed_variance_into_the_test(tmp_path) -> None:
    """Arms with >= 2 seeds are compared by the seed-aware test (its SE adds both arms' seed variance to the
    question SE); a one-seed arm falls back to the question-level test; the footnote says which."""
    from hybrid_core.analysis import stats
    from hybrid_core.evaluation.evaluate import score_all, summarize
    from hybrid_core.runs import RunStore
    from tests.conftest import make_toy

    ds, q, c = make_toy(seed=0)
    store = RunStore(tmp_path)
    rng = np.random.default_rng(3)
    arms: dict[str, list[str]] = {"base": ["base"], "x-y": [], "hybrid": [], "one-seed": ["one-seed-s0"]}
    for arm, seeds in (("x-y", 3), ("hybrid", 3)):
        for s in range(seeds):
            arms[arm].append(f"{arm}-s{s}")
    for runs in arms.values():
        for run in runs:
            pq = score_all(ds, q + rng.normal(0, 0.8, q.shape).astype(np.float32), c)
            store.create(run, "train", run, {}).save_result("toy", pq, summarize(pq, ds))
    tidy = tables.study_results(
        arms,
        [{"name": "toy", "sampled": False, "questions": 40, "spec": "toy"}],
        {"toy": {"all": ["de", "en", "fr"]}},
        "x-y",
        store=store,
        n_boot=200,
        n_perm=200,
    )
    tested = tidy[tidy["p"].notna()].set_index(["arm", "kind", "metric"])
    assert set(tested.index.get_level_values("arm")) == {"hybrid", "one-seed"}
    values = tidy.set_index(["arm", "kind", "metric"])
    for key in [k for k in tested.index if k[0] == "hybrid"]:
        r = tested.loc[key]
        assert r["test"] == "seeds+questions"
        sd_a, sd_b = r["seed_sd"], values.loc[("x-y", *key[1:]), "seed_sd"]
        assert r["se_seeds"] == pytest.approx(np.sqrt(sd_a**2 / 3 + sd_b**2 / 3), rel=1e-9)
        assert r["se"] == pytest.approx(np.hypot(r["se_questions"], r["se_seeds"]), rel=1e-9)
        assert 2 <= r["df"] < 1e6
        assert r["mde"] == pytest.approx(stats.mde(r["se"], m=int(r["family_size"]), df=r["df"]), rel=1e-9)
        assert r["delta_low"] < r["delta"] < r["delta_high"]
    for key in [k for k in tested.index if k[0] == "one-seed"]:
        r = tested.loc[key]
        assert r["test"] == "questions" and r["p"] == r["p_questions"] and r["se"] == r["se_questions"]
        assert np.isinf(r["df"]) and np.isnan(r["se_seeds"])
    assert set(tested["family_size"]) == {8}  # one Holm family: 2 arms x 4 columns
    # arm intervals for curves: seeds widen the question CI; one seed keeps it
    three, one = tidy[tidy["arm"] == "hybrid"], tidy[tidy["arm"] == "one-seed"]
    assert ((three["band_high"] - three["band_low"]) > (three["ci_high"] - three["ci_low"])).all()
    assert (one["band_low"] == one["ci_low"]).all() and (one["band_high"] == one["ci_high"]).all()
    note = tables.footnote(tidy, "toy", "all", "x-y", "holm", {"datasets": []})
    assert "for the others (one seed)" in note  # mixed table: not every comparison could use the seeds
    seeded = tidy[tidy["arm"] != "one-seed"]
    note = tables.footnote(seeded, "toy", "all", "x-y", "holm", {"datasets": []})
    assert "Welch-Satterthwaite" in note and "t quantiles" in note
    assert "questions only p=" in tables.delta_table(seeded, "toy", "all").iloc[0, 0]
