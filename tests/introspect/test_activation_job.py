"""Activation maximisation as a job kind: `plan` checks the objective and draws the seed, the
spec survives JSON, and `run` from that data gives the same result twice."""

from __future__ import annotations

import pytest

from app.errors import InvalidParameterError, InvalidTargetError
from app.introspect.activation_job import ActivationMaximisationJob, ActivationMaximisationParams
from app.job_kinds import JOB_KINDS
from app.runtime.jobs import JobProgress, JobSpec
from app.runtime.loader import load_store


@pytest.fixture(scope="module")
def digits(tiny_store):
    return load_store(tiny_store).get("tiny_digits")


def params(**body) -> ActivationMaximisationParams:
    return ActivationMaximisationParams.model_validate(body)


def recorder() -> tuple[JobProgress, list[tuple[int, float]]]:
    steps: list[tuple[int, float]] = []
    return JobProgress(lambda step, value: steps.append((step, value)) or "running"), steps


def test_the_kind_is_registered_under_its_key():
    assert isinstance(JOB_KINDS["activation_maximisation"], ActivationMaximisationJob)


def test_plan_draws_a_seed_and_describes_the_objective(digits):
    spec = ActivationMaximisationJob().plan(digits, params(**{"class": "class_3", "steps": 4}))
    assert (spec.kind, spec.model, spec.version, spec.steps) == (
        "activation_maximisation",
        "tiny_digits",
        2,
        4,
    )
    assert isinstance(spec.parameters["seed"], int) and spec.parameters["class"] == "class_3"
    assert (
        spec.objective["class"] == 3
        and spec.objective["parameters"]["seed"] == spec.parameters["seed"]
    )


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"class": 99}, InvalidTargetError),
        ({"channel": 999, "layer": "conv"}, InvalidParameterError),
    ],
)
def test_plan_refuses_an_objective_the_model_lacks(digits, body, error):
    with pytest.raises(error):
        ActivationMaximisationJob().plan(digits, params(**body))


def test_a_run_from_the_planned_data_is_reproducible(digits):
    kind = ActivationMaximisationJob()
    spec = kind.plan(digits, params(channel=1, layer="conv", steps=3, jitter=1))
    rebuilt = JobSpec.model_validate_json(spec.model_dump_json())  # as another replica reads it
    results = []
    for _ in range(2):
        progress, steps = recorder()
        given = kind.Params.model_validate(rebuilt.parameters)
        results.append((kind.run(digits, given, progress), steps))
    (first, first_steps), (second, second_steps) = results
    assert first == second and first_steps == second_steps
    assert [step for step, _ in first_steps] == [1, 2, 3] and first["png"]
