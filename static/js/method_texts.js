// What the page says about each method: its name, a caption in plain words, and the
// methods ticked by default for each family of model.

const NAMES = {
  saliency: "Saliency",
  guided_backprop: "Guided backprop",
  deconvnet: "Deconvnet",
  gradient_x_input: "Gradient × input",
  smoothgrad: "SmoothGrad",
  integrated_gradients: "Integrated Gradients",
  grad_cam: "Grad-CAM",
  grad_cam_plus_plus: "Grad-CAM++",
  hires_cam: "HiRes-CAM",
  layer_cam: "Layer-CAM",
  guided_grad_cam: "Guided Grad-CAM",
  occlusion: "Occlusion",
  score_cam: "Score-CAM",
  rise: "RISE",
  xgrad_cam: "XGrad-CAM",
  eigen_cam: "Eigen-CAM",
  ablation_cam: "Ablation-CAM",
  gradient_shap: "GradientSHAP",
  blur_ig: "Blur IG",
  lrp: "LRP",
  deeplift: "DeepLIFT",
  lime: "LIME",
  kernel_shap: "KernelSHAP",
};

// One sentence each, about the class `c` (already quoted).
const CAPTIONS = {
  saliency: (c) => `Pixels where a small change would change the score of ${c} most.`,
  guided_backprop: (c) => `Fine detail that raises the score of ${c}, traced back through the network.`,
  deconvnet: (c) => `Patterns the network's filters respond to, traced back for ${c}.`,
  gradient_x_input: (c) => `Each pixel's value times how much it moves the score of ${c}.`,
  smoothgrad: (c) => `Saliency averaged over noisy copies of the image: the pixels that steadily matter for ${c}.`,
  integrated_gradients: (c) => `How much each pixel adds to the score of ${c}, compared with a blank image.`,
  grad_cam: (c) => `Regions the last convolution layer used as evidence for ${c}.`,
  grad_cam_plus_plus: (c) => `Like Grad-CAM, with more weight on every region that supports ${c}.`,
  hires_cam: (c) => `Where the last convolution layer's features raise the score of ${c}, position by position.`,
  layer_cam: (c) => `Where a convolution layer's features support ${c}, position by position.`,
  guided_grad_cam: (c) => `Grad-CAM's regions, sharpened with guided backprop's fine detail for ${c}.`,
  occlusion: (c) => `What happens to the score of ${c} when each patch of the image is hidden.`,
  score_cam: (c) => `Regions that keep the score of ${c} high when only they are shown.`,
  rise: (c) => `Regions that keep ${c} likely when random parts of the image are hidden.`,
  xgrad_cam: (c) => `Like Grad-CAM, each feature weighted by how strongly it is present where it supports ${c}.`,
  eigen_cam: () => "The main pattern of the last convolution layer's features, whatever the class.",
  ablation_cam: (c) => `Regions whose features, when switched off one by one, lower the score of ${c} most.`,
  gradient_shap: (c) => `How much each pixel adds to the score of ${c}, compared with a set of reference images.`,
  blur_ig: (c) => `How much each pixel adds to the score of ${c} as the image comes into focus from a blur.`,
  lrp: (c) => `The score of ${c} shared out layer by layer, down to the pixels that earned it.`,
  deeplift: (c) => `How much each pixel adds to the score of ${c}, compared with a blank image, in one pass.`,
  lime: (c) => `Superpixels whose presence raises the score of ${c}, from a simple model fitted to random hidings.`,
  kernel_shap: (c) => `Each superpixel's share of the score of ${c}, by Shapley values over random hidings.`,
};

// Ticked by default, per family of model (in the order they are asked for: fast ones first).
// Digits (small grey inputs): saliency is sharp and cheap at 28x28, Grad-CAM shows the regions,
// and occlusion is a model-agnostic check that costs a few hundred tiny forward passes.
// Photos: Grad-CAM finds the object, guided Grad-CAM adds its detail at full resolution, and
// occlusion checks both without gradients. Guided backprop and deconvnet stay off: they
// redraw the image's edges whatever the model learnt (Adebayo et al. 2018, "Sanity checks").
export const DEFAULTS = {
  digits: ["saliency", "grad_cam", "occlusion"],
  photos: ["grad_cam", "guided_grad_cam", "occlusion"],
};

export function familyOf(detail) {
  return detail && detail.preprocess && detail.preprocess.digit ? "digits" : "photos";
}

export function methodName(key) {
  return NAMES[key] || key.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function plainCaption(key, label) {
  const quoted = `“${label}”`;
  const caption = CAPTIONS[key];
  return caption ? caption(quoted) : `Why the model chose ${quoted}, by ${methodName(key)}.`;
}

// The order to ask for methods in: gradients first, then CAMs, then perturbation ones.
const FAMILY_ORDER = ["gradient", "cam", "perturbation"];

export function byCost(keys, methods) {
  const family = new Map(methods.map((m) => [m.key, m.family]));
  const rank = (key) => {
    const index = FAMILY_ORDER.indexOf(family.get(key));
    return index < 0 ? FAMILY_ORDER.length : index;
  };
  return [...keys].sort((a, b) => rank(a) - rank(b));
}
