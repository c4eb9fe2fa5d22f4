// Small helpers shared by the page's modules: the API call, element building, star meters.

export const $ = (id) => document.getElementById(id);

/** The half-star values a rating can take, 0.5 to 5. */
export const HALVES = Array.from({ length: 10 }, (_, i) => (i + 1) / 2);

export class ApiError extends Error {
  constructor(status, body) {
    const e = body && body.error;
    super(e && e.message ? e.message : `The server answered ${status}.`);
    this.status = status;
    this.details = (e && e.details) || {};
  }
}

/** Fetch JSON from the API; a non-2xx answer becomes an ApiError carrying its message. */
export async function api(path, options = {}) {
  const resp = await fetch(path, options);
  let body = null;
  try {
    body = await resp.json();
  } catch (_) {
    body = null;
  }
  if (!resp.ok) throw new ApiError(resp.status, body);
  return body;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && !key.includes("-")) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/** Stars filled to ``value`` of 5, read out as ``label``. */
export function meter(value, label) {
  return el("span", { class: "meter", style: `--v:${value}`, role: "img", "aria-label": label });
}

/** "1995 · Comedy, Drama · 215 ratings": the line under a title. */
export function describe(movie) {
  const count = movie.n_ratings === undefined ? null : `${movie.n_ratings} ratings`;
  return [movie.year ?? null, movie.genres ? movie.genres.join(", ") : null, count]
    .filter((part) => part !== null && part !== "").join(" \u00b7 ");
}
