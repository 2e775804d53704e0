"""Kafka security settings and the client options every Kafka client is built from."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

import certifi
import pytest

from adpulse.kafka import client_options, diagnose
from adpulse.settings import SettingsError, load_settings
from tests.integration.conftest import free_port

SASL = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_username": "adpulse",
    "kafka_password": "s3cret-Pa55",
}


def test_default_is_plaintext_with_the_bootstrap_servers_only():
    options = client_options(load_settings(kafka_bootstrap="127.0.0.1:1"))
    assert options == {"bootstrap_servers": "127.0.0.1:1", "security_protocol": "PLAINTEXT"}


def test_sasl_ssl_gives_every_client_mechanism_credentials_and_a_verifying_tls_context():
    settings = load_settings(**SASL, kafka_ca_file=certifi.where())
    options = client_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("adpulse", "s3cret-Pa55")
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 10  # the CA bundle was loaded


def test_ssl_without_sasl_has_no_credentials():
    options = client_options(load_settings(kafka_security_protocol="SSL"))
    assert "sasl_mechanism" not in options and "sasl_plain_password" not in options
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_the_password_is_never_in_repr_or_str(monkeypatch):
    for name, value in SASL.items():
        monkeypatch.setenv(f"ADPULSE_{name.upper()}", value)
    settings = load_settings()
    assert "s3cret-Pa55" not in repr(settings)
    assert "s3cret-Pa55" not in str(settings)
    assert settings.kafka_password is not None and settings.kafka_password.get_secret_value() == "s3cret-Pa55"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "ADPULSE_KAFKA_SASL_MECHANISM, ADPULSE_KAFKA_USERNAME"),
        ({**SASL, "kafka_password": None}, "needs ADPULSE_KAFKA_PASSWORD"),
        ({"kafka_username": "u"}, "ADPULSE_KAFKA_USERNAME set but ADPULSE_KAFKA_SECURITY_PROTOCOL=PLAINTEXT"),
        ({"kafka_ca_file": certifi.where()}, "ADPULSE_KAFKA_CA_FILE set but"),
        ({"kafka_security_protocol": "SSL", "kafka_cert_file": certifi.where()}, "ADPULSE_KAFKA_KEY_FILE go together"),
        ({"kafka_security_protocol": "SSL", "kafka_ca_file": "/nonexistent/ca.pem"}, "ADPULSE_KAFKA_CA_FILE"),
        ({"kafka_security_protocol": "TLS"}, "ADPULSE_KAFKA_SECURITY_PROTOCOL"),
        ({**SASL, "kafka_sasl_mechanism": "GSSAPI"}, "ADPULSE_KAFKA_SASL_MECHANISM"),
        ({"kafka_replication_factor": 2, "kafka_min_insync_replicas": 3}, "ADPULSE_KAFKA_MIN_INSYNC_REPLICAS=3"),
        ({"kafka_replication_factor": "three"}, "ADPULSE_KAFKA_REPLICATION_FACTOR"),
    ],
)
def test_inconsistent_security_settings_fail_at_start_naming_the_variable(overrides, named):
    with pytest.raises(SettingsError, match=named) as caught:
        load_settings(**overrides)
    assert "s3cret-Pa55" not in str(caught.value)


def test_mutual_tls_loads_the_client_certificate(tmp_path: Path):
    key, cert = tmp_path / "client.key", tmp_path / "client.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=adpulse-client",
                    "-days", "1", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)  # fmt: skip
    settings = load_settings(kafka_security_protocol="SSL", kafka_cert_file=cert, kafka_key_file=key)
    assert isinstance(client_options(settings)["ssl_context"], ssl.SSLContext)
    other = tmp_path / "other.key"
    subprocess.run(["openssl", "genrsa", "-out", str(other), "2048"], check=True, capture_output=True)
    mismatched = load_settings(kafka_security_protocol="SSL", kafka_cert_file=cert, kafka_key_file=other)
    with pytest.raises(ssl.SSLError):  # the key is checked against the certificate when the context is built
        client_options(mismatched)


def test_diagnose_calls_a_closed_port_unreachable_and_not_fatal():
    problem = asyncio.run(diagnose(client_options(load_settings(kafka_bootstrap=f"127.0.0.1:{free_port()}")), 5))
    assert problem is not None
    assert problem.kind == "unreachable" and not problem.fatal
