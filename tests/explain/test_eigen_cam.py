"""Eigen-CAM equals pytorch-grad-cam's EigenCAM up to min-max normalisation and the sign of
the principal component (LAPACK's there, the one that grows with the total activation here),
within 1e-4 on every model (measured on efficientnet_lite0's head: 7e-7)."""

from __future__ import annotations

import numpy as np
import pytest

from app.explain.eigen_cam import EigenCAM, first_component
from bench.libraries import pytorch_grad_cam
from tests.explain.cam_reference import assert_equal_up_to_normalisation, reference_map


def _signed_like_ours(projection_of):
    """pytorch-grad-cam's projection, flipped where it falls as the total activation grows."""

    def project(activation_batch: np.ndarray) -> np.ndarray:
        projections = projection_of(activation_batch)
        for row, activations in enumerate(activation_batch):
            positions = activations.reshape(len(activations), -1).T
            totals = (positions - positions.mean(axis=0)).sum(axis=1)  # (h w,)
            if float(projections[row].ravel() @ totals) < 0:
                projections[row] = -projections[row]
        return projections

    return project


def _check(case, monkeypatch):
    library = pytorch_grad_cam()
    module = __import__("pytorch_grad_cam.eigen_cam", fromlist=["get_2d_projection"])
    monkeypatch.setattr(module, "get_2d_projection", _signed_like_ours(module.get_2d_projection))
    ours = EigenCAM().explain(case.given([1, 4]), EigenCAM.Params())
    np.testing.assert_array_equal(ours.heatmaps[0], ours.heatmaps[1])  # class-agnostic
    reference = reference_map(library.EigenCAM, case, 1)
    assert_equal_up_to_normalisation(ours.heatmaps[0], reference, 1e-4)
    assert 0 < ours.extras["explained_variance"] <= 1


def test_eigen_cam_equals_pytorch_grad_cam_on_random_nets(case, monkeypatch):
    _check(case, monkeypatch)


def test_eigen_cam_equals_pytorch_grad_cam_on_the_shipped_models(shipped, monkeypatch):
    _check(shipped, monkeypatch)


def test_eigen_cam_equals_pytorch_grad_cam_on_the_photo_model(photo_case, monkeypatch):
    _check(photo_case, monkeypatch)


def test_the_first_component_of_a_rank_one_layer_is_its_spatial_pattern():
    pattern = np.array([[0.0, 1.0], [2.0, 5.0]])
    activations = np.stack([3.0 * pattern, 1.0 * pattern, 0.5 * pattern])  # (K=3, 2, 2)
    projection, explained = first_component(activations)
    centred = pattern - pattern.mean()
    scale = np.linalg.norm([3.0, 1.0, 0.5])
    np.testing.assert_allclose(projection, scale * centred, atol=1e-12)
    assert explained == pytest.approx(1.0)
    flipped, _ = first_component(-activations)  # the sign follows the total activation
    np.testing.assert_allclose(flipped, -scale * centred, atol=1e-12)


def test_eigen_cam_runs_one_forward_pass_and_no_gradients(case):
    assert not EigenCAM.needs_gradients
    work = case.given([0, 1, 2]).workload()
    assert EigenCAM().cost(EigenCAM.Params(), work).forward == 1
