"""Weights files: a model's parameters alone, for models that a model file cannot describe.

A model file (:mod:`chainrule.io.model_file`) stores the architecture too, from an
allow-list of chainrule's own layers, so a model holding a Layer subclass of your own
cannot be saved there. A weights file stores only the parameters, as PyTorch's
``state_dict`` does; the network is rebuilt in code and the weights loaded into it::

    cr.save_weights(model, "w.safetensors")
    cr.load_weights(same_architecture, "w.safetensors")

The file is plain safetensors: one tensor per parameter, named by its path as in
``model.params`` (``"0.W"``, ``"1.f.0.b"``), and the header's metadata
``{"format": "chainrule-weights", "format_version": "1", "dtype": "float32"}`` (safetensors
metadata values are strings; dtype is "none" for a model without parameters).

:func:`load_weights` also reads the weights out of a model file or a checkpoint (its
parameter tensors have the same names; its extra tensors, such as the optimizer's state,
are ignored). It never runs code and trusts nothing in the file until checked: the header
length against the file's size, the header as JSON, the format, then every tensor's name,
dtype, shape and byte range against the model, all before a weight is read; the values are
then checked to be finite before any is written. A failure is a :class:`ModelFileError`
naming the file and the problem, and leaves the model as it was.
"""

from __future__ import annotations

import math

import numpy
import safetensors.numpy
from safetensors import SafetensorError

from ..backend import get_array_module, to_numpy
from ..checks import check_finite_as, listing
from ..errors import HyperparameterError, ModelFileError, NonFiniteError
from ..layers import Layer
from .atomic import atomic_write
from .model_file import (
    ITEMSIZES, METADATA_KEY, SAFETENSORS_DTYPES, PathLike, _chainrule_document, _open_tensors, _read_head,
    _safetensors_header, _tensor,
)

FORMAT = "chainrule-weights"
FORMAT_VERSION = "1"  # a string: safetensors metadata holds only strings
#: safetensors dtype name -> the NumPy dtype a parameter tensor may have
PARAMETER_DTYPES = {code: numpy.dtype(name) for name, code in SAFETENSORS_DTYPES.items()}


def save_weights(model: Layer, path: PathLike) -> None:
    """Write the parameters of ``model`` (custom layers included) to a safetensors file at ``path``.

    Only the weights are stored, not the architecture: load them into a model built the same
    way with :func:`load_weights`. A model on the GPU is copied to the CPU first. The file
    is written atomically: an existing file is replaced only once the new one is complete.

    Raises HyperparameterError if ``model`` is not a chainrule Layer, ModelFileError if its
    parameters are not all float32 or all float64, or the file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile, chainrule as cr
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.safetensors"
    >>> cr.save_weights(cr.Sequential(cr.Linear(4, 3), cr.ReLU(), seed=0), path)
    >>> model = cr.load_weights(cr.Sequential(cr.Linear(4, 3), cr.ReLU()), path)
    """
    _check_model(model)
    tensors = {name: numpy.asarray(to_numpy(array), order="C") for name, array in model.params.items()}
    dtypes = sorted({array.dtype.name for array in tensors.values()})
    if len(dtypes) > 1 or (dtypes and dtypes[0] not in SAFETENSORS_DTYPES):
        found = ", ".join(f"{name}: {array.dtype}" for name, array in tensors.items())
        raise ModelFileError(f"{path}: cannot save: parameters must all be float32 or all float64; got {found}")
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "dtype": dtypes[0] if dtypes else "none"}
    try:
        data = safetensors.numpy.save(tensors, metadata=metadata)
    except (SafetensorError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: cannot save the tensors ({error})") from None
    atomic_write(path, data, error=ModelFileError)


def load_weights(model: Layer, path: PathLike) -> Layer:
    """Write the weights stored at ``path`` into ``model``'s parameters, in place; returns ``model``.

    ``path`` is a file from :func:`save_weights`, or a model file or checkpoint from
    :func:`chainrule.save` / ``cr.fit(..., checkpoint=...)``, whose extra tensors are
    ignored. As PyTorch's ``load_state_dict(strict=True)``, the file must hold exactly the
    model's parameters, by name, each of the model's shape. The model keeps its dtype and
    device: float64 weights loaded into a float32 model are rounded to float32 (and float32
    into float64 widened exactly), as PyTorch's ``load_state_dict`` copies with a cast; a
    value that does not fit the model's dtype is refused. The parameters are written into
    the arrays the model holds, so its flat parameter buffer stays valid; gradients and any
    optimizer state are left alone.

    Everything is checked before anything is written: a ModelFileError names the file and
    the problem (a missing, foreign or damaged file, the missing and the unexpected
    parameters, a shape, a dtype other than float32/float64, a NaN or Inf value) and leaves
    the model as it was. HyperparameterError if ``model`` is not a chainrule Layer.
    """
    _check_model(model)
    params = model.params
    head, file_size = _read_head(path)
    header, body_size = _safetensors_header(head, file_size, path)
    entries = _parameter_entries(header, path)
    _check_names(entries, params, path)
    _check_entries(entries, params, body_size, path)
    values = _read_values(path, entries, params)
    # All checked: only now is the model changed. The assignment casts to the model's dtype.
    for name, value in values.items():
        params[name] = get_array_module(params[name]).asarray(value)
    return model


def _check_model(model) -> None:
    """HyperparameterError unless ``model`` is a Layer whose layers all hold ``own_params``
    (a custom layer whose ``__init__`` forgot ``super().__init__()`` has none)."""
    if not isinstance(model, Layer):
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}")
    for prefix, layer in model.walk():
        if not hasattr(layer, "own_params"):
            where = f"layer {prefix.rstrip('.')!r}" if prefix else "the model"
            raise HyperparameterError(f"model: {where} ({type(layer).__name__}) was not set up as a Layer: "
                                      f"its __init__ must call super().__init__() first")


def _parameter_entries(header: dict, path: PathLike) -> dict:
    """The header entries of the file's parameter tensors, by name: all of a weights file's,
    a model file's less the extra tensors its chainrule document declares."""
    metadata = header.get("__metadata__")
    tensors = {name: entry for name, entry in header.items() if name != "__metadata__"}
    if isinstance(metadata, dict) and metadata.get("format") == FORMAT:
        if metadata.get("format_version") != FORMAT_VERSION:
            version = metadata.get("format_version")
            raise ModelFileError(f"{path}: weights file format version {version!r:.20}; this chainrule reads "
                                 f"version {FORMAT_VERSION!r} (a newer chainrule may have written it)")
        return tensors
    if isinstance(metadata, dict) and METADATA_KEY in metadata:
        document = _chainrule_document(header, path)  # checks the format, version and extra_tensors
        return {name: entry for name, entry in tensors.items() if name not in document["extra_tensors"]}
    raise ModelFileError(f"{path}: not a chainrule weights or model file: a safetensors file without "
                         f"chainrule's metadata (written by another program?)")


def _check_names(entries: dict, params: dict, path: PathLike) -> None:
    """ModelFileError listing the model's parameters the file lacks and the file's tensors the model lacks."""
    missing = [name for name in params if name not in entries]
    unexpected = [name for name in entries if name not in params]
    problems = []
    if missing:
        problems.append(f"missing parameters (the model has them, the file does not): {listing(missing)}")
    if unexpected:
        problems.append(f"unexpected parameters (the file has them, the model does not): {listing(unexpected)}")
    if problems:
        raise ModelFileError(f"{path}: the weights do not fit the model: {'; '.join(problems)}")


def _check_entries(entries: dict, params: dict, body_size: int, path: PathLike) -> None:
    """Each parameter tensor has dtype F32 or F64, the model's shape, and data_offsets spanning
    exactly its bytes inside the file; so nothing is allocated for bytes the file lacks."""
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            raise ModelFileError(f"{path}: tensor {name!r}: damaged header entry")
        if entry.get("dtype") not in PARAMETER_DTYPES:
            raise ModelFileError(f"{path}: parameter {name!r} has dtype {entry.get('dtype')!r:.20} in the file; "
                                 f"expected one of {', '.join(PARAMETER_DTYPES)} (float32, float64)")
        expected = list(params[name].shape)
        if entry.get("shape") != expected:
            raise ModelFileError(f"{path}: parameter {name!r} has shape {entry.get('shape')!r:.60} in the file; "
                                 f"the model's is {expected}")
        offsets = entry.get("data_offsets")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(offset) is int for offset in offsets)
                and 0 <= offsets[0] <= offsets[1]):
            raise ModelFileError(f"{path}: tensor {name!r}: data_offsets {offsets!r:.60}: "
                                 f"expected [begin, end], 0 <= begin <= end")
        size = math.prod(expected) * ITEMSIZES[entry["dtype"]]
        if offsets[1] - offsets[0] != size:
            raise ModelFileError(f"{path}: tensor {name!r}: its data_offsets {offsets} span {offsets[1] - offsets[0]} "
                                 f"bytes; its dtype {entry['dtype']} and shape {expected} need {size}")
        if offsets[1] > body_size:
            raise ModelFileError(f"{path}: truncated file: tensor {name!r} needs bytes up to {offsets[1]} after "
                                 f"the header, only {body_size} are there")


def _read_values(path: PathLike, entries: dict, params: dict) -> dict[str, numpy.ndarray]:
    """The file's parameter tensors as NumPy arrays, each checked to be finite in the model's dtype."""
    values = {}
    try:
        with _open_tensors(path) as file:
            for name, entry in entries.items():
                values[name] = _tensor(file, name, PARAMETER_DTYPES[entry["dtype"]], tuple(entry["shape"]), path)
                # Also refuses a finite float64 value too large for a float32 model.
                check_finite_as(values[name], params[name].dtype, f"parameter {name!r}")
    except ModelFileError:
        raise
    except NonFiniteError as error:
        raise ModelFileError(f"{path}: {error}") from None
    except (SafetensorError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: damaged tensor data ({error})") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the weights file ({error.strerror or error})") from None
    return values
