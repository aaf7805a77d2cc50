"""The deployment files: Kubernetes manifests against the Kubernetes JSON schema, the Compose
file against the Compose specification's schema (both bundled by their packages, so no
network is needed), and the facts that tie them to the image and to the app's settings."""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from app.config import PROJECT_ROOT, Settings

K8S = PROJECT_ROOT / "deploy" / "k8s"
COMPOSE = PROJECT_ROOT / "docker-compose.yml"
NGINX = PROJECT_ROOT / "deploy" / "nginx.conf"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
# The oldest and the newest Kubernetes releases whose schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.25.0", kubernetes_validate.utils.latest_version())
BUILD_INPUTS = ("pyproject.toml", "app", "app/main.py", "model_store", "static", "templates")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _objects() -> list[dict[str, Any]]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in _documents(path)]


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    """Lantern's objects under deploy/k8s/ (named `lantern`), by kind."""
    objects = [doc for doc in _objects() if doc["metadata"]["name"] == "lantern"]
    by_kind = {doc["kind"]: doc for doc in objects}
    assert len(by_kind) == len(objects), "one object of each kind is expected"
    return by_kind


@pytest.fixture(scope="module")
def redis_objects() -> dict[str, dict[str, Any]]:
    """The job store's objects (deploy/k8s/redis.yaml), by kind."""
    return {doc["kind"]: doc for doc in _documents(K8S / "redis.yaml")}


@pytest.fixture(scope="module")
def pod(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return manifests["Deployment"]["spec"]["template"]


@pytest.fixture(scope="module")
def container(pod: dict[str, Any]) -> dict[str, Any]:
    (only,) = pod["spec"]["containers"]
    return only


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _image_uid() -> int:
    user = re.search(r"^USER\s+(\S+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert user, "the Dockerfile sets no USER"
    return int(user.group(1).split(":")[0])


def _image_healthcheck() -> list[str]:
    """The exec-form command of the Dockerfile's HEALTHCHECK."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found = re.search(r"^HEALTHCHECK\b.*?\bCMD\s+(\[.*\])\s*$", text, re.MULTILINE)
    assert found, "the Dockerfile has no exec-form HEALTHCHECK"
    return json.loads(found.group(1))


def _env(entries: list[dict[str, str]]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in entries}


# ---- Kubernetes ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_manifest_is_valid_against_the_kubernetes_schema(version):
    objects = _objects()
    assert {doc["metadata"]["name"] for doc in objects} == {"lantern", "lantern-redis"}
    for manifest in objects:
        kubernetes_validate.validate(manifest, version, strict=True)


def test_the_validator_refuses_a_misspelt_field(manifests):
    broken = copy.deepcopy(manifests["Deployment"])
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_deployment_has_replicas_and_probes_on_the_health_routes(manifests, container):
    assert manifests["Deployment"]["spec"]["replicas"] >= 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    (port,) = container["ports"]
    assert port["containerPort"] == int(_env(container["env"])["LANTERN_PORT"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in (port["name"], port["containerPort"])


def test_the_deployment_requests_and_limits_cpu_and_memory(container):
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound])


def test_the_pod_runs_as_the_images_non_root_user_on_a_read_only_root(pod, container):
    security = pod["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == _image_uid() != 0
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert "/tmp" in mounts, "a read-only root needs a writable /tmp"


def test_the_service_selects_the_pods_and_targets_their_port(manifests, pod, container):
    service = manifests["Service"]["spec"]
    assert service["selector"].items() <= pod["metadata"]["labels"].items()
    assert service["selector"] == manifests["Deployment"]["spec"]["selector"]["matchLabels"]
    (port,) = service["ports"]
    assert port["targetPort"] in {p["name"] for p in container["ports"]}


def test_the_pods_share_jobs_through_redis_with_no_client_affinity(
    manifests, container, redis_objects
):
    url = _env(container["env"])["LANTERN_REDIS_URL"]
    service = redis_objects["Service"]
    (port,) = service["spec"]["ports"]
    assert url == f"redis://{service['metadata']['name']}:{port['port']}/0"
    redis_pod = redis_objects["Deployment"]["spec"]["template"]
    assert service["spec"]["selector"].items() <= redis_pod["metadata"]["labels"].items()
    assert "sessionAffinity" not in manifests["Service"]["spec"]


def test_the_job_store_keeps_nothing_on_disk_and_runs_unprivileged(redis_objects):
    pod = redis_objects["Deployment"]["spec"]["template"]["spec"]
    (redis,) = pod["containers"]
    assert redis["args"][:4] == ["--save", "", "--appendonly", "no"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert redis["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_autoscaler_scales_the_deployment_on_cpu(manifests):
    hpa = manifests["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (
        "Deployment",
        manifests["Deployment"]["metadata"]["name"],
    )
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["type"] == "Utilization"
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


# ---- Compose ---------------------------------------------------------------------------------


def test_the_compose_file_is_valid_against_the_compose_specification(compose):
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendored / "compose-spec.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{list(error.path)}: {error.message}" for error in validator.iter_errors(compose)]
    assert errors == []


def test_the_compose_validator_refuses_a_misspelt_key(compose):
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor")
    schema = json.loads((vendored / "compose-spec.json").read_text())
    broken = copy.deepcopy(compose)
    broken["services"]["lantern"]["helthcheck"] = broken["services"]["lantern"].pop("healthcheck")
    assert not jsonschema.Draft202012Validator(schema).is_valid(broken)


def test_compose_runs_replicas_with_the_images_healthcheck_and_a_store_volume(compose):
    lantern = compose["services"]["lantern"]
    assert lantern["build"] == "."
    assert lantern["deploy"]["replicas"] >= 2
    assert "ports" not in lantern, "replicas cannot share a host port: the balancer publishes"
    assert lantern["healthcheck"]["test"] == ["CMD", *_image_healthcheck()]
    (store,) = lantern["volumes"]
    assert store["target"] == lantern["environment"]["LANTERN_MODEL_STORE"]
    assert store["read_only"] is True


def test_compose_shares_jobs_through_its_redis_service_and_the_balancer_pins_no_client(compose):
    lantern, redis = compose["services"]["lantern"], compose["services"]["redis"]
    assert lantern["environment"]["LANTERN_REDIS_URL"] == "redis://redis:6379/0"
    assert lantern["depends_on"]["redis"]["condition"] == "service_healthy"
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    nginx = NGINX.read_text()
    assert "hash $remote_addr" not in nginx and nginx.count("proxy_pass") == 1


def test_the_balancer_round_robins_to_the_lantern_service_once_it_is_healthy(compose):
    balancer = compose["services"]["balancer"]
    assert balancer["depends_on"]["lantern"]["condition"] == "service_healthy"
    (config,) = balancer["volumes"]
    assert (PROJECT_ROOT / config["source"]).resolve() == NGINX
    nginx = NGINX.read_text()
    assert re.search(r"^\s*upstream lantern \{[^}]*server lantern:8000 resolve;", nginx, re.M)
    assert "resolver 127.0.0.11" in nginx  # Docker's DNS: one address per replica
    published = balancer["ports"][0].split(":")[-1]
    assert re.search(rf"^\s*listen {published};", nginx, re.MULTILINE)


# ---- facts shared by all of them -------------------------------------------------------------


def test_every_lantern_variable_in_the_deploy_files_is_a_real_setting(compose, container):
    names = {*compose["services"]["lantern"]["environment"], *_env(container["env"])}
    names |= set(re.findall(r"\bLANTERN_[A-Z_]+", DOCKERFILE.read_text()))
    fields = {f"LANTERN_{name.upper()}" for name in Settings.model_fields}
    assert names - fields == set()


@pytest.mark.parametrize("path", BUILD_INPUTS)
def test_the_dockerignore_keeps_what_the_build_copies(path):
    patterns = [
        line.strip()
        for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    excluded = [p for p in patterns if not p.startswith("!") and fnmatch.fnmatch(path, p)]
    assert excluded == []
