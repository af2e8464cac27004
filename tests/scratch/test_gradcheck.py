"""helpers.scratch.gradcheck: the finite-difference check itself."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.scratch.gradcheck import gradient_check, numerical_gradient


def test_numerical_gradient_known_function_and_no_side_effects():
    x = np.array([1.0, -2.0, 3.0])
    before = x.copy()
    np.testing.assert_allclose(numerical_gradient(lambda v: float((v**2).sum()), x), 2 * x, atol=1e-6)
    np.testing.assert_array_equal(x, before)
    assert gradient_check(lambda v: float((v**3).sum()), x, 3 * x**2) < 1e-8
    assert gradient_check(lambda v: float((v**3).sum()), x, 3 * x**2 + 0.1) > 1e-3  # a wrong gradient is caught
    with pytest.raises(ValueError, match="analytic gradient has shape"):
        gradient_check(lambda v: 0.0, x, np.zeros(2))
