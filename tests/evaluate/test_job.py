"""The evaluation job kind: planning resolves the methods from the registry, checks the images,
draws the seed and states the estimate; the spec alone rebuilds the run on any replica."""

from __future__ import annotations

import pytest

from app.errors import InvalidParameterError, InvalidTargetError, UnsupportedImageError
from app.evaluate.job import KEY, EvaluationJob, plan, resolve_methods
from app.evaluate.params import EncodedImage, EvaluationParams
from app.explain.registry import METHODS
from app.imaging.decode import ImageLimits
from app.job_kinds import JOB_KINDS
from tests.evaluate.conftest import Recorder, noise_images, quick, tiny_rgb


def test_the_kind_is_registered_under_its_key():
    assert isinstance(JOB_KINDS[KEY], EvaluationJob) and KEY == "evaluation"


def test_no_methods_named_means_every_method_of_the_registry_that_works_on_the_model():
    assert resolve_methods(tiny_rgb(), []) == [
        k for k, m in METHODS.items() if m.supports(tiny_rgb())
    ]
    assert resolve_methods(tiny_rgb(), ["rise", "saliency", "rise"]) == ["rise", "saliency"]
    with pytest.raises(InvalidParameterError, match="No method nothing"):
        resolve_methods(tiny_rgb(), ["nothing"])


def test_planning_draws_the_seed_and_states_the_steps_and_estimate():
    params = quick(noise_images(2), methods=["saliency"], seed=None)
    planned = plan(tiny_rgb(), params, ImageLimits())
    spec = planned.spec
    assert spec.kind == KEY and spec.model == "tiny_rgb"
    assert (
        isinstance(spec.parameters["seed"], int)
        and spec.objective["seed"] == spec.parameters["seed"]
    )
    assert spec.steps == 2 * (1 + 1) + 2 * 2
    assert spec.objective["estimate"]["passes"] == planned.estimate.passes
    assert len(spec.parameters["images"]) == 2  # the job carries its images


def test_an_image_that_is_not_one_is_refused_by_name_when_planned():
    images = [*noise_images(1), EncodedImage.of("notes.png", None, b"not a picture at all")]
    with pytest.raises(UnsupportedImageError, match="notes.png"):
        plan(tiny_rgb(), quick(images), ImageLimits())


def test_labels_must_be_classes_when_the_maps_explain_the_labels():
    images = [EncodedImage.of("a.png", "class_2", noise_images(1)[0].decoded())]
    spec = plan(tiny_rgb(), quick(images, target="label", methods=["saliency"]), ImageLimits()).spec
    result = JOB_KINDS[KEY].run(
        tiny_rgb(), EvaluationParams.model_validate(spec.parameters), Recorder().progress()
    )
    assert result["images"][0]["target"] == 2
    with pytest.raises(InvalidTargetError, match="no label"):
        plan(tiny_rgb(), quick(noise_images(1), target="label"), ImageLimits())
    with pytest.raises(InvalidTargetError):
        plan(
            tiny_rgb(),
            quick([images[0].model_copy(update={"label": "dog"})], target="label"),
            ImageLimits(),
        )


def test_the_result_is_json_and_a_replica_runs_it_from_the_spec_alone():
    spec = plan(tiny_rgb(), quick(noise_images(1), methods=["grad_cam"]), ImageLimits()).spec
    kind = JOB_KINDS[spec.kind]
    first = kind.run(tiny_rgb(), kind.Params.model_validate(spec.parameters), Recorder().progress())
    again = kind.run(tiny_rgb(), kind.Params.model_validate(spec.parameters), Recorder().progress())
    first.pop("timing"), again.pop("timing")
    for row in (*first["methods"], *again["methods"]):
        row.pop("seconds")
    assert first == again
