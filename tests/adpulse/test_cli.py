import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adpulse.cli import main


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/healthz", "/metrics") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthcheck_asks_the_local_api(server, monkeypatch):
    monkeypatch.setenv("ADPULSE_PORT", str(server))
    assert main(["healthcheck"]) == 0
    monkeypatch.setenv("ADPULSE_PORT", str(closed_port()))
    assert main(["healthcheck", "--timeout", "1"]) == 1


def test_healthcheck_of_the_aggregator_needs_its_metrics_port(server, monkeypatch):
    monkeypatch.delenv("ADPULSE_AGGREGATOR_METRICS_PORT", raising=False)
    assert main(["healthcheck", "--aggregator"]) == 1
    monkeypatch.setenv("ADPULSE_AGGREGATOR_METRICS_PORT", str(server))
    assert main(["healthcheck", "--aggregator"]) == 0
