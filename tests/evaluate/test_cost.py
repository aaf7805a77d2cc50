"""The cost estimate: each method's passes from its cost hook, the sum worked out by hand,
the rows a run really sends through the network, and the refusal."""

from __future__ import annotations

import pytest

from app.errors import OverBudgetError
from app.evaluate.cases import image_cases
from app.evaluate.cost import estimate, map_passes, require_within
from app.evaluate.evaluation import run_evaluation
from app.evaluate.job import plan
from app.evaluate.params import EvaluationParams
from app.explain.registry import METHODS
from app.imaging.decode import ImageLimits
from tests.evaluate.conftest import Recorder, counting, noise_images, quick, tiny_rgb


@pytest.mark.parametrize(
    ("key", "passes"),
    [
        ("saliency", 1),
        ("grad_cam", 1),
        ("guided_grad_cam", 2),
        ("integrated_gradients", 32),
        ("smoothgrad", 25),
        ("rise", 1000),
        ("occlusion", 15 * 15 + 1),
    ],
)
def test_a_methods_passes_are_what_its_cost_hook_states(key, passes):
    (case,) = image_cases(tiny_rgb(), noise_images(1), "predicted")
    assert map_passes(METHODS[key], case.for_method(METHODS[key])) == passes


def test_the_estimate_adds_up_as_worked_out_by_hand():
    params = quick(noise_images(3), methods=["saliency", "rise"])
    cases = image_cases(tiny_rgb(), params.images, "predicted")
    found = estimate(tiny_rgb(), params, cases[0])
    curves = 2 * (4 + 1) + 18  # deletion and insertion at 4 steps, ROAD
    # 3 images x (map x (1 + 1 noisy copy) + curves) + 2 cascade steps x 3 images x map
    assert found.per_method == {
        "saliency": 3 * (1 * 2 + curves) + 2 * 3 * 1,
        "rise": 3 * (1000 * 2 + curves) + 2 * 3 * 1000,
    }
    # per image: its prediction, 8 subsets, a random map at 16x16 and at 7x7, the centre
    assert found.baselines == 3 * (1 + 8 + (2 * 1 + 1) * curves)
    assert found.passes == sum(found.per_method.values()) + found.baselines
    assert found.randomised_models == 2 and found.seconds > 0


@pytest.mark.parametrize(
    ("methods", "maps"), [(["rise"], 1000), (["saliency", "guided_grad_cam"], 1 + 2)]
)
def test_the_estimate_is_the_rows_a_run_sends_through_the_network(methods, maps):
    params = quick(noise_images(3), methods=methods, metrics=["deletion_insertion"])
    spec = plan(tiny_rgb(), params, ImageLimits()).spec
    rows: list[int] = []
    planned = EvaluationParams.model_validate(spec.parameters)
    run_evaluation(counting(tiny_rgb(), rows), planned, Recorder().progress())
    curves = 2 * (4 + 1)
    # per image: its prediction, one random map (one grid) and the centre, the maps, their curves
    expected = 3 * (1 + 2 * curves + maps + len(methods) * curves)
    assert sum(rows) == spec.objective["estimate"]["passes"] == expected


def test_an_evaluation_over_the_limit_is_refused_with_its_estimate():
    params = quick(noise_images(3), methods=["saliency", "rise"])
    found = estimate(tiny_rgb(), params, image_cases(tiny_rgb(), params.images, "predicted")[0])
    require_within(found, found.passes)
    with pytest.raises(OverBudgetError) as refused:
        require_within(found, found.passes - 1)
    assert f"about {found.passes:,} forward passes" in refused.value.message
    assert (
        "rise 12,084" in refused.value.message
        and "LANTERN_MAX_EVALUATION_PASSES" in refused.value.message
    )
