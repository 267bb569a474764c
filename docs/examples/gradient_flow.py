"""The gradient getting "progressively more diluted" through depth, and how ReLU + He avoid it.

Two networks of 10 linear layers, 64 neurons wide, on scikit-learn's digits: one with sigmoid
neurons and Glorot initialization, one with ReLU neurons and He initialization. Both are
trained briefly with ``cr.fit``, which records ‖∂L/∂W‖ of every layer, before the first
update and per epoch. For seed 0 the script prints, for each network, the norms at
initialization (first and last layer, their ratio, the smallest and largest factor from one
layer to the next), the validation accuracy after each epoch and the mean norms in the last
epoch, and writes three pictures::

    docs/images/gradient_flow.png          both networks' norms against depth at initialization
    docs/images/gradient_flow_sigmoid.png  the sigmoid network, per layer and per epoch
    docs/images/gradient_flow_relu.png     the ReLU network, per layer and per epoch

With ``--seeds FIRST-LAST`` it instead prints, for each network, the smallest and largest
ratio last / first at initialization over those seeds, and writes no picture.
docs/gradient_flow.md quotes both outputs. Run it from anywhere (seconds on a CPU)::

    python docs/examples/gradient_flow.py
    python docs/examples/gradient_flow.py --seeds 0-39
"""

import argparse
from pathlib import Path

from sklearn.datasets import load_digits

import chainrule as cr
from chainrule.plots import compare_gradient_flow, plot_gradient_flow

DEPTH = 10  # layers with weights
WIDTH = 64  # neurons per hidden layer
EPOCHS = 5
SEED = 0
IMAGES = Path(__file__).resolve().parent.parent / "images"
# name: (activation, initializer, short name for the picture's file)
NETWORKS = {
    f"sigmoid + Glorot, {DEPTH} layers": (cr.Sigmoid, "glorot_uniform", "sigmoid"),
    f"ReLU + He, {DEPTH} layers": (cr.ReLU, "he_normal", "relu"),
}


def deep_network(activation: type[cr.Layer], init: str, n_features: int, n_classes: int,
                 seed: int = SEED) -> cr.Sequential:
    """DEPTH Linear layers with ``activation`` neurons between them, all drawn with ``init``."""
    widths = [n_features] + [WIDTH] * (DEPTH - 1) + [n_classes]
    layers = [cr.Linear(widths[0], widths[1], init=init)]
    for n_in, n_out in zip(widths[1:-1], widths[2:]):
        layers += [activation(), cr.Linear(n_in, n_out, init=init)]
    return cr.Sequential(*layers, seed=seed)


def train(activation: type[cr.Layer], init: str, seed: int = SEED, epochs: int = EPOCHS) -> cr.History:
    """Train a fresh ``deep_network`` on the digits (20 % held out for validation)."""
    X, y = load_digits(return_X_y=True)
    model = deep_network(activation, init, X.shape[1], 10, seed)
    return cr.fit(model, X, y, epochs=epochs, validation=0.2, standardize=True, seed=seed, verbose=0)


def describe(name: str, history: cr.History) -> list[str]:
    """The lines printed for one network's run: its norms and its validation accuracy."""
    norms = list(history.initial_grad_norms.values())  # first layer to last
    factors = [later / earlier for earlier, later in zip(norms, norms[1:])]
    last_epoch = [history.grad_norms[path][-1] for path in history.initial_grad_norms]
    accuracies = " ".join(f"{accuracy:.3f}" for accuracy in history.metrics["val_accuracy"])
    return [
        f"{name}, seed {SEED}:",
        f"  ‖∂L/∂W‖ at initialization: first layer {norms[0]:.3g}, last layer {norms[-1]:.3g}, "
        f"last / first {norms[-1] / norms[0]:.3g}",
        f"  factor from one layer to the next at initialization: {min(factors):.3g} to {max(factors):.3g}",
        f"  validation accuracy after each epoch: {accuracies}",
        f"  mean ‖∂L/∂W‖ in epoch {len(history.metrics['val_accuracy'])}: "
        f"first layer {last_epoch[0]:.2g}, last layer {last_epoch[-1]:.2g}",
    ]


def ratio_range(seeds: range) -> list[str]:
    """One line per network: the smallest and largest last / first at initialization over ``seeds``.

    The norms at initialization are taken on the first minibatch before any update, so one
    epoch gives the same ones as EPOCHS (same split, same first batch) in a fifth of the time.
    """
    lines = []
    for name, (activation, init, _) in NETWORKS.items():
        ratios = []
        for seed in seeds:
            norms = list(train(activation, init, seed, epochs=1).initial_grad_norms.values())
            ratios.append(norms[-1] / norms[0])
        lines.append(f"{name}: last / first at initialization over seeds {seeds[0]} to {seeds[-1]}: "
                     f"{min(ratios):.3g} to {max(ratios):.3g}")
    return lines


def seed_range(text: str) -> range:
    """``"0-39"`` as range(0, 40); argparse reports a malformed one."""
    first, _, last = text.partition("-")
    if not (first.isdigit() and last.isdigit() and int(first) <= int(last)):
        raise argparse.ArgumentTypeError(f"expected FIRST-LAST with 0 <= FIRST <= LAST, got {text!r}")
    return range(int(first), int(last) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=seed_range, metavar="FIRST-LAST",
                        help="print the range of last / first over these seeds instead (no pictures)")
    arguments = parser.parse_args()
    if arguments.seeds is not None:
        print("\n".join(ratio_range(arguments.seeds)))
        return
    histories = {}
    for name, (activation, init, short) in NETWORKS.items():
        history = train(activation, init)
        print("\n".join(describe(name, history)))
        plot_gradient_flow(history, IMAGES / f"gradient_flow_{short}.png", title=name)
        histories[name] = history
    compare_gradient_flow(histories, IMAGES / "gradient_flow.png",
                          title="Gradient norm per layer at initialization, digits")


if __name__ == "__main__":
    main()
