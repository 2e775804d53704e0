import io
import logging
import logging.config

import orjson
import pytest

from adpulse import logs


@pytest.fixture
def capture():
    """The project's logging config with its console handler writing into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)

    def configure(fmt):
        config = logs.config(fmt, "INFO")
        config["handlers"]["console"]["stream"] = buffer = io.StringIO()
        logging.config.dictConfig(config)
        return buffer

    yield configure
    root.handlers[:], _ = saved
    root.setLevel(saved[1])


def test_json_lines_have_the_fields_and_the_request_id(capture):
    buffer = capture("json")
    token = logs.REQUEST_ID.set("req-1")
    try:
        logging.getLogger("adpulse.x").warning("refused %s", "cake", extra={"network": "cake"})
    finally:
        logs.REQUEST_ID.reset(token)
    logging.getLogger("adpulse.x").info("outside")
    first, second = (orjson.loads(line) for line in buffer.getvalue().splitlines())
    assert (first["level"], first["logger"], first["message"]) == ("WARNING", "adpulse.x", "refused cake")
    assert (first["request_id"], first["network"]) == ("req-1", "cake")
    assert first["time"].endswith("+00:00")  # UTC
    assert "request_id" not in second  # outside a request


def test_exceptions_are_one_json_line(capture):
    buffer = capture("json")
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("adpulse.x").exception("failed")
    (line,) = buffer.getvalue().splitlines()
    assert "ValueError: bad" in orjson.loads(line)["exc_info"]


def test_text_format_shows_the_request_id(capture):
    buffer = capture("text")
    token = logs.REQUEST_ID.set("abc")
    try:
        logging.getLogger("adpulse.y").info("hello")
    finally:
        logs.REQUEST_ID.reset(token)
    assert buffer.getvalue().rstrip().endswith("INFO adpulse.y [abc]: hello")


def test_granian_loggers_use_the_same_handler():
    config = logs.config("json")
    assert config["loggers"]["_granian"]["handlers"] == ["console"]
    assert config["loggers"]["granian.access"]["propagate"] is False


def test_text_format_outside_a_request_shows_a_dash(capture):
    buffer = capture("text")
    logging.getLogger("adpulse.y").info("idle")
    assert buffer.getvalue().rstrip().endswith("INFO adpulse.y [-]: idle")
