"""Studies with query noise: ``[eval] noise`` validated, noisy evaluations planned / skipped, the robustness table
equal to a recomputation from the per-query results, exported and bundled."""

from __future__ import annotations

import io
import tomllib
import zipfile

import numpy as np
import pandas as pd
import pytest

from hybrid_core.runs import RunStore
from hybrid_core.studies.bundle import paper_bundle
from hybrid_core.studies.plan import build_plan
from hybrid_core.studies.runner import run_study
from hybrid_core.studies.spec import StudyError, load_study, parse_study
from tests.studies.conftest import tiny_study_text
from tests.studies.test_spec import GOOD


def _parse(text: str, size: str | None = None):
    return parse_study(tomllib.loads(text), "study.toml", size)


def test_noise_keys_parse_and_sizes_override() -> None:
    text = GOOD.replace("[eval]\n", '[eval]\nnoise = ["typos:0.1", "casing:1,diacritics:1"]\nnoise_seed = 3\n')
    spec = _parse(text.replace("[sizes.quick]\n", '[sizes.quick]\nnoise = ["typos:0.2"]\n'))
    assert spec.noise == ("typos:0.2",) and spec.noise_seed == 3
    medium = _parse(text, "medium")
    assert medium.noise == ("typos:0.1", "casing:1,diacritics:1")
    assert _parse(GOOD).noise == ()


@pytest.mark.parametrize(
    ("line", "key", "msg"),
    [
        ('noise = ["typoz:0.1"]', "eval.noise", "unknown kind 'typoz'"),
        ('noise = ["typos:1.5"]', "eval.noise", "outside"),
        ("noise = [0.1]", "eval.noise", "must be a list of noise specs"),
        ('noise = ["typos:0.1", "typos:0.10"]', "eval.noise", "same noise twice"),
        ('noise = ["typos:0"]', "eval.noise", "perturbs nothing"),
        ("noise_seed = -1", "eval.noise_seed", "integer >= 0"),
        ('noise_seed = "a"', "eval.noise_seed", "integer >= 0"),
    ],
)
def test_bad_noise_keys_name_file_and_key(line, key, msg) -> None:
    with pytest.raises(StudyError, match=rf"study.toml: {key}: .*{msg}"):
        _parse(GOOD.replace("[eval]\n", f"[eval]\n{line}\n"))


def test_bad_noise_in_size_names_the_size() -> None:
    with pytest.raises(StudyError, match=r"study.toml: sizes.quick.noise: .*unknown kind"):
        _parse(GOOD.replace("[sizes.quick]\n", '[sizes.quick]\nnoise = ["x:0.1"]\n'))


NOISE = ["typos:0.2", "whitespace:0.3"]


@pytest.fixture
def noisy_study(tmp_path, tiny_model_dir, synthetic_dir):
    text = tiny_study_text(tiny_model_dir, synthetic_dir, name="noisy", steps=4)
    text = text.replace("[eval]\n", f"[eval]\nnoise = {NOISE!r}\nnoise_seed = 1\n".replace("'", '"'))
    path = tmp_path / "noisy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_noisy_study_end_to_end(noisy_study, tmp_path) -> None:
    spec = load_study(noisy_study, "quick")
    runs, out = tmp_path / "runs", tmp_path / "studies"
    dry, _ = run_study(spec, runs_dir=runs, out_root=out, dry_run=True, log=lambda *a: None)
    clean = dry.datasets[0]["name"]
    assert [n["name"] for n in dry.noisy] == [f"{clean}-noise-typos0.2-seed1", f"{clean}-noise-whitespace0.3-seed1"]
    assert [n["family"] for n in dry.noisy] == ["typos", "whitespace"] and dry.noisy[0]["changed"] > 0
    assert len(dry.evaluations) == 4 * 3 and not any(e[2] for e in dry.evaluations)  # 4 runs x (clean + 2 noisy)
    text = dry.describe()
    assert "of which noisy: 8 (0 on disk" in text and "perturbed by typos:0.2 (seed 1" in text
    est = dry.estimate_seconds()
    without = load_study(noisy_study, "quick")
    import dataclasses

    plain = build_plan(dataclasses.replace(without, noise=()), runs_dir=runs, out_root=out)
    assert est["evaluate"] > plain.estimate_seconds()["evaluate"]  # noisy evaluations cost time

    plan, folder = run_study(spec, runs_dir=runs, out_root=out, n_boot=50, n_perm=50, log=lambda *a: None)
    store = RunStore(runs)
    for c in plan.cells:  # every cell evaluated on every noisy set, with the scored texts beside the result
        for n in plan.noisy:
            assert store.get(c.run).has_result(n["name"], _fp(spec, n["name"]))
            texts = pd.read_parquet(store.get(c.run).result_dir(n["name"]) / "queries.parquet")
            assert texts["changed"].any()
    rob = pd.read_csv(folder / "robustness.csv")
    assert set(rob["noise"]) == {"none", "typos:0.2", "whitespace:0.3"}
    assert set(rob["slice"]) == {"all", "seen", "unseen", "low-resource"}
    # numbers equal a recomputation from the runs' per-query results (one seed: plain macro means)
    for arm, run in (("x-y", "noisy-quick-x-y-s0"), ("soup-l0.5", "noisy-quick-soup-l0.5-s0")):
        r = store.get(run)
        for n in plan.noisy:
            noisy_pq, clean_pq = r.per_query(n["name"]), r.per_query(clean)
            for kind in ("mono", "cross", "multi"):
                row = rob[(rob["arm"] == arm) & (rob["slice"] == "all") & (rob["noise"] == n["noise"])]
                row = row[row["kind"] == kind].iloc[0]
                assert row["value"] == pytest.approx(r.summary(n["name"])["macro"][kind]["map"], abs=1e-9)
                a = noisy_pq[noisy_pq["kind"] == kind].set_index(["setting", "query_id"])["map"]
                b = clean_pq[clean_pq["kind"] == kind].set_index(["setting", "query_id"])["map"]
                by_setting = (a - b.reindex(a.index)).groupby(level=0).mean()
                assert row["drop"] == pytest.approx(float(by_setting.mean()), abs=1e-9)
                assert row["drop_low"] <= row["drop"] + 1e-12 <= row["drop_high"] + 2e-12
    # the vs-baseline difference: the arm's drop minus the baseline's drop
    base = rob[(rob["arm"] == "x-y") & (rob["slice"] == "all") & (rob["noise"] == "typos:0.2")].set_index("kind")
    soup = rob[(rob["arm"] == "soup-l0.5") & (rob["slice"] == "all") & (rob["noise"] == "typos:0.2")].set_index("kind")
    np.testing.assert_allclose(soup["vs_baseline"], soup["drop"] - base["drop"], atol=1e-9)
    assert base["vs_baseline"].isna().all()  # the baseline is not compared with itself
    # one correction family per table and test; corrected p >= raw p; MDE positive
    t = rob[(rob["slice"] == "all") & rob["drop_p"].notna()]
    assert set(t["drop_family_size"]) == {len(t)} == {4 * 3 * 2}  # 4 arms x 3 kinds x 2 noises
    assert (t["drop_p_adj"] >= t["drop_p"] - 1e-12).all() and (t["drop_mde"] > 0).all()
    v = rob[(rob["slice"] == "all") & rob["vs_baseline_p"].notna()]
    assert set(v["arm"]) == {"x-x-mono", "soup-l0.5"} and set(v["vs_baseline_family_size"]) == {2 * 3 * 2}
    # exports: tables per slice (CSV, Markdown, LaTeX booktabs), curves per family and kind, report, bundle
    for sl in ("all", "seen", "unseen", "low-resource"):
        for ext in ("csv", "md", "tex"):
            assert (folder / "tables" / f"robustness--{clean}--{sl}.{ext}").is_file()
    tex = (folder / "tables" / f"robustness--{clean}--all.tex").read_text()
    assert r"\toprule" in tex and "Holm" in tex and "noise seed 1" in tex
    figs = sorted(p.name for p in (folder / "figures").glob("robustness--*--all--*.json"))
    assert figs == sorted(
        f"robustness--{clean}--all--{f}--{k}.json" for f in ("typos", "whitespace") for k in ("cross", "mono", "multi")
    )
    assert "# Robustness to query noise" in (folder / "report.md").read_text()
    names = zipfile.ZipFile(io.BytesIO(paper_bundle(folder, render=False))).namelist()
    assert "robustness.csv" in names and f"tables/robustness--{clean}--all.tex" in names
    assert f"figures/robustness--{clean}--all--typos--multi.json" in names

    # a rerun plans nothing: every clean and noisy evaluation is on disk
    again = build_plan(spec, runs_dir=runs, out_root=out)
    assert all(e[2] for e in again.evaluations) and "of which noisy: 8 (8 on disk" in again.describe()


def _fp(spec, name: str) -> str:
    from hybrid_core.studies.plan import eval_datasets, noisy_datasets

    return {n.name: n.fingerprint() for _, n in noisy_datasets(spec, eval_datasets(spec))}[name]


def test_robustness_figures_draw_the_tables_numbers() -> None:
    """One figure per data set x slice x family x kind, drawn by the dashboard's curves_figure: a line per arm
    (study order) through its mAP at each level, the clean point's change 0, the noisy points' paired drop CI."""
    from hybrid_core.studies.robustness import COLUMNS, robustness_figures

    def row(arm, noise, level, value, drop=None):
        lo = None if drop is None else drop - 0.02
        hi = None if drop is None else drop + 0.01
        return {
            **dict.fromkeys(COLUMNS),
            **{"dataset": "d", "slice": "all", "kind": "cross", "metric": "map", "arm": arm, "series": "s"},
            **{"noise": noise, "family": "none" if noise == "none" else "typos", "level": level},
            **{"value": value, "ci_low": value - 0.1, "ci_high": value + 0.1},
            **{"drop": drop, "drop_low": lo, "drop_high": hi, "drop_p_adj": None if drop is None else 0.04},
        }

    rob = pd.DataFrame(
        [
            row("x-y", "none", 0.0, 0.5),
            row("x-y", "typos:0.1", 0.1, 0.4, -0.1),
            row("hybrid", "none", 0.0, 0.6),
            row("hybrid", "typos:0.1", 0.1, 0.55, -0.05),
        ],
        columns=COLUMNS,
    )
    figs = robustness_figures(rob)
    assert list(figs) == ["robustness--d--all--typos--cross"]
    lines = [t for t in figs["robustness--d--all--typos--cross"].data if t.mode == "lines+markers"]
    assert [t.name for t in lines] == ["x-y", "hybrid"]
    assert list(lines[1].x) == [0.0, 0.1] and list(lines[1].y) == pytest.approx([0.6, 0.55])
    clean, noisy = np.asarray(lines[1].customdata, dtype=object)
    assert clean[0] == "none" and [float(v) for v in clean[3:6]] == [0.0, 0.0, 0.0]
    assert [float(v) for v in noisy[3:7]] == pytest.approx([-0.05, -0.07, -0.04, 0.04])


def test_robustness_tests_count_seed_variance_with_seeds(tmp_path) -> None:
    """With 3 seeds per arm the drop and vs-baseline tests are seed-aware (one-sample for the drop); with one
    seed they stay question-level and p equals the randomisation test's."""
    from hybrid_core.analysis import stats
    from hybrid_core.augment.perturb import noisy_name
    from hybrid_core.evaluation.evaluate import score_all, summarize
    from hybrid_core.runs import RunStore
    from hybrid_core.studies.robustness import robustness_results
    from tests.conftest import make_toy

    ds, q, c = make_toy(seed=0)
    store = RunStore(tmp_path)
    rng = np.random.default_rng(5)
    noisy = noisy_name("toy", "typos:0.1", 0)
    arms = {"hybrid": [f"h-s{s}" for s in range(3)], "x-y": [f"y-s{s}" for s in range(3)], "one": ["one-s0"]}
    for runs in arms.values():
        for run in runs:
            shift = rng.normal(0, 0.6, q.shape).astype(np.float32)
            r = store.create(run, "train", run, {})
            for name, extra in (("toy", 0.0), (noisy, 0.9)):
                pq = score_all(ds, q + shift + rng.normal(0, extra + 1e-3, q.shape).astype(np.float32), c)
                r.save_result(name, pq, summarize(pq, ds))
    entry = {"name": noisy, "base": "toy", "noise": "typos:0.1", "family": "typos", "level": 0.1, "seed": 0}
    rob = robustness_results(
        arms,
        [{"name": "toy", "sampled": False}],
        [entry],
        {"toy": {"all": ["de", "en", "fr"]}},
        "hybrid",
        store=store,
        n_boot=200,
        n_perm=200,
    )
    noisy_rows = rob[rob["noise"] != "none"].set_index(["arm", "kind"])
    seeded = noisy_rows.loc["x-y"]
    assert (seeded["drop_test"] == "seeds+questions").all() and (seeded["vs_baseline_test"] == "seeds+questions").all()
    assert (seeded["drop_se"] > seeded["drop_se_questions"]).all() and np.isfinite(seeded["drop_df"]).all()
    for _, r in seeded.iterrows():  # the MDE uses the test's df
        m = int(r["drop_family_size"])
        assert r["drop_mde"] == pytest.approx(stats.mde(r["drop_se"], m=m, df=r["drop_df"]), rel=1e-9)
    single = noisy_rows.loc["one"]
    assert (single["drop_test"] == "questions").all() and (single["drop_p"] == single["drop_p_questions"]).all()
    assert np.isinf(single["drop_df"]).all()
    # the vs-baseline test of a 1-seed arm against a 3-seed baseline stays question-level
    assert (single["vs_baseline_test"] == "questions").all()
