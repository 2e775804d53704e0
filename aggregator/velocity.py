"""Click velocity (issue 11): more than ``ADPULSE_CLICK_VELOCITY_LIMIT`` clicks in one UTC minute from one
visitor on one campaign: the clicks past the limit are bot clicks (``bot_reason = 'velocity'``).

A visitor is the first-party id, else the truncated IP and the user agent (server-side clicks with none of
them are never counted). The count spans batches: the aggregator looks up the clicks already stored for
the batch's (campaign, visitor, minute) keys (``aggregator.writer``), then numbers the batch's new clicks
in (time, event id) order, so a replay of the same messages tags the same clicks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from schemas.events import Event, EventType

MINUTE_MS = 60_000
# (campaign_id, visitor, minute start in epoch ms)
Key = tuple[str, str, int]

# The visitor of a stored click, in ClickHouse (the twin of :func:`visitor`).
VISITOR_SQL = "if(visitor_id != '', visitor_id, concat(client_ip, '|', user_agent))"


def visitor(event: Event) -> str:
    """The velocity visitor of a click ('' = not counted)."""
    if event.visitor_id:
        return event.visitor_id
    if not event.client_ip and not event.user_agent:
        return ""
    return f"{event.client_ip}|{event.user_agent}"


def key(event: Event) -> Key | None:
    who = visitor(event)
    if event.event_type is not EventType.CLICK or not who:
        return None
    return (event.campaign_id, who, event.received_at_ms - event.received_at_ms % MINUTE_MS)


def keys(events: Iterable[Event]) -> list[Key]:
    return sorted({k for e in events if (k := key(e)) is not None})


def over_limit(clicks: Iterable[Event], stored: Mapping[Key, int], limit: int) -> set[str]:
    """The event ids of ``clicks`` (new, deduplicated) past ``limit`` in their minute, counting ``stored``."""
    counts = dict(stored)
    past: set[str] = set()
    for event in sorted(clicks, key=lambda e: (e.received_at_ms, e.event_id)):
        k = key(event)
        if k is None:
            continue
        counts[k] = counts.get(k, 0) + 1
        if counts[k] > limit:
            past.add(event.event_id)
    return past
