// The model page's "Evaluate methods" panel: choose methods and images, start an evaluation
// job (POST /models/{name}/evaluate), follow its progress (GET /jobs/{id}), cancel it, and
// show its ranked table and charts.
import { ApiError, apiJson, query, retryWhenBusy } from "./api.js";
import { renderEvaluationBars, renderEvaluationCurves } from "./evaluation_charts.js";
import { evaluationSummary, renderEvaluationTable } from "./evaluation_table.js";
import { cancelJob, followJob } from "./jobs.js";
import { el } from "./messages.js";

const ARCHIVE = /\.(zip|tar|tgz|gz)$/i;
const SLOW_FAMILIES = new Set(["perturbation"]);

export class EvaluationPanel {
  constructor(part, model, hasSamples) {
    this.part = part;
    this.model = model;
    this.$ = (id) => part.node.querySelector(`#${id}`);
    this.job = null;
    this.controller = null;
    if (!hasSamples) this.$("eval-source-upload").checked = true;
    this.showSource();
    part.node.querySelectorAll("input[name=eval-source]").forEach((radio) => radio.addEventListener("change", () => this.showSource()));
    this.$("eval-start").addEventListener("click", () => this.start());
    this.$("eval-cancel").addEventListener("click", () => this.cancel());
  }

  async loadMethods() {
    let methods = [];
    try {
      methods = (await apiJson("/explain")).methods.filter((m) => m.models.includes(this.model));
    } catch (error) {
      this.part.note(`The methods could not be listed: ${error.message}`);
    }
    const boxes = methods.map((method) => {
      const id = `eval-method-${method.key}`;
      const box = el("input", { type: "checkbox", id, name: "eval-method", value: method.key, checked: !SLOW_FAMILIES.has(method.family) });
      return el("span", {}, box, el("label", { for: id, text: ` ${method.key}`, title: method.summary }));
    });
    this.$("eval-methods").append(...boxes);
  }

  showSource() {
    this.$("eval-files-field").hidden = !this.$("eval-source-upload").checked;
  }

  chosenMethods() {
    return [...this.part.node.querySelectorAll("input[name=eval-method]:checked")].map((box) => box.value);
  }

  body() {
    if (this.$("eval-source-samples").checked) return { source: "samples", body: undefined };
    const files = [...this.$("eval-files").files];
    if (!files.length) throw new Error("Choose images, or a .zip or .tar of class folders.");
    const form = new FormData();
    for (const file of files) form.append(ARCHIVE.test(file.name) ? "archive" : "file", file, file.name);
    return { source: "upload", body: form };
  }

  async start() {
    this.part.note("");
    const methods = this.chosenMethods();
    if (!methods.length) {
      this.part.note("Tick at least one method.");
      return;
    }
    let request;
    try {
      request = this.body();
    } catch (error) {
      this.part.note(error.message);
      return;
    }
    this.controller = new AbortController();
    this.busy(true);
    this.mark("planning: each method runs once to estimate the cost…", 0, 1);
    try {
      const path = `/models/${encodeURIComponent(this.model)}/evaluate${query({ source: request.source, method: methods })}`;
      const call = () => apiJson(path, { method: "POST", body: request.body, signal: this.controller.signal });
      this.job = await retryWhenBusy(call, this.controller.signal);
      const last = await followJob(this.job, (status) => this.update(status), this.controller.signal, 700);
      this.finish(last);
    } catch (error) {
      if (error.name === "AbortError") this.mark("cancelled");
      else this.fail(error);
    } finally {
      this.busy(false);
      this.controller = null;
    }
  }

  update(status) {
    const steps = status.steps || 1;
    const step = status.step ?? 0;
    const history = Array.isArray(status.history) ? status.history : [];
    const pace = history.length ? history.reduce((a, b) => a + b, 0) / history.length : null;
    const left = pace !== null && status.status === "running" ? ` · about ${Math.ceil(pace * (steps - step))} s left` : "";
    const text = status.status === "running" ? `step ${step} of ${steps}${left}` : status.status;
    this.mark(text, step, steps);
  }

  finish(last) {
    if (last.status === "failed") {
      this.part.note(`The evaluation failed: ${last.error}`);
      return;
    }
    if (last.status !== "done" || !last.result) {
      this.mark(last.status);
      return;
    }
    this.mark("done", 1, 1);
    this.show(last.result);
  }

  show(result) {
    renderEvaluationTable(this.$("eval-table"), result);
    renderEvaluationCurves(this.$("eval-curves"), result);
    renderEvaluationBars(this.$("eval-bars"), result);
    this.$("eval-summary").textContent = evaluationSummary(result);
    this.$("eval-results").hidden = false;
  }

  fail(error) {
    this.mark("");
    const missing = error instanceof ApiError && error.status === 404 && error.code === "not_found";
    this.part.note(missing ? "Evaluation is not available on this server yet." : error.message);
  }

  cancel() {
    if (this.job) cancelJob(this.job);
    this.controller?.abort();
  }

  busy(running) {
    this.$("eval-start").disabled = running;
    this.$("eval-cancel").disabled = !running;
    this.$("eval-progress").hidden = false;
  }

  mark(text, value, max) {
    this.$("eval-status").textContent = text;
    if (max !== undefined) {
      this.$("eval-progress").max = max;
      this.$("eval-progress").value = value;
    }
  }
}
