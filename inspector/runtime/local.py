"""Wires the parts together: the proxy on its own event loop in a background thread, the
recorder process, and the work between them (capture, attribution, cost).

    proxy thread --Exchange--> Runtime (sink) --submit--> Recorder --pipe--> child process
                                                            pipeline.prepare_record():
                                                              build_capture -> attribute -> cost
                                                            Store.write (batched, atomic)

The proxy only ever calls the sink methods below, which return at once: a queue put and
listener calls. Everything slow happens in the recorder's process (see recorder.py for
why a process and not a thread), off the forwarding path and out of its GIL.
The app and the CLI both drive a `Runtime`; listeners (the app) get events from other
threads and must not block.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any

from inspector.config import LOG_FILE, Config, ensure_home
from inspector.model import Exchange
from inspector.proxy.certs import CertificateAuthority, CertificateError
from inspector.proxy.thread import ProxyThread
from inspector.runtime.protocol import Listener
from inspector.runtime.recorder import Recorder

log = logging.getLogger(__name__)



class Broadcaster:
    """Listeners of a runtime's events. `fn(event, data)` is called from the proxy's and
    the recorder's threads and must not block. Events: exchange_finished (Exchange),
    stored (list of ids), notice ((kind, message)).
    Notices of kind "recorder_fault" say that captures are not being stored (the recorder
    or the database failed); "recorder_ok" that they are again; "recorder_note" that the
    recorder is behind (its backlog waits on disk) or has caught up; "otlp_fault" and
    "otlp_ok" that the live OTLP export's collector fails, or answers again."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        try:
            self._listeners.remove(fn)
        except ValueError:
            pass

    def notice(self, kind: str, message: str) -> None:
        """Tell the listeners something of the session (see the class's docstring)."""
        self._emit("notice", (kind, message))

    def _emit(self, event: str, data: Any) -> None:
        for fn in list(self._listeners):
            try:
                fn(event, data)
            except Exception:
                log.exception("listener failed on %s", event)


class Runtime(Broadcaster):
    """The proxy and the writer, started and stopped together. Thread-safe."""

    def __init__(self, config: Config, *, proxy: bool = True) -> None:
        super().__init__()
        self.config = config
        self.want_proxy = proxy
        #: when False, exchanges are still relayed but not stored
        self.recording = True
        self.proxy_address: tuple[str, int] | None = None
        self.proxy_error: str | None = None
        self.captured = 0
        self.writer: Recorder | None = None
        self._proxy: ProxyThread | None = None
        self._lock = threading.Lock()
        self._stopped = False
        #: exchanges whose start the recorder was told of (touched on the proxy loop only)
        self._announced: set[str] = set()

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        """Start the writer, then the proxy. A proxy that cannot start (port taken, bad
        CA) sets `proxy_error` instead of raising, so the app can still browse."""
        settings = self.config.proxy_settings()  # a bad setting fails here, before any child
        ensure_home(self.config.home)
        self.writer = Recorder(self.config.db_path, log_path=self.config.home / LOG_FILE,
                               retention_days=self.config.retention_days,
                               on_written=self._on_written, on_notice=self.notice,
                               counting=self.config.count_settings())
        self.writer.start()
        if not self.want_proxy:
            return
        try:
            ca = CertificateAuthority.load_or_create(self.config.home)
            self._proxy = ProxyThread(settings, sink=self, ca=ca)
            self.proxy_address = self._proxy.start()
            write_proxy_state(self.config, self.proxy_address)
        except CertificateError as e:
            self.proxy_error = str(e)
        except OSError as e:
            self.proxy_error = describe_bind_error(settings.listen_host, settings.listen_port, e)
        if self.proxy_error:
            self._proxy = None
            log.warning("proxy not started: %s", self.proxy_error)

    def stop(self, timeout: float = 6.0) -> None:
        """Stop the proxy (exchanges in flight are reported), then let the recorder store
        what it was given. A recorder that stores nothing (stopped, or a database that is
        garbage or full) is stopped at `timeout` and what it held is counted and said (a
        "recorder_fault" notice); one still storing a backlog gets up to a minute."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        deadline = time.monotonic() + timeout
        if self._proxy is not None:
            clear_proxy_state(self.config)
            try:
                self._proxy.stop(timeout=min(3.0, timeout / 3))
            except Exception:
                log.exception("error while stopping the proxy")
        if self.writer is not None:
            self.writer.close(timeout=max(deadline - time.monotonic(), 1.0))

    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _on_written(self, ids: list[str]) -> None:
        self._emit("stored", ids)

    # -- the proxy's sink (called on the proxy loop: return at once) -----------------

    def exchange_started(self, exchange: Exchange) -> None:
        if self.recording and self.writer is not None:
            self.writer.announce(exchange)  # a pending row in the store
            self._announced.add(exchange.id)

    def exchange_finished(self, exchange: Exchange) -> None:
        announced = exchange.id in self._announced
        self._announced.discard(exchange.id)
        if self.recording and self.writer is not None:
            self.captured += 1
            self.writer.submit(exchange)
        else:
            if announced and self.writer is not None:
                self.writer.forget(exchange.id)  # paused while it ran: not stored
            for body in (exchange.request_body, exchange.response_body):
                if body is not None:
                    body.close()
        self._emit("exchange_finished", exchange)

    def notice(self, kind: str, message: str) -> None:
        """A notice from the proxy or the recorder, for the listeners (and the log)."""
        if kind in ("listening", "recorder_ok", "recorder_note"):
            log.info("%s", message)
        else:
            log.warning("%s", message)
        super().notice(kind, message)


def describe_bind_error(host: str, port: int, error: OSError) -> str:
    """One line for a proxy that could not listen."""
    import errno

    if error.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is already in use (another claude-inspect proxy?); "
                f"use --listen {host}:0 for a free port")
    if error.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {host}:{port}: no such local address"
    return f"cannot listen on {host}:{port}: {error.strerror or error}"


# -- the state file: lets `claude-inspect run` find a proxy that already listens -----------

STATE_FILE = "proxy.json"


def write_proxy_state(config: Config, address: tuple[str, int]) -> None:
    state = {"pid": os.getpid(), "host": address[0], "port": address[1],
             "db": str(config.db_path)}
    try:
        (config.home / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
    except OSError:
        log.warning("could not write %s", config.home / STATE_FILE)


def clear_proxy_state(config: Config) -> None:
    path = config.home / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def running_proxy(config: Config) -> tuple[str, int] | None:
    """The address of a claude-inspect proxy of this home that is alive and accepting
    connections, or None."""
    try:
        state = json.loads((config.home / STATE_FILE).read_text(encoding="utf-8"))
        pid, host, port = int(state["pid"]), str(state["host"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return host, port
    except OSError:
        return None
