// The model page's class list: every label with its index, in a scrolling box with a search
// field once there are more than a screenful (an ImageNet model has 1,000).
import { el } from "./messages.js";

const SEARCH_FROM = 24; // labels

export function renderClassList(labels) {
  const list = document.getElementById("class-list");
  list.replaceChildren(
    ...labels.map((label, index) => el("li", { value: index, "data-label": label.toLowerCase(), text: label })),
  );
  document.getElementById("class-count").textContent = `(${labels.length.toLocaleString("en-US")})`;
  const searchable = labels.length > SEARCH_FROM;
  list.classList.toggle("long", searchable);
  list.classList.toggle("plain", labels.every((label, index) => label === String(index))); // digits
  document.getElementById("class-search-field").hidden = !searchable;
  if (searchable) {
    list.tabIndex = 0;
    list.setAttribute("aria-label", "Classes, scrolls");
    const search = document.getElementById("class-search");
    search.addEventListener("input", () => filter(list, search.value));
  }
}

function filter(list, text) {
  const wanted = text.trim().toLowerCase();
  let shown = 0;
  for (const item of list.children) {
    const match = !wanted || item.dataset.label.includes(wanted) || String(item.value) === wanted;
    item.hidden = !match;
    if (match) shown += 1;
  }
  document.getElementById("class-found").textContent = wanted ? `${shown} found` : "";
}
