// POST /predict and the top-k bars.
import { apiJson, imageForm, query } from "./api.js";
import { el, percent } from "./messages.js";

export async function predict(model, blob, signal, topK = 5) {
  return apiJson(`/predict${query({ model, top_k: topK })}`, {
    method: "POST",
    body: imageForm(blob),
    signal,
  });
}

export function renderTopK(list, predictions) {
  list.replaceChildren(
    ...predictions.map((prediction, rank) => {
      const share = Math.max(0, Math.min(1, prediction.probability));
      return el(
        "li",
        { class: rank === 0 ? "top" : "", "data-index": prediction.index },
        el("span", { class: "label", text: prediction.label }),
        el(
          "span",
          { class: "bar", "aria-hidden": "true" },
          el("span", { class: "fill", style: `width: ${(share * 100).toFixed(2)}%` }),
        ),
        el("span", { class: "value", text: percent(prediction.probability) }),
      );
    }),
  );
}
