"""The web page in a real browser: Debian's chromium driven by Playwright against ``matinee serve``.

Two models are trained here on ml-latest-small from the mirror (biased MF with an explain report,
item-kNN without one) and served by a uvicorn subprocess on a free loopback port. Each step saves a
screenshot under the test's tmp folder and, when ``MATINEE_SCREENSHOTS=DIR`` is set, into DIR too.
Without chromium or playwright these tests skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Five movies of ml-latest-small, each found by a search, with the half-star rating given.
FIVE = [
    ("toy story", "Toy Story (1995)", 4.5),
    ("aladdin", "Aladdin (1992)", 4.0),
    ("lion king", "Lion King, The (1994)", 5.0),
    ("matrix", "Matrix, The (1999)", 3.5),
    ("fargo", "Fargo (1996)", 4.0),
]
Shot = Callable[[Any, str], Path]


def missing(reason: str) -> None:
    """Fail in CI (a browser test that skips there proves nothing), else skip with the reason."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must run the browser tests (scripts/setup-browser.sh)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def sync_api() -> Any:
    """playwright.sync_api, once chromium and playwright are both known to be there."""
    if not CHROMIUM.exists():
        missing(f"no chromium at {CHROMIUM}")
    try:
        from playwright import sync_api
    except ImportError:
        missing("the playwright package is not installed")
    return sync_api


def cli(*args: str) -> str:
    """Run one matinee command in-process and return what it printed."""
    from matinee.cli import main as _main  # noqa: F401  (registers every command)
    from matinee.cli.app import app

    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def model_dirs(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Biased MF (with an explain report in DIR/report) and item-kNN on all of ml-latest-small."""
    root = tmp_path_factory.mktemp("browser-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MATINEE_DATA_MIRROR", str(mirror))
        patch.setenv("MATINEE_CACHE_DIR", str(tmp_path_factory.mktemp("browser-cache")))
        mf, knn = root / "mf", root / "knn"
        common = ["--dataset", "ml-latest-small", "--split", "none", "--json"]
        cli("train", "biased-mf", "--out", str(mf), "--set", "epochs=15", *common)
        cli("train", "item-knn", "--out", str(knn), *common)
        cli("explain", str(mf), "--out", str(mf / "report"), "--map", "pca")
    return [mf, knn]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /readyz until the models are loaded; fail with the server's log if it dies or stalls."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"matinee serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:
                if json.load(answer)["status"] == "ready":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"matinee serve was not ready within 180 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def base_url(model_dirs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``matinee serve`` of both models on a free loopback port, stopped afterwards."""
    port = free_port()
    log = tmp_path_factory.mktemp("browser-server") / "serve.log"
    command = [sys.executable, "-c", "from matinee.cli import main; main()", "serve"]
    command += [*map(str, model_dirs), "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, log)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser(sync_api: Any) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A desktop-sized page whose script errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(30_000)
    yield page
    context.close()
    assert not errors, f"the page's script failed: {errors}"


@pytest.fixture
def shot(tmp_path: Path) -> Shot:
    """Save a full-page screenshot as NAME.png under tmp_path and under $MATINEE_SCREENSHOTS."""
    extra = os.environ.get("MATINEE_SCREENSHOTS")

    def save(page: Any, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, Path(extra) / path.name)
        return path

    return save


def search(page: Any, query: str, title: str) -> Any:
    """Type a query as a person would and return the listbox option with this exact title."""
    box = page.get_by_role("combobox", name="Search titles")
    box.fill("")
    box.press_sequentially(query, delay=20)
    option = (
        page.locator("#results")
        .get_by_role("option")
        .filter(has=page.locator(".title", has_text=re.compile(f"^{re.escape(title)}$")))
    )
    option.first.wait_for()
    return option.first


def rate(page: Any, query: str, title: str, stars: float) -> None:
    """Find a movie by searching, click its half star, and add the rating."""
    search(page, query, title).click()
    page.locator(f'#stars label[for="star-{round(stars * 2)}"]').click()
    assert float(page.locator("#stars input:checked").get_attribute("value")) == stars
    page.get_by_role("button", name="Add rating").click()
    page.locator("#rated li", has_text=title).wait_for()


def card_ids(page: Any, count: int) -> list[int]:
    """The movie ids of the recommendation cards, once ``count`` of them are shown."""
    page.locator("#recs .card").nth(count - 1).wait_for()
    page.wait_for_function("document.getElementById('recs-section').ariaBusy === 'false'")
    ids = page.locator("#recs .card").evaluate_all("cs => cs.map(c => Number(c.dataset.movieId))")
    return list(ids)


def rated_ids(page: Any) -> list[int]:
    return list(
        page.locator("#rated li").evaluate_all("ls => ls.map(l => Number(l.dataset.movieId))")
    )


def api_error(base_url: str, body: dict[str, object]) -> dict[str, Any]:
    """POST a body to the recommendations endpoint and return its JSON error (a 4xx is expected)."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/recommendations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert 400 <= caught.value.code < 500
    error: dict[str, Any] = json.load(caught.value)["error"]
    return error


def test_search_rate_recommend_similar_and_share(
    page: Any, browser: Any, base_url: str, shot: Shot
) -> None:
    page.goto("/")
    toy = search(page, "toy story", "Toy Story (1995)")
    assert (
        page.get_by_role("combobox", name="Search titles").get_attribute("aria-expanded") == "true"
    )
    shot(page, "1-search-toy-story")
    toy.click()
    page.locator('#stars label[for="star-9"]').click()
    assert page.locator("#stars-value").inner_text() == "4.5 of 5 stars"
    shot(page, "2-rate-half-stars")
    page.get_by_role("button", name="Add rating").click()
    for query, title, stars in FIVE[1:]:
        rate(page, query, title, stars)
    rated = rated_ids(page)
    assert len(rated) == 5
    assert page.locator("#rated-count").inner_text() == "5"

    recommended = card_ids(page, 10)
    assert len(recommended) == 10
    assert not set(recommended) & set(rated)
    first = page.locator("#recs .card").first
    assert first.locator("h3").inner_text().startswith("1. ")
    assert "score" in first.locator(".numbers").inner_text()
    assert "Predicted" in first.locator(".numbers").inner_text()  # biased MF predicts ratings
    shot(page, "3-recommendations")

    first.get_by_role("button", name=re.compile("^Similar movies")).click()
    panel = page.get_by_role("complementary", name=re.compile("^Similar to "))
    panel.locator("li").first.wait_for()
    assert panel.locator("li").count() == 10
    assert page.evaluate("document.activeElement.id") == "similar-heading"
    shot(page, "4-similar-movies")

    shared = page.url
    assert re.search(r"#r=(\d+:[\d.]+,){4}\d+:[\d.]+&m=mf&k=10$", shared), shared
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    other.goto(shared)
    assert card_ids(other, 10) == recommended
    assert rated_ids(other) == rated
    other.locator("#rated li", has_text="Fargo (1996)").wait_for()
    shot(other, "5-shared-link")
    other.context.close()

    page.get_by_role("button", name="Remove Fargo (1996)").click()
    assert page.locator("#rated-count").inner_text() == "4"
    assert ":" in page.url and "Fargo" not in page.locator("#rated").inner_text()


def test_keyboard_only_rating(page: Any, shot: Shot) -> None:
    page.goto("/")
    page.locator("#model option").first.wait_for(state="attached")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "search":
            break
    assert page.evaluate("document.activeElement.id") == "search"
    page.keyboard.type("toy story", delay=20)
    page.locator("#results").get_by_role("option").first.wait_for()
    page.keyboard.press("ArrowDown")
    active = page.get_by_role("combobox", name="Search titles").get_attribute(
        "aria-activedescendant"
    )
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    title = page.locator(f"#{active} .title").inner_text()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "stars"
    for _ in range(8):  # from the first half star, eight steps right is 4.5
        page.keyboard.press("ArrowRight")
    assert page.locator("#stars input:checked").get_attribute("value") == "4.5"
    shot(page, "keyboard-rating")
    page.keyboard.press("Enter")
    row = page.locator("#rated li", has_text=title)
    row.wait_for()
    assert row.get_by_role("combobox", name=f"Rating for {title}").input_value() == "4.5"
    assert page.evaluate("document.activeElement.id") == "search"

    page.keyboard.type("fargo", delay=20)
    page.locator("#results").get_by_role("option").first.wait_for()
    page.keyboard.press("Escape")
    assert page.locator("#results").is_hidden()
    card_ids(page, 10)


def test_phone_viewport(browser: Any, base_url: str, page: Any, shot: Shot) -> None:
    page.goto("/")
    for query, title, stars in FIVE:
        rate(page, query, title, stars)
    link = page.url
    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True
    ).new_page()
    phone.goto(link)
    card_ids(phone, 10)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    for box in phone.locator("#recs .card, #rated li").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().right)"
    ):
        assert box <= 360
    shot(phone, "phone")
    phone.context.close()


def test_api_errors_are_shown(page: Any, base_url: str, shot: Shot) -> None:
    page.goto("/#r=1:4.5,2:3&k=1000")
    alert = page.get_by_role("alert")
    alert.wait_for()
    ratings = [{"movie_id": 1, "rating": 4.5}, {"movie_id": 2, "rating": 3}]
    expected = api_error(base_url, {"ratings": ratings, "k": 1000, "model": "mf"})
    assert expected["message"] in alert.inner_text()
    assert page.locator("#recs .card").count() == 0
    shot(page, "error-k-too-large")

    page.goto("/#r=1:4.5,99999999:4&k=10")
    page.get_by_role("alert").filter(has_text="99999999").wait_for()


def test_model_switcher_and_report(page: Any, base_url: str, shot: Shot) -> None:
    page.goto("/#r=1:4.5,588:4,364:5&k=10")
    card_ids(page, 10)
    assert page.locator("#model").input_value() == "mf"
    assert page.locator("#report").is_visible()
    href = page.locator("#report-link").get_attribute("href")
    with urllib.request.urlopen(f"{base_url}/{href}", timeout=30) as answer:
        assert answer.status == 200
    page.get_by_role("button", name="Show it here").click()
    frame = page.frame_locator("#report-frame")
    frame.locator("img").first.wait_for()
    shot(page, "explain-report")

    names = page.locator("#model option").evaluate_all("os => os.map(o => o.value)")
    assert names == ["mf", "knn"]
    before = card_ids(page, 10)
    page.locator("#model").select_option("knn")
    page.locator("#recs-status", has_text="from knn").wait_for()
    assert page.url.endswith("&m=knn&k=10")
    after = card_ids(page, 10)
    assert after != before
    assert page.locator("#report").is_hidden()
    with urllib.request.urlopen(f"{base_url}/api/v1/models", timeout=30) as answer:
        knn = next(m for m in json.load(answer)["models"] if m["name"] == "knn")
    assert ("Predicted" in page.locator("#recs").inner_text()) == knn["predicts_ratings"]
    shot(page, "model-switched")


def test_filters_narrow_the_list_and_travel_in_the_link(page: Any, shot: Shot) -> None:
    page.goto("/#r=1:4.5,588:4,364:5&k=10")
    card_ids(page, 10)
    page.locator("summary", has_text="Filters").click()
    page.get_by_label("At least this many ratings").fill("50")
    page.get_by_label("Genre").fill("Comedy")
    page.get_by_label("From year").fill("1990")
    page.get_by_label("From year").press("Tab")
    page.wait_for_url(re.compile(r"&n=50&g=Comedy&y0=1990$"))
    card_ids(page, 10)
    for sub in page.locator("#recs .card .sub").all_inner_texts():
        year, genres, count = sub.split(" \u00b7 ")
        assert int(year) >= 1990
        assert "Comedy" in genres.split(", ")
        assert int(count.removesuffix(" ratings")) >= 50
    shot(page, "filters")
    listed = card_ids(page, 10)
    page.reload()
    assert card_ids(page, 10) == listed
    assert page.get_by_label("Genre").input_value() == "Comedy"
