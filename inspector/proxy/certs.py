"""The certificate authority that lets the proxy terminate TLS for intercepted hosts.

The CA lives in one folder (mode 0700): `ca.pem`, the certificate users trust, and
`ca-key.pem`, its private key, readable by the owner only. Leaf certificates are minted on
demand, one per host, all sharing one key made at start, so a new host costs a signature
(well under a millisecond with EC P-256) rather than a key generation.

Leaves are built to please strict clients (OpenSSL with VERIFY_X509_STRICT, Node/BoringSSL,
Go, Apple): subjectAltName, serverAuth EKU, AuthorityKeyIdentifier, and a validity that
starts a day back (clock skew) and spans well under Apple's 398-day limit.

Python's `ssl` reads certificates only from files, so `server_context(host)` writes the
leaf to a private temporary file, loads it into a fresh `SSLContext` and deletes it at once;
contexts are cached per host, the most recently used `cache_size` of them (each costs
about 20 KB, so a client naming thousands of hosts cannot grow the proxy without bound).
A client's SNI may switch the leaf only to another name in `sni_names` (the intercepted
hosts): for any other name no leaf is minted and the handshake is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import logging
import os
import ssl
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CA_VALIDITY = dt.timedelta(days=3650)
LEAF_BACKDATE = dt.timedelta(days=1)
LEAF_VALIDITY = dt.timedelta(days=365)


class CertificateError(Exception):
    """The CA cannot be used; the message says what to do about it."""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "claude-inspect"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san_entry(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return x509.DNSName(host)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_file(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` with `mode`, never readable by others even for an instant."""
    old = os.umask(0o077)
    try:
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        os.umask(old)


@contextlib.contextmanager
def _creation_lock(folder: Path) -> Iterator[None]:
    """Serialise CA creation between processes started together on first run (the app and
    `claude-inspect run`), so they cannot write a mismatched certificate and key."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, creation is still atomic per file
        yield
        return
    fd = os.open(folder / ".ca.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class CertificateAuthority:
    """A CA certificate and key, and the leaf certificates and TLS contexts made from them."""

    #: how many per-host TLS contexts are kept (least recently used ones are dropped)
    cache_size = 256

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | object,
                 cert_path: Path) -> None:
        self.cert = cert
        self.key = key
        self.cert_path = cert_path
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key_pem = _key_pem(self._leaf_key)
        self._ski = x509.SubjectKeyIdentifier.from_public_key(cert.public_key())
        self._contexts: OrderedDict[str, ssl.SSLContext] = OrderedDict()
        self._lock = threading.Lock()
        #: which SNI names may get a leaf of their own (None: the CONNECT host's only)
        self.sni_names: Callable[[str], bool] | None = None

    # ----------------------------------------------------------------- creation
    @classmethod
    def load_or_create(cls, ca_dir: str | os.PathLike[str]) -> CertificateAuthority:
        """Load the CA from `ca_dir`, creating folder and CA on first use.

        Raises `CertificateError` (one line, with the fix) when the files exist but cannot
        be read or parsed, or when only one of the two exists.
        """
        folder = Path(ca_dir).expanduser()
        cert_path, key_path = folder / CA_CERT_FILE, folder / CA_KEY_FILE
        fix = f"delete {CA_CERT_FILE} and {CA_KEY_FILE} in {folder} to create a new CA"
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as e:
            raise CertificateError(f"cannot create {folder}: {e.strerror or e}") from None
        have_cert, have_key = cert_path.exists(), key_path.exists()
        if not have_cert and not have_key:
            with _creation_lock(folder):
                # another process may have made it while we waited
                if not cert_path.exists() and not key_path.exists():
                    return cls._create(folder)
            have_cert, have_key = cert_path.exists(), key_path.exists()
        if have_cert != have_key:
            missing = CA_KEY_FILE if have_cert else CA_CERT_FILE
            raise CertificateError(f"the CA in {folder} is incomplete ({missing} is missing); {fix}")
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except PermissionError as e:
            raise CertificateError(f"cannot read the CA: {e.filename}: permission denied") from None
        except (OSError, ValueError, TypeError) as e:
            reason = (getattr(e, "strerror", None) or str(e) or type(e).__name__).splitlines()[0]
            raise CertificateError(f"the CA in {folder} is unreadable ({reason}); {fix}") from None
        if cert.public_key().public_numbers() != key.public_key().public_numbers():
            raise CertificateError(f"{CA_CERT_FILE} and {CA_KEY_FILE} in {folder} do not match; {fix}")
        now = dt.datetime.now(dt.timezone.utc)
        if cert.not_valid_after_utc < now:
            raise CertificateError(f"the CA in {folder} has expired; {fix}")
        return cls(cert, key, cert_path)

    @classmethod
    def _create(cls, folder: Path) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.timezone.utc)
        name = _name(f"claude-inspect CA ({os.uname().nodename if hasattr(os, 'uname') else 'local'})")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - LEAF_BACKDATE)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        if not folder.is_dir():  # a folder that exists (maybe shared) keeps its mode
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                os.chmod(folder, 0o700)
            except OSError:
                pass
        cert_path = folder / CA_CERT_FILE
        write_private_file(folder / CA_KEY_FILE, _key_pem(key), 0o600)
        write_private_file(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
        log.info("created a new CA in %s", folder)
        return cls(cert, key, cert_path)

    # ----------------------------------------------------------------- use
    def pem(self) -> str:
        """The CA certificate in PEM form (what clients trust)."""
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def issue(self, hosts: list[str] | tuple[str, ...], key: object | None = None) -> tuple[bytes, bytes]:
        """A leaf certificate for `hosts` (first one is the CN) -> (cert PEM, key PEM).

        Uses the shared leaf key unless `key` (an EC or RSA private key) is given.
        """
        key = key or self._leaf_key
        now = dt.datetime.now(dt.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hosts[0][:64]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - LEAF_BACKDATE)
            .not_valid_after(now + LEAF_VALIDITY)
            .add_extension(x509.SubjectAlternativeName([_san_entry(h) for h in hosts]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False,
                    crl_sign=False, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = self._leaf_key_pem if key is self._leaf_key else _key_pem(key)
        return cert.public_bytes(serialization.Encoding.PEM), key_pem

    def server_context(self, host: str) -> ssl.SSLContext:
        """A cached server-side TLS context presenting a leaf for `host` (ALPN http/1.1)."""
        host = host.lower().rstrip(".")
        with self._lock:
            ctx = self._contexts.get(host)
            if ctx is not None:
                self._contexts.move_to_end(host)
                return ctx
            ctx = self._make_context(host)
            self._contexts[host] = ctx
            while len(self._contexts) > self.cache_size:
                self._contexts.popitem(last=False)
        return ctx

    def cached_hosts(self) -> list[str]:
        """The hosts whose contexts are cached, least recently used first."""
        with self._lock:
            return list(self._contexts)

    def _make_context(self, host: str) -> ssl.SSLContext:
        cert_pem, key_pem = self.issue([host])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_alpn_protocols(["http/1.1"])
        ctx.sni_callback = self._on_sni
        ctx.claude_inspect_host = host  # type: ignore[attr-defined]  # which leaf it presents
        # ssl loads certificates only from files: the leaf lives for an instant in the CA's
        # own folder (mode 0700), created owner-only, and is removed once loaded.
        fd, path = tempfile.mkstemp(prefix=".leaf-", suffix=".pem", dir=self.cert_path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(cert_pem + key_pem)
            ctx.load_cert_chain(path)
        finally:
            os.unlink(path)
        return ctx

    def _on_sni(self, sslobj: ssl.SSLObject | ssl.SSLSocket, server_name: str | None,
                ctx: ssl.SSLContext) -> int | None:
        """Present the leaf for the name the client asked for (SNI), when it differs from
        the CONNECT target the connection was set up with and is one we intercept; refuse
        the handshake (unrecognized_name) for any other name rather than mint for it."""
        if not server_name:
            return None
        name = server_name.lower().rstrip(".")
        if name == getattr(ctx, "claude_inspect_host", None):
            return None
        allowed = self.sni_names
        if allowed is None or not allowed(name):
            log.debug("refused a TLS handshake naming %r inside a tunnel to %s", name[:255],
                      getattr(ctx, "claude_inspect_host", "?"))
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        sslobj.context = self.server_context(name)
        return None

    def close(self) -> None:
        """Forget the cached contexts (nothing is left on disk to remove)."""
        self._contexts.clear()
