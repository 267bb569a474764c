"""The size check of the network chainrule train is asked for, before it is built."""

import pytest

import chainrule as cr
from chainrule.cli import network_size


def test_the_parameter_count_is_that_of_cr_mlp():
    widths = [64, 128, 32, 10]
    assert network_size.parameter_count(widths) == cr.mlp(widths, seed=0).n_parameters
    assert network_size.network_size(widths, "float64") == "12,778 parameters (0.1 MB)"


def test_a_network_larger_than_the_memory_is_refused_naming_the_option(monkeypatch):
    monkeypatch.setattr(network_size, "physical_memory", lambda: 1_000_000)
    network_size.check_network_fits_memory([10, 100, 10], "float32", "--hidden")  # 2,210 parameters: fits
    with pytest.raises(cr.HyperparameterError, match=r"--hidden: the network \[10, 1000, 1000, 10\] has "
                                                      r"1,022,010 parameters \(4.1 MB\), more than this machine's 1 MB"):
        network_size.check_network_fits_memory([10, 1000, 1000, 10], "float32", "--hidden")


def test_without_a_known_memory_size_nothing_is_refused(monkeypatch):
    monkeypatch.setattr(network_size, "physical_memory", lambda: None)
    network_size.check_network_fits_memory([10, 10**6, 10**6, 10], "float64", "--hidden")
