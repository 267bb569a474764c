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
are ignored), and out of a safetensors file that another program wrote with the model's
parameter names and shapes (``safetensors.numpy.save_file(dict(model.params), path)``). It
never runs code and trusts nothing in the file until checked: the header length against
the file's size, the header as JSON, the format, then every tensor's name, dtype, shape and
byte range against the model, all before a weight is read; the values are then checked to
be finite before any is written. A failure is a :class:`ModelFileError` naming the file and
the problem, and leaves the model as it was.
"""

from __future__ import annotations

import re
import warnings

import numpy
import safetensors.numpy
from safetensors import SafetensorError

from .. import __version__
from ..backend import get_array_module, to_numpy
from ..checks import check_finite_as, listing
from ..errors import ChainruleWarning, HyperparameterError, ModelFileError, NonFiniteError, quoted
from ..layers import Layer
from .atomic import atomic_write, check_path
from .model_file import METADATA_KEY, SAFETENSORS_DTYPES, WEIGHTS_FORMAT, chainrule_document, refuse_to_save_non_finite
from .safetensors_file import METADATA, PathLike, check_spans, open_tensors, read_header, read_tensor, tensor_entries

FORMAT = WEIGHTS_FORMAT
FORMAT_VERSION = "1"  # a string: safetensors metadata holds only strings
WHAT = "weights file"  # what error messages call the file being read
#: safetensors dtype name -> the NumPy dtype a parameter tensor may have
PARAMETER_DTYPES = {code: numpy.dtype(name) for name, code in SAFETENSORS_DTYPES.items()}


def save_weights(model: Layer, path: PathLike) -> None:
    """Write the parameters of ``model`` (custom layers included) to a safetensors file at ``path``.

    Only the weights are stored, not the architecture: load them into a model built the same
    way with :func:`load_weights`.

    Parameters
    ----------
    model : Layer
        Any chainrule Layer, custom layers included, on any device: a model on the GPU is
        copied to the CPU first.
    path : str or os.PathLike
        The file to write, atomically: an existing file is replaced only once the new one
        is complete.

    Raises
    ------
    HyperparameterError
        If ``model`` is not a chainrule Layer (or holds a layer not set up by
        ``Layer.__init__``) or ``path`` is not a str or os.PathLike.
    ModelFileError
        Before anything is written, if the parameters are not all float32 or all float64,
        if one holds NaN or Inf (a diverged model), or if one is named ``"__metadata__"`` (a
        name the safetensors format keeps for itself); also if the file cannot be written.

    Examples
    --------
    >>> import pathlib, tempfile, chainrule as cr
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.safetensors"
    >>> cr.save_weights(cr.Sequential(cr.Linear(4, 3), cr.ReLU(), seed=0), path)
    >>> model = cr.load_weights(cr.Sequential(cr.Linear(4, 3), cr.ReLU()), path)
    """
    check_path(path)
    _check_model(model)
    tensors = {name: numpy.asarray(to_numpy(array), order="C") for name, array in model.params.items()}
    if METADATA in tensors:
        raise ModelFileError(f"{path}: cannot save: the model's parameter {METADATA!r} has the name safetensors "
                             f"keeps for the file's metadata; rename that parameter of the layer")
    dtypes = sorted({array.dtype.name for array in tensors.values()})
    if len(dtypes) > 1 or (dtypes and dtypes[0] not in SAFETENSORS_DTYPES):
        found = ", ".join(f"{name}: {array.dtype}" for name, array in tensors.items())
        raise ModelFileError(f"{path}: cannot save: parameters must all be float32 or all float64; got {found}")
    refuse_to_save_non_finite(tensors, path)
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "dtype": dtypes[0] if dtypes else "none"}
    try:
        data = safetensors.numpy.save(tensors, metadata=metadata)
    except (SafetensorError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: cannot save the tensors ({error})") from None
    atomic_write(path, data, error=ModelFileError)


def load_weights(model: Layer, path: PathLike) -> Layer:
    """Write the weights stored at ``path`` into ``model``'s parameters, in place; returns ``model``.

    Parameters
    ----------
    model : Layer
        The network to load into, built as the one the weights came from.
    path : str or os.PathLike
        A file from :func:`save_weights`; a model file or checkpoint from
        :func:`chainrule.save` / ``cr.fit(..., checkpoint=...)``, whose extra tensors are
        ignored; or a safetensors file from another program holding the model's parameters
        under their chainrule names (its metadata, if any, is ignored).

    Returns
    -------
    Layer
        ``model`` itself, its parameters now the file's.

    Raises
    ------
    ModelFileError
        Naming the file and the problem (a missing, foreign or damaged file, the missing
        and the unexpected parameters, a shape, a dtype other than float32/float64, a NaN
        or Inf value); the model is left as it was.
    HyperparameterError
        If ``model`` is not a chainrule Layer (or holds a layer not set up by
        ``Layer.__init__``) or ``path`` is not a str or os.PathLike.

    Warns
    -----
    ChainruleWarning
        When the file's preprocessor is not loaded into a model that has none (see Notes).

    Notes
    -----
    As PyTorch's ``load_state_dict(strict=True)``, the file must hold exactly the model's
    parameters, by name, each of the model's shape. The model keeps its dtype and device:
    float64 weights loaded into a float32 model are rounded to float32 (and float32 into
    float64 widened exactly), as PyTorch's ``load_state_dict`` copies with a cast; a value
    that does not fit the model's dtype is refused. The parameters are written into the
    arrays the model holds, so its flat parameter buffer stays valid; gradients and any
    optimizer state are left alone. Everything is checked before anything is written.

    A PyTorch ``state_dict`` saved as safetensors has torch's names (``"0.weight"``) and
    layout: load it with ``cr.from_state_dict(safetensors.numpy.load_file(path), model)``
    instead.

    Only the weights are loaded: a model file's preprocessor (its standardization of the
    inputs and its class labels) is not. If the file has one and ``model`` has none, a
    :class:`~chainrule.errors.ChainruleWarning` says so (the model's ``preprocessor`` is
    left as it is); load a model file whole with :func:`chainrule.load` instead.

    Loading is strict (there is no ``strict=False``). To fine-tune with a new head, load
    into the architecture the weights came from, then build a new Sequential from its
    layers with a new last layer; the loaded layers keep their weights::

        model = cr.mlp([784, 128, 10], seed=0)                  # the saved architecture
        cr.load_weights(model, "pretrained.safetensors")
        model = cr.Sequential(*model.layers[:-1], cr.Linear(128, 5, seed=1))  # new 5-class head

    (no ``seed=`` for that Sequential: it would draw every weight afresh).

    Examples
    --------
    >>> import pathlib, tempfile, chainrule as cr
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "weights.safetensors"
    >>> trained = cr.Sequential(cr.Linear(4, 3), cr.ReLU(), seed=0)
    >>> cr.save_weights(trained, path)
    >>> model = cr.load_weights(cr.Sequential(cr.Linear(4, 3), cr.ReLU()), path)
    >>> bool((model.params["0.W"] == trained.params["0.W"]).all())
    True
    """
    _check_model(model)
    params = model.params
    header, body_size = read_header(path, WHAT)
    entries, document = _parameter_entries(header, path)
    _check_names(entries, params, path)
    _check_entries(entries, params, path)
    check_spans(entries, body_size, path, WHAT)
    values = _read_values(path, entries, params)
    # All checked: only now is the model changed. The assignment casts to the model's dtype.
    for name, value in values.items():
        params[name] = get_array_module(params[name]).asarray(value)
    if document is not None and document["preprocessor"] is not None and model.preprocessor is None:
        warnings.warn(f"{path}: the file's preprocessor (its standardization of the inputs and its class labels) "
                      f"is not loaded: load_weights reads the weights only, so the model takes unscaled inputs "
                      f"and cr.predict gives raw outputs; load a model file with cr.load(path)",
                      ChainruleWarning, stacklevel=2)
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


def _parameter_entries(header: dict, path: PathLike) -> tuple[dict, dict | None]:
    """The header entries of the file's parameter tensors, by name, and the file's chainrule
    document (None but for a model file). The entries are all of a weights file's or of a
    plain safetensors file's tensors, a model file's less the extra tensors its document declares."""
    metadata = header.get(METADATA)
    tensors = tensor_entries(header, path)
    if isinstance(metadata, dict) and metadata.get("format") == FORMAT:
        version = metadata.get("format_version")
        if version != FORMAT_VERSION:
            # Version "1" is the first: a greater number is a newer chainrule's, anything else damage.
            newer = (isinstance(version, str) and re.fullmatch("[0-9]{1,18}", version) is not None
                     and int(version) > int(FORMAT_VERSION))
            why = "a newer format: upgrade chainrule to load it" if newer else "not a version any chainrule writes"
            raise ModelFileError(f"{path}: weights file format version {quoted(version, 20)}; this chainrule "
                                 f"({__version__}) reads version {FORMAT_VERSION!r} ({why})")
        return tensors, None
    if isinstance(metadata, dict) and METADATA_KEY in metadata:
        document = chainrule_document(header, path)  # checks the format, version and extra_tensors
        return {name: entry for name, entry in tensors.items() if name not in document["extra_tensors"]}, document
    # Another program's safetensors file: its tensors are checked as a weights file's are.
    return tensors, None


def _check_names(entries: dict, params: dict, path: PathLike) -> None:
    """ModelFileError listing the model's parameters the file lacks and the file's tensors the model lacks."""
    missing = [name for name in params if name not in entries]
    unexpected = [name for name in entries if name not in params]
    problems = []
    if missing:
        problems.append(f"missing parameters (the model has them, the file does not): {listing(missing)}")
    if unexpected:
        problems.append(f"unexpected parameters (the file has them, the model does not): {listing(unexpected)}")
    if any(name.rsplit(".", 1)[-1] in ("weight", "bias") for name in unexpected):
        problems.append("the file's names look like PyTorch's: for a PyTorch state_dict use "
                        "cr.from_state_dict(safetensors.numpy.load_file(path), model)")
    if problems:
        raise ModelFileError(f"{path}: the weights do not fit the model: {'; '.join(problems)}")


def _check_entries(entries: dict, params: dict, path: PathLike) -> None:
    """Each parameter tensor has dtype F32 or F64 and the model's shape."""
    for name, entry in entries.items():
        if not isinstance(entry.get("dtype"), str) or entry["dtype"] not in PARAMETER_DTYPES:
            raise ModelFileError(f"{path}: parameter {name!r} has dtype {quoted(entry.get('dtype'), 20)} in the file; "
                                 f"expected one of {', '.join(PARAMETER_DTYPES)} (float32, float64)")
        expected = list(params[name].shape)
        if entry.get("shape") != expected:
            raise ModelFileError(f"{path}: parameter {name!r} has shape {quoted(entry.get('shape'), 60)} in the file; "
                                 f"the model's is {expected}")


def _read_values(path: PathLike, entries: dict, params: dict) -> dict[str, numpy.ndarray]:
    """The file's parameter tensors as NumPy arrays, each checked to be finite in the model's dtype."""
    values = {}
    with open_tensors(path, WHAT) as file:
        for name, entry in entries.items():
            values[name] = read_tensor(file, name, PARAMETER_DTYPES[entry["dtype"]], tuple(entry["shape"]), path)
            try:
                # Also refuses a finite float64 value too large for a float32 model.
                check_finite_as(values[name], params[name].dtype, f"parameter {name!r}")
            except NonFiniteError as error:
                raise ModelFileError(f"{path}: {error}") from None
    return values
