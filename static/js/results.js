// The result panel: the prediction bars, the hints the server gives (a photo sent to a digit
// model...), and the maps, filled in as each explanation arrives.
import { pngSrc } from "./api.js";
import { addSlots, fillSlot, removeFigures, runMethods } from "./explain.js";
import { announce, clearError, el, percent, showError } from "./messages.js";
import { viewOf } from "./picture.js";
import { predict, renderTopK } from "./predict.js";

const $ = (id) => document.getElementById(id);

export class Results {
  // page(): {model, detail, image, request()}: what the results are of, read when they run.
  constructor(page) {
    this.page = page;
    this.predicting = null;
    this.runs = new Set(); // AbortControllers of the explanation runs in flight
    this.progress = { done: 0, total: 0 };
    this.hints = new Map();
    $("cancel-explain").addEventListener("click", () => this.cancel());
  }

  clear() {
    this.predicting?.abort();
    this.cancel(false);
    $("top-k").replaceChildren();
    $("prediction-empty").hidden = false;
    $("prediction-timing").textContent = "";
    $("figure-grid").replaceChildren();
    $("model-view-figure").hidden = true;
    this.hints.clear();
    this.showHints([]);
  }

  async predict(onAnswer) {
    this.predicting?.abort();
    const controller = new AbortController();
    this.predicting = controller;
    const { model, image } = this.page();
    const panel = $("prediction-panel");
    panel.setAttribute("aria-busy", "true");
    try {
      const answer = await predict(model, image.blob, controller.signal);
      if (controller.signal.aborted) return;
      clearError();
      renderTopK($("top-k"), answer.predictions);
      $("prediction-empty").hidden = true;
      $("prediction-timing").textContent = `${answer.model} v${answer.version} · ${answer.timing.total_ms.toFixed(1)} ms`;
      const best = answer.predictions[0];
      announce(`Top class ${best.label}, ${percent(best.probability)}.`);
      this.showHints(answer.hints);
      onAnswer(answer);
    } catch (error) {
      if (error.name === "AbortError") return;
      $("top-k").replaceChildren();
      $("prediction-empty").hidden = false;
      showError(error);
    } finally {
      if (this.predicting === controller) panel.setAttribute("aria-busy", "false");
    }
  }

  // Explain with `keys` from scratch (fresh = true) or add them to the maps shown.
  async explain(keys, fresh = true) {
    if (fresh) this.cancel(false);
    if (!keys.length) return;
    const grid = $("figure-grid");
    if (fresh) {
      grid.replaceChildren();
      this.progress = { done: 0, total: 0 };
    }
    addSlots(grid, keys);
    this.progress.total += keys.length;
    this.showProgress();
    const controller = new AbortController();
    this.runs.add(controller);
    const request = this.page().request();
    let failures = 0;
    await runMethods(keys, request, controller.signal, (key, result) => {
      if (controller.signal.aborted) return;
      if (result instanceof Error) failures += 1;
      if (result instanceof Error && failures === 1) showError(result);
      if (!(result instanceof Error)) this.arrived(result);
      fillSlot(grid, key, result, this.context(result));
      this.progress.done += 1;
      this.showProgress();
    });
    this.runs.delete(controller);
    if (!controller.signal.aborted) announce(`Explanations ready: ${keys.length - failures} of ${keys.length}.`);
  }

  forget(key) {
    removeFigures($("figure-grid"), key);
  }

  cancel(say = true) {
    for (const controller of this.runs) controller.abort();
    this.runs.clear();
    for (const slot of $("figure-grid").querySelectorAll(".map.pending")) slot.remove();
    this.progress = { done: 0, total: 0 };
    this.showProgress();
    if (say) announce("Explanation cancelled.");
  }

  arrived(result) {
    const view = $("model-view-figure");
    if (view.hidden && result.input_png) {
      $("model-view").src = pngSrc(result.input_png);
      view.hidden = false;
    }
    this.showHints(result.hints);
  }

  context(result) {
    const { detail, image } = this.page();
    const input = detail?.input || {};
    return {
      opacity: () => Number($("opacity").value) / 100,
      labels: detail?.labels || [],
      view: result instanceof Error ? null : viewOf(result, image, [input.width || 1, input.height || 1]),
    };
  }

  showHints(hints) {
    for (const hint of hints || []) this.hints.set(hint.code, hint.message);
    $("hints").replaceChildren(
      ...[...this.hints].map(([code, message]) => el("p", { class: "note", "data-code": code, text: message })),
    );
  }

  showProgress() {
    const { done, total } = this.progress;
    const busy = total > 0 && done < total;
    $("explain-progress").hidden = !busy;
    $("explain-progress-bar").max = Math.max(1, total);
    $("explain-progress-bar").value = done;
    $("explain-progress-text").textContent = `${done} of ${total} methods done`;
    $("cancel-explain").disabled = !busy;
  }
}
