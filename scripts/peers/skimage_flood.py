#!/usr/bin/env python3
"""Peer timing for benches/segment.rs: scikit-image's `flood` on the same
kind of volume (512 x 512 x 300 int16, 0.7 mm pixels, 1 mm slices, a 30 mm
sphere of 40 HU in 100 HU tissue, Gaussian noise sigma 10 HU), seeded at the
centre with a fixed tolerance (the half-way window 40 +/- 30 HU).

    pip install scikit-image
    python3 scripts/peers/skimage_flood.py

Prints the median of 20 runs of `flood` and of numpy mask statistics
(count, mean, SD, min, max of the HU inside)."""
import time

import numpy as np
from skimage.segmentation import flood

SLICES, SIZE, PIXEL_MM, SLICE_MM, RADIUS_MM = 300, 512, 0.7, 1.0, 15.0


def volume():
    rng = np.random.default_rng(1)
    z = (np.arange(SLICES) - SLICES / 2) * SLICE_MM
    y = (np.arange(SIZE) - SIZE / 2) * PIXEL_MM
    inside = z[:, None, None] ** 2 + y[None, :, None] ** 2 + y[None, None, :] ** 2 <= RADIUS_MM**2
    hu = np.where(inside, 40.0, 100.0) + rng.normal(0.0, 10.0, inside.shape)
    return np.round(hu).astype(np.int16)


def median_ms(f, runs=20):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = f()
        times.append((time.perf_counter() - t) * 1000.0)
    return float(np.median(times)), out


def main():
    image = volume()
    seed = (SLICES // 2, SIZE // 2, SIZE // 2)
    grow_ms, mask = median_ms(lambda: flood(image, seed, tolerance=30))
    stats_ms, _ = median_ms(
        lambda: (lambda v: (v.size, v.mean(), v.std(), v.min(), v.max()))(image[mask])
    )
    voxel_ml = PIXEL_MM * PIXEL_MM * SLICE_MM / 1000.0
    print(f"skimage flood: {grow_ms:.1f} ms (median of 20), {mask.sum()} voxels, "
          f"{mask.sum() * voxel_ml:.2f} mL (sphere {4 / 3 * np.pi * RADIUS_MM**3 / 1000:.2f} mL)")
    print(f"numpy mask statistics: {stats_ms:.1f} ms")


if __name__ == "__main__":
    main()
