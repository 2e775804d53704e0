"""Typed settings, read once at start-up from ``ADPULSE_*`` environment variables.

The object is built by :func:`load_settings` in the entry points and passed down explicitly;
nothing reads the environment after start-up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.types import FilePath, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from adpulse.passwords import HashFormatError, parse_hash
from deliver.config import GA4Target, MetaTarget, SourcePostback, TikTokTarget
from ingest.bots import OperatorLists, network
from ingest.networks import DEFAULT_NETWORK, NetworkConfig

_DEFAULT_GEO_DIR = str(Path(os.environ.get("ADPULSE_CACHE_DIR", "~/.cache/adpulse")) / "geo" / "current")


class SettingsError(RuntimeError):
    """A configuration value is missing or invalid; the message names the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip().lower() for part in value.split(",") if part.strip()]
    return value


# Measured (README "Benchmarks"): with 0.2 s the soak's freshness p99 went from 0.92 to 0.77 s; the writer
# is then rarely idle, so inserts follow one another instead of waiting for the batch's full age.
DEFAULT_BATCH_MIN_SECONDS = 0.2


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADPULSE_", frozen=True, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)  # API worker processes
    kafka_bootstrap: str = "127.0.0.1:9092"
    clickhouse_url: str = "http://default:@127.0.0.1:8123/adpulse"
    redirect_allowlist: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Click redirects: per destination host, the parameter that carries adpulse's click id
    # ("shop.example.com=cid,*.example.org=subid"); default click_id.
    click_id_params: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)

    # Postbacks: per-network token and status words (JSON, see ingest/networks.py), and the token of
    # the network "default" (no token when unset).
    networks: dict[str, NetworkConfig] = Field(default_factory=dict)
    postback_token: str | None = Field(default=None, min_length=8)

    # Browsers: take the client IP from X-Forwarded-For (only behind a proxy you run), and drop hits
    # that carry dnt=1 (the snippet sets it from Do-Not-Track / Global Privacy Control).
    trust_forwarded: bool = False
    honour_dnt: bool = True

    # Batch API: accepted bearer keys (comma-separated); empty = no key required (development only).
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Kafka topics (see README "Kafka topics" for partition counts).
    topic_events: str = "adpulse.events"
    topic_rejects: str = "adpulse.rejects"
    topic_dlq: str = "adpulse.dlq"
    events_partitions: int = Field(default=6, ge=1, le=1024)

    # Producer: how long a request waits for acks=all before it answers 503.
    kafka_ack_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Pixel hits buffered in the producer before new ones are dropped (and counted).
    pixel_max_pending: int = Field(default=20_000, ge=1)

    # --- Kafka security and replication (issue 12) ---
    # TLS and SASL for every Kafka client, applied by adpulse.kafka.client_options. Secrets come only
    # from the environment; SecretStr keeps the password out of logs and reprs.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_username: str | None = Field(default=None, min_length=1)
    kafka_password: SecretStr | None = None
    # PEM CA bundle that signed the brokers' certificates; unset = the system's trusted CAs.
    kafka_ca_file: FilePath | None = None
    # Client certificate and key (PEM) for mutual TLS; the key may be encrypted with kafka_key_password.
    kafka_cert_file: FilePath | None = None
    kafka_key_file: FilePath | None = None
    kafka_key_password: SecretStr | None = None
    # Topic replication for `adpulse topics`: "auto" = 3 and min.insync.replicas 2 on a cluster of 3 or
    # more brokers, else one copy per broker and 1 (ingest/topics.py).
    kafka_replication_factor: int | Literal["auto"] = "auto"
    kafka_min_insync_replicas: int | Literal["auto"] = "auto"

    @model_validator(mode="after")
    def _check_kafka_security(self) -> Settings:
        problem = kafka_security_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    @field_validator("kafka_replication_factor", "kafka_min_insync_replicas")
    @classmethod
    def _check_replication(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 32:
            raise ValueError(f"expected auto or 1..32, got {value}")
        return value

    # Front door (issue 10): how long a postback's answer waits, once Kafka acknowledged the event, for
    # ClickHouse to say whether it is a resend (a "no" is never a promise: the aggregator deduplicates).
    postback_duplicate_wait_s: float = Field(default=0.005, ge=0, le=1)

    # Aggregator.
    consumer_group: str = "adpulse-aggregator"
    batch_max_rows: int = Field(default=100_000, ge=1)  # issue 10: a hit insert costs ~0.3 s fixed
    batch_max_seconds: float = Field(default=0.5, gt=0, le=60)
    # A batch this old is written early when no write is in flight (at most batch_max_seconds; unset =
    # DEFAULT_BATCH_MIN_SECONDS or batch_max_seconds, whichever is smaller).
    batch_min_seconds: float | None = Field(default=None, gt=0, le=60)
    batch_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # Decoded events (clicks, postbacks, beacons, batch API) per batch, while a pixel hit stays bytes:
    # measured with tracemalloc, a decoded conversion is 2.8 KB of Python and its rows 1.7 KB more, so
    # 20,000 hold about 90 MB per batch (the byte bound alone allowed about 40,000 postbacks). 5,000 was
    # tried in a full bench: the aggregator's RSS was no lower and a postback backlog drained slower.
    batch_max_events: int = Field(default=20_000, ge=1)
    # Prometheus metrics of an aggregator on 127.0.0.1:<port>; 0 = off.
    aggregator_metrics_port: int = Field(default=0, ge=0, le=65535)
    attribution_window_days: int = Field(default=30, ge=1, le=3650)
    # Dead-letter limit: a batch of at least dlq_min_messages where more than dlq_max_ratio of the
    # messages are invalid stops the aggregator instead of dead-lettering everything.
    dlq_max_ratio: float = Field(default=0.5, gt=0, le=1)
    dlq_min_messages: int = Field(default=100, ge=1)
    # ClickHouse retention (applied by `adpulse migrate`).
    events_ttl_days: int = Field(default=400, ge=1)
    dedup_window_days: int = Field(default=7, ge=1)

    # ClickHouse clusters (issue 12): how the aggregator reads its own writes on a replicated cluster
    # (aggregator/read_own_writes.py): off (one server), quorum (self-managed replicas; insert quorum of
    # clickhouse_insert_quorum replicas per shard, a number >= 2 or "auto" for a majority), sequential
    # (ClickHouse Cloud).
    clickhouse_read_own_writes: Literal["off", "quorum", "sequential"] = "off"
    clickhouse_insert_quorum: str = Field(default="auto", pattern=r"^(auto|[2-9]|[1-9][0-9]+)$")
    # Operations (issue 12): log format and level, and how long a stopping process may take to drain
    # (API: the publisher's queue; aggregator: its batch). Keep it well under the orchestrator's grace
    # period (the Helm chart's terminationGracePeriodSeconds is 30).
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    shutdown_timeout_s: float = Field(default=10.0, gt=0, le=300)
    # Where the aggregator serves its metrics (with ADPULSE_AGGREGATOR_METRICS_PORT): 0.0.0.0 in a
    # container, so Prometheus can scrape the pod.
    aggregator_metrics_host: str = "127.0.0.1"

    @model_validator(mode="after")
    def _check_batch_seconds(self) -> Settings:
        if self.batch_min_seconds is not None and self.batch_min_seconds > self.batch_max_seconds:
            raise ValueError(
                f"ADPULSE_BATCH_MIN_SECONDS={self.batch_min_seconds} exceeds "
                f"ADPULSE_BATCH_MAX_SECONDS={self.batch_max_seconds}"
            )
        return self

    def batch_min_age(self) -> float:
        """How old a batch must be before it is written while the writer is idle (batch_min_seconds)."""
        if self.batch_min_seconds is None:
            return min(DEFAULT_BATCH_MIN_SECONDS, self.batch_max_seconds)
        return self.batch_min_seconds

    @field_validator("log_format", "log_level", mode="before")
    @classmethod
    def _case_insensitive(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str):
            return value.strip().upper() if info.field_name == "log_level" else value.strip().lower()
        return value

    # --- Conversions delivered onward (issue 13; README "Conversions delivered onward") ---
    # Postback templates per traffic source (JSON; unknown macros refuse the configuration).
    source_postbacks: dict[str, SourcePostback] = Field(default_factory=dict)
    # Ad platforms, keyed by source or "campaign:<id>" (JSON; tokens only from here, the environment).
    meta_capi: dict[str, MetaTarget] = Field(default_factory=dict)
    tiktok_events: dict[str, TikTokTarget] = Field(default_factory=dict)
    ga4: dict[str, GA4Target] = Field(default_factory=dict)
    # Base URLs of the platforms (tests point them at a local receiver).
    meta_base_url: str = "https://graph.facebook.com/v21.0"
    tiktok_base_url: str = "https://business-api.tiktok.com/open_api/v1.3"
    ga4_base_url: str = "https://www.google-analytics.com"
    # Meta refuses events older than 7 days: older ones are not sent (logged as skipped).
    meta_max_event_age_days: int = Field(default=7, ge=1, le=7)
    topic_deliveries: str = "adpulse.deliveries"
    deliver_group: str = "adpulse-deliver"
    # Retries: exponential backoff with jitter from deliver_retry_first_s (the first retry comes within
    # it), each wait capped at deliver_retry_max_s, given up (dead letter) deliver_give_up_s after the
    # first attempt. Retry-After is honoured within those bounds.
    deliver_retry_first_s: float = Field(default=10.0, gt=0, le=30)
    deliver_retry_max_s: float = Field(default=3600.0, gt=0, le=86_400)
    deliver_give_up_s: float = Field(default=86_400.0, gt=0, le=7 * 86_400)
    deliver_timeout_s: float = Field(default=10.0, gt=0, le=120)
    deliver_poll_s: float = Field(default=1.0, gt=0, le=60)
    deliver_concurrency: int = Field(default=16, ge=1, le=512)
    deliver_metrics_port: int = Field(default=0, ge=0, le=65535)

    # Reporting currency and FX rates (issue 9): every amount is converted into reporting_currency when
    # KPIs are read, at the rate of its UTC day or the latest earlier one at most fx_max_age_days old.
    reporting_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    fx_max_age_days: int = Field(default=7, ge=0, le=3650)

    # Dashboard and report endpoints (issue 14): users for HTTP basic auth, "user:pbkdf2_sha256$...,user2:..."
    # (hashes from `adpulse dashboard-hash`). With neither these nor api_keys set, /dashboard, /v1/kpis and
    # /v1/freshness answer loopback clients only (app/access.py).
    dashboard_users: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)

    # --- Traffic quality (issue 11; README "Bots and invalid traffic") ---
    # Operator block lists: CIDRs (or single addresses) and case-insensitive user-agent substrings,
    # comma-separated; at most 255 user-agent patterns (ClickHouse's multi-search limit).
    block_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    block_user_agents: Annotated[list[str], NoDecode] = Field(default_factory=list, max_length=255)
    # Clicks per minute from one visitor on one campaign before the next ones are tagged "velocity".
    click_velocity_limit: int = Field(default=60, ge=1, le=1_000_000)
    # More datacenter ASNs than the shipped list (ingest.bots.DATACENTER_ASNS), comma-separated numbers.
    datacenter_asns: Annotated[list[int], NoDecode] = Field(default_factory=list, max_length=10_000)
    # Enrichment's IP data (country, ASN): the tables deploy/geo/geo.sh compiles at install; "" = none
    # (country and ASN stay empty and the datacenter rule never fires). The API fails to start when set
    # and missing.
    geo_dir: str = _DEFAULT_GEO_DIR

    @field_validator("datacenter_asns", mode="before")
    @classmethod
    def _parse_asns(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip().upper().removeprefix("AS") for part in value.split(",") if part.strip()]
            if not all(part.isdigit() and 0 < int(part) < 2**32 for part in parts):
                raise ValueError("expected comma-separated AS numbers (e.g. 16509,AS14618)")
            return [int(part) for part in parts]
        return value

    @field_validator("block_ips", "block_user_agents", mode="before")
    @classmethod
    def _parse_block_lists(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("block_ips")
    @classmethod
    def _check_block_ips(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                network(cidr)
            except ValueError:
                raise ValueError(f"not a CIDR or an IP address: {cidr[:64]!r}") from None
        return value

    def bot_lists(self) -> OperatorLists:
        return OperatorLists(ips=tuple(self.block_ips), user_agents=tuple(self.block_user_agents),
                             asns=tuple(self.datacenter_asns))  # fmt: skip

    def geo_path(self) -> Path | None:
        return Path(self.geo_dir).expanduser() if self.geo_dir else None

    @field_validator("redirect_allowlist", mode="before")
    @classmethod
    def _parse_allowlist(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("api_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("click_id_params", mode="before")
    @classmethod
    def _parse_click_id_params(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        mapping: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            host, sep, param = item.partition("=")
            if not sep or not host.strip() or not param.strip().isidentifier():
                raise ValueError(f"expected host=param[,host=param...], got {item!r}")
            mapping[host.strip().lower()] = param.strip()
        return mapping

    @field_validator("dashboard_users", mode="before")
    @classmethod
    def _parse_dashboard_users(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        users: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            user, sep, encoded = item.partition(":")
            if not sep or not user.strip():
                raise ValueError("expected user:hash[,user:hash...]")
            try:
                parse_hash(encoded.strip())
            except HashFormatError as exc:
                raise ValueError(f"user {user.strip()!r}: {exc}") from None
            users[user.strip()] = encoded.strip()
        return users

    @model_validator(mode="after")
    def _default_network(self) -> Settings:
        if DEFAULT_NETWORK not in self.networks:
            self.networks[DEFAULT_NETWORK] = NetworkConfig(token=self.postback_token)
        return self

    @field_validator("kafka_bootstrap")
    @classmethod
    def _check_bootstrap(cls, value: str) -> str:
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    @field_validator("clickhouse_url")
    @classmethod
    def _check_clickhouse_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme in ("http", "https"):
            if not parts.hostname:
                raise ValueError(f"{parts.scheme} URL needs a host: {value!r}")
        elif parts.scheme == "chdb":
            if not parts.path or parts.path == "/":
                raise ValueError(f"chdb URL needs a data directory, e.g. chdb:///var/lib/adpulse: {value!r}")
        else:
            raise ValueError(f"scheme must be http, https or chdb, got {value!r}")
        return value


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment (plus explicit overrides), or fail with a clear message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"ADPULSE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" if err["loc"] else err["msg"]
            for err in exc.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from exc


_SASL = ("SASL_PLAINTEXT", "SASL_SSL")
_TLS = ("SSL", "SASL_SSL")


def kafka_security_problem(settings: Settings) -> str | None:
    """What is inconsistent in the Kafka security settings (naming the variables), or None."""
    protocol = settings.kafka_security_protocol
    where = f"ADPULSE_KAFKA_SECURITY_PROTOCOL={protocol}"
    if protocol in _SASL:
        missing = [
            name
            for name, value in (
                ("ADPULSE_KAFKA_SASL_MECHANISM", settings.kafka_sasl_mechanism),
                ("ADPULSE_KAFKA_USERNAME", settings.kafka_username),
                ("ADPULSE_KAFKA_PASSWORD", settings.kafka_password),
            )
            if value is None
        ]
        if missing:
            return f"{where} needs {', '.join(missing)}"
    else:
        given = [
            name
            for name, value in (
                ("ADPULSE_KAFKA_SASL_MECHANISM", settings.kafka_sasl_mechanism),
                ("ADPULSE_KAFKA_USERNAME", settings.kafka_username),
                ("ADPULSE_KAFKA_PASSWORD", settings.kafka_password),
            )
            if value is not None
        ]
        if given:
            return f"{', '.join(given)} set but {where} does not authenticate (use SASL_SSL or SASL_PLAINTEXT)"
    if protocol not in _TLS:
        given = [
            name
            for name, value in (
                ("ADPULSE_KAFKA_CA_FILE", settings.kafka_ca_file),
                ("ADPULSE_KAFKA_CERT_FILE", settings.kafka_cert_file),
                ("ADPULSE_KAFKA_KEY_FILE", settings.kafka_key_file),
            )
            if value is not None
        ]
        if given:
            return f"{', '.join(given)} set but {where} does not use TLS (use SSL or SASL_SSL)"
    if (settings.kafka_cert_file is None) != (settings.kafka_key_file is None):
        return "ADPULSE_KAFKA_CERT_FILE and ADPULSE_KAFKA_KEY_FILE go together (mutual TLS needs both)"
    if settings.kafka_key_password is not None and settings.kafka_key_file is None:
        return "ADPULSE_KAFKA_KEY_PASSWORD set without ADPULSE_KAFKA_KEY_FILE"
    rf, isr = settings.kafka_replication_factor, settings.kafka_min_insync_replicas
    if isinstance(rf, int) and isinstance(isr, int) and isr > rf:
        return f"ADPULSE_KAFKA_MIN_INSYNC_REPLICAS={isr} exceeds ADPULSE_KAFKA_REPLICATION_FACTOR={rf}"
    return None
