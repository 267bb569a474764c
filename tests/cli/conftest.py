"""Files shared by the command-line tests: an iris CSV with species names, and a model
trained on it by ``chainrule train`` (once per session, in this process)."""

import contextlib
import io

import pytest

from chainrule.cli import main

from .helpers import iris_rows, write_csv


@pytest.fixture(scope="session")
def iris_csv(tmp_path_factory):
    """iris.csv: four measurement columns and a ``species`` column of names."""
    return write_csv(tmp_path_factory.mktemp("data") / "iris.csv", iris_rows())


@pytest.fixture(scope="session")
def features_csv(tmp_path_factory):
    """features.csv: the first five iris rows without the label column."""
    return write_csv(tmp_path_factory.mktemp("data") / "features.csv", [row[:4] for row in iris_rows()[:6]])


@pytest.fixture(scope="session")
def iris_run(tmp_path_factory, iris_csv):
    """The run folder of ``chainrule train --data iris.csv`` (a 4-16-3 network)."""
    folder = tmp_path_factory.mktemp("runs") / "iris"
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["train", "--data", str(iris_csv), "--hidden", "16", "--epochs", "40", "--lr", "0.02",
                     "--quiet", "--no-plots", "--out", str(folder)])
    assert code == 0
    return folder
