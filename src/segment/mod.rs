//! 3-D lesion segmentation, pure: masks on a series' voxel grid, region
//! growing from a seed, brush / eraser / interpolation between slices,
//! volume and statistics, the outline on any pane plane, and the RECIST
//! bidirectional proposed from a mask. No I/O, no UI.
//!
//! - [`Mask`]: binary, stored by its bounding box, with a compact versioned
//!   run-length byte form for the store.
//! - [`grow`]: seeded region growing with an intensity window adapted to the
//!   seed's neighbourhood versus its surrounding ring, half-way between the
//!   lesion and the nearest background level on each side (a voxel at least
//!   half lesion is in), connected flood fill in a bounded box, per-slice
//!   hole filling.
//! - [`VoxelSize`]: the spacing that makes a voxel count a volume in mL; the
//!   slice extent of each slice comes from the slice positions (uneven
//!   spacing honoured). No spacing: an error, never a silent pixel count.
//! - [`brush`], [`interpolate_gaps`], [`outline`], [`fill_runs`],
//!   [`propose_bidirectional`], [`mask_stats`].

mod fit;
mod grow;
mod mask;
mod partial;
mod shape;

pub use fit::{EllipsoidFit, FitJob, fit_ellipsoid, fit_ellipsoid_cancellable};
pub use grow::{GrowBox, GrowParams, Grown, grow};
pub use mask::{Mask, Voxel};
pub use partial::{PartialVolume, partial_volume_ml};
pub use shape::{
    OutlineSegment, Proposal, brush, fill_runs, interpolate_gaps, outline, propose_bidirectional,
    propose_from_ellipsoid,
};

use serde::Serialize;

use crate::volume::Volume;

/// Why a segmentation operation could not be done.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SegmentError {
    /// The bytes are not a mask of a known form.
    #[error("corrupt mask bytes: {0}")]
    CorruptMask(String),
    /// A mask form of a version this build does not read.
    #[error("mask format version {0} is not supported")]
    MaskVersion(u8),
    /// The image has no pixel spacing: no volume in mL.
    #[error("the image has no pixel spacing: no volume in mL")]
    NoPixelSpacing,
    /// The slice spacing is unknown (no positions, no thickness).
    #[error("the slice spacing is unknown: no volume in mL")]
    NoSliceSpacing,
    /// The seed is outside the volume.
    #[error("the seed is outside the image")]
    SeedOutside,
    /// The mask is on another grid than the volume.
    #[error("the mask does not fit this series' voxel grid")]
    GridMismatch,
    /// Nothing to measure.
    #[error("the mask is empty")]
    EmptyMask,
    /// The proposal could not be built as a measurement.
    #[error("no bidirectional measurement: {0}")]
    Measure(String),
    /// The computation was cancelled (the mask changed while it ran).
    #[error("cancelled")]
    Cancelled,
}

/// The voxel size of a series: what turns voxel counts into millilitres.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoxelSize {
    /// `[row spacing, column spacing]` in mm (DICOM PixelSpacing order).
    pub pixel_spacing_mm: [f64; 2],
    /// Extent of each slice along the normal, mm: half the distance to each
    /// neighbour (the full distance at the ends; the SliceThickness of a
    /// single slice), so uneven spacing is honoured.
    pub slice_extent_mm: Vec<f64>,
}

impl VoxelSize {
    /// The voxel size of `volume`; an error when the pixel spacing or the
    /// slice spacing is unknown.
    pub fn of(volume: &Volume) -> Result<VoxelSize, SegmentError> {
        let g = &volume.geometry;
        let pixel_spacing_mm = g
            .pixel_spacing_mm
            .filter(|s| s.iter().all(|x| *x > 0.0 && x.is_finite()))
            .ok_or(SegmentError::NoPixelSpacing)?;
        let n = volume.slices();
        let thickness = volume
            .meta
            .slice_thickness_mm
            .filter(|t| *t > 0.0 && t.is_finite());
        let along: Option<Vec<f64>> = g.normal().and_then(|normal| {
            (g.slice_positions_mm.len() == n && n >= 2)
                .then(|| g.slice_positions_mm.iter().map(|p| p.dot(normal)).collect())
        });
        let slice_extent_mm = match along {
            Some(z) => (0..n)
                .map(|k| {
                    let gap = |a: usize, b: usize| match (z.get(a), z.get(b)) {
                        (Some(x), Some(y)) => Some((y - x).abs()),
                        _ => None,
                    };
                    let before = k.checked_sub(1).and_then(|p| gap(p, k));
                    let after = gap(k, k + 1);
                    match (before, after) {
                        (Some(b), Some(a)) => (a + b) / 2.0,
                        (Some(x), None) | (None, Some(x)) => x,
                        (None, None) => 0.0,
                    }
                })
                .collect(),
            None => {
                let t = thickness.ok_or(SegmentError::NoSliceSpacing)?;
                vec![t; n]
            }
        };
        if slice_extent_mm
            .iter()
            .any(|e| !(*e > 1e-6 && e.is_finite()))
        {
            return Err(SegmentError::NoSliceSpacing);
        }
        Ok(VoxelSize {
            pixel_spacing_mm,
            slice_extent_mm,
        })
    }

    /// Volume of one voxel of `slice` in mL (`None` outside the grid).
    pub fn voxel_volume_ml(&self, slice: usize) -> Option<f64> {
        let [r, c] = self.pixel_spacing_mm;
        self.slice_extent_mm.get(slice).map(|e| r * c * e / 1000.0)
    }

    /// The volume of a mask in mL (`None` when the mask reaches slices this
    /// size does not know).
    pub fn volume_ml(&self, mask: &Mask) -> Option<f64> {
        let mut total = 0.0;
        for (slice, count) in mask.counts_per_slice() {
            if count > 0 {
                total += count as f64 * self.voxel_volume_ml(slice)?;
            }
        }
        Some(total)
    }
}

/// Statistics of the voxels inside a mask.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MaskStats {
    /// Voxels inside.
    pub voxels: usize,
    /// Volume in mL; `None` when the spacing is unknown.
    pub volume_ml: Option<f64>,
    /// Mean modality value (HU for CT).
    pub mean: f64,
    /// Standard deviation (population) of the modality values.
    pub sd: f64,
    /// Smallest modality value.
    pub min: f64,
    /// Largest modality value.
    pub max: f64,
}

/// Voxel count, volume and modality-value statistics (through each slice's
/// rescale) of `mask` on `volume`. Sums are exact integers per slice.
pub fn mask_stats(volume: &Volume, mask: &Mask) -> Result<MaskStats, SegmentError> {
    let grid = [volume.slices(), volume.rows(), volume.columns()];
    if mask.grid() != grid {
        return Err(SegmentError::GridMismatch);
    }
    let data = volume.voxels.as_slice().ok_or(SegmentError::GridMismatch)?;
    let (origin, size) = mask.bounds();
    let (mut n, mut sum, mut sum2) = (0usize, 0.0f64, 0.0f64);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for slice in origin[0]..origin[0] + size[0] {
        let Some((start, box_size, bytes)) = mask.slice_view(slice) else {
            continue;
        };
        let (mut count, mut s1, mut s2) = (0i64, 0i64, 0i128);
        let (mut lo, mut hi) = (i16::MAX, i16::MIN);
        for r in 0..box_size[0] {
            let row_start = (slice * grid[1] + start[0] + r) * grid[2] + start[1];
            let (Some(values), Some(inside)) = (
                data.get(row_start..row_start + box_size[1]),
                bytes.get(r * box_size[1]..(r + 1) * box_size[1]),
            ) else {
                continue;
            };
            for (&v, &m) in values.iter().zip(inside) {
                if m != 0 {
                    count += 1;
                    s1 += i64::from(v);
                    s2 += i128::from(i32::from(v) * i32::from(v));
                    lo = lo.min(v);
                    hi = hi.max(v);
                }
            }
        }
        if count == 0 {
            continue;
        }
        let rescale = volume.slice_rescale(slice);
        let offset = f64::from(volume.stored_offset);
        let c = count as f64;
        // stored = v + offset; value = slope * stored + intercept
        let stored_sum = s1 as f64 + offset * c;
        let stored_sum2 = s2 as f64 + 2.0 * offset * s1 as f64 + offset * offset * c;
        let (a, b) = (rescale.slope, rescale.intercept);
        sum += a * stored_sum + b * c;
        sum2 += a * a * stored_sum2 + 2.0 * a * b * stored_sum + b * b * c;
        let x = rescale.apply(f64::from(i32::from(lo) + volume.stored_offset));
        let y = rescale.apply(f64::from(i32::from(hi) + volume.stored_offset));
        min = min.min(x.min(y));
        max = max.max(x.max(y));
        n += count as usize;
    }
    if n == 0 {
        return Err(SegmentError::EmptyMask);
    }
    let mean = sum / n as f64;
    let variance = (sum2 / n as f64 - mean * mean).max(0.0);
    Ok(MaskStats {
        voxels: n,
        volume_ml: VoxelSize::of(volume).ok().and_then(|v| v.volume_ml(mask)),
        mean,
        sd: variance.sqrt(),
        min,
        max,
    })
}

/// The median of `values` (reordered in place); `None` when empty.
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// The value at rank `round((n − 1) · q)` of `values` (reordered in place,
/// no interpolation); `None` when empty.
pub(crate) fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let k = ((values.len() - 1) as f64 * q).round() as usize;
    let (_, x, _) = values.select_nth_unstable_by(k, f64::total_cmp);
    Some(*x)
}

/// In-plane chessboard distance of every pixel of a `rows × columns` box to
/// the pixels where `zone` holds (0 there), by two raster passes.
pub(crate) fn chessboard_distance(
    rows: usize,
    columns: usize,
    zone: &dyn Fn(usize, usize) -> bool,
) -> Vec<usize> {
    let far = rows + columns;
    let mut d: Vec<usize> = (0..rows * columns)
        .map(|i| {
            if zone(i / columns, i % columns) {
                0
            } else {
                far
            }
        })
        .collect();
    let get = |d: &[usize], r: i64, c: i64| -> usize {
        if r < 0 || c < 0 || r as usize >= rows || c as usize >= columns {
            far
        } else {
            d.get(r as usize * columns + c as usize)
                .copied()
                .unwrap_or(far)
        }
    };
    for r in 0..rows as i64 {
        for c in 0..columns as i64 {
            let best = [(-1, -1), (-1, 0), (-1, 1), (0, -1)]
                .iter()
                .map(|(dr, dc)| get(&d, r + dr, c + dc) + 1)
                .min()
                .unwrap_or(far);
            if let Some(x) = d.get_mut(r as usize * columns + c as usize) {
                *x = (*x).min(best);
            }
        }
    }
    for r in (0..rows as i64).rev() {
        for c in (0..columns as i64).rev() {
            let best = [(1, 1), (1, 0), (1, -1), (0, 1)]
                .iter()
                .map(|(dr, dc)| get(&d, r + dr, c + dc) + 1)
                .min()
                .unwrap_or(far);
            if let Some(x) = d.get_mut(r as usize * columns + c as usize) {
                *x = (*x).min(best);
            }
        }
    }
    d
}

/// The voxel count of `mask` in mL, once it is known the mask can be
/// measured on `volume`: the same grid, not empty, the spacing known.
fn measurable_count_ml(
    volume: &Volume,
    mask: &Mask,
    size: &VoxelSize,
) -> Result<f64, SegmentError> {
    let grid = [volume.slices(), volume.rows(), volume.columns()];
    if mask.grid() != grid {
        return Err(SegmentError::GridMismatch);
    }
    if mask.is_empty() {
        return Err(SegmentError::EmptyMask);
    }
    size.volume_ml(mask).ok_or(SegmentError::NoSliceSpacing)
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Synthetic volumes for the unit tests.
    use ndarray::Array3;

    use super::Mask;
    use crate::volume::Volume;

    /// The centre of voxel `[s, r, c]` in mm, `[z, y, x]`, on a grid of
    /// `spacing` `[z, y, x]` from the origin.
    pub fn voxel_mm([s, r, c]: [usize; 3], spacing: [f64; 3]) -> [f64; 3] {
        [
            s as f64 * spacing[0],
            r as f64 * spacing[1],
            c as f64 * spacing[2],
        ]
    }

    /// A volume of `[slices, rows, columns]` with the given spacing, filled
    /// by `value(patient point)` in HU (rescale intercept −1024).
    pub fn volume(
        dims: [usize; 3],
        spacing: [f64; 3],
        mut value: impl FnMut([f64; 3]) -> f64,
    ) -> Volume {
        let [ns, nr, nc] = dims;
        let voxels = Array3::from_shape_fn((ns, nr, nc), |(s, r, c)| {
            let p = [
                c as f64 * spacing[2],
                r as f64 * spacing[1],
                s as f64 * spacing[0],
            ];
            (value(p) + 1024.0).round().clamp(-32768.0, 32767.0) as i16
        });
        let mut volume = Volume::axial_hu(voxels, [spacing[1], spacing[2]], 0.0, spacing[0]);
        volume.meta.slice_thickness_mm = Some(spacing[0]);
        volume
    }

    /// Fraction of the voxel `[z, y, x]` (mm, centre) of size `spacing`
    /// inside the ellipsoid `centre`, `semi` by 4 × 4 × 8 supersampling.
    pub fn occupancy(p: [f64; 3], spacing: [f64; 3], centre: [f64; 3], semi: [f64; 3]) -> f64 {
        let mut inside = 0;
        for i in 0..8 {
            for j in 0..4 {
                for k in 0..4 {
                    let z = p[0] + spacing[0] * ((i as f64 + 0.5) / 8.0 - 0.5);
                    let y = p[1] + spacing[1] * ((j as f64 + 0.5) / 4.0 - 0.5);
                    let x = p[2] + spacing[2] * ((k as f64 + 0.5) / 4.0 - 0.5);
                    let q = ((z - centre[0]) / semi[0]).powi(2)
                        + ((y - centre[1]) / semi[1]).powi(2)
                        + ((x - centre[2]) / semi[2]).powi(2);
                    if q <= 1.0 {
                        inside += 1;
                    }
                }
            }
        }
        f64::from(inside) / 128.0
    }

    /// An ellipsoid lesion of `lesion` HU rendered with partial volume on
    /// 1.5 × 1.5 × 5 mm voxels in tissue given by `background(x mm)`, and
    /// the mask of the voxels at least half lesion.
    pub fn phantom(
        semi: [f64; 3],
        lesion: f64,
        background: impl Fn(f64) -> f64,
    ) -> (Volume, Mask, f64) {
        phantom_at(27.3, semi, lesion, background)
    }

    /// [`phantom`] centred at `z` mm.
    pub fn phantom_at(
        z: f64,
        semi: [f64; 3],
        lesion: f64,
        background: impl Fn(f64) -> f64,
    ) -> (Volume, Mask, f64) {
        phantom_in([z, 29.6, 30.2], semi, lesion, |p| background(p[0]))
    }

    /// An ellipsoid lesion (`centre`, `semi` in mm `[z, y, x]`) of `lesion`
    /// HU rendered with partial volume on 12 × 40 × 40 voxels of 1.5 × 1.5
    /// × 5 mm in tissue given by `tissue(patient point [x, y, z] mm)`, the
    /// mask of the voxels at least half lesion, and the true volume, mL.
    pub fn phantom_in(
        centre: [f64; 3],
        semi: [f64; 3],
        lesion: f64,
        tissue: impl Fn([f64; 3]) -> f64,
    ) -> (Volume, Mask, f64) {
        let spacing = [5.0, 1.5, 1.5];
        let dims = [12, 40, 40];
        let v = volume(dims, spacing, |p| {
            let f = occupancy([p[2], p[1], p[0]], spacing, centre, semi);
            tissue(p) * (1.0 - f) + lesion * f
        });
        let mask = Mask::from_fn(dims, [0; 3], dims, |[s, r, c]| {
            let p = voxel_mm([s, r, c], spacing);
            occupancy(p, spacing, centre, semi) >= 0.5
        });
        let truth = 4.0 / 3.0 * std::f64::consts::PI * semi[0] * semi[1] * semi[2] / 1000.0;
        (v, mask, truth)
    }

    /// A noisy phantom like the sample CT: partial volume, white noise of
    /// `sigma / 0.375` blurred in-plane by [1 2 1]/4 (so `sigma` per voxel).
    pub fn noisy_phantom(
        seed: u64,
        centre: [f64; 3],
        semi: [f64; 3],
        lesion: f64,
        background: f64,
        sigma: f64,
    ) -> (Volume, Mask, f64) {
        let spacing = [5.0, 1.5, 1.5];
        let dims = [12usize, 40usize, 40usize];
        let mut rng = crate::synth::noise::SplitMix64::new(seed);
        let mut raw = vec![0.0f64; dims[0] * dims[1] * dims[2]];
        let mut occ = vec![0.0f64; raw.len()];
        for s in 0..dims[0] {
            for r in 0..dims[1] {
                for c in 0..dims[2] {
                    let p = voxel_mm([s, r, c], spacing);
                    let f = occupancy(p, spacing, centre, semi);
                    let i = (s * dims[1] + r) * dims[2] + c;
                    occ[i] = f;
                    raw[i] = background * (1.0 - f) + lesion * f + sigma / 0.375 * rng.gaussian();
                }
            }
        }
        let at = |d: &[f64], s: usize, r: usize, c: usize| d[(s * dims[1] + r) * dims[2] + c];
        let mut h = raw.clone();
        for s in 0..dims[0] {
            for r in 0..dims[1] {
                for c in 0..dims[2] {
                    let l = at(&raw, s, r, c.saturating_sub(1));
                    let rr = at(&raw, s, r, (c + 1).min(dims[2] - 1));
                    h[(s * dims[1] + r) * dims[2] + c] =
                        0.25 * l + 0.5 * at(&raw, s, r, c) + 0.25 * rr;
                }
            }
        }
        let mut out = h.clone();
        for s in 0..dims[0] {
            for r in 0..dims[1] {
                for c in 0..dims[2] {
                    let u = at(&h, s, r.saturating_sub(1), c);
                    let d = at(&h, s, (r + 1).min(dims[1] - 1), c);
                    out[(s * dims[1] + r) * dims[2] + c] =
                        0.25 * u + 0.5 * at(&h, s, r, c) + 0.25 * d;
                }
            }
        }
        let v = volume(dims, spacing, |p| {
            let s = (p[2] / spacing[0]).round() as usize;
            let r = (p[1] / spacing[1]).round() as usize;
            let c = (p[0] / spacing[2]).round() as usize;
            out[(s * dims[1] + r) * dims[2] + c]
        });
        let mask = Mask::from_fn(dims, [0; 3], dims, |[s, r, c]| {
            occ[(s * dims[1] + r) * dims[2] + c] >= 0.5
        });
        let truth = 4.0 / 3.0 * std::f64::consts::PI * semi[0] * semi[1] * semi[2] / 1000.0;
        (v, mask, truth)
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::volume;
    use super::*;
    use crate::geom::Vec3;

    #[test]
    fn volume_counts_voxels_times_their_slice_extent() {
        let mut v = volume([4, 8, 8], [2.0, 0.5, 0.5], |_| 0.0);
        // uneven: slices at z = 0, 2, 5, 9
        v.geometry.slice_positions_mm = [0.0, 2.0, 5.0, 9.0]
            .iter()
            .map(|z| Vec3::new(0.0, 0.0, *z))
            .collect();
        let size = VoxelSize::of(&v).unwrap();
        assert_eq!(size.slice_extent_mm, vec![2.0, 2.5, 3.5, 4.0]);
        let mut m = Mask::empty([4, 8, 8]);
        m.paint_slice(1, 0..2, 0..2, true, |_, _| true); // 4 voxels × 0.25 × 2.5
        m.paint_slice(3, 0..1, 0..1, true, |_, _| true); // 1 voxel × 0.25 × 4
        let ml = size.volume_ml(&m).unwrap();
        assert!((ml - (4.0 * 0.25 * 2.5 + 0.25 * 4.0) / 1000.0).abs() < 1e-12);
    }

    #[test]
    fn no_spacing_is_an_error_not_pixels() {
        let mut v = volume([4, 8, 8], [2.0, 0.5, 0.5], |_| 0.0);
        v.geometry.pixel_spacing_mm = None;
        assert_eq!(VoxelSize::of(&v), Err(SegmentError::NoPixelSpacing));
        let mut v = volume([4, 8, 8], [2.0, 0.5, 0.5], |_| 0.0);
        v.geometry.slice_positions_mm.clear();
        v.meta.slice_thickness_mm = None;
        assert_eq!(VoxelSize::of(&v), Err(SegmentError::NoSliceSpacing));
        // thickness is the fallback without positions
        v.meta.slice_thickness_mm = Some(3.0);
        assert_eq!(VoxelSize::of(&v).unwrap().slice_extent_mm, vec![3.0; 4]);
    }

    #[test]
    fn stats_use_the_rescale_of_each_slice() {
        let mut v = volume([2, 4, 4], [1.0, 1.0, 1.0], |p| {
            if p[0] < 1.5 { 10.0 } else { 30.0 }
        });
        v.rescale[1] = crate::volume::Rescale {
            slope: 2.0,
            intercept: -2048.0,
        };
        let m = Mask::from_fn([2, 4, 4], [0; 3], [2, 4, 4], |[_, r, c]| r == 0 && c < 4);
        let s = mask_stats(&v, &m).unwrap();
        assert_eq!(s.voxels, 8);
        // slice 0: 10, 10, 30, 30; slice 1 doubled: 20, 20, 60, 60
        assert!((s.mean - 30.0).abs() < 1e-9, "{}", s.mean);
        assert_eq!((s.min, s.max), (10.0, 60.0));
        let expected_sd = ((2.0 * 400.0 + 2.0 * 100.0 + 2.0 * 900.0) / 8.0f64).sqrt();
        assert!((s.sd - expected_sd).abs() < 1e-9);
        assert!((s.volume_ml.unwrap() - 8.0 / 1000.0).abs() < 1e-12);
        assert_eq!(
            mask_stats(&v, &Mask::empty([2, 4, 4])),
            Err(SegmentError::EmptyMask)
        );
        assert_eq!(
            mask_stats(&v, &Mask::empty([3, 4, 4])),
            Err(SegmentError::GridMismatch)
        );
    }
}
