"""The processes behind the proxy: the runtime that forwards and the children that record.

    protocol.py   ProxyRuntime: what the app and the CLI drive, whichever runtime it is
    local.py      Runtime: the proxy thread, its sink, and the recorder it feeds
    recorder.py   the supervisor of the recorder child (bounded queue, restarts, notices)
    recorder_child.py  the recorder child itself, and the pipe's wire format
    backlog.py    what waits for the child: bounded in memory, spilled to disk
    pipeline.py   what the recorder child does to each exchange and to the database
    isolated.py   IsolatedRuntime: a Runtime in a process of its own, for the app
    spawn.py      starting those children safely
    launch.py     running a client (`claude-inspect run`) through the proxy

Nothing is imported here eagerly, so `import inspector.runtime.launch` stays cheap; the
names most callers want are still reachable as `inspector.runtime.Runtime` and so on.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "Runtime": "inspector.runtime.local",
    "Broadcaster": "inspector.runtime.local",
    "running_proxy": "inspector.runtime.local",
    "IsolatedRuntime": "inspector.runtime.isolated",
    "Recorder": "inspector.runtime.recorder",
    "ProxyRuntime": "inspector.runtime.protocol",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
