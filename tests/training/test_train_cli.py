"""``train`` / ``experiment`` / ``runs`` commands: registration in the main CLI, errors, listing."""

from __future__ import annotations

from hybrid_core.cli import main


def test_registered_in_the_main_cli():
    from hybrid_core.cli import build_parser

    p = build_parser()
    for argv in (["train", "--run", "x"], ["experiment"], ["runs"]):
        assert callable(p.parse_args(argv).func)


def test_bad_input_exits_2_with_a_message(capsys, tiny_model_dir, synthetic_dir):
    base = ["train", "--model", str(tiny_model_dir), "--data", str(synthetic_dir), "--steps", "2"]
    for extra, msg in (
        (["--run", "a", "--sampler", "mixed"], "error: unknown sampler 'mixed'"),
        (["--run", "a", "--alpha", "1.5"], "error: alpha must be a probability in [0, 1], got 1.5"),
        (["--run", "../x"], "error: invalid run name '../x'"),
        (["--run", "a", "--resume"], "error: cannot resume 'a': no such run"),
        (["--run", "a", "--batch-size", "500"], "fewer than batch_size 500"),
    ):
        assert main(base + extra) == 2
        assert msg in capsys.readouterr().err


def test_train_then_runs_lists_it(capsys, tiny_model_dir, synthetic_dir):
    argv = [
        "train",
        "--run",
        "listed",
        "--model",
        str(tiny_model_dir),
        "--data",
        str(synthetic_dir),
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--warmup-steps",
        "1",
        "--checkpoint-every",
        "0",
        "--sampler",
        "x-y",
    ]
    assert main(argv) == 0
    assert "listed: done after 2 steps" in capsys.readouterr().out
    assert main(["runs"]) == 0
    out = capsys.readouterr().out
    assert "listed" in out and "x-y" in out and "train" in out
