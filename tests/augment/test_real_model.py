"""The default model aligns real parallel questions: frequent en -> de function words come out right."""

from __future__ import annotations

import pytest

from hybrid_core.augment.align import induce_dictionary
from hybrid_core.data.specs import load_data_spec
from hybrid_core.models.loading import default_model_path, load_model
from tests.conftest import SHARED_DATA as DATA


@pytest.mark.slow
def test_induced_en_de_dictionary_on_xquad_r():
    if not (DATA / "xquad-r" / "en.json").is_file() or not default_model_path().is_dir():
        pytest.skip("needs XQuAD-R and the default model")
    ds = load_data_spec("xquad-r", data_dir=DATA, languages=["en", "de"])
    d, table = induce_dictionary(load_model(None, device="cpu"), ds, "en", "de", max_pairs=80, min_count=2)
    assert {"die", "der", "das"} & set(d.lookup("the"))
    assert "wann" in d.lookup("when") or "wie" in d.lookup("how")
    assert table["count"].min() >= 2 and len(d) >= 20
