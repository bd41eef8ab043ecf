"""Weight merging (hand-checked interpolation, end points exact, mismatches refused) and language slices."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from hybrid_core.errors import ModelError
from hybrid_core.studies import cc100
from hybrid_core.studies.slices import language_slices
from hybrid_core.training.merge import interpolate, merge_models


def test_interpolate_hand_case_and_end_points() -> None:
    a = {"w": torch.tensor([0.0, 2.0]), "ids": torch.tensor([1, 2])}
    b = {"w": torch.tensor([4.0, 6.0]), "ids": torch.tensor([1, 2])}
    assert interpolate(a, b, 0.25)["w"].tolist() == [1.0, 3.0]  # 0.75 * a + 0.25 * b
    assert torch.equal(interpolate(a, b, 0.0)["w"], a["w"]) and torch.equal(interpolate(a, b, 1.0)["w"], b["w"])
    assert interpolate(a, b, 0.5)["ids"].tolist() == [1, 2]
    with pytest.raises(ModelError, match="non-float tensor 'ids'"):
        interpolate(a, {**b, "ids": torch.tensor([1, 3])}, 0.5)
    with pytest.raises(ModelError, match="different tensors"):
        interpolate(a, {"w": b["w"]}, 0.5)
    with pytest.raises(ModelError, match="tensor 'w'"):
        interpolate(a, {**b, "w": torch.zeros(3)}, 0.5)


def test_merge_models_folders(tmp_path) -> None:
    for name, value in (("a", 1.0), ("b", 3.0)):
        (tmp_path / name).mkdir()
        save_file({"x": torch.full((2, 2), value)}, tmp_path / name / "model.safetensors")
        (tmp_path / name / "config.json").write_text(f'{{"from": "{name}"}}')
    out = merge_models(tmp_path / "a", tmp_path / "b", 0.5, tmp_path / "m")
    assert load_file(out / "model.safetensors")["x"].tolist() == [[2.0, 2.0], [2.0, 2.0]]
    assert (out / "config.json").read_text() == '{"from": "a"}'  # configs / tokenizer of the first model
    end = merge_models(tmp_path / "a", tmp_path / "b", 1.0, tmp_path / "m1")
    assert load_file(end / "model.safetensors")["x"].tolist() == [[3.0, 3.0], [3.0, 3.0]]
    assert not list(tmp_path.glob(".*tmp"))
    with pytest.raises(ModelError, match="does not exist"):
        merge_models(tmp_path / "a", tmp_path / "missing", 0.5, tmp_path / "x")


def test_language_slices_seen_unseen_low_resource() -> None:
    xquad = ["ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"]
    mlqa = ["ar", "de", "en", "es", "hi", "vi", "zh"]
    s = language_slices(xquad, mlqa)
    assert s["unseen"] == ["el", "ru", "th", "tr"]
    assert s["seen"] == mlqa
    assert s["low-resource"] == ["ar", "hi", "tr"]  # least CC-100 data among XQuAD-R's languages
    assert s["lang:el"] == ["el"] and s["all"] == xquad
    only_seen = language_slices(mlqa, mlqa, low_resource=["hi", "xx"], per_language=False)
    assert "unseen" not in only_seen and only_seen["low-resource"] == ["hi"] and "lang:hi" not in only_seen
    assert cc100.low_resource(["en", "ru", "th"], 1) == ["th"]
