"""How many messages to poll: the room left in the batch over the recent rows per message."""

from aggregator.poll_size import PollSize


def test_one_row_messages_fill_the_room_and_hit_messages_take_fewer():
    size = PollSize(max_rows=1000)
    assert size.size() == 1000
    size.batched = 400
    assert size.size() == 600
    for _ in range(200):
        size.observe(500)  # pixel hit messages: 500 hits each
    assert size.size() == 1  # 600 rows of room is about one hit message
    size.batched = 0
    assert size.size() == 2


def test_at_least_one_even_when_full():
    size = PollSize(max_rows=10)
    size.batched = 50
    assert size.size() == 1
