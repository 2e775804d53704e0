import pytest

from adpulse.settings import SettingsError, load_settings


def test_defaults_listen_on_loopback(monkeypatch):
    for name in ("ADPULSE_HOST", "ADPULSE_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_allowlist_is_comma_separated_and_lowercased(monkeypatch):
    monkeypatch.setenv("ADPULSE_REDIRECT_ALLOWLIST", " Shop.Example.com, *.example.org ,")
    assert load_settings().redirect_allowlist == ["shop.example.com", "*.example.org"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADPULSE_PORT", "eighty"),
        ("ADPULSE_PORT", "70000"),
        ("ADPULSE_KAFKA_BOOTSTRAP", "localhost"),
        ("ADPULSE_CLICKHOUSE_URL", "ftp://x/db"),
        ("ADPULSE_CLICKHOUSE_URL", "chdb://"),
    ],
)
def test_bad_value_fails_fast_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()


def test_settings_are_frozen():
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.port = 1  # type: ignore[misc]


def test_operations_settings_parse_case_insensitively_and_fail_on_bad_values(monkeypatch):
    monkeypatch.setenv("ADPULSE_LOG_FORMAT", "JSON")
    monkeypatch.setenv("ADPULSE_LOG_LEVEL", "warning")
    monkeypatch.setenv("ADPULSE_SHUTDOWN_TIMEOUT_S", "12.5")
    settings = load_settings()
    assert (settings.log_format, settings.log_level, settings.shutdown_timeout_s) == ("json", "WARNING", 12.5)
    for name, value in (("ADPULSE_LOG_FORMAT", "xml"), ("ADPULSE_SHUTDOWN_TIMEOUT_S", "0")):
        monkeypatch.setenv(name, value)
        with pytest.raises(SettingsError, match=name):
            load_settings()
        monkeypatch.delenv(name)


def test_dashboard_users_are_parsed_and_bad_hashes_named(monkeypatch):
    from adpulse.passwords import make_hash

    good = make_hash("pw-123456", iterations=100_000)
    monkeypatch.setenv("ADPULSE_DASHBOARD_USERS", f"alice:{good}, bob:{good}")
    assert load_settings().dashboard_users == {"alice": good, "bob": good}
    monkeypatch.setenv("ADPULSE_DASHBOARD_USERS", "alice:plaintext")
    with pytest.raises(SettingsError, match="ADPULSE_DASHBOARD_USERS"):
        load_settings()


def test_batch_min_seconds_defaults_to_0_2_or_the_max_and_may_not_exceed_it(monkeypatch):
    assert load_settings().batch_min_age() == 0.2  # unset: 0.2 s, below the 0.5 s max
    monkeypatch.setenv("ADPULSE_BATCH_MAX_SECONDS", "0.1")
    assert load_settings().batch_min_age() == 0.1  # unset: never above the max
    monkeypatch.setenv("ADPULSE_BATCH_MAX_SECONDS", "0.2")
    monkeypatch.setenv("ADPULSE_BATCH_MIN_SECONDS", "0.05")
    assert load_settings().batch_min_age() == 0.05
    monkeypatch.setenv("ADPULSE_BATCH_MIN_SECONDS", "0.3")
    with pytest.raises(SettingsError, match=r"ADPULSE_BATCH_MIN_SECONDS=0\.3 exceeds ADPULSE_BATCH_MAX_SECONDS=0\.2"):
        load_settings()
