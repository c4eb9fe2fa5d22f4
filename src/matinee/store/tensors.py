"""Read a safetensors file's arrays as views of its bytes, without a copy.

``safetensors.numpy.load`` copies every tensor into a new bytes object while it holds the GIL:
for a 380 MB EASE model a copy of that size, during which no other thread of the process runs
(a server's event loop stalls while a replacement model loads). The format is a little-endian
u64 header length, a JSON header naming each tensor's dtype, shape and byte range, then the
data; this reader checks it as strictly as the library does (known dtypes, ranges that tile
the data exactly, sizes that fit the shapes) and returns arrays over the bytes (writable when
the buffer is, as a loaded model's is).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["TensorFormatError", "tensor_views"]

DTYPES = {
    "BOOL": np.bool_,
    "U8": np.uint8,
    "I8": np.int8,
    "U16": np.uint16,
    "I16": np.int16,
    "F16": np.float16,
    "U32": np.uint32,
    "I32": np.int32,
    "F32": np.float32,
    "U64": np.uint64,
    "I64": np.int64,
    "F64": np.float64,
}
"""The safetensors dtypes numpy has (all little-endian)."""

MAX_HEADER_BYTES = 100_000_000
"""The library's own cap on the JSON header."""


class TensorFormatError(ValueError):
    """The bytes are not a well-formed safetensors file; the message says why."""


def tensor_views(data: bytes | bytearray | memoryview) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file, as a read-only array over ``data``.

    Raises:
        TensorFormatError: a short or oversized header, bad JSON, an unknown dtype, or byte
            ranges that overlap, leave holes or do not fit the shape.
    """
    if len(data) < 8:
        raise TensorFormatError("the file is shorter than its 8-byte header length")
    size = int.from_bytes(data[:8], "little")
    if size > MAX_HEADER_BYTES or 8 + size > len(data):
        raise TensorFormatError(f"header length {size} does not fit the file")
    try:
        header = json.loads(bytes(data[8 : 8 + size]))
    except (UnicodeDecodeError, ValueError) as error:
        raise TensorFormatError(f"the header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise TensorFormatError("the header is not a JSON object")
    header.pop("__metadata__", None)
    entries = sorted(
        (_entry(name, spec) for name, spec in header.items()), key=lambda e: (e[3], e[4])
    )
    end = 0
    for name, _, _, start, stop in entries:
        if start != end:
            raise TensorFormatError(f"tensor {name!r} does not start where the last one ended")
        end = stop
    if 8 + size + end != len(data):
        raise TensorFormatError("the tensors do not cover the data exactly")
    buffer = memoryview(data)[8 + size :]
    return {
        name: _view(buffer, dtype, shape, start, stop)
        for name, dtype, shape, start, stop in entries
    }


def _entry(name: str, spec: Any) -> tuple[str, np.dtype[Any], tuple[int, ...], int, int]:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data_offsets"}:
        raise TensorFormatError(f"tensor {name!r} is not {{dtype, shape, data_offsets}}")
    dtype, shape, offsets = spec["dtype"], spec["shape"], spec["data_offsets"]
    if dtype not in DTYPES:
        raise TensorFormatError(f"tensor {name!r} has an unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(_whole(d) for d in shape):
        raise TensorFormatError(f"tensor {name!r} has a bad shape {shape!r}")
    if not isinstance(offsets, list) or len(offsets) != 2 or not all(_whole(o) for o in offsets):
        raise TensorFormatError(f"tensor {name!r} has bad data_offsets {offsets!r}")
    kind = np.dtype(DTYPES[dtype]).newbyteorder("<")
    start, stop = offsets
    if stop - start != math.prod(shape) * kind.itemsize:
        raise TensorFormatError(f"tensor {name!r}: its byte range does not fit its shape")
    return name, kind, tuple(shape), start, stop


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _view(
    buffer: memoryview, dtype: np.dtype[Any], shape: tuple[int, ...], start: int, stop: int
) -> np.ndarray:
    array = np.frombuffer(buffer[start:stop], dtype=dtype).reshape(shape)
    if not array.flags.aligned:  # a tensor after an odd-sized one: copy it into alignment
        array = array.copy()
    return array
