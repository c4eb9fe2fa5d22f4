"""tensor_views: the arrays safetensors.numpy.load gives, as views, and its refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load, save

from matinee.store.tensors import TensorFormatError, tensor_views

ARRAYS = {
    "weights": np.random.default_rng(0).random((30, 7)).astype(np.float32),
    "ids": np.arange(5, dtype=np.int64),
    "flags": np.array([True, False]),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "small": np.arange(3, dtype=np.uint8),
    "half": np.ones(3, dtype=np.float16),
    "wide": np.linspace(0, 1, 4),
}


def test_views_equal_the_library_and_copy_nothing() -> None:
    data = save(ARRAYS, metadata={"format": "matinee"})
    views, expected = tensor_views(memoryview(bytearray(data))), load(data)
    assert set(views) == set(expected)
    for name, array in expected.items():
        view = views[name]
        assert (view.dtype, view.shape) == (array.dtype, array.shape)
        np.testing.assert_array_equal(view, array)
        assert view.flags.aligned and view.flags.writeable  # as the library's arrays
    assert views["weights"].base is not None  # a view of the buffer, not a copy


def _file(header: dict[str, object], body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + body


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"\x01\x02", "shorter"),
        ((10**9).to_bytes(8, "little") + b"{}", "header length"),
        ((2).to_bytes(8, "little") + b"{x", "not JSON"),
        (_file([], b""), "not a JSON object"),  # type: ignore[arg-type]
        (_file({"a": {"dtype": "Q9", "shape": [1], "data_offsets": [0, 4]}}, b"0000"), "dtype"),
        (_file({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"0000"), "shape"),
        (_file({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"0000"), "fit"),
        (_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"0" * 8), "start"),
        (_file({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"0" * 8), "cover"),
        (_file({"a": {"dtype": "F32", "shape": [1]}}, b"0000"), "data_offsets"),
    ],
)
def test_malformed_files_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(TensorFormatError, match=why):
        tensor_views(data)
