"""The runtime in a process of its own, for the app.

In the app's process the proxy would share the GIL with Textual: every capture makes the
app refresh its table, read the database and render, and the proxy's next request waits
for those slices of Python. Measured with bench/bench_app.py (client in its own process),
that added about 3-4 ms per small request even with the UI idle, against about 0.5 ms
for the headless proxy. So the app drives an `IsolatedRuntime`: the same surface as
`Runtime` (start, stop, recording, add_listener, proxy_address, proxy_error), with the
real Runtime (proxy thread + recorder process) running in a child process and its events
relayed over a pipe.

    app process                          runtime process
    IsolatedRuntime --control pipe-->    Runtime: proxy thread, recorder process
      listeners  <-- notices thread <--  sender thread <-- queue <-- listener (proxy loop)

Only control and status cross the pipe: commands one way, notices and the count of
exchanges captured the other. What was captured reaches the app through the store alone
(the recorder writes a pending row when a request starts, the capture when it ends). The child ignores SIGINT and SIGTERM and stops, draining
its recorder, when told to or when the app's end of the pipe closes.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from inspector.config import Config
from inspector.runtime.local import Broadcaster
from inspector.runtime.spawn import CONTEXT, start_process

log = logging.getLogger(__name__)

_STOP = object()


class IsolatedRuntime(Broadcaster):
    """A `Runtime` run in a child process. Thread-safe like the original."""

    def __init__(self, config: Config, *, start_timeout: float = 30.0) -> None:
        super().__init__()
        self.config = config
        self.proxy_address: tuple[str, int] | None = None
        self.proxy_error: str | None = None
        self.captured = 0
        self._recording = True
        self._start_timeout = start_timeout
        self._conn: Any = None
        self._process: Any = None
        self._reader: threading.Thread | None = None
        self._send_lock = threading.Lock()
        self._acked = threading.Event()
        self._stopped = False

    # -- the Runtime surface ------------------------------------------------------------

    @property
    def recording(self) -> bool:
        return self._recording

    @recording.setter
    def recording(self, value: bool) -> None:
        """Pause or resume recording; returns once the child has switched (at most 2 s),
        so no exchange that starts afterwards is recorded against the user's wish."""
        self._recording = bool(value)
        self._acked.clear()
        self._send(("recording", self._recording))
        if self._reader is not None:
            self._acked.wait(2.0)

    def start(self) -> None:
        """Start the child and wait until its proxy listens (or could not)."""
        ours, theirs = CONTEXT.Pipe(duplex=True)
        self._process = CONTEXT.Process(target=child_main, args=(self.config, theirs, self._recording),
                                    name="claude-inspect-runtime", daemon=False)
        try:
            start_process(self._process)
        except (OSError, ValueError) as e:
            self.proxy_error = f"could not start the proxy process: {e}"
            self._process = None
            ours.close()
            theirs.close()
            return
        theirs.close()
        self._conn = ours
        if not ours.poll(self._start_timeout):
            self.proxy_error = "the proxy process did not start in time"
            return
        try:
            kind, address, error = ours.recv()
        except (EOFError, OSError):
            self.proxy_error = "the proxy process ended while starting (see claude-inspect.log)"
            return
        self.proxy_address = tuple(address) if address else None  # type: ignore[assignment]
        self.proxy_error = error
        self._reader = threading.Thread(target=self._read_events, name="claude-inspect-relay",
                                        daemon=True)
        self._reader.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the proxy and drain the recorder in the child; wait for it to end."""
        if self._stopped or self._process is None:
            return
        self._stopped = True
        self._send(("stop", None))
        # the child's own stop is bounded (Runtime.stop); past that and a margin, it is
        # stuck: end it (its recorder still stores what it was sent, then ends)
        self._process.join(timeout + 5)
        if self._process.is_alive():
            log.error("the proxy process did not stop in time; ending it")
            self._process.kill()
            self._process.join(5)
        if self._reader is not None:
            self._reader.join(max(timeout, 1))
        try:
            self._conn.close()
        except OSError:
            pass

    def __enter__(self) -> IsolatedRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- plumbing -----------------------------------------------------------------------

    def _send(self, message: tuple[str, Any]) -> None:
        if self._conn is None:
            return
        with self._send_lock:
            try:
                self._conn.send(message)
            except (OSError, ValueError):
                pass  # the child is gone; stop() will notice

    def _read_events(self) -> None:
        while True:
            try:
                event, data = self._conn.recv()
            except (EOFError, OSError):
                return
            if event == "ack":
                self._acked.set()
                continue
            if event == "captured":
                self.captured = int(data)
                continue
            self._emit(event, data)


def child_main(config: Config, conn: Any, recording: bool) -> None:
    """The runtime process: run a Runtime, relay its events, obey the app."""
    from inspector.runtime.recorder_child import quiet_signals

    quiet_signals()  # a closed terminal hangs up the whole group: drain, then end
    from inspector.config import LOG_FILE
    from inspector.runtime.local import Runtime

    try:
        config.home.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(config.home / LOG_FILE, encoding="utf-8")
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s runtime %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
        logging.getLogger().setLevel(logging.INFO)
    except OSError:
        pass

    outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    send_lock = threading.Lock()

    def send(message: tuple[str, Any]) -> bool:
        with send_lock:
            try:
                conn.send(message)
                return True
            except (OSError, ValueError):
                return False

    def sender() -> None:
        # the proxy's loop only queues events; this thread pays for pickling and the pipe
        while True:
            item = outbox.get()
            if item is _STOP or not send(item):
                return

    def relay(event: str, data: Any) -> None:
        # control and status only: what was captured reaches the app through the store
        if event == "notice":
            outbox.put((event, data))
        elif event == "exchange_finished":
            outbox.put(("captured", runtime.captured))

    runtime = Runtime(config)
    runtime.recording = recording
    runtime.add_listener(relay)
    runtime.start()
    send(("ready", runtime.proxy_address, runtime.proxy_error))
    relay_thread = threading.Thread(target=sender, name="claude-inspect-sender", daemon=True)
    relay_thread.start()
    while True:
        try:
            command, value = conn.recv()
        except (EOFError, OSError):
            break
        if command == "recording":
            runtime.recording = bool(value)
            outbox.put(("ack", command))
        elif command == "stop":
            break
    runtime.stop()  # drains the recorder: every relayed exchange is stored
    outbox.put(_STOP)
    relay_thread.join(5)
    try:
        conn.close()
    except OSError:
        pass
