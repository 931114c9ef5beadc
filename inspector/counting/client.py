"""POST /v1/messages/count_tokens, with the user's own credentials, paced.

`Credentials` holds the few request headers a count needs (the API key or OAuth token,
the API version and betas). It lives in memory only: it never reaches a log, the store or
an export, and its repr shows no secret. `CountClient` connects as the proxy does
(`--upstream-ca`, `--resolve`), keeps its connection alive, and never goes through the
proxy, so its calls are not recorded as the user's exchanges. `Pacer` keeps calls under
a per-minute limit and backs off after a 429 or an error.
"""

from __future__ import annotations

import collections
import http.client
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

COUNT_PATH = "/v1/messages/count_tokens"
#: the request headers a count carries over from the user's request
_KEEP = ("x-api-key", "authorization", "anthropic-version", "anthropic-beta")


class CountError(Exception):
    """A count that failed; the message never holds a credential."""


class RateLimited(CountError):
    """The API refuses counts for now (429, 5xx, auth, unreachable): stop and back off."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Credentials:
    """The headers a count needs, from the user's own request. Memory only."""

    __slots__ = ("_headers",)

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = dict(headers)

    @classmethod
    def from_headers(cls, headers: Any) -> Credentials | None:
        """From a request's headers (pairs or a dict); None without a key or token."""
        items = headers.items() if isinstance(headers, dict) else headers
        kept = {k.lower(): v for k, v in items if k.lower() in _KEEP}
        if not kept.get("x-api-key") and not kept.get("authorization"):
            return None
        kept.setdefault("anthropic-version", "2023-06-01")
        return cls(kept)

    @classmethod
    def from_api_key(cls, key: str) -> Credentials:
        return cls({"x-api-key": key, "anthropic-version": "2023-06-01"})

    def headers(self) -> dict[str, str]:
        return dict(self._headers)

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    __str__ = __repr__

    def __reduce__(self) -> Any:  # never pickled into a pipe, a file or a log
        raise TypeError("credentials are not serialisable")


@dataclass
class Upstream:
    """Where counts go and how to reach it: the proxy's own upstream settings."""

    #: curl-style overrides, (host, port) -> (addr, port); TLS is verified for host
    resolve: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    ca_file: str | None = None
    #: at most this many count calls in any 60 seconds
    per_minute: int = 50
    timeout: float = 30.0


class Pacer:
    """At most `per_minute` calls in any sliding minute; after a 429 or an error, no
    call until the back-off has passed. `clock` and `sleep` are injectable for tests."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.per_minute = max(1, per_minute)
        self.clock, self.sleep = clock, sleep
        self._calls: collections.deque[float] = collections.deque()
        self.resume_at = 0.0
        self.failures = 0

    def wait(self, stop: threading.Event | None = None) -> bool:
        """Block until a call may go; False if `stop` was set meanwhile."""
        while True:
            now = self.clock()
            while self._calls and now - self._calls[0] >= 60.0:
                self._calls.popleft()
            delay = max(self.resume_at - now,
                        (60.0 - (now - self._calls[0])) if len(self._calls) >= self.per_minute else 0.0)
            if delay <= 0:
                self._calls.append(now)
                return True
            if stop is not None:
                if stop.wait(min(delay, 1.0)):
                    return False
            else:
                self.sleep(delay)

    def backing_off(self) -> bool:
        return self.clock() < self.resume_at

    def failed(self, retry_after: float | None = None) -> float:
        """Back off: the server's retry-after, else 5 s doubling up to 5 minutes."""
        self.failures += 1
        pause = retry_after if retry_after else min(5.0 * 2 ** (self.failures - 1), 300.0)
        self.resume_at = self.clock() + pause
        return pause

    def succeeded(self) -> None:
        self.failures = 0


class CountClient:
    """Counts request bodies at one upstream origin (scheme, host, port)."""

    def __init__(self, scheme: str, host: str, port: int, upstream: Upstream,
                 pacer: Pacer | None = None) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.upstream = upstream
        self.pacer = pacer or Pacer(upstream.per_minute)
        self.calls = 0
        self._conn: http.client.HTTPConnection | None = None

    def count(self, body: dict[str, Any], credentials: Credentials,
              stop: threading.Event | None = None) -> int:
        """The API's `input_tokens` for `body` (fields count_tokens accepts only)."""
        if self.pacer.backing_off():
            raise RateLimited("count_tokens backing off after an error",
                              self.pacer.resume_at - self.pacer.clock())
        if not self.pacer.wait(stop):
            raise RateLimited("counting stopped", 0.0)
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = credentials.headers()
        headers.update({"content-type": "application/json", "accept": "application/json",
                        "host": self.host if self.port in (80, 443) else f"{self.host}:{self.port}"})
        self.calls += 1
        try:
            status, reply, retry = self._post(data, headers)
        except (OSError, http.client.HTTPException) as e:
            self._close()
            raise RateLimited(f"count_tokens unreachable: {type(e).__name__}",
                              self.pacer.failed()) from None
        if status == 429 or status >= 500:
            raise RateLimited(f"count_tokens answered {status}", self.pacer.failed(retry))
        try:
            parsed = json.loads(reply)
        except ValueError:
            parsed = None
        if status != 200 or not isinstance(parsed, dict) or not isinstance(parsed.get("input_tokens"), int):
            error = parsed.get("error", {}) if isinstance(parsed, dict) else {}
            reason = error.get("message") if isinstance(error, dict) else None
            message = f"count_tokens answered {status}: {str(reason or '')[:200]}"
            if status in (400, 404, 413, 422):  # this question only: the next may do
                raise CountError(message)
            raise RateLimited(message, self.pacer.failed())  # 401, 403...: stop and back off
        self.pacer.succeeded()
        return parsed["input_tokens"]

    def close(self) -> None:
        self._close()

    def _post(self, data: bytes, headers: dict[str, str]) -> tuple[int, bytes, float | None]:
        for attempt in (1, 2):  # a kept-alive connection may have been closed by the server
            conn = self._conn or self._connect()
            self._conn = conn
            try:
                conn.request("POST", COUNT_PATH, body=data, headers=headers)
                resp = conn.getresponse()
                reply = resp.read()
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self._close()
                if attempt == 2:
                    raise
                continue
            if resp.getheader("connection", "").lower() == "close":
                self._close()
            try:
                retry = float(resp.getheader("retry-after") or 0) or None
            except ValueError:
                retry = None
            return resp.status, reply, retry
        raise CountError("unreachable")  # pragma: no cover

    def _connect(self) -> http.client.HTTPConnection:
        addr, port = self.upstream.resolve.get((self.host, self.port), (self.host, self.port))
        timeout = self.upstream.timeout
        if self.scheme != "https":
            return http.client.HTTPConnection(addr, port, timeout=timeout)
        context = ssl.create_default_context()
        if self.upstream.ca_file:
            context.load_verify_locations(self.upstream.ca_file)
        host = self.host

        class _Pinned(http.client.HTTPSConnection):
            def connect(self) -> None:  # dial the resolved address, verify the real host
                sock = socket.create_connection((addr, port), timeout)
                self.sock = context.wrap_socket(sock, server_hostname=host)

        return _Pinned(host, port, timeout=timeout, context=context)

    def _close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
            self._conn = None
