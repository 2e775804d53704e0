"""Typed settings, read once at start-up from ``ADPULSE_*`` environment variables.

The object is built by :func:`load_settings` in the entry points and passed down explicitly;
nothing reads the environment after start-up.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.networks import DEFAULT_NETWORK, NetworkConfig


class SettingsError(RuntimeError):
    """A configuration value is missing or invalid; the message names the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip().lower() for part in value.split(",") if part.strip()]
    return value


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

    # Aggregator.
    consumer_group: str = "adpulse-aggregator"
    batch_max_rows: int = Field(default=100_000, ge=1)  # issue 10: a hit insert costs ~0.3 s fixed
    batch_max_seconds: float = Field(default=0.5, gt=0, le=60)
    batch_max_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
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
            f"ADPULSE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid configuration: {problems}") from exc
