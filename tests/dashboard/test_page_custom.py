"""Custom-query page: upload validation (good and bad files), evaluating runs on an upload, free-text search."""

from __future__ import annotations

import shutil
import time

import pytest

from hybrid_core import jobs
from hybrid_core.data import uploads
from hybrid_core.runs import RunStore
from tests.dashboard.helpers import app, no_exceptions

GOOD_CSV = (
    "query,language,relevant_ids\n"
    "Where does the Danube rise?,en,en:0:0:1\n"
    "Wo entspringt die Donau?,de,de:0:0:1|en:0:0:1\n"
    "Où Marie Curie est-elle née ?,fr,fr:1:0:0\n"
).encode()


@pytest.fixture
def runs_copy(dash, tmp_path, monkeypatch):
    """A private copy of the run store (evaluating an upload writes into run folders)."""
    dest = tmp_path / "runs"
    for name in ("tiny-0", "tiny-1"):
        shutil.copytree(dash.runs / name, dest / name)
    monkeypatch.setenv("HYBRID_IR_RUNS", str(dest))
    return dest


def _tree(folder) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def _upload(files, name: str = "my-set"):
    at = app("custom_queries", custom_corpus="tiny-parallel")
    at.file_uploader(key="custom_files").set_value(files).run()  # the name field follows the files ...
    at.text_input(key="custom_name").input(name).run()  # ... until the user types one
    at.button(key="custom_validate").click().run()
    no_exceptions(at)
    return at


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            [("q.csv", "query,language,relevant_ids\nFluss?,de,de:0:0:0\n".encode("latin-1") + b"\xfc\n", "text/csv")],
            "q.csv: not UTF-8 text (byte 0xfc",
        ),
        (
            [("q.csv", b"query,language,relevant_ids\nWhere?,en,en:9:9:9\n", "text/csv")],
            "relevant id(s) are not in the corpus, e.g. 'en:9:9:9' (line 2)",
        ),
        ([("q.csv", b"question,lang\nWhere?,en\n", "text/csv")], "missing column(s)"),
        ([("de.json", b'{"data": 5}', "application/json")], "de.json"),
        ([("notes.csv", b"query,language,answer\nWhere?,xx,Danube\n", "text/csv")], "unknown language code 'xx'"),
    ],
    ids=["non-utf8", "unknown-ids", "wrong-columns", "bad-squad", "bad-language"],
)
def test_bad_uploads_get_specific_messages_and_write_nothing(runs_copy, files, message) -> None:
    before = _tree(runs_copy)
    at = _upload(files)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and message in errors[0], errors
    assert not at.success
    assert "/tmp" not in errors[0]  # temporary upload folders never leak into messages
    assert _tree(runs_copy) == before


def test_oversized_upload_is_refused(runs_copy, monkeypatch) -> None:
    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 64)
    at = _upload([("q.csv", GOOD_CSV, "text/csv")])
    assert "over the" in at.error[0].value and "limit per file" in at.error[0].value


def _wait(job_id: str, seconds: float = 240):
    deadline = time.monotonic() + seconds
    while not jobs.status(job_id).finished and time.monotonic() < deadline:
        time.sleep(0.5)
    return jobs.status(job_id)


def test_good_upload_then_evaluate_runs_as_a_job(runs_copy, dash) -> None:
    at = _upload([("q.csv", GOOD_CSV, "text/csv")])
    assert "**my-set**: 3 queries" in at.success[0].value
    assert RunStore(runs_copy).get("tiny-0").datasets() == ["tiny-parallel"]  # validation writes nothing
    assert at.multiselect(key="custom_eval_runs").value == ["tiny-0", "tiny-1"]  # two different models
    at.button(key="custom_evaluate").click().run()
    no_exceptions(at)
    # the upload is saved where the job loads it, and the evaluation runs as a background job
    saved = dash.cache / "uploads" / "my-set"
    assert (saved / "upload.json").is_file() and (saved / "files" / "q.csv").read_bytes() == GOOD_CSV
    job_id = at.session_state["custom_job"][0]
    assert jobs.status(job_id).argv[-5:] == ["--runs", "tiny-0", "tiny-1", "--data", str(saved)]
    st = _wait(job_id)
    assert st.state == "done", jobs.tail(job_id, 20)
    assert st.progress == 1.0
    assert any(line.startswith("[1/2] tiny-0: my-set done") for line in jobs.tail(job_id, 40))
    at.run()
    no_exceptions(at)
    store = RunStore(runs_copy)
    for run in ("tiny-0", "tiny-1"):
        assert store.get(run).datasets() == ["my-set", "tiny-parallel"]
    summary = store.get("tiny-0").summary("my-set")
    table = at.dataframe[0].value
    assert list(table.index) == ["tiny-0", "tiny-1"]
    kind = next(iter(summary["macro"]))
    assert table.loc["tiny-0", "map"].startswith(f"{summary['macro'][kind]['map']:.3f}")


def test_set_name_follows_the_uploaded_files(runs_copy) -> None:
    at = app("custom_queries", custom_corpus="tiny-parallel")
    assert at.text_input(key="custom_name").value == "upload-set"
    at.file_uploader(key="custom_files").set_value([("ro-en questions.csv", GOOD_CSV, "text/csv")])
    at.run()
    assert at.text_input(key="custom_name").value == "upload-ro-en-questions"
    at.file_uploader(key="custom_files").set_value([("danube.tsv", GOOD_CSV.replace(b",", b"\t"), "text/tsv")])
    at.run()
    assert at.text_input(key="custom_name").value == "upload-danube"


def test_default_runs_have_distinct_models(runs_copy) -> None:
    """A second run of tiny-0's model is not picked by default; tiny-1 (another model) is."""
    store = RunStore(runs_copy)
    store.create("tiny-0-again", kind="evaluate", model=store.get("tiny-0").info["model"])
    shutil.copytree(runs_copy / "tiny-0" / "results", runs_copy / "tiny-0-again" / "results")
    at = _upload([("q.csv", GOOD_CSV, "text/csv")])
    assert at.multiselect(key="custom_eval_runs").value == ["tiny-0", "tiny-1"]


def test_free_text_search_across_languages(runs_copy) -> None:
    at = app("custom_queries", custom_search_run="tiny-0", custom_search_set="tiny-parallel", custom_k=5)
    at.text_input(key="custom_query").input("Where does the Danube rise?").run()
    no_exceptions(at)
    hits = at.dataframe[0].value
    assert list(hits.columns) == ["rank", "language", "score", "text", "id"]
    assert list(hits["rank"]) == [1, 2, 3, 4, 5]
    assert hits["score"].is_monotonic_decreasing and set(hits["language"]) <= {"de", "en", "fr"}
    assert any("Languages among the hits" in c.value for c in at.caption)
    at.multiselect(key="custom_search_langs").set_value(["fr"]).run()
    assert set(at.dataframe[0].value["language"]) == {"fr"}
