"""The job kinds, by the key that `JobSpec.kind` and `JobSnapshot.kind` carry: what a replica
looks a queued job's kind up in to rebuild and run its work (`app.runtime.jobs.JobRunner`).
A kind that is missing here fails its jobs with "This server has no job kind ..."."""

from __future__ import annotations

from app.evaluate.job import KEY as EVALUATION
from app.evaluate.job import EvaluationJob
from app.introspect.activation_job import KEY as ACTIVATION_MAXIMISATION
from app.introspect.activation_job import ActivationMaximisationJob
from app.runtime.jobs import JobKind

JOB_KINDS: dict[str, JobKind] = {
    ACTIVATION_MAXIMISATION: ActivationMaximisationJob(),
    EVALUATION: EvaluationJob(),
}
