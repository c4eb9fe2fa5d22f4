from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from matinee.data import cache, loader
from matinee.data.cache import wait_for_cache_writes
from matinee.data.download import file_digest
from matinee.data.loader import (
    detect_layout,
    load_dataset,
    read_local,
    release_path,
    release_status,
)
from matinee.data.releases import get_release
from matinee.errors import ChecksumError, DataError, DownloadError, UnknownReleaseError
from matinee.settings import Settings


@pytest.fixture
def private(mirror: Path, tmp_path: Path) -> Settings:
    """Settings reading the mirror with a cache of this test only (tests here damage it)."""
    return Settings(cache_dir=tmp_path / "cache", mirror=mirror, show_progress=False)


@pytest.mark.parametrize(
    ("name", "counts", "listed"),
    [
        ("ml-100k", (100_000, 943, 1_682), 1_682),
        ("ml-latest-small", (100_836, 610, 9_724), 9_742),
        ("ml-latest-small-2016", (100_004, 671, 9_066), 9_125),
    ],
)
def test_release_counts_through_the_mirror(
    settings: Settings, name: str, counts: tuple[int, int, int], listed: int
) -> None:
    dataset = load_dataset(name, settings=settings)
    ratings = dataset.ratings
    assert dataset.name == name
    assert (len(ratings), ratings.n_users, ratings.n_movies) == counts
    assert dataset.movies.height == listed


def test_scales_come_from_the_release(settings: Settings) -> None:
    assert load_dataset("ml-100k", settings=settings).ratings.rating_scale == (1.0, 5.0)
    assert load_dataset("ml-latest-small", settings=settings).ratings.rating_scale == (0.5, 5.0)


def test_second_load_comes_from_the_cache(private: Settings) -> None:
    first = load_dataset("ml-latest-small", settings=private)
    entry = private.cache_dir / "parsed" / "ml-latest-small" / first.source_checksum
    assert first.source_checksum == "sha256-" + (
        "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436"
    )
    wait_for_cache_writes()
    assert (entry / "meta.json").is_file()
    second = load_dataset("ml-latest-small", settings=private)
    assert second.ratings.fingerprint() == first.ratings.fingerprint()
    assert second.movies.equals(first.movies)
    assert second.tags is not None and first.tags is not None
    assert second.tags.equals(first.tags)
    assert second.source_checksum == first.source_checksum
    assert not list(entry.parent.glob(".tmp-*"))


def test_a_dead_writers_temp_folder_is_removed_once_stale(private: Settings) -> None:
    first = load_dataset("ml-100k", settings=private)
    wait_for_cache_writes()
    root = private.cache_dir / "parsed" / "ml-100k"
    fresh, stale = root / ".tmp-fresh", root / ".tmp-stale"
    for folder in (fresh, stale):
        folder.mkdir()
        (folder / "user_idx.npy").write_bytes(b"partial")
    old = time.time() - cache.STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    cache.write_cache(private.cache_dir, first)
    assert sorted(p.name for p in root.iterdir()) == [".tmp-fresh", first.source_checksum]


def test_cache_hit_does_not_read_the_source(mirror: Path, tmp_path: Path) -> None:
    fake_mirror = tmp_path / "mirror"
    fake_mirror.mkdir()
    shutil.copy(mirror / "ml-latest-small.zip", fake_mirror)
    settings = Settings(cache_dir=tmp_path / "cache", mirror=fake_mirror, show_progress=False)
    first = load_dataset("ml-latest-small", settings=settings)
    (fake_mirror / "ml-latest-small.zip").unlink()
    again = load_dataset("ml-latest-small", settings=settings)  # keyed by the known sha256
    assert again.ratings.fingerprint() == first.ratings.fingerprint()


def test_folder_cache_key_follows_the_files(mirror: Path, tmp_path: Path) -> None:
    fake_mirror = tmp_path / "mirror"
    shutil.copytree(mirror / "ml-100k", fake_mirror / "ml-100k")
    settings = Settings(cache_dir=tmp_path / "cache", mirror=fake_mirror, show_progress=False)
    first = load_dataset("ml-100k", settings=settings)
    assert first.source_checksum.startswith("stat-")
    data = fake_mirror / "ml-100k" / "u.data"
    lines = data.read_text().splitlines(keepends=True)
    data.write_text("".join(lines[:-1]))
    changed = load_dataset("ml-100k", settings=settings)
    assert changed.source_checksum != first.source_checksum
    assert len(changed.ratings) == 99_999
    wait_for_cache_writes()
    entries = list((settings.cache_dir / "parsed" / "ml-100k").iterdir())
    assert [e.name for e in entries] == [changed.source_checksum]


@pytest.mark.parametrize(
    "damage",
    ["truncate-array", "flip-byte", "bad-meta", "missing-table", "old-format"],
)
def test_corrupt_cache_entry_is_rebuilt(
    private: Settings, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    first = load_dataset("ml-100k", settings=private)
    wait_for_cache_writes()
    entry = private.cache_dir / "parsed" / "ml-100k" / first.source_checksum
    if damage == "truncate-array":
        path = entry / "rating.npy"
        path.write_bytes(path.read_bytes()[:1000])
    elif damage == "flip-byte":
        path = entry / "user_idx.npy"
        data = bytearray(path.read_bytes())
        data[-5] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "bad-meta":
        (entry / "meta.json").write_text("{not json")
    elif damage == "missing-table":
        (entry / "movies.arrow").unlink()
    else:
        meta = json.loads((entry / "meta.json").read_text())
        meta["format_version"] = 0
        (entry / "meta.json").write_text(json.dumps(meta))
    with caplog.at_level(logging.WARNING, logger="matinee.data.cache"):
        again = load_dataset("ml-100k", settings=private)
    assert "rebuilding" in caplog.text
    assert again.ratings.fingerprint() == first.ratings.fingerprint()
    assert again.movies.equals(first.movies)
    third = load_dataset("ml-100k", settings=private)
    assert third.ratings.fingerprint() == first.ratings.fingerprint()


def test_unknown_release(private: Settings) -> None:
    with pytest.raises(UnknownReleaseError, match="ml-100k"):
        load_dataset("ml-7m", settings=private)


def test_mirror_zip_with_wrong_checksum_is_refused_and_kept(mirror: Path, tmp_path: Path) -> None:
    fake_mirror = tmp_path / "mirror"
    fake_mirror.mkdir()
    bad = fake_mirror / "ml-latest-small.zip"
    with (
        zipfile.ZipFile(mirror / "ml-latest-small.zip") as source,
        zipfile.ZipFile(bad, "w") as target,
    ):
        for info in source.infolist():
            target.writestr(info, source.read(info))  # a re-pack: same files, other bytes
    settings = Settings(cache_dir=tmp_path / "cache", mirror=fake_mirror, show_progress=False)
    with pytest.raises(ChecksumError) as caught:
        load_dataset("ml-latest-small", settings=settings)
    assert "696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436" in str(caught.value)
    assert bad.is_file()  # a mirror is read-only: never deleted
    assert not (settings.cache_dir / "parsed" / "ml-latest-small").exists()


def test_old_version_not_served_needs_the_mirror(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path / "cache", mirror=tmp_path, show_progress=False)
    with pytest.raises(DownloadError, match=r"no longer served.*MATINEE_DATA_MIRROR"):
        load_dataset("ml-latest-small-2016", settings=settings)


def test_mirror_never_shadows_one_version_with_another(mirror: Path, tmp_path: Path) -> None:
    only_2016 = tmp_path / "mirror"
    shutil.copytree(mirror / "ml-latest-small-2016", only_2016 / "ml-latest-small-2016")
    settings = Settings(cache_dir=tmp_path / "cache", mirror=only_2016, show_progress=False)
    assert release_status("ml-latest-small", settings=settings).mirrored is None
    assert release_status("ml-latest-small-2016", settings=settings).mirrored is not None


def test_release_path_and_status(settings: Settings, mirror: Path) -> None:
    assert release_path("ml-100k", settings=settings) == mirror / "ml-100k"
    assert release_path("ml-latest-small", settings=settings) == mirror / "ml-latest-small.zip"
    assert (
        release_path("ml-latest-small-2016", settings=settings)
        == mirror / "ml-latest-small-2016" / "ml-latest-small.zip"
    )
    status = release_status("ml-1m", settings=settings)
    assert status.mirrored is None  # samples/ is not a release
    assert status.downloaded is None


def test_read_local_detects_layouts(mirror: Path) -> None:
    assert detect_layout(mirror / "ml-100k")[1] == "ml-100k"
    assert detect_layout(mirror / "samples" / "ml-1m")[1] == "ml-1m"
    assert detect_layout(mirror / "samples" / "ml-10m")[1] == "ml-10m"
    assert detect_layout(mirror / "samples" / "ml-25m")[1] == "csv"
    source, layout = detect_layout(mirror / "ml-latest-small.zip")
    assert (layout, source.prefix) == ("csv", "ml-latest-small/")
    dataset = read_local(mirror / "samples" / "ml-1m")
    assert dataset.name == "ml-1m"
    assert dataset.ratings.rating_scale == (1.0, 5.0)


def test_read_local_one_folder_down(mirror: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(mirror / "ml-latest-small.zip") as archive:
        archive.extractall(tmp_path)
    dataset = read_local(tmp_path)
    assert dataset.name == "ml-latest-small"
    assert len(dataset.ratings) == 100_836


def test_read_local_with_explicit_layout(mirror: Path) -> None:
    dataset = read_local(mirror / "ml-100k", layout="ml-100k")
    np.testing.assert_array_equal(dataset.ratings.user_counts().sum(), 100_000)


def test_read_local_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        read_local(tmp_path / "absent")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataError, match="no MovieLens ratings file"):
        read_local(tmp_path)
    (tmp_path / "fake.zip").write_text("not a zip")
    with pytest.raises(DataError, match="not a readable zip"):
        read_local(tmp_path / "fake.zip")


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch, mirror: Path, tmp_path: Path) -> None:
    monkeypatch.setenv("MATINEE_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("MATINEE_CACHE_DIR", str(tmp_path / "env-cache"))
    dataset = load_dataset("ml-latest-small")
    assert len(dataset.ratings) == 100_836
    wait_for_cache_writes()
    assert (tmp_path / "env-cache" / "parsed" / "ml-latest-small").is_dir()


@pytest.fixture
def grouplens(mirror: Path, tmp_path: Path) -> Iterator[str]:
    """A local stand-in for files.grouplens.org serving the genuine ml-latest-small zip."""
    root = tmp_path / "grouplens"
    root.mkdir()
    shutil.copy(mirror / "ml-latest-small.zip", root)
    md5 = file_digest(root / "ml-latest-small.zip", "md5")
    (root / "ml-latest-small.zip.md5").write_text(f"MD5 (ml-latest-small.zip) = {md5}\n")
    handler = partial(_QuietHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("verify_by", ["sha256", "md5"])
def test_download_when_neither_cache_nor_mirror_has_it(
    grouplens: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify_by: str
) -> None:
    genuine = get_release("ml-latest-small")
    served = dataclasses.replace(
        genuine,
        url=grouplens + "ml-latest-small.zip",
        md5_url=grouplens + "ml-latest-small.zip.md5",
        sha256=genuine.sha256 if verify_by == "sha256" else None,
    )
    monkeypatch.setattr(loader, "get_release", lambda name: served)
    settings = Settings(cache_dir=tmp_path / "cache", mirror=None, show_progress=False)
    dataset = load_dataset("ml-latest-small", settings=settings)
    assert len(dataset.ratings) == 100_836
    zip_path = tmp_path / "cache" / "zips" / "ml-latest-small.zip"
    assert release_path("ml-latest-small", settings=settings) == zip_path
    assert file_digest(zip_path) == genuine.sha256
    assert sorted(p.name for p in zip_path.parent.iterdir()) == ["ml-latest-small.zip"]


def test_failed_download_leaves_nothing(
    grouplens: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = dataclasses.replace(
        get_release("ml-latest-small"), url=grouplens + "ml-latest-small.zip", sha256="0" * 64
    )
    monkeypatch.setattr(loader, "get_release", lambda name: wrong)
    settings = Settings(cache_dir=tmp_path / "cache", mirror=None, show_progress=False)
    with pytest.raises(ChecksumError, match="0000"):
        load_dataset("ml-latest-small", settings=settings)
    assert list((tmp_path / "cache" / "zips").iterdir()) == []
    assert not (tmp_path / "cache" / "parsed").exists()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_wait_for_the_parents_cache_writes(tmp_path: Path) -> None:
    never: Future[None] = Future()  # a write the parent's thread is busy with
    entry = cache.cache_entry(tmp_path, "ml-100k", "key")
    cache._pending[entry] = never
    try:
        pid = os.fork()
        if pid == 0:  # the child has no writer thread: it must not wait
            os._exit(0 if cache.read_cache(tmp_path, "ml-100k", "key") is None else 1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.05)
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child waited for a cache write of its parent")
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        del cache._pending[entry]
