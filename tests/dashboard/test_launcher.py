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
    monkeypatch.setattr(cli, "main", lambda: seen.setdefault("argv", list(sys.argv)))
    monkeypatch.setattr(sys, "argv", ["scripts/dashboard.py"])
    launcher.main(["--server.port", "8599"])
    assert seen["argv"] == ["streamlit", "run", str(REPO / "app.py"), "--server.port", "8599"]
    assert threads == [(launcher.preload, "hybrid-ir-preload", True)]  # a daemon: never holds the server open


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
