"""The one packer of sparse matrices into named arrays, for saving them with a model's weights."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

__all__ = ["pack_csr", "unpack_csr"]


def pack_csr(matrix: sp.csr_matrix, prefix: str, *, values: str = "data") -> dict[str, np.ndarray]:
    """The arrays of a CSR matrix: ``prefix_indptr``, ``prefix_indices`` and ``prefix_<values>``.

    ``values`` names the data array (the neural models' saved format calls it ``values``).
    """
    return {
        f"{prefix}_indptr": np.asarray(matrix.indptr, dtype=np.int64),
        f"{prefix}_indices": np.asarray(matrix.indices, dtype=np.int32),
        f"{prefix}_{values}": np.asarray(matrix.data, dtype=np.float32),
    }


def unpack_csr(
    params: Mapping[str, np.ndarray], prefix: str, shape: tuple[int, int], *, values: str = "data"
) -> sp.csr_matrix:
    """Rebuild a CSR matrix packed by :func:`pack_csr`, checking that it is well formed.

    Raises:
        KeyError: an array is missing.
        ValueError: arrays that do not form a CSR matrix of ``shape``.
    """
    indptr = np.asarray(params[f"{prefix}_indptr"], dtype=np.int64)
    indices = np.asarray(params[f"{prefix}_indices"], dtype=np.int32)
    data = np.asarray(params[f"{prefix}_{values}"], dtype=np.float32)
    if indptr.shape != (shape[0] + 1,) or indices.ndim != 1 or indices.shape != data.shape:
        raise ValueError(f"{prefix}: CSR arrays do not fit {shape[0]} rows x {shape[1]} columns")
    if indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
        raise ValueError(f"{prefix}: CSR row pointers are inconsistent")
    if indices.size and (indices.min() < 0 or indices.max() >= shape[1]):
        raise ValueError(f"{prefix}: CSR column indices outside {shape[1]} columns")
    matrix = sp.csr_matrix((data, indices, indptr), shape=shape)
    matrix.sort_indices()
    return matrix
