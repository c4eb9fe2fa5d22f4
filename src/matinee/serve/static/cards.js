// Recommendation cards and similar-movie rows.
import { describe, el, meter } from "./dom.js";

/** One recommendation card; ``onSimilar(item, button)`` and ``onRate(item)`` handle its buttons. */
export function card(item, onSimilar, onRate) {
  const titleId = `rec-title-${item.movie_id}`;
  const numbers = el("p", { class: "numbers" });
  if (item.predicted_rating !== null && item.predicted_rating !== undefined) {
    const p = Number(item.predicted_rating).toFixed(1);
    numbers.append("Predicted ", el("strong", {}, p), " ", meter(item.predicted_rating, `${p} of 5 stars`), " \u00b7 ");
  }
  numbers.append(`score ${Number(item.score).toPrecision(3)}`);
  const because = (item.because || []).map((b) => b.title);
  const similarButton = el("button", { type: "button", "aria-controls": "similar",
    "aria-label": `Similar movies to ${item.title}`,
    onclick: () => onSimilar(item, similarButton) }, "Similar movies");
  return el("li", { class: "card", "data-movie-id": String(item.movie_id) },
    el("article", { "aria-labelledby": titleId },
      el("h3", { id: titleId }, el("span", { class: "rank" }, `${item.rank}. `), item.title),
      el("p", { class: "sub" }, describe(item)),
      numbers,
      because.length ? el("p", { class: "why" }, `Because you rated ${because.join(", ")}`) : null,
      el("div", { class: "row" }, similarButton,
        el("button", { type: "button", class: "quiet", "aria-label": `Rate ${item.title}`,
          onclick: () => onRate(item) }, "Rate it"))));
}

/** One row of the similar-movies list, with a button to rate it. */
export function similarRow(item, onRate) {
  return el("li", {},
    el("span", { class: "title" }, item.title),
    el("span", { class: "sub" }, `${describe(item)} \u00b7 score ${Number(item.score).toPrecision(3)}`),
    el("button", { type: "button", class: "quiet", "aria-label": `Rate ${item.title}`,
      onclick: () => onRate(item) }, "Rate it"));
}
