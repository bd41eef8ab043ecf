"""Result tables as text: LaTeX escapes every special character, compiles with booktabs, cells carry CIs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybrid_core.evaluation.tables import format_p, interval_table, latex_document, latex_escape, table_text
from tests.latex_check import NO_PDFLATEX, PDFLATEX, assert_compiles


def _tidy() -> pd.DataFrame:
    rows = []
    for run, base, sig in (("base_run", 0.5, False), ("hybrid_50%", 0.6, True)):
        for kind in ("mono", "multi"):
            for metric, v in (("map", base), ("rank_distance", 300.0 - 100 * base)):
                if metric == "rank_distance" and kind != "multi":
                    continue
                rows.append(
                    dict(
                        run=run,
                        kind=kind,
                        metric=metric,
                        value=v,
                        ci_low=v - 0.01,
                        ci_high=v + 0.02,
                        significant=sig,
                        better=metric == "map",
                    )
                )
    return pd.DataFrame(rows)


def test_latex_escape_every_special_character() -> None:
    raw = r"a_b 50% R&D #1 $5 {x} ~y ^z \w"
    assert latex_escape(raw) == (
        r"a\_b 50\% R\&D \#1 \$5 \{x\} \textasciitilde{}y \textasciicircum{}z \textbackslash{}w"
    )
    assert latex_escape("–") == "--" and latex_escape("▲") == r"$^{\blacktriangle}$"


def test_format_p() -> None:
    assert format_p(0.0) == "p<0.001" and format_p(0.0009) == "p<0.001"
    assert format_p(0.001) == "p=0.001" and format_p(0.0344) == "p=0.034"
    assert format_p(float("nan")) == "p=–"


def test_interval_table_cells_and_marks() -> None:
    wide = interval_table(_tidy())
    assert list(wide.index) == ["base_run", "hybrid_50%"]
    assert list(wide.columns) == ["mono map", "multi map", "multi rank_distance"]
    assert wide.loc["base_run", "mono map"] == "0.500 [0.490, 0.520]"
    assert wide.loc["hybrid_50%", "mono map"] == "0.600 [0.590, 0.620] ▲"
    assert wide.loc["hybrid_50%", "multi rank_distance"] == "240.000 [239.990, 240.020] ▼"
    one = interval_table(_tidy(), kinds=["mono"], marks=False)
    assert list(one.columns) == ["map"] and one.loc["hybrid_50%", "map"] == "0.600 [0.590, 0.620]"


def test_latex_table_is_booktabs_and_escaped() -> None:
    wide = interval_table(_tidy())
    tex = table_text(wide, "tex", caption="mAP & RD_macro on xquad-r_q60 (95% CI)")
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"mAP \& RD\_macro on xquad-r\_q60 (95\% CI)" in tex
    assert r"multi rank\_distance" in tex and r"hybrid\_50\%" in tex
    body = tex.split(r"\midrule")[1]
    for ch in ("_", "%", "&&", "#"):
        assert ch not in body.replace(r"\_", "").replace(r"\%", "").replace(r"\&", "").replace(r"\#", "")
    csv = table_text(wide, "csv")
    assert csv.splitlines()[0] == "run,mono map,multi map,multi rank_distance"
    # an unnamed range index is not written (no leaked index column)
    assert table_text(pd.DataFrame({"a_b": [1.0]}), "csv").splitlines() == ["a_b", "1.0"]


@pytest.mark.skipif(PDFLATEX is None, reason=NO_PDFLATEX)
def test_latex_compiles_with_pdflatex(tmp_path) -> None:
    nasty = pd.DataFrame(
        {"p_value": [0.01, np.nan], "n_questions": [60, 50], "note {x}": ["~a^b\\c", "$#&%"]},
        index=pd.Index(["run_1", "run%2"], name="run_name"),
    )
    doc = latex_document(
        table_text(interval_table(_tidy()), "tex", caption="Main_table 100% & more"),
        table_text(nasty, "tex", caption="rank_distance, ci_low, ci_high"),
        table_text(pd.DataFrame({f"col_{i}": [i / 7] for i in range(9)}), "tex"),
    )
    assert assert_compiles(doc, tmp_path).stat().st_size > 1000
