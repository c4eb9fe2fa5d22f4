from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from matinee.data.download import fetch, fetch_md5, file_digest
from matinee.errors import ChecksumError, DownloadError

PAYLOAD = bytes(range(256)) * 5000  # 1.28 MB: more than one read chunk


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 serving a folder with a payload and .md5 files."""
    root = tmp_path / "served"
    root.mkdir()
    (root / "data.zip").write_bytes(PAYLOAD)
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    (root / "data.zip.md5").write_text(f"MD5 (data.zip) = {md5}\n")
    (root / "gnu.md5").write_text(f"{md5}  data.zip\n")
    (root / "empty.md5").write_text("nothing here\n")
    handler = partial(_QuietHandler, directory=str(root))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_fetch_writes_a_verified_file(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "data.zip"
    result = fetch(
        f"{server}/data.zip",
        dest,
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
        md5=hashlib.md5(PAYLOAD).hexdigest(),
        expected_size=len(PAYLOAD),
        show_progress=False,
    )
    assert result == dest
    assert dest.read_bytes() == PAYLOAD
    assert _leftovers(dest.parent) == ["data.zip"]


def test_fetch_with_progress_bar(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "data.zip"
    fetch(f"{server}/data.zip", dest, show_progress=True)
    assert file_digest(dest) == hashlib.sha256(PAYLOAD).hexdigest()


def test_checksum_mismatch_names_both_and_leaves_nothing(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "data.zip"
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as caught:
        fetch(f"{server}/data.zip", dest, sha256=wrong, show_progress=False)
    message = str(caught.value)
    assert wrong in message
    assert hashlib.sha256(PAYLOAD).hexdigest() in message
    assert _leftovers(dest.parent) == []


def test_md5_mismatch_is_a_checksum_error(server: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(ChecksumError, match="md5"):
        fetch(f"{server}/data.zip", out / "d.zip", md5="f" * 32, show_progress=False)
    assert _leftovers(out) == []


def test_size_mismatch_is_a_download_error(server: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(DownloadError, match="expected 10"):
        fetch(f"{server}/data.zip", out / "d.zip", expected_size=10, show_progress=False)
    assert _leftovers(out) == []


def test_http_404_is_a_download_error(server: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(DownloadError, match="404"):
        fetch(f"{server}/missing.zip", out / "m.zip", show_progress=False)
    assert _leftovers(out) == []


def test_refused_connection_is_a_download_error(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="failed"):
        fetch("http://127.0.0.1:9/x.zip", tmp_path / "x.zip", show_progress=False)
    assert _leftovers(tmp_path) == []


def test_an_existing_file_is_only_replaced_by_a_good_download(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "data.zip"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    with pytest.raises(ChecksumError):
        fetch(f"{server}/data.zip", dest, sha256="1" * 64, show_progress=False)
    assert dest.read_bytes() == b"old"
    fetch(f"{server}/data.zip", dest, show_progress=False)
    assert dest.read_bytes() == PAYLOAD


@pytest.mark.parametrize("name", ["data.zip.md5", "gnu.md5"])
def test_fetch_md5_reads_grouplens_and_gnu_formats(server: str, name: str) -> None:
    assert fetch_md5(f"{server}/{name}") == hashlib.md5(PAYLOAD).hexdigest()


def test_fetch_md5_without_a_checksum(server: str) -> None:
    with pytest.raises(DownloadError, match="holds no md5"):
        fetch_md5(f"{server}/empty.md5")


def test_fetch_md5_404(server: str) -> None:
    with pytest.raises(DownloadError, match="could not read"):
        fetch_md5(f"{server}/absent.md5")


def test_a_failed_download_says_what_to_do_offline(tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "zips" / "ml-latest-small.zip"
    with pytest.raises(DownloadError) as caught:
        fetch("http://127.0.0.1:9/ml-latest-small.zip", dest, show_progress=False)
    message = str(caught.value)
    assert "http://127.0.0.1:9/ml-latest-small.zip" in message
    assert "MATINEE_DATA_MIRROR" in message
    assert "ml-latest-small.zip" in message.split("MATINEE_DATA_MIRROR", 1)[1]
    assert str(dest.parent) in message


def test_a_stalled_server_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    import matinee.data.download as download

    monkeypatch.setattr(download, "TIMEOUT_S", 0.5)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        port = listener.getsockname()[1]
        with pytest.raises(DownloadError, match=r"no answer within 0.5 s"):
            fetch(f"http://127.0.0.1:{port}/x.zip", tmp_path / "x.zip", show_progress=False)
    finally:
        listener.close()
    assert _leftovers(tmp_path) == []
