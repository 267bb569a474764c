"""chainrule: neural networks trained by backpropagation.

>>> import numpy as np, chainrule as cr
>>> model = cr.Sequential(cr.Linear(2, 8), cr.Tanh(), cr.Linear(8, 1), seed=0)
>>> value, dY = cr.MSE()(model(np.zeros((4, 2))), np.zeros(4))
>>> dX = model.backward(dY)
"""

__version__ = "0.1.0"

try:  # a Ctrl-C while the library loads ends `python -m chainrule` in one line (see _module_command)
    from . import errors, initializers
    from .errors import (
        ChainruleError, ChainruleWarning, ConfigError, DataError, DeviceError, DistributedError, DivergenceError,
        DTypeError, HyperparameterError, LabelError, MissingKeyError, ModelFileError, ModelFileWarning, NonFiniteError,
        OneHotTargetsWarning, OutputActivationWarning, ShapeError, StateError, TooLargeError,
    )
    from .gradcheck import GradcheckReport, gradcheck
    from .layers import (
        GELU, Identity, Layer, LeakyReLU, Linear, ReLU, Residual, Sequential, Sigmoid, Softmax, Tanh,
        activation_layer, mlp,
    )
    from .losses import MSE, BinaryCrossEntropy, Loss, SoftmaxCrossEntropy, get_loss
    from .optimizers import (
        SGD, Adam, AdamW, CosineDecay, ExponentialDecay, LinearWarmup, Optimizer, RMSProp, StepDecay,
        get_optimizer,
    )
    from .data import Dataset, Preprocessor, load_data
    from .io import load, load_weights, save, save_weights
    from .onnx_export import to_onnx
    from .torch_interchange import from_state_dict, to_state_dict
    from .training import Callback, Communicator, EarlyStopping, History, evaluate, fit, predict, predict_proba
except KeyboardInterrupt:
    from ._module_command import end_interrupted, started_as_command
    if not started_as_command():  # an import of the library: the Ctrl-C is its caller's
        raise
    end_interrupted()

# The public names (`from chainrule import *` binds these alone, not the subpackages: chainrule.io
# would hide the standard library's io).
__all__ = [
    # layers and networks
    "Layer", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "Softmax", "Identity", "Sequential", "Residual",
    "activation_layer", "mlp",
    # losses and optimizers
    "Loss", "MSE", "BinaryCrossEntropy", "SoftmaxCrossEntropy", "get_loss",
    "Optimizer", "SGD", "Adam", "AdamW", "RMSProp", "StepDecay", "ExponentialDecay", "CosineDecay", "LinearWarmup",
    "get_optimizer",
    # training, prediction, checking
    "fit", "evaluate", "predict", "predict_proba", "Callback", "EarlyStopping", "History", "Communicator",
    "gradcheck", "GradcheckReport",
    # data and files
    "Dataset", "Preprocessor", "load_data", "save", "load", "save_weights", "load_weights",
    "to_onnx", "to_state_dict", "from_state_dict",
    # modules of their own
    "errors", "initializers",
    # errors and warnings
    "ChainruleError", "ConfigError", "DataError", "DeviceError", "DistributedError", "DivergenceError", "DTypeError",
    "HyperparameterError", "LabelError", "MissingKeyError", "ModelFileError", "NonFiniteError", "ShapeError",
    "StateError", "TooLargeError",
    "ChainruleWarning", "ModelFileWarning", "OneHotTargetsWarning", "OutputActivationWarning",
]
