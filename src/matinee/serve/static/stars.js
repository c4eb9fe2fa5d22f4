// The half-star rating control: ten labelled radios painted as five stars.
import { $, HALVES, el } from "./dom.js";

/** Build the radios into #stars; Enter submits #rate-form, Escape calls ``onEscape``. */
export function buildStars(onEscape) {
  const box = $("stars");
  HALVES.forEach((value, i) => {
    const id = `star-${i + 1}`;
    const input = el("input", { type: "radio", name: "stars", id, value: String(value) });
    const label = el("label", { for: id, class: `half ${i % 2 ? "right" : "left"}` },
      el("span", { class: "glyph", "aria-hidden": "true" }, "\u2605"),
      el("span", { class: "sr" }, `${value} star${value === 1 ? "" : "s"}`));
    label.addEventListener("mouseenter", () => paintStars(value));
    box.append(input, label);
  });
  box.addEventListener("mouseleave", () => paintStars(checkedStars()));
  box.addEventListener("change", () => paintStars(checkedStars()));
  box.addEventListener("keydown", (event) => {
    if ("12345".includes(event.key) && event.key.length === 1) {
      setStars(Number(event.key));
      event.preventDefault();
    } else if (event.key === "Enter") {
      event.preventDefault();
      $("rate-form").requestSubmit();
    } else if (event.key === "Escape") {
      closeRating();
    }
  });
}

export function checkedStars() {
  const checked = $("stars").querySelector("input:checked");
  return checked ? Number(checked.value) : 0;
}

export function setStars(value) {
  const input = $("stars").querySelector(`input[value="${value}"]`);
  if (input) {
    input.checked = true;
    input.focus();
  }
  paintStars(checkedStars());
}

export function paintStars(value) {
  for (const label of $("stars").querySelectorAll("label")) {
    const own = Number($(label.htmlFor).value);
    label.classList.toggle("on", own <= value);
  }
  $("stars-value").textContent = value ? `${value} of 5 stars` : "No rating chosen yet";
}
