from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from matinee.data.download import file_digest
from matinee.data.releases import GROUPLENS_BASE, RELEASES, get_release
from matinee.errors import DataError, UnknownNameError, UnknownReleaseError

EXPECTED_NAMES = {
    "ml-100k",
    "ml-1m",
    "ml-10m",
    "ml-20m",
    "ml-25m",
    "ml-32m",
    "ml-latest-small",
    "ml-latest-small-2016",
    "ml-latest",
}


def test_registry_lists_every_release() -> None:
    assert set(RELEASES) == EXPECTED_NAMES


def test_get_release_returns_the_entry() -> None:
    release = get_release("ml-10m")
    assert release.folder == "ml-10M100K"
    assert release.layout == "ml-10m"
    assert release.url == GROUPLENS_BASE + "ml-10m.zip"
    assert release.md5_url == GROUPLENS_BASE + "ml-10m.zip.md5"


def test_unknown_release_lists_valid_names() -> None:
    with pytest.raises(UnknownReleaseError) as caught:
        get_release("ml-5m")
    message = str(caught.value)
    assert "'ml-5m'" in message
    for name in EXPECTED_NAMES:
        assert name in message


def test_unknown_release_is_an_unknown_name_with_a_sorted_list() -> None:
    error = UnknownReleaseError("ml-5m", ["ml-1m", "ml-100k"])
    assert isinstance(error, UnknownNameError) and isinstance(error, DataError)
    assert error.exit_code == DataError.exit_code
    assert error.name == "ml-5m" and error.valid == error.known == ["ml-100k", "ml-1m"]
    assert str(error) == "unknown release 'ml-5m'; valid names: ml-100k, ml-1m"


@pytest.mark.parametrize(
    ("name", "scale"),
    [
        ("ml-100k", (1.0, 5.0)),
        ("ml-1m", (1.0, 5.0)),
        ("ml-10m", (0.5, 5.0)),
        ("ml-25m", (0.5, 5.0)),
    ],
)
def test_rating_scales(name: str, scale: tuple[float, float]) -> None:
    assert get_release(name).rating_scale == scale


def test_releases_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_release("ml-100k").name = "other"  # type: ignore[misc]


def test_only_the_2016_version_is_mirror_only() -> None:
    old = get_release("ml-latest-small-2016")
    assert not old.served_by_grouplens
    assert old.md5_url is None
    assert old.zip_name == "ml-latest-small.zip"
    assert all(r.served_by_grouplens for r in RELEASES.values() if r is not old)


def test_checksums_are_hex_sha256_or_none() -> None:
    for release in RELEASES.values():
        if release.sha256 is not None:
            assert len(release.sha256) == 64
            int(release.sha256, 16)
        else:
            assert release.md5_url is not None


@pytest.mark.parametrize(
    ("name", "relative"),
    [
        ("ml-latest-small", "ml-latest-small.zip"),
        ("ml-latest-small-2016", "ml-latest-small-2016/ml-latest-small.zip"),
    ],
)
def test_registry_matches_the_genuine_mirror_zips(mirror: Path, name: str, relative: str) -> None:
    release = get_release(name)
    path = mirror / relative
    assert path.stat().st_size == release.zip_size
    assert file_digest(path) == release.sha256
