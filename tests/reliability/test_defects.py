"""Each defect of issue 12 reproduced as a test: results that lie, damaged caches, bad models, names,
the dashboard's exposure, the job cap. (Bad inputs through the CLI are in test_bad_inputs.py.)"""

from __future__ import annotations

import json
import os
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hybrid_core.cli import main
from hybrid_core.errors import DataError, HybridIRError, ModelError, RunError
from hybrid_core.runs import MANIFEST, PER_QUERY, SUMMARY, RunStore, derive_name
from tests.reliability.conftest import tree

REPO = Path(__file__).resolve().parents[2]


def _result(n: int = 3, value: float = 0.5) -> tuple[pd.DataFrame, dict]:
    pq = pd.DataFrame({"query_id": [f"q{i}" for i in range(n)], "kind": "mono", "setting": "en->en", "map": value})
    return pq, {"data_fingerprint": "fp", "n_queries": n, "macro": {"mono": {"map": value}}, "kinds": ["mono"]}


# ---------------------------------------------------------------- results committed as a unit


def test_result_is_one_unit_with_a_manifest(tmp_path):
    run = RunStore(tmp_path).create("r", kind="evaluate", model="m")
    pq, summary = _result()
    run.save_result("toy", pq, summary)
    folder = run.result_dir("toy")
    assert sorted(p.name for p in folder.iterdir()) == sorted([MANIFEST, PER_QUERY, SUMMARY])
    manifest = json.loads((folder / MANIFEST).read_text())["files"]
    assert manifest[PER_QUERY]["size"] == (folder / PER_QUERY).stat().st_size
    assert run.has_result("toy", "fp", ("mono",))
    assert [p.name for p in (folder.parent).iterdir() if p.name != ".lock"] == ["toy"]  # no temporary left


def test_truncated_parquet_is_not_served(tmp_path):
    run = RunStore(tmp_path).create("r", kind="evaluate", model="m")
    run.save_result("toy", *_result())
    f = run.result_dir("toy") / PER_QUERY
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])
    with pytest.warns(UserWarning, match="per_query.parquet for 'toy' is damaged"):
        assert not run.has_result("toy", "fp")
    with pytest.raises(RunError, match="damaged"):
        run.per_query("toy")


def test_mismatched_pair_is_not_served(tmp_path):
    """A kill between the two writes of the old code left one evaluation's parquet beside another's summary."""
    run = RunStore(tmp_path).create("r", kind="evaluate", model="m")
    run.save_result("a", *_result(3, 0.5))
    run.save_result("b", *_result(3, 0.9))
    (run.result_dir("a") / PER_QUERY).write_bytes((run.result_dir("b") / PER_QUERY).read_bytes())
    with pytest.warns(UserWarning, match="sha256 differs"):
        assert not run.has_result("a", "fp")


def test_legacy_result_without_manifest_is_checked_for_consistency(tmp_path):
    run = RunStore(tmp_path).create("r", kind="evaluate", model="m")
    run.save_result("toy", *_result(3))
    (run.result_dir("toy") / MANIFEST).unlink()
    assert run.has_result("toy", "fp")  # results written before manifests still count
    _result(5)[0].to_parquet(run.result_dir("toy") / PER_QUERY)  # a parquet of another evaluation
    with pytest.warns(UserWarning, match="disagree"):
        assert not run.has_result("toy", "fp")


def test_stale_temporaries_are_cleaned_on_the_next_commit(tmp_path):
    run = RunStore(tmp_path).create("r", kind="evaluate", model="m")
    stale = run.path / "results" / ".toy.dead1234.tmp"
    stale.mkdir(parents=True)
    (stale / PER_QUERY).write_bytes(b"half")
    run.save_result("toy", *_result())
    assert not stale.exists()
    assert run.datasets() == ["toy"]


def test_kinds_are_part_of_the_on_disk_key(tiny_model, small_lareqa, capsys):
    """evaluate --kinds mono, then without: cross and multi must be computed, not 'on disk'."""
    args = ["evaluate", "--model", str(tiny_model), "--data", str(small_lareqa), "--run", "k"]
    assert main([*args, "--kinds", "mono"]) == 0
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "on disk, not recomputed" not in out
    summary = RunStore().get("k").summary("small")
    assert set(summary["macro"]) == {"mono", "cross", "multi"}
    assert main([*args, "--kinds", "cross"]) == 0  # a subset of what is on disk is reused
    assert "on disk, not recomputed" in capsys.readouterr().out


# ---------------------------------------------------------------- embedding cache


def test_zero_length_and_garbage_shards_are_recomputed(tiny_model, tmp_path):
    from sentence_transformers import SentenceTransformer

    from hybrid_core.models.encode import encode

    model = SentenceTransformer(str(tiny_model), device="cpu")
    texts = ["en1 en2", "de3 de4", "en5"]
    clean = encode(model, texts, model_fingerprint="fp", cache_root=tmp_path / "clean")
    root = tmp_path / "cache"
    encode(model, texts, model_fingerprint="fp", cache_root=root)
    (shard,) = root.glob("*/shard-*.npz")
    shard.write_bytes(b"")
    (shard.parent / "shard-garbage.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.warns(UserWarning, match="damaged embedding shard"):
        again = encode(model, texts, model_fingerprint="fp", cache_root=root)
    np.testing.assert_allclose(again, clean, rtol=0, atol=1e-6)
    assert not (shard.parent / "shard-garbage.npz").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten cache is clean
        np.testing.assert_allclose(encode(model, texts, model_fingerprint="fp", cache_root=root), clean, atol=1e-6)


# ---------------------------------------------------------------- models


def test_bad_model_folder_leaves_no_run(tmp_path, capsys):
    notmodel = tmp_path / "notmodel"
    notmodel.mkdir()
    (notmodel / "x.txt").write_text("hello")
    before = tree(Path(os.environ["HYBRID_IR_RUNS"]))
    assert main(["evaluate", "--model", str(notmodel), "--data", "xquad-r", "--run", "bad"]) == 2
    assert "not a sentence-transformers or Hugging Face model folder" in capsys.readouterr().err
    assert tree(Path(os.environ["HYBRID_IR_RUNS"])) == before
    assert main(["evaluate", "--model", "/", "--data", "xquad-r", "--run", "bad"]) == 2  # never walks the disk
    assert "/ is not a sentence-transformers" in capsys.readouterr().err


def test_fingerprint_hashes_only_the_models_own_files(tiny_model, tmp_path):
    import shutil

    from hybrid_core.models.loading import model_files, model_fingerprint

    copy = tmp_path / "m"
    shutil.copytree(tiny_model, copy)
    fp = model_fingerprint(copy)
    (copy / "junk" / "deep").mkdir(parents=True)
    (copy / "junk" / "deep" / "big.bin").write_bytes(b"x" * 1000)
    assert model_fingerprint(copy) == fp
    assert all(p.parent.name != "deep" for p in model_files(copy))
    (copy / "1_Pooling" / "config.json").write_text("{}")  # a module's own file does count
    assert model_fingerprint(copy) != fp
    with pytest.raises(ModelError, match=r"no modules\.json or config\.json"):
        model_fingerprint(tmp_path)


def test_a_hub_name_that_fails_to_load_leaves_no_run(small_lareqa, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert main(["evaluate", "--model", "no-such-org/no-such-model", "--data", str(small_lareqa), "--run", "h"]) == 2
    assert "could not load a model" in capsys.readouterr().err
    assert not RunStore().path("h").exists()


def test_bad_eval_data_fails_before_training(tiny_model, small_lareqa, capsys):
    argv = ["train", "--run", "t", "--model", str(tiny_model), "--data", str(small_lareqa), "--steps", "2"]
    assert main([*argv, "--batch-size", "4", "--eval-data", "no-such-set"]) == 2
    assert "no-such-set" in capsys.readouterr().err
    run = RunStore().path("t")
    assert not (run / "checkpoints").exists() and not (run / "model").exists()


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("folder", "name"), [("my data", "my-data"), ("Überset ö", "Uberset-o"), ("日本語", "data"), ("..x..", "x")]
)
def test_folder_names_become_valid_data_set_names(small_lareqa, tmp_path, folder, name):
    import shutil

    from hybrid_core.data import load_dataset
    from hybrid_core.runs import validate_name

    target = tmp_path / folder
    shutil.copytree(small_lareqa, target)
    ds = load_dataset(str(target))
    assert ds.name == name == validate_name(derive_name(folder))


def test_space_in_folder_name_evaluates(tiny_model, small_lareqa, tmp_path, capsys):
    import shutil

    target = tmp_path / "my set"
    shutil.copytree(small_lareqa, target)
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(target), "--run", "sp", "--kinds", "mono"]) == 0
    assert RunStore().get("sp").datasets() == ["my-set"]


def test_existing_folder_message_names_no_missing_option(tmp_path):
    store = RunStore(tmp_path)
    (tmp_path / "half").mkdir()
    with pytest.raises(RunError) as e:
        store.create("half", kind="evaluate", model="m")
    assert "--overwrite" not in str(e.value) and "without run.json" in str(e.value)


# ---------------------------------------------------------------- data checks


def test_dangling_and_looping_symlinks_are_one_error(tmp_path):
    from hybrid_core.data import load_dataset

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "en.json").symlink_to(tmp_path / "missing.json")
    with pytest.raises(DataError, match=r"en\.json"):
        load_dataset(str(tmp_path / "d"))
    (tmp_path / "l").mkdir()
    os.symlink(tmp_path / "l" / "de.json", tmp_path / "l" / "de.json")
    with pytest.raises(DataError, match=r"de\.json"):
        load_dataset(str(tmp_path / "l"))


# ---------------------------------------------------------------- dashboard exposure, uploads, jobs


def test_streamlit_binds_loopback_and_upload_limit_matches_the_core():
    from hybrid_core.data.uploads import MAX_FILE_BYTES, MAX_UPLOAD_MB

    server = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["server"]
    assert server["address"] == "127.0.0.1"
    assert server["maxUploadSize"] == MAX_UPLOAD_MB == MAX_FILE_BYTES // 2**20


@pytest.mark.parametrize(
    ("address", "warns"),
    [("127.0.0.1", False), ("localhost", False), ("::1", False), ("[::1]", False), ("127.0.1.1", False),
     ("0.0.0.0", True), ("", True), (None, True), ("192.168.1.5", True), ("example.org", True), ("::", True)],
)  # fmt: skip
def test_exposure_warning(address, warns):
    from hybrid_core.jobs import exposure_warning

    msg = exposure_warning(address)
    assert (msg is not None) == warns
    if warns:
        assert "reverse proxy with authentication" in msg


def test_job_command_is_shell_quoted():
    from hybrid_core.jobs import JobStatus

    job = JobStatus("i", "", [sys.executable, "-m", "hybrid_core", "evaluate", "--data", "my set"], 0, "done", 0, 1, "")
    assert job.command == "python -m hybrid_core evaluate --data 'my set'"


def test_job_cap(tmp_path, monkeypatch):
    from hybrid_core import jobs

    monkeypatch.setenv("HYBRID_IR_MAX_JOBS", "1")
    first = jobs.start([sys.executable, "-c", "import time; time.sleep(30)"], root=tmp_path)
    try:
        with pytest.raises(HybridIRError, match="1 jobs are running, the limit is 1"):
            jobs.start([sys.executable, "-c", "pass"], root=tmp_path)
        assert len(jobs.list_jobs(tmp_path)) == 1
    finally:
        jobs.cancel(first, tmp_path)
    monkeypatch.setenv("HYBRID_IR_MAX_JOBS", "zero")
    with pytest.raises(HybridIRError, match="HYBRID_IR_MAX_JOBS must be a positive integer"):
        jobs.start([sys.executable, "-c", "pass"], root=tmp_path)
