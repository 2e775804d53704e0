"""Affiliate networks that send postbacks: their secret token and their own status words.

Configured with ``ADPULSE_NETWORKS`` (JSON), for example::

    {"cake": {"token": "s3cret", "statuses": {"1": "approved", "2": "pending", "3": "rejected"}},
     "impact": {"token": "t0ken"}}

The network ``default`` always exists (used by ``/postback`` without a network); it needs a token
only when ``ADPULSE_POSTBACK_TOKEN`` is set.
"""

from __future__ import annotations

import hmac

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import ConversionStatus

DEFAULT_NETWORK = "default"


class NetworkConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    token: str | None = Field(default=None, min_length=8, max_length=256)
    statuses: dict[str, ConversionStatus] = Field(default_factory=dict)

    def token_ok(self, given: str | None) -> bool:
        """Constant-time check; a network without a token accepts any request."""
        if self.token is None:
            return True
        return given is not None and hmac.compare_digest(self.token.encode(), given.encode())

    def status_words(self) -> dict[str, ConversionStatus]:
        return {word.strip().lower(): status for word, status in self.statuses.items()}
