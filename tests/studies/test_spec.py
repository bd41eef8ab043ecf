"""Study files: every bad key or value is refused before anything runs, naming the file and the key."""

from __future__ import annotations

import tomllib

import pytest

from hybrid_core.errors import HybridIRError
from hybrid_core.studies.spec import StudyError, load_study, parse_study, shipped_studies

GOOD = """
name = "s"
seeds = [0, 1]
baseline = "hybrid-a0.5"
[train]
train_data = "mlqa-r"
steps = 10
[eval]
data = ["xquad-r", "mlqa-r:test"]
[[arm]]
name = "hybrid"
sampler = "hybrid"
alpha = [0.0, 0.5, 1.0]
[[arm]]
name = "x-x"
sampler = "x-x"
[[arm]]
name = "soup"
merge = ["hybrid-a0", "hybrid-a1", [0.25, 0.75]]
[sizes.quick]
steps = 3
seeds = [0]
max_questions = 20
[sizes.medium]
max_questions = "all"
"""


def _parse(text: str, size: str | None = None):
    return parse_study(tomllib.loads(text), "study.toml", size)


def test_good_study_expands_grid_and_applies_sizes() -> None:
    spec = _parse(GOOD)
    assert spec.size == "quick"
    assert [a.label for a in spec.arms] == ["hybrid-a0", "hybrid-a0.5", "hybrid-a1", "x-x", "soup-l0.25", "soup-l0.75"]
    assert [a.axis for a in spec.arms] == [0.0, 0.5, 1.0, None, 0.25, 0.75]
    assert spec.seeds == (0,) and spec.max_questions == 20 and spec.train["steps"] == 3
    assert spec.train_config(spec.arm("hybrid-a0.5"), 0).steps == 3
    assert spec.arm("soup-l0.25").merge == ("hybrid-a0", "hybrid-a1", 0.25)
    assert spec.run_name(spec.arm("x-x"), 0) == "s-quick-x-x-s0"
    medium = _parse(GOOD, "medium")
    assert medium.seeds == (0, 1) and medium.max_questions is None and medium.train["steps"] == 10


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name = "s"', 'name = "s"\ncolour = "red"', "colour: unknown key"),
        ('name = "s"', 'name = "bad/name"', "name:"),
        ("steps = 10", "stepz = 10", "train.stepz: unknown key"),
        ("steps = 10", "steps = -1", "train.steps:"),
        ("steps = 10", 'steps = "ten"', "train.steps: must be an integer"),
        ("steps = 10", 'exclude_languages = "fr"', "train.exclude_languages: must be a list"),
        ("steps = 10", "seed = 3", "train.seed: unknown key"),
        ("alpha = [0.0, 0.5, 1.0]", "alpha = [0.0, 1.5]", "arm[0] (hybrid).alpha: must be a probability"),
        ("alpha = [0.0, 0.5, 1.0]", "alpha = []", "arm[0] (hybrid).alpha: an empty list"),
        ('sampler = "x-x"', 'sampler = "zigzag"', "arm (x-x).sampler:"),
        ('sampler = "x-x"', 'sampler = "x-x"\ncolour = 1', "arm[1] (x-x).colour: unknown key"),
        ("seeds = [0, 1]", "seeds = []", "seeds: must be a non-empty list"),
        ("seeds = [0, 1]", "seeds = [1, 1]", "seeds: repeats a seed"),
        ("seeds = [0]", "seeds = [-1]", "sizes.quick.seeds:"),
        ('data = ["xquad-r", "mlqa-r:test"]', "data = []", "eval.data:"),
        ('data = ["xquad-r", "mlqa-r:test"]', 'dta = ["x"]', "eval.dta: unknown key"),
        ("max_questions = 20", "max_questions = 0", "sizes.quick.max_questions:"),
        ("[sizes.medium]", "[sizes.huge]", "sizes.huge: unknown key"),
        ("max_questions = 20", "bogus = 1", "sizes.quick.bogus: unknown key"),
        ('"hybrid-a1", [0.25, 0.75]]', '"nope", 0.5]', "arm (soup).merge: 'nope' is not a trained arm"),
        ('"hybrid-a1", [0.25, 0.75]]', '"hybrid-a1", 2]', "arm[2] (soup).merge: lambda must be"),
        ('merge = ["hybrid-a0", "hybrid-a1", [0.25, 0.75]]', 'merge = ["x-x"]', "arm[2] (soup).merge: must be"),
        ('baseline = "hybrid-a0.5"', 'baseline = "hybrid-a0.3"', "baseline: 'hybrid-a0.3' is not an arm"),
        ('baseline = "hybrid-a0.5"', 'correction = "bonferroni"', "correction:"),
        (
            'name = "soup"\nmerge = ["hybrid-a0", "hybrid-a1", [0.25, 0.75]]',
            'name = "x-x"\nsampler = "x-x"',
            "arm: two arms expand to the same name 'x-x'",
        ),
        ('name = "soup"', 'name = "soup"\nsampler = "x-x"', "arm[2] (soup).sampler: a merge arm takes only"),
        ('max_questions = "all"', 'max_questions = "all"\n[slices]\nlow_resource = "hi"', "slices.low_resource:"),
        ('name = "s"', 'name = "s"\nreported = "yes"', "reported:"),
    ],
)
def test_bad_key_or_value_names_file_and_key(old: str, new: str, key: str) -> None:
    assert old in GOOD
    with pytest.raises(StudyError) as err:
        _parse(GOOD.replace(old, new, 1), "quick" if "sizes.quick" in key else "medium")
    assert str(err.value).startswith("study.toml: ")
    assert key in str(err.value)


def test_undefined_size_and_bad_toml(tmp_path) -> None:
    with pytest.raises(StudyError, match=r"sizes.full: this study defines no size 'full'"):
        _parse(GOOD, "full")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(StudyError, match=r"bad.toml: not valid TOML"):
        load_study(bad)
    with pytest.raises(StudyError, match="shipped studies: alpha-sweep"):
        load_study("no-such-study")


def test_shipped_studies_parse_at_every_size() -> None:
    assert shipped_studies() == [
        "alpha-sweep",
        "augmentation",
        "dapt",
        "low-resource",
        "merge",
        "noise-robustness",
        "paper-table",
        "unseen-languages",
    ]
    for name in shipped_studies():
        for size in ("quick", "medium", "full"):
            spec = load_study(name, size)
            assert spec.size == size and spec.baseline in [a.label for a in spec.arms]
    sweep = load_study("alpha-sweep", "medium")
    assert [a.axis for a in sweep.arms if a.series == "hybrid"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    # medium spends its budget on seeds: a 200-question XQuAD-R sample (paper-table's medium evaluates whole sets)
    assert sweep.max_questions == 200 and sweep.eval_data == ("xquad-r",)
    assert load_study("paper-table", "medium").max_questions is None
    noise = load_study("noise-robustness", "medium")
    assert (
        noise.noise == ("typos:0.05", "typos:0.1", "typos:0.2", "casing:1,diacritics:1") and noise.max_questions is None
    )
    aug = load_study("augmentation", "quick")
    assert "@induced" not in aug.train_config(aug.arm("all"), 0).augment and aug.dictionaries["pivot"] == "en"
    low = load_study("low-resource", "medium")
    assert low.train_config(low.arm("cut-tt-parallel-oracle"), 0).reduce_languages == ("hi",)
    dapt = load_study("dapt", "quick")
    assert (
        dapt.dapt_config(dapt.arm("hybrid-0.5-dapt")).steps == 20 and dapt.dapt_config(dapt.arm("hybrid-0.5")) is None
    )
    merge = load_study("merge", "quick")
    assert [a.merge for a in merge.arms if a.is_merge][1] == ("x-y", "x-x-mono", 0.25)


def test_cli_exit_2_with_one_error_line(tmp_path) -> None:
    from hybrid_core.cli import main

    path = tmp_path / "s.toml"
    path.write_text(GOOD.replace("steps = 10", "stepz = 10"), encoding="utf-8")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main(["study", str(path), "--dry-run"])
    assert rc == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: train.stepz: unknown key")


@pytest.mark.slow
@pytest.mark.parametrize("size", ["quick", "medium", "full"])
@pytest.mark.parametrize("name", shipped_studies())
def test_shipped_studies_dry_run_on_the_real_data(name, size, tmp_path, monkeypatch) -> None:
    """Every preset plans at every size on the real sets (loads them; no model, nothing trained)."""
    from hybrid_core.studies.runner import run_study

    pytest.importorskip("pyarrow")
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))
    try:
        spec = load_study(name, size)
        plan, _ = run_study(
            spec, runs_dir=tmp_path / "runs", out_root=tmp_path / "studies", dry_run=True, log=lambda *a: None
        )
    except HybridIRError as exc:
        if "not found" in str(exc) or "download" in str(exc):
            pytest.skip(f"real data not available: {exc}")
        raise
    assert plan.estimate_seconds()["total"] > 0 and len(plan.cells) == 1 + len(spec.seeds) * len(spec.arms)
    assert len(plan.evaluations) == len(plan.cells) * (len(plan.datasets) + len(plan.noisy))


def test_study_help_names_every_shipped_study(capsys) -> None:
    from hybrid_core.cli import main

    assert main(["study", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the description
    listed = text.split("shipped study (", 1)[1].split(")", 1)[0]
    assert listed.split(", ") == shipped_studies()
