"""Over-budget parameters against a real server: each is refused before any work with 422
`over_budget` (or `invalid_parameter` past a bound), and what is admitted costs what its
budget says: RISE on a fine grid takes about what it takes on a coarse one, measured side by
side, while /predict keeps answering."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.hostile.conftest import error_code, measured, predict_ok

TARGETS = "&".join(f"target={i % 10}" for i in range(16))  # 16, the most a request names
REFUSED = [
    ("/explain/rise?samples=16384", "over_budget"),
    (f"/explain/integrated_gradients?steps=512&{TARGETS}", "over_budget"),
    (
        f"/explain/smoothgrad?samples=200&{TARGETS}&faithfulness=true&faithfulness_steps=100",
        "over_budget",
    ),
    ("/explain/rise?grid=65", "invalid_parameter"),
    ("/explain/occlusion?stride=0", "invalid_parameter"),
    ("/explain/score_cam?faithfulness_steps=101&faithfulness=true", "invalid_parameter"),
]


def explain(base: str, path: str, image: bytes) -> httpx.Response:
    return httpx.post(
        f"{base}{path}&model=mnist_cnn",
        content=image,
        headers={"content-type": "image/png"},
        timeout=120,
    )


@pytest.mark.parametrize(("path", "code"), REFUSED, ids=[p.split("?")[0] for p, _ in REFUSED])
def test_over_budget_explanations_are_refused_before_any_work(hostile, digit, path, code):
    started = time.monotonic()
    answer = explain(hostile.base, path, digit)
    assert (answer.status_code, error_code(answer)) == (422, code)
    assert time.monotonic() - started < 5  # refused up front, not after the work


def test_activation_maximisation_past_its_steps_is_refused(hostile):
    answer = httpx.post(
        hostile.base + "/models/mnist_cnn/activation_maximisation",
        json={"class": 3, "steps": 100_000},
    )
    assert (answer.status_code, error_code(answer)) == (422, "invalid_parameter")


def test_rise_on_the_finest_grid_costs_about_what_the_coarsest_costs(hostile, figures, digit):
    def seconds(grid: int) -> float:
        started = time.monotonic()
        answer = explain(hostile.base, f"/explain/rise?samples=4096&grid={grid}", digit)
        assert answer.status_code == 200
        return time.monotonic() - started

    seconds(2)  # warm
    with measured(hostile, figures, "RISE, 4096 samples on a 64-cell grid") as attack:
        with ThreadPoolExecutor(1) as pool:
            fine = pool.submit(seconds, 64)
            attack.extra["normal_predict"] = predict_ok(hostile, digit)
        coarse = seconds(2)
        attack.extra["seconds"] = {"grid 64": round(fine.result(), 2), "grid 2": round(coarse, 2)}
    assert attack.extra["normal_predict"] == 200
    assert fine.result() < 4 * coarse
