"""Affiliate networks that send postbacks: their secret token and their own status words.

Configured with ``ADPULSE_NETWORKS`` (JSON), for example::

    {"cake": {"token": "s3cret", "statuses": {"1": "approved", "2": "pending", "3": "rejected"}},
     "impact": {"token": "t0ken"}, "hotmart": {"preset": "hotmart", "token": "the-hottok-value"}}

The network ``default`` always exists (used by ``/postback`` without a network); it needs a token
only when ``ADPULSE_POSTBACK_TOKEN`` is set.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingest.presets import PRESETS, Preset
from schemas.events import ConversionStatus

DEFAULT_NETWORK = "default"
_SIG = re.compile(rb"(?:^|&)sig=([^&]*)")


class NetworkConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str | None = Field(default=None, min_length=8, max_length=256)
    statuses: dict[str, ConversionStatus] = Field(default_factory=dict)
    # HMAC-SHA256 of the query string (without its ``sig`` parameter), hex, in ``sig`` or the
    # X-Adpulse-Signature header; required when set.
    hmac_secret: str | None = Field(default=None, min_length=16, max_length=256)
    # Source addresses (CIDRs) the network's servers post from; empty = any.
    allowed_ips: list[str] = Field(default_factory=list)
    # A known network's names, status words and secret header (ingest/presets.py), e.g. "hotmart".
    preset: str | None = None

    @field_validator("preset")
    @classmethod
    def _check_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            raise ValueError(f"unknown preset {value!r}; known: {', '.join(sorted(PRESETS))}")
        return value

    @property
    def preset_rules(self) -> Preset | None:
        return PRESETS[self.preset] if self.preset else None

    @field_validator("allowed_ips")
    @classmethod
    def _check_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)  # raises ValueError naming the bad entry
        return value

    def ip_ok(self, ip: str) -> bool:
        if not self.allowed_ips:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in self.allowed_ips)

    def signature_ok(self, raw_query: bytes, header: str | None) -> bool:
        """Constant-time check of the HMAC over the query string without ``sig``; True when not configured."""
        if self.hmac_secret is None:
            return True
        unsigned = _SIG.sub(b"", raw_query).strip(b"&")
        found = _SIG.search(raw_query)
        given = header or (found.group(1).decode("ascii", "replace") if found else "")
        expected = hmac.new(self.hmac_secret.encode(), unsigned, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, given.strip().lower())

    def token_ok(self, given: str | None) -> bool:
        """Constant-time check; a network without a token accepts any request."""
        if self.token is None:
            return True
        return given is not None and hmac.compare_digest(self.token.encode(), given.encode())

    def status_words(self) -> dict[str, ConversionStatus]:
        """The preset's status words, then the configured ones (which win)."""
        words = dict(self.preset_rules.statuses) if self.preset_rules else {}
        words.update({word.strip().lower(): status for word, status in self.statuses.items()})
        return words
