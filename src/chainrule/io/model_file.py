"""Model files: one safetensors file holding the weights, the architecture and the rest.

Layout (one file, written atomically)::

    8 bytes        N, the header length (unsigned little-endian)      } the safetensors
    N bytes        JSON header: each tensor's dtype, shape, offsets,  } format, unchanged
                   and "__metadata__": {"chainrule": "<JSON text>"}   }
    the rest       the tensors' bytes, back to back

Tensors are named by path (``"0.W"``, ``"1.f.0.b"``), as in ``model.params``; a
checkpoint adds its own (``"optimizer.m"``). The ``"chainrule"`` metadata entry is one JSON
document::

    {"format": "chainrule-model", "format_version": 1,
     "architecture": {...},              # see chainrule.io.architecture
     "dtype": "float32",                 # of every parameter; null for a model without any
     "preprocessor": {...} or null,      # Preprocessor.to_json()
     "metadata": {...},                  # model.metadata, plus chainrule_version and dtype
     "extra_tensors": {"optimizer.m": {"dtype": "float32", "shape": [1234]}},
     "extra_json": {...},                # caller's own data (epoch, RNG state, ...)
     "sha256": "..."}                    # a checkpoint's alone: see chainrule.io.contents_digest

Loading never runs code: no pickle, no eval, no import of a name read from the file. It
trusts nothing in the file until checked: the header length against the file's size, the
header as JSON, the format name and version, the architecture (an allow-list of layer
types), then every tensor's name, dtype and shape against what the architecture implies,
all before a single weight is read; then every parameter is checked to be finite (as
:func:`save` refuses to write a NaN or Inf). Any failure is a :class:`ModelFileError` naming
the file and the problem.

Versions. ``format_version`` alone decides whether a file can be read: this chainrule reads
version ``FORMAT_VERSION`` and refuses any other, saying which way the difference goes (an
older format: load it with the chainrule that wrote it; a newer one: upgrade chainrule). The
chainrule release that wrote a file (``metadata.chainrule_version``) is informational: a
refusal of the file's contents (an unknown field, dtype, layer type or preprocessing value,
which a newer release may write) names it when it is not this chainrule's, and a file from a newer
release that loads gives a :class:`ModelFileWarning`, as scikit-learn's
``InconsistentVersionWarning`` does. A missing or unparsable release is not an error: the
file loads without a warning.
"""

from __future__ import annotations

import json

import numpy
import safetensors.numpy
from safetensors import SafetensorError

from .. import __version__
from ..backend import module_for, to_numpy
from ..checks import check_finite, is_json_count
from ..data.preprocessing import Preprocessor, check_preprocessor
from ..errors import DataError, HyperparameterError, ModelFileError, NonFiniteError, quoted
from ..layers import Layer
from ..layers.widths import input_width, output_width
from .architecture import from_config, parameter_shapes, to_config
from .atomic import atomic_write
from .contents_digest import FIELD as DIGEST_FIELD, contents_digest, is_digest
from .metadata import MAX_NESTING, check_metadata, json_problem
from .versions import chainrule_version, version_note, warn_if_newer
from .safetensors_file import (
    DTYPES, METADATA, PathLike, check_spans, finite_float, open_tensors, read_header, read_tensor, reject_constant,
    tensor_entries,
)

FORMAT = "chainrule-model"
FORMAT_VERSION = 1
METADATA_KEY = "chainrule"  # the entry of the safetensors "__metadata__" holding our JSON
WEIGHTS_FORMAT = "chainrule-weights"  # the metadata "format" of cr.save_weights's files (chainrule.io.weights)
FIELDS = ("format", "format_version", "architecture", "dtype", "preprocessor", "metadata",
          "extra_tensors", "extra_json")
SAFETENSORS_DTYPES = {"float32": "F32", "float64": "F64"}  # the dtypes a model's parameters may have
#: the dtypes an extra tensor may have (NumPy name -> safetensors name): those safetensors.numpy
#: writes and reads back; a header naming another (BF16, F8_E4M3...) is refused before loading
EXTRA_DTYPES = {name: code for code, name in DTYPES.items()}


def save(model: Layer, path: PathLike, *, extra_tensors: dict | None = None, extra_json: dict | None = None,
         seal: bool = False) -> None:
    """Write ``model`` (weights, architecture, preprocessor, metadata) to one file at ``path``.

    Parameters
    ----------
    model : Layer
        Built from chainrule's own layers, on any device: its parameters are copied to the
        CPU if needed, so a GPU model is saved byte for byte as its CPU copy would be.
    path : str or os.PathLike
        The file to write; an existing file is replaced only once the new one is complete.
    extra_tensors : dict of str to array, optional
        More arrays to store beside the weights (a checkpoint's optimizer state), under
        the caller's names, which must differ from the parameter names.
    extra_json : dict, optional
        JSON-ready data to store beside them (a checkpoint's epoch and RNG state), which
        :func:`read` gives back as it was given: as ``metadata``, a key that is not a string
        or a tuple anywhere in it is refused.
    seal : bool, default False
        Record the SHA-256 of the file's contents (the field ``sha256``), which :func:`read`
        checks: a checkpoint changed afterwards, by hand or by damage, is then refused
        (see :mod:`chainrule.io.contents_digest`).

    Raises
    ------
    HyperparameterError
        If ``model`` is not a Layer (the message says so when the arguments are swapped).
    ModelFileError
        Naming the file, if a layer, a name or a value cannot be stored, the file cannot be
        written, or :func:`load` would refuse the model: more than ``MAX_LAYERS`` layers or
        layers nested more than ``MAX_DEPTH`` deep (chainrule.io.architecture), a parameter
        holding NaN or Inf (a diverged model; the message names the parameter), or a
        preprocessor that is not a Preprocessor, whose ``n_features`` is not the network's
        input width, whose mean and scale are not one finite number per feature (each scale
        > 0), whose classes do not number its outputs (or 2 for a single output) or whose
        target standardization does not hold one mean and scale per output; or metadata that
        is not a dict or that JSON would not give back as it was: a key that is not a string (1
        would come back as '1'), a tuple (it would come back as a list) or dicts and lists
        nested more than ``MAX_NESTING`` (100) deep (chainrule.io.metadata), named by key path
        (``metadata['a'][1]``), NaN, Inf or a value JSON cannot hold (NumPy numbers and arrays
        are written as the numbers and lists they hold); or ``extra_tensors`` or ``extra_json``
        that is not a dict, or an ``extra_json`` holding a key that is not a string or a tuple
        (named alike: ``extra_json['runs'][0]``), NaN, Inf or a value JSON cannot hold, or dicts
        and lists nested more than ``MAX_NESTING`` deep. Extra tensors may hold NaN or Inf.

    Examples
    --------
    >>> import pathlib, tempfile, chainrule as cr
    >>> from chainrule.io import load, save
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.safetensors"
    >>> save(cr.Sequential(cr.Linear(4, 3), cr.ReLU(), seed=0), path)
    >>> sorted(load(path).params)
    ['0.W', '0.b']
    """
    if not isinstance(model, Layer):
        swapped = "; save takes the model first, then the path" if isinstance(path, Layer) else ""
        raise HyperparameterError(f"model: expected a chainrule Layer, got {type(model).__name__}{swapped}")
    architecture = check_savable(model, path)
    if model.preprocessor is not None:
        _check_preprocessor(model, path)
    tensors = {name: numpy.asarray(to_numpy(array), order="C") for name, array in model.params.items()}
    dtypes = sorted({array.dtype.name for array in tensors.values()})
    if len(dtypes) > 1 or (dtypes and dtypes[0] not in SAFETENSORS_DTYPES):
        listing = ", ".join(f"{name}: {array.dtype}" for name, array in tensors.items())
        raise ModelFileError(f"{path}: cannot save: parameters must all be float32 or all float64; got {listing}")
    refuse_to_save_non_finite(tensors, path)
    dtype = dtypes[0] if dtypes else None

    if extra_tensors is not None and not isinstance(extra_tensors, dict):
        raise ModelFileError(f"{path}: cannot save: extra_tensors must be a dict of arrays by name, "
                             f"got {type(extra_tensors).__name__}")
    extras = {}
    for name, array in (extra_tensors or {}).items():
        if not isinstance(name, str) or not name or name == METADATA:
            raise ModelFileError(f"{path}: cannot save: extra tensor name {quoted(name)} is not allowed")
        if name in tensors:
            raise ModelFileError(f"{path}: cannot save: extra tensor {name!r} has the name of a model parameter")
        extras[name] = numpy.asarray(to_numpy(array), order="C")
        if extras[name].dtype.name not in EXTRA_DTYPES:
            raise ModelFileError(
                f"{path}: cannot save: extra tensor {name!r} has dtype {extras[name].dtype}; "
                f"expected one of {', '.join(EXTRA_DTYPES)}"
            )
    if extra_json is not None and not isinstance(extra_json, dict):
        raise ModelFileError(f"{path}: cannot save: extra_json must be a dict, got {type(extra_json).__name__}")
    # as model.metadata: what JSON would give back changed (a key 1 as '1', a tuple as a list), and a
    # nesting deeper than MAX_NESTING, which the JSON encoder took or refused by the interpreter's stack
    problem = json_problem(extra_json or {}, "extra_json", max_nesting=MAX_NESTING)
    if problem is not None:
        raise ModelFileError(f"{path}: cannot save: {problem}")

    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": architecture,
        "dtype": dtype,
        "preprocessor": None if model.preprocessor is None else model.preprocessor.to_json(),
        "metadata": {**model.metadata, "chainrule_version": __version__, "dtype": dtype},
        "extra_tensors": {name: {"dtype": array.dtype.name, "shape": list(array.shape)} for name, array in extras.items()},
        "extra_json": extra_json or {},
    }
    try:
        text = json.dumps(document, allow_nan=False, default=_plain)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: cannot save: metadata, preprocessor or extra_json is not plain JSON ({error})") from None
    if seal:  # of the document as read() parses it back, NumPy numbers made plain
        document[DIGEST_FIELD] = contents_digest(json.loads(text), {**tensors, **extras})
        text = json.dumps(document, allow_nan=False, default=_plain)
    try:
        data = safetensors.numpy.save({**tensors, **extras}, metadata={METADATA_KEY: text})
    except (SafetensorError, TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: cannot save the tensors ({error})") from None
    atomic_write(path, data, error=ModelFileError)


def check_savable(model: Layer, path: PathLike) -> dict:
    """The architecture of ``model`` (:func:`to_config`), once what :func:`save` refuses before it
    reads a weight is known to hold: chainrule's own layers only, the nesting, number of layers,
    widths (each layer taking the width the layers before it give) and initializers :func:`load`
    takes, metadata that is a dict of plain JSON coming back as it was (string keys, no tuple,
    nested at most ``MAX_NESTING`` deep: chainrule.io.metadata; the preprocessor is checked
    apart). ModelFileError naming ``path``
    otherwise. ``cr.fit`` asks before it trains, for a checkpoint."""
    try:
        architecture = to_config(model)
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}") from None
    # What load checks is refused here, rather than written to a file that load refuses.
    try:
        parameter_shapes(architecture)  # nesting depth, number of layers, widths (and that they chain), initializers
    except ModelFileError as error:
        raise ModelFileError(f"{path}: cannot save: {error}") from None
    try:
        check_metadata(model.metadata)  # what JSON would give back changed: a key 1 as '1', a tuple as a list
    except ModelFileError as error:
        raise ModelFileError(f"{path}: cannot save: {error}") from None
    try:
        json.dumps(model.metadata, allow_nan=False, default=_plain)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: cannot save: metadata is not plain JSON ({error})") from None
    return architecture


def load(path: PathLike, *, device: str = "cpu") -> Layer:
    """The model stored at ``path`` by :func:`save`, with its preprocessor and metadata.

    A file does not record where its model was trained, so any model file loads on any
    machine. The weights are read once, straight into the model's parameters (no random
    initialization first), so loading needs about the size of the parameters in memory.

    Parameters
    ----------
    path : str or os.PathLike
        A model file (or checkpoint) written by :func:`save`.
    device : {"cpu", "cuda"}, default "cpu"
        Where the model's parameters are put.

    Returns
    -------
    Layer
        The model, its dtype (float32 or float64) the file's, with ``preprocessor`` and
        ``metadata`` as saved.

    Raises
    ------
    ModelFileError
        Naming the file and the problem, for a missing, truncated, tampered or foreign file,
        a parameter holding NaN or Inf, or a format version other than this chainrule's
        (see the module docstring).
    HyperparameterError
        Before the file is read, for an unknown device or "cuda" without CuPy.

    Warns
    -----
    ModelFileWarning
        When the file was written by a newer chainrule release than this one.

    Examples
    --------
    >>> import pathlib, tempfile, chainrule as cr
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.safetensors"
    >>> cr.save(cr.Sequential(cr.Linear(4, 3), cr.ReLU(), seed=0), path)
    >>> model = cr.load(path)
    >>> sorted(model.params), model.dtype.name
    (['0.W', '0.b'], 'float32')
    """
    module_for(device)
    return _read(path)[0].to(device)


def read(path: PathLike, *, what: str = "model file") -> tuple[Layer, dict[str, numpy.ndarray], dict]:
    """The model at ``path`` and what was saved beside it: ``(model, extra_tensors, extra_json)``.

    Used to resume training from a checkpoint. The model is on the CPU (see :func:`load`).

    Parameters
    ----------
    path : str or os.PathLike
        A model file (or checkpoint) written by :func:`save`.
    what : str
        What the file is, as the errors name it: "model file", or "checkpoint" for a training
        checkpoint (``not a chainrule checkpoint, or a damaged one: ...``).

    Returns
    -------
    model : Layer
        As :func:`load` gives it, on the CPU.
    extra_tensors : dict of str to numpy.ndarray
        The arrays given to :func:`save` as ``extra_tensors``, by the names given there.
    extra_json : dict
        The dict given to it as ``extra_json`` (empty if none was).

    Raises
    ------
    ModelFileError
        As :func:`load`.

    Warns
    -----
    ModelFileWarning
        As :func:`load`.

    Examples
    --------
    >>> import pathlib, tempfile, numpy as np, chainrule as cr
    >>> from chainrule.io import read, save
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "checkpoint.safetensors"
    >>> save(cr.Linear(4, 3, seed=0), path, extra_tensors={"step": np.arange(2)}, extra_json={"epoch": 5})
    >>> model, extra_tensors, extra_json = read(path)
    >>> extra_tensors["step"], extra_json
    (array([0, 1]), {'epoch': 5})
    """
    return _read(path, what)


def _read(path: PathLike, what: str = "model file") -> tuple[Layer, dict[str, numpy.ndarray], dict]:
    """:func:`read`, called by :func:`read` and :func:`load` alike, so that a ModelFileWarning
    points at the line that called either; ``what`` names the file in errors (see :func:`read`)."""
    header, body_size = read_header(path, what)
    document = chainrule_document(header, path, what)
    try:
        shapes = parameter_shapes(document["architecture"])
    except ModelFileError as error:
        raise ModelFileError(f"{path}: {error}{version_note(document['metadata'])}") from None
    _check_tensors(header, shapes, document, body_size, path, what)

    # The layers are made without a random draw (their zeros are never written) and take
    # the file's arrays as their parameters, once the preprocessor is checked too.
    model = from_config(document["architecture"], document["dtype"] or "float32", draw=False)
    if document["preprocessor"] is not None:
        try:
            model.preprocessor = Preprocessor.from_json(document["preprocessor"])
        except DataError as error:
            raise ModelFileError(f"{path}: {error}{version_note(document['metadata'])}") from None
        _check_preprocessor(model, path)
    # All checked: only now is a weight read.
    extras = _read_tensors(path, model, document["extra_tensors"], what)
    if DIGEST_FIELD in document and contents_digest(document, {**model.params, **extras}) != document[DIGEST_FIELD]:
        raise ModelFileError(f"{path}: its contents differ from the SHA-256 it recorded when chainrule wrote it "
                             f"(field {DIGEST_FIELD}): it was changed since, by hand or by damage; expected the file "
                             f"as written (resume from an unchanged checkpoint, or start the run afresh)")
    model.metadata = document["metadata"]
    warn_if_newer(document, path)
    return model, extras, document["extra_json"]


def refuse_to_save_non_finite(tensors: dict[str, numpy.ndarray], path: PathLike, doing: str = "save") -> None:
    """ModelFileError naming ``path`` and the parameter when one of ``tensors`` holds NaN or Inf.

    :func:`save` and ``cr.save_weights`` refuse to write a diverged model, as :func:`read` and
    ``cr.load_weights`` refuse to load one: its predictions would all be NaN.
    """
    for name, array in tensors.items():
        try:
            check_finite(array, f"parameter {name!r}")
        except NonFiniteError as error:
            raise ModelFileError(f"{path}: cannot {doing}: {error} (a diverged model?)") from None


def _read_tensors(path: PathLike, model: Layer, declared_extras: dict,
                  what: str = "model file") -> dict[str, numpy.ndarray]:
    """Put the file's weights into ``model`` and return its extra tensors, by name.

    Called once the header is checked. Each tensor is read once and checked to be finite; the
    model adopts those arrays rather than copying them.
    """
    with open_tensors(path, what) as file:
        for prefix, layer in model.walk():
            for name, array in list(layer.own_params.items()):
                tensor = read_tensor(file, prefix + name, array.dtype, array.shape, path)
                try:
                    check_finite(tensor, f"parameter {prefix + name!r}")
                except NonFiniteError as error:
                    raise ModelFileError(f"{path}: {error}; chainrule does not load a diverged model") from None
                # safetensors' arrays are writable and contiguous; require() copies only if not.
                layer.own_params[name] = numpy.require(tensor, requirements=["C", "A", "W"])
        return {name: read_tensor(file, name, numpy.dtype(declared["dtype"]), tuple(declared["shape"]), path)
                for name, declared in declared_extras.items()}


def chainrule_document(header: dict, path: PathLike, what: str = "model file") -> dict:
    """chainrule's JSON document from a safetensors header's metadata, checked field by field; ``what``
    ("model file", "checkpoint") names the file in errors."""
    metadata = header.get(METADATA)
    if isinstance(metadata, dict) and metadata.get("format") == WEIGHTS_FORMAT:
        raise ModelFileError(f"{path}: a weights file from cr.save_weights: it holds no architecture; "
                             f"build the model in code and call cr.load_weights(model, path)")
    if not isinstance(metadata, dict) or not isinstance(metadata.get(METADATA_KEY), str):
        raise ModelFileError(f"{path}: not a chainrule {what}: a safetensors file without chainrule's "
                             f"metadata (written by another program?)")
    try:
        document = json.loads(metadata[METADATA_KEY], parse_constant=reject_constant, parse_float=finite_float)
    except ValueError as error:
        raise ModelFileError(f"{path}: damaged chainrule metadata: not valid JSON ({error})") from None
    except RecursionError:  # valid JSON, perhaps, but nested past Python's recursion limit: no file chainrule writes
        raise ModelFileError(f"{path}: damaged chainrule metadata: its JSON nests dicts and lists deeper than "
                             f"Python's JSON reader goes (past its recursion limit); chainrule writes none so "
                             f"deep") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a chainrule {what}: its metadata has no format {FORMAT!r}")
    _check_format_version(document, path, what)
    try:
        _check_fields(document, path)
    except ModelFileError as error:
        raise ModelFileError(f"{error}{version_note(document.get('metadata'))}") from None
    return document


def _check_format_version(document: dict, path: PathLike, what: str = "model file") -> None:
    """ModelFileError unless the file's ``format_version`` is the one this chainrule reads, saying
    whether the file's format is older (written by which chainrule) or newer (upgrade chainrule)."""
    version = document.get("format_version")
    if type(version) is int and version == FORMAT_VERSION:
        return
    written = chainrule_version(document.get("metadata"))
    by = f"chainrule {quoted(written)}" if written is not None else "a chainrule that records no version"
    if type(version) is not int:
        raise ModelFileError(f"{path}: damaged chainrule metadata: format_version: expected an integer, "
                             f"got {quoted(version)} (the file was written by {by})")
    if version < FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: {what} format version {quoted(version)}, written by {by}: an older format that this "
            f"chainrule ({__version__}) cannot read (it reads version {FORMAT_VERSION}); load the file with "
            f"the chainrule that wrote it"
        )
    raise ModelFileError(
        f"{path}: {what} format version {quoted(version)}, written by {by}: a newer format than this "
        f"chainrule ({__version__}) reads (version {FORMAT_VERSION}); upgrade chainrule to load it"
    )


def _check_fields(document: dict, path: PathLike) -> None:
    """ModelFileError naming the field unless the document has exactly chainrule's fields, each of its type."""
    for field in FIELDS:
        if field not in document:
            raise ModelFileError(f"{path}: damaged chainrule metadata: missing field {field!r}")
    if DIGEST_FIELD in document and not is_digest(document[DIGEST_FIELD]):
        raise ModelFileError(f"{path}: {DIGEST_FIELD}: expected 64 lowercase hexadecimal digits (a SHA-256), "
                             f"got {quoted(document[DIGEST_FIELD], 80)}")
    for field in document:
        if field not in FIELDS and field != DIGEST_FIELD:
            raise ModelFileError(f"{path}: unexpected field {quoted(field)} in chainrule's metadata: "
                                 f"not one this chainrule ({__version__}) writes or reads")

    if document["dtype"] not in (*SAFETENSORS_DTYPES, None):
        raise ModelFileError(f"{path}: dtype: expected one of {', '.join(SAFETENSORS_DTYPES)}, "
                             f"got {quoted(document['dtype'])}")
    for field in ("metadata", "extra_tensors", "extra_json"):
        if not isinstance(document[field], dict):
            raise ModelFileError(f"{path}: {field}: expected a JSON object, got {quoted(document[field], 60)}")
    # What save refuses to write is refused when read: a file whose metadata or extra_json nests deeper than
    # MAX_NESTING (written by hand, or before the limit) would load and then not save again.
    for field in ("metadata", "extra_json"):
        problem = json_problem(document[field], field, max_nesting=MAX_NESTING)
        if problem is not None:
            raise ModelFileError(f"{path}: {problem}")
    if document["preprocessor"] is not None and not isinstance(document["preprocessor"], dict):
        raise ModelFileError(f"{path}: preprocessor: expected a JSON object or null")
    for name, declared in document["extra_tensors"].items():
        if (not isinstance(declared, dict) or set(declared) != {"dtype", "shape"} or not isinstance(declared["dtype"], str)
                or not isinstance(declared["shape"], list)
                or not all(is_json_count(n) for n in declared["shape"])):
            raise ModelFileError(f"{path}: extra_tensors.{name}: expected {{\"dtype\": str, \"shape\": [int >= 0, ...]}}, "
                                 f"got {quoted(declared, 60)}")


def _check_tensors(header: dict, shapes: dict, document: dict, body_size: int, path: PathLike,
                   what: str = "model file") -> None:
    """Every tensor in the header is one the architecture implies or a declared extra, with
    the model's dtype and the architecture's shape; none is missing, each one's data_offsets
    span exactly the bytes its dtype and shape need, and all fit the file. So nothing is
    allocated for a tensor whose bytes are not in the file."""
    present = tensor_entries(header, path)
    extras = document["extra_tensors"]
    if shapes and document["dtype"] is None:
        raise ModelFileError(f"{path}: dtype: null, but the architecture has parameters")
    for name in [*shapes, *extras]:
        if name not in present:
            raise ModelFileError(f"{path}: missing tensor {name!r} (the architecture or header needs it; the file has none)")
    for name in present:
        if name not in shapes and name not in extras:
            raise ModelFileError(f"{path}: unexpected tensor {quoted(name)}: not a parameter of the architecture")
    for name in extras:  # one tensor cannot be both: save refuses such a name too
        if name in shapes:
            raise ModelFileError(f"{path}: extra_tensors: {name!r} has the name of a model parameter; "
                                 f"an extra tensor needs a name of its own")
    for name, declared in extras.items():
        entry = present[name]
        if declared["dtype"] not in EXTRA_DTYPES:
            raise ModelFileError(
                f"{path}: extra_tensors.{name}: dtype {declared['dtype']!r} is not one chainrule writes "
                f"({', '.join(EXTRA_DTYPES)})"
            )
        if entry.get("dtype") != EXTRA_DTYPES[declared["dtype"]] or entry.get("shape") != declared["shape"]:
            raise ModelFileError(
                f"{path}: tensor {name!r} has dtype {quoted(entry.get('dtype'), 20)} "
                f"and shape {quoted(entry.get('shape'), 60)} "
                f"in the header; the metadata declares dtype {declared['dtype']} "
                f"({EXTRA_DTYPES[declared['dtype']]}) and shape {quoted(declared['shape'], 60)}"
            )
    for name, shape in shapes.items():
        entry = present[name]
        expected = SAFETENSORS_DTYPES[document["dtype"]]
        if entry.get("dtype") != expected:
            raise ModelFileError(
                f"{path}: tensor {name!r} has dtype {quoted(entry.get('dtype'), 20)}, expected {expected!r} "
                f"(the model's dtype, {document['dtype']})"
            )
        if entry.get("shape") != list(shape):
            raise ModelFileError(
                f"{path}: tensor {name!r} has shape {quoted(entry.get('shape'), 60)}, expected {list(shape)} from the "
                f"architecture"
            )
    check_spans(present, body_size, path, what)


def _check_preprocessor(model: Layer, path: PathLike) -> None:
    """ModelFileError naming ``path`` and ``preprocessor.<field>`` unless ``model.preprocessor``
    fits the network (``data.preprocessing.check_preprocessor``): as many features as its first
    Linear layer takes, one class per output (or two for a single output: a binary
    classifier's one logistic output), one target mean and scale per output, and a mean and
    scale of one finite number per feature (each scale > 0). Otherwise predictions would fail,
    or name classes that are not the outputs', with a message naming neither the file nor the
    field (or load would refuse the file that save wrote)."""
    try:
        # The network's own widths: the preprocessor is not asked.
        check_preprocessor(model.preprocessor, input_width(model), output_width(model), "preprocessor",
                           remembered=False)  # every field: one changed in place since predict checked it too
    except DataError as error:
        raise ModelFileError(f"{path}: {error}") from None


def _plain(value):
    """json.dumps hook: NumPy scalars and arrays (a training summary's numbers) as plain JSON."""
    if isinstance(value, numpy.generic):
        return value.item()
    if isinstance(value, numpy.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} {quoted(value, 60)} is not JSON-serializable")
