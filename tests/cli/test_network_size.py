"""The size check of the network chainrule train is asked for, before it is built."""

import os

import pytest

import chainrule as cr
from chainrule.cli import network_size


def test_the_parameter_count_is_that_of_cr_mlp():
    widths = [64, 128, 32, 10]
    assert network_size.parameter_count(widths) == cr.mlp(widths, seed=0).n_parameters
    assert network_size.network_size(widths, "float64") == "12,778 parameters (0.1 MB)"


def test_a_network_whose_training_needs_more_than_the_memory_is_refused_naming_the_option(monkeypatch):
    """The parameters alone were counted: a network of 7 GB on a machine of 25 GB passed, and
    training it with Adam (θ, ∂L/∂θ, m, v and a work vector: 36 GB) was killed by the system."""
    monkeypatch.setattr(network_size, "available_memory", lambda: 10_000_000)
    adam, sgd = network_size.training_vectors("adam", 0.0), network_size.training_vectors("sgd", 1e-4)
    network_size.check_network_fits_memory([10, 100, 10], "float32", "--hidden", adam, "training it with adam")
    # 1,022,010 float32 parameters: 4.1 MB alone, 20 MB with Adam's vectors or with SGD's and weight decay,
    # 28 MB with the float64 draw of the 1000x1000 layer
    with pytest.raises(cr.HyperparameterError, match=r"^--hidden: the network \[10, 1000, 1000, 10\] has "
                                                      r"1,022,010 parameters \(4.1 MB\); training it with adam "
                                                      r"holds 5 vectors of that size, and its largest layer is drawn "
                                                      r"in float64 first \(28 MB\), more than 90% of the 10 MB"):
        network_size.check_network_fits_memory([10, 1000, 1000, 10], "float32", "--hidden", adam,
                                               "training it with adam")
    with pytest.raises(cr.HyperparameterError, match=r"with sgd holds 5 vectors of that size, .* \(28 MB\)"):
        network_size.check_network_fits_memory([10, 1000, 1000, 10], "float32", "--hidden", sgd,
                                               "training it with sgd")
    monkeypatch.setattr(network_size, "available_memory", lambda: 27_000_000)  # 24.4 MB: 90 % of it is 24.3
    with pytest.raises(cr.HyperparameterError, match=r"\(24 MB\), more than 90% of the 27 MB"):
        network_size.check_network_fits_memory([10, 1000, 1000, 10], "float32", "--hidden", 4, "training")
    # the draw counted: with 4 vectors alone (16.4 MB) a machine of 18.3 MB would have passed it, and was killed
    monkeypatch.setattr(network_size, "available_memory", lambda: 28_000_000)
    network_size.check_network_fits_memory([10, 1000, 1000, 10], "float32", "--hidden", 4, "training")  # 24.4 MB


@pytest.mark.parametrize("name", list(network_size.OPTIMIZER_VECTORS))
def test_the_vectors_counted_are_those_each_optimizer_holds(name):
    model = cr.mlp([4, 8, 3], seed=0)
    size = model.n_parameters
    for weight_decay in (0.1, 0.0):  # made as chainrule train makes it (SGD without momentum)
        optimizer = cr.optimizers.get_optimizer(name, model, lr=0.01, weight_decay=weight_decay)
        held = [array for array in (*optimizer.state.values(), optimizer._work, optimizer._work2, optimizer._decay)
                if array is not None]
        assert all(array.size == size for array in held)
        assert network_size.training_vectors(name, weight_decay) == 2 + len(held)  # θ and ∂L/∂θ besides


def test_the_memory_available_is_read_from_the_system():
    memory = network_size.available_memory()
    if os.path.exists("/proc/meminfo"):  # Linux: MemAvailable, in kB
        lines = dict(line.split(":", 1) for line in open("/proc/meminfo", encoding="ascii"))
        available = int(lines["MemAvailable"].split()[0]) * 1024
        assert memory is not None and abs(memory - available) < 0.1 * available  # read a moment apart
    assert memory is None or 0 < memory <= os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def test_without_a_known_memory_size_nothing_is_refused(monkeypatch):
    monkeypatch.setattr(network_size, "available_memory", lambda: None)
    network_size.check_network_fits_memory([10, 10**6, 10**6, 10], "float64", "--hidden", 5, "training it")
