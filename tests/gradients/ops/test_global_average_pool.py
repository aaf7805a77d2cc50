"""GlobalAveragePool backward against torch autograd."""

from onnx import helper

from tests.gradients.reference import assert_gradient_matches, op_model, random_input


def test_global_average_pool_gradient_matches_torch():
    model = op_model([helper.make_node("GlobalAveragePool", ["x"], ["y"])], ["N", 3, 5, 4])
    reference = lambda x: x.mean(dim=(2, 3), keepdim=True)  # noqa: E731
    assert_gradient_matches(model, reference, random_input((2, 3, 5, 4)))
