"""IdMap: raw MovieLens ids <-> contiguous indices, both ways."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matinee.errors import UnknownIdError
from matinee.types import IndexArray

__all__ = ["IdMap"]


class IdMap:
    """A sorted vocabulary of raw integer ids; index ``i`` stands for ``raw_ids[i]``.

    Raw ids are kept sorted so that lookups are a binary search over a plain array, and so that
    the map is saved and compared as one int64 array.
    """

    __slots__ = ("_kind", "_raw")

    def __init__(self, raw_ids: npt.ArrayLike, *, kind: str = "item") -> None:
        raw = np.asarray(raw_ids, dtype=np.int64)
        if raw.ndim != 1:
            raise ValueError("raw ids must be one-dimensional")
        if raw.size > 1 and not np.all(raw[1:] > raw[:-1]):
            raw = np.unique(raw)
        raw = raw.copy()
        raw.setflags(write=False)
        self._raw = raw
        self._kind = kind

    @classmethod
    def from_values(cls, values: npt.ArrayLike, *, kind: str = "item") -> tuple[IdMap, IndexArray]:
        """Build a map from raw ids as they occur and return it with the index of each value."""
        raw, inverse = np.unique(np.asarray(values, dtype=np.int64), return_inverse=True)
        return cls(raw, kind=kind), inverse.astype(np.int32, copy=False)

    @property
    def kind(self) -> str:
        """What the ids name ("user" or "movie"), used in error messages."""
        return self._kind

    @property
    def raw_ids(self) -> npt.NDArray[np.int64]:
        """The raw ids in index order (read-only)."""
        return self._raw

    def __len__(self) -> int:
        return int(self._raw.size)

    def __contains__(self, raw_id: object) -> bool:
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | np.integer):
            return False
        pos = int(np.searchsorted(self._raw, raw_id))
        return pos < self._raw.size and int(self._raw[pos]) == int(raw_id)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and np.array_equal(self._raw, other._raw)

    def __hash__(self) -> int:
        return hash(self._raw.tobytes())

    def __repr__(self) -> str:
        return f"IdMap({self._kind}, n={len(self)})"

    def index(self, raw_id: int) -> int:
        """The index of one raw id; raises :class:`UnknownIdError` if it is not in the map."""
        return int(self.indices([raw_id])[0])

    def indices(self, raw_ids: npt.ArrayLike) -> IndexArray:
        """Indices of many raw ids; raises :class:`UnknownIdError` listing every unknown one."""
        raw = np.asarray(raw_ids).ravel()
        if raw.size and not np.issubdtype(raw.dtype, np.integer):
            raw = self._integral(raw)
        raw = raw.astype(np.int64, copy=False)
        pos = np.searchsorted(self._raw, raw)
        pos_clipped = np.minimum(pos, max(self._raw.size - 1, 0))
        found = (
            (pos < self._raw.size) & (self._raw[pos_clipped] == raw)
            if self._raw.size
            else (np.zeros(raw.shape, dtype=bool))
        )
        if not np.all(found):
            missing = list(dict.fromkeys(raw[~found].tolist()))
            raise UnknownIdError(self._kind, missing)
        return pos.astype(np.int32)

    def _integral(self, raw: np.ndarray) -> npt.NDArray[np.int64]:
        """Whole-number ids as int64; anything else (text, NaN, 1.5, bools) is unknown."""
        if raw.dtype == np.bool_ or not np.issubdtype(raw.dtype, np.number):
            raise UnknownIdError(self._kind, raw.tolist())
        whole = np.isfinite(raw) & (np.mod(raw, 1) == 0)
        if not np.all(whole):
            raise UnknownIdError(self._kind, list(dict.fromkeys(raw[~whole].tolist())))
        return raw.astype(np.int64)

    def raw(self, indices: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Raw ids of contiguous indices; raises :class:`UnknownIdError` for out-of-range ones."""
        idx = np.asarray(indices)
        if idx.size and (idx.min() < 0 or idx.max() >= self._raw.size):
            bad = idx[(idx < 0) | (idx >= self._raw.size)]
            raise UnknownIdError(f"{self._kind} index", list(dict.fromkeys(bad.tolist())))
        return np.asarray(self._raw[idx], dtype=np.int64)

    def subset(self, keep: npt.NDArray[np.bool_]) -> tuple[IdMap, IndexArray]:
        """A map of the kept ids and the old-to-new index table (-1 where dropped)."""
        new_index = np.full(self._raw.size, -1, dtype=np.int32)
        new_index[keep] = np.arange(int(keep.sum()), dtype=np.int32)
        return IdMap(self._raw[keep], kind=self._kind), new_index
