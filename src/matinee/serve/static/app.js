// Matinee's web page: search, rate by half stars, recommendations, similar movies.
// Plain JavaScript, no framework and no build step. The ratings live in the page and in
// the address (#r=364:5,588:4.5&m=name&k=10) so a list can be shared; the server keeps none.
import { $, ApiError, HALVES, api, el, meter } from "./dom.js";
import { buildStars, checkedStars, paintStars } from "./stars.js";
import { card, similarRow } from "./cards.js";
import { filterBody, formatLink, parseLink } from "./link.js";
import { fillModels, showModel, toggleReport } from "./models.js";

(() => {
  const state = {
    models: [],
    model: "",
    k: 10,
    filters: { n: "", g: "", y0: "", y1: "" }, // min ratings, genre, years: as typed
    genres: new Set(), // every genre seen, for the genre input's suggestions
    ratings: new Map(), // movie_id -> rating
    movies: new Map(), // movie_id -> movie (title, year, genres, ...)
    pending: null, // the movie being rated
    results: [], // search results shown
    active: -1, // highlighted search result
    opener: null, // the button that opened the similar panel
  };
  let searchTimer = 0;
  let searchAbort = null;
  let recTimer = 0;
  let recSeq = 0;

  // ---- errors -------------------------------------------------------------------------
  function showError(err) {
    if (err && err.name === "AbortError") return;
    const box = $("error");
    box.replaceChildren(el("p", {}, err instanceof ApiError ? err.message
      : `Could not reach the server (${err && err.message ? err.message : err}).`));
    const details = (err && err.details) || {};
    if (Array.isArray(details.unknown) && details.unknown.length) {
      box.append(el("p", {}, `Unknown: ${details.unknown.join(", ")}`));
    }
    if (details.candidates && typeof details.candidates === "object") {
      for (const [query, movies] of Object.entries(details.candidates)) {
        box.append(el("p", {}, `"${query}" could be: ${movies.map((m) => m.title).join("; ")}`));
      }
    }
    box.hidden = false;
  }

  function clearError() {
    $("error").hidden = true;
    $("error").replaceChildren();
  }

  // ---- the address ----------------------------------------------------------------------
  function readHash() {
    const link = parseLink(location.hash);
    state.ratings = link.ratings;
    if (link.model !== null) state.model = link.model;
    if (link.k !== null) state.k = link.k;
    state.filters = link.filters;
    if (link.bad.length) showError(new Error(`this link has ratings it cannot read: ${link.bad.join(", ")}`));
  }

  function writeHash() {
    history.replaceState(null, "", formatLink(state.ratings, state.model, state.k, state.filters));
  }

  // ---- rating one movie ---------------------------------------------------------------
  function openRating(movie) {
    state.movies.set(movie.movie_id, movie);
    state.pending = movie;
    $("rate-title").textContent = movie.title;
    for (const input of $("stars").querySelectorAll("input")) input.checked = false;
    const current = state.ratings.get(movie.movie_id);
    const input = current ? $("stars").querySelector(`input[value="${current}"]`) : null;
    if (input) input.checked = true;
    paintStars(checkedStars());
    $("rate-form").hidden = false;
    ($("stars").querySelector("input:checked") || $("star-1")).focus();
  }

  function closeRating() {
    state.pending = null;
    $("rate-form").hidden = true;
    $("search").focus();
  }

  function submitRating(event) {
    event.preventDefault();
    const value = checkedStars();
    if (!state.pending) return;
    if (!value) {
      $("stars-value").textContent = "Pick a rating first";
      return;
    }
    state.ratings.set(state.pending.movie_id, value);
    $("search").value = "";
    closeRating();
    ratingsChanged();
  }

  // ---- rated list -----------------------------------------------------------------------
  function titleOf(id) {
    const movie = state.movies.get(id);
    return movie ? movie.title : `Movie ${id}`;
  }

  function renderRated() {
    const list = $("rated");
    list.replaceChildren();
    for (const [id, rating] of state.ratings) {
      const select = el("select", { id: `rated-${id}`, onchange: () => {
        state.ratings.set(id, Number(select.value));
        ratingsChanged();
      } });
      for (const value of HALVES) {
        select.append(el("option", { value: String(value), selected: value === rating }, `${value} \u2605`));
      }
      const title = titleOf(id);
      list.append(el("li", { "data-movie-id": String(id) },
        el("span", { class: "title" }, title),
        meter(rating, `${rating} of 5 stars`),
        el("label", { for: select.id, class: "sr" }, `Rating for ${title}`),
        select,
        el("button", { type: "button", class: "quiet", "aria-label": `Remove ${title}`,
          onclick: () => removeRating(id) }, "Remove")));
    }
    $("rated-count").textContent = String(state.ratings.size);
    $("rated-empty").hidden = state.ratings.size > 0;
  }

  function removeRating(id) {
    state.ratings.delete(id);
    ratingsChanged();
    const next = $("rated").querySelector("button") || $("search");
    next.focus();
  }

  function ratingsChanged() {
    writeHash();
    renderRated();
    scheduleRecommend();
  }

  /** Fetch the titles of rated movies known only by id (as after opening a shared link). */
  async function loadTitles() {
    const missing = [...state.ratings.keys()].filter((id) => !state.movies.has(id));
    const query = state.model ? `?model=${encodeURIComponent(state.model)}` : "";
    const found = await Promise.allSettled(missing.map((id) => api(`api/v1/movies/${id}${query}`)));
    const unknown = [];
    found.forEach((result, i) => {
      if (result.status === "fulfilled") state.movies.set(result.value.movie_id, result.value);
      else unknown.push(missing[i]);
    });
    renderRated();
    if (unknown.length) {
      showError(new ApiError(404, { error: { message: "Some rated movies are not in this model's catalogue.",
        details: { unknown } } }));
    }
  }

  // ---- search ---------------------------------------------------------------------------
  function onSearchInput() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 150);
  }

  async function search() {
    const q = $("search").value.trim();
    if (searchAbort) searchAbort.abort();
    if (q.length < 2) {
      closeResults();
      $("search-status").textContent = "";
      return;
    }
    searchAbort = new AbortController();
    const model = state.model ? `&model=${encodeURIComponent(state.model)}` : "";
    try {
      const body = await api(`api/v1/movies/search?q=${encodeURIComponent(q)}&limit=10${model}`,
        { signal: searchAbort.signal });
      clearError();
      if (document.activeElement !== $("search")) return;
      showResults(body.results);
      $("search-status").textContent = body.results.length
        ? `${body.results.length} titles found.` : `No titles match "${q}".`;
    } catch (err) {
      showError(err);
    }
  }

  function showResults(results) {
    learnGenres(results);
    state.results = results;
    state.active = -1;
    const list = $("results");
    list.replaceChildren(...results.map((movie, i) => {
      const rated = state.ratings.get(movie.movie_id);
      return el("li", { id: `result-${i}`, role: "option", "aria-selected": "false",
        onmousedown: (event) => event.preventDefault(), onclick: () => pick(i) },
      el("span", { class: "title" }, movie.title),
      el("span", { class: "sub" }, [movie.genres.join(", "), `${movie.n_ratings} ratings`,
        rated ? `you rated ${rated}` : null].filter(Boolean).join(" \u00b7 ")));
    }));
    list.hidden = results.length === 0;
    $("search").setAttribute("aria-expanded", String(results.length > 0));
    $("search").removeAttribute("aria-activedescendant");
  }

  function closeResults() {
    $("results").hidden = true;
    $("search").setAttribute("aria-expanded", "false");
    $("search").removeAttribute("aria-activedescendant");
    state.active = -1;
  }

  function highlight(index) {
    const options = $("results").querySelectorAll("[role=option]");
    if (!options.length) return;
    state.active = (index + options.length) % options.length;
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === state.active)));
    $("search").setAttribute("aria-activedescendant", options[state.active].id);
    options[state.active].scrollIntoView({ block: "nearest" });
  }

  function onSearchKey(event) {
    const open = !$("results").hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open && state.results.length) showResults(state.results);
      highlight(state.active + (event.key === "ArrowDown" ? 1 : state.active < 0 ? 0 : -1));
    } else if (event.key === "Enter" && open) {
      event.preventDefault();
      pick(state.active >= 0 ? state.active : 0);
    } else if (event.key === "Escape") {
      if (open) closeResults();
      else $("search").value = "";
    }
  }

  function pick(index) {
    const movie = state.results[index];
    clearTimeout(searchTimer);
    if (searchAbort) searchAbort.abort();
    closeResults();
    if (movie) openRating(movie);
  }

  // ---- recommendations ------------------------------------------------------------------
  function scheduleRecommend() {
    clearTimeout(recTimer);
    $("recs-section").setAttribute("aria-busy", "true");
    recTimer = setTimeout(recommend, 250);
  }

  async function recommend() {
    clearTimeout(recTimer);
    const seq = ++recSeq;
    const section = $("recs-section");
    if (!state.ratings.size) {
      $("recs").replaceChildren();
      $("recs-status").textContent = "Rate a movie to get recommendations.";
      section.setAttribute("aria-busy", "false");
      return;
    }
    section.setAttribute("aria-busy", "true");
    $("recs-status").textContent = "Finding movies for you\u2026";
    const ratings = [...state.ratings].map(([movie_id, rating]) => ({ movie_id, rating }));
    const body = { ratings, k: state.k, ...filterBody(state.filters) };
    if (state.model) body.model = state.model;
    try {
      const answer = await api("api/v1/recommendations", { method: "POST",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (seq !== recSeq) return;
      clearError();
      for (const r of answer.resolved || []) {
        if (!state.movies.has(r.movie_id)) state.movies.set(r.movie_id, { movie_id: r.movie_id, title: r.title });
      }
      renderRated();
      renderCards(answer.items);
      $("recs-status").textContent = `${answer.items.length} recommendations from ${answer.model}.`;
    } catch (err) {
      if (seq !== recSeq) return;
      $("recs").replaceChildren();
      $("recs-status").textContent = "No recommendations: see the message above.";
      showError(err);
    } finally {
      if (seq === recSeq) section.setAttribute("aria-busy", "false");
    }
  }

  function syncFilters() {
    $("min-ratings").value = state.filters.n;
    $("genre").value = state.filters.g;
    $("year-from").value = state.filters.y0;
    $("year-to").value = state.filters.y1;
  }

  function learnGenres(movies) {
    const before = state.genres.size;
    for (const movie of movies) for (const g of movie.genres || []) state.genres.add(g);
    if (state.genres.size === before) return;
    $("genre-list").replaceChildren(...[...state.genres].sort().map((g) => el("option", { value: g })));
  }

  function renderCards(items) {
    learnGenres(items);
    for (const item of items) state.movies.set(item.movie_id, item);
    $("recs").replaceChildren(...items.map((item) => card(item, openSimilar, openRating)));
  }

  // ---- similar movies -------------------------------------------------------------------
  async function openSimilar(movie, opener) {
    state.opener = opener;
    const model = state.model ? `&model=${encodeURIComponent(state.model)}` : "";
    try {
      const answer = await api(`api/v1/movies/${movie.movie_id}/similar?k=10${model}`);
      clearError();
      $("similar-heading").textContent = `Similar to ${answer.movie.title}`;
      $("similar-list").replaceChildren(...answer.items.map((item) => similarRow(item, openRating)));
      $("similar").hidden = false;
      document.querySelectorAll("[aria-controls=similar]").forEach((b) => b.setAttribute("aria-expanded", String(b === opener)));
      $("similar").scrollIntoView({ block: "nearest" });
      $("similar-heading").focus();
    } catch (err) {
      showError(err);
    }
  }

  function closeSimilar() {
    $("similar").hidden = true;
    document.querySelectorAll("[aria-controls=similar]").forEach((b) => b.setAttribute("aria-expanded", "false"));
    if (state.opener && state.opener.isConnected) state.opener.focus();
  }

  // ---- models ---------------------------------------------------------------------------
  async function loadModels() {
    const answer = await api("api/v1/models");
    state.models = answer.models;
    const names = state.models.map((m) => m.name);
    if (state.model && !names.includes(state.model)) {
      showError(new ApiError(404, { error: { message: `This link names the model "${state.model}", which is not served here; showing the default model.`, details: {} } }));
      state.model = "";
    }
    state.model = state.model || answer.default;
    fillModels(state.models, state.model);
    currentModel();
  }

  function currentModel() {
    showModel(state.models.find((m) => m.name === state.model));
  }

  // ---- wiring ---------------------------------------------------------------------------
  async function copyLink() {
    try {
      await navigator.clipboard.writeText(location.href);
      $("copy-status").textContent = "Link copied.";
    } catch (_) {
      $("copy-status").textContent = `Copy this address: ${location.href}`;
    }
  }

  async function start() {
    readHash();
    $("k").value = String(state.k);
    syncFilters();
    try {
      await loadModels();
    } catch (err) {
      showError(err);
      return;
    }
    writeHash();
    renderRated();
    await loadTitles();
    recommend();
  }

  function wire() {
    buildStars(closeRating);
    $("search").addEventListener("input", onSearchInput);
    $("search").addEventListener("keydown", onSearchKey);
    $("search").addEventListener("blur", () => setTimeout(closeResults, 100));
    $("rate-form").addEventListener("submit", submitRating);
    $("rate-cancel").addEventListener("click", closeRating);
    $("model").addEventListener("change", () => {
      state.model = $("model").value;
      currentModel();
      closeSimilar();
      writeHash();
      scheduleRecommend();
    });
    $("k").addEventListener("change", () => {
      state.k = Number($("k").value);
      writeHash();
      scheduleRecommend();
    });
    for (const [id, key] of [["min-ratings", "n"], ["genre", "g"], ["year-from", "y0"], ["year-to", "y1"]]) {
      $(id).addEventListener("change", () => {
        state.filters[key] = $(id).value.trim();
        writeHash();
        scheduleRecommend();
      });
    }
    $("similar-close").addEventListener("click", closeSimilar);
    $("similar").addEventListener("keydown", (e) => { if (e.key === "Escape") closeSimilar(); });
    $("report-toggle").addEventListener("click", toggleReport);
    $("copy-link").addEventListener("click", copyLink);
    $("clear").addEventListener("click", () => {
      state.ratings.clear();
      ratingsChanged();
    });
    window.addEventListener("hashchange", () => {
      clearError();
      readHash();
      $("k").value = String(state.k);
      syncFilters();
      $("model").value = state.model;
      currentModel();
      renderRated();
      loadTitles().then(recommend);
    });
    start();
  }

  document.addEventListener("DOMContentLoaded", wire);
})();
