"""How activation maximisation holds its image (Olah et al. 2017, "Feature Visualization",
https://distill.pub/2017/feature-visualization/, and Lucid's `param.image`): parameters
theta, mapped to pixels in (0, 1) by

    pixels = sigmoid(M · S(theta))

with S the spectral map (`fourier`: theta is the image's 2-D Fourier spectrum, scaled by
1/frequency so that gradient steps fall on all frequencies alike instead of on the highest;
`pixel`: S is the identity) and M the colour decorrelation (for three channels: the square
root of ImageNet's colour correlation, Lucid's `color_correlation_svd_sqrt`, normalised; the
identity for grey images). `backward` is the chain rule back through these maps (the adjoint
of each linear one), so the ascent runs in theta while the model sees pixels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Kind = Literal["fourier", "pixel"]
COLOUR_CORRELATION_SQRT = np.array(
    [[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]]
)  # Lucid's, from ImageNet
SPECTRUM_INIT = 0.01  # Lucid's standard deviation of the initial spectrum
SPATIAL_INIT = 0.01


@dataclass(frozen=True)
class Parameterisation:
    """The map from theta to pixels for images of `shape` (C, H, W)."""

    kind: Kind
    shape: tuple[int, int, int]
    decorrelate: bool = True

    @property
    def theta_shape(self) -> tuple[int, ...]:
        channels, height, width = self.shape
        if self.kind == "pixel":
            return self.shape
        return (2, channels, height, width // 2 + 1)  # real and imaginary parts

    def initial(self, rng: np.random.Generator) -> np.ndarray:
        """Small random theta: an image close to grey (pixels near 0.5)."""
        sigma = SPECTRUM_INIT if self.kind == "fourier" else SPATIAL_INIT
        return rng.normal(0.0, sigma, self.theta_shape)

    def scale(self) -> np.ndarray:
        """(H, W // 2 + 1) spectral scale: 1 / max(frequency, 1 / max(H, W))."""
        _, height, width = self.shape
        frequencies = np.sqrt(
            np.fft.fftfreq(height)[:, None] ** 2 + np.fft.rfftfreq(width)[None, :] ** 2
        )
        return 1.0 / np.maximum(frequencies, 1.0 / max(height, width))

    def colours(self) -> np.ndarray:
        """(C, C) colour mixing M."""
        if self.shape[0] != 3 or not self.decorrelate:
            return np.eye(self.shape[0])
        norms = np.linalg.norm(COLOUR_CORRELATION_SQRT, axis=0)
        return COLOUR_CORRELATION_SQRT / norms.max()

    def spatial(self, theta: np.ndarray) -> np.ndarray:
        """S(theta): (C, H, W)."""
        if self.kind == "pixel":
            return theta
        spectrum = (theta[0] + 1j * theta[1]) * self.scale()
        return np.fft.irfft2(spectrum, s=self.shape[1:], norm="ortho")

    def pixels(self, theta: np.ndarray) -> np.ndarray:
        """(C, H, W) pixels in (0, 1)."""
        mixed = np.einsum("dc,chw->dhw", self.colours(), self.spatial(theta))
        return 1.0 / (1.0 + np.exp(-mixed))

    def backward(self, theta: np.ndarray, pixel_gradient: np.ndarray) -> np.ndarray:
        """d(objective)/d(theta) from d(objective)/d(pixels), both at `theta`."""
        pixels = self.pixels(theta)
        mixed_gradient = pixel_gradient * pixels * (1.0 - pixels)  # through the sigmoid
        spatial_gradient = np.einsum("dc,dhw->chw", self.colours(), mixed_gradient)
        if self.kind == "pixel":
            return spatial_gradient
        return self._spectral_adjoint(spatial_gradient)

    def _spectral_adjoint(self, gradient: np.ndarray) -> np.ndarray:
        """The adjoint of theta -> irfft2(scale * (theta_re + i theta_im)), orthonormal.
        irfft2 is an inverse FFT down the columns (unitary: its adjoint is the forward FFT)
        then a complex-to-real transform along the rows, which counts the interior
        frequencies twice (as themselves and their conjugates) and reads only the real part
        of the first and, for even widths, the last one."""
        width = self.shape[2]
        rows = np.fft.rfft(gradient, axis=-1, norm="ortho")  # (C, H, W // 2 + 1)
        weights = np.full(rows.shape[-1], 2.0)
        self_conjugate = [0, rows.shape[-1] - 1] if width % 2 == 0 else [0]
        weights[self_conjugate] = 1.0
        rows = rows.real * weights + 1j * rows.imag * weights
        rows.imag[..., self_conjugate] = 0.0
        spectrum = np.fft.fft(rows, axis=-2, norm="ortho") * self.scale()
        return np.stack([spectrum.real, spectrum.imag])

    def blurred(self, theta: np.ndarray, sigma: float) -> np.ndarray:
        """theta whose spatial image S(theta) is blurred by a Gaussian of `sigma` pixels
        (wrapping at the edges): for `fourier` the spectrum times the blur's transfer
        function."""
        _, height, width = self.shape
        transfer = np.exp(
            -2
            * (np.pi * sigma) ** 2
            * (np.fft.fftfreq(height)[:, None] ** 2 + np.fft.rfftfreq(width)[None, :] ** 2)
        )
        if self.kind == "fourier":
            return theta * transfer
        spectrum = np.fft.rfft2(theta) * transfer
        return np.fft.irfft2(spectrum, s=self.shape[1:])
