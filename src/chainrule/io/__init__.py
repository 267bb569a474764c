"""Reading and writing files: model files (safetensors + JSON), weights files and atomic writes."""

from .architecture import from_config, to_config
from .atomic import atomic_open, atomic_write
from .model_file import load, read, save
from .weights import load_weights, save_weights

__all__ = ["atomic_open", "atomic_write", "from_config", "load", "load_weights", "read", "save", "save_weights",
           "to_config"]
