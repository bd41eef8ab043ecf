"""Peak RSS and wall time of a full evaluation, run as a child process of the CLI.

    .venv/bin/python benchmarks/bench_rss.py --data xquad-r        # warm cache: scoring + I/O only
    .venv/bin/python benchmarks/bench_rss.py --data xquad-r --cold # empty embedding cache (encodes all)

Baseline in the same run: peak RSS of a child that only imports torch + sentence-transformers and
loads the model, so the ratio shows what evaluation adds on top of holding the model.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

BASELINE = "from hybrid_core.models.loading import load_model; load_model(None)"


def child_peak(cmd: list[str], env: dict) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of one child process, measured with wait4's rusage."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed")
    return usage.ru_maxrss / 1024, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", nargs="+", default=["xquad-r"])
    ap.add_argument("--cold", action="store_true", help="use an empty embedding cache")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HYBRID_IR_RUNS": os.path.join(tmp, "runs")}
        if args.cold:
            env["HYBRID_IR_EMBEDDINGS"] = os.path.join(tmp, "emb")
        base_rss, base_t = child_peak([sys.executable, "-c", BASELINE], env)
        rss, wall = child_peak(
            [sys.executable, "-m", "hybrid_core", "evaluate", "--run", "rss", "--data", *args.data], env
        )
    print(f"baseline (load model only): {base_rss:8.0f} MB  {base_t:7.1f} s")
    print(
        f"evaluate {' '.join(args.data)} ({'cold' if args.cold else 'warm'} cache): {rss:8.0f} MB  {wall:7.1f} s"
        f"  = {rss / base_rss:.2f}x the baseline's RSS"
    )


if __name__ == "__main__":
    main()
