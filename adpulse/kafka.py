"""Kafka client options shared by every client (API producer, aggregator, topics, replay, later consumers).

One place builds the connection options from the settings, so security (TLS, SASL) and bootstrap
servers are configured once and every client gets the same. Each client adds its own behaviour
(acks, group id, client id) on top.

aiokafka reports a failed bootstrap only as "Unable to bootstrap" (the cause goes to its log), so
:func:`diagnose` opens one connection itself, with the same options, to tell an authentication or TLS
failure (a configuration error: retrying will not help) from a broker that is not reachable yet.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from typing import Any, Literal

from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    AuthenticationMethodNotSupported,
    KafkaError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from aiokafka.helpers import create_ssl_context

from adpulse.settings import Settings

ProblemKind = Literal["authentication", "tls", "unreachable"]


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
    protocol = settings.kafka_security_protocol
    options: dict[str, Any] = {"bootstrap_servers": settings.kafka_bootstrap, "security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl_context(settings)
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL") and settings.kafka_password is not None:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_username
        options["sasl_plain_password"] = settings.kafka_password.get_secret_value()
    return options


def ssl_context(settings: Settings) -> ssl.SSLContext:
    """Verifies the brokers against ADPULSE_KAFKA_CA_FILE (else the system's CAs), host names checked;
    presents the client certificate when one is configured (mutual TLS)."""
    key_password = settings.kafka_key_password
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ca_file,
        certfile=settings.kafka_cert_file,
        keyfile=settings.kafka_key_file,
        password=key_password.get_secret_value() if key_password is not None else None,
    )
    return context


@dataclass(frozen=True)
class ConnectProblem:
    """Why no Kafka bootstrap server could be used; ``message`` holds no secret."""

    kind: ProblemKind
    message: str

    @property
    def fatal(self) -> bool:
        """A configuration error (credentials, certificates): trying again will not help."""
        return self.kind != "unreachable"


def _classify(exc: BaseException, server: str, options: dict[str, Any]) -> ConnectProblem:
    mechanism = options.get("sasl_mechanism")
    user = options.get("sasl_plain_username")
    if isinstance(exc, SaslAuthenticationFailed | AuthenticationFailedError):
        return ConnectProblem(
            "authentication",
            f"Kafka authentication failed at {server} as user {user!r} with {mechanism}: {exc} "
            "(check ADPULSE_KAFKA_USERNAME, ADPULSE_KAFKA_PASSWORD, ADPULSE_KAFKA_SASL_MECHANISM)",
        )
    if isinstance(exc, UnsupportedSaslMechanismError | AuthenticationMethodNotSupported):
        return ConnectProblem(
            "authentication",
            f"Kafka authentication failed at {server}: {exc} (ADPULSE_KAFKA_SASL_MECHANISM={mechanism})",
        )
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return ConnectProblem(
            "tls",
            f"Kafka TLS handshake failed at {server}: {exc} "
            "(check ADPULSE_KAFKA_CA_FILE and ADPULSE_KAFKA_SECURITY_PROTOCOL; the broker's certificate "
            "must name the host in ADPULSE_KAFKA_BOOTSTRAP)",
        )
    return ConnectProblem("unreachable", f"Kafka at {server} not reachable: {type(exc).__name__}: {exc}")


async def diagnose(options: dict[str, Any], timeout_s: float = 10.0) -> ConnectProblem | None:
    """Connect to each bootstrap server once (TLS handshake, SASL authentication) with the clients'
    options. None when one of them accepted us; else the most telling problem (authentication or TLS
    before unreachable)."""
    servers = [s.strip() for s in str(options["bootstrap_servers"]).split(",") if s.strip()]
    connection = {k: v for k, v in options.items() if k != "bootstrap_servers"}
    problems: list[ConnectProblem] = []
    for server in servers:
        host, _, port = server.rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(timeout_s * 1000), **connection), timeout_s
            )
        except (KafkaError, OSError, TimeoutError) as exc:
            problems.append(_classify(exc, server, options))
            continue
        conn.close()
        return None
    problems.sort(key=lambda p: not p.fatal)
    return problems[0] if problems else ConnectProblem("unreachable", "ADPULSE_KAFKA_BOOTSTRAP names no server")


def explain_start_failure(settings: Settings, exc: BaseException) -> str:
    """The message a command (aggregate, topics, replay-dlq) exits with when Kafka refused it at start."""
    problem = asyncio.run(diagnose(client_options(settings)))
    if problem is None:
        return f"Kafka at {settings.kafka_bootstrap} failed: {exc}"
    return problem.message
