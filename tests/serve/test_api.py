"""Every endpoint and every error case of the JSON API, in process (httpx TestClient)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from matinee.serve import ServeLimits, create_app

pytestmark = pytest.mark.slow

RATED = {"1": 5, "Aladdin (1992)": 4.5, "Lion King, The (1994)": 5, "121": 2}


def error_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert "Traceback" not in response.text
    return dict(body["error"])


def test_health_and_ready(client: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = {"status": "ready", "models": ["ease", "bmf"], "worker_pid": os.getpid()}
    assert client.get("/readyz").json() == ready


def test_models_describe_each_bundle(client: Any, models: Any) -> None:
    body = client.get("/api/v1/models").json()
    assert body["default"] == "ease"
    by_name = {m["name"]: m for m in body["models"]}
    assert list(by_name) == ["ease", "bmf"]
    ease, bmf = by_name["ease"], by_name["bmf"]
    assert ease["model"] == "ease" and bmf["model"] == "biased-mf"
    assert ease["predicts_ratings"] is False and bmf["predicts_ratings"] is True
    assert bmf["config"]["n_factors"] == 8
    assert ease["n_users"] == 943 and ease["n_movies"] == 1682
    assert ease["rating_scale"] == [1.0, 5.0]
    assert ease["data_fingerprint"] and isinstance(ease["format_version"], int)
    assert ease["last_reload_error"] is None and ease["has_report"] is False


def test_search_finds_toy_story(client: Any) -> None:
    body = client.get("/api/v1/movies/search", params={"q": "toy story", "limit": 5}).json()
    assert body["query"] == "toy story"
    first = body["results"][0]
    assert first["movie_id"] == 1 and first["title"] == "Toy Story (1995)"
    assert first["year"] == 1995 and "Animation" in first["genres"] and first["n_ratings"] > 0


def test_search_is_fuzzy_and_bounded(client: Any) -> None:
    typo = client.get("/api/v1/movies/search", params={"q": "toy stroy"}).json()
    assert 1 in [movie["movie_id"] for movie in typo["results"]]
    many = client.get("/api/v1/movies/search", params={"q": "the", "limit": 50}).json()
    assert 0 < len(many["results"]) <= 50
    error_of(
        client.get("/api/v1/movies/search", params={"q": "a", "limit": 51}), 422, "validation_error"
    )
    error_of(client.get("/api/v1/movies/search", params={"q": "x" * 201}), 422, "validation_error")
    error_of(client.get("/api/v1/movies/search", params={"q": ""}), 422, "validation_error")
    error_of(client.get("/api/v1/movies/search"), 422, "validation_error")


def test_movie_details_and_unknown_movie(client: Any) -> None:
    movie = client.get("/api/v1/movies/50").json()
    assert movie["title"] == "Star Wars (1977)" and movie["year"] == 1977
    error = error_of(client.get("/api/v1/movies/99999"), 404, "unknown_id")
    assert error["details"]["unknown"] == [99999]
    error_of(client.get("/api/v1/movies/abc"), 422, "validation_error")


def test_similar_movies(client: Any) -> None:
    body = client.get("/api/v1/movies/1/similar", params={"k": 5}).json()
    assert body["model"] == "ease" and body["movie"]["movie_id"] == 1
    ids = [item["movie_id"] for item in body["items"]]
    assert len(ids) == 5 and 1 not in ids
    assert [item["rank"] for item in body["items"]] == [1, 2, 3, 4, 5]
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    other = client.get("/api/v1/movies/1/similar", params={"k": 3, "model": "bmf"}).json()
    assert other["model"] == "bmf" and len(other["items"]) == 3
    error_of(client.get("/api/v1/movies/99999/similar"), 404, "unknown_id")


def test_new_user_by_ids_and_titles(client: Any) -> None:
    response = client.post("/api/v1/recommendations", json={"ratings": RATED, "k": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "ease"
    resolved = {r["query"]: r["movie_id"] for r in body["resolved"]}
    assert resolved == {"1": 1, "Aladdin (1992)": 95, "Lion King, The (1994)": 71, "121": 121}
    items = body["items"]
    assert len(items) == 10 and not {item["movie_id"] for item in items} & set(resolved.values())
    assert all(item["predicted_rating"] is None for item in items)
    assert any(item["because"] for item in items)
    for reason in (r for item in items for r in item["because"]):
        assert reason["movie_id"] in resolved.values()


def test_new_user_list_form_with_rating_model(client: Any) -> None:
    ratings = [{"movie_id": 1, "rating": 5}, {"title": "Aladdin (1992)", "rating": 1.5}]
    body = client.post(
        "/api/v1/recommendations", json={"ratings": ratings, "k": 7, "model": "bmf"}
    ).json()
    assert body["model"] == "bmf" and len(body["items"]) == 7
    assert [r["query"] for r in body["resolved"]] == ["1", "Aladdin (1992)"]
    assert all(1.0 <= item["predicted_rating"] <= 5.0 for item in body["items"])


def test_new_user_filters(client: Any) -> None:
    body = {
        "ratings": RATED,
        "k": 10,
        "genres": ["Comedy"],
        "years": [1990, 1995],
        "min_ratings": 50,
        "exclude": [588],
    }
    items = client.post("/api/v1/recommendations", json=body).json()["items"]
    assert items
    for item in items:
        assert "Comedy" in item["genres"] and 1990 <= item["year"] <= 1995
        assert item["n_ratings"] >= 50 and item["movie_id"] != 588


def test_known_user(client: Any, models: Any) -> None:
    body = client.get("/api/v1/users/1/recommendations", params={"k": 10, "model": "bmf"}).json()
    assert body["model"] == "bmf" and body["user_id"] == 1 and len(body["items"]) == 10
    table = models.data.ratings.to_polars()
    seen = set(table.filter(table["user_id"] == 1)["movie_id"].to_list())
    assert len(seen) > 100
    assert not seen & {item["movie_id"] for item in body["items"]}
    filtered = client.get(
        "/api/v1/users/1/recommendations",
        params={"genres": "Comedy,Drama", "min_year": 1990, "max_year": 1999, "min_ratings": 5},
    ).json()
    for item in filtered["items"]:
        assert {"Comedy", "Drama"} & set(item["genres"]) and 1990 <= item["year"] <= 1999
    error = error_of(client.get("/api/v1/users/99999/recommendations"), 404, "unknown_id")
    assert error["details"]["unknown"] == [99999]
    bad_years = client.get(
        "/api/v1/users/1/recommendations", params={"min_year": 2000, "max_year": 1990}
    )
    error_of(bad_years, 422, "invalid_parameter")


def post(client: Any, body: Any) -> Any:
    return client.post("/api/v1/recommendations", json=body)


def test_calibration_is_auto_or_a_number(client: Any) -> None:
    for strength in ("auto", 0, 0.7):
        response = post(client, {"ratings": RATED, "k": 10, "calibration": strength})
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == 10
    for bad in ("strong", 1.5, True):
        error_of(post(client, {"ratings": RATED, "calibration": bad}), 422, "validation_error")


def test_every_unknown_id_and_title_is_listed(client: Any) -> None:
    body = {"ratings": {"99998": 4, "1": 5, "99999": 3, "qqqzzzxxx wwwvvv": 2}}
    error = error_of(post(client, body), 404, "unknown_id")
    assert sorted(map(str, error["details"]["unknown"])) == ["99998", "99999", "qqqzzzxxx wwwvvv"]
    huge = error_of(post(client, {"ratings": {"9" * 30: 4, "99999": 3}}), 404, "unknown_id")
    assert sorted(map(str, huge["details"]["unknown"])) == sorted(["9" * 30, "99999"])


def test_ambiguous_title_is_409_with_candidates(client: Any) -> None:
    error = error_of(post(client, {"ratings": {"Star Trek": 4}}), 409, "ambiguous_title")
    candidates = error["details"]["candidates"]["Star Trek"]
    assert len(candidates) > 1 and all("Star Trek" in movie["title"] for movie in candidates)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"ratings": {"1": 5}, "k": 101}, 422, "validation_error"),
        ({"ratings": {"1": 5}, "k": 0}, 422, "validation_error"),
        ({"ratings": {"1": 5}, "k": "ten"}, 422, "validation_error"),
        ({"ratings": {"1": 5}, "k": 2.5}, 422, "validation_error"),
        ({"ratings": {"1": 9}}, 422, "invalid_input"),
        ({"ratings": {"1": 0}}, 422, "invalid_input"),
        ({"ratings": {"1": True}}, 422, "validation_error"),
        ({"ratings": [{"movie_id": 1, "rating": False}]}, 422, "validation_error"),
        ({"ratings": {"1": "5"}}, 422, "validation_error"),
        ({"ratings": {}}, 422, "validation_error"),
        ({"ratings": []}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"ratings": "1:5"}, 422, "validation_error"),
        ({"ratings": [{"movie_id": "1", "rating": 5}]}, 422, "validation_error"),
        (
            {"ratings": [{"movie_id": 1, "title": "Toy Story", "rating": 5}]},
            422,
            "validation_error",
        ),
        ({"ratings": {"1": 5}, "surprise": 1}, 422, "validation_error"),
        ({"ratings": {"1": 5}, "years": [2000, 1990]}, 422, "invalid_parameter"),
        ({"ratings": {"1": 5, "Toy Story (1995)": 4}}, 422, "invalid_input"),
        ({"ratings": {"1": 5}, "model": "nope"}, 404, "unknown_model"),
    ],
)
def test_bad_bodies(client: Any, body: Any, status: int, code: str) -> None:
    error = error_of(post(client, body), status, code)
    assert error["message"].endswith(".")


def test_validation_error_names_the_field(client: Any) -> None:
    error = error_of(post(client, {"ratings": {"1": True}}), 422, "validation_error")
    assert error["message"].startswith("body.ratings.1:")
    assert error["details"]["errors"][0]["loc"] == ["body", "ratings", "1"]


def test_too_many_ratings(client: Any) -> None:
    ratings = {str(movie): 3 for movie in range(1, 1002)}
    error = error_of(post(client, {"ratings": ratings}), 422, "validation_error")
    assert "1000" in error["message"]


def test_body_too_big_and_not_json(client: Any) -> None:
    big = b'{"ratings": {"1": 5}, "pad": "' + b"x" * 300_000 + b'"}'
    headers = {"content-type": "application/json"}
    error = error_of(
        client.post("/api/v1/recommendations", content=big, headers=headers), 413, "body_too_large"
    )
    assert "262144" in error["message"]

    def chunks() -> Any:
        yield b'{"ratings": {"1": 5}, "pad": "'
        for _ in range(300):
            yield b"x" * 1024

    streamed = client.post("/api/v1/recommendations", content=chunks(), headers=headers)
    error_of(streamed, 413, "body_too_large")
    broken = client.post("/api/v1/recommendations", content=b"{not json", headers=headers)
    error_of(broken, 422, "validation_error")


def test_unknown_route_wrong_method_unknown_model(client: Any) -> None:
    error_of(client.get("/api/v1/nothing"), 404, "not_found")
    error_of(client.delete("/api/v1/models"), 405, "method_not_allowed")
    error = error_of(client.get("/api/v1/movies/1", params={"model": "nope"}), 404, "unknown_model")
    assert error["details"]["unknown"] == ["nope"] and error["details"]["known"] == ["ease", "bmf"]


def test_admin_reload(client: Any) -> None:
    assert client.post("/api/v1/admin/reload").json() == {
        "reloaded": ["ease", "bmf"],
        "refused": {},
    }
    one = client.post("/api/v1/admin/reload", json={"model": "bmf"}).json()
    assert one == {"reloaded": ["bmf"], "refused": {}}
    error_of(client.post("/api/v1/admin/reload", json={"model": "nope"}), 404, "unknown_model")


def test_report_absent_then_present(client: Any, models: Any, tmp_path: Any) -> None:
    error_of(client.get("/api/v1/models/ease/report/"), 404, "no_report")
    error_of(client.get("/api/v1/models/nope/report/"), 404, "unknown_model")


def test_report_files_served_and_contained(models: Any, tmp_path: Any, make_client: Any) -> None:
    import shutil

    directory = tmp_path / "reported"
    shutil.copytree(models.ease, directory)
    (directory / "report").mkdir()
    (directory / "report" / "index.html").write_text("<h1>report</h1>")
    (directory / "report" / "map.png").write_bytes(b"\x89PNG picture")
    (tmp_path / "secret.txt").write_text("secret")
    with make_client(create_app([directory], watch=False)) as local:
        assert local.get("/api/v1/models").json()["models"][0]["has_report"] is True
        assert local.get("/api/v1/models/reported/report/").text == "<h1>report</h1>"
        assert local.get("/api/v1/models/reported/report/map.png").content == b"\x89PNG picture"
        redirect = local.get("/api/v1/models/reported/report", follow_redirects=False)
        assert redirect.status_code == 307
        assert redirect.headers["location"].endswith("/report/")
        escape = local.get("/api/v1/models/reported/report/..%2F..%2Fsecret.txt")
        assert error_of(escape, 404, "not_found") and escape.text != "secret"


def test_page_and_docs(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert client.get("/docs").status_code == 200
    error_of(client.get("/static/no-such-file.js"), 404, "not_found")
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in (
        "/healthz",
        "/readyz",
        "/api/v1/models",
        "/api/v1/movies/search",
        "/api/v1/movies/{movie_id}",
        "/api/v1/movies/{movie_id}/similar",
        "/api/v1/recommendations",
        "/api/v1/users/{user_id}/recommendations",
        "/api/v1/admin/reload",
    ):
        assert path in paths
    body = paths["/api/v1/recommendations"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]


def test_limits_are_configurable(models: Any, make_client: Any) -> None:
    limits = ServeLimits(max_k=5, max_ratings=2, max_body_bytes=1024, max_search_limit=3)
    with make_client(create_app([models.ease], limits=limits, watch=False)) as local:
        assert (
            local.post("/api/v1/recommendations", json={"ratings": {"1": 5}, "k": 5}).status_code
            == 200
        )
        error_of(
            local.post("/api/v1/recommendations", json={"ratings": {"1": 5}, "k": 6}),
            422,
            "validation_error",
        )
        three = {"ratings": {"1": 5, "2": 4, "3": 3}}
        error_of(local.post("/api/v1/recommendations", json=three), 422, "validation_error")
        error_of(
            local.get("/api/v1/movies/search", params={"q": "a", "limit": 4}),
            422,
            "validation_error",
        )
        padded = {"ratings": {"1": 5}, "genres": ["x" * 2000]}
        error_of(local.post("/api/v1/recommendations", json=padded), 413, "body_too_large")
        schema = local.get("/openapi.json").json()
    k = schema["paths"]["/api/v1/movies/{movie_id}/similar"]["get"]["parameters"]
    assert next(p for p in k if p["name"] == "k")["schema"]["maximum"] == 5


def test_bad_limits_and_dirs_refused(models: Any, tmp_path: Any) -> None:
    from matinee.errors import ConfigError, ModelFormatError

    with pytest.raises(ConfigError, match="max_k"):
        ServeLimits(max_k=0)
    with pytest.raises(ConfigError, match="max_k"):
        ServeLimits(max_k=5000)
    with pytest.raises(ConfigError, match="at least one"):
        create_app([])
    with pytest.raises(ConfigError, match="distinct"):
        create_app([models.ease, models.ease])
    with pytest.raises(ModelFormatError):
        create_app([tmp_path / "missing"])


def test_ids_beyond_any_movie_are_refused_not_crashed(client: Any) -> None:
    # Found by schemathesis: an exclusion past int64 used to reach numpy and overflow.
    huge = str(2**63)
    for path in ("/api/v1/movies/1/similar", "/api/v1/users/1/recommendations"):
        error_of(client.get(path, params={"exclude": huge}), 422, "validation_error")
    error_of(client.get(f"/api/v1/movies/{huge}"), 422, "validation_error")


def test_an_app_answers_again_after_its_lifespan_restarts(models: Any, make_client: Any) -> None:
    """Scoring threads stop with the lifespan and start again with the next one."""
    app = create_app([models.ease], watch=False)
    for _ in range(2):
        with make_client(app) as client:
            response = client.post("/api/v1/recommendations", json={"ratings": RATED, "k": 3})
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) == 3
