"""The intercepting proxy: asyncio + h11 + ssl, knowing nothing of storage or UI.

Public entry points (import them from their modules; this package imports nothing itself,
so loading it stays cheap):

* `inspector.proxy.engine.ProxyServer(settings, sink, timeouts=Timeouts(...))`:
  `await start()`, `.address`, `await stop()`, on the caller's running loop.
* `inspector.proxy.thread.ProxyThread(settings, sink)`: the same on its own loop (uvloop
  when installed) in a daemon thread: `start() -> (host, port)`, `stop()`, `.loop`.
* `inspector.proxy.certs.CertificateAuthority.load_or_create(ca_dir)`: the CA users trust.

Layout: `connect.py` (sans-IO decisions and canned replies), `http1.py` (sans-IO: the
relay of one client connection's exchanges, bytes in, `commands.py` out; `headers.py`
for what is forwarded), `streams.py` (byte streams, TLS pumped through memory BIOs, the
waker of a relay loop), `engine.py` (sockets, TLS upgrades, tasks, timers), `limits.py`
(timeouts, the open-file limit), `certs.py` (the CA and a bounded cache of leaves),
`sink.py` (fail-open guard).
"""
