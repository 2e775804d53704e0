"""deploy/kafka/kafka.sh against the real broker: started once, answering, stopped by its PID."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy/kafka/kafka.sh"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def brokers_for(data_dir: Path) -> list[int]:
    """Live JVMs running a broker on this data dir's server.properties."""
    config = str(data_dir / "server.properties").encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kafka.Kafka" in argv and config in argv and pid_alive(int(proc.name)):
            found.append(int(proc.name))
    return found


@dataclass(frozen=True)
class Broker:
    env: dict[str, str]
    data_dir: Path
    port: int
    controller_port: int

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return int((self.data_dir / "kafka.pid").read_text())

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SCRIPT, command], env=self.env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Ports and a data dir for one broker; whatever the test leaves running is stopped by PID."""
    port = free_port()
    controller_port = free_port()
    while controller_port == port:
        controller_port = free_port()
    data_dir = tmp_path / "kafka"
    env = {
        **os.environ,
        "KAFKA_PORT": str(port),
        "KAFKA_CONTROLLER_PORT": str(controller_port),
        "KAFKA_DATA_DIR": str(data_dir),
    }
    b = Broker(env, data_dir, port, controller_port)
    try:
        yield b
    finally:
        b.run("stop")
        for pid in brokers_for(data_dir):  # the script failed to stop it: do not leak a JVM
            os.kill(pid, 9)


async def round_trip(bootstrap: str) -> bytes:
    """A 3-partition topic through the admin API, one message produced with acks=all and read back."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        assert [b["node_id"] for b in cluster["brokers"]] == [1]
        assert cluster["controller_id"] == 1
        await admin.create_topics([NewTopic("probe", num_partitions=3, replication_factor=1)])
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
        message = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    return bytes(message.value)


async def topic_names(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


def test_start_answers_is_idempotent_and_stops_by_pid(broker: Broker) -> None:
    started = broker.run("start")
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"ready: bootstrap {broker.bootstrap}" in started.stdout
    pid = broker.pid
    assert brokers_for(broker.data_dir) == [pid]
    assert asyncio.run(round_trip(broker.bootstrap)) == b"hello"

    again = broker.run("start")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already running" in again.stdout
    assert broker.pid == pid
    assert brokers_for(broker.data_dir) == [pid]

    status = broker.run("status")
    assert status.returncode == 0
    assert f"running (pid {pid})" in status.stdout

    # Loopback only, topics only from the project, logs in the data dir through log4j2.
    config = (broker.data_dir / "server.properties").read_text()
    assert f"listeners=PLAINTEXT://127.0.0.1:{broker.port},CONTROLLER://127.0.0.1:{broker.controller_port}" in config
    assert "auto.create.topics.enable=false" in config
    assert "Kafka Server started" in (broker.data_dir / "server.log").read_text()

    stopped = broker.run("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert not (broker.data_dir / "kafka.pid").exists()
    assert not pid_alive(pid)
    assert not port_open(broker.port)
    assert not port_open(broker.controller_port)
    assert broker.run("status").returncode == 1
    assert broker.run("stop").returncode == 0  # stopping a stopped broker is fine


def test_restart_keeps_data_and_cleans_a_stale_pid_file(broker: Broker) -> None:
    assert broker.run("start").returncode == 0
    asyncio.run(round_trip(broker.bootstrap))
    assert broker.run("stop").returncode == 0
    meta = (broker.data_dir / "logs/meta.properties").read_text()

    (broker.data_dir / "kafka.pid").write_text(f"{os.getpid()}\n")  # alive, but not a broker
    restarted = broker.run("start")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert "stale pid file" in restarted.stdout
    assert "formatting" not in restarted.stdout  # formatted once only
    assert (broker.data_dir / "logs/meta.properties").read_text() == meta
    assert broker.pid != os.getpid()
    assert "probe" in asyncio.run(topic_names(broker.bootstrap))


def test_start_refuses_a_port_taken_by_another_process(broker: Broker) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", broker.port))
        sock.listen()
        t0 = time.monotonic()
        result = broker.run("start")
    assert result.returncode == 1
    assert f"127.0.0.1:{broker.port} is already in use" in result.stderr
    assert time.monotonic() - t0 < 30
    assert not (broker.data_dir / "kafka.pid").exists()
    assert brokers_for(broker.data_dir) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KAFKA_NODES": "0"}, "KAFKA_NODES=0: expected 1 to 9"),
        ({"KAFKA_NODES": "three"}, "KAFKA_NODES=three"),
        ({"KAFKA_SECURITY": "tls"}, "KAFKA_SECURITY=tls: expected plaintext or sasl_ssl"),
        ({"KAFKA_NODES": "3", "KAFKA_PORT": "1,2"}, "KAFKA_PORT=1,2: expected one port, or 3 comma-separated ports"),
        ({"KAFKA_NODES": "3", "KAFKA_PORT": "9100", "KAFKA_CONTROLLER_PORT": "9102"}, "every port must differ"),
        ({"KAFKA_NODES": "3", "KAFKA_PORT": "1,2,x"}, "'x' is not a port number"),
    ],
)
def test_bad_cluster_or_security_settings_fail_before_anything_starts(tmp_path: Path, env, message) -> None:
    full = {**os.environ, "KAFKA_DATA_DIR": str(tmp_path / "kafka"), **env}
    result = subprocess.run([SCRIPT, "start"], env=full, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "kafka").exists()


def test_a_data_dir_keeps_its_layout(broker: Broker) -> None:
    """Formatted for one node in PLAINTEXT, it is not started as SASL_SSL (its SCRAM users would be missing)."""
    broker.data_dir.mkdir(parents=True)
    (broker.data_dir / "layout").write_text("nodes=1 security=plaintext\n")
    result = subprocess.run([SCRIPT, "start"], env={**broker.env, "KAFKA_SECURITY": "sasl_ssl"}, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert "formatted as 'nodes=1 security=plaintext', not 'nodes=1 security=sasl_ssl'" in result.stderr
    assert brokers_for(broker.data_dir) == []
