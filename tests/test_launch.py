"""The environment `claude-inspect run` gives its child."""

from __future__ import annotations

import ssl
import sys

from inspector.runtime.launch import child_environment, gateway_host, run_child, write_ca_bundle


def test_forward_mode_sets_proxy_and_both_cas(tmp_path):
    env = child_environment({"PATH": "/bin", "NO_PROXY": "corp.example"}, ("127.0.0.1", 9999),
                            ca_path=tmp_path / "ca.pem", bundle_path=tmp_path / "b.pem")
    assert env["HTTPS_PROXY"] == env["https_proxy"] == "http://127.0.0.1:9999"
    assert env["NODE_EXTRA_CA_CERTS"] == str(tmp_path / "ca.pem")
    assert env["SSL_CERT_FILE"] == env["REQUESTS_CA_BUNDLE"] == str(tmp_path / "b.pem")
    assert env["NO_PROXY"].split(",") == ["corp.example", "localhost", "127.0.0.1", "::1"]
    assert "ANTHROPIC_BASE_URL" not in env


def test_reverse_mode_needs_no_ca():
    env = child_environment({}, ("::1", 8443), ca_path=None, bundle_path=None, reverse=True)
    assert env["ANTHROPIC_BASE_URL"] == "http://[::1]:8443"
    assert "HTTPS_PROXY" not in env and "SSL_CERT_FILE" not in env


def test_gateway_is_kept():
    base = {"ANTHROPIC_BASE_URL": "https://LLM.corp.example/anthropic"}
    assert gateway_host(base) == ("https", "llm.corp.example")
    env = child_environment(base, ("127.0.0.1", 1), ca_path=None, bundle_path=None)
    assert env["ANTHROPIC_BASE_URL"] == base["ANTHROPIC_BASE_URL"]
    assert gateway_host({}) is None


def test_bundle_holds_our_ca_and_loads(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import datetime

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "test root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    path = write_ca_bundle(tmp_path, pem)
    assert path.read_text().endswith(pem.strip() + "\n")
    ctx = ssl.create_default_context(cafile=str(path))
    subjects = [c["subject"] for c in ctx.get_ca_certs()]
    assert ((("commonName", "test root"),),) in subjects
    before = path.stat().st_mtime_ns
    write_ca_bundle(tmp_path, pem)
    assert path.stat().st_mtime_ns == before  # unchanged content is not rewritten


def test_child_exit_code_is_returned():
    assert run_child([sys.executable, "-c", "import sys; sys.exit(7)"], {}) == 7
    assert run_child([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"], {}) == 128 + 15
