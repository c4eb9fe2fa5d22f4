"""Numba kernels of implicit ALS: conjugate-gradient row updates and the full objective.

Both follow Hu, Koren and Volinsky (2008) with confidence ``c = 1 + alpha`` on observed cells and
1 elsewhere, and the preference 1 on observed cells and 0 elsewhere. The unobserved part is
folded into the Gram matrix ``G = Y^T Y + lambda I`` so that each row costs ``O(nnz k + k^2)``,
as in Takacs et al. (2011) and the ``implicit`` library.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

import matinee._openmp  # noqa: F401  (GOMP_SPINCOUNT, read when numba's OpenMP loads)

__all__ = ["conjugate_gradient_rows", "implicit_loss"]

_TOLERANCE = 1e-10


@numba.njit(parallel=True, nogil=True, cache=True)
def conjugate_gradient_rows(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    confidence: npt.NDArray[np.float32],
    fixed: npt.NDArray[np.float32],
    gram: npt.NDArray[np.float32],
    solved: npt.NDArray[np.float32],
    steps: int,
) -> None:
    """Refine every row of ``solved`` in place with ``steps`` conjugate-gradient steps.

    Row ``u`` solves ``(G + sum_i (c_ui - 1) y_i y_i^T) x_u = sum_i c_ui y_i`` where ``i`` runs
    over the columns stored in CSR row ``u`` and ``y_i`` is row ``i`` of ``fixed``.
    """
    for row in numba.prange(indptr.size - 1):
        start, stop = indptr[row], indptr[row + 1]
        x = solved[row]
        if start == stop:
            x[:] = 0.0
            continue
        residual = -(gram @ x)
        for position in range(start, stop):
            item = fixed[indices[position]]
            weight = confidence[position]
            residual += (weight - (weight - 1.0) * np.dot(item, x)) * item
        direction = residual.copy()
        old_norm = np.dot(residual, residual)
        for _ in range(steps):
            if old_norm < _TOLERANCE:
                break
            product = gram @ direction
            for position in range(start, stop):
                item = fixed[indices[position]]
                product += (confidence[position] - 1.0) * np.dot(item, direction) * item
            step = old_norm / np.dot(direction, product)
            x += step * direction
            residual -= step * product
            new_norm = np.dot(residual, residual)
            direction = residual + (new_norm / old_norm) * direction
            old_norm = new_norm


@numba.njit(parallel=True, nogil=True, cache=True)
def implicit_loss(
    indptr: npt.NDArray[np.int64],
    indices: npt.NDArray[np.int32],
    confidence: npt.NDArray[np.float32],
    users: npt.NDArray[np.float32],
    items: npt.NDArray[np.float32],
    regularization: float,
) -> float:
    """The weighted squared error over every cell plus the L2 penalty, per observed cell.

    ``sum_u x_u^T (Y^T Y) x_u`` covers every cell as if unobserved; the observed cells then
    replace ``s^2`` by ``c (1 - s)^2``.
    """
    item_gram = items.T @ items
    total = 0.0
    for row in numba.prange(indptr.size - 1):
        x = users[row]
        subtotal = np.dot(x, item_gram @ x)
        for position in range(indptr[row], indptr[row + 1]):
            score = np.dot(x, items[indices[position]])
            subtotal += confidence[position] * (1.0 - score) ** 2 - score * score
        total += subtotal
    penalty = regularization * (np.sum(users * users) + np.sum(items * items))
    return float((total + penalty) / max(indices.size, 1))
