"""The system under test: the project's own stack (deploy/stack.sh) on free loopback ports, and nginx
serving the same 43-byte GIF as the baseline."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import clickhouse_connect
import httpx

from app.responses import GIF

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    run_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. a Kafka cluster: KAFKA_NODES, ports
    api: str = ""
    clickhouse_url: str = ""
    metrics_url: str = ""

    def up(self) -> None:
        ports = {k: free_port() for k in ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "CLICKHOUSE_DEV_PORT", "ADPULSE_PORT")}
        metrics = free_port()
        self.env = {
            **os.environ,
            **{k: str(v) for k, v in ports.items()},
            "ADPULSE_RUN_DIR": str(self.run_dir),
            "KAFKA_DATA_DIR": str(self.run_dir / "kafka"),
            "ADPULSE_REDIRECT_ALLOWLIST": "shop.example.com",
            "ADPULSE_AGGREGATOR_METRICS_PORT": str(metrics),
            "ADPULSE_PIXEL_MAX_PENDING": "200000",
            **self.extra_env,
        }
        self.api = f"http://127.0.0.1:{ports['ADPULSE_PORT']}"
        self.clickhouse_url = f"http://default:@127.0.0.1:{ports['CLICKHOUSE_DEV_PORT']}/adpulse"
        self.metrics_url = f"http://127.0.0.1:{metrics}/metrics"
        self._stack("up")

    def _stack(self, command: str) -> None:
        result = subprocess.run([REPO / "deploy/stack.sh", command], env=self.env, capture_output=True, text=True,
                                timeout=300)  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"stack {command} failed:\n{result.stdout}\n{result.stderr}")

    def down(self) -> None:
        self._stack("down")

    def pid(self, name: str) -> int:
        return int((self.run_dir / f"{name}.pid").read_text())

    def stop_aggregator(self) -> None:
        subprocess.run(["kill", "-TERM", str(self.pid("aggregator"))], check=False)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{self.pid('aggregator')}").exists() and time.monotonic() < deadline:
            status = Path(f"/proc/{self.pid('aggregator')}/status").read_text()
            if "State:\tZ" in status:
                break
            time.sleep(0.1)

    def start_aggregator(self) -> None:
        self._stack("up")  # starts what is not running

    def clickhouse(self) -> Any:
        return clickhouse_connect.get_client(dsn=self.clickhouse_url, autogenerate_session_id=False)

    def api_metric(self, line_start: str) -> float:
        for line in httpx.get(f"{self.api}/metrics").text.splitlines():
            if line.startswith(line_start):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def serves_gif(url: str, *, seconds: float) -> bool:
    """Whether ``url`` answers the pixel's GIF within ``seconds`` (a server just started)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url).content == GIF:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


@dataclass
class Nginx:
    run_dir: Path
    core: int = 0
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        if shutil.which("nginx") is None:
            raise RuntimeError("nginx is not installed: run deploy/system-deps.sh")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for directory in (self.run_dir.parent, self.run_dir):  # nginx's worker runs unprivileged
            directory.chmod(0o755)
        (self.run_dir / "pixel.gif").write_bytes(GIF)
        self.port = free_port()
        conf = self.run_dir / "nginx.conf"
        conf.write_text(f"""worker_processes 1; daemon off; pid {self.run_dir}/nginx.pid;
error_log {self.run_dir}/nginx.err warn;
events {{ worker_connections 1024; }}
http {{ access_log off;
  server {{ listen 127.0.0.1:{self.port};
    location = /i {{ default_type image/gif; add_header Cache-Control "no-cache, no-store, must-revalidate, max-age=0";
                     alias {self.run_dir}/pixel.gif; }} }} }}
""")
        self.process = subprocess.Popen(["taskset", "-c", str(self.core), "nginx", "-c", str(conf), "-p", str(self.run_dir)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{self.port}/i"
        if serves_gif(url, seconds=10):
            return url
        self.stop()
        raise RuntimeError(f"nginx did not serve the GIF; see {self.run_dir}/nginx.err")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class NoopApp:
    """``loadtests.noop`` (a do-nothing RSGI or ASGI app under granian) pinned to ``core``."""

    interface: str
    core: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        port = free_port()
        self.process = subprocess.Popen(["taskset", "-c", str(self.core), sys.executable, "-m", "loadtests.noop",
                                         self.interface, str(port)], cwd=REPO,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{port}/i"
        if serves_gif(url, seconds=30):
            return url
        self.stop()
        raise RuntimeError(f"the no-op {self.interface} app did not serve the GIF")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
