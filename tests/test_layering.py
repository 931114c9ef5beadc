"""The layering promised in the design: only inspector/tui imports Textual, the proxy
knows nothing of storage or UI, and dependencies point one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import inspector

PKG = Path(inspector.__file__).parent

# package -> packages of ours it must never import
FORBIDDEN = {
    "proxy": {"capture", "attribution", "store", "export", "tui", "cli", "runtime", "config", "demo"},
    "capture": {"attribution", "store", "export", "tui", "cli", "runtime"},
    "attribution": {"capture", "store", "export", "tui", "cli", "runtime", "proxy"},
    "store": {"tui", "cli", "runtime", "proxy"},
    "export": {"tui", "cli", "runtime", "proxy"},
    "runtime": {"tui", "cli"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_only_tui_imports_textual():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "tui":
            continue
        if any(m == "textual" or m.startswith("textual.") for m in _imports(path)):
            offenders.append(str(rel))
    assert offenders == []


def test_dependencies_point_one_way():
    offenders = []
    for package, banned in FORBIDDEN.items():
        for path in (PKG / package).rglob("*.py"):
            for module in _imports(path):
                parts = module.split(".")
                if parts[0] == "inspector" and len(parts) > 1 and parts[1] in banned:
                    offenders.append(f"{path.relative_to(PKG)} imports {module}")
    assert offenders == []


def test_headless_cli_does_not_load_textual():
    code = (
        "import sys, inspector.cli\n"
        "assert 'textual' not in sys.modules, 'textual loaded by the CLI group'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_forwarding_process_never_loads_the_recorders_work():
    """The process that forwards imports the runtime, not what the recorder child does
    with each exchange (capture, attribution, the store): that work stays out of its
    memory and its GIL."""
    code = (
        "import sys, inspector.runtime.local, inspector.runtime.isolated\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[:2] in (\n"
        "    ['inspector', 'capture'], ['inspector', 'attribution'], ['inspector', 'store'],\n"
        "    ['inspector', 'analysis'], ['inspector', 'tui']))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_both_runtimes_are_what_the_app_drives(tmp_path):
    from inspector.config import Config
    from inspector.runtime.isolated import IsolatedRuntime
    from inspector.runtime.local import Runtime
    from inspector.runtime.protocol import ProxyRuntime

    config = Config.load(tmp_path)
    for runtime in (Runtime(config), IsolatedRuntime(config)):
        assert isinstance(runtime, ProxyRuntime)
        assert runtime.proxy_address is None and runtime.recording is True
