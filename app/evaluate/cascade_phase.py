"""The randomisation test's phase of a run: for each step of the cascade, the model with its
top layers re-drawn is loaded, every method's map of the first images is made on it and
compared with the trained model's (Spearman's rank correlation of absolute values); then
each image's similarity, averaged over the steps, is the method's `randomisation` value."""

from __future__ import annotations

import time

import numpy as np

from app.evaluate.randomisation import cascade, learnt_layers, randomised_model
from app.evaluate.result import Skipped
from app.evaluate.run import Run, map_of
from app.evaluate.statistics import spearman
from app.runtime.model import RunningModel


def randomisation_phase(run: Run) -> list[list[str]]:
    """Fill the tally's similarities and `randomisation` values; the layers of each step."""
    steps = cascade(learnt_layers(run.model.graph), run.params.randomisation_steps)
    for layers in steps:
        randomised = randomised_model(run.model, layers, run.seed)
        working = usable_methods(run, randomised, len(layers))
        for key in run.methods:
            run.tally.similarity[key].append([])
        for index, case in enumerate(run.cases[: run.params.randomisation_images]):
            started = time.perf_counter()
            for key, method in run.methods.items():
                found = None
                if key in working:
                    changed = map_of(method, case.for_method(method, randomised))
                    found = similarity(run.kept[key][index], changed)
                run.tally.similarity[key][-1].append(found)
            run.report(started)
    for key, per_step in run.tally.similarity.items():
        for values in zip(*per_step, strict=True):
            run.tally.add_value(key, "randomisation", _mean_defined(list(values)))
    return [[layer.name for layer in layers] for layers in steps]


def usable_methods(run: Run, randomised: RunningModel, count: int) -> set[str]:
    """The methods that work on the randomised copy. Its explain graph is checked when it
    loads, as every model's is; a copy whose gradients are refused (a re-drawn network can
    be too flat for the check to resolve) leaves the gradient methods' similarity at that
    step undefined, and `skipped` says why."""
    working = {key for key, method in run.methods.items() if method.supports(randomised)}
    if working != set(run.methods):
        left_out = ", ".join(sorted(set(run.methods) - working))
        reason = f"{left_out} at {count} re-drawn layer(s): {randomised.engine.error}"
        run.skipped.append(Skipped(metric="randomisation", reason=reason))
    return working


def similarity(trained: np.ndarray, changed: np.ndarray) -> float | None:
    """Spearman's rank correlation of the absolute maps; a map that became constant shares
    no ranking with one that is not (0); two constant maps have none (None)."""
    found = spearman(np.abs(trained), np.abs(changed))
    if found is not None:
        return found
    constant = [np.ptp(m) == 0 for m in (trained, changed)]
    return None if all(constant) else 0.0


def _mean_defined(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None
