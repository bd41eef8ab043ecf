"""download_lareqa against a local HTTP server (never the network): checksums, skips, fallbacks, failures."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from hybrid_core.data.download import CHECKSUMS, download_lareqa, sha256_file, verify_lareqa
from hybrid_core.errors import DataError


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Path, list[str]]]:
    """(base URL, served folder, requested paths) of a 127.0.0.1 server over an empty folder."""
    root = tmp_path / "upstream"
    root.mkdir()
    requests: list[str] = []
    handler = functools.partial(type("H", (_Handler,), {"requests": requests}), directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root, requests
    finally:
        server.shutdown()
        server.server_close()


def _mirror(data_root: Path, root: Path, set_name: str, as_dir: str | None = None, licence: bool = True) -> None:
    """Symlink the real files into the served folder (as upstream lays them out)."""
    (root / (as_dir or set_name)).mkdir(parents=True, exist_ok=True)
    for rel in CHECKSUMS:
        s, name = rel.split("/")
        if s == set_name and (licence or name != "LICENSE"):
            (root / (as_dir or set_name) / name).symlink_to(data_root / rel)


def _quiet(_msg: str) -> None:
    pass


def test_download_verify_and_skip(served, data_root, tmp_path):
    base, root, requests = served
    _mirror(data_root, root, "xquad-r")
    _mirror(data_root, root, "mlqa-r", as_dir="mlqa-dev-r")  # the older upstream folder name
    dest = tmp_path / "data"
    files = download_lareqa(dest, base_url=base, log=_quiet)
    assert sorted(str(p.relative_to(dest)) for p in files) == sorted(CHECKSUMS)
    assert all(sha256_file(dest / rel) == CHECKSUMS[rel] for rel in CHECKSUMS)
    assert "/mlqa-r/en.json" in requests and "/mlqa-dev-r/en.json" in requests  # 404, then the fallback
    assert sorted(verify_lareqa(dest)) == sorted(dest / rel for rel in CHECKSUMS)
    assert verify_lareqa(dest / "xquad-r") == [dest / rel for rel in CHECKSUMS if rel.startswith("xquad-r/")]
    assert not [p for p in dest.rglob("*") if p.name.endswith(".tmp")]

    requests.clear()
    download_lareqa(dest, base_url=base, log=_quiet)
    assert requests == []  # verified files are not fetched again
    download_lareqa(dest, sets=["xquad-r"], force=True, base_url=base, log=_quiet)
    assert len(requests) == 12


def test_corrupted_download_leaves_nothing(served, data_root, tmp_path):
    base, root, _ = served
    _mirror(data_root, root, "xquad-r")
    (root / "xquad-r" / "de.json").unlink()
    (root / "xquad-r" / "de.json").write_bytes((data_root / "xquad-r" / "de.json").read_bytes()[:-10] + b"corrupted!")
    dest = tmp_path / "data"
    with pytest.raises(DataError, match=r"de\.json from http://127\.0\.0\.1:\d+/xquad-r/de\.json: sha256 .* not saved"):
        download_lareqa(dest, sets=["xquad-r"], base_url=base, log=_quiet)
    assert not (dest / "xquad-r" / "de.json").exists()
    assert not [p for p in dest.rglob("*") if p.name.startswith(".")]  # no temporary file left behind
    assert (dest / "xquad-r" / "ar.json").is_file()  # files before the bad one are kept (verified)


def test_missing_licence_is_skipped_and_missing_json_fails(served, data_root, tmp_path):
    base, root, _ = served
    _mirror(data_root, root, "mlqa-r", licence=False)
    logged: list[str] = []
    files = download_lareqa(tmp_path / "d", sets=["mlqa-r"], base_url=base, log=logged.append)
    assert len(files) == 7 and any("LICENSE: not found upstream, skipped" in m for m in logged)
    assert len(verify_lareqa(tmp_path / "d")) == 7  # a missing LICENSE is not an error
    (root / "mlqa-r" / "zh.json").unlink()
    with pytest.raises(DataError, match=r"mlqa-dev-r/zh\.json: not found \(HTTP 404\)"):
        download_lareqa(tmp_path / "e", sets=["mlqa-r"], base_url=base, log=_quiet)
    assert not (tmp_path / "e" / "mlqa-r" / "zh.json").exists()


def test_unreachable_server_and_unknown_set(tmp_path):
    with pytest.raises(DataError, match=r"http://127\.0\.0\.1:9/xquad-r/ar\.json: download failed"):
        download_lareqa(tmp_path, sets=["xquad-r"], base_url="http://127.0.0.1:9", timeout=5, log=_quiet)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    with pytest.raises(DataError, match=r"unknown data set\(s\) \['squad'\]"):
        download_lareqa(tmp_path, sets=["squad"], log=_quiet)


def test_verify_failures(tmp_path, data_root):
    with pytest.raises(DataError, match="holds neither"):
        verify_lareqa(tmp_path)
    folder = tmp_path / "xquad-r"
    folder.mkdir()
    (folder / "en.json").write_bytes((data_root / "xquad-r" / "en.json").read_bytes())
    (folder / "de.json").write_text("{}")
    with pytest.raises(DataError) as e:
        verify_lareqa(tmp_path)
    msg = str(e.value)
    assert "de.json (checksum mismatch)" in msg and "ar.json (missing)" in msg and "en.json" not in msg
    assert "LICENSE" not in msg


def test_existing_bad_file_is_replaced(served, data_root, tmp_path):
    base, root, _ = served
    _mirror(data_root, root, "xquad-r")
    dest = tmp_path / "data"
    (dest / "xquad-r").mkdir(parents=True)
    (dest / "xquad-r" / "th.json").write_text("stale")
    logged: list[str] = []
    download_lareqa(dest, sets=["xquad-r"], base_url=base, log=logged.append)
    assert sha256_file(dest / "xquad-r" / "th.json") == CHECKSUMS["xquad-r/th.json"]
    assert any("th.json: checksum mismatch, downloading again" in m for m in logged)
