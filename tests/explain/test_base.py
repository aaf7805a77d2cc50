"""ExplainInput: targets resolved to the top class, by the explanation's own run where it can."""

import copy
import dataclasses

import numpy as np
import pytest

from app.explain.base import Budget, ExplainInput
from app.explain.registry import METHODS
from tests.explain.conftest import UNLIMITED, Case


def _counting(case: Case, requested: list[int] | None) -> tuple[ExplainInput, list[int]]:
    """An input of `case` whose model counts its forward runs (rows per run)."""
    runs: list[int] = []
    model = copy.copy(case.model)
    original = case.model.logits

    def logits(batch: np.ndarray) -> np.ndarray:
        runs.append(len(batch))
        return original(batch)

    model.logits = logits  # type: ignore[method-assign]
    given = ExplainInput(model, case.image.copy(), requested, Budget(UNLIMITED), case.layer_tensor)
    return given, runs


@pytest.mark.parametrize("method", ["saliency", "guided_backprop", "grad_cam", "layer_cam"])
def test_a_single_run_method_finds_the_top_class_in_its_own_run(case, method):
    given, runs = _counting(case, None)
    explained = METHODS[method].explain(given, METHODS[method].Params())
    forward = case.model.probabilities(case.image)
    top = int(np.argmax(forward[0]))
    assert runs == [] and given.targets == [top]
    np.testing.assert_allclose(given.probabilities(), forward, rtol=1e-5, atol=1e-7)
    by_hand = ExplainInput(case.model, case.image.copy(), [top], Budget(UNLIMITED))
    by_hand.layer = case.layer_tensor
    expected = METHODS[method].explain(by_hand, METHODS[method].Params())
    np.testing.assert_allclose(explained.heatmaps, expected.heatmaps, rtol=1e-5, atol=1e-7)


def test_requested_targets_take_the_probabilities_from_the_run_too(case):
    given, runs = _counting(case, [2, 0])
    METHODS["saliency"].explain(given, METHODS["saliency"].Params())
    assert runs == [] and given.targets == [2, 0]
    np.testing.assert_allclose(
        given.probabilities(), case.model.probabilities(case.image), rtol=1e-5, atol=1e-7
    )


def test_a_method_without_a_clean_run_resolves_the_top_class_with_one_forward_run(case):
    given, runs = _counting(case, None)
    assert given.target_count == 1 and runs == []  # the budget check runs nothing
    METHODS["occlusion"].require_budget(given, METHODS["occlusion"].Params())
    assert runs == []
    assert given.targets == [int(np.argmax(case.model.probabilities(case.image)[0]))]
    assert runs == [1]
    given.probabilities()
    assert runs == [1]  # kept


def test_a_copy_with_another_image_forgets_the_first_images_answers(case):
    given, runs = _counting(case, None)
    given.probabilities()
    moved = dataclasses.replace(given, image=case.image + 1.0)
    moved.probabilities()
    assert runs == [1, 1]
