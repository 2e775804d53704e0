"""How many messages the consumer takes per poll: the room left in the batch, in messages.

A message carries one event or up to 500 pixel hits, so the room left in the batch (rows) is divided
by the recent rows per message (a moving average), keeping the batch, and memory, bounded.
"""

from __future__ import annotations


class PollSize:
    def __init__(self, max_rows: int) -> None:
        self._max_rows = max_rows
        self._rows_per_message = 1.0
        self.batched = 0  # rows in the batch being filled (set by the batching step)

    def observe(self, rows: int) -> None:
        """One message taken into a batch, counting ``rows``."""
        self._rows_per_message = 0.9 * self._rows_per_message + 0.1 * rows

    def size(self) -> int:
        room = max(1, self._max_rows - self.batched)
        return max(1, min(room, int(room / self._rows_per_message)))
