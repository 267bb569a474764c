"""The optimizer contract: one update of θ from ∂L/∂θ, on the flat parameter buffer.

Stochastic gradient descent and its relatives (lecture notes: "we update the weights of
our NN using stochastic gradient descent"). Every optimizer works on the model's two flat
vectors θ and ∂L/∂θ (chainrule.parameters), so a step costs a few vectorized operations
whatever the number of layers, and never allocates: its work buffers are made once. The
vector updates y ← a x + b y go through chainrule.backend's ``axpy``/``axpby``: one pass of
NumPy's own BLAS on the CPU.

Frozen layers (``trainable = False``) are left alone: a step updates each contiguous run of
trainable parameters in θ (``FlatParameters.trainable_runs``) and neither changes the frozen
parameters nor their state (velocity, m, v), which keeps θ's size so that ``state_dict`` keeps
its layout. Each parameter counts its own steps, as PyTorch's optimizers do: the optimizer's
step count t less the steps it ``missed`` while frozen, which Adam's bias correction reads. With
nothing frozen and no step missed, the step is the same vector operations on the whole of θ.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy

from ..backend import Array, abs_sum, axpy, device_of, get_array_module, module_for, to_device, underflow_allowed
from ..checks import positive
from ..errors import DTypeError, HyperparameterError, ShapeError, quoted
from ..layers.layer import Layer
from .attributes import constructor, unknown_attribute
from .saved_state import checked_saved_state


class Vectors(NamedTuple):
    """What an update rule reads and writes besides θ and ∂L/∂θ, over the same stretch of θ:
    the whole of it (``Optimizer.vectors()``) or a stretch of trainable parameters that took
    the same number of steps (``part``)."""

    state: dict  # name -> state vector: SGD's velocity, Adam's m and v, RMSProp's v
    work: Array  # scratch vector; a computed direction goes here
    work2: Array | None  # second scratch vector (weight decay)
    decay: Array | None  # λ on the weights, 0 on the biases; None on the CPU when λ = 0
    t: int  # the stretch's own step count, this step included (Adam's bias correction)

    def part(self, where: slice, t: int) -> "Vectors":
        """The same vectors over ``where`` only (views: a rule writing them writes the optimizer's),
        for parameters that have taken ``t`` steps."""
        return Vectors({name: array[where] for name, array in self.state.items()}, self.work[where],
                       None if self.work2 is None else self.work2[where],
                       None if self.decay is None else self.decay[where], t)


class Optimizer:
    """Base class: validates the shared hyperparameters and keeps the step counts.

    ``counts_steps`` (a class attribute) is True for an update rule that reads the step count
    (Adam's bias correction): only such a rule is applied stretch by stretch of equal counts
    once a parameter missed steps; SGD and RMSProp keep one call per run of trainable parameters.

    ``t`` counts the steps taken, and ``missed`` the steps each parameter (by path name,
    ``"0.W"``) missed while its layer was frozen, or before the state last started afresh
    (:meth:`reset_state`), for the parameters that missed any: a parameter's own step count is
    t − missed, as PyTorch counts each parameter's steps.
    ``step`` and ``load_state_dict`` keep both; set them through ``load_state_dict``.

    Beyond the model's θ and ∂L/∂θ, an optimizer holds vectors of θ's size and dtype, made
    in the constructor or by ``to`` (a step allocates none):

    - ``state``: what the rule carries from step to step (SGD with momentum: the velocity;
      Adam: m and v; RMSProp: v; plain SGD: nothing);
    - ``_work``: the update's scratch vector (and, where NumPy's BLAS is not reachable and on
      the GPU, the step's a·x for θ ← θ − a·x);
    - ``_work2``: a second scratch vector for g + λθ or λθ, only when ``weight_decay`` > 0;
    - ``_decay``: λ on the weights and 0 on the biases, when ``weight_decay`` > 0, and on the
      GPU whatever λ (zeros when λ = 0: chainrule.cuda.kernels' fused SGD, Adam and RMSProp
      kernels read it at every step); None on the CPU when λ = 0.

    So with λ = 0 an optimizer holds its state plus one vector (Adam: 3 times θ's bytes,
    plain SGD: 1), and with λ > 0 two more.

    Hyperparameters (``lr``, ``weight_decay`` and each subclass's own) may be changed between
    steps, by a callback for instance: a new value is checked as at construction (an invalid
    one raises HyperparameterError naming it and leaves the old value) and takes effect at the
    next step. SGD's momentum cannot be turned on or off that way. On a GPU, the fused steps
    of SGD, Adam, AdamW and RMSProp read η, t, β₁, β₂, ε, ρ, μ, nesterov and λ from the device
    at every step, so a change reaches a step that ``fit`` has captured into a CUDA graph too;
    an optimizer of another class, or a subclass with its own ``rule``, ``update``,
    ``regularized`` or ``vectors``, runs its own code, which ``fit`` never captures.

    Only the attributes an optimizer has can be set once it is made: a hyperparameter under
    another library's name (``learning_rate``, ``beta_1``, ``epsilon``) or misspelt
    (``weight_decy``) would otherwise be a new attribute that no step reads. Such a name raises
    HyperparameterError naming it, the class and the names it takes, with chainrule's name for
    the other library's or the closest one (:mod:`.attributes`). A subclass adds attributes of
    its own in its ``__init__`` (anything set while the outermost ``__init__`` runs, helpers it
    calls included, is taken and may be set again later); names with a leading underscore
    are always taken.

    Parameters
    ----------
    model : Layer
        The model whose ``grads`` (filled by ``backward``) drive the update.
    lr : float
        Learning rate η > 0.
    weight_decay : float
        λ ≥ 0, an L2 penalty (λ/2)‖W‖² on the weights (not the biases): λW is added to ∂L/∂W,
        as PyTorch's ``weight_decay`` adds it (to the biases too, there). scikit-learn's ``alpha``
        is λ times the batch size (it adds (α/2)‖W‖² / n_batch, see chainrule.sklearn), and a
        Keras ``L2(l2)`` kernel regularizer, l2 ‖W‖², is λ = 2 l2. AdamW decays W directly instead.
    schedule : callable, optional
        ``schedule(t)`` multiplies ``lr`` at step t (see chainrule.optimizers.schedules).
    """

    counts_steps = False  # whether rule() reads vectors.t (see the class docstring)

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):  # a subclass's __init__ may add attributes (see __setattr__)
            cls.__init__ = constructor(vars(cls)["__init__"])

    @constructor
    def __init__(self, model: Layer, lr: float, *, weight_decay: float = 0.0,
                 schedule: Callable[[int], float] | None = None) -> None:
        if not isinstance(model, Layer):
            raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
        self.model = model
        self.lr = lr  # checked by the lr setter
        self.schedule = schedule  # checked by __setattr__, as t is
        self.t = 0  # steps taken
        self.missed: dict[str, int] = {}  # parameter name -> steps missed while frozen, when > 0
        self._plan = None  # (flat, runs, frozen names, stretches) of the last step taken stretch by stretch
        flat = model.flat_parameters()
        self._named = (flat.owners(), flat.names)  # the parameters (layer, name) and the names keying missed
        self.state: dict[str, Array] = {}  # per-parameter state, same layout as θ
        self._work = get_array_module(flat.theta).empty_like(flat.theta)
        self._weight_decay = 0.0
        self._work2 = self._decay = None
        self._decay_source = None  # the FlatParameters whose layout _decay was last filled from
        self.weight_decay = weight_decay  # checked by the setter, which makes _work2 and _decay

    def __getstate__(self) -> dict:
        """What a copy or a pickle of the optimizer holds: what a further ``step`` reads to go on
        exactly as this one would (the hyperparameters, the schedule, t, ``missed``, the state
        vectors, the parameter names that ``missed`` is keyed by), less the scratch of the steps.
        ``_work`` and ``_work2`` are written before they are read at every step, and ``_decay``
        and the cached stretches (``_plan``) are derived from λ and the model's layout: kept,
        they were three of Adam's five θ-sized vectors with λ > 0. The parameters that the names
        stand for (``_named``: the layers, copied with the model) are kept, so that ``missed`` follows
        a layer moved in the copy before its first step (:meth:`_follow_renaming`).
        :meth:`__setstate__` makes the work vectors again, empty; the next step refills ``_decay``."""
        return _scratch_left_out(self.__dict__.copy())

    def __setstate__(self, state: dict) -> None:
        """Restore what :meth:`__getstate__` kept, with the work vectors made anew (empty, on the
        state's device); ``_decay`` is made from the model's layout at the next step (:meth:`plan`),
        or at once where it is a vector of zeros (λ = 0 on the GPU). A pickle made before
        ``__getstate__`` existed holds the arrays themselves: their scratch is left out as a new pickle's is."""
        if not isinstance(state["_work"], tuple):  # the old pickle's _work, _work2, _decay and buffers
            _scratch_left_out(state)
            named_flat, names = state["_named"]  # a copy of the buffer then
            state["_named"] = (named_flat.owners(), names)
        size, dtype, device = state["_work"]
        xp = module_for(device)
        state["_work"] = xp.empty(size, dtype=numpy.dtype(dtype))
        state["_work2"] = xp.empty_like(state["_work"]) if state["_work2"] else None
        self.__dict__.update(state)
        if not self._weight_decay:
            self._decay = self._decay_on(device)

    def __setattr__(self, name: str, value) -> None:
        """Set an attribute the optimizer has, a private one, or any while its ``__init__`` runs;
        HyperparameterError for another name (:mod:`.attributes`), and for a step count ``t``
        that is not an integer >= 0 or a ``schedule`` that is neither None nor callable. ``step``
        advances t in ``__dict__`` itself, without this call."""
        if not (name in self.__dict__ or name.startswith("_") or hasattr(type(self), name)
                or self.__dict__.get("_constructing")):
            raise HyperparameterError(unknown_attribute(self, name))
        if name == "t":
            if isinstance(value, bool) or not isinstance(value, (int, numpy.integer)) or value < 0:
                raise HyperparameterError(f"t: expected the number of steps taken, an integer >= 0, "
                                          f"got {quoted(value)}")
            value = int(value)
        if name == "schedule" and value is not None and not callable(value):
            raise HyperparameterError(f"schedule: expected a callable of the step count, got {quoted(value)}")
        object.__setattr__(self, name, value)

    @property
    def lr(self) -> float:
        """The base learning rate η (times the schedule's factor at each step). It may be
        changed between steps (a Keras-style learning-rate callback); a value that is not a
        finite real > 0 raises HyperparameterError naming lr, and leaves it as it was."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = positive(value, "lr")

    @property
    def weight_decay(self) -> float:
        """λ, the L2 penalty on the weights. It may be changed between steps to any finite
        λ ≥ 0, 0 included (the decay vectors are made, rebuilt or freed to match); a value that
        is not, or one past the largest number of the parameters' dtype (which the decay vector
        holds), raises HyperparameterError naming weight_decay, and a model whose layout changed
        since the optimizer was made ShapeError or DTypeError; either leaves λ as it was."""
        return self._weight_decay

    @weight_decay.setter
    def weight_decay(self, value) -> None:
        value = positive(value, "weight_decay", allow_zero=True)
        flat = self.model.flat_parameters()
        self.check_layout(flat)  # the decay vector is built from the model's layout
        largest = float(numpy.finfo(flat.theta.dtype).max)
        if value > largest:  # the decay vector would hold inf, and the first step diverge
            raise HyperparameterError(f"weight_decay: {value:g} is past {flat.theta.dtype.name}'s largest number "
                                      f"{largest:g}, in which the decay vector holds it; expected at most {largest:g}")
        self._weight_decay = value
        self._make_decay(flat)

    @property
    def current_lr(self) -> float:
        """The learning rate of the next step: lr times the schedule's factor at step t.

        The schedule's factor must be a finite number ≥ 0. A factor of 0 is allowed and leaves θ
        where it is for that step (``CosineDecay``'s floor of 0 does this; the optimizer's state
        still takes in the gradient). A NaN, infinite or negative factor (a negative one would
        climb the loss), or one that makes lr × factor overflow, raises HyperparameterError
        naming the schedule, the step t and the value; the GPU training loop reads this
        property too, so the check holds there.
        """
        if self.schedule is None:
            return self.lr
        try:
            factor = self.schedule(self.t)
        except OverflowError:  # a schedule of one's own whose factor grew past float range
            factor = math.inf
        try:
            lr = self.lr * float(factor)
        except OverflowError:  # an int too large for a float (10**400)
            lr = math.inf
        except (TypeError, ValueError):
            lr = math.nan  # not a number at all: reported below
        if not 0.0 <= lr < math.inf:  # also False for NaN
            raise HyperparameterError(
                f"schedule: {quoted(self.schedule)} returned {quoted(factor)} at step t={self.t}; expected a finite "
                f"factor >= 0 (lr × factor = {self.lr} × {quoted(factor)})"
            )
        return lr

    def step(self, *, check_finite: bool = False, flat=None) -> bool:
        """Update θ ← θ − Δθ in place from the gradients of the last ``backward``.

        With ``check_finite``, a step Δθ holding NaN or Inf, or so large that its squares would
        overflow the model's dtype (‖Δθ‖₁ above √ of its largest value: 1.8e19 in float32), is
        not applied and ``step`` returns False, so θ keeps its last finite values: the training
        loop's divergence guard, at the cost of one reduction. Returns True when θ was updated.

        A refused step still counts in t, but the state (SGD's velocity, Adam's m and v,
        RMSProp's v) has taken in the refused gradient, which may be huge or not finite, and
        keeping it as it was would cost a copy at every step: the refused step ends with
        :meth:`reset_state`, so the state starts afresh (zeros, each parameter's own step count
        0) and the optimizer trains on from there, at a lower ``lr`` for instance, after the
        DivergenceError that ``fit`` raises.

        A model whose parameter count or dtype changed since the optimizer was made (e.g. by
        ``model.astype``) raises ShapeError or DTypeError: its state would not fit.

        ``flat``, the model's ``flat_parameters()`` when the caller already holds it (a training
        loop fetches it once an epoch), spares walking the model to check that its buffer is
        current (4–9 µs a step).

        Parameters of frozen layers (``trainable = False``) and their state are left as they
        are, and weight decay does not touch them: each run of trainable parameters is stepped
        by :meth:`rule` (the guard then sums ‖Δθ‖₁ over the runs). A model with nothing
        trainable is stepped too: nothing changes but t, which advances as at every step (a
        schedule counts it). Each frozen parameter's count in ``missed`` goes up by one, so a
        parameter unfrozen later goes on from its own step count t − missed and from its state
        as it was (zeros if it was never trained), as in PyTorch: Adam's bias correction starts
        afresh for a layer first trained after some steps. Runs whose parameters took different
        numbers of steps are stepped stretch by stretch, each with its own count; the schedule
        reads the optimizer's t. An optimizer subclass that overrides ``update`` instead of
        ``rule`` steps the whole of θ with t and cannot skip frozen parameters:
        HyperparameterError when some are frozen.
        """
        flat = self.model.flat_parameters() if flat is None else flat
        self.check_layout(flat)
        plan = self.plan(flat)
        lr = self.current_lr
        self.__dict__["t"] += 1  # t += 1 without __setattr__'s check, a third of a µs a step
        if plan is not None:
            return self._step_stretches(flat, plan, lr, check_finite)
        scale, direction = self.update(flat.theta, flat.grad, lr)
        if check_finite:  # ‖Δθ‖₁ = scale Σ|direction|, finite and within √(the dtype's largest value)
            step_size = scale * abs_sum(direction)  # NaN if either factor is: refused too
            if not math.isfinite(step_size) or step_size > math.sqrt(numpy.finfo(direction.dtype).max):
                self.reset_state()
                return False
        # θ ← θ − scale · direction, one pass. Where it needs a work vector (no BLAS, or the GPU),
        # the first one is free once update returns, or is the direction itself, read before it is written.
        axpy(-scale, direction, flat.theta, work=self._work)
        return True

    @contextlib.contextmanager
    def stepping(self):
        """The context of a training loop's run of steps (``fit`` enters it for each epoch's
        batches), in which nothing but ``step`` reads the state: until it ends, an optimizer may
        hold its state in a form that is faster to step, and gives it back as documented when it
        ends, on an error too. Here nothing changes; SGD with momentum keeps a scaled velocity.
        """
        yield

    def reset_state(self) -> None:
        """Start afresh from here, as a new optimizer would, keeping the step count t that the
        schedule reads: every state vector (SGD's velocity, Adam's m and v, RMSProp's v) back to
        zeros, in place, and each parameter's own step count back to 0 (``missed`` = t for every
        parameter), so that Adam's bias correction starts afresh too. ``step`` calls it when it
        refuses a step, whose gradient the state has taken in."""
        for array in self.state.values():
            array[...] = 0
        flat = self.model.flat_parameters()
        self.missed = dict.fromkeys(flat.names, self.t) if self.t else {}
        self._plan = None  # the stretches follow the counts
        self._named = (flat.owners(), flat.names)

    def plan(self, flat) -> tuple | None:
        """How the next step updates the model's FlatParameters ``flat``: None when it updates all
        of θ at once with :meth:`update` (nothing frozen and no missed steps that the rule reads,
        or a subclass that overrides ``update``); else ``(frozen, stretches)``, as
        :meth:`stretches` gives them. ``step`` and the GPU's training loop both follow it.
        HyperparameterError for a subclass overriding ``update`` while layers are frozen: it
        would step them."""
        self._follow(flat)
        runs = flat.trainable_runs()  # None when nothing is frozen
        own_update = type(self).update is not Optimizer.update
        if runs is not None and own_update:
            raise HyperparameterError(
                f"{type(self).__name__} overrides update(theta, grad, lr), which steps every parameter, "
                f"but the model has frozen layers; implement rule(theta, grad, lr, vectors) instead")
        if runs is None and (own_update or not (self.missed and self.counts_steps)):
            return None
        return self.stretches(flat, runs)

    def _follow(self, flat) -> None:
        """Follow the model's FlatParameters ``flat``: ``missed`` keyed by its names (:meth:`_follow_renaming`),
        and, for a buffer built anew (a layer replaced, or the layers reordered, leaving θ's size as it was),
        λ where its weights are now, not where the last buffer had them."""
        if flat.names is not self._named[1]:
            self._follow_renaming(flat)
        if self._weight_decay and flat is not self._decay_source:
            self._make_decay(flat)

    def _follow_renaming(self, flat) -> None:
        """Key ``missed`` by ``flat``'s names. Each count goes with its parameter: to the name the same
        layer's parameter has in ``flat`` (its layer moved in the model: a layer without parameters put
        in before it, or taken out), whether ``flat`` is the buffer renamed or one made anew; else, for a
        parameter whose layer is no longer in the model (replaced), to the same path, taken for the same
        parameter as its state in the buffer is; a count with neither is dropped."""
        owners, names = self._named
        now = {(id(layer), name): full_name for full_name, (layer, name) in zip(flat.names, flat.owners())}
        then = {full_name: (id(layer), name) for full_name, (layer, name) in zip(names, owners)}
        missed, by_path, paths = {}, {}, set(flat.names)
        for name, count in self.missed.items():
            moved = now.get(then.get(name))
            if moved is not None:
                missed[moved] = count
            elif name in paths:
                by_path[name] = count
        for name, count in by_path.items():  # where a moved count took the path already, it stays
            missed.setdefault(name, count)
        self.missed = missed
        self._plan = None  # the stretches follow the counts
        self._named = (flat.owners(), flat.names)

    def _step_stretches(self, flat, plan: tuple, lr: float, check_finite: bool) -> bool:
        """``step`` for a model with frozen parameters, or whose parameters took different numbers
        of steps (``plan``, see :meth:`plan`): the rule on each stretch of trainable parameters
        with the same count, θ left alone elsewhere, and a step more in ``missed`` for each
        frozen parameter. Every stretch's step is computed before θ changes, so that the guard
        can refuse them all; each stretch's direction is in its own views."""
        frozen, stretches = plan
        for name in frozen:
            self.missed[name] = self.missed.get(name, 0) + 1
        vectors = self.vectors()
        steps = []  # (stretch, scale, direction, the stretch's work vector)
        for where, missed in stretches:
            part = vectors.part(where, self.t - missed)
            scale, direction = self.rule(flat.theta[where], flat.grad[where], lr, part)
            steps.append((where, scale, direction, part.work))
        if check_finite:  # ‖Δθ‖₁ summed over the stretches, as step checks it for the whole of θ
            step_size = sum(scale * abs_sum(direction) for _, scale, direction, _ in steps)
            if not math.isfinite(step_size) or step_size > math.sqrt(numpy.finfo(flat.theta.dtype).max):
                self.reset_state()
                return False
        for where, scale, direction, work in steps:
            axpy(-scale, direction, flat.theta[where], work=work)
        return True

    def stretches(self, flat, runs: list | None) -> tuple[tuple, list]:
        """(frozen, stretches): the names of the frozen parameters, and the trainable runs
        (``runs``, ``flat.trainable_runs()``: None for all of θ) split where the parameters'
        counts of missed steps differ, as ``[(slice, missed)]`` in buffer order. Kept until the
        runs or the buffer change (the missed counts of the trainable parameters change only
        then, or by ``load_state_dict``). The GPU's fused steps launch one kernel per stretch."""
        plan = self._plan
        if plan is not None and plan[0] is flat and plan[1] is runs:
            return plan[2], plan[3]
        frozen_now = set(flat.frozen_names())  # by the buffer's own names, which the stretches are cut from
        frozen, stretches = [], []
        for name in flat.names:
            where = flat.slices[name]
            if name in frozen_now:
                frozen.append(name)
                continue
            missed = self.missed.get(name, 0) if self.counts_steps else 0  # a rule without t: one stretch a run
            if stretches and stretches[-1][0].stop == where.start and stretches[-1][1] == missed:
                stretches[-1] = (slice(stretches[-1][0].start, where.stop), missed)
            else:
                stretches.append((where, missed))
        self._plan = (flat, runs, tuple(frozen), stretches)
        return self._plan[2], self._plan[3]

    def fits(self, flat) -> bool:
        """Whether the model's FlatParameters ``flat`` still have the size and dtype the optimizer
        was made for: what :meth:`check_layout` asks, answered instead of raised."""
        return flat.theta.size == self._work.size and flat.theta.dtype == self._work.dtype

    def check_layout(self, flat=None) -> None:
        """Raise unless the model's θ still has the size and dtype the optimizer was made for.

        A model that grew or was cast with ``model.astype`` after the optimizer was made would
        otherwise be updated with state of the wrong size (ShapeError) or precision (DTypeError).
        """
        flat = self.model.flat_parameters() if flat is None else flat
        if flat.theta.size != self._work.size:
            raise ShapeError(
                f"{type(self).__name__}: the model now has {flat.theta.size} parameters, "
                f"the optimizer was made for {self._work.size}; make a new optimizer"
            )
        if flat.theta.dtype != self._work.dtype:  # e.g. model.astype after the optimizer was made
            raise DTypeError(
                f"{type(self).__name__}: the model's parameters are now {flat.theta.dtype}, "
                f"the optimizer was made for {self._work.dtype}; make a new optimizer"
            )

    def update(self, theta: Array, grad: Array, lr: float) -> tuple[float, Array]:
        """Advance the state and return the step Δθ for the whole of θ as ``(scale, direction)``,
        Δθ = scale · direction: :meth:`rule` with the optimizer's own vectors and step count t
        for every parameter (``missed`` is not read).

        Keeping the scalar apart lets ``step`` apply it in the same pass that subtracts
        (direction may be a state vector, like SGD's velocity, which ``step`` only reads).
        """
        return self.rule(theta, grad, lr, self.vectors())

    def rule(self, theta: Array, grad: Array, lr: float, vectors: Vectors) -> tuple[float, Array]:
        """The update rule itself (subclasses): as :meth:`update`, for θ and ∂L/∂θ given with
        the optimizer's ``vectors`` over the same stretch (all of θ, or one run of trainable
        parameters). A direction computed here goes into ``vectors.work``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement rule")

    def vectors(self) -> Vectors:
        """The optimizer's state and work vectors over the whole of θ, at the optimizer's step count t."""
        return Vectors(self.state, self._work, self._work2, self._decay, self.t)

    def regularized(self, theta: Array, grad: Array, vectors: Vectors) -> Array:
        """g = ∂L/∂θ + λθ on the weights (the gradient of L + (λ/2)‖W‖²), computed into
        ``vectors.work2`` over the stretch of θ given; grad itself if λ = 0."""
        if not self._weight_decay:
            return grad
        work2 = vectors.work2
        underflow_allowed(get_array_module(theta).multiply, theta, vectors.decay, work2)  # λθ
        work2 += grad
        return work2

    def to(self, device: str) -> "Optimizer":
        """Move the state and work buffers to ``device`` ("cpu" or "cuda"), with the model; returns self."""
        self.state = {name: to_device(array, device) for name, array in self.state.items()}
        self._work = to_device(self._work, device)
        if self._work2 is not None:
            self._work2 = to_device(self._work2, device)
        self._decay = self._decay_on(device)
        return self

    def _make_decay(self, flat) -> None:
        """Make ``_work2`` and ``_decay`` fit the current λ, on the device of ``_work``.

        An existing ``_decay`` is overwritten in place rather than replaced, and on the GPU
        ``_work2`` is kept when λ becomes 0: a training step that ``fit`` captured into a CUDA
        graph reads and writes them at the addresses they had when recorded.
        """
        device = device_of(self._work)
        self._decay_source = flat
        if not self._weight_decay:
            if device == "cpu":
                self._work2 = None  # on the GPU kept: a captured step writes to it
            if self._decay is not None:
                self._decay[...] = 0  # kept on the GPU (below), where the fused kernels read it
            self._decay = self._decay_on(device)
            return
        if self._work2 is None:
            self._work2 = get_array_module(self._work).empty_like(self._work)
        if self._decay is not None and device == "cpu":  # refilled in place: no θ-sized allocation
            flat.decay_mask(out=self._decay, value=self._weight_decay)
            return
        decay = flat.decay_mask()
        decay *= self._weight_decay  # λ on weights, 0 on biases
        decay = to_device(decay, device)
        if self._decay is None:
            self._decay = decay
        else:
            self._decay[...] = decay

    def _decay_on(self, device: str) -> Array | None:
        """``_decay`` on ``device`` (``_work`` must be there already): λ on the weights and 0 on
        the biases when λ > 0; when λ = 0, None on the CPU, whose update rules then never read it,
        and zeros on the GPU, for the fused kernels of chainrule.cuda.kernels. Still None when λ > 0 in a
        copy that has not stepped yet (:meth:`__setstate__`): the next step makes it, on ``_work``'s device."""
        if self._weight_decay:
            return None if self._decay is None else to_device(self._decay, device)
        if device == "cpu":
            return None
        return self._decay if self._decay is not None else get_array_module(self._work).zeros_like(self._work)

    def state_dict(self) -> dict:
        """The step counts and state arrays, to checkpoint and later ``load_state_dict``:
        ``{"t": t, "state": {name: array}, "missed": {parameter name: steps missed}}``, the names
        the parameters have in the model now."""
        flat = self.model.flat_parameters()
        self._follow(flat)
        return {"t": self.t, "state": {name: array.copy() for name, array in self.state.items()},
                "missed": dict(self.missed)}

    def load_state_dict(self, saved: dict) -> None:
        """Restore what ``state_dict`` returned (the same optimizer type and model layout).

        The saved arrays may be on any device; they are copied onto the device of the state.
        Everything is checked before anything is restored (:mod:`.saved_state`), so a refused
        state leaves the optimizer as it was: ``saved`` must be a dict with ``"t"``, an integer
        in [0, MAX_STEP_COUNT] (2**53; HyperparameterError naming t otherwise), and ``"state"``,
        a dict with exactly this optimizer's state names (``state_dict()["state"]``: another
        optimizer type's state is refused) whose arrays have the state's shapes (ShapeError)
        and real values that are finite in the state's dtype (NonFiniteError), and for a
        second moment ``v`` not negative (HyperparameterError). ``"missed"``, if there, must map
        parameter names of the model to integers in [0, t] (HyperparameterError naming missed);
        a state without it (saved before it existed) missed no step.
        """
        flat = self.model.flat_parameters()
        t, checked, missed = checked_saved_state(type(self).__name__, saved, self.state, flat.names)
        for key, array in self.state.items():
            array[...] = to_device(checked[key], device_of(array))
        self.t = t
        self.missed = missed
        self._plan = None  # the stretches follow the counts loaded
        self._named = (flat.owners(), flat.names)

    def __repr__(self) -> str:
        return self.described()

    def described(self, **fields) -> str:
        """``Name(lr=..., <fields>, weight_decay=...[, schedule=...])``: the hyperparameters, as a
        run's metadata records them (``metadata["training"]["optimizer"]``, ``chainrule info``);
        a subclass's ``__repr__`` passes its own ``fields``. A chainrule schedule shows its
        repr; a function or another callable its name (its repr would hold a memory address,
        which differs from run to run)."""
        texts = [f"{name}={value!r}" for name, value in {"lr": self.lr, **fields,
                                                         "weight_decay": self.weight_decay}.items()]
        if self.schedule is not None:
            schedule = self.schedule
            own = type(schedule).__module__.startswith(f"{__package__}.")
            texts.append(f"schedule={schedule!r}" if own else
                         f"schedule={getattr(schedule, '__qualname__', type(schedule).__qualname__)}")
        return f"{type(self).__name__}({', '.join(texts)})"


def _scratch_left_out(state: dict) -> dict:
    """An optimizer's ``state`` (its ``__dict__``, or a copy) without a step's scratch, changed in place and
    returned: ``_work`` as what :meth:`Optimizer.__setstate__` makes it from (size, dtype, device), ``_work2``
    as whether there is one, ``_decay``, ``_decay_source`` and ``_plan`` as None."""
    work = state["_work"]
    state["_work"] = (work.size, work.dtype.str, device_of(work))
    state["_work2"] = state["_work2"] is not None
    state["_decay"] = state["_decay_source"] = state["_plan"] = None
    return state
