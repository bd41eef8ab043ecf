"""Uploads saved for a background job: derived names, a folder the loaders read back as the upload was."""

from __future__ import annotations

import pytest

from hybrid_core.data import load_dataset
from hybrid_core.data.specs import load_data_spec
from hybrid_core.data.uploads import load_upload, save_upload, suggest_name
from hybrid_core.errors import DataError

CSV = (
    b"query,language,relevant_ids\n"
    b"Where does the Danube rise?,en,en:0:0:1\n"
    b"Wo entspringt die Donau?,de,de:0:0:1|en:0:0:1\n"
)


def test_suggest_name_from_file_names() -> None:
    assert suggest_name(["ro-en questions.csv"]) == "upload-ro-en-questions"
    assert suggest_name(["en.json", "de.json"]) == "upload-de-en"
    assert suggest_name(["corpus.jsonl", "queries.jsonl", "test.tsv"]) == "upload-set"
    assert suggest_name(["Mine.CSV", "corpus.jsonl"]) == "upload-mine"
    assert suggest_name(["x" * 200 + ".csv"]) == "upload-" + "x" * 60


def test_saved_upload_loads_back_identically(tmp_path) -> None:
    files = [("q.csv", CSV)]
    folder = save_upload(files, "tiny-parallel", "my-set", root=tmp_path)
    assert folder == tmp_path / "my-set" and (folder / "files" / "q.csv").read_bytes() == CSV
    original, _ = load_upload(files, corpus=load_dataset_demo(), name="my-set")
    for loaded in (load_dataset(folder), load_data_spec(str(folder))):
        assert loaded.name == "my-set"
        assert loaded.fingerprint() == original.fingerprint()


def test_bad_upload_is_not_saved(tmp_path) -> None:
    with pytest.raises(DataError, match="missing column"):
        save_upload([("q.csv", b"question,lang\nWhere?,en\n")], "tiny-parallel", "bad", root=tmp_path)
    assert not any(tmp_path.iterdir())


def load_dataset_demo():
    from hybrid_core.data.available import load_named

    return load_named("tiny-parallel")
