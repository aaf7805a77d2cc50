"""Every random draw of an evaluation comes from one seed (drawn when the job is planned and
reported in the result), split into independent streams by purpose, image and map, so that
a run repeats exactly and no metric's draws depend on another's or on the order of work."""

from __future__ import annotations

import zlib

import numpy as np

SUBSETS = 1  # faithfulness correlation's random subsets, per image
NOISE = 2  # max-sensitivity's noisy copies, per image
RANDOM_MAPS = 3  # the random baseline maps, per image and grid
ROAD = 4  # the imputation noise, per image and map
RANDOMISATION = 5  # the re-drawn weights, per layer


def generator(seed: int, stream: int, *keys: int) -> np.random.Generator:
    """The generator of one stream (and image, map or layer) of `seed`."""
    return np.random.default_rng([seed, stream, *keys])


def key_of(name: str) -> int:
    """A stable number for a map's name (a method key or a baseline's name)."""
    return zlib.crc32(name.encode())
