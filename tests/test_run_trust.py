"""`run` adds claude-inspect's CA to what the child already trusts, and `ca` gives
Python users a bundle that exists."""

from __future__ import annotations

import datetime
import os
import ssl
import subprocess
import sys

from click.testing import CliRunner

from inspector.cli import cli

def _self_signed_pem(common_name: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _subjects(path) -> list[str]:
    ctx = ssl.create_default_context(cafile=str(path))
    return [dict(x[0] for x in c["subject"]).get("commonName") for c in ctx.get_ca_certs()]


def test_run_keeps_the_users_node_and_python_cas(home, tmp_path):
    company = tmp_path / "company.pem"
    company.write_text(_self_signed_pem("Company Proxy Root"))
    corp_bundle = tmp_path / "corp-bundle.pem"
    corp_bundle.write_text(_self_signed_pem("Corp Bundle Root"))
    out_file = tmp_path / "env.txt"
    code = (f"import os; open({str(out_file)!r}, 'w').write("
            "os.environ['NODE_EXTRA_CA_CERTS'] + '\\n' + os.environ['SSL_CERT_FILE'])")
    env = dict(os.environ, NODE_EXTRA_CA_CERTS=str(company), SSL_CERT_FILE=str(corp_bundle))
    done = subprocess.run([sys.executable, "-m", "inspector", "run", "--listen", "127.0.0.1:0",
                           "--", sys.executable, "-c", code],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    node_file, ssl_file = out_file.read_text().splitlines()
    assert node_file != str(company) and ssl_file != str(corp_bundle)
    assert "Company Proxy Root" in _subjects(node_file)
    assert any("claude-inspect" in (s or "") for s in _subjects(node_file))
    assert "Corp Bundle Root" in _subjects(ssl_file)
    assert any("claude-inspect" in (s or "") for s in _subjects(ssl_file))
    assert company.read_text().count("BEGIN CERTIFICATE") == 1  # theirs is untouched


def test_ca_gives_python_users_a_bundle_that_exists(home):
    result = CliRunner().invoke(cli, ["ca"])
    assert result.exit_code == 0, result.output
    assert "python -m certifi" not in result.output
    bundle = home / "ca-bundle.pem"
    assert f"SSL_CERT_FILE={bundle}" in result.output
    subjects = _subjects(bundle)
    assert any("claude-inspect" in (s or "") for s in subjects) and len(subjects) > 1
