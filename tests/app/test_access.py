"""Who may read /dashboard, /v1/kpis and /v1/freshness (app/access.py), over the real ASGI app."""

import base64

import httpx
import pytest

from adpulse.passwords import make_hash
from adpulse.settings import load_settings
from app.main import create_app

HASH = make_hash("s3cret-pass", iterations=100_000)


def client(peer: str = "127.0.0.1", **settings: object) -> httpx.AsyncClient:
    app = create_app(load_settings(**settings))  # no lifespan: ClickHouse is not connected (503 past access)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(peer, 40000)), base_url="http://t")


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.0.0.53", "::1"])
async def test_without_configuration_loopback_clients_may_read(peer):
    async with client(peer) as http:
        page = await http.get("/dashboard")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert (await http.get("/v1/kpis")).status_code == 503  # past the access check, no ClickHouse
        assert (await http.get("/v1/freshness")).status_code == 503


@pytest.mark.parametrize("path", ["/dashboard", "/v1/kpis", "/v1/freshness", "/dashboard/dashboard.js"])
async def test_without_configuration_other_clients_are_refused(path):
    async with client("203.0.113.9") as http:
        answer = await http.get(path)
    assert answer.status_code == 403
    assert answer.json()["field"] == "client"


async def test_without_configuration_a_proxied_request_is_refused_even_from_loopback():
    async with client("127.0.0.1") as http:
        answer = await http.get("/dashboard", headers={"X-Forwarded-For": "198.51.100.7"})
    assert answer.status_code == 403


async def test_dashboard_users_need_their_password():
    async with client("127.0.0.1", dashboard_users=f"alice:{HASH}") as http:
        missing = await http.get("/dashboard")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Basic realm=")
        assert missing.json()["field"] == "authorization"
        assert (await http.get("/dashboard", headers=basic("alice", "wrong-pass"))).status_code == 401
        assert (await http.get("/dashboard", headers=basic("mallory", "s3cret-pass"))).status_code == 401
        assert (await http.get("/dashboard", headers={"Authorization": "Basic !!!"})).status_code == 401
        assert (await http.get("/dashboard", headers=basic("alice", "s3cret-pass"))).status_code == 200
        assert (await http.get("/v1/kpis", headers=basic("alice", "s3cret-pass"))).status_code == 503
        # From anywhere, with credentials.
    async with client("203.0.113.9", dashboard_users=f"alice:{HASH}") as http:
        assert (await http.get("/v1/freshness", headers=basic("alice", "s3cret-pass"))).status_code == 503


async def test_api_keys_open_reports_as_bearer_or_basic_password():
    async with client("203.0.113.9", api_keys="key-one,key-two") as http:
        assert (await http.get("/v1/kpis")).status_code == 401
        assert (await http.get("/v1/kpis", headers={"Authorization": "Bearer key-two"})).status_code == 503
        assert (await http.get("/v1/kpis", headers={"Authorization": "Bearer key-three"})).status_code == 401
        assert (await http.get("/dashboard", headers=basic("anyone", "key-one"))).status_code == 200


async def test_only_the_shipped_files_are_served():
    async with client() as http:
        js = await http.get("/dashboard/vendor/uPlot.iife.min.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        again = await http.get("/dashboard/vendor/uPlot.iife.min.js", headers={"If-None-Match": js.headers["etag"]})
        assert again.status_code == 304
        for path in ("/dashboard/../app/main.py", "/dashboard/vendor/uPlot.LICENSE", "/dashboard/%2e%2e/main.py"):
            assert (await http.get(path)).status_code == 404, path
        slash = await http.get("/dashboard/", follow_redirects=False)
        assert slash.status_code == 308
