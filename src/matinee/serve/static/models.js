// The model switcher, the model's one-line summary and its explain report (link and inline frame).
import { $, el } from "./dom.js";

/** Fill the model select with every served model, ``selected`` chosen. */
export function fillModels(models, selected) {
  $("model").replaceChildren(...models.map((m) =>
    el("option", { value: m.name, selected: m.name === selected }, `${m.name} (${m.model})`)));
}

/** Show what ``info`` (one entry of /api/v1/models) is, and its report where it has one. */
export function showModel(info) {
  if (!info) return;
  const metrics = Object.entries(info.metrics || {})
    .filter(([, v]) => typeof v === "number").slice(0, 3)
    .map(([k, v]) => `${k} ${v.toPrecision(3)}`);
  $("model-info").textContent = [info.model, `${info.n_users} users`, `${info.n_movies} movies`,
    info.predicts_ratings ? "predicts ratings" : "ranks movies", ...metrics].join(" \u00b7 ");
  $("report").hidden = !info.has_report;
  const href = `api/v1/models/${encodeURIComponent(info.name)}/report/`;
  $("report-link").href = href;
  $("report-frame").hidden = true;
  $("report-frame").removeAttribute("src");
  $("report-frame").dataset.src = href;
  $("report-toggle").setAttribute("aria-expanded", "false");
  $("report-toggle").textContent = "Show it here";
}

/** Open or close the report inside the page, loading it the first time. */
export function toggleReport() {
  const frame = $("report-frame");
  const open = frame.hidden;
  if (open && !frame.getAttribute("src")) frame.src = frame.dataset.src;
  frame.hidden = !open;
  $("report-toggle").setAttribute("aria-expanded", String(open));
  $("report-toggle").textContent = open ? "Hide it" : "Show it here";
}
