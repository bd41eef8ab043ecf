"""scripts/dashboard.py: the README's launch command = ``streamlit run app.py`` plus pre-imports in a thread."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

from tests.dashboard.helpers import REPO


def _launcher():
    spec = importlib.util.spec_from_file_location("hybrid_ir_dashboard_launcher", REPO / "scripts" / "dashboard.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_launcher_runs_streamlit_on_app_py_with_options_passed_through(monkeypatch) -> None:
    from streamlit.web import cli

    launcher = _launcher()
    seen, threads = {}, []

    class FakeThread:
        def __init__(self, target, name, daemon):
            threads.append((target, name, daemon))

        def start(self):
            pass

    monkeypatch.setattr(launcher.threading, "Thread", FakeThread)
    monkeypatch.setattr(launcher, "cache_component_scan", lambda: seen.setdefault("scan_cached", True))
    monkeypatch.setattr(cli, "main", lambda: seen.setdefault("argv", list(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["scripts/dashboard.py"])
    launcher.main(["--server.port", "8599"])
    assert seen["argv"] == ["streamlit", "run", str(REPO / "app.py"), "--server.port", "8599"]
    assert threads == [(launcher.preload, "hybrid-ir-preload", True)]  # a daemon: never holds the server open
    assert seen["scan_cached"]


def test_preload_imports_every_listed_module_in_a_fresh_process() -> None:
    """Every module the launcher warms exists and imports cleanly (outside a script run, as in the launcher)."""
    code = textwrap.dedent(
        f"""
        import sys, importlib.util
        sys.path.insert(0, {str(REPO)!r})
        spec = importlib.util.spec_from_file_location("launcher", {str(REPO / "scripts" / "dashboard.py")!r})
        launcher = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(launcher)
        failed = launcher.preload(wait=0)
        missing = [m for m in launcher.PRELOAD if m not in sys.modules]
        print(failed, missing)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[] []"


def test_preload_reports_a_failing_module_and_carries_on(caplog) -> None:
    launcher = _launcher()
    failed = launcher.preload(("hybrid_ir_no_such_module", "json"), wait=0)
    assert failed == ["hybrid_ir_no_such_module"]
    assert "json" in sys.modules
    assert "pre-import of hybrid_ir_no_such_module failed" in caplog.text


def _dist(site, name: str, text: str = "Name: x\n") -> None:
    (site / name).mkdir()
    (site / name / "METADATA").write_text(text)


def test_component_scan_is_skipped_only_while_the_installed_distributions_are_unchanged(tmp_path) -> None:
    import os

    launcher = _launcher()
    site, record = tmp_path / "site", tmp_path / "cache" / "component-scan.json"
    site.mkdir()
    _dist(site, "alpha-1.0.dist-info")
    calls = []
    scan = launcher.cached_scan(lambda: calls.append(1) or [], record, path=[str(site)])
    assert scan() == [] and len(calls) == 1 and record.is_file()  # scanned, found none, recorded
    assert scan() == [] and len(calls) == 1  # same distributions: skipped
    _dist(site, "beta-2.0.dist-info")  # pip install
    assert scan() == [] and len(calls) == 2
    assert scan() == [] and len(calls) == 2
    meta = site / "alpha-1.0.dist-info" / "METADATA"
    os.utime(meta, ns=(meta.stat().st_atime_ns, meta.stat().st_mtime_ns + 10**9))  # metadata rewritten in place
    assert scan() == [] and len(calls) == 3
    (site / "beta-2.0.dist-info" / "METADATA").unlink()
    (site / "beta-2.0.dist-info").rmdir()  # pip uninstall
    assert scan() == [] and len(calls) == 4
    record.write_text("{not json")  # a damaged record only costs a scan
    assert scan() == [] and len(calls) == 5
    assert scan() == [] and len(calls) == 5


def test_a_scan_that_finds_components_is_never_skipped(tmp_path) -> None:
    launcher = _launcher()
    site, record = tmp_path / "site", tmp_path / "component-scan.json"
    site.mkdir()
    _dist(site, "streamlit_widget-0.1.dist-info")
    calls = []
    scan = launcher.cached_scan(lambda: calls.append(1) or ["manifest"], record, path=[str(site)])
    assert scan() == ["manifest"] and scan() == ["manifest"] and len(calls) == 2
    assert not record.exists()


def test_installed_distributions_lists_dist_and_egg_info_with_their_metadata_stamp(tmp_path) -> None:
    launcher = _launcher()
    _dist(tmp_path, "b-1.dist-info")
    (tmp_path / "a.egg-info").mkdir()
    (tmp_path / "a.egg-info" / "PKG-INFO").write_text("Name: a\n")
    (tmp_path / "c.py").write_text("")
    rows = launcher.installed_distributions([str(tmp_path), str(tmp_path / "missing")])
    assert [r[1] for r in rows] == ["a.egg-info", "b-1.dist-info"]
    assert rows[1][2] == (tmp_path / "b-1.dist-info" / "METADATA").stat().st_mtime_ns


def test_cached_scan_returns_what_streamlits_own_scan_returns(tmp_path) -> None:
    """Patched into Streamlit, the cached scan gives the real scan's answer on this environment, first and again."""
    code = textwrap.dedent(
        f"""
        import importlib.util, pathlib
        spec = importlib.util.spec_from_file_location("launcher", {str(REPO / "scripts" / "dashboard.py")!r})
        launcher = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(launcher)
        from streamlit.components.v2 import manifest_scanner
        original = manifest_scanner.scan_component_manifests
        real = original()
        assert launcher.cache_component_scan(pathlib.Path({str(tmp_path / "scan.json")!r}))
        assert manifest_scanner.scan_component_manifests is not original
        print(real == manifest_scanner.scan_component_manifests() == manifest_scanner.scan_component_manifests())
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "True"
