"""Protocol abuse against a real server: the issue's header attack (250 lines of 1 MiB on 4
connections at once), a huge URL, bytes that are not HTTP, request smuggling shapes, numbers
past Python's 4,300-digit limit everywhere a number is read, too many parts, methods and
codings. Each: the documented status and shape, bounded memory, /predict still answered."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.hostile.clients import body_of, connect, read_answer, status_of
from tests.hostile.conftest import error_code, measured, predict_ok

LINE = b"X-Filler: " + b"a" * (1024 * 1024) + b"\r\n"
HUGE = "9" * 5000


def header_attack(port: int) -> bytes:
    with connect(port, timeout=30) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        try:
            for _ in range(250):
                sock.sendall(LINE)
        except OSError:  # answered and closed long before the 250th line
            pass
        return read_answer(sock)


def test_the_header_attack_gets_431_within_the_memory_limit(hostile, figures, digit):
    with measured(hostile, figures, "4 connections x 250 header lines of 1 MiB") as attack:
        with ThreadPoolExecutor(5) as pool:
            attacks = [pool.submit(header_attack, hostile.port) for _ in range(4)]
            normal = pool.submit(predict_ok, hostile, digit)
            answers = [future.result() for future in attacks]
        attack.extra["normal_predict"] = normal.result()
    assert normal.result() == 200
    for answer in answers:
        assert status_of(answer) == 431
        assert json.loads(body_of(answer))["error"]["code"] == "headers_too_large"


def raw(port: int, data: bytes) -> bytes:
    with connect(port) as sock:
        sock.sendall(data)
        return read_answer(sock)


RAW_ABUSE = {
    "a 1 MiB url": (b"GET /" + b"a" * 2**20 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431),
    "not http": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64), 400),
    "content-length of 5000 digits": (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: " + HUGE.encode() + b"\r\n\r\n",
        400,
    ),
    "content-length and chunked": (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
        400,
    ),
    "two content-lengths": (
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
        400,
    ),
}


@pytest.mark.parametrize("name", sorted(RAW_ABUSE))
def test_abuse_of_the_protocol_gets_a_json_error(hostile, name):
    data, status = RAW_ABUSE[name]
    answer = raw(hostile.port, data)
    assert status_of(answer) == status
    assert isinstance(json.loads(body_of(answer))["error"], dict)


def png_post(base: str, path: str, image: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        base + path, content=image, headers={"content-type": "image/png", **headers}, timeout=30
    )


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        (f"/predict?top_k={HUGE}", 422, "invalid_parameter"),
        (f"/predict?model=mnist_cnn&version={HUGE}", 422, "invalid_parameter"),
        (f"/explain/saliency?model=mnist_cnn&target={HUGE}", 422, "invalid_target"),
        (f"/explain/rise?model=mnist_cnn&samples={HUGE}", 422, "invalid_parameter"),
    ],
    ids=["top_k", "version", "target", "samples"],
)
def test_a_query_number_of_5000_digits_is_a_documented_error(hostile, digit, path, status, code):
    answer = png_post(hostile.base, path, digit)
    assert (answer.status_code, error_code(answer)) == (status, code)


def test_a_json_number_of_5000_digits_is_a_malformed_body(hostile):
    for body in (f'{{"class": {HUGE}}}', f'{{"image": "", "x": {HUGE}}}'):
        for path in ("/models/mnist_cnn/activation_maximisation", "/predict"):
            answer = httpx.post(
                hostile.base + path, content=body, headers={"content-type": "application/json"}
            )
            assert (answer.status_code, error_code(answer)) == (400, "malformed_body")


@pytest.mark.parametrize(
    ("method", "path", "status", "headers"),
    [
        ("GET", f"/v2/models/mnist_cnn/versions/{HUGE}", 400, {}),
        ("GET", f"/v2/models/mnist_cnn/versions/{HUGE}/ready", 400, {}),
        ("POST", f"/v2/models/mnist_cnn/versions/{HUGE}/infer", 400, {}),
        ("GET", f"/v2/models/mnist_cnn/versions/{'9' * 30}", 404, {}),
        ("POST", "/v2/models/mnist_cnn/infer", 400, {"inference-header-content-length": HUGE}),
        ("POST", "/v2/models/mnist_cnn/infer", 415, {"content-encoding": "gzip"}),
    ],
    ids=["metadata", "ready", "infer", "30 digits", "header length", "gzip"],
)
def test_v2_numbers_and_codings_get_the_protocols_errors(hostile, method, path, status, headers):
    answer = httpx.request(method, hostile.base + path, content=b"{}", headers=headers)
    assert answer.status_code == status and isinstance(answer.json()["error"], str)


def test_non_finite_v2_inputs_are_refused_and_every_answer_is_strict_json(hostile):
    data = ["NaN"] + ["0"] * 783
    body = '{"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": '
    for values in (data, ["1e39"] * 784, ["3e38"] * 784):
        answer = httpx.post(
            hostile.base + "/v2/models/mnist_cnn/infer", content=body + f"[{','.join(values)}]}}]}}"
        )
        json.loads(answer.text, parse_constant=lambda name: pytest.fail(name))
        assert answer.status_code in (200, 400)


def test_66_file_parts_are_too_many_images_like_65(hostile, digit):
    for count in (65, 66, 200):
        files = [("file", (f"{i}.png", digit, "image/png")) for i in range(count)]
        answer = httpx.post(hostile.base + "/predict", files=files, timeout=30)
        assert (answer.status_code, error_code(answer)) == (422, "too_many_images")


def test_a_put_to_a_job_says_which_methods_it_takes(hostile):
    answer = httpx.put(hostile.base + "/jobs/x")
    assert (answer.status_code, answer.headers["allow"]) == (405, "DELETE, GET")
    assert error_code(answer) == "method_not_allowed"
