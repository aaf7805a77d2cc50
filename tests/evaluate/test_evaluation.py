"""A whole evaluation on the tiny RGB model: every method and metric in the result, the
baselines at each method's grid, progress and cancel, and runs that repeat exactly."""

from __future__ import annotations

import pytest

from app.evaluate import cascade_phase
from app.evaluate.evaluation import progress_steps, run_evaluation
from app.evaluate.job import plan
from app.evaluate.metrics import METRICS
from app.evaluate.params import EvaluationParams
from app.evaluate.randomisation import randomised_model
from app.evaluate.result import EvaluationResult
from app.imaging.decode import ImageLimits
from app.runtime.jobs import JobCancelledError
from tests.evaluate.conftest import Recorder, noise_images, quick, tiny_rgb

METHODS = ["saliency", "grad_cam", "occlusion", "lime"]


def planned(methods: list[str] = METHODS, **options: object) -> EvaluationParams:
    spec = plan(tiny_rgb(), quick(noise_images(3), methods=methods, **options), ImageLimits()).spec
    return EvaluationParams.model_validate(spec.parameters)


def evaluated(recorder: Recorder, methods: list[str] = METHODS, **options) -> EvaluationResult:
    return run_evaluation(tiny_rgb(), planned(methods, **options), recorder.progress())


def test_every_method_has_every_metric_and_a_baseline_at_its_grid(recorder):
    result = evaluated(recorder)
    assert sorted(m.method for m in result.methods) == sorted(METHODS)
    assert [m.key for m in result.metrics] == [m.key for m in METRICS]
    for row in result.methods:
        assert set(row.metrics) == {m.key for m in METRICS}
        assert all(row.metrics[key].n == 3 for key in row.metrics)
        assert set(row.versus_random) == {m.key for m in METRICS if m.baseline}
        assert len(row.curves["deletion"]) == 5 and len(row.curves["road_lerf"]) == 9
        assert len(row.randomisation) == 2  # two cascade steps: the Gemm, then both layers
    randoms = {row.method: row.random for row in result.methods}
    assert randoms == {
        "saliency": "random pixels",
        "grad_cam": "random 8x8",
        "occlusion": "random 15x15",
        "lime": "random superpixels",
    }
    assert [b.name for b in result.baselines] == [
        "random pixels",
        "random 15x15",
        "random 8x8",
        "random superpixels",
        "centre",
    ]
    assert result.randomisation is not None and result.randomisation.layers == [
        ["logits"],  # an unnamed node goes by its output
        ["logits", "conv"],
    ]


def test_methods_are_ranked_by_insertion_minus_deletion(recorder):
    result = evaluated(recorder)
    scores = [row.score for row in result.methods]
    assert scores == sorted(scores, reverse=True)
    first = result.methods[0].metrics
    assert result.methods[0].score == pytest.approx(
        first["insertion_auc"].mean - first["deletion_auc"].mean
    )


def test_the_same_seed_gives_the_same_result_and_methods_do_not_disturb_each_other(recorder):
    alone = evaluated(recorder, ["grad_cam"]).methods[0]
    together = next(m for m in evaluated(Recorder()).methods if m.method == "grad_cam")
    assert alone.metrics == together.metrics  # the draws belong to the images, not the order
    assert alone.versus_random == together.versus_random


def test_progress_counts_every_step_and_a_cancel_stops_the_run():
    params = planned()
    recorder = Recorder()
    run_evaluation(tiny_rgb(), params, recorder.progress())
    assert recorder.steps == list(range(1, progress_steps(params, tiny_rgb()) + 1))
    assert len(recorder.steps) == 3 * (1 + 4) + 2 * 3  # per image: baselines + methods; cascade
    stopping = Recorder(cancel_at=5)
    with pytest.raises(JobCancelledError):
        run_evaluation(tiny_rgb(), params, stopping.progress())
    assert stopping.steps[-1] == 5


def test_only_the_metrics_asked_for_are_run(recorder):
    result = evaluated(recorder, ["saliency"], metrics=["faithfulness_correlation"])
    assert [m.key for m in result.metrics] == ["faithfulness_correlation"]
    assert set(result.methods[0].metrics) == {"faithfulness_correlation"}
    assert result.randomisation is None and result.methods[0].curves == {}
    every = result.metrics[0]
    assert (every.steps, every.substrate, every.seed) == (8, "black", 7)


def test_a_randomised_copy_whose_gradients_are_refused_leaves_their_similarity_undefined(
    recorder, monkeypatch
):
    def refused(model, layers, seed):
        copy = randomised_model(model, layers, seed)
        copy.engine.error = "too flat to check"
        return copy

    monkeypatch.setattr(cascade_phase, "randomised_model", refused)
    result = evaluated(recorder, ["saliency", "occlusion"], metrics=["randomisation"])
    rows = {row.method: row for row in result.methods}
    assert rows["saliency"].metrics["randomisation"].n == 0
    assert rows["occlusion"].metrics["randomisation"].n == 3  # forward only: still measured
    assert [s.metric for s in result.skipped] == ["randomisation", "randomisation"]
    assert "saliency at 1 re-drawn layer(s): too flat to check" in result.skipped[0].reason
