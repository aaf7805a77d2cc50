// The activation-maximisation gallery: one tile per class, filled by jobs that report their
// progress; two jobs run at a time, each tile can be cancelled, or all at once.
import { ApiError, pngSrc } from "./api.js";
import { cancelJob, followJob, startJob } from "./jobs.js";
import { el } from "./messages.js";
import { explainFailure } from "./sections.js";

const MAX_TILES = 48;
const PARALLEL = 2;

export class Gallery {
  constructor(part, model, labels) {
    this.part = part;
    this.model = model;
    this.labels = labels.slice(0, MAX_TILES);
    this.list = part.node.querySelector("#am-gallery");
    this.startButton = part.node.querySelector("#am-start");
    this.cancelButton = part.node.querySelector("#am-cancel");
    this.stepsInput = part.node.querySelector("#am-steps");
    this.tiles = this.labels.map((label, index) => this.tile(label, index));
    this.list.replaceChildren(...this.tiles.map((tile) => tile.node));
    if (labels.length > MAX_TILES) part.note(`Showing the first ${MAX_TILES} of ${labels.length} classes.`);
    this.startButton.addEventListener("click", () => this.runAll());
    this.cancelButton.addEventListener("click", () => this.cancelAll());
  }

  tile(label, index) {
    const picture = el("div", { class: "picture" });
    const progress = el("progress", { max: 1, value: 0, "aria-label": `Progress for class ${label}` });
    const status = el("span", { class: "tile-status", text: "not started" });
    const cancel = el("button", { type: "button", text: "Cancel", disabled: true, "aria-label": `Cancel class ${label}` });
    const tile = { index, label, picture, progress, status, cancel, controller: null, job: null };
    cancel.addEventListener("click", () => this.cancel(tile));
    tile.node = el(
      "li",
      { class: "tile", "data-class": index },
      picture,
      el("strong", { text: `class ${label}` }),
      progress,
      status,
      cancel,
    );
    return tile;
  }

  async runAll() {
    this.part.note("");
    const steps = Math.max(1, Number.parseInt(this.stepsInput.value, 10) || 128);
    const queue = this.tiles.filter((tile) => !tile.controller);
    for (const tile of queue) this.mark(tile, "queued", 0, 1);
    this.startButton.disabled = true;
    this.cancelButton.disabled = false;
    this.stopped = false;
    const worker = async () => {
      while (queue.length && !this.stopped) await this.run(queue.shift(), steps);
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    for (const tile of queue) this.mark(tile, "not started", 0, 1);
    this.startButton.disabled = false;
    this.cancelButton.disabled = true;
  }

  async run(tile, steps) {
    tile.controller = new AbortController();
    tile.cancel.disabled = false;
    const path = `/models/${encodeURIComponent(this.model)}/activation_maximisation`;
    try {
      tile.job = await startJob(path, { class: tile.index, steps }, tile.controller.signal);
      const last = await followJob(tile.job, (status) => this.update(tile, status), tile.controller.signal);
      if (last.status === "failed") this.mark(tile, `failed${last.error ? ": " + (last.error.message || last.error) : ""}`);
    } catch (error) {
      if (error.name === "AbortError") this.mark(tile, "cancelled");
      else this.fail(tile, error);
    } finally {
      tile.controller = null;
      tile.cancel.disabled = true;
    }
  }

  update(tile, status) {
    const steps = status.steps || 1;
    const history = Array.isArray(status.history) ? status.history : [];
    const value = typeof status.objective === "number" ? status.objective : history.at(-1);
    const objective = typeof value === "number" ? ` · objective ${value.toFixed(3)}` : "";
    const text = status.status === "running" ? `step ${status.step ?? 0} of ${steps}${objective}` : status.status;
    this.mark(tile, text, status.step ?? 0, steps);
    if (status.status === "done" && status.result && status.result.png) {
      tile.picture.replaceChildren(
        el("img", { src: pngSrc(status.result.png), alt: `The input that most excites class ${tile.label}` }),
      );
      this.mark(tile, `done${objective}`, steps, steps);
    }
  }

  mark(tile, text, value, max) {
    tile.status.textContent = text;
    if (max !== undefined) {
      tile.progress.max = max;
      tile.progress.value = value;
    }
  }

  fail(tile, error) {
    this.mark(tile, "not available");
    if (error instanceof ApiError && error.status === 404) {
      this.stopped = true;
      explainFailure(this.part, "Activation maximisation", error);
    } else {
      this.mark(tile, `failed: ${error.message}`);
    }
  }

  cancel(tile) {
    if (tile.job) cancelJob(tile.job);
    tile.controller?.abort();
  }

  cancelAll() {
    this.stopped = true;
    for (const tile of this.tiles) if (tile.controller) this.cancel(tile);
  }
}
