//! Segmentation benchmarks: growing a 30 mm lesion in a 512 × 512 × 300
//! CT-like volume (0.7 mm pixels, 1 mm slices, Gaussian noise σ 10 HU; a
//! 40 HU sphere in 100 HU tissue) — target ≤ 5 ms — and the mask
//! statistics of the grown mask (target ≤ 1 ms), and its partial-volume
//! corrected volume (no target; reported). The same volume and seed
//! are timed with scikit-image's `flood` by `scripts/peers/skimage_flood.py`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use nadir::segment::{GrowParams, VoxelSize, grow, mask_stats, partial_volume_ml};
use nadir::volume::Volume;

/// Size and lesion of the benchmark volume (kept equal to the Python peer).
const SLICES: usize = 300;
const SIZE: usize = 512;
const PIXEL_MM: f64 = 0.7;
const SLICE_MM: f64 = 1.0;
const RADIUS_MM: f64 = 15.0;

/// Deterministic Gaussian noise (xorshift + Box–Muller).
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

pub fn ct_with_sphere() -> (Volume, [usize; 3]) {
    let centre = [SLICES as f64 / 2.0, SIZE as f64 / 2.0, SIZE as f64 / 2.0];
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);
    let voxels = ndarray::Array3::from_shape_fn((SLICES, SIZE, SIZE), |(s, r, c)| {
        let dz = (s as f64 - centre[0]) * SLICE_MM;
        let dy = (r as f64 - centre[1]) * PIXEL_MM;
        let dx = (c as f64 - centre[2]) * PIXEL_MM;
        let hu = if dx * dx + dy * dy + dz * dz <= RADIUS_MM * RADIUS_MM {
            40.0
        } else {
            100.0
        };
        (hu + 10.0 * noise.gaussian() + 1024.0).round() as i16
    });
    let volume = Volume::axial_hu(voxels, [PIXEL_MM, PIXEL_MM], 0.0, SLICE_MM);
    (volume, centre.map(|x| x as usize))
}

fn segment(c: &mut Criterion) {
    let (volume, seed) = ct_with_sphere();
    let params = GrowParams::default();
    let grown = grow(&volume, seed, &params).unwrap();
    let stats = mask_stats(&volume, &grown.mask).unwrap();
    let truth_ml = 4.0 / 3.0 * std::f64::consts::PI * RADIUS_MM.powi(3) / 1000.0;
    eprintln!(
        "grown: {} voxels, {:.2} mL (sphere {truth_ml:.2} mL), window {:?}, mean {:.1} HU",
        stats.voxels,
        stats.volume_ml.unwrap_or(f64::NAN),
        grown.window,
        stats.mean
    );
    c.bench_function("grow 30 mm lesion in 512x512x300", |b| {
        b.iter(|| grow(black_box(&volume), seed, &params).unwrap())
    });
    c.bench_function("mask statistics of the grown lesion", |b| {
        b.iter(|| mask_stats(black_box(&volume), black_box(&grown.mask)).unwrap())
    });
    let size = VoxelSize::of(&volume).unwrap();
    let pv = partial_volume_ml(&volume, &grown.mask, &size).unwrap();
    eprintln!(
        "partial-volume estimate {:.2} mL (count {:.2} mL)",
        pv.volume_ml, pv.voxel_count_ml
    );
    c.bench_function("partial-volume volume of the grown lesion", |b| {
        b.iter(|| {
            partial_volume_ml(black_box(&volume), black_box(&grown.mask), black_box(&size)).unwrap()
        })
    });
}

criterion_group!(benches, segment);
criterion_main!(benches);
