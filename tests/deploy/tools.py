"""The deployment validators, installed by deploy/tools.sh (helm, kubeconform, offline schemas)."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "deploy/tools.sh"
CHART = REPO / "deploy/helm/adpulse"
KUBE_VERSION = "1.33.0"


@cache
def tool_dir() -> Path:
    """helm and kubeconform (built once from the Go module proxy, then cached: about 0.2 s)."""
    out = subprocess.run([TOOLS, "path"], capture_output=True, text=True, check=True, timeout=1800)
    return Path(out.stdout.strip())


@cache
def schema_dir() -> Path:
    out = subprocess.run([TOOLS, "schemas"], capture_output=True, text=True, check=True, timeout=300)
    return Path(out.stdout.strip())


def run(*args: str | Path, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=check, timeout=300)
