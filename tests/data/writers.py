"""Writers of small data files for the data tests (IDX has no writer in NumPy)."""

import gzip

import numpy

IDX_CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}


def idx_bytes(array) -> bytes:
    """``array`` in the IDX format: magic number, big-endian sizes, big-endian values."""
    array = numpy.asarray(array)
    header = bytes([0, 0, IDX_CODES[array.dtype.name], array.ndim])
    sizes = b"".join(int(size).to_bytes(4, "big") for size in array.shape)
    return header + sizes + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, *, compress: bool = False):
    """Write ``array`` as an IDX file at ``path`` (gzip-compressed if ``compress``); return path."""
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def mnist_like(n_images: int = 12, seed: int = 0):
    """Images (n, 4, 3) of uint8 and labels (n,) cycling through 0, 1, 2."""
    images = numpy.random.default_rng(seed).integers(0, 256, size=(n_images, 4, 3), dtype=numpy.uint8)
    labels = (numpy.arange(n_images) % 3).astype(numpy.uint8)
    return images, labels
