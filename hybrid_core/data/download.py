"""Fetch XQuAD-R and MLQA-R from the LAReQA repository, pinned by sha256.

Upstream: https://github.com/google-research-datasets/lareqa (Roy et al. 2020). XQuAD-R is CC BY-SA
4.0 and MLQA-R is CC BY-NC 4.0 (upstream README and the ``LICENSE`` beside each set's files).
Each file streams to a temporary file beside its target, is checked against :data:`CHECKSUMS`
and only then renamed into place, so an interrupted or corrupted download leaves nothing behind.
Files already present with the right checksum are not fetched again.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from hybrid_core.errors import DataError
from hybrid_core.io_utils import atomic_path

BASE_URL = "https://raw.githubusercontent.com/google-research-datasets/lareqa/master"
SET_LANGUAGES: dict[str, tuple[str, ...]] = {
    "xquad-r": ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh"),
    "mlqa-r": ("ar", "de", "en", "es", "hi", "vi", "zh"),
}
# The upstream README has named the MLQA-R folder both ``mlqa-r/`` and ``mlqa-dev-r/``; the checksums pin the content.
UPSTREAM_DIRS: dict[str, tuple[str, ...]] = {"xquad-r": ("xquad-r",), "mlqa-r": ("mlqa-r", "mlqa-dev-r")}
OPTIONAL_FILES = frozenset({"LICENSE"})
"""Fetched when upstream serves them; a 404 is logged, not an error."""

CHECKSUMS: dict[str, str] = {
    "xquad-r/ar.json": "c52922d3b8ac1ae03ed5ac38647ad59870dca3dda2beefe18ecdc30729acb69d",
    "xquad-r/de.json": "16fb0f4bf4916154b585a20c24c66074591c9718a1affe764ff4697572328949",
    "xquad-r/el.json": "163fd43ee785a30eb534ae2061e9eaa766a7ee4e8ffce5e4b422480c150f64b6",
    "xquad-r/en.json": "7b0954f39297c27a31fef610f0883337dd2907fa8699151dc922afdd0fa12ffe",
    "xquad-r/es.json": "f8e836b2d91009c4363e04315f7ede363eedbbb49c67dda60de6c4aa782f58de",
    "xquad-r/hi.json": "ea45ba8ae4513d1533b222bebdc02a90bc319c055d3aeea68584a053d2e92872",
    "xquad-r/ru.json": "7f4dff853538b9a5fcc28c070b8bb983a5c5d190ac747b8e005a1ada9cab18f1",
    "xquad-r/th.json": "c3a041864c3a9fb0b4dd91cfdf99cf36b411b3e704c58a303c97bc6dc786cfe4",
    "xquad-r/tr.json": "f3e8c13002bbce154a4578f535f7533cb70f3da08840e6b62735935baec7bd94",
    "xquad-r/vi.json": "e35926bf5cc6fc6ecbdfca49467aabeb454f08d152d7818143a906bd31dde995",
    "xquad-r/zh.json": "80c2cde7b9c2fb134c303cbb52f2ba396ead9eb0014aec43993543d2ba9e93ed",
    "xquad-r/LICENSE": "25ddafc153e4cfdafd70729574ef1b44348e1814709e57680d55347038d3f92c",
    "mlqa-r/ar.json": "2132fbc03208535c0fe01f2e2c5121d06f9c2aa799af93b0a719dbc105bdf137",
    "mlqa-r/de.json": "ce9454dc5aa6f2d85c23cd6e49cb367fbb7c4c6e62d7f71e355c6b5dae4d0886",
    "mlqa-r/en.json": "fedd9a5cc0848dda80caf84aa36f482adaae230526a3f6e9e86926a93ef3b1e4",
    "mlqa-r/es.json": "70ecba276b8c96a692b120693a595d076ce94ad21d4b28311538a9fcbfe0f9d7",
    "mlqa-r/hi.json": "4dd0fb3c06f737a5481d705bc1dcac7876712a5815c9265908fbb3a0696cb654",
    "mlqa-r/vi.json": "9d3baff6ba03e6793b25594217265ea59a136b9733833dca8a9582a84a78ff85",
    "mlqa-r/zh.json": "57f01d2fff50cf3392805635b01445339f225ad5bf28ba8443b12f8dbd1e69dc",
    "mlqa-r/LICENSE": "336255dc30193e8e15d689d9481bb05673d89055718f3a96923a7ffb99adbbaf",
}


class _NotFound(DataError):
    """HTTP 404: the next upstream folder may have the file."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _files(sets: Iterable[str]) -> list[str]:
    sets = list(sets)
    unknown = [s for s in sets if s not in SET_LANGUAGES]
    if unknown:
        raise DataError(f"unknown data set(s) {unknown}; downloadable: {sorted(SET_LANGUAGES)}")
    return [rel for s in sets for rel in CHECKSUMS if rel.split("/")[0] == s]


def _fetch(url: str, target: Path, expected: str, timeout: float) -> None:
    """Stream ``url`` to a temporary file, check its sha256, then rename it onto ``target``."""
    request = urllib.request.Request(url, headers={"User-Agent": "hybrid-ir"})
    with atomic_path(target) as tmp:
        h = hashlib.sha256()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as resp, open(tmp, "wb") as out:
                while chunk := resp.read(1 << 16):
                    h.update(chunk)
                    out.write(chunk)
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise _NotFound(f"{url}: not found (HTTP 404)") from None
            raise DataError(f"{url}: download failed (HTTP {e.code} {e.reason})") from None
        except (urllib.error.URLError, OSError) as e:
            raise DataError(f"{url}: download failed ({getattr(e, 'reason', e)})") from None
        if h.hexdigest() != expected:
            raise DataError(
                f"{target.name} from {url}: sha256 {h.hexdigest()} does not match the expected {expected}; "
                "the file was not saved"
            )


def download_lareqa(
    dest: str | Path,
    sets: Iterable[str] = ("xquad-r", "mlqa-r"),
    force: bool = False,
    base_url: str = BASE_URL,
    timeout: float = 60.0,
    log: Callable[[str], object] = print,
) -> list[Path]:
    """Download ``sets`` into ``dest/<set>/`` and return the verified files.

    ``dest`` is the data directory (``hybrid_core.paths.data_dir()``). Verified files are skipped
    unless ``force``; a file with a wrong checksum is fetched again. Raises DataError on a network
    failure or checksum mismatch (the partial file is deleted).
    """
    dest = Path(dest)
    done: list[Path] = []
    for rel in _files(sets):
        set_name, file_name = rel.split("/")
        target = dest / rel
        if target.is_file() and not force:
            if sha256_file(target) == CHECKSUMS[rel]:
                done.append(target)
                continue
            log(f"{target}: checksum mismatch, downloading again")
        for i, folder in enumerate(UPSTREAM_DIRS[set_name]):
            url = f"{base_url.rstrip('/')}/{folder}/{file_name}"
            try:
                log(f"downloading {url}")
                _fetch(url, target, CHECKSUMS[rel], timeout)
                done.append(target)
                break
            except _NotFound:
                if i + 1 < len(UPSTREAM_DIRS[set_name]):
                    continue
                if file_name in OPTIONAL_FILES:
                    log(f"{url}: not found upstream, skipped")
                    break
                raise
    return done


def verify_lareqa(folder: str | Path, sets: Iterable[str] | None = None) -> list[Path]:
    """Check the sha256 of every downloaded file; return them, or raise DataError naming the bad ones.

    ``folder`` is the data directory holding ``xquad-r/`` and/or ``mlqa-r/``, or one of those
    folders. ``sets`` defaults to the sets whose folder exists. A missing ``LICENSE`` is not an error.
    """
    folder = Path(folder)
    if sets is None and folder.name in SET_LANGUAGES and not (folder / folder.name).is_dir():
        folder, sets = folder.parent, [folder.name]
    if sets is None:
        sets = [s for s in SET_LANGUAGES if (folder / s).is_dir()]
        if not sets:
            raise DataError(f"{folder}: holds neither of {sorted(SET_LANGUAGES)}; run `python -m hybrid_core download`")
    ok: list[Path] = []
    bad: list[str] = []
    for rel in _files(sets):
        path = folder / rel
        if not path.is_file():
            if path.name not in OPTIONAL_FILES:
                bad.append(f"{path} (missing)")
        elif sha256_file(path) != CHECKSUMS[rel]:
            bad.append(f"{path} (checksum mismatch)")
        else:
            ok.append(path)
    if bad:
        raise DataError(
            f"{len(bad)} file(s) fail verification: {', '.join(bad)}; "
            "run `python -m hybrid_core download` to fetch them again"
        )
    return ok
