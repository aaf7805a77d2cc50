"""Images in and out: decoding untrusted uploads, preprocessing into model tensors, digit
normalisation, heatmap pictures, and smoothing of maps."""
