"""The MovieLens releases Matinee knows: where GroupLens serves them, their checksums and layouts.

Pure data: nothing here reads a file or the network. Sizes and sha256 come from the checksums that
tensorflow/datasets recorded for GroupLens's own zips; where none is known, the ``.md5`` file that
GroupLens serves beside each zip is used at download time (see ``download.fetch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from matinee.errors import UnknownReleaseError

__all__ = ["GROUPLENS_BASE", "RELEASES", "LayoutKind", "Release", "get_release"]

GROUPLENS_BASE = "https://files.grouplens.org/datasets/movielens/"
"""Where GroupLens serves the release zips (and an ``.md5`` beside each)."""

LayoutKind = Literal["ml-100k", "ml-1m", "ml-10m", "csv"]
"""File layouts: ``u.data`` and friends; ``::`` ``.dat`` with users (latin-1); ``::`` ``.dat``
with tags (UTF-8); the CSV releases (``ratings.csv``, ``movies.csv``, ``tags.csv``, ``links.csv``).
"""

INTEGER_STARS = (1.0, 5.0)
HALF_STARS = (0.5, 5.0)


@dataclass(frozen=True, kw_only=True)
class Release:
    """One MovieLens release as GroupLens published it."""

    name: str
    """Registry name, for example ``ml-100k``."""
    url: str
    """Where GroupLens serves (or served) the zip."""
    zip_size: int | None
    """Size of GroupLens's zip in bytes, where known."""
    sha256: str | None
    """sha256 of GroupLens's zip where a published value is known; None otherwise."""
    md5_url: str | None
    """URL of the ``.md5`` file GroupLens serves beside the zip (None when not served)."""
    folder: str
    """Folder that holds the files inside the zip (``ml-10M100K`` for ml-10m)."""
    layout: LayoutKind
    """Which reader parses it."""
    rating_scale: tuple[float, float]
    """Lowest and highest rating: 1-5 integer stars up to ml-1m, 0.5-5 half stars after."""
    served_by_grouplens: bool = True
    """False for older versions GroupLens no longer serves: loadable from a mirror only."""
    n_ratings: int | None = None
    """Ratings in the release, where fixed (ml-latest changes over time)."""
    n_users: int | None = None
    """Distinct users in the ratings."""
    n_movies: int | None = None
    """Distinct rated movies."""
    description: str = ""
    """One line for listings."""

    @property
    def zip_name(self) -> str:
        """File name of the zip (the last part of the URL)."""
        return self.url.rsplit("/", 1)[-1]


def _zip_url(zip_name: str) -> str:
    """URL of a zip at GroupLens."""
    return GROUPLENS_BASE + zip_name


_ALL = (
    Release(
        name="ml-100k",
        url=_zip_url("ml-100k.zip"),
        md5_url=_zip_url("ml-100k.zip.md5"),
        folder="ml-100k",
        zip_size=4_924_029,
        sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        layout="ml-100k",
        rating_scale=INTEGER_STARS,
        n_ratings=100_000,
        n_users=943,
        n_movies=1_682,
        description="100,000 ratings (1998), with u1-u5 and ua/ub folds",
    ),
    Release(
        name="ml-1m",
        url=_zip_url("ml-1m.zip"),
        md5_url=_zip_url("ml-1m.zip.md5"),
        folder="ml-1m",
        zip_size=5_917_549,
        sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        layout="ml-1m",
        rating_scale=INTEGER_STARS,
        n_ratings=1_000_209,
        n_users=6_040,
        n_movies=3_706,
        description="1 million ratings (2003), with user demographics",
    ),
    Release(
        name="ml-10m",
        url=_zip_url("ml-10m.zip"),
        md5_url=_zip_url("ml-10m.zip.md5"),
        zip_size=None,
        sha256=None,
        folder="ml-10M100K",
        layout="ml-10m",
        rating_scale=HALF_STARS,
        n_ratings=10_000_054,
        n_users=69_878,
        n_movies=10_677,
        description="10 million ratings and 95,580 tags (2009)",
    ),
    Release(
        name="ml-20m",
        url=_zip_url("ml-20m.zip"),
        md5_url=_zip_url("ml-20m.zip.md5"),
        folder="ml-20m",
        zip_size=198_702_078,
        sha256="96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
        layout="csv",
        rating_scale=HALF_STARS,
        n_ratings=20_000_263,
        n_users=138_493,
        n_movies=26_744,
        description="20 million ratings (2015)",
    ),
    Release(
        name="ml-25m",
        url=_zip_url("ml-25m.zip"),
        md5_url=_zip_url("ml-25m.zip.md5"),
        folder="ml-25m",
        zip_size=261_978_986,
        sha256="8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
        layout="csv",
        rating_scale=HALF_STARS,
        n_ratings=25_000_095,
        n_users=162_541,
        n_movies=59_047,
        description="25 million ratings (2019)",
    ),
    Release(
        name="ml-32m",
        url=_zip_url("ml-32m.zip"),
        md5_url=_zip_url("ml-32m.zip.md5"),
        folder="ml-32m",
        zip_size=None,
        sha256=None,
        layout="csv",
        rating_scale=HALF_STARS,
        n_ratings=32_000_204,
        n_users=200_948,
        description="32 million ratings (2023)",
    ),
    Release(
        name="ml-latest-small",
        url=_zip_url("ml-latest-small.zip"),
        md5_url=_zip_url("ml-latest-small.zip.md5"),
        folder="ml-latest-small",
        zip_size=978_202,
        sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        layout="csv",
        rating_scale=HALF_STARS,
        n_ratings=100_836,
        n_users=610,
        n_movies=9_724,
        description="small current release (September 2018 version)",
    ),
    Release(
        name="ml-latest-small-2016",
        url=_zip_url("ml-latest-small.zip"),
        md5_url=None,
        folder="ml-latest-small",
        zip_size=918_269,
        sha256="ad046540a50d27a880e0002583e74d153ee2a184dac14b9ccd25f0450a98b1c3",
        layout="csv",
        rating_scale=HALF_STARS,
        served_by_grouplens=False,
        n_ratings=100_004,
        n_users=671,
        n_movies=9_066,
        description="the October 2016 ml-latest-small most notebooks used (mirror only)",
    ),
    Release(
        name="ml-latest",
        url=_zip_url("ml-latest.zip"),
        md5_url=_zip_url("ml-latest.zip.md5"),
        folder="ml-latest",
        zip_size=None,
        sha256=None,
        layout="csv",
        rating_scale=HALF_STARS,
        description="full current release; regenerated by GroupLens from time to time",
    ),
)

RELEASES: Mapping[str, Release] = MappingProxyType({release.name: release for release in _ALL})
"""Every known release by name, read-only."""


def get_release(name: str) -> Release:
    """The release called ``name``; raises :class:`UnknownReleaseError` listing the valid names."""
    try:
        return RELEASES[name]
    except KeyError:
        raise UnknownReleaseError(name, RELEASES) from None
