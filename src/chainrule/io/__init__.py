"""Reading and writing files: model files (safetensors + JSON) and atomic writes."""

from .architecture import from_config, to_config
from .atomic import atomic_open, atomic_write
from .model_file import load, read, save

__all__ = ["atomic_open", "atomic_write", "from_config", "load", "read", "save", "to_config"]
