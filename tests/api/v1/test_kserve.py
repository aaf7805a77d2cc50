"""Lantern's /v1 against KServe itself: KServe's own REST client (`kserve.InferenceRESTClient`,
protocol v1) reads readiness, predictions and explanations from a real Lantern server, and every
error answer has the status and shape of KServe's own model server (started from the `kserve`
package with stand-in models) for the same request."""

from __future__ import annotations

import asyncio
import base64
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kserve import InferenceRESTClient, RESTConfig

from bench.server import free_port, running_server
from tests.api.v1.test_router import image

READY_SECONDS = 90.0


@pytest.fixture(scope="module")
def lantern(tiny_store) -> Iterator[str]:
    env = {"LANTERN_MODEL_STORE": str(tiny_store), "LANTERN_DEFAULT_MODEL": "tiny_digits"}
    with running_server(env) as base:
        yield base


@pytest.fixture(scope="module")
def kserve_server() -> Iterator[str]:
    """KServe's model server with `reference` (ready) and `loading` (never ready)."""
    port = free_port()
    command = [sys.executable, "-m", "tests.api.v1.kserve_reference", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/v1/models/reference", process)
        yield base
    finally:
        process.terminate()
        process.wait(30)


def _wait_for(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "KServe's model server exited"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("KServe's model server did not start")


def kserve(call: str, base: str, *args: Any) -> Any:
    """Run one call of KServe's async REST client (protocol v1) to completion."""

    async def run() -> Any:
        async with InferenceRESTClient(RESTConfig(protocol="v1", retries=0, timeout=30)) as client:
            return await getattr(client, call)(base, *args)

    return asyncio.run(run())


def b64(png: bytes) -> dict[str, str]:
    return {"b64": base64.b64encode(png).decode()}


def test_kserves_client_sees_the_model_ready(lantern):
    assert kserve("is_model_ready", lantern, "tiny_digits") is True


def test_kserves_client_reads_predictions_of_images(lantern, digit_png):
    answer = kserve("infer", lantern, {"instances": [b64(digit_png), b64(image(3))]}, "tiny_digits")
    (first, second) = answer["predictions"]
    assert first["label"] == first["top_k"][0]["label"] and len(first["top_k"]) == 5
    assert 0 < second["probability"] <= 1


def test_kserves_client_reads_an_explanation_with_png_heatmaps(lantern, digit_png):
    body = {"instances": [b64(digit_png)], "parameters": {"method": "grad_cam", "target": 3}}
    answer = kserve("explain", lantern, "tiny_digits", body)
    (explanation,) = answer["explanations"]
    (heatmap,) = explanation["maps"]
    assert heatmap["target"]["index"] == 3
    assert base64.b64decode(heatmap["heatmap_png"]).startswith(b"\x89PNG")
    assert answer["predictions"][0]["index"] == explanation["predictions"][0]["index"]


def test_kserves_client_reports_a_refusal_with_lantern_s_message(lantern):
    with pytest.raises(httpx.HTTPStatusError, match="neither an image") as refused:
        kserve("infer", lantern, {"instances": [{"text": "hello"}]}, "tiny_digits")
    assert refused.value.response.status_code == 400


# (method, path, body): `{model}` is the ready model of each server, `missing` a model neither has.
ERROR_CASES = [
    ("GET", "/v1/models/missing", None),
    ("POST", "/v1/models/missing:predict", b'{"instances": [{"b64": "AA=="}]}'),
    ("POST", "/v1/models/missing:explain", b'{"instances": [{"b64": "AA=="}]}'),
    ("POST", "/v1/models/{model}:predict", b"{not json"),
    ("POST", "/v1/models/{model}:predict", b'{"instances": [{"text": "hello"}]}'),
    ("POST", "/v1/models/{model}:explain", b'{"instances": [{"text": "hello"}]}'),
]


def _answer(base: str, model: str, method: str, path: str, body: bytes | None) -> tuple:
    response = httpx.request(
        method,
        base + path.format(model=model),
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    document = response.json()
    return response.status_code, sorted(document), type(document.get("error")).__name__


@pytest.mark.parametrize(("method", "path", "body"), ERROR_CASES)
def test_an_error_has_the_status_and_shape_kserves_own_server_gives(
    lantern, kserve_server, method, path, body
):
    expected = _answer(kserve_server, "reference", method, path, body)
    assert expected[0] in (400, 404) and expected[1:] == (["error"], "str")
    assert _answer(lantern, "tiny_digits", method, path, body) == expected


def test_readiness_of_a_ready_model_has_kserves_shape(lantern, kserve_server):
    reference = httpx.get(kserve_server + "/v1/models/reference").json()
    ours = httpx.get(lantern + "/v1/models/tiny_digits").json()
    assert sorted(ours) == sorted(reference) == ["name", "ready"]
    assert (ours["ready"], reference["ready"]) == (True, True)
