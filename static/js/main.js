// The main page: choose a model, give an image (file, drop, paste, sample, drawing), and see
// at once its classes and the maps of the ticked methods. The first sample of the model is
// shown on arrival, so the page opens on a result.
import { apiJson } from "./api.js";
import { DrawingCanvas } from "./canvas.js";
import { installCanvasKeys } from "./canvas_keys.js";
import { loadMethods } from "./explain.js";
import { fetchSample, installDrop, installFilePicker, installPaste, renderSamples, shareImage } from "./image_input.js";
import { byCost, DEFAULTS, familyOf } from "./method_texts.js";
import { announce, el, installMessages, percent, samplesData, showError } from "./messages.js";
import { describeChoice, renderPicker, supportedMethods, tickedMethods } from "./picker.js";
import { Results } from "./results.js";

const $ = (id) => document.getElementById(id);

const state = {
  model: "",
  details: new Map(),
  methods: [],
  chosen: new Map(Object.entries(DEFAULTS).map(([family, keys]) => [family, new Set(keys)])),
  image: null, // {blob, description, url, sample: the model whose sample it is, or null}
  samples: samplesData(),
};

const results = new Results(() => ({
  model: state.model,
  detail: state.details.get(state.model),
  image: state.image,
  request: () => ({
    model: state.model,
    blob: state.image.blob,
    target: $("target-select").value,
    colormap: $("colormap-select").value,
    alpha: Number($("opacity").value) / 100,
  }),
}));

async function init() {
  installMessages();
  const give = (blob, text) => setImage(blob, text);
  installFilePicker($("file-input"), give);
  installDrop($("dropzone"), give);
  installPaste(give);
  state.canvas = new DrawingCanvas($("draw-canvas"), (blob, final) => setImage(blob, "drawing", { explain: final }));
  installCanvasKeys(state.canvas, $("pen-cursor"), clearDrawing);
  $("clear-canvas").addEventListener("click", clearDrawing);
  $("model-select").addEventListener("change", (event) => selectModel(event.target.value));
  for (const radio of document.querySelectorAll('input[name="source"]')) {
    radio.addEventListener("change", showSource);
  }
  $("explain-form").addEventListener("submit", (event) => {
    event.preventDefault();
    explainAll();
  });
  $("target-select").addEventListener("change", explainAll);
  $("colormap-select").addEventListener("change", explainAll);
  $("opacity").addEventListener("input", showOpacity);
  showOpacity();
  try {
    const [models, methods] = await Promise.all([apiJson("/models"), loadMethods()]);
    state.methods = methods;
    fillModels(models.models);
  } catch (error) {
    showError(error);
  }
}

function fillModels(models) {
  const select = $("model-select");
  select.replaceChildren(...models.map((m) => el("option", { value: m.name, text: `${m.name} (v${m.version})` })));
  if (!models.length) {
    showError(new Error("No model is loaded on this server."));
    return;
  }
  const asked = new URLSearchParams(location.search).get("model");
  const names = models.map((m) => m.name);
  const first = [asked, select.dataset.default].find((name) => names.includes(name)) || names[0];
  select.value = first;
  selectModel(first);
}

async function modelDetail(name) {
  if (!state.details.has(name)) state.details.set(name, await apiJson(`/models/${encodeURIComponent(name)}`));
  return state.details.get(name);
}

async function selectModel(name) {
  state.model = name;
  const href = `/ui/models/${encodeURIComponent(name)}`;
  $("model-link").href = href;
  $("nav-model-link").href = href;
  results.clear();
  let detail;
  try {
    detail = await modelDetail(name);
  } catch (error) {
    showError(error);
    return;
  }
  if (state.model !== name) return;
  $("model-description").textContent = detail.description;
  const digits = familyOf(detail) === "digits";
  $("source-choice").hidden = !digits;
  if (!digits) $("source-file").checked = true;
  showSource();
  renderPicker($("method-groups"), supportedMethods(state.methods, name), chosenSet(), onTick);
  showChoice();
  fillTargets(detail.labels, []);
  const samples = state.samples[name] || [];
  renderSamples($("sample-list"), samples, (blob, text) => setImage(blob, text, { sample: name }));
  const own = state.image && (state.image.sample === null || state.image.sample === name);
  if (own) analyse(true);
  else if (samples.length) loadSample(samples[0], name);
}

function chosenSet() {
  return state.chosen.get(familyOf(state.details.get(state.model)));
}

async function loadSample(sample, model) {
  try {
    const file = await fetchSample(sample);
    if (state.model === model && (!state.image || state.image.sample !== null)) setImage(file, `sample ${sample.label}`, { sample: model });
  } catch (error) {
    showError(error);
  }
}

function showSource() {
  const drawing = $("source-draw").checked;
  $("draw-panel").hidden = !drawing;
  $("dropzone").hidden = drawing;
}

// A new image: show it, classify it and (unless a drawing is still under way) explain it.
function setImage(blob, description, { sample = null, explain = true } = {}) {
  if (state.image?.url) URL.revokeObjectURL(state.image.url);
  const drawing = description === "drawing";
  state.image = { blob, description, sample, url: URL.createObjectURL(blob) };
  if (!drawing) {
    state.canvas.clear();
    showPreview(state.image);
    shareImage(blob, description);
  } else {
    $("preview-figure").hidden = true;
  }
  analyse(explain);
}

function analyse(explain) {
  results.clear();
  results.predict((answer) => fillTargets(state.details.get(state.model)?.labels || [], answer.predictions));
  if (explain) explainAll();
}

function explainAll() {
  if (!state.image) return;
  results.explain(byCost(tickedMethods($("method-groups")), state.methods));
}

function onTick(key, ticked) {
  showChoice();
  if (!state.image) return;
  if (ticked) results.explain([key], false);
  else results.forget(key);
}

function showChoice() {
  $("method-choice").textContent = describeChoice(byCost(tickedMethods($("method-groups")), state.methods));
}

function showPreview(image) {
  const preview = $("preview");
  preview.alt = `The image to classify: ${image.description}`;
  preview.onerror = () => {
    $("preview-figure").hidden = true;
  };
  preview.onload = () => {
    preview.classList.toggle("pixelated", preview.naturalWidth < 112);
    $("preview-figure").hidden = false;
  };
  preview.src = image.url;
  $("preview-caption").textContent = image.description;
}

function clearDrawing() {
  state.canvas.clear();
  if (state.image && state.image.description === "drawing") {
    state.image = null;
    results.clear();
  }
  announce("Drawing cleared.");
}

// "top class" plus every label; the predicted ones show their probability.
function fillTargets(labels, predictions) {
  const select = $("target-select");
  const kept = select.value;
  const known = new Map(predictions.map((p) => [p.index, p.probability]));
  const top = predictions[0];
  select.replaceChildren(
    el("option", { value: "", text: top ? `top class (${top.label})` : "top class" }),
    ...labels.map((label, index) =>
      el("option", {
        value: String(index),
        text: known.has(index) ? `${label} (${percent(known.get(index))})` : label,
      }),
    ),
  );
  select.value = labels[Number(kept)] !== undefined && kept !== "" ? kept : "";
}

function showOpacity() {
  const value = Number($("opacity").value) / 100;
  $("figure-grid").style.setProperty("--heat-opacity", String(value));
  $("opacity-value").textContent = `${Math.round(value * 100)}%`;
}

init();
