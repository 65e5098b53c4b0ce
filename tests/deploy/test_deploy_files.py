"""deploy/ without a cluster or a registry: the Dockerfile builds from paths that exist and
runs commands the CLI has; the Helm values say what the single-machine dagster.yaml says
(the run queue with its per-job limit, run monitoring, sensors) and point at the code
location workspace.yaml loads; the API manifest shares the run pods' data folder.

With AEGIS_DAGSTER_HELM_CHART set to an unpacked dagster/dagster chart (`helm pull
dagster/dagster --version 1.13.x --untar`), the values merged over the chart's defaults are
also validated against the chart's values.schema.json (docs/deploy.md).
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from aegis_cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
VALUES = ROOT / "deploy" / "helm" / "values.yaml"
API_MANIFEST = ROOT / "deploy" / "kubernetes" / "aegis-api.yaml"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _of(kind: str) -> list[str]:
    return [args for instruction, args in _instructions() if instruction == kind]


def _env() -> dict[str, str]:
    return dict(pair.split("=", 1) for args in _of("ENV") for pair in shlex.split(args))


def _values() -> dict[str, Any]:
    return yaml.safe_load(VALUES.read_text())


def _dagster_yaml() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "dagster.yaml").read_text())


def test_the_dockerfile_copies_paths_that_exist_and_every_package() -> None:
    copied = set()
    for args in _of("COPY"):
        *sources, _dest = shlex.split(args)
        for source in sources:
            assert (ROOT / source).exists(), source
            copied.add(source)
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not copied & ignored
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= copied  # the image holds every package the project installs
    assert {"pyproject.toml", "dagster.yaml", "workspace.yaml"} <= copied


def test_the_dockerfile_installs_extras_that_exist_and_runs_as_a_user() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    (install,) = [a for a in _of("RUN") if "pip install" in a]
    wanted = re.search(r"\.\[([a-z0-9,_-]+)\]", install).group(1).split(",")
    assert set(wanted) <= set(extras) and "k8s" in wanted
    assert any(req.startswith("dagster-k8s") for req in extras["k8s"])
    (apt,) = [a for a in _of("RUN") if "apt-get install" in a]
    assert "--no-install-recommends" in apt and "rm -rf /var/lib/apt/lists" in apt
    (user,) = _of("USER")
    assert not user.startswith(("root", "0"))


def test_the_images_default_command_is_one_the_cli_accepts() -> None:
    (cmd,) = _of("CMD")
    argv = yaml.safe_load(cmd)  # exec form, a JSON array
    assert argv[0] == "aegis"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "serve" and args.host == "0.0.0.0" and args.port == 8000
    exposed = {int(p) for args in _of("EXPOSE") for p in args.split()}
    grpc_port = _values()["dagster-user-deployments"]["deployments"][0]["port"]
    assert {args.port, grpc_port} <= exposed


def test_the_code_location_is_the_one_workspace_yaml_loads() -> None:
    (deployment,) = _values()["dagster-user-deployments"]["deployments"]
    grpc = deployment["dagsterApiGrpcArgs"]
    module = grpc[grpc.index("--module-name") + 1]
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    assert module == workspace["load_from"][0]["python_module"]["module_name"]
    assert importlib.import_module(module).defs.resolve_job_def("refinery") is not None


def test_the_helm_run_queue_and_monitoring_are_dagster_yamls() -> None:
    local, daemon = _dagster_yaml(), _values()["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == local["run_coordinator"]["class"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["maxConcurrentRuns"] == local["run_coordinator"]["config"]["max_concurrent_runs"]
    limits = queued["tagConcurrencyLimits"]
    assert limits == local["run_coordinator"]["config"]["tag_concurrency_limits"]
    assert {
        "key": "aegis/job_id",
        "value": {"applyLimitPerUniqueValue": True},
        "limit": 1,
    } in limits
    monitoring = daemon["runMonitoring"]
    assert monitoring["enabled"] is local["run_monitoring"]["enabled"] is True
    for helm_key, key in [
        ("startTimeoutSeconds", "start_timeout_seconds"),
        ("cancelTimeoutSeconds", "cancel_timeout_seconds"),
    ]:
        assert monitoring[helm_key] == local["run_monitoring"][key]
    assert daemon["sensors"] == {
        "useThreads": local["sensors"]["use_threads"],
        "numWorkers": local["sensors"]["num_workers"],
    }
    assert _values()["telemetry"] == local["telemetry"]


def test_runs_go_to_kubernetes_and_share_the_apis_data_folder() -> None:
    values = _values()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    (mount,) = launcher["volumeMounts"]
    assert mount["mountPath"] == _env()["AEGIS_HOME"]
    (claim,) = [v["persistentVolumeClaim"]["claimName"] for v in launcher["volumes"]]
    api_docs = list(yaml.safe_load_all(API_MANIFEST.read_text()))
    pvc = next(d for d in api_docs if d["kind"] == "PersistentVolumeClaim")
    assert pvc["metadata"]["name"] == claim and "ReadWriteMany" in pvc["spec"]["accessModes"]
    pod = next(d for d in api_docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["volumeMounts"][0]["mountPath"] == mount["mountPath"]
    image = values["dagster-user-deployments"]["deployments"][0]["image"]
    assert container["image"] == f"{image['repository']}:{image['tag']}"
    assert build_parser().parse_args(container["args"][1:]).command == "serve"
    secrets = {s["name"] for s in launcher["envSecrets"]}
    assert {s["secretRef"]["name"] for s in container["envFrom"]} == secrets
    postgres = values["postgresql"]
    assert postgres["enabled"] is False and postgres["postgresqlScheme"].endswith("+psycopg2")


def _merge(base: Any, override: Any) -> Any:
    """Helm's merge of a values file over the chart's defaults (maps deep, lists replaced)."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {k: _merge(base.get(k), v) for k, v in override.items()} | {
            k: v for k, v in base.items() if k not in override
        }
    return override


def test_the_values_validate_against_the_charts_schema() -> None:
    chart = os.environ.get("AEGIS_DAGSTER_HELM_CHART")
    if not chart:
        pytest.skip("AEGIS_DAGSTER_HELM_CHART is not set (an unpacked dagster/dagster chart)")
    import json

    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    chart_dir = Path(chart)
    schema = json.loads((chart_dir / "values.schema.json").read_text())
    defaults = yaml.safe_load((chart_dir / "values.yaml").read_text())
    # Kubernetes object schemas are remote references: accepted as they are, offline.
    registry = Registry(retrieve=lambda _uri: Resource.from_contents({}, DRAFT7))
    validator = jsonschema.Draft7Validator(schema, registry=registry)
    errors = sorted(validator.iter_errors(_merge(defaults, _values())), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
