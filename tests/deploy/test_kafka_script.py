"""deploy/kafka/kafka.sh: the real broker, started once, answering, stopped by PID."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.integration.conftest import REPO, free_port

pytestmark = pytest.mark.integration
SCRIPT = REPO / "deploy/kafka/kafka.sh"


def pid_alive(pid: str) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def run(env, command):
    return subprocess.run([SCRIPT, command], env=env, capture_output=True, text=True, timeout=180)


async def round_trip(bootstrap: str) -> bytes:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic("probe", 3, 1)])
        described = await admin.describe_topics(["probe"])
    finally:
        await admin.close()
    assert len(described[0]["partitions"]) == 3
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait("probe", b"hello", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer("probe", bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        message = await asyncio.wait_for(consumer.getone(), 20)
    finally:
        await consumer.stop()
    return bytes(message.value)


def test_start_is_idempotent_answers_and_stops_by_pid(tmp_path):
    port = free_port()
    env = {**os.environ, "KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(free_port()),
           "KAFKA_DATA_DIR": str(tmp_path / "kafka")}  # fmt: skip
    try:
        assert run(env, "start").returncode == 0
        pid = (tmp_path / "kafka/kafka.pid").read_text().strip()
        assert asyncio.run(round_trip(f"127.0.0.1:{port}")) == b"hello"
        again = run(env, "start")
        assert again.returncode == 0
        assert "already running" in again.stdout
        assert (tmp_path / "kafka/kafka.pid").read_text().strip() == pid
        assert run(env, "status").returncode == 0
        # The broker listens on loopback only.
        assert f"PLAINTEXT://127.0.0.1:{port}" in (tmp_path / "kafka/server.properties").read_text()
    finally:
        assert run(env, "stop").returncode == 0
    assert not (tmp_path / "kafka/kafka.pid").exists()
    assert not pid_alive(pid)
    assert run(env, "status").returncode == 1
