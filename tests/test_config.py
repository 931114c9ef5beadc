from __future__ import annotations

import pytest

from inspector.config import Config, ConfigError, parse_hostport, parse_resolve
from inspector.timeparse import parse_duration, parse_time


def test_home_from_env_and_flag(home, tmp_path):
    assert Config.load().home == home
    assert Config.load(tmp_path / "other").home == tmp_path / "other"


def test_config_file_then_flags(home):
    home.mkdir()
    (home / "config.toml").write_text('listen = "127.0.0.1:9000"\nretention_days = 7\n')
    cfg = Config.load()
    assert cfg.listen_hostport == ("127.0.0.1", 9000)
    assert cfg.retention_days == 7
    assert Config.load(listen="127.0.0.1:0").listen_hostport == ("127.0.0.1", 0)


def test_bad_config_file_says_where(home):
    home.mkdir()
    (home / "config.toml").write_text("listen = [oops\n")
    with pytest.raises(ConfigError, match="config.toml"):
        Config.load()
    (home / "config.toml").write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        Config.load()


def test_hostport_and_resolve():
    assert parse_hostport("[::1]:8443") == ("::1", 8443)
    assert parse_hostport("localhost", 8443) == ("localhost", 8443)
    with pytest.raises(ConfigError):
        parse_hostport("h:99999")
    assert parse_resolve("api.anthropic.com:443:127.0.0.1:9443") == (
        ("api.anthropic.com", 443), ("127.0.0.1", 9443))
    settings = Config.load(resolve=["api.anthropic.com:443:127.0.0.1:9443"]).proxy_settings()
    assert settings.resolve == {("api.anthropic.com", 443): ("127.0.0.1", 9443)}


def test_durations_and_times():
    assert parse_duration("90s") == 90
    assert parse_duration("7d") == 7 * 86400
    assert parse_time("1h", now=10_000.0) == 6400.0
    assert parse_time("1970-01-01T00:01:00Z") == 60.0
    with pytest.raises(ValueError, match="duration"):
        parse_time("yesterday")


def _mode(path) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)


def test_an_existing_shared_home_keeps_its_mode(tmp_path):
    """`--home` on a folder others use must not lock them out; only a folder we create
    is made owner-only."""
    from click.testing import CliRunner

    from inspector.cli import cli

    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    result = CliRunner().invoke(cli, ["--home", str(shared), "ca", "--path"])
    assert result.exit_code == 0, result.output
    assert _mode(shared) == 0o755
    assert _mode(shared / "ca-key.pem") == 0o600
    fresh = tmp_path / "fresh" / "home"
    assert CliRunner().invoke(cli, ["--home", str(fresh), "ca", "--path"]).exit_code == 0
    assert _mode(fresh) == 0o700


def test_a_database_anywhere_is_owner_only(tmp_path):
    """A `--db` outside the home is created 0600 (and so are its WAL files), whatever
    the umask would give."""
    import os
    import subprocess
    import sys

    db = tmp_path / "elsewhere" / "x.db"
    out = subprocess.run(
        [sys.executable, "-m", "inspector", "demo", "--headless", "--sessions", "1",
         "--db", str(db)],
        capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022))
    assert out.returncode == 0, out.stderr
    made = {p.name: _mode(p) for p in db.parent.iterdir()}
    assert "x.db" in made
    assert made == {name: 0o600 for name in made}


def test_a_home_that_cannot_be_made_is_one_line(tmp_path):
    from click.testing import CliRunner

    from inspector.cli import cli

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for home in (blocker / "below", blocker / "below" / "deeper"):
        result = CliRunner().invoke(cli, ["--home", str(home), "ca", "--path"])
        assert result.exit_code == 1, result.output
        assert result.output.count("\n") == 1 and str(home) in result.output
        assert result.output.startswith(f"error: cannot create the home folder {home} ")
