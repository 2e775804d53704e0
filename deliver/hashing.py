"""Hashing user identifiers the way the platforms ask (SHA-256, lowercase hex, of the trimmed value)."""

from __future__ import annotations

import hashlib


def sha256_id(value: str) -> str:
    return hashlib.sha256(value.strip().encode()).hexdigest()
