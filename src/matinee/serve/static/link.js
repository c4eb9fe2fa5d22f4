// The address as the page's memory: #r=364:5,588:4.5&m=name&k=10&n=20&g=Comedy&y0=1990&y1=1999.

/** The filter keys kept in the address: minimum ratings, genre(s), first and last year. */
export const FILTER_KEYS = ["n", "g", "y0", "y1"];

/** Read an address hash; ``bad`` lists the rating pairs that could not be read. */
export function parseLink(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const ratings = new Map();
  const bad = [];
  for (const pair of (params.get("r") || "").split(",").filter(Boolean)) {
    const [id, value] = pair.split(":");
    const movieId = Number(id);
    const rating = Number(value);
    if (Number.isInteger(movieId) && value !== undefined && Number.isFinite(rating)) {
      ratings.set(movieId, rating);
    } else {
      bad.push(pair);
    }
  }
  const filters = Object.fromEntries(FILTER_KEYS.map((key) => [key, params.get(key) || ""]));
  return { ratings, model: params.get("m"), k: params.has("k") ? Number(params.get("k")) : null, filters, bad };
}

/** Write ratings, model, list length and the filters that are set as an address hash. */
export function formatLink(ratings, model, k, filters) {
  const r = [...ratings].map(([id, rating]) => `${id}:${rating}`).join(",");
  const set = FILTER_KEYS.filter((key) => filters[key] !== "")
    .map((key) => `&${key}=${encodeURIComponent(filters[key])}`).join("");
  return `#r=${r}&m=${encodeURIComponent(model)}&k=${k}${set}`;
}

/** The filters as the recommendations endpoint takes them; numbers stay as typed for the API to judge. */
export function filterBody(filters) {
  const number = (text) => (text === "" ? null : Number(text));
  const body = {};
  if (filters.n !== "") body.min_ratings = number(filters.n);
  if (filters.g.trim()) body.genres = filters.g.split(",").map((g) => g.trim()).filter(Boolean);
  if (filters.y0 !== "" || filters.y1 !== "") body.years = [number(filters.y0), number(filters.y1)];
  return body;
}
