"""The KServe manifests (deploy/kserve/) against the InferenceService CRD's OpenAPI schema,
vendored from KServe's release (tests/vendor/kserve/), offline and strictly (an unknown field
is an error, as `kubectl apply --validate=strict` makes it); and the facts that tie them to the
app: roles, protocol, port, probes, settings and image."""

from __future__ import annotations

import copy
import gzip
import hashlib
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from app.config import PROJECT_ROOT, Settings
from app.main import create_app
from tests.conftest import api_routes

KSERVE = PROJECT_ROOT / "deploy" / "kserve"
VENDOR = PROJECT_ROOT / "tests" / "vendor" / "kserve"
CRD = VENDOR / "serving.kserve.io_inferenceservices.yaml.gz"
K8S = PROJECT_ROOT / "deploy" / "k8s"
KSERVE_PORT = 8080  # the port KServe expects a custom container to listen on
SPLIT, SINGLE = "inferenceservice.yaml", "inferenceservice-single.yaml"


def strict(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that lists its properties
    and does not keep unknown fields."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tightened = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        tightened["additionalProperties"] = False
    return tightened


@pytest.fixture(scope="module")
def crd_text() -> bytes:
    return gzip.decompress(CRD.read_bytes())


@pytest.fixture(scope="module")
def validator(crd_text: bytes) -> jsonschema.Draft7Validator:
    crd = yaml.load(crd_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    (served,) = [version for version in crd["spec"]["versions"] if version["name"] == "v1beta1"]
    return jsonschema.Draft7Validator(strict(served["schema"]["openAPIV3Schema"]))


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    found = {path.name: yaml.safe_load(path.read_text()) for path in KSERVE.glob("*.yaml")}
    assert set(found) == {SPLIT, SINGLE}
    return found


def _errors(validator: jsonschema.Draft7Validator, document: dict[str, Any]) -> list[str]:
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(document)]


def _containers(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = service["spec"]
    return {
        part: spec[part]["containers"][0] for part in ("predictor", "explainer") if part in spec
    }


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {entry["name"]: entry["value"] for entry in container["env"]}


def test_the_vendored_crd_is_kserves_release_file_with_its_licence(crd_text):
    stated = re.search(r"`([0-9a-f]{64})`", (VENDOR / "README.md").read_text())
    assert stated and hashlib.sha256(crd_text).hexdigest() == stated.group(1)
    assert "Apache License" in (VENDOR / "LICENSE").read_text()


@pytest.mark.parametrize("name", [SPLIT, SINGLE])
def test_every_inference_service_is_valid_against_kserves_crd(validator, services, name):
    service = services[name]
    assert (service["apiVersion"], service["kind"]) == (
        "serving.kserve.io/v1beta1",
        "InferenceService",
    )
    assert _errors(validator, service) == []


@pytest.mark.parametrize(
    ("path", "broken"),
    [
        (("spec", "predictor", "containers", 0), {"imag": "lantern:0.1.0"}),
        (("spec", "explainer"), {"minReplica": 1}),
        (("spec", "predictor"), {"minReplicas": "one"}),
    ],
    ids=["misspelt-container-field", "misspelt-component-field", "wrong-type"],
)
def test_the_validator_refuses_a_broken_manifest(validator, services, path, broken):
    service = copy.deepcopy(services[SPLIT])
    node = service
    for step in path:
        node = node[step]
    node.update(broken)
    assert _errors(validator, service) != []


def test_the_predictor_speaks_v2_and_predicts_while_the_explainer_only_explains(services):
    containers = _containers(services[SPLIT])
    predictor, explainer = _env(containers["predictor"]), _env(containers["explainer"])
    assert (predictor["PROTOCOL"], predictor["LANTERN_ROLE"]) == ("v2", "predictor")
    assert explainer["LANTERN_ROLE"] == "explainer" and "PROTOCOL" not in explainer


def test_the_single_container_serves_everything_and_shares_jobs_through_redis(services):
    (only,) = _containers(services[SINGLE]).values()
    env = _env(only)
    assert env["PROTOCOL"] == "v2" and env.get("LANTERN_ROLE", "all") == "all"
    redis = yaml.safe_load_all((K8S / "deployment.yaml").read_text())
    (deployment,) = [doc for doc in redis if doc]
    (k8s_container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert env["LANTERN_REDIS_URL"] == _env(k8s_container)["LANTERN_REDIS_URL"]


def _app_paths(role: str, store: Path) -> set[str]:
    app = create_app(Settings(model_store=store, role=role))  # type: ignore[arg-type]
    return {route.path for route in api_routes(app.routes)}


@pytest.mark.parametrize("name", [SPLIT, SINGLE])
def test_every_container_runs_the_app_on_kserves_port_with_a_probe_its_role_serves(
    services, name, tmp_path
):
    for container in _containers(services[name]).values():
        env = _env(container)
        assert container["command"] == ["python", "-m", "app"]  # KServe appends arguments
        assert int(env["LANTERN_PORT"]) == KSERVE_PORT
        assert [port["containerPort"] for port in container["ports"]] == [KSERVE_PORT]
        probe = container["readinessProbe"]["httpGet"]
        assert probe["port"] == KSERVE_PORT
        assert probe["path"] in _app_paths(env.get("LANTERN_ROLE", "all"), tmp_path)


@pytest.mark.parametrize("name", [SPLIT, SINGLE])
def test_every_lantern_variable_is_a_valid_setting(services, name, tmp_path):
    for container in _containers(services[name]).values():
        values = {
            key.removeprefix("LANTERN_").lower(): value
            for key, value in _env(container).items()
            if key.startswith("LANTERN_")
        }
        assert set(values) <= set(Settings.model_fields)
        Settings.model_validate({**values, "model_store": tmp_path})  # refuses bad values


def test_the_image_is_the_one_the_kubernetes_deployment_runs(services):
    (deployment,) = [doc for doc in yaml.safe_load_all((K8S / "deployment.yaml").read_text())]
    (k8s_container,) = deployment["spec"]["template"]["spec"]["containers"]
    for service in services.values():
        for container in _containers(service).values():
            assert container["image"] == k8s_container["image"]
