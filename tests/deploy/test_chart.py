"""deploy/helm/adpulse: helm lint, helm template, kubeconform and kubernetes-validate (strict, offline
schemas), and the rendered manifests' key properties."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests.deploy.tools import CHART, KUBE_VERSION, run, schema_dir, tool_dir

pytestmark = pytest.mark.timeout(1800)  # a fresh machine builds helm once (minutes); cached after

MANAGED = CHART / "values-managed.yaml"


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    return run(tool_dir() / "helm", *args)


def render(*args: str) -> list[dict[str, Any]]:
    out = helm("template", "rel", str(CHART), "--kube-version", KUBE_VERSION, *args)
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def one(docs: list[dict[str, Any]], kind: str, suffix: str = "") -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"].endswith(suffix)]
    return found


def kubeconform(path: Path) -> subprocess.CompletedProcess[str]:
    location = f"{schema_dir()}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"
    return run(tool_dir() / "kubeconform", "-strict", "-summary", "-skip", "ServiceMonitor",
               "-schema-location", location, path)  # fmt: skip


def kubernetes_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return run(Path(__file__).resolve().parents[2] / ".venv/bin/kubernetes-validate", "--strict", "--quiet",
               "-k", KUBE_VERSION, path)  # fmt: skip


MTLS = ["kafka.securityProtocol=SSL", "kafka.caSecret.name=cluster-ca", "kafka.clientCertSecret.name=adpulse-user",
        "api.autoscaling.enabled=false", "serviceMonitor.enabled=true"]  # fmt: skip
VARIANTS = {
    "defaults": [],
    "managed": ["-f", str(MANAGED)],
    "ca-and-client-cert": [arg for value in MTLS for arg in ("--set", value)],
}


def test_helm_lint_is_clean():
    for extra in ([], ["-f", str(MANAGED)]):
        out = helm("lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION, *extra)
        assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_manifests_pass_both_schema_validators(variant, tmp_path):
    out = helm("template", "rel", str(CHART), "--kube-version", KUBE_VERSION, *VARIANTS[variant])
    assert out.returncode == 0, out.stderr
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(out.stdout)
    checked = kubeconform(manifest)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Invalid: 0, Errors: 0" in checked.stdout and "Valid: 0," not in checked.stdout
    validated = kubernetes_validate(manifest)
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_validators_reject_a_broken_manifest(tmp_path):
    """The negative control: the same validators fail on a wrong type and an unknown field."""
    docs = render()
    deployment = one(docs, "Deployment", "-api")
    deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "30"
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    manifest = tmp_path / "broken.yaml"
    manifest.write_text(yaml.safe_dump(deployment))
    assert kubeconform(manifest).returncode != 0
    assert kubernetes_validate(manifest).returncode != 0


def test_api_deployment_has_probes_non_root_read_only_and_env_from_secret():
    docs = render()
    pod = one(docs, "Deployment", "-api")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["api"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # the metrics dir, writable
    refs = {next(iter(ref)): ref[next(iter(ref))]["name"] for ref in container["envFrom"]}
    assert refs == {"configMapRef": "rel-adpulse", "secretRef": "rel-adpulse"}
    secret = one(docs, "Secret", "rel-adpulse")
    assert "ADPULSE_CLICKHOUSE_URL" in secret["stringData"]
    config = one(docs, "ConfigMap", "rel-adpulse")["data"]
    assert "ADPULSE_CLICKHOUSE_URL" not in config and config["ADPULSE_LOG_FORMAT"] == "json"
    # The shutdown fits in the grace period: preStop sleep + ADPULSE_SHUTDOWN_TIMEOUT_S + margin.
    sleep = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    assert sleep + float(config["ADPULSE_SHUTDOWN_TIMEOUT_S"]) + 5 < pod["terminationGracePeriodSeconds"]


def test_hpa_pdb_and_service_target_the_api():
    docs = render()
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "rel-adpulse-api"}
    assert hpa["spec"]["minReplicas"] >= 2
    assert "replicas" not in one(docs, "Deployment", "-api")["spec"]  # the HPA owns the count
    api_labels = one(docs, "Deployment", "-api")["spec"]["template"]["metadata"]["labels"]
    for selector in (one(docs, "PodDisruptionBudget", "-api")["spec"]["selector"]["matchLabels"],
                     one(docs, "Service", "-api")["spec"]["selector"]):  # fmt: skip
        assert selector.items() <= api_labels.items() and selector["app.kubernetes.io/component"] == "api"
    assert "replicas" in one(render("--set", "api.autoscaling.enabled=false"), "Deployment", "-api")["spec"]


def test_migrations_and_topics_run_as_a_pre_install_and_pre_upgrade_hook():
    docs = render("-f", str(MANAGED))
    job = one(docs, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    pod = job["spec"]["template"]["spec"]
    assert [c["args"] for c in pod["initContainers"]] == [["migrate", "--cluster", "default"]]
    assert [c["args"] for c in pod["containers"]] == [["topics"]]
    assert pod["restartPolicy"] == "Never"
    # Its configuration exists before the release's own (hooks run first): hook copies, or existingSecret.
    config_name = pod["containers"][0]["envFrom"][0]["configMapRef"]["name"]
    hook_config = one(docs, "ConfigMap", config_name)
    assert hook_config["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10"
    assert pod["containers"][0]["envFrom"][1]["secretRef"]["name"] == "adpulse-secrets"
    assert [c["args"] for c in one(render(), "Job")["spec"]["template"]["spec"]["initContainers"]] == [["migrate"]]


def test_aggregator_count_is_bounded_by_partitions():
    docs = render("--set", "aggregator.replicas=6", "--set", "kafka.eventsPartitions=6")
    assert one(docs, "Deployment", "-aggregator")["spec"]["replicas"] == 6
    out = helm("template", "rel", str(CHART), "--kube-version", KUBE_VERSION,
               "--set", "aggregator.replicas=7", "--set", "kafka.eventsPartitions=6")  # fmt: skip
    assert out.returncode != 0 and "must not exceed kafka.eventsPartitions" in out.stderr


def test_bad_shutdown_budget_and_sasl_without_mechanism_are_refused():
    for args, message in ((["--set", "config.SHUTDOWN_TIMEOUT_S=28"], "terminationGracePeriodSeconds"),
                          (["--set", "kafka.securityProtocol=SASL_SSL"], "saslMechanism")):  # fmt: skip
        out = helm("template", "rel", str(CHART), "--kube-version", KUBE_VERSION, *args)
        assert out.returncode != 0 and message in out.stderr


def test_managed_values_configure_sasl_ssl_https_and_existing_secret():
    docs = render("-f", str(MANAGED))
    config = one(docs, "ConfigMap", "rel-adpulse")["data"]
    assert config["ADPULSE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["ADPULSE_KAFKA_SASL_MECHANISM"] == "PLAIN"
    assert not [d for d in docs if d["kind"] == "Secret"]  # existingSecret: the chart makes none
    api = one(docs, "Deployment", "-api")["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "adpulse-secrets"}} in api["envFrom"]
    monitors = [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert sorted(m["spec"]["endpoints"][0]["port"] for m in monitors) == ["http", "metrics"]
    assert not [d for d in render() if d["kind"] == "ServiceMonitor"]  # off unless asked for


def test_secret_url_encodes_credentials_and_ca_is_mounted():
    docs = render("--set", "clickhouse.password=p@ss:w/rd", "--set", "clickhouse.scheme=https",
                  "--set", "clickhouse.port=8443", "--set", "kafka.caSecret.name=cluster-ca")  # fmt: skip
    url = urlsplit(one(docs, "Secret", "rel-adpulse")["stringData"]["ADPULSE_CLICKHOUSE_URL"])
    assert (url.scheme, url.port, unquote(url.password or ""), url.path) == ("https", 8443, "p@ss:w/rd", "/adpulse")
    config = one(docs, "ConfigMap", "rel-adpulse")["data"]
    assert config["ADPULSE_KAFKA_CA_FILE"] == "/etc/adpulse/kafka-ca/ca.crt"
    pod = one(docs, "Deployment", "-aggregator")["spec"]["template"]["spec"]
    assert {"name": "kafka-ca", "secret": {"secretName": "cluster-ca"}} in pod["volumes"]
