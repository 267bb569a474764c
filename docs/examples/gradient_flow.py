"""The gradient getting "progressively more diluted" through depth, and how ReLU + He avoid it.

Two networks of 10 linear layers, 64 neurons wide, on scikit-learn's digits: one with sigmoid
neurons and Glorot initialization, one with ReLU neurons and He initialization. Both are
trained briefly with ``cr.fit``, which records ‖∂L/∂W‖ of every layer, before the first
update and per epoch. The script prints, for each network, the ratio of the last layer's
gradient norm to the first layer's at initialization, and writes three pictures::

    docs/images/gradient_flow.png          both networks' norms against depth at initialization
    docs/images/gradient_flow_sigmoid.png  the sigmoid network, per layer and per epoch
    docs/images/gradient_flow_relu.png     the ReLU network, per layer and per epoch

Run it from anywhere (a few seconds on a CPU)::

    python docs/examples/gradient_flow.py
"""

from pathlib import Path

from sklearn.datasets import load_digits

import chainrule as cr
from chainrule.plots import compare_gradient_flow, plot_gradient_flow

DEPTH = 10  # layers with weights
WIDTH = 64  # neurons per hidden layer
EPOCHS = 5
SEED = 0
IMAGES = Path(__file__).resolve().parent.parent / "images"


def deep_network(activation: type[cr.Layer], init: str, n_features: int, n_classes: int) -> cr.Sequential:
    """DEPTH Linear layers with ``activation`` neurons between them, all drawn with ``init``."""
    widths = [n_features] + [WIDTH] * (DEPTH - 1) + [n_classes]
    layers = [cr.Linear(widths[0], widths[1], init=init)]
    for n_in, n_out in zip(widths[1:-1], widths[2:]):
        layers += [activation(), cr.Linear(n_in, n_out, init=init)]
    return cr.Sequential(*layers, seed=SEED)


def main() -> None:
    X, y = load_digits(return_X_y=True)
    runs = {
        f"sigmoid + Glorot, {DEPTH} layers": (cr.Sigmoid, "glorot_uniform", "sigmoid"),
        f"ReLU + He, {DEPTH} layers": (cr.ReLU, "he_normal", "relu"),
    }
    histories = {}
    for name, (activation, init, short) in runs.items():
        model = deep_network(activation, init, X.shape[1], 10)
        history = cr.fit(model, X, y, epochs=EPOCHS, validation=0.2, standardize=True, seed=SEED, verbose=0)
        norms = list(history.initial_grad_norms.values())
        print(f"{name}: ‖∂L/∂W‖ at initialization, first layer {norms[0]:.3g}, last layer {norms[-1]:.3g}, "
              f"last / first = {norms[-1] / norms[0]:.3g}; "
              f"validation accuracy after {EPOCHS} epochs {history.metrics['val_accuracy'][-1]:.3f}")
        plot_gradient_flow(history, IMAGES / f"gradient_flow_{short}.png", title=name)
        histories[name] = history
    compare_gradient_flow(histories, IMAGES / "gradient_flow.png",
                          title="Gradient norm per layer at initialization, digits")


if __name__ == "__main__":
    main()
