"""Launching a client through the proxy: the environment it needs and the child process.

Kept apart from the click command so the rules (which variables, which CA bundle, what
happens to an `ANTHROPIC_BASE_URL` the user already set) are plain functions to test.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import ssl
import subprocess
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK = ("localhost", "127.0.0.1", "::1")
BUNDLE_FILE = "ca-bundle.pem"
NODE_BUNDLE_FILE = "node-extra-ca.pem"


def system_roots_pem() -> str:
    """The system's trusted roots as PEM text ('' if none are found)."""
    paths = ssl.get_default_verify_paths()
    candidates = [paths.cafile, paths.openssl_cafile]
    try:  # certifi ships with httpx/requests; a good fallback where the OS store is absent
        import certifi  # type: ignore[import-not-found]

        candidates.append(certifi.where())
    except ImportError:
        pass
    for path in candidates:
        if path and os.path.isfile(path):
            try:
                return Path(path).read_text(encoding="ascii", errors="replace")
            except OSError:
                continue
    return ""


def write_ca_bundle(home: Path, ca_pem: str, base_file: str | None = None,
                    name: str = BUNDLE_FILE) -> Path:
    """`<home>/ca-bundle.pem`: the system roots (or the certificates of `base_file`, a
    bundle the user already relies on) plus our CA, for Python clients, whose
    SSL_CERT_FILE replaces (not extends) the trusted set. Rewritten only when it changes.
    OSError if `base_file` cannot be read."""
    path = home / name
    base = (Path(base_file).read_text(encoding="ascii", errors="replace") if base_file
            else system_roots_pem())
    text = base.rstrip() + "\n\n# claude-inspect CA\n" + ca_pem.strip() + "\n"
    return _write_if_changed(path, text)


def write_node_extra_certs(home: Path, ca_pem: str, user_file: str) -> Path:
    """`<home>/node-extra-ca.pem`: the user's own NODE_EXTRA_CA_CERTS file plus our CA.
    Node reads one extra file, so replacing the user's would drop the CA of their company
    proxy or gateway. OSError if `user_file` cannot be read."""
    text = Path(user_file).read_text(encoding="ascii", errors="replace")
    text = text.rstrip() + "\n\n# claude-inspect CA\n" + ca_pem.strip() + "\n"
    return _write_if_changed(home / NODE_BUNDLE_FILE, text)


def _write_if_changed(path: Path, text: str) -> Path:
    digest = hashlib.sha256(text.encode()).hexdigest()
    try:
        if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            return path
    except OSError:
        pass
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="ascii", errors="replace")
    os.replace(tmp, path)
    return path


def child_environment(
    base: Mapping[str, str],
    proxy_address: tuple[str, int],
    *,
    ca_path: Path | None,
    bundle_path: Path | None,
    reverse: bool = False,
) -> dict[str, str]:
    """The environment for a client run through the proxy at `proxy_address`.

    Forward mode sets HTTPS_PROXY (both spellings), the CA for Node (NODE_EXTRA_CA_CERTS,
    which Claude Code reads) and Python (SSL_CERT_FILE, REQUESTS_CA_BUNDLE), and NO_PROXY
    for loopback. An ANTHROPIC_BASE_URL already set (a company gateway) is left as it is;
    the caller intercepts that host so its traffic is recorded on the way.
    Reverse mode points ANTHROPIC_BASE_URL at the proxy and needs no CA.
    """
    env = dict(base)
    host, port = proxy_address
    url_host = f"[{host}]" if ":" in host else host
    proxy_url = f"http://{url_host}:{port}"
    if reverse:
        env["ANTHROPIC_BASE_URL"] = proxy_url
    else:
        env["HTTPS_PROXY"] = env["https_proxy"] = proxy_url
        if ca_path is not None:
            env["NODE_EXTRA_CA_CERTS"] = str(ca_path)
        if bundle_path is not None:
            env["SSL_CERT_FILE"] = env["REQUESTS_CA_BUNDLE"] = str(bundle_path)
    no_proxy = [h for h in (env.get("NO_PROXY") or env.get("no_proxy") or "").split(",") if h]
    for h in LOOPBACK:
        if h not in no_proxy:
            no_proxy.append(h)
    env["NO_PROXY"] = env["no_proxy"] = ",".join(no_proxy)
    return env


def gateway_host(base: Mapping[str, str]) -> tuple[str, str] | None:
    """(scheme, host) of an ANTHROPIC_BASE_URL the user set, or None."""
    url = base.get("ANTHROPIC_BASE_URL")
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    return parts.scheme or "https", parts.hostname.lower()


def run_child(argv: list[str], env: Mapping[str, str]) -> int:
    """Run `argv` with the terminal untouched (stdio inherited) and return its exit code
    (128 + N when a signal N ended it, as shells report).

    Ctrl-C reaches the child from the terminal (same process group), so we ignore SIGINT
    while it runs; SIGTERM and SIGHUP sent to us are passed on to the child.
    """
    try:
        child = subprocess.Popen(argv, env=dict(env))
    except FileNotFoundError:
        raise FileNotFoundError(f"command not found: {argv[0]}") from None

    def forward(signum: int, _frame: object) -> None:
        try:
            child.send_signal(signum)
        except ProcessLookupError:
            pass

    previous = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            previous[sig] = signal.signal(sig, forward)
    previous[signal.SIGINT] = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code
