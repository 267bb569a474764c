"""benchmarks.csv_load: a tiny run times every contender on the file it writes."""

import numpy

from benchmarks import csv_load
from chainrule.data.csv_file import load_csv


def test_the_written_file_is_what_load_csv_reads(tmp_path):
    path = tmp_path / "pixels.csv"
    csv_load.write_csv(path, 6, 4)
    data = load_csv(path)
    assert data.X_train.shape == (6, 4) and data.feature_names == ["p0", "p1", "p2", "p3"]
    assert numpy.array_equal(data.X_train, numpy.loadtxt(path, delimiter=",", skiprows=1)[:, :4])


def test_a_tiny_run_prints_every_contender(capsys):
    seconds = csv_load.main(["--rows", "5", "--features", "3", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "chainrule load_csv" in seconds and "numpy.loadtxt" in seconds
    assert all(name in out for name in seconds) and "5 x 4 integer CSV" in out
