"""RSGI types (granian's ``granian.rsgi`` re-exports the protocol class without declaring it public)."""

from __future__ import annotations

from granian._granian import RSGIHTTPProtocol as HTTPProtocol
from granian.rsgi import Scope

__all__ = ["HTTPProtocol", "Scope"]
