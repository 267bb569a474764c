"""The architecture checksum the ranks of a distributed fit compare: frozen layers count."""

import chainrule as cr
from chainrule.training.fingerprint import architecture_checksum


def model():
    return cr.Sequential(cr.Linear(4, 8), cr.ReLU(), cr.Linear(8, 3), seed=0)


def test_freezing_changes_the_architecture_checksum():
    trainable, frozen_base, frozen_head = model(), model(), model()
    frozen_base[0].trainable = False
    frozen_head[2].trainable = False
    checksums = {architecture_checksum(m) for m in (trainable, frozen_base, frozen_head)}
    assert len(checksums) == 3


def test_with_nothing_frozen_the_checksum_is_what_it_was():
    # the value before layers could be frozen (chainrule at commit daf9889)
    assert architecture_checksum(model()) == 2127483465832132428


def test_unfreezing_restores_the_checksum():
    a = model()
    before = architecture_checksum(a)
    a[0].trainable = False
    a.trainable = True
    assert architecture_checksum(a) == before
