// The page's two live regions: #status (polite) and #error (assertive), plus a DOM helper.
let statusTimer = null;

// A polite message that clears itself after a few seconds.
export function announce(text) {
  const status = document.getElementById("status");
  if (!status) return;
  status.textContent = text;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    status.textContent = "";
  }, 4000);
}

export function showError(error) {
  if (error && error.name === "AbortError") return;
  const box = document.getElementById("error");
  const text = document.getElementById("error-text");
  const message = error && error.message ? error.message : String(error);
  text.textContent = message;
  box.hidden = false;
}

export function clearError() {
  const box = document.getElementById("error");
  if (box) box.hidden = true;
}

export function installMessages() {
  const dismiss = document.getElementById("error-dismiss");
  if (dismiss) dismiss.addEventListener("click", clearError);
}

// el("p", {class: "hint", text: "hello"}, child, ...)
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// Small pictures (digits, CIFAR) are enlarged with sharp pixels; photos are smoothed.
export function sharpWhenSmall(image) {
  const mark = () => image.classList.toggle("pixelated", image.naturalWidth > 0 && image.naturalWidth < 112);
  image.addEventListener("load", mark);
  if (image.complete) mark();
  return image;
}

export function percent(probability) {
  if (probability >= 0.9995) return "100%";
  if (probability < 0.001) return probability > 0 ? "<0.1%" : "0%";
  return `${(probability * 100).toFixed(1)}%`;
}

export function samplesData() {
  const node = document.getElementById("samples-data");
  try {
    return node ? JSON.parse(node.textContent) : {};
  } catch {
    return {};
  }
}
