"""Linear neurons: h = b + Σ_i x_i w_i, a whole layer of them at once."""

from __future__ import annotations

import numpy

from ..backend import Array, add_bias, affine, get_array_module, matmul, sum_rows
from ..checks import as_float_dtype, positive_int
from ..errors import DTypeError, ShapeError, TooLargeError
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

    A frozen layer (``trainable = False``) skips dW and db (they stay 0) and still returns dX.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths.
    init : str
        Weight initializer (see chainrule.initializers). "auto" (default) takes He for a
        layer followed by the ReLU family and Glorot otherwise, once it sits in a Sequential
        ("followed": the next layer the data passes through, in a nested block or after it).
        The layer first draws Glorot weights; a Sequential that puts it before a ReLU redraws
        them with He from the same seed (or Generator state), so that ``Linear(3, 2, seed=0)``
        before a ReLU holds exactly the weights of ``Linear(3, 2, seed=0, init="he_normal")``.
        Only the first model that takes the layer in decides (and the models that model is
        nested in as a block): a layer already in a model, or that has run forward, is never
        redrawn (see ``Sequential``). Weights changed since their draw (trained, loaded or
        assigned) are never redrawn; weights only converted with ``astype`` are, rounded as
        the first draw was, so that ``Linear(3, 2, seed=0).astype("float64")`` before a ReLU
        holds exactly the weights of ``Linear(3, 2, seed=0, init="he_normal").astype("float64")``.
    seed : None, int or numpy.random.Generator
        Source of the initial weights; ``Sequential(..., seed=...)`` overrides it.
    dtype : "float32" (default) or "float64"

    Raises
    ------
    TooLargeError
        A HyperparameterError and MemoryError, for widths whose W, b and gradients (or W's
        draw, made in float64) NumPy cannot allocate, naming n_in, n_out and the bytes needed.

    Examples
    --------
    >>> import numpy as np, chainrule as cr
    >>> layer = cr.Linear(3, 2, seed=0)
    >>> layer(np.ones((4, 3))).shape
    (4, 2)
    """

    saved_for_backward = ("_X",)  # set to None by release_saved (cr.fit, when it returns)
    # True once a forward's X was released: the layer has run forward (see use_auto_init)
    _ran_forward = False

    def __init__(self, n_in: int, n_out: int, *, init: str = "auto", seed=None, dtype="float32",
                 _draw: bool = True) -> None:
        # _draw=False is private to cr.load, cr.mlp and chainrule.sklearn: W stays zeros, with no draw
        # record (so never redrawn by use_auto_init), because the file's weights, a seeded Sequential's
        # draw, or scikit-learn's initial weights and biases, are written over it at once.
        super().__init__()
        self.n_in = positive_int(n_in, "n_in")
        self.n_out = positive_int(n_out, "n_out")
        if not (isinstance(init, str) and init == "auto"):  # an array compared with "auto" has no one truth value
            get_initializer(init)  # reject an unknown name now, not at the first draw
        self.init = str(init)  # a numpy.str_ as the plain name, as repr and model files show it
        # What "auto" means here: Glorot with nothing after it (a Layer's preferred_init); a Sequential may change it
        self.auto_init = Layer.preferred_init
        dtype = as_float_dtype(dtype)
        try:
            self.own_params = {"W": numpy.zeros((self.n_in, self.n_out), dtype=dtype),
                               "b": numpy.zeros(self.n_out, dtype=dtype)}
            # numpy.zeros leaves the memory untouched until the first backward writes to it.
            self.own_grads = {name: numpy.zeros(array.shape, dtype=array.dtype)
                              for name, array in self.own_params.items()}
        except (MemoryError, ValueError):  # ValueError: NumPy's "array is too big", past any address space
            n_bytes = 2 * (self.n_in + 1) * self.n_out * dtype.itemsize
            raise self._too_large(f"W, b and their gradients in {dtype.name} need", n_bytes) from None
        self.decayed = frozenset({"W"})
        # (initializer name, bit generator class, its state before the draw, W's dtype then)
        # of the last reset_parameters: enough to tell whether W is still that draw (also
        # after astype), and to redraw it with another initializer from the same state.
        self._draw_record = None
        if _draw:
            self.reset_parameters(as_generator(seed))
        self._X = None

    @property
    def resolved_init(self) -> str:
        """The initializer this layer draws its weights with."""
        return self.auto_init if self.init == "auto" else self.init

    def reset_parameters(self, rng) -> None:
        """W from the initializer, b = 0, written in place (views stay valid).

        The state of ``rng`` before the draw and W's dtype are recorded (see :meth:`use_auto_init`).
        """
        self._draw_record = (self.resolved_init, type(rng.bit_generator), rng.bit_generator.state,
                             self.own_params["W"].dtype)
        self._write_draw(rng)

    def use_auto_init(self, name: str, *, redraw: bool = True) -> None:
        """Make "auto" mean the initializer ``name`` (a Sequential calls this with the next layer's choice).

        Weights that are still exactly the layer's last draw are redrawn with ``name`` from
        the Generator state that draw started from, as ``Linear(..., init=name)`` would have
        drawn them; weights changed since (trained, loaded, assigned) are kept. Nothing happens
        for a layer with an explicit init, or one that has run forward (its initializer stays
        the one that drew its weights). A layer converted with ``astype`` after its draw counts
        as still drawn: the redraw is rounded to the dtype of the first draw
        and then converted, as ``Linear(..., init=name).astype(...)`` would hold it.

        ``redraw=False`` only records the choice and leaves the weights alone: for a caller
        that draws every parameter afresh right after (``Sequential(..., seed=...)``), where
        the comparison and the redraw would be wasted.
        """
        if self.init != "auto" or name == self.auto_init or (redraw and (self._X is not None or self._ran_forward)):
            return  # a layer that has run forward keeps its weights, and the initializer that drew them
        self.auto_init = name
        if redraw and self._still_drawn():
            _, bit_generator_class, state, draw_dtype = self._draw_record
            self._draw_record = (name, bit_generator_class, state, draw_dtype)
            self._write_draw(self._replayed_generator())

    def holds_initial_draw(self) -> bool:
        """Whether W and b are still what the layer was made with, not changed since (trained,
        loaded, assigned).

        For a drawn layer: exactly its last draw (compared with a fresh redraw; a layer
        converted with ``astype`` after its draw still holds it). For a layer never drawn
        (``cr.load``'s, or ``cr.mlp``'s, which a seeded Sequential draws): zeros everywhere.
        """
        if self._draw_record is None:
            return not any(bool(array.any()) for array in self.own_params.values())
        return self._still_drawn()

    def _replayed_generator(self) -> numpy.random.Generator:
        """A new Generator in the state the last draw started from (the original one is left alone)."""
        _, bit_generator_class, state, _ = self._draw_record
        bit_generator = bit_generator_class()
        bit_generator.state = state
        return numpy.random.Generator(bit_generator)

    def _still_drawn(self) -> bool:
        """True if W and b are exactly what the last draw wrote (compared with a fresh redraw);
        False for a layer never drawn (made by cr.load)."""
        if self._draw_record is None:
            return False
        W, b = self.own_params["W"], self.own_params["b"]
        drawn = self._drawn_weights(self._draw_record[0], self._replayed_generator())
        return bool(get_array_module(W).array_equal(W, drawn)) and not bool(b.any())

    def _write_draw(self, rng) -> None:
        """W drawn from ``rng`` with the layer's initializer, b = 0, written in place."""
        self.own_params["W"][...] = self._drawn_weights(self.resolved_init, rng)
        self.own_params["b"][...] = 0

    def _drawn_weights(self, name: str, rng) -> Array:
        """W as initializer ``name`` draws it from ``rng``: rounded to the dtype of the recorded
        draw, then converted to W's present dtype and device (the way ``astype`` and ``to``
        converted the weights the draw wrote)."""
        W = self.own_params["W"]
        draw_dtype = self._draw_record[3]
        try:
            rounded = numpy.asarray(get_initializer(name)(W.shape, rng), dtype=draw_dtype)
        except (MemoryError, ValueError):  # the draw is in float64 (chainrule.initializers)
            raise self._too_large(f"drawing W with {name} (in float64) needs", W.size * 8) from None
        return get_array_module(W).asarray(rounded, dtype=W.dtype)

    def _too_large(self, what: str, n_bytes: int) -> TooLargeError:
        """The error for an allocation of ``n_bytes`` that failed (MemoryError), ``what`` saying
        for what ("W, b and their gradients in float32 need"): a layer too wide for the memory,
        named with its widths. Made only once NumPy has refused: a layer that fits pays nothing."""
        return TooLargeError(
            f"{self.describe()}: n_in={self.n_in}, n_out={self.n_out} is too large: {what} "
            f"{n_bytes / 1e6:,.0f} MB, more memory than could be allocated; choose smaller widths")

    def forward(self, X: Array) -> Array:
        """Z = X W + b, (n_samples, n_in) -> (n_samples, n_out); X is kept for backward."""
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ShapeError(
                f"{self.describe()}: expected input of shape (n_samples, {self.n_in}), got {tuple(X.shape)}"
            )
        self._X = X
        params = self.own_params
        W = params["W"]
        # Outside a training loop the buffer is a new array of X's dtype: where W has that dtype,
        # the product makes the same array itself, which spares the buffer's call (0.6 µs at batch 1).
        if not self.reuse_buffers and X.dtype == W.dtype:
            return affine(X, W, params["b"])  # Z = X W + b
        if X.dtype.kind not in "fc":  # past the fast path: an X of W's dtype never pays for the test
            raise self._not_floating(X, W.dtype)
        Z = matmul(X, W, out=self.buffer("Z", (X.shape[0], self.n_out), X))
        add_bias(Z, params["b"])  # Z = X W + b
        return Z

    def _not_floating(self, X: Array, dtype: numpy.dtype) -> DTypeError:
        """The error for an X of integers, booleans or other non-floating values: ``forward`` is the
        unchecked fast path and converts nothing, and Z, made in X's dtype, cannot hold X W + b
        (NumPy's own error, "Cannot cast ufunc 'matmul' output ...", said nothing of the way out)."""
        return DTypeError(f"{self.describe()}: forward takes a floating X (the model's dtype, {dtype}) and converts "
                          f"nothing; got {X.dtype}: call the model, model(X), which converts, or pass "
                          f"X.astype(numpy.{dtype})")

    def backward(self, dY: Array, input_grad: bool = True) -> Array | None:
        """Given dY = ∂L/∂h, put ∂L/∂θ, dW = Xᵀ dY and db = Σ_n dY, into ``grads`` (skipped when frozen)
        and return ∂L/∂x, dX = dY Wᵀ (None without ``input_grad``)."""
        self.check_dY(dY, self._X, width=self.n_out)
        if self.own_trainable:  # a frozen layer's dW and db are not used: they stay 0
            matmul(self._X.T, dY, out=self.own_grads["W"])  # dW = Xᵀ dY
            sum_rows(dY, out=self.own_grads["b"])  # db = Σ_n dY
        if not input_grad:
            return None
        W = self.own_params["W"]
        fresh = not self.reuse_buffers and dY.dtype == W.dtype  # matmul makes dX itself, as Z in forward
        return matmul(dY, W.T, out=None if fresh else self.buffer("dX", (dY.shape[0], self.n_in), dY))  # dX = dY Wᵀ

    def release_own_saved(self) -> None:
        """Let go of X; the layer still counts as having run forward (its initializer is kept)."""
        if self._X is not None:
            self._ran_forward = True
        self._X = None

    def __repr__(self) -> str:
        return f"Linear({self.n_in}, {self.n_out}, init={self.init!r})"
