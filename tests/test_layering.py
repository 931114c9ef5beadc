"""The layering promised in the design: only inspector/tui imports Textual, the proxy
knows nothing of storage or UI, and dependencies point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import inspector
from imports import modules_after

PKG = Path(inspector.__file__).parent

# package -> packages of ours it must never import
FORBIDDEN = {
    "proxy": {"capture", "attribution", "store", "export", "tui", "cli", "runtime", "config", "demo"},
    "capture": {"attribution", "store", "export", "tui", "cli", "runtime"},
    "attribution": {"capture", "store", "export", "tui", "cli", "runtime", "proxy"},
    # the store is the seam between capture and the front ends: it owns the schema
    # (derived tables included) and knows nothing of what feeds or reads it
    "store": {"tui", "cli", "runtime", "proxy", "analysis", "capture", "attribution",
              "export", "demo"},
    "export": {"tui", "cli", "runtime", "proxy"},
    "runtime": {"tui", "cli"},
    "counting": {"tui", "cli", "runtime", "proxy", "capture", "demo"},
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


def test_the_app_knows_the_runtime_by_its_protocol_only():
    """Captures reach the app through the store; from the runtime it takes control and
    status, through `runtime.protocol` alone (no proxy, no recorder, no capture)."""
    offenders = []
    for path in (PKG / "tui").rglob("*.py"):
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] != "inspector" or len(parts) < 2:
                continue
            if parts[1] == "runtime" and module != "inspector.runtime.protocol":
                offenders.append(f"{path.relative_to(PKG)} imports {module}")
            elif parts[1] in ("proxy", "capture", "cli"):
                offenders.append(f"{path.relative_to(PKG)} imports {module}")
    assert offenders == []


def test_headless_cli_does_not_load_textual():
    assert modules_after("import inspector.cli", "textual") == []


def test_the_forwarding_process_never_loads_the_recorders_work():
    """The process that forwards imports the runtime, not what the recorder child does
    with each exchange (capture, attribution, the store): that work stays out of its
    memory and its GIL."""
    assert modules_after("import inspector.runtime.local, inspector.runtime.isolated",
                         "inspector.capture", "inspector.attribution", "inspector.store",
                         "inspector.analysis", "inspector.tui") == []


def test_both_runtimes_are_what_the_app_drives(tmp_path):
    from inspector.config import Config
    from inspector.runtime.isolated import IsolatedRuntime
    from inspector.runtime.local import Runtime
    from inspector.runtime.protocol import ProxyRuntime

    config = Config.load(tmp_path)
    for runtime in (Runtime(config), IsolatedRuntime(config)):
        assert isinstance(runtime, ProxyRuntime)
        assert runtime.proxy_address is None and runtime.recording is True


def test_opentelemetry_loads_only_when_otlp_is_used():
    """The OTLP exporter is imported by the exporting commands and the follower process
    alone: the CLI, the proxy's runtime and the store start as light as before."""
    assert modules_after("import inspector.cli, inspector.cli.common, inspector.export\n"
                         "import inspector.runtime, inspector.store", "opentelemetry") == []


def test_reads_never_create_schema(tmp_path):
    """Opening a current database and running every read query leaves the schema as it
    was: tables, indexes and triggers come only from the store's migrations."""
    import sqlite3

    from inspector.analysis.stats import compute_stats
    from inspector.store import Filter, Store, count_requests, list_requests, sessions
    from inspector.store.exchanges import iter_exchanges
    from inspector.store.queries import totals

    path = tmp_path / "c.db"
    Store(path).close()

    def schema() -> list[tuple]:
        conn = sqlite3.connect(path)
        try:
            return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        finally:
            conn.close()

    made = schema()
    store = Store(path)
    try:
        f = Filter(source="mcp:", text="x")
        list_requests(store, f), count_requests(store, f), totals(store, f)
        sessions(store, Filter()), list(iter_exchanges(store, Filter()))
        for by in ("source", "model", "day", "session"):
            compute_stats(store.conn, None, None, by)
    finally:
        store.close()
    assert schema() == made
