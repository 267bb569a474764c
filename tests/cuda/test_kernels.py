"""chainrule.cuda.kernels' choices made on the host, which need no GPU: which optimizer has a
fused kernel, and the scalars each kernel reads from the device vector ``hyper``."""

import pytest

import chainrule as cr
from chainrule.cuda import kernels


def model():
    return cr.mlp([3, 4, 2], seed=0)


class OwnRule(cr.SGD):
    def rule(self, theta, grad, lr, vectors):
        return super().rule(theta, grad, lr, vectors)


class OwnUpdate(cr.Adam):
    def update(self, theta, grad, lr):
        return super().update(theta, grad, lr)


class OwnPenalty(cr.RMSProp):
    def regularized(self, theta, grad, vectors):
        return grad


class OwnVectors(cr.SGD):
    def vectors(self):
        return super().vectors()


class Renamed(cr.AdamW):
    """A subclass that changes no code: still AdamW's kernel."""


@pytest.mark.parametrize("make, kind", [
    (lambda m: cr.SGD(m, momentum=0.9), "sgd"),
    (lambda m: cr.Adam(m), "adam"),
    (lambda m: cr.AdamW(m), "adam"),
    (lambda m: cr.RMSProp(m), "rmsprop"),
    (lambda m: Renamed(m), "adam"),
    (lambda m: OwnRule(m), None),
    (lambda m: OwnUpdate(m), None),
    (lambda m: OwnPenalty(m), None),
    (lambda m: OwnVectors(m), None),
    (lambda m: type("Plain", (cr.Optimizer,), {})(m, lr=0.1), None),
])
def test_only_code_the_kernels_reproduce_gets_a_fused_kernel(make, kind):
    assert kernels._fused_kind(make(model())) == kind


def own_on_the_instance(make, name):
    """An optimizer made by ``make`` whose method ``name`` is replaced on the instance (as a wrapper
    of its class's), which the CPU's step runs and a fused kernel would skip."""
    def made(model):
        optimizer = make(model)
        setattr(optimizer, name, getattr(optimizer, name))
        return optimizer
    return made


@pytest.mark.parametrize("name", ["regularized", "rule", "update", "vectors"])
@pytest.mark.parametrize("make", [lambda m: cr.SGD(m, momentum=0.9), lambda m: cr.AdamW(m), lambda m: cr.RMSProp(m)])
def test_a_method_of_ones_own_set_on_the_instance_gets_no_fused_kernel(make, name):
    optimizer = own_on_the_instance(make, name)(model())
    assert kernels._fused_kind(optimizer) is None
    assert kernels.fused_update(optimizer, optimizer.model.flat_parameters(), []) is None
    assert kernels._fused_kind(make(model())) is not None  # its class's code alone: the kernel


def test_an_optimizer_without_a_fused_step_is_named_by_what_it_was_given():
    # graph=True's DeviceError names it: "SGD has no fused step" read wrong for an SGD given its own rule.
    assert kernels.unfused_name(OwnRule(model())) == "OwnRule"
    given = own_on_the_instance(lambda m: cr.SGD(m, momentum=0.9), "rule")(model())
    given.update = given.update
    assert kernels.unfused_name(given) == "SGD with its own rule and update set on the instance"


def test_the_scalars_are_the_optimizers_current_values():
    adam = cr.Adam(model(), beta1=0.8, beta2=0.99, eps=1e-6)
    assert kernels.scalars(adam) == (0.8, 0.99, 1e-6)
    sgd = cr.SGD(model(), momentum=0.9, nesterov=True)
    sgd.momentum = 0.5
    assert kernels.scalars(sgd) == (0.5, 1.0, 0.0)
    assert kernels.scalars(cr.RMSProp(model(), rho=0.7, eps=1e-7)) == (0.7, 1e-7, 0.0)
    assert kernels.scalars(OwnRule(model())) == (0.0, 0.0, 0.0)
