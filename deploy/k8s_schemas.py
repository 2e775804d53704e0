"""Kubernetes JSON schemas for kubeconform, offline: from the schemas the PyPI package
kubernetes-validate ships, rewritten so that they resolve locally.

The shipped files carry ``$id: https://kubernetes.io/api/...`` and refer to ``/api/_definitions.json``
(kubernetes-validate resolves that itself); kubeconform would fetch those URLs and, unable to, skip the
resource as "no schema". The copy drops the ``$id`` and points every reference at the
``_definitions.json`` beside it. Usage: ``python deploy/k8s_schemas.py VERSION OUT_DIR`` (e.g.
``1.33.0``); the files are named as kubeconform's ``{{ .ResourceKind }}{{ .KindSuffix }}.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate


def _local(node: Any) -> Any:
    if isinstance(node, dict):
        node.pop("$id", None)
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("/api/_definitions.json"):
            node["$ref"] = ref.removeprefix("/api/")
        for value in node.values():
            _local(value)
    elif isinstance(node, list):
        for value in node:
            _local(value)
    return node


def write(version: str, out: Path) -> int:
    source = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{version}-local-strict"
    if not source.is_dir():
        raise SystemExit(f"kubernetes-validate has no schemas for {version} (have: {source.parent})")
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in source.glob("*.json"):
        (out / path.name).write_text(json.dumps(_local(json.loads(path.read_text()))))
        count += 1
    return count


if __name__ == "__main__":
    print(write(sys.argv[1], Path(sys.argv[2])))
