"""DAPT: masked-LM continued pretraining of a tiny BERT; a usable sentence-transformers folder, resume, bad input."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from hybrid_core.cli import main
from hybrid_core.models.loading import load_model
from hybrid_core.training import dapt
from hybrid_core.training.dapt import DaptConfig, DaptError, dapt_info, read_text_file, run_dapt
from hybrid_core.training.trainer import TrainConfig, train

from .conftest import VOCAB_K


@pytest.fixture
def text_file(tmp_path):
    f = tmp_path / "domain.txt"
    lines = [" ".join(f"en{(i * 7 + j) % VOCAB_K}" for j in range(10)) for i in range(40)]
    f.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return f


def _cfg(model, text_file, **kw) -> DaptConfig:
    base = dict(model=str(model), text_file=str(text_file), steps=4, batch_size=4, warmup_steps=1, checkpoint_every=2)
    return DaptConfig(**{**base, **kw})


def _weights(folder):
    return load_file(str(folder / "model.safetensors"))


def test_dapt_writes_a_model_that_trains(tiny_model_dir, text_file, synthetic_dir, tmp_path):
    out = run_dapt(_cfg(tiny_model_dir, text_file), tmp_path / "dapt", log=lambda *a: None)
    assert out == tmp_path / "dapt" / "model"
    base, new = load_model(tiny_model_dir), load_model(out)
    assert new.prompts == base.prompts and type(new[1]).__name__ == "Pooling"
    assert new[1].get_config_dict() == base[1].get_config_dict() and new[1].pooling_mode == "mean"
    wb, wn = _weights(tiny_model_dir), _weights(out)
    assert set(wb) == set(wn) and any(not torch.equal(wb[k], wn[k]) for k in wb)
    info = dapt_info(out)
    assert info["status"] == "done" and info["dapt_source"].startswith("file:domain.txt:sha256:")
    assert info["passages"] == 40 and info["base_model"] == str(tiny_model_dir)
    assert dapt_info(tiny_model_dir) is None
    run = train(
        TrainConfig(model=str(out), train_data=str(synthetic_dir), steps=2, batch_size=4, warmup_steps=1),
        "from-dapt",
        progress=False,
        log=lambda *a: None,
    )
    assert (run.path / "model" / "model.safetensors").is_file()


def test_target_set_source_is_recorded(tiny_model_dir, synthetic_dir, tmp_path):
    cfg = DaptConfig(model=str(tiny_model_dir), data=str(synthetic_dir), languages=("de",), steps=1, batch_size=2)
    texts, source = dapt.passages(cfg)
    assert source == f"target-set:{synthetic_dir}[de]" and len(texts) == 30  # 6 articles x 5 paragraphs
    assert all(t.split()[0].startswith("de") for t in texts)
    out = run_dapt(cfg, tmp_path / "d", log=lambda *a: None)
    assert dapt_info(out)["dapt_source"] == f"target-set:{synthetic_dir}[de]"


def test_resume_equals_uninterrupted(tiny_model_dir, text_file, tmp_path, monkeypatch):
    cfg = _cfg(tiny_model_dir, text_file, steps=5)
    full = run_dapt(cfg, tmp_path / "full", log=lambda *a: None)
    original = dapt._lr

    def crash(step, c):
        if step == 3:
            raise KeyboardInterrupt
        return original(step, c)

    monkeypatch.setattr(dapt, "_lr", crash)
    with pytest.raises(KeyboardInterrupt):
        run_dapt(cfg, tmp_path / "cut", log=lambda *a: None)
    assert not (tmp_path / "cut" / "model").exists()
    monkeypatch.setattr(dapt, "_lr", original)
    with pytest.raises(DaptError, match="--resume"):
        run_dapt(cfg, tmp_path / "cut", log=lambda *a: None)
    with pytest.raises(DaptError, match="changed: steps"):
        run_dapt(_cfg(tiny_model_dir, text_file, steps=6), tmp_path / "cut", resume=True, log=lambda *a: None)
    logs = []
    cut = run_dapt(cfg, tmp_path / "cut", resume=True, log=logs.append)
    assert any("resuming at step 2" in m for m in logs)
    assert len((tmp_path / "cut" / "dapt_log.jsonl").read_text().splitlines()) == 5
    wa, wb = _weights(full), _weights(cut)
    for k in wa:
        torch.testing.assert_close(wb[k], wa[k], rtol=1e-5, atol=1e-7, msg=k)


@pytest.mark.parametrize(
    ("content", "match"),
    [(b"", "text file is empty"), (b"\n  \n", "text file is empty"), ("caf\u00e9\n".encode("latin-1"), "not UTF-8")],
)
def test_bad_text_file(tmp_path, content, match):
    f = tmp_path / "t.txt"
    f.write_bytes(content)
    with pytest.raises(DaptError, match=match) as exc:
        read_text_file(f)
    assert str(f) in str(exc.value)


def test_cli_bad_input_exit_2_nothing_written(tiny_model_dir, tmp_path, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Stra\u00dfe\n".encode("latin-1"))
    out = tmp_path / "out"
    assert main(["dapt", "--model", str(tiny_model_dir), "--text-file", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}: not UTF-8") and err.count("\n") == 1
    assert not out.exists()
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    assert main(["dapt", "--model", str(tiny_model_dir), "--text-file", str(empty), "--out", str(out)]) == 2
    assert "text file is empty" in capsys.readouterr().err and not out.exists()
