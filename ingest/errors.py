"""Validation errors that name the offending field."""

from __future__ import annotations


class FieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        field = field or "query"  # a parameter without a name is still the query's fault
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def as_json(self) -> dict[str, str]:
        return {"error": "invalid_parameter", "field": self.field, "reason": self.reason}
