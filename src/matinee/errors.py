"""One exception tree for all of Matinee.

Every error a user can cause is a :class:`MatineeError`; the CLI maps each branch to an exit code.

* MatineeError
  + DataError                 a data file, release or dataset is unusable
    - MalformedFileError      a row that cannot be parsed (names the file and line)
    - UnknownReleaseError     a release name that the registry does not know (lists the valid ones;
                              also an UnknownNameError)
    - ChecksumError           a download whose checksum differs (names both checksums)
    - DownloadError           a download that failed
    - SplitError              a split that cannot be made as asked
  + UnknownIdError            raw ids or indices a model or dataset has never seen (lists them)
  + UnknownNameError          a name outside the known ones: a release, a loaded model (lists them)
  + ConfigError               a hyperparameter or option with a bad value (names the field)
  + NotFittedError            a model used before ``fit``
  + ModelFitError             training diverged or produced NaN
  + ModelFormatError          a saved model that is missing, truncated, tampered or too new
  + OutputError               a file or folder Matinee must write cannot be written (names it)
    - BusyError               another process is writing the same folder (names its lock)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

__all__ = [
    "BusyError",
    "ChecksumError",
    "ConfigError",
    "DataError",
    "DownloadError",
    "MalformedFileError",
    "MatineeError",
    "ModelFitError",
    "ModelFormatError",
    "NotFittedError",
    "OutputError",
    "SplitError",
    "UnknownIdError",
    "UnknownNameError",
    "UnknownReleaseError",
]


class MatineeError(Exception):
    """Base of every error Matinee raises on purpose."""

    exit_code: ClassVar[int] = 1


class DataError(MatineeError):
    """A data file, release or dataset cannot be used."""

    exit_code = 3


class MalformedFileError(DataError):
    """A file whose content does not follow its layout."""

    def __init__(self, path: object, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class UnknownNameError(MatineeError):
    """A name outside the ones known (a release, a loaded model): keeps both, lists the known.

    Subclasses say what the name names (``kind``) and how the list is introduced (``listed``).
    """

    kind: ClassVar[str] = "name"
    listed: ClassVar[str] = "known"

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        self.known = list(known)
        super().__init__(f"unknown {self.kind} {name!r}; {self.listed}: {', '.join(self.known)}")


class UnknownReleaseError(DataError, UnknownNameError):
    """A MovieLens release name that the registry does not list (``valid``: the names, sorted)."""

    kind = "release"
    listed = "valid names"

    def __init__(self, name: str, valid: Iterable[str]) -> None:
        super().__init__(name, sorted(valid))
        self.valid = self.known


class ChecksumError(DataError):
    """A downloaded or mirrored file whose checksum is not the expected one."""

    def __init__(self, path: object, algorithm: str, expected: str, actual: str) -> None:
        self.path = str(path)
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"{self.path}: {algorithm} checksum mismatch: expected {expected}, got {actual}"
        )


class DownloadError(DataError):
    """A download that could not be completed."""


class SplitError(DataError):
    """A split that cannot be made with the data and options given."""


class UnknownIdError(MatineeError, KeyError):
    """Ids (raw MovieLens ids or contiguous indices) that are not known."""

    exit_code = 4

    def __init__(self, kind: str, ids: Iterable[object], *, limit: int = 10) -> None:
        self.kind = kind
        self.ids = list(ids)
        shown = ", ".join(str(i) for i in self.ids[:limit])
        more = f" (and {len(self.ids) - limit} more)" if len(self.ids) > limit else ""
        super().__init__(f"unknown {kind} id(s): {shown}{more}")

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigError(MatineeError, ValueError):
    """A hyperparameter or option whose value is not allowed."""

    exit_code = 2


class NotFittedError(MatineeError):
    """A model used before it was fitted."""


class ModelFitError(MatineeError):
    """Training that diverged (NaN or infinite loss) or could not proceed."""

    exit_code = 5


class ModelFormatError(MatineeError):
    """A saved model that cannot be loaded safely."""

    exit_code = 6


class OutputError(MatineeError):
    """A file or folder that Matinee must write cannot be written (permissions, disk full)."""

    exit_code = 7


class BusyError(OutputError):
    """Another process is writing the same folder and did not finish in time."""

    exit_code = 8
