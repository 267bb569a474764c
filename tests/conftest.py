"""Hypothesis profiles for the whole suite, and the fixture that runs a test on both CPU paths.

"chainrule" (the default): 20 small examples per property, no deadline, and derandomized, so
CI runs the same examples every time and a failure is reproducible, never flaky.

HYPOTHESIS_PROFILE=explore searches 300 fresh random examples per property. Expect a rare
failure of a gradient check there that is not a backprop bug: when every gradient of an array
is ~1e-6 of the loss (a saturated, confidently right network), central differences in float64
cannot resolve it to 1e-6 relative. Such a failure's error changes with gradcheck's ``eps``
(a wrong backward's error does not).
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("chainrule", max_examples=20, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=300, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))


@pytest.fixture(params=["blas", "ufuncs"])
def blas_or_not(request, monkeypatch):
    """Run a test once through NumPy's BLAS (where reachable) and once through the ufunc fallback."""
    from chainrule import cpu_blas

    if request.param == "ufuncs":
        monkeypatch.setattr(cpu_blas, "_routines", lambda: None)
    elif not cpu_blas.available():
        pytest.skip("NumPy's BLAS is not reachable here")
    return request.param
