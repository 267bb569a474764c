"""chainrule.cli.outputs: a command's output file must not be one of its inputs."""

import re

import pytest

from chainrule.cli.outputs import refuse_input_as_output
from chainrule.errors import ConfigError


def test_an_output_that_is_the_model_file_is_refused_naming_the_option(tmp_path):
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"weights")
    with pytest.raises(ConfigError, match=r"-o .*model\.safetensors: that is the model file .*would be overwritten"):
        refuse_input_as_output(model, "-o", {"model file": model, "data": "iris"})


def test_an_output_reached_through_a_link_is_refused(tmp_path):
    data = tmp_path / "rows.csv"
    data.write_text("a,label\n1,0\n")
    (tmp_path / "link.csv").symlink_to(data)
    with pytest.raises(ConfigError, match="that is the data"):
        refuse_input_as_output(tmp_path / "link.csv", "-o", {"data": str(data)})


def test_each_file_of_an_idx_spec_is_checked(tmp_path):
    images, labels = tmp_path / "images-idx3-ubyte", tmp_path / "labels-idx1-ubyte"
    images.write_bytes(b"i")
    labels.write_bytes(b"l")
    with pytest.raises(ConfigError, match=r"that is the data \(.*labels-idx1-ubyte\)"):
        refuse_input_as_output(labels, "-o", {"data": f"{images}, {labels}"})


def test_each_file_read_from_an_idx_directory_is_checked(tmp_path):
    """Only the directory itself was: -o mn/t10k-images-idx3-ubyte replaced the images just read."""
    folder = tmp_path / "mn"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels.idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(b"x")
        with pytest.raises(ConfigError, match=rf"that is the data \(.*{re.escape(name)}\)"):
            refuse_input_as_output(folder / name, "-o", {"data": str(folder)})
    (folder / "notes.txt").write_text("not read")
    refuse_input_as_output(folder / "notes.txt", "-o", {"data": str(folder)})


def test_a_new_file_the_idx_directory_would_read_is_refused(tmp_path):
    """It was written: nothing was overwritten, but the directory then read the CSV as its data and
    no longer loaded (a name preferred to the file read now, or a test file it lacked)."""
    folder = tmp_path / "mn"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "train-labels.idx1-ubyte"):
        (folder / name).write_bytes(b"x")
    (tmp_path / "link").symlink_to(folder)
    refused = {"train-images-idx3-ubyte": r"its training images \(in place of train-images-idx3-ubyte\.gz\)",
               "train-labels-idx1-ubyte.gz": r"its training labels \(in place of train-labels\.idx1-ubyte\)",
               "t10k-images-idx3-ubyte": r"its test images \(it has none now\)",
               "t10k-labels.idx1-ubyte.gz": r"its test labels \(it has none now\)"}
    for name, reads in refused.items():
        for output in (folder / name, tmp_path / "link" / name):
            with pytest.raises(ConfigError, match=rf"^-o {re.escape(str(output))}: the data, the IDX directory "
                                                  rf"{re.escape(str(folder))}, would read a file of that name as "
                                                  rf"{reads}, and no longer load; write to another file$"):
                refuse_input_as_output(output, "-o", {"data": str(folder)})
    for name in ("train-images.idx3-ubyte", "train-labels.idx1-ubyte.gz", "predictions.csv"):  # never read
        refuse_input_as_output(folder / name, "-o", {"data": str(folder)})
    refuse_input_as_output(tmp_path / "train-images-idx3-ubyte", "-o", {"data": str(folder)})  # another folder


def test_a_new_file_and_another_file_are_accepted(tmp_path):
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"weights")
    (tmp_path / "other.csv").write_text("x\n")
    refuse_input_as_output(tmp_path / "new.csv", "-o", {"model file": model})
    refuse_input_as_output(tmp_path / "other.csv", "-o", {"model file": model})


def test_a_builtin_data_name_is_never_a_file_even_beside_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iris").write_text("a file named as the built-in")
    refuse_input_as_output("iris", "-o", {"data": "iris"})
    with pytest.raises(ConfigError, match="that is the model file"):
        refuse_input_as_output("iris", "-o", {"model file": "iris"})
