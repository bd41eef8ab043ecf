"""Quality guard for int8: full XQuAD-R and full MLQA-R evaluated in fp32 and int8, macro mAP per kind compared.

Each (set, precision) evaluation runs in its own child process (so its wall time, encode / score split and
peak RSS are its own), through the same embedding cache as ``evaluate`` (``HYBRID_IR_EMBEDDINGS``; an empty
cache makes the figures cold ones). Prints, per set, macro mAP of fp32 and int8 per kind (mono / cross / multi)
with the difference, and the rank-distance difference; the verdict is "int8 may be the default for studies"
only when every |delta mAP| <= 0.005.

    HYBRID_IR_DATA=$PWD/data .venv/bin/python benchmarks/bench_int8_quality.py --out /tmp/int8_quality.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TOLERANCE = 0.005
SETS = ("xquad-r", "mlqa-r")


def one(set_name: str, precision: str, languages: list[str] | None = None, max_questions: int | None = None) -> dict:
    """Evaluate one set (all of it, unless languages / a question sample are given) at one precision."""
    from hybrid_core.data.specs import load_data_spec
    from hybrid_core.evaluation.evaluate import evaluate_model
    from hybrid_core.models.encode import set_threads
    from hybrid_core.models.loading import load_model, model_fingerprint, resolve_model
    from hybrid_core.models.precision import as_precision

    t0 = time.perf_counter()
    set_threads()
    ds = load_data_spec(set_name, languages=languages, max_questions=max_questions)
    ref = resolve_model(None)
    fp = model_fingerprint(ref)
    model = as_precision(load_model(ref), precision, ref, fp)
    t1 = time.perf_counter()
    ev = evaluate_model(model, ds, fingerprint=fp, precision=precision, progress=False)
    macro = ev.summary["macro"]
    return {
        "set": ds.name + (f" ({','.join(languages)})" if languages else ""),
        "precision": precision,
        "queries": len(ds.queries),
        "candidates": len(ds.corpus),
        "load_seconds": t1 - t0,
        "wall_seconds": time.perf_counter() - t0,
        **ev.timings,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "map": {k: macro[k]["map"] for k in macro},
        "rank_distance": macro.get("multi", {}).get("rank_distance"),
        "load_avg": os.getloadavg()[0],
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", nargs="+", default=list(SETS))
    ap.add_argument("--precisions", nargs="+", default=["int8", "fp32"])
    ap.add_argument("--out", default="int8_quality.json", help="figures as JSON (appended as they finish)")
    ap.add_argument("--languages", nargs="+", help="only these languages (default: all; the guard needs all)")
    ap.add_argument("--max-questions", type=int, help="a seeded question sample (default: every question)")
    ap.add_argument("--one", nargs=2, metavar=("SET", "PRECISION"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, args.languages, args.max_questions)))
        return
    out = Path(args.out)
    results = json.loads(out.read_text()) if out.is_file() else []
    done = {(r["set"], r["precision"]) for r in results}
    extra = (["--languages", *args.languages] if args.languages else []) + (
        ["--max-questions", str(args.max_questions)] if args.max_questions else []
    )
    for set_name in args.sets:
        for precision in args.precisions:
            if (set_name, precision) in done:
                continue
            proc = subprocess.run(
                [sys.executable, __file__, "--one", set_name, precision, *extra],
                capture_output=True,
                text=True,
                check=True,
            )
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            out.write_text(json.dumps(results, indent=1))
            r = results[-1]
            print(
                f"{set_name} {precision}: wall {r['wall_seconds']:.0f} s (encode {r['encode_seconds']:.0f} s, "
                f"score {r['score_seconds']:.1f} s), peak RSS {r['peak_rss_gb']:.2f} GB, load avg {r['load_avg']:.1f}",
                flush=True,
            )
    report(results)


def report_files(paths: list[str]) -> None:
    """Report figures written by separate runs (e.g. fp32 and int8 run side by side)."""
    report([r for p in paths for r in json.loads(Path(p).read_text())])


def report(results: list[dict]) -> None:
    by = {(r["set"], r["precision"]): r for r in results}
    ok, pairs = True, 0
    for set_name in sorted({r["set"] for r in results}):
        a, b = by.get((set_name, "fp32")), by.get((set_name, "int8"))
        if not (a and b):
            continue
        pairs += 1
        print(f"\n{set_name}: {a['queries']} queries, {a['candidates']} candidates")
        print(f"{'kind':8s} {'fp32':>7s} {'int8':>7s} {'delta':>8s}")
        for kind in a["map"]:
            d = b["map"][kind] - a["map"][kind]
            ok &= abs(d) <= TOLERANCE
            print(f"{kind:8s} {a['map'][kind]:7.4f} {b['map'][kind]:7.4f} {d:+8.4f}")
        if a["rank_distance"] is not None:
            rd = b["rank_distance"] - a["rank_distance"]
            print(f"rank distance  fp32 {a['rank_distance']:.1f}  int8 {b['rank_distance']:.1f}  delta {rd:+.1f}")
        print(f"encode seconds fp32 {a['encode_seconds']:.0f}  int8 {b['encode_seconds']:.0f}")
    if not pairs:
        print("\nno set has both an fp32 and an int8 result yet: no verdict")
        return
    print(f"\nevery |delta mAP| <= {TOLERANCE}: {ok} -> int8 {'may be the default' if ok else 'stays opt-in'}")


if __name__ == "__main__":
    main()
