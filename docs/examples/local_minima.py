"""Getting "stuck in local minima" (lecture notes): XOR with 2, 4 and 16 hidden ReLU neurons.

The four XOR points (inputs in {-1, 1}², targets 0 1 1 0) are learned by a network
2 → width ReLU neurons → 1 output, with the mean squared error, by plain gradient descent
(``cr.SGD``, learning rate 0.1, STEPS steps on all four points, float64) from seeds 0 to 49.
For each width the script prints how many runs reach a loss below SOLVED and where the others
stop, with a bound on the gradient norm ‖∂L/∂θ‖ there. For the runs that stop, it checks that
the points they do not fit have every hidden neuron off, and moves θ by small random steps to
see whether any of them lowers the loss (if none does, the evidence points to a local minimum
rather than a saddle point). Then, for 2 hidden neurons, the same count with momentum, with
Adam, and keeping the best of 5 seeds. docs/troubles.md quotes the output. Run it from
anywhere (under a minute on a CPU)::

    python docs/examples/local_minima.py
"""

import argparse

import numpy

import chainrule as cr

XOR_X = numpy.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
XOR_Y = numpy.array([0.0, 1.0, 1.0, 0.0])
WIDTHS = (2, 4, 16)
SEEDS = range(50)
STEPS = 2000  # full-batch gradient steps per run
LR = 0.1
SOLVED = 1e-3  # a run whose final loss is below this has learned XOR
STATIONARY = 1e-14  # a gradient norm below this is rounding error in float64 (θ is of order 1)
RADII = (1e-4, 1e-3, 1e-2)  # lengths of the random steps around a stuck θ
PERTURBATIONS = 1000  # random steps per radius
RESTARTS = 5  # seeds per group when keeping the best of several
# name: how to make the optimizer of the same 2-neuron network
REMEDIES = {
    "SGD with momentum 0.9 (lr 0.1)": lambda model: cr.SGD(model, lr=LR, momentum=0.9),
    "Adam (lr 0.01)": lambda model: cr.Adam(model, lr=0.01),
}


def network(width: int, seed: int) -> cr.Sequential:
    """2 inputs → ``width`` ReLU neurons → 1 output, in float64 so that a gradient of 1e-16 is visible."""
    return cr.mlp([2, width, 1], "relu", seed=seed, dtype="float64")


def loss_and_gradient_norm(model: cr.Sequential) -> tuple[float, float]:
    """L on the four XOR points and ‖∂L/∂θ‖ over all parameters, by one forward and one backward."""
    value, dY = cr.MSE()(model.forward(XOR_X), XOR_Y)
    model.backward(dY, input_grad=False)
    return float(value), float(numpy.linalg.norm(model.flat_parameters().grad))


def train(width: int, seed: int, make_optimizer=lambda model: cr.SGD(model, lr=LR)) -> cr.Sequential:
    """A fresh ``network(width, seed)`` after STEPS full-batch steps of ``make_optimizer(model)``."""
    model = network(width, seed)
    optimizer = make_optimizer(model)
    for _ in range(STEPS):
        loss_and_gradient_norm(model)
        optimizer.step()
    return model


def smallest_change_nearby(model: cr.Sequential, seed: int) -> float:
    """The smallest L(θ + d) − L(θ) over PERTURBATIONS random d of each length in RADII.

    Negative means some nearby θ has a lower loss (θ is not a local minimum). θ is left as
    it was. The directions are drawn from a Generator seeded with ``seed``.
    """
    theta = model.flat_parameters().theta
    start = theta.copy()
    loss_here = loss_and_gradient_norm(model)[0]
    rng = numpy.random.default_rng(seed)
    smallest = numpy.inf
    for radius in RADII:
        for _ in range(PERTURBATIONS):
            direction = rng.normal(size=start.size)
            theta[:] = start + radius * direction / numpy.linalg.norm(direction)
            smallest = min(smallest, loss_and_gradient_norm(model)[0] - loss_here)
    theta[:] = start
    return smallest


def train_all(width: int, make_optimizer=None) -> dict[int, cr.Sequential]:
    """Seed → the model ``train`` gives for each of SEEDS."""
    arguments = {} if make_optimizer is None else {"make_optimizer": make_optimizer}
    return {seed: train(width, seed, **arguments) for seed in SEEDS}


def is_solved(model: cr.Sequential) -> bool:
    """True when the model's loss on the XOR points is below SOLVED."""
    return loss_and_gradient_norm(model)[0] < SOLVED


def count_line(label: str, models: dict[int, cr.Sequential]) -> str:
    """How many runs reached loss < SOLVED, and the losses (and largest gradient norm) of the others."""
    stuck = [loss_and_gradient_norm(model) for model in models.values() if not is_solved(model)]
    line = f"  {label}: {len(models) - len(stuck)} of {len(models)} reach loss < {SOLVED:g}"
    if not stuck:
        return line
    counts = {}
    for loss, _ in stuck:
        counts[f"{loss:.4f}"] = counts.get(f"{loss:.4f}", 0) + 1
    stops = ", ".join(f"{loss} ({count} runs)" for loss, count in sorted(counts.items()))
    largest_gradient = max(norm for _, norm in stuck)
    # Rounding-level norms differ in their digits from one BLAS to another: print the bound only.
    gradient = f"< {STATIONARY:g}" if largest_gradient < STATIONARY else f"up to {largest_gradient:.1e}"
    return f"{line}; the other {len(stuck)} stop at loss {stops}, where ‖∂L/∂θ‖ {gradient}"


def stuck_examples(models: dict[int, cr.Sequential]) -> list[str]:
    """For the first stuck seed at each distinct final loss: its predictions on the four points."""
    lines, shown = [], set()
    for seed, model in models.items():
        loss = f"{loss_and_gradient_norm(model)[0]:.4f}"
        if is_solved(model) or loss in shown:
            continue
        shown.add(loss)
        # round, then + 0.0 turns the -0.0 of a tiny negative prediction into 0.0
        predictions = " ".join(f"{round(value, 3) + 0.0:.3f}" for value in model.forward(XOR_X).ravel())
        lines.append(f"    seed {seed} (loss {loss}) predicts {predictions}")
    return lines


def perturbation_line(stuck: dict[tuple[int, int], cr.Sequential]) -> str:
    """Whether random steps around the θ of the stuck runs, (width, seed) → model, ever lowered the loss."""
    changes = [smallest_change_nearby(model, seed) for (_, seed), model in stuck.items()]
    lowered = sum(change < 0 for change in changes)
    radii = ", ".join(f"{radius:g}" for radius in RADII)
    return (f"  {PERTURBATIONS} random steps of each length {radii} around each of the {len(stuck)} stuck θ: "
            f"the loss went down in {lowered} of them")


def unfitted_points_see_no_neuron(model: cr.Sequential) -> bool:
    """True if every point the model does not fit (|error| > 1e-6) has all hidden neurons off (z < 0).

    The output at such points is then the output bias alone, and they send no gradient to
    the hidden layer (f'(z) = 0 for a ReLU neuron with z < 0).
    """
    Z = XOR_X @ model.params["0.W"] + model.params["0.b"]  # the hidden neurons' inputs, one row per point
    unfitted = numpy.abs(model.forward(XOR_X).ravel() - XOR_Y) > 1e-6
    return bool(numpy.all(Z[unfitted] < 0))


def unfitted_points_line(stuck: dict[tuple[int, int], cr.Sequential]) -> str:
    """In how many stuck runs the points not fitted have every hidden neuron off."""
    count = sum(unfitted_points_see_no_neuron(model) for model in stuck.values())
    return (f"  in {count} of the {len(stuck)} stuck runs every hidden neuron is off (z < 0) at each point "
            f"not fitted (|error| > 1e-6)")


def restarts_line(models: dict[int, cr.Sequential]) -> str:
    """How many groups of RESTARTS consecutive seeds hold at least one run that reached loss < SOLVED."""
    seeds = list(models)
    groups = [seeds[start:start + RESTARTS] for start in range(0, len(seeds), RESTARTS)]
    solved = sum(any(is_solved(models[seed]) for seed in group) for group in groups)
    return f"  best of {RESTARTS} seeds (seeds 0-4, 5-9, ...): {solved} of {len(groups)} groups reach loss < {SOLVED:g}"


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    print(f"XOR on {{-1, 1}}², targets 0 1 1 0, mean squared error, plain SGD (lr {LR:g}, "
          f"{STEPS} full-batch steps), seeds {SEEDS[0]} to {SEEDS[-1]}:")
    by_width = {width: train_all(width) for width in WIDTHS}
    for width, models in by_width.items():
        print(count_line(f"{width} hidden ReLU", models))
    narrowest = by_width[WIDTHS[0]]
    print(f"  predictions at (-1,-1) (-1,1) (1,-1) (1,1) of stuck runs, {WIDTHS[0]} hidden ReLU:")
    print("\n".join(stuck_examples(narrowest)))
    stuck = {(width, seed): model for width, models in by_width.items()
             for seed, model in models.items() if not is_solved(model)}
    print(unfitted_points_line(stuck))
    print(perturbation_line(stuck))
    print(f"Remedies for {WIDTHS[0]} hidden ReLU, seeds {SEEDS[0]} to {SEEDS[-1]}:")
    for name, make_optimizer in REMEDIES.items():
        print(count_line(name, train_all(WIDTHS[0], make_optimizer)))
    print(restarts_line(narrowest))


if __name__ == "__main__":
    main()
