"""Training: the fit loop, its History and callbacks, checkpoints, and prediction."""

from .callbacks import Callback, EarlyStopping
from .distributed import Communicator
from .fit import fit
from .history import History
from .predict import evaluate, predict, predict_proba

__all__ = ["Callback", "Communicator", "EarlyStopping", "History", "evaluate", "fit", "predict", "predict_proba"]
