// Ways to give an image: the file picker, drag and drop, paste, and the shipped samples.
// Each calls onImage(blob, description).
import { apiFetch } from "./api.js";
import { el, sharpWhenSmall, showError } from "./messages.js";

export function installFilePicker(input, onImage) {
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (file) onImage(file, `file ${file.name}`);
  });
}

export function installDrop(zone, onImage) {
  const stop = (event) => {
    event.preventDefault();
    event.stopPropagation();
  };
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      stop(event);
      zone.classList.add("dragging");
    });
  }
  zone.addEventListener("dragleave", (event) => {
    stop(event);
    zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", (event) => {
    stop(event);
    zone.classList.remove("dragging");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) onImage(file, `dropped file ${file.name}`);
  });
}

export function installPaste(onImage) {
  document.addEventListener("paste", (event) => {
    const items = event.clipboardData ? Array.from(event.clipboardData.items) : [];
    const item = items.find((entry) => entry.kind === "file");
    if (!item) return;
    event.preventDefault();
    const file = item.getAsFile();
    if (file) onImage(file, "pasted image");
  });
}

// Buttons for static/samples/<model>/*; a click loads the picture as the image.
export function renderSamples(list, samples, onImage) {
  list.replaceChildren();
  for (const sample of samples) {
    const name = `sample ${sample.label}`;
    const button = el(
      "button",
      { type: "button", class: "sample", "data-label": sample.label, "aria-label": `Use ${name}` },
      sharpWhenSmall(el("img", { src: sample.url, alt: "", width: 28, height: 28 })),
    );
    button.addEventListener("click", async () => {
      try {
        onImage(await fetchSample(sample), name);
      } catch (error) {
        showError(error);
      }
    });
    list.append(el("li", {}, button));
  }
  list.closest(".samples")?.toggleAttribute("hidden", samples.length === 0);
}

export async function fetchSample(sample) {
  const blob = await (await apiFetch(sample.url)).blob();
  return new File([blob], sample.url.split("/").pop(), { type: blob.type || "image/png" });
}

// The current image is shared with the model page through sessionStorage (small images only).
const SHARED_IMAGE = "lantern.image";

export function shareImage(blob, description) {
  if (blob.size > 1_500_000) return;
  const reader = new FileReader();
  reader.onload = () => {
    try {
      sessionStorage.setItem(SHARED_IMAGE, JSON.stringify({ url: reader.result, description }));
    } catch {
      // storage full or disabled: the model page asks for an image instead
    }
  };
  reader.readAsDataURL(blob);
}

export async function sharedImage() {
  let stored = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(SHARED_IMAGE) || "null");
  } catch {
    return null;
  }
  if (!stored || !stored.url) return null;
  const blob = await (await fetch(stored.url)).blob();
  return { blob, description: stored.description || "image from the main page" };
}
