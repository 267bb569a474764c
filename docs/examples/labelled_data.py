"""How many labelled rows backpropagation needs ("typically requires a lot of labeled data").

A learning curve on scikit-learn's digits (8×8 images, 10 classes): a fixed 25 % of the
1,797 images (450, stratified, seed 0) is held out for testing; from the other 1,347 the
script draws 1, 2, 5, 10, 20 or 50 labelled images of each class, or takes all of them,
and trains two models on those rows alone:

- an MLP 64 → 64 ReLU → 10 (``cr.mlp([64, 64, 10])``),
- a linear softmax model 64 → 10 (``cr.Sequential(cr.Linear(64, 10))``), the baseline,

each with Adam (lr 10⁻³) for about STEPS minibatch steps of up to 32 rows, on pixel values
divided by 16 (a fixed scale: no statistics fitted on a handful of rows). It prints the test
accuracy for each number of rows, mean and range over seeds 0 to 4 (the seed draws the rows,
the initial weights and the order of the minibatches). docs/troubles.md quotes the output.
Run it from anywhere (about 20 s on a CPU)::

    python docs/examples/labelled_data.py
"""

import argparse

import numpy
from sklearn.datasets import load_digits

import chainrule as cr
from chainrule.data.split import stratified_split_indices

PER_CLASS = (1, 2, 5, 10, 20, 50, None)  # labelled rows of each class; None: all training rows
SEEDS = range(5)
STEPS = 2000  # minibatch steps per run, whatever the number of rows
BATCH_SIZE = 32
MODELS = {
    "MLP 64-64-10": lambda seed: cr.mlp([64, 64, 10], "relu", seed=seed),
    "linear 64-10": lambda seed: cr.Sequential(cr.Linear(64, 10), seed=seed),
}


def digits() -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """X (pixels / 16), y, and the indices of the training rows and of the 450 held-out test rows."""
    X, y = load_digits(return_X_y=True)
    train_rows, test_rows = stratified_split_indices(y, 0.25, seed=0)
    return X / 16, y, train_rows, test_rows


def labelled_rows(y, train_rows, per_class: int | None, seed: int) -> numpy.ndarray:
    """``per_class`` training rows of each class drawn with ``seed`` (all of them for None), sorted."""
    rng = numpy.random.default_rng(seed)
    picked = [rng.permutation(train_rows[y[train_rows] == label])[:per_class] for label in numpy.unique(y)]
    return numpy.sort(numpy.concatenate(picked))


def held_out_accuracy(model_name: str, per_class: int | None, seed: int) -> float:
    """Accuracy on the held-out rows of ``MODELS[model_name]`` trained on ``labelled_rows``."""
    X, y, train_rows, test_rows = digits()
    rows = labelled_rows(y, train_rows, per_class, seed)
    batch_size = min(BATCH_SIZE, len(rows))
    steps_per_epoch = -(-len(rows) // batch_size)  # ceil: the last batch of an epoch may be smaller
    model = MODELS[model_name](seed)
    cr.fit(model, X[rows], y[rows], optimizer="adam", lr=1e-3, epochs=max(1, STEPS // steps_per_epoch),
           batch_size=batch_size, seed=seed, verbose=0)
    return cr.evaluate(model, X[test_rows], y[test_rows])["accuracy"]


def table_row(per_class: int | None) -> str:
    """One row of the printed table: the number of rows, then mean (min–max) accuracy of each model."""
    _, y, train_rows, _ = digits()
    n_rows = len(labelled_rows(y, train_rows, per_class, SEEDS[0]))
    cells = []
    for name in MODELS:
        accuracies = [held_out_accuracy(name, per_class, seed) for seed in SEEDS]
        cells.append(f"{numpy.mean(accuracies):.3f} ({min(accuracies):.3f}–{max(accuracies):.3f})")
    per_class_text = "all" if per_class is None else str(per_class)
    return f"| {n_rows} | {per_class_text} | " + " | ".join(cells) + " |"


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    print(f"digits, test accuracy on 450 held-out images, mean (min–max) over seeds {SEEDS[0]} to {SEEDS[-1]}:")
    print("| labelled rows | per class | " + " | ".join(MODELS) + " |")
    print("|---|---|" + "---|" * len(MODELS))
    for per_class in PER_CLASS:
        print(table_row(per_class))


if __name__ == "__main__":
    main()
