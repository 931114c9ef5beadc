"""The surface the app and the CLI drive, whichever runtime sits behind it.

Only control and status cross it: start, stop, pause (`recording`), where the proxy
listens, how many exchanges it captured, and notices. What was captured reaches the front
ends through the store alone (`store.queries`: `rows_after`, `pending_rows`)."""

from __future__ import annotations

from typing import Any, Callable, Protocol, runtime_checkable

#: `fn(event, data)`, called from the runtime's threads; must not block. Front ends get
#: "notice" ((kind, message)); a `local.Runtime` also tells listeners in its own process
#: (the headless proxy's console) of exchange_finished (an Exchange)
#: and stored (ids). See `local.Broadcaster`.
Listener = Callable[[str, Any], None]


@runtime_checkable
class ProxyRuntime(Protocol):
    """A proxy and its recorder, started and stopped together. `local.Runtime` runs them
    in this process, `isolated.IsolatedRuntime` in a child process of their own."""

    #: where the proxy listens, once started (None if it could not start)
    proxy_address: tuple[str, int] | None
    #: why the proxy could not start, in one line (None when it listens)
    proxy_error: str | None
    #: exchanges handed to the recorder so far
    captured: int
    #: False pauses recording: traffic still flows, nothing is stored
    recording: bool

    def start(self) -> None: ...

    def stop(self, timeout: float = ...) -> None: ...

    def add_listener(self, fn: Listener) -> None: ...

    def remove_listener(self, fn: Listener) -> None: ...
