"""`adpulse dashboard-hash` (its own file: tests/adpulse/test_cli.py belongs to the deployment branch)."""

import io

from adpulse.cli import main
from adpulse.passwords import verify


def test_dashboard_hash_prints_a_user_line_from_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["dashboard-hash", "--user", "alice"]) == 0
    user, encoded = capsys.readouterr().out.strip().split(":", 1)
    assert user == "alice" and verify("a-long-password", encoded)


def test_dashboard_hash_refuses_a_short_password(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["dashboard-hash"]) == 2
    assert "at least 8" in capsys.readouterr().err
