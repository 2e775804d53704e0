"""deploy/compose.yaml: valid against the Compose specification's JSON schema (check-jsonschema's
vendored copy, offline), and wired as documented. No Docker engine runs here: nothing is started."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from adpulse.cli import main
from tests.deploy.tools import REPO, run

COMPOSE = REPO / "deploy/compose.yaml"
ADPULSE = ("migrate", "topics", "api", "aggregator")


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return run(Path(sys.executable).parent / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", path)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_compose_file_passes_the_compose_spec_schema():
    out = check_jsonschema(COMPOSE)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_schema_check_catches_mistakes(tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    restart: unless-stopped\n", "    restart_policy: always\n", 1))
    assert check_jsonschema(broken).returncode != 0


def test_services_use_official_images_and_health_checks(compose):
    services = compose["services"]
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["clickhouse"]["image"].startswith("clickhouse/clickhouse-server:")
    assert services["grafana"]["image"].startswith("grafana/grafana:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    for name in ("kafka", "clickhouse", "api", "aggregator", "grafana"):
        assert services[name]["healthcheck"]["test"], name
    for name in ("kafka", "clickhouse", "grafana", "prometheus"):
        assert any(":" in v and not v.startswith(".") for v in services[name]["volumes"]), name  # named volume


def test_adpulse_services_wait_for_migrations_and_topics_and_run_locked_down(compose):
    services = compose["services"]
    for name in ("api", "aggregator"):
        assert services[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"},
            "topics": {"condition": "service_completed_successfully"},
        }
    assert services["migrate"]["restart"] == services["topics"]["restart"] == "no"
    for name in ADPULSE:
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["user"] == "10001:10001" and service["read_only"] is True
        assert service["tmpfs"] == ["/tmp"] and service["cap_drop"] == ["ALL"]
        assert service["env_file"] == [{"path": ".env", "required": True}]
        # Each command is an adpulse subcommand (argparse exits 0 for --help of a known one).
        with pytest.raises(SystemExit) as exited:
            main([*service["command"], "--help"])
        assert exited.value.code == 0


def test_secrets_come_from_the_env_file_and_the_example_names_them(compose):
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{(\w+):\?", text))
    assert required == {"CLICKHOUSE_PASSWORD", "GRAFANA_ADMIN_PASSWORD"}
    example = (REPO / "deploy/.env.example").read_text()
    for name in required:
        assert re.search(rf"^{name}=change-me", example, re.MULTILINE), name
    assert "deploy/.env" in (REPO / ".gitignore").read_text().splitlines()
    # No literal password in the file: every one is interpolated from deploy/.env.
    for service in compose["services"].values():
        for name, value in (service.get("environment") or {}).items():
            if "PASSWORD" in name:
                assert str(value).startswith("${"), name
    url = compose["x-adpulse"]["environment"]["ADPULSE_CLICKHOUSE_URL"]
    assert url.startswith("http://adpulse:${CLICKHOUSE_PASSWORD:?")


def test_grafana_mounts_the_provisioned_dashboards(compose):
    volumes = compose["services"]["grafana"]["volumes"]
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in volumes
    assert compose["services"]["grafana"]["environment"]["GF_PLUGINS_PREINSTALL"] == "grafana-clickhouse-datasource"
