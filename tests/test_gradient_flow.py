"""The gradient "getting progressively more diluted" (lecture notes), as the History records it.

At initialization, a 10-layer sigmoid network with Glorot weights passes back to its first
layer a gradient at least 100× smaller than its last layer's (each sigmoid multiplies it by
σ'(z) ≤ 1/4; the measured ratio is about 10⁵), while a 10-layer ReLU network with He
weights keeps it within a small factor. The networks and data are those of
docs/examples/gradient_flow.py, and docs/gradient_flow.md quotes what that script prints.
"""

import importlib.util
from pathlib import Path

import pytest

import chainrule as cr

DOCS = Path(__file__).resolve().parent.parent / "docs"
SPEC = importlib.util.spec_from_file_location("gradient_flow_example", DOCS / "examples" / "gradient_flow.py")
example = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(example)


def initial_norms(activation, init: str, seed: int) -> list[float]:
    """‖∂L/∂W‖ of each layer, first to last, on the first batch before any update."""
    history = example.train(activation, init, seed, epochs=1)
    assert list(history.initial_grad_norms) == [str(2 * index) for index in range(example.DEPTH)]  # model order
    return list(history.initial_grad_norms.values())


# Over seeds 0-39, `python docs/examples/gradient_flow.py --seeds 0-39` printed last / first
# from 9.65e+04 to 3.64e+05 for sigmoid and from 0.639 to 3.14 for ReLU + He.
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigmoid_network_dilutes_the_gradient(seed):
    norms = initial_norms(cr.Sigmoid, "glorot_uniform", seed)
    assert norms[0] * 100 <= norms[-1]
    assert all(earlier < later for earlier, later in zip(norms, norms[1:])), "dilution is progressive"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_network_with_he_init_keeps_the_gradient(seed):
    norms = initial_norms(cr.ReLU, "he_normal", seed)
    assert 0.1 < norms[-1] / norms[0] < 10


def unquoted_lines(lines: list[str]) -> list[str]:
    """Those of ``lines`` that docs/gradient_flow.md does not quote (each as a whole line)."""
    page = (DOCS / "gradient_flow.md").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line not in page]


def test_page_quotes_what_the_script_prints_for_seed_0():
    printed = [line for name, (activation, init, _) in example.NETWORKS.items()
               for line in example.describe(name, example.train(activation, init))]
    assert unquoted_lines(printed) == []


def test_page_quotes_the_ratio_range_over_seeds_0_to_39():
    assert unquoted_lines(example.ratio_range(range(40))) == []
