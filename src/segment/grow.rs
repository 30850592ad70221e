//! Seeded 3-D region growing with a window adapted to the seed's
//! neighbourhood.
//!
//! 1. Lesion level and noise: median and robust SD (MAD) of the seed's
//!    in-plane neighbourhood; a first, narrow flood fill (level ± 2.5 SD)
//!    finds the lesion's core, whose median becomes the lesion level `L`.
//! 2. Background: values on a ring about three pixels outside the core's
//!    in-plane boundary. On each side of `L` (darker, brighter) the level
//!    of the nearest real tissue is a quartile of the ring values on that
//!    side (the one closer to `L`, so a mixed ring — muscle and fat — is
//!    judged by the tissue that could leak).
//! 3. The window runs half-way from `L` to each background level (a voxel at
//!    least half lesion is in); a side without tissue mirrors the other.
//! 4. Connected (6-neighbour) flood fill from the seed inside a box bounded
//!    by the maximum radius (and the reader's box), with a visited map of
//!    that box only; then each slice's holes are filled.

use std::ops::Range;

use super::{Mask, SegmentError, Voxel, VoxelSize};
use crate::volume::Volume;

/// A reader-drawn box that constrains the growth (voxel index ranges).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrowBox {
    /// Rows.
    pub rows: Range<usize>,
    /// Columns.
    pub columns: Range<usize>,
    /// Slices (`None`: limited by the radius only).
    pub slices: Option<Range<usize>>,
}

/// Parameters of [`grow`].
#[derive(Debug, Clone, PartialEq)]
pub struct GrowParams {
    /// No voxel further than this from the seed along any axis (mm; pixels
    /// when the spacing is unknown).
    pub max_radius_mm: f64,
    /// Optional box drawn by the reader.
    pub bounds: Option<GrowBox>,
}

impl Default for GrowParams {
    fn default() -> Self {
        GrowParams {
            max_radius_mm: 50.0,
            bounds: None,
        }
    }
}

/// The result of [`grow`].
#[derive(Debug, Clone, PartialEq)]
pub struct Grown {
    /// The grown region.
    pub mask: Mask,
    /// The lesion level `L` (modality units).
    pub lesion_level: f64,
    /// The intensity window used, `[low, high]`.
    pub window: [f64; 2],
    /// Background levels found darker and brighter than the lesion.
    pub background: [Option<f64>; 2],
    /// Whether the region touched the limit of the search box (a leak is
    /// likely: draw a box or brush the excess away).
    pub hit_limit: bool,
}

const REGION: u8 = 2;

/// The search box in grid coordinates.
#[derive(Debug, Clone, Copy)]
struct Region {
    lo: [usize; 3],
    size: [usize; 3],
    grid: [usize; 3],
}

impl Region {
    fn local(&self, [s, r, c]: Voxel) -> Option<usize> {
        let ls = s.checked_sub(self.lo[0])?;
        let lr = r.checked_sub(self.lo[1])?;
        let lc = c.checked_sub(self.lo[2])?;
        (ls < self.size[0] && lr < self.size[1] && lc < self.size[2])
            .then_some((ls * self.size[1] + lr) * self.size[2] + lc)
    }

    fn len(&self) -> usize {
        self.size[0] * self.size[1] * self.size[2]
    }
}

/// Grows a region from `seed` (`[slice, row, column]`) in `volume`.
pub fn grow(volume: &Volume, seed: Voxel, params: &GrowParams) -> Result<Grown, SegmentError> {
    let grid = [volume.slices(), volume.rows(), volume.columns()];
    let data = volume.voxels.as_slice().ok_or(SegmentError::GridMismatch)?;
    if (0..3).any(|a| seed[a] >= grid[a]) {
        return Err(SegmentError::SeedOutside);
    }
    let region = search_region(volume, grid, seed, params);
    if region.local(seed).is_none() {
        return Err(SegmentError::SeedOutside);
    }
    let value = |[s, r, c]: Voxel| -> Option<f64> {
        let v = *data.get((s * grid[1] + r) * grid[2] + c)?;
        Some(
            volume
                .slice_rescale(s)
                .apply(f64::from(i32::from(v) + volume.stored_offset)),
        )
    };
    // 1. level and noise near the seed
    let near = |radius: usize| -> Vec<f64> {
        let mut out = Vec::new();
        for r in seed[1].saturating_sub(radius)..=(seed[1] + radius).min(grid[1] - 1) {
            for c in seed[2].saturating_sub(radius)..=(seed[2] + radius).min(grid[2] - 1) {
                out.extend(value([seed[0], r, c]));
            }
        }
        out
    };
    let mut small = near(1);
    let level0 = median(&mut small).ok_or(SegmentError::SeedOutside)?;
    let mut deviations: Vec<f64> = small.iter().map(|v| (*v - level0).abs()).collect();
    let slope = volume.slice_rescale(seed[0]).slope.abs().max(1e-9);
    let sigma0 = (1.4826 * median(&mut deviations).unwrap_or(0.0)).max(slope);
    let (row_mm, column_mm) = VoxelSize::of(volume)
        .map(|v| (v.pixel_spacing_mm[0], v.pixel_spacing_mm[1]))
        .unwrap_or((1.0, 1.0));
    let rays = |level: f64, floor: f64| {
        cast_rays(
            &region,
            seed,
            [row_mm, column_mm],
            params.max_radius_mm,
            level,
            floor,
            &value,
        )
    };
    // 2. refine level and noise on the in-plane disc well inside the edges
    let first = rays(level0, 3.0 * sigma0);
    let inner = (0.6 * first.min_edge_px.unwrap_or(1.0)).max(1.5);
    let reach = inner.ceil() as usize;
    let mut disc = Vec::new();
    for r in seed[1].saturating_sub(reach)..=(seed[1] + reach).min(grid[1] - 1) {
        for c in seed[2].saturating_sub(reach)..=(seed[2] + reach).min(grid[2] - 1) {
            let (dr, dc) = (r as f64 - seed[1] as f64, c as f64 - seed[2] as f64);
            if dr * dr + dc * dc <= inner * inner {
                disc.extend(value([seed[0], r, c]));
            }
        }
    }
    let level = median(&mut disc).unwrap_or(level0);
    let mut deviations: Vec<f64> = disc.iter().map(|v| (*v - level).abs()).collect();
    let sigma = (1.4826 * median(&mut deviations).unwrap_or(0.0)).max(slope);
    let floor = 3.0 * sigma;
    // 3. the nearest tissue on each side (three flat rays at least)
    let Rays {
        mut dark,
        mut bright,
        edges_px: mut edges_mm,
        ..
    } = rays(level, floor);
    // a compact lesion: no voxel further than twice the median edge distance
    let shape_radius_mm = median(&mut edges_mm).map_or(params.max_radius_mm, |m| {
        (2.0 * m).min(params.max_radius_mm)
    });
    let region = search_region(
        volume,
        grid,
        seed,
        &GrowParams {
            max_radius_mm: shape_radius_mm,
            bounds: params.bounds.clone(),
        },
    );
    let dark = (dark.len() >= 3)
        .then(|| quantile(&mut dark, 0.75))
        .flatten();
    let bright = (bright.len() >= 3)
        .then(|| quantile(&mut bright, 0.25))
        .flatten();
    // half-way windows; a side without tissue: four noise SDs
    let open = 4.0 * sigma;
    let window = [
        dark.map_or(level - open, |d| (level + d) / 2.0),
        bright.map_or(level + open, |b| (level + b) / 2.0),
    ];
    let mut visited = vec![0u8; region.len()];
    // 4. the region
    let grown = flood(volume, data, &region, seed, window, &mut visited, REGION);
    let mut lo = seed;
    let mut hi = seed;
    for v in &grown {
        for a in 0..3 {
            lo[a] = lo[a].min(v[a]);
            hi[a] = hi[a].max(v[a]);
        }
    }
    let region_hi = [0, 1, 2].map(|a| region.lo[a] + region.size[a] - 1);
    let hit_limit = (0..3).any(|a| {
        (lo[a] == region.lo[a] && region.lo[a] > 0)
            || (hi[a] == region_hi[a] && region_hi[a] + 1 < grid[a])
    });
    let size = [0, 1, 2].map(|a| hi[a] + 1 - lo[a]);
    let mut bytes = vec![0u8; size[0] * size[1] * size[2]];
    for v in &grown {
        let i = ((v[0] - lo[0]) * size[1] + (v[1] - lo[1])) * size[2] + (v[2] - lo[2]);
        if let Some(slot) = bytes.get_mut(i) {
            *slot = 1;
        }
    }
    let plane = size[1] * size[2];
    for slice in bytes.chunks_mut(plane.max(1)) {
        fill_holes(slice, size[1], size[2]);
    }
    Ok(Grown {
        mask: Mask::from_box(grid, lo, size, bytes),
        lesion_level: level,
        window,
        background: [dark, bright],
        hit_limit,
    })
}

fn search_region(volume: &Volume, grid: [usize; 3], seed: Voxel, params: &GrowParams) -> Region {
    let (row_mm, column_mm, slice_mm) = match VoxelSize::of(volume) {
        Ok(size) => (
            size.pixel_spacing_mm[0],
            size.pixel_spacing_mm[1],
            size.slice_extent_mm.get(seed[0]).copied().unwrap_or(1.0),
        ),
        Err(_) => (1.0, 1.0, 1.0),
    };
    let radius = params.max_radius_mm.max(0.0);
    let reach = [slice_mm, row_mm, column_mm].map(|mm| (radius / mm).ceil() as usize);
    let mut lo = [0, 1, 2].map(|a| seed[a].saturating_sub(reach[a]));
    let mut hi = [0, 1, 2].map(|a| (seed[a] + reach[a] + 1).min(grid[a]));
    if let Some(b) = &params.bounds {
        let mut ranges = vec![(1, b.rows.clone()), (2, b.columns.clone())];
        if let Some(s) = &b.slices {
            ranges.push((0, s.clone()));
        }
        for (a, range) in ranges {
            lo[a] = lo[a].max(range.start);
            hi[a] = hi[a].min(range.end);
        }
    }
    Region {
        lo,
        size: [0, 1, 2].map(|a| hi[a].saturating_sub(lo[a])),
        grid,
    }
}

/// Connected 6-neighbour flood fill from `seed` (or, if the seed itself is
/// outside the window, from its in-window in-plane neighbours) of voxels
/// whose modality value lies in `window`; marks `bit` in `visited`.
fn flood(
    volume: &Volume,
    data: &[i16],
    region: &Region,
    seed: Voxel,
    window: [f64; 2],
    visited: &mut [u8],
    bit: u8,
) -> Vec<Voxel> {
    let grid = region.grid;
    // the window in stored units (minus offset) per slice of the region
    let bounds: Vec<(f32, f32)> = (region.lo[0]..region.lo[0] + region.size[0])
        .map(|s| {
            let r = volume.slice_rescale(s);
            let offset = f64::from(volume.stored_offset);
            let slope = if r.slope.abs() < 1e-12 {
                1e-12
            } else {
                r.slope
            };
            let a = (window[0] - r.intercept) / slope - offset;
            let b = (window[1] - r.intercept) / slope - offset;
            (a.min(b) as f32, a.max(b) as f32)
        })
        .collect();
    // In: the voxel's own value in the window (at least half lesion) and
    // its 3 × 3 in-plane mean in the window widened by half (at least a
    // quarter lesion around it): a lone noisy voxel of the neighbouring
    // tissue fails the second test, a voxel on a small lesion's edge passes.
    let relaxed: Vec<(f32, f32)> = bounds
        .iter()
        .map(|&(lo, hi)| {
            let half = (hi - lo) / 2.0;
            let mid = (lo + hi) / 2.0;
            (mid - 1.5 * half, mid + 1.5 * half)
        })
        .collect();
    let inside = |[s, r, c]: Voxel| -> bool {
        let (Some(&(lo, hi)), Some(&(wide_lo, wide_hi))) =
            (bounds.get(s - region.lo[0]), relaxed.get(s - region.lo[0]))
        else {
            return false;
        };
        if !data
            .get((s * grid[1] + r) * grid[2] + c)
            .is_some_and(|&v| (lo..=hi).contains(&f32::from(v)))
        {
            return false;
        }
        let (r0, r1) = (r.saturating_sub(1), (r + 1).min(grid[1] - 1));
        let (c0, c1) = (c.saturating_sub(1), (c + 1).min(grid[2] - 1));
        let mut sum = 0i32;
        let mut n = 0i32;
        for rr in r0..=r1 {
            let start = (s * grid[1] + rr) * grid[2];
            if let Some(row) = data.get(start + c0..=start + c1) {
                for &v in row {
                    sum += i32::from(v);
                    n += 1;
                }
            }
        }
        n > 0 && (wide_lo..=wide_hi).contains(&(sum as f32 / n as f32))
    };
    let mut stack: Vec<Voxel> = Vec::new();
    let mut out = Vec::new();
    let mut starts = vec![seed];
    if !inside(seed) {
        for dr in [-1i64, 0, 1] {
            for dc in [-1i64, 0, 1] {
                let r = seed[1] as i64 + dr;
                let c = seed[2] as i64 + dc;
                if r >= 0 && c >= 0 {
                    starts.push([seed[0], r as usize, c as usize]);
                }
            }
        }
    }
    for start in starts {
        if let Some(i) = region.local(start)
            && inside(start)
            && let Some(slot) = visited.get_mut(i)
            && *slot & bit == 0
        {
            *slot |= bit;
            stack.push(start);
        }
    }
    let [ls, lr, lc] = region.lo;
    let [hs, hr, hc] = [0, 1, 2].map(|a| region.lo[a] + region.size[a]);
    while let Some(v) = stack.pop() {
        out.push(v);
        let [s, r, c] = v;
        let mut try_push = |n: Voxel| {
            if let Some(i) = region.local(n)
                && let Some(slot) = visited.get_mut(i)
                && *slot & bit == 0
                && inside(n)
            {
                *slot |= bit;
                stack.push(n);
            }
        };
        if c > lc {
            try_push([s, r, c - 1]);
        }
        if c + 1 < hc {
            try_push([s, r, c + 1]);
        }
        if r > lr {
            try_push([s, r - 1, c]);
        }
        if r + 1 < hr {
            try_push([s, r + 1, c]);
        }
        if s > ls {
            try_push([s - 1, r, c]);
        }
        if s + 1 < hs {
            try_push([s + 1, r, c]);
        }
    }
    out
}

/// What the rays from the seed found.
struct Rays {
    /// Background levels darker than the lesion, one per ray.
    dark: Vec<f64>,
    /// Background levels brighter than the lesion, one per ray.
    bright: Vec<f64>,
    /// The nearest edge, in ray steps (pixels).
    min_edge_px: Option<f64>,
    /// Distance (mm) to the edge of every ray that found flat background.
    edges_px: Vec<f64>,
}

/// Casts 16 in-plane rays from the seed: each stops at the first step whose
/// two-sample mean leaves `level ± floor` (the edge) and reads the
/// background as the median of the samples 3–5 steps further, kept only when
/// flat (spread within `floor`).
fn cast_rays(
    region: &Region,
    seed: Voxel,
    spacing_mm: [f64; 2],
    max_radius_mm: f64,
    level: f64,
    floor: f64,
    value: &dyn Fn(Voxel) -> Option<f64>,
) -> Rays {
    let noise = floor / 3.0;
    let mut out = Rays {
        dark: Vec::new(),
        bright: Vec::new(),
        min_edge_px: None,
        edges_px: Vec::new(),
    };
    for k in 0..16 {
        let angle = k as f64 * std::f64::consts::PI / 8.0;
        let (dr, dc) = (angle.sin(), angle.cos());
        let at = |t: f64| -> Option<f64> {
            let r = (seed[1] as f64 + dr * t).round();
            let c = (seed[2] as f64 + dc * t).round();
            if r < 0.0 || c < 0.0 {
                return None;
            }
            let v = [seed[0], r as usize, c as usize];
            region.local(v)?;
            value(v)
        };
        let step_mm = (dr.abs() * spacing_mm[0] + dc.abs() * spacing_mm[1]).max(1e-6);
        let max_steps = (max_radius_mm / step_mm).ceil() as usize;
        let mut edge = None;
        for t in 1..max_steps {
            let (Some(a), Some(b)) = (at(t as f64), at(t as f64 + 1.0)) else {
                break;
            };
            if ((a + b) / 2.0 - level).abs() > floor {
                edge = Some(t);
                break;
            }
        }
        let Some(edge) = edge else { continue };
        out.min_edge_px = Some(
            out.min_edge_px
                .map_or(edge as f64, |m: f64| m.min(edge as f64)),
        );
        let mut samples: Vec<f64> = (edge + 3..edge + 6).filter_map(|t| at(t as f64)).collect();
        let spread = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - samples.iter().copied().fold(f64::INFINITY, f64::min);
        let Some(b) = median(&mut samples) else {
            continue;
        };
        // flat: the samples are background, not the lesion's blurred edge
        if samples.len() < 3 || spread > (0.5 * (b - level).abs()).max(4.0 * noise) {
            continue;
        }
        out.edges_px.push(edge as f64 * step_mm);
        {
            if b < level - floor {
                out.dark.push(b);
            } else if b > level + floor {
                out.bright.push(b);
            }
        }
    }
    out
}

/// Fills the 4-connected background components of a `rows × columns` slice
/// that do not reach its border.
pub(crate) fn fill_holes(slice: &mut [u8], rows: usize, columns: usize) {
    const OUTSIDE: u8 = 2;
    let mut stack = Vec::new();
    let mark = |i: usize, slice: &mut [u8], stack: &mut Vec<usize>| {
        if let Some(v) = slice.get_mut(i)
            && *v == 0
        {
            *v = OUTSIDE;
            stack.push(i);
        }
    };
    for c in 0..columns {
        mark(c, slice, &mut stack);
        mark((rows.saturating_sub(1)) * columns + c, slice, &mut stack);
    }
    for r in 0..rows {
        mark(r * columns, slice, &mut stack);
        mark(r * columns + columns.saturating_sub(1), slice, &mut stack);
    }
    while let Some(i) = stack.pop() {
        let (r, c) = (i / columns.max(1), i % columns.max(1));
        if c > 0 {
            mark(i - 1, slice, &mut stack);
        }
        if c + 1 < columns {
            mark(i + 1, slice, &mut stack);
        }
        if r > 0 {
            mark(i - columns, slice, &mut stack);
        }
        if r + 1 < rows {
            mark(i + columns, slice, &mut stack);
        }
    }
    for v in slice.iter_mut() {
        *v = u8::from(*v != OUTSIDE);
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    quantile(values, 0.5)
}

fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let k = ((values.len() - 1) as f64 * q).round() as usize;
    let (_, x, _) = values.select_nth_unstable_by(k, f64::total_cmp);
    Some(*x)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::volume;
    use super::*;

    /// A 20 mm sphere of 40 HU in 100 HU "liver", 0.5 mm pixels, 1 mm slices.
    fn sphere_in_liver(noise: f64) -> (Volume, Voxel) {
        let centre = [20.0, 20.0, 15.0];
        let mut state = 12345u64;
        let v = volume([30, 80, 80], [1.0, 0.5, 0.5], move |p| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = ((state >> 11) as f64 / (1u64 << 53) as f64) - 0.5;
            let d = ((p[0] - centre[0]).powi(2)
                + (p[1] - centre[1]).powi(2)
                + (p[2] - centre[2]).powi(2))
            .sqrt();
            (if d <= 10.0 { 40.0 } else { 100.0 }) + noise * u * 3.46
        });
        (v, [15, 40, 40])
    }

    #[test]
    fn a_sphere_grows_to_its_volume_and_stays_inside() {
        let (v, seed) = sphere_in_liver(0.0);
        let g = grow(&v, seed, &GrowParams::default()).unwrap();
        let truth_ml = 4.0 / 3.0 * std::f64::consts::PI * 1000.0 / 1000.0;
        let ml = VoxelSize::of(&v).unwrap().volume_ml(&g.mask).unwrap();
        assert!((ml / truth_ml - 1.0).abs() < 0.03, "{ml} vs {truth_ml}");
        assert_eq!(g.background[1], Some(100.0));
        assert_eq!(g.window, [36.0, 70.0]);
        assert!(!g.hit_limit);
    }

    #[test]
    fn noise_does_not_leak_or_punch_holes() {
        let (v, seed) = sphere_in_liver(8.0);
        let g = grow(&v, seed, &GrowParams::default()).unwrap();
        let truth_ml = 4.0 / 3.0 * std::f64::consts::PI;
        let ml = VoxelSize::of(&v).unwrap().volume_ml(&g.mask).unwrap();
        assert!((ml / truth_ml - 1.0).abs() < 0.05, "{ml} vs {truth_ml}");
        // the centre slice has no holes
        let (_, _, bytes) = g.mask.slice_view(15).unwrap();
        let _ = bytes;
        assert!(g.mask.contains([15, 40, 40]) && g.mask.contains([15, 40, 55]));
    }

    #[test]
    fn the_radius_and_the_box_bound_the_growth() {
        // a uniform image: everything is "lesion"; the radius limits it
        let v = volume([30, 80, 80], [1.0, 0.5, 0.5], |_| 50.0);
        let g = grow(
            &v,
            [15, 40, 40],
            &GrowParams {
                max_radius_mm: 5.0,
                bounds: None,
            },
        )
        .unwrap();
        assert_eq!(g.mask.bounds(), ([10, 30, 30], [11, 21, 21]));
        assert!(g.hit_limit);
        let boxed = grow(
            &v,
            [15, 40, 40],
            &GrowParams {
                max_radius_mm: 50.0,
                bounds: Some(GrowBox {
                    rows: 35..45,
                    columns: 38..42,
                    slices: Some(14..17),
                }),
            },
        )
        .unwrap();
        assert_eq!(boxed.mask.bounds(), ([14, 35, 38], [3, 10, 4]));
        assert_eq!(
            grow(&v, [30, 0, 0], &GrowParams::default()),
            Err(SegmentError::SeedOutside)
        );
    }

    #[test]
    fn holes_are_filled_per_slice() {
        // a ring of 1 around a 0, plus an opening to the border
        let mut s = vec![
            1, 1, 1, 0, //
            1, 0, 1, 0, //
            1, 1, 1, 0, //
        ];
        fill_holes(&mut s, 3, 4);
        assert_eq!(s, vec![1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0]);
        let mut open = vec![1, 0, 1, 1, 0, 1, 1, 1, 1];
        fill_holes(&mut open, 3, 3);
        assert_eq!(open, vec![1, 0, 1, 1, 0, 1, 1, 1, 1]);
    }
}
