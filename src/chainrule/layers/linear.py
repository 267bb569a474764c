"""Linear neurons: h = b + Σ_i x_i w_i, a whole layer of them at once."""

from __future__ import annotations

import numpy

from ..backend import Array, add_bias, get_array_module, matmul, sum_rows
from ..checks import as_float_dtype, positive_int
from ..errors import ShapeError
from ..initializers import as_generator, get_initializer
from .layer import Layer


class Linear(Layer):
    r"""A layer of ``n_out`` linear neurons over ``n_in`` inputs.

    Neuron j computes, as in the notes, :math:`z_j = b_j + \sum_i x_i w_{ji}`. For a batch
    X of shape (n_samples, n_in), with ``W[i, j]`` = :math:`w_{ji}` of shape (n_in, n_out)
    and ``b`` of shape (n_out,)::

        Z = X W + b                                   (n_samples, n_out)

    Backward, given dY = ∂L/∂z of shape (n_samples, n_out), the chain rule with
    ∂z_j/∂w_ji = x_i, ∂z_j/∂b_j = 1 and ∂z_j/∂x_i = w_ji, summed over the samples of the
    batch (the loss already carries the 1/N of its mean)::

        ∂L/∂w_ji = Σ_n x_i ∂L/∂z_j     dW = Xᵀ dY     (n_in, n_out)
        ∂L/∂b_j  = Σ_n ∂L/∂z_j         db = Σ_n dY    (n_out,)
        ∂L/∂x_i  = Σ_j w_ji ∂L/∂z_j    dX = dY Wᵀ     (n_samples, n_in)

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    init : str
        Weight initializer (see chainrule.initializers). "auto" (default) takes He for a
        layer followed by the ReLU family and Glorot otherwise, once it sits in a Sequential.
    seed : None, int or numpy.random.Generator
        Source of the initial weights; ``Sequential(..., seed=...)`` overrides it.
    dtype : "float32" (default) or "float64"

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> layer = cr.Linear(3, 2, seed=0)
    >>> layer(np.ones((4, 3))).shape
    (4, 2)
    """

    def __init__(self, n_in: int, n_out: int, *, init: str = "auto", seed=None, dtype="float32") -> None:
        super().__init__()
        self.n_in = positive_int(n_in, "n_in")
        self.n_out = positive_int(n_out, "n_out")
        self.init = init
        if init != "auto":
            get_initializer(init)  # reject an unknown name now, not at the first draw
        self.auto_init = "glorot_uniform"  # what "auto" means here; a Sequential may change it
        dtype = as_float_dtype(dtype)
        self.own_params = {"W": numpy.zeros((self.n_in, self.n_out), dtype=dtype),
                           "b": numpy.zeros(self.n_out, dtype=dtype)}
        self.own_grads = {name: array.copy() for name, array in self.own_params.items()}
        self.decayed = frozenset({"W"})
        self._rng = as_generator(seed)
        self.reset_parameters(self._rng)
        self._X = None

    @property
    def resolved_init(self) -> str:
        """The initializer this layer draws its weights with."""
        return self.auto_init if self.init == "auto" else self.init

    def reset_parameters(self, rng) -> None:
        """W from the initializer, b = 0, written in place (views stay valid)."""
        W = self.own_params["W"]
        W[...] = get_array_module(W).asarray(get_initializer(self.resolved_init)(W.shape, rng), dtype=W.dtype)
        self.own_params["b"][...] = 0

    def forward(self, X: Array) -> Array:
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ShapeError(
                f"{self.describe()}: expected input of shape (n_samples, {self.n_in}), got {tuple(X.shape)}"
            )
        self._X = X
        Z = matmul(X, self.own_params["W"], out=self.buffer("Z", (X.shape[0], self.n_out), X))
        add_bias(Z, self.own_params["b"])  # Z = X W + b
        return Z

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        matmul(self._X.T, dY, out=self.own_grads["W"])  # dW = Xᵀ dY
        sum_rows(dY, out=self.own_grads["b"])  # db = Σ_n dY
        if not input_grad:
            return None
        return matmul(dY, self.own_params["W"].T, out=self.buffer("dX", (dY.shape[0], self.n_in), dY))  # dX = dY Wᵀ

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, init={self.init!r})"
