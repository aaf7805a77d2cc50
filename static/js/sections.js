// Helpers for the model page's sections: each has a .note for "not available" and errors.
import { ApiError } from "./api.js";

export function section(id) {
  const node = document.getElementById(id);
  return {
    node,
    note(text) {
      const note = node.querySelector(".note");
      note.textContent = text;
      note.hidden = !text;
    },
  };
}

// A 404 from a section's endpoint means the server does not offer it (yet).
export function explainFailure(part, what, error) {
  if (error.name === "AbortError") return;
  if (error instanceof ApiError && error.status === 404) {
    part.note(`${what} is not available on this server yet.`);
  } else {
    part.note(`${what} could not be loaded: ${error.message}`);
  }
}

export function formatNumber(value) {
  return typeof value === "number" ? value.toLocaleString("en-US") : value ?? "";
}

export function formatShape(shape) {
  if (Array.isArray(shape)) return `(${shape.map((d) => (d === null ? "N" : d)).join(", ")})`;
  return shape ?? "";
}

// Show a small grid picture enlarged by a whole factor, its longer side near `side` pixels.
export function showPixels(image, src, side = 560) {
  image.onload = () => {
    const longer = Math.max(image.naturalWidth, image.naturalHeight) || 1;
    const factor = Math.max(1, Math.floor(side / longer));
    image.style.width = `${image.naturalWidth * factor}px`;
  };
  image.src = src;
}
