"""The CA and the leaf certificates: files, modes, extensions, strict verification."""

from __future__ import annotations

import os
import shutil
import ssl
import stat
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from proxy_helpers import strict_client_context
from inspector.proxy.certs import CertificateAuthority, CertificateError


def test_ca_is_created_with_private_key_and_folder_modes(tmp_path):
    folder = tmp_path / "home"
    ca = CertificateAuthority.load_or_create(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder / "ca-key.pem").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder / "ca.pem").st_mode) == 0o644
    assert ca.cert_path == folder / "ca.pem"
    assert ca.pem().startswith("-----BEGIN CERTIFICATE-----")
    cert = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert bc.critical and bc.value.ca
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    years = (cert.not_valid_after_utc - cert.not_valid_before_utc).days / 365
    assert 9.9 < years < 10.1


def test_second_load_reuses_the_same_ca(tmp_path):
    first = CertificateAuthority.load_or_create(tmp_path)
    second = CertificateAuthority.load_or_create(tmp_path)
    assert first.pem() == second.pem()


def test_leaf_has_what_strict_clients_require(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path)
    cert_pem, _ = ca.issue(["api.anthropic.com"])
    leaf = x509.load_pem_x509_certificate(cert_pem)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["api.anthropic.com"]
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert leaf.issuer == ca.cert.subject
    days = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days
    assert days < 398
    ip_pem, _ = ca.issue(["127.0.0.1"])
    ip_san = x509.load_pem_x509_certificate(ip_pem).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert [str(a) for a in ip_san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


def test_contexts_are_cached_and_share_one_key(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path)
    assert ca.server_context("api.anthropic.com") is ca.server_context("API.anthropic.com")
    a, key_a = ca.issue(["a.example"])
    b, key_b = ca.issue(["b.example"])
    assert key_a == key_b and a != b


def test_strict_default_context_accepts_the_leaf_through_the_proxy(proxy):
    sock = proxy.connect_tunnel()
    ctx = strict_client_context(proxy.ca_file)
    with ctx.wrap_socket(sock, server_hostname="api.anthropic.com") as tls:
        assert tls.selected_alpn_protocol() in (None, "http/1.1")
        tls.sendall(b"HEAD / HTTP/1.1\r\nHost: api.anthropic.com\r\n\r\n")
        assert tls.recv(100).startswith(b"HTTP/1.1 200")


def test_sni_other_than_connect_target_gets_its_own_leaf(proxy):
    sock = proxy.connect_tunnel()
    ctx = strict_client_context(proxy.ca_file)
    with ctx.wrap_socket(sock, server_hostname="claude.ai") as tls:
        cert = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert san.get_values_for_type(x509.DNSName) == ["claude.ai"]


def test_client_that_distrusts_us_gets_a_hint(proxy):
    sock = proxy.connect_tunnel()
    ctx = ssl.create_default_context()  # system store only: our CA is unknown
    with pytest.raises(ssl.SSLCertVerificationError):
        ctx.wrap_socket(sock, server_hostname="api.anthropic.com")
    sock.close()
    message = proxy.sink.wait_notice("cert_refused")
    assert "claude-inspect ca" in message


@pytest.mark.parametrize("damage", ["garbage", "truncated", "missing_key", "mismatch"])
def test_corrupt_ca_gives_a_clear_error(tmp_path, damage):
    CertificateAuthority.load_or_create(tmp_path)
    if damage == "garbage":
        (tmp_path / "ca.pem").write_text("not a certificate")
    elif damage == "truncated":
        (tmp_path / "ca-key.pem").write_text((tmp_path / "ca-key.pem").read_text()[:60])
    elif damage == "missing_key":
        (tmp_path / "ca-key.pem").unlink()
    else:
        other = tmp_path / "other"
        CertificateAuthority.load_or_create(other)
        (tmp_path / "ca.pem").write_bytes((other / "ca.pem").read_bytes())
    with pytest.raises(CertificateError) as err:
        CertificateAuthority.load_or_create(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "delete ca.pem and ca-key.pem" in message


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl not installed")
def test_openssl_strict_verify_accepts_the_leaf(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path / "home")
    cert_pem, _ = ca.issue(["api.anthropic.com"])
    (tmp_path / "leaf.pem").write_bytes(cert_pem)
    out = subprocess.run(["openssl", "verify", "-x509_strict", "-purpose", "sslserver",
                          "-verify_hostname", "api.anthropic.com", "-CAfile", str(ca.cert_path),
                          str(tmp_path / "leaf.pem")], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip().endswith("OK"), out.stdout + out.stderr


NODE_CLIENT = r"""
const http = require('http'), tls = require('tls');
const [proxyPort] = process.argv.slice(1);
const req = http.request({host: '127.0.0.1', port: +proxyPort, method: 'CONNECT',
                          path: 'api.anthropic.com:443'});
req.on('connect', (res, socket) => {
  const s = tls.connect({socket, servername: 'api.anthropic.com'}, () => {
    s.write('POST /v1/messages HTTP/1.1\r\nHost: api.anthropic.com\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
  });
  let out = '';
  s.on('data', d => out += d);
  s.on('end', () => { console.log(out.split('\r\n')[0]); });
  s.on('error', e => { console.log('ERR ' + e.code); process.exit(1); });
});
req.end();
"""


@pytest.mark.skipif(not shutil.which("node"), reason="node not installed")
def test_node_with_node_extra_ca_certs_accepts_the_leaf(proxy):
    """What Claude Code does: Node's TLS, trusting our CA through NODE_EXTRA_CA_CERTS."""
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=proxy.ca_file)
    out = subprocess.run(["node", "-e", NODE_CLIENT, str(proxy.port)], capture_output=True,
                         text=True, env=env, timeout=30)
    assert out.stdout.startswith("HTTP/1.1 200"), out.stdout + out.stderr
    # and without our CA, Node refuses (so the test above proves something)
    env.pop("NODE_EXTRA_CA_CERTS")
    out = subprocess.run(["node", "-e", NODE_CLIENT, str(proxy.port)], capture_output=True,
                         text=True, env=env, timeout=30)
    assert out.returncode == 1 and out.stdout.startswith("ERR "), out.stdout + out.stderr


def test_processes_creating_the_ca_together_agree(tmp_path):
    code = ("import sys; from inspector.proxy.certs import CertificateAuthority as C; "
            "print(C.load_or_create(sys.argv[1]).pem().splitlines()[1])")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / "home")],
                              stdout=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = {p.communicate(timeout=30)[0] for p in procs}
    assert len(outputs) == 1 and all(p.returncode == 0 for p in procs)
    CertificateAuthority.load_or_create(tmp_path / "home")  # key and cert match


def test_the_leaf_cache_keeps_the_most_recently_used_hosts(tmp_path):
    ca = CertificateAuthority.load_or_create(tmp_path)
    ca.cache_size = 3
    first = ca.server_context("h0.example")
    for i in range(1, 5):
        ca.server_context(f"h{i}.example")
        ca.server_context("h0.example")  # kept in use: never the one dropped
    assert ca.cached_hosts() == ["h3.example", "h4.example", "h0.example"]
    assert ca.server_context("h0.example") is first


def test_an_sni_naming_a_host_we_do_not_intercept_gets_no_leaf(proxy):
    """CONNECT to an intercepted host, then a handshake naming another: refused, and
    nothing minted for that name (a client could otherwise grow the cache at will)."""
    sock = proxy.connect_tunnel()
    ctx = strict_client_context(proxy.ca_file)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        ctx.wrap_socket(sock, server_hostname="elsewhere.example")
    sock.close()
    assert "elsewhere.example" not in proxy.thread.server.ca.cached_hosts()
    assert proxy.thread.server.ca.cached_hosts() == ["api.anthropic.com"]
