"""Augmentation, low-resource and DAPT arms in a study: induced dictionaries built once into the cache, back-
translation and code-switching through them, the reduce / translate-train options, a masked-LM stage before
training, its target-set note in every table; spec validation of the new keys."""

from __future__ import annotations

import tomllib

import pytest

from hybrid_core.io_utils import read_json
from hybrid_core.runs import RunStore
from hybrid_core.studies.plan import build_plan
from hybrid_core.studies.runner import run_study
from hybrid_core.studies.spec import StudyError, load_study, parse_study


def study_text(model, data) -> str:
    return f'''
name = "aug"
base_model = "{model}"
seeds = [0]
baseline = "none"

[train]
train_data = "{data}"
train_split = "train"
batch_size = 4
steps = 3
lr = 1e-3
warmup_steps = 1
checkpoint_every = 0
augment_prob = 1.0

[eval]
data = ["{data}:test"]

[slices]
per_language = false
low_resource = ["de"]

[dictionaries]
languages = ["de", "en", "es", "fr"]
pivot = "en"
max_pairs = 24
min_count = 1

[[arm]]
name = "none"

[[arm]]
name = "cs"
augment = "codeswitch=0.5@induced"

[[arm]]
name = "bt"
augment = "backtranslate=en@induced"

[[arm]]
name = "low-tt"
reduce_languages = ["de"]
reduce_fraction = 0.2
translate_train = "parallel"

[[arm]]
name = "dapt"
dapt = {{ steps = 2, batch_size = 2, text = "target", checkpoint_every = 1 }}

[sizes.quick]
max_questions = 8
dapt_steps = 3
'''


def _parse(text: str, size: str | None = "quick"):
    return parse_study(tomllib.loads(text), "study.toml", size)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HYBRID_IR_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_augment_low_resource_dapt_study_end_to_end(tmp_path, cache, tiny_model_dir, synthetic_dir) -> None:
    path = tmp_path / "aug.toml"
    path.write_text(study_text(tiny_model_dir, synthetic_dir), encoding="utf-8")
    spec = load_study(path, "quick")
    runs, out = tmp_path / "runs", tmp_path / "studies"
    dry, _ = run_study(spec, runs_dir=runs, out_root=out, dry_run=True, log=lambda *a: None)
    assert len(dry.dictionaries["todo"]) == 6 and dry.dictionaries["texts"] == 6 * 2 * 24
    assert [d["steps"] for d in dry.dapt] == [3] and dry.dapt[0]["state"] == "todo"  # the size's dapt_steps
    text = dry.describe()
    assert "6 to induce (de->en, en->de" in text and "DAPT stage" in text and "target-set:" in text
    assert {"dictionaries", "dapt"} <= set(dry.estimate_seconds())

    _, folder = run_study(spec, runs_dir=runs, out_root=out, n_boot=30, n_perm=30, log=lambda *a: None)
    store = RunStore(runs)
    dict_dir = cache / "dictionaries"
    files = sorted(p.name for p in dict_dir.glob("*/*.txt"))
    assert files == sorted(f"{a}-{b}.txt" for x in ("de", "es", "fr") for a, b in ((x, "en"), ("en", x)))
    cs = store.get("aug-quick-cs-s0").info["config"]["augment"]
    assert cs.startswith("codeswitch=0.5@") and str(dict_dir) in cs and "@induced" not in cs
    bt = store.get("aug-quick-bt-s0").info["config"]["augment"]
    assert bt.startswith("backtranslate=en@") and bt.count(".txt") == 6
    red = store.get("aug-quick-low-tt-s0").info
    assert red["reduction"]["cut_pairs"] > 0 and "oracle" in red["reduction"]["translator"]
    dapt_run = store.get("aug-quick-dapt-s0").info["config"]
    dapt_folder = spec.dapt_folder(spec.arm("dapt"))
    assert dapt_run["model"] == str(dapt_folder / "model") and str(cache) in dapt_run["model"]
    info = read_json(dapt_folder / "dapt.json")
    assert info["status"] == "done" and info["steps"] == 3 and info["dapt_source"].startswith("target-set:")
    # every table (and the report) says the DAPT arm used target-set text
    for f in (folder / "tables").glob("*.tex"):
        assert "DAPT ON TARGET-SET TEXT" in f.read_text(), f.name
    assert "DAPT ON TARGET-SET TEXT: arm(s) dapt" in (folder / "report.md").read_text()
    assert read_json(folder / "status.json")["state"] == "done"

    # a second plan: dictionaries, DAPT stage and every run on disk
    again = build_plan(spec, runs_dir=runs, out_root=out)
    assert again.dictionaries["todo"] == [] and again.dapt[0]["state"] == "done"
    assert all(c.state == "done" for c in again.cells) and all(e[2] for e in again.evaluations)


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ("[dictionaries]\n", "[dictionaries]\ncolour = 1\n", "dictionaries.colour: unknown key"),
        ('pivot = "en"', 'pivot = "xx"', "dictionaries.pivot: 'xx' is not in languages"),
        ("max_pairs = 24", "max_pairs = 0", "dictionaries.max_pairs: must be a positive integer"),
        ("min_count = 1", 'min_count = 1\nmethod = "best"', "dictionaries.method: must be one of"),
        ("dapt_steps = 3", "dapt_steps = 0", "sizes.quick.dapt_steps: must be a positive integer"),
        ("steps = 2, batch_size", "stepz = 2, batch_size", r"arm\[4\] \(dapt\).dapt.stepz: unknown key"),
        ('text = "target"', 'text = "file:/no/such.txt"', r"arm \(dapt\).dapt.text: .*not found"),
        ('text = "target"', "text = 3", r"arm\[4\] \(dapt\).dapt.text: must be"),
        ("checkpoint_every = 1 }", "lr = -1.0 }", r"arm \(dapt\).dapt: lr must be positive"),
        ('augment = "codeswitch=0.5@induced"', 'augment = "codeswitch=2@induced"', r"arm \(cs\).augment: .*outside"),
        ('augment = "backtranslate=en@induced"', 'augment = "backtranslate=en"', r"arm \(bt\).augment: .*pivot"),
        ('augment = "backtranslate=en@induced"', 'augment = "shuffle=1"', r"arm \(bt\).augment: .*not one of"),
        ("reduce_fraction = 0.2", "reduce_fraction = 2.0", r"arm \(low-tt\).reduce_fraction: .*\(0, 1\]"),
        ('translate_train = "parallel"', 'translate_train = "deepl"', r"arm \(low-tt\).translate_train"),
    ],
)
def test_bad_new_keys_name_file_and_key(old, new, match, tmp_path, cache) -> None:
    text = study_text("m", "mlqa-r")
    assert old in text
    with pytest.raises(StudyError, match=rf"study.toml: {match}"):
        _parse(text.replace(old, new))


def test_induced_needs_a_dictionaries_table(cache) -> None:
    text = study_text("m", "mlqa-r")
    start = text.index("[dictionaries]")
    text = text[:start] + text[text.index("[[arm]]") :]
    with pytest.raises(StudyError, match=r"study.toml: arm \(cs\).augment: .*add a \[dictionaries\] table"):
        _parse(text)


def test_dapt_on_a_merge_arm_is_refused(cache) -> None:
    text = study_text("m", "mlqa-r") + '\n[[arm]]\nname = "soup"\nmerge = ["none", "cs", 0.5]\ndapt = { steps = 1 }\n'
    text = text.replace("[sizes.quick]", "[sizes.medium]")  # the merge arm must come before sizes in TOML
    text = text.replace('[[arm]]\nname = "soup"', "").replace('merge = ["none", "cs", 0.5]\ndapt = { steps = 1 }', "")
    text = text.replace(
        '[[arm]]\nname = "dapt"',
        '[[arm]]\nname = "soup"\nmerge = ["none", "cs", 0.5]\ndapt = { steps = 1 }\n\n[[arm]]\nname = "dapt"',
    )
    with pytest.raises(StudyError, match=r"arm\[4\] \(soup\).dapt: a merge arm takes only"):
        _parse(text, "medium")
