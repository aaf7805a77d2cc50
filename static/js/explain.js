// The requests to /explain/{method}: at most two in flight (the server explains one at a time
// and queues a few), each answer handed on as soon as it arrives; and the figure slots they
// fill, in the order asked.
import { apiJson, imageForm, query, retryWhenBusy } from "./api.js";
import { extraFigures, mapFigure } from "./figures.js";
import { methodName } from "./method_texts.js";
import { el } from "./messages.js";
import { methodParameters } from "./picker.js";

const IN_FLIGHT = 2;

export async function loadMethods() {
  return (await apiJson("/explain")).methods;
}

// Run `keys`; onDone(key, answer | error) for each, as it arrives.
export async function runMethods(keys, request, signal, onDone) {
  let next = 0;
  const worker = async () => {
    while (next < keys.length && !signal.aborted) {
      const key = keys[next++];
      try {
        onDone(key, await explainOne(key, request, signal));
      } catch (error) {
        if (error.name === "AbortError") return;
        onDone(key, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, keys.length) }, worker));
}

function explainOne(key, request, signal) {
  const params = {
    model: request.model,
    target: request.target,
    colormap: request.colormap,
    alpha: request.alpha,
    ...methodParameters(key),
  };
  const call = () =>
    apiJson(`/explain/${encodeURIComponent(key)}${query(params)}`, {
      method: "POST",
      body: imageForm(request.blob),
      signal,
    });
  return retryWhenBusy(call, signal);
}

// A waiting slot per method, appended in the order asked (existing slots of a key are replaced).
export function addSlots(grid, keys) {
  for (const key of keys) {
    removeFigures(grid, key);
    grid.append(
      el(
        "figure",
        { class: "map pending", "data-method": key },
        el("div", { class: "stack placeholder" }, el("span", { class: "spinner", "aria-hidden": "true" })),
        el("figcaption", {}, el("span", { class: "title" }, el("strong", { text: methodName(key) })), el("span", { text: "working…" })),
      ),
    );
  }
}

export function removeFigures(grid, key) {
  for (const figure of grid.querySelectorAll(`figure[data-method="${CSS.escape(key)}"]`)) figure.remove();
}

export function fillSlot(grid, key, result, context) {
  const slot = grid.querySelector(`figure.pending[data-method="${CSS.escape(key)}"]`);
  if (!slot) return;
  if (result instanceof Error) {
    slot.className = "map failed";
    slot.replaceChildren(
      el("div", { class: "stack placeholder" }),
      el("figcaption", {}, el("strong", { text: methodName(key) }), el("span", { class: "error-text", text: result.message })),
    );
    return;
  }
  const figures = result.maps.map((map) => mapFigure(key, map, result, context));
  figures.push(...extraFigures(key, result, context));
  slot.replaceWith(...figures);
}
