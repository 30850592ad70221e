//! Seeded 3-D region growing with a window adapted to the seed's
//! neighbourhood.
//!
//! 1. Seed: level (3 × 3 median) and noise SD (MAD of the 5 × 5, at most
//!    2.5 × the SD of neighbour differences) at the click; 16 in-plane rays
//!    find the lesion's edge. The seed moves to the centre of the edge
//!    points (up to three times, while the centre reads at the lesion's
//!    level), so a click near one edge reads the lesion as a click on its
//!    centre does — the same mask wherever the reader clicks.
//! 2. Lesion level `L` and noise `σ` are read again on the disc well inside
//!    the edges; rays at `L ± 3σ` read the tissue beyond each edge (flat
//!    samples only).
//! 3. The window runs half-way from `L` to the nearest tissue on each side
//!    seen by three rays at least (a voxel at least half lesion is in); a
//!    side without tissue: `4σ`, at least a tenth of the other contrast.
//! 4. Connected (6-neighbour) flood fill of voxels whose value and 3 × 3
//!    mean are in the window, inside a box of twice the lesion's radius
//!    about its centre (and the reader's box). Where it reaches the box,
//!    one-pixel bridges (vessels) are cut; then one layer of in-plane edge
//!    refinement, and each slice's holes are filled.
//! 5. A region still at the box has leaked into a tissue the rays missed (a
//!    thin muscle beside an abdominal-wall mass): that tissue's level is
//!    the median of the region beyond 1.5 lesion radii, the window stops
//!    half-way to it and the region grows again (twice at most). One still
//!    at the box is reported ([`Grown::hit_limit`]).

use std::ops::Range;

use super::{Mask, SegmentError, Voxel, VoxelSize, median};
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
    /// Whether the final region touches the limit of the search box (a
    /// leak is likely: draw a box or brush the excess away).
    pub hit_limit: bool,
    /// Whether the growth reached the limit but cutting one-pixel bridges
    /// (vessels touching the lesion) freed the region from it: no leak.
    pub bridges_cut: bool,
}

const REGION: u8 = 2;

/// How many times the seed may move to the centre of the edge points.
const RECENTRE_STEPS: usize = 3;

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
    let (row_mm, column_mm, slice_mm) = VoxelSize::of(volume)
        .map(|v| {
            (
                v.pixel_spacing_mm[0],
                v.pixel_spacing_mm[1],
                v.slice_extent_mm.get(seed[0]).copied().unwrap_or(1.0),
            )
        })
        .unwrap_or((1.0, 1.0, 1.0));
    let rays = |from: Voxel, level: f64, floor: f64| {
        cast_rays(
            &region,
            from,
            [row_mm, column_mm],
            params.max_radius_mm,
            level,
            floor,
            &value,
        )
    };
    // 1. level and noise near the seed, and where the rays meet the edge.
    // A click off the lesion's centre sees its near edge in the 3 × 3 and
    // reads the nearest tissue on one side only (the muscle beside an
    // abdominal-wall mass behind fat): the seed moves to the centre of the
    // edge points while that stays inside the lesion, and all is read again
    // from there, as from a click on the centre.
    let slope = volume.slice_rescale(seed[0]).slope.abs().max(1e-9);
    let mut seed = seed;
    let (mut level0, mut sigma0) =
        seed_level_and_noise(seed, grid, slope, &value).ok_or(SegmentError::SeedOutside)?;
    let mut first = rays(seed, level0, 3.0 * sigma0);
    for _ in 0..RECENTRE_STEPS {
        let Some((offset, _)) = lesion_centre_mm(&first.edge_offsets_mm) else {
            break;
        };
        let moved = [
            seed[0] as f64,
            seed[1] as f64 + (offset[0] / row_mm).round(),
            seed[2] as f64 + (offset[1] / column_mm).round(),
        ];
        if moved[1] < 0.0 || moved[2] < 0.0 {
            break;
        }
        let moved = moved.map(|x| x as usize);
        if moved == seed || region.local(moved).is_none() {
            break;
        }
        let Some((level, sigma)) = seed_level_and_noise(moved, grid, slope, &value) else {
            break;
        };
        // the centre must be lesion: at the level found so far
        if (level - level0).abs() > 3.0 * sigma0 {
            break;
        }
        seed = moved;
        (level0, sigma0) = (level, sigma);
        first = rays(seed, level0, 3.0 * sigma0);
    }
    // 2. refine level and noise on the in-plane disc well inside the edges
    let inner = (0.6 * first.median_edge_px.unwrap_or(1.0)).max(1.5);
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
        dark,
        bright,
        edge_offsets_mm,
        ..
    } = rays(seed, level, floor);
    // a compact lesion: no voxel further from its centre than twice the
    // median edge distance from that centre, or 1.25 times the farthest
    // edge point for an elongated one (the abdominal-wall mass, 60 × 26 mm,
    // reached a box of twice its median radius at its ends; the edge is
    // found where the blurred border starts: two pixels more). The centre
    // is the mean of the edge points, not the seed: a reader clicking
    // off-centre sees most rays meet the near edge.
    let margin_mm = 2.0 * row_mm.max(column_mm);
    let shape_radius_mm = lesion_extent_mm(&edge_offsets_mm).map_or(
        params.max_radius_mm,
        |(offset, radius, farthest)| {
            (offset + (2.0 * radius).max(1.25 * farthest) + margin_mm).min(params.max_radius_mm)
        },
    );
    let region = search_region(
        volume,
        grid,
        seed,
        &GrowParams {
            max_radius_mm: shape_radius_mm,
            bounds: params.bounds.clone(),
        },
    );
    let radius_mm = lesion_extent_mm(&edge_offsets_mm).map(|(_, radius, _)| radius);
    let (mut window, [mut dark, mut bright]) = choose_window(dark, bright, level, sigma);
    // 4. the region; where it still reaches the search limit after the
    // bridges are cut it has leaked into a neighbouring tissue: the window
    // stops half-way to that tissue's level (read on the region's voxels
    // far from the lesion) and the region grows again
    let mut attempt = region_in_window(volume, data, &region, seed, window, level, sigma, &value);
    for _ in 0..LEAK_RETRIES {
        if !attempt.still_at_limit {
            break;
        }
        let Some(radius_mm) = radius_mm else { break };
        let Some(tissue) = leaked_tissue_level(
            &attempt.mask,
            seed,
            [slice_mm, row_mm, column_mm],
            1.5 * radius_mm + margin_mm,
            &value,
        ) else {
            break;
        };
        // a tissue at the lesion's level cannot be told apart by the window
        if (tissue - level).abs() < 2.0 * sigma.min(sigma0) {
            break;
        }
        let mut narrowed = window;
        if tissue < level {
            narrowed[0] = narrowed[0].max((level + tissue) / 2.0);
            dark = Some(dark.map_or(tissue, |d| d.max(tissue)));
        } else {
            narrowed[1] = narrowed[1].min((level + tissue) / 2.0);
            bright = Some(bright.map_or(tissue, |b| b.min(tissue)));
        }
        if narrowed == window {
            break;
        }
        window = narrowed;
        attempt = region_in_window(volume, data, &region, seed, window, level, sigma, &value);
    }
    Ok(Grown {
        mask: attempt.mask,
        lesion_level: level,
        window,
        background: [dark, bright],
        hit_limit: attempt.still_at_limit,
        bridges_cut: attempt.reached_limit && !attempt.still_at_limit,
    })
}

/// How many times a leaking region may grow again in a narrower window.
const LEAK_RETRIES: usize = 2;

/// One growth in a fixed window.
struct Attempt {
    mask: Mask,
    /// The flood reached the search limit (before the bridges were cut).
    reached_limit: bool,
    /// The final region still reaches it.
    still_at_limit: bool,
}

/// The level of the tissue a leaking region ran into: the median of its
/// voxels further than `beyond_mm` from the seed, when they are at least
/// half as many as those nearer (a vessel leaving a lung nodule is a stub
/// the bridge cutting missed, not a leak worth narrowing the window for).
fn leaked_tissue_level(
    mask: &Mask,
    seed: Voxel,
    spacing_mm: [f64; 3],
    beyond_mm: f64,
    value: &dyn Fn(Voxel) -> Option<f64>,
) -> Option<f64> {
    let mut far = Vec::new();
    let mut near = 0usize;
    for v in mask.voxels() {
        let d = [0, 1, 2].map(|a| (v[a] as f64 - seed[a] as f64) * spacing_mm[a]);
        if d[0].hypot(d[1]).hypot(d[2]) > beyond_mm {
            far.extend(value(v));
        } else {
            near += 1;
        }
    }
    if far.len() < 10 || 2 * far.len() < near {
        return None;
    }
    median(&mut far)
}

/// Flood fill in `window` from `seed` inside `region`; where it reaches the
/// region's limit, one-pixel bridges are cut; then one layer of edge
/// refinement and each slice's holes filled.
#[allow(clippy::too_many_arguments)]
fn region_in_window(
    volume: &Volume,
    data: &[i16],
    region: &Region,
    seed: Voxel,
    window: [f64; 2],
    level: f64,
    sigma: f64,
    value: &dyn Fn(Voxel) -> Option<f64>,
) -> Attempt {
    let grid = region.grid;
    let mut visited = vec![0u8; region.len()];
    let grown = flood(volume, data, region, seed, window, &mut visited, REGION);
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
    if hit_limit {
        // a leak is likely: cut one-pixel bridges and keep the seed's part,
        // then give back the voxels of the region next to it (the small end
        // slices and edge pixels the opening took; a cut bridge keeps a stub)
        let original = bytes.clone();
        for slice in bytes.chunks_mut(plane.max(1)) {
            open_slice(slice, size[1], size[2]);
        }
        keep_component(
            &mut bytes,
            size,
            [seed[0] - lo[0], seed[1] - lo[1], seed[2] - lo[2]],
        );
        let kept = bytes.clone();
        // (a neighbour past the box's last row or column is outside, not
        // the first voxel of the next row)
        let at = |s: usize, r: usize, c: usize| {
            s < size[0]
                && r < size[1]
                && c < size[2]
                && kept.get((s * size[1] + r) * size[2] + c) == Some(&1)
        };
        for s in 0..size[0] {
            for r in 0..size[1] {
                for c in 0..size[2] {
                    let i = (s * size[1] + r) * size[2] + c;
                    if original.get(i) != Some(&1) || kept.get(i) == Some(&1) {
                        continue;
                    }
                    let near = (s > 0 && at(s - 1, r, c))
                        || at(s + 1, r, c)
                        || (r > 0 && at(s, r - 1, c))
                        || at(s, r + 1, c)
                        || (c > 0 && at(s, r, c - 1))
                        || at(s, r, c + 1);
                    if near && let Some(v) = bytes.get_mut(i) {
                        *v = 1;
                    }
                }
            }
        }
    }
    // after the bridges are cut, a region that no longer reaches the limit
    // has not leaked (a lung nodule's vessels reach it and are cut away);
    // judged before the edge refinement, which may add a pixel beyond the
    // flood's reach
    let still_at_limit = hit_limit && bytes.contains(&1) && {
        let (kept_lo, kept_hi) = set_bounds(&bytes, size);
        (0..3).any(|a| {
            (lo[a] + kept_lo[a] == region.lo[a] && region.lo[a] > 0)
                || (lo[a] + kept_hi[a] == region_hi[a] && region_hi[a] + 1 < grid[a])
        })
    };
    let (lo, size, mut bytes) = refine_edges(lo, size, &bytes, region, level, sigma, value);
    let plane = size[1] * size[2];
    for slice in bytes.chunks_mut(plane.max(1)) {
        fill_holes(slice, size[1], size[2]);
    }
    let mask = Mask::from_box(grid, lo, size, bytes);
    Attempt {
        mask,
        reached_limit: hit_limit,
        still_at_limit,
    }
}

/// The first and last index along each axis of the set voxels of a
/// `size` box (`[0; 3]`, `[0; 3]` when none is set).
fn set_bounds(bytes: &[u8], size: [usize; 3]) -> ([usize; 3], [usize; 3]) {
    let mut lo = size;
    let mut hi = [0; 3];
    for (i, _) in bytes.iter().enumerate().filter(|(_, v)| **v != 0) {
        let v = [
            i / (size[1] * size[2]),
            (i / size[2]) % size[1],
            i % size[2],
        ];
        for a in 0..3 {
            lo[a] = lo[a].min(v[a]);
            hi[a] = hi[a].max(v[a]);
        }
    }
    if lo[0] > hi[0] {
        return ([0; 3], [0; 3]);
    }
    (lo, hi)
}

/// One layer of edge refinement against the local background: an outside
/// pixel next to the region (in-plane) joins it when its value is nearer
/// the lesion level than the value two pixels further out (its own
/// background), that is when it is at least half lesion — where the region
/// borders two tissues (muscle and fat), the global window is set by the
/// nearer one and would cut the other side short. Returns the box widened
/// by one pixel in-plane, never beyond the search `region` (the reader's
/// box is a hard limit).
fn refine_edges(
    lo: [usize; 3],
    size: [usize; 3],
    bytes: &[u8],
    region: &Region,
    level: f64,
    sigma: f64,
    value: &dyn Fn(Voxel) -> Option<f64>,
) -> ([usize; 3], [usize; 3], Vec<u8>) {
    let new_lo = [
        lo[0],
        lo[1].saturating_sub(1).max(region.lo[1]),
        lo[2].saturating_sub(1).max(region.lo[2]),
    ];
    let new_hi = [
        lo[0] + size[0],
        (lo[1] + size[1] + 1).min(region.lo[1] + region.size[1]),
        (lo[2] + size[2] + 1).min(region.lo[2] + region.size[2]),
    ];
    let new_size = [0, 1, 2].map(|a| new_hi[a] - new_lo[a]);
    let old_at = |s: usize, r: usize, c: usize| -> bool {
        r >= lo[1]
            && c >= lo[2]
            && r < lo[1] + size[1]
            && c < lo[2] + size[2]
            && bytes
                .get(((s - lo[0]) * size[1] + (r - lo[1])) * size[2] + (c - lo[2]))
                .is_some_and(|&v| v == 1)
    };
    let mut out = vec![0u8; new_size[0] * new_size[1] * new_size[2]];
    let index = |s: usize, r: usize, c: usize| {
        ((s - new_lo[0]) * new_size[1] + (r - new_lo[1])) * new_size[2] + (c - new_lo[2])
    };
    for s in new_lo[0]..new_hi[0] {
        for r in new_lo[1]..new_hi[1] {
            for c in new_lo[2]..new_hi[2] {
                if old_at(s, r, c) {
                    if let Some(v) = out.get_mut(index(s, r, c)) {
                        *v = 1;
                    }
                    continue;
                }
                let Some(here) = value([s, r, c]) else {
                    continue;
                };
                for (dr, dc) in [(0i64, 1i64), (0, -1), (1, 0), (-1, 0)] {
                    // the region lies at -d, the background at +2d
                    let (ir, ic) = (r as i64 - dr, c as i64 - dc);
                    let (or, oc) = (r as i64 + 2 * dr, c as i64 + 2 * dc);
                    if ir < 0 || ic < 0 || or < 0 || oc < 0 {
                        continue;
                    }
                    let (or, oc) = (or as usize, oc as usize);
                    if !old_at(s, ir as usize, ic as usize)
                        || or >= region.grid[1]
                        || oc >= region.grid[2]
                    {
                        continue;
                    }
                    let Some(outer) = value([s, or, oc]) else {
                        continue;
                    };
                    let real_background = (outer - level).abs() > 3.0 * sigma;
                    if real_background && (here - level).abs() < (here - outer).abs() {
                        if let Some(v) = out.get_mut(index(s, r, c)) {
                            *v = 1;
                        }
                        break;
                    }
                }
            }
        }
    }
    (new_lo, new_size, out)
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
    // its 3 × 3 in-plane mean in the window too (at least half lesion
    // around it): a lone noisy voxel of the neighbouring tissue and a
    // one-pixel vessel fail the second test; the edge refinement gives
    // back the edge pixels it costs.
    let inside = |[s, r, c]: Voxel| -> bool {
        let Some(&(lo, hi)) = bounds.get(s - region.lo[0]) else {
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
        n > 0 && (lo..=hi).contains(&(sum as f32 / n as f32))
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

/// The window half-way from `level` to the nearest tissue on each side
/// (seen by three rays at least): the median of the ray levels within 2.5
/// noise SDs of the nearest one, so one tissue is judged by all the rays
/// that reached it; a side without tissue: four noise SDs, at least a tenth
/// of the other side's contrast.
fn choose_window(
    dark: Vec<f64>,
    bright: Vec<f64>,
    level: f64,
    sigma: f64,
) -> ([f64; 2], [Option<f64>; 2]) {
    let nearest = |mut values: Vec<f64>| -> Option<f64> {
        if values.len() < 3 {
            return None;
        }
        values.sort_by(|a, b| (a - level).abs().total_cmp(&(b - level).abs()));
        let first = *values.first()?;
        let mut cluster: Vec<f64> = values
            .into_iter()
            .filter(|v| (v - first).abs() <= 2.5 * sigma)
            .collect();
        median(&mut cluster)
    };
    let dark = nearest(dark);
    let bright = nearest(bright);
    // the open side: four noise SDs, at least a tenth of the contrast on
    // the other side (a noise SD read on a small disc can be too small)
    let contrast = dark
        .map(|d| level - d)
        .into_iter()
        .chain(bright.map(|b| b - level))
        .fold(0.0, f64::max);
    let open = (4.0 * sigma).max(0.1 * contrast);
    (
        [
            dark.map_or(level - open, |d| (level + d) / 2.0),
            bright.map_or(level + open, |b| (level + b) / 2.0),
        ],
        [dark, bright],
    )
}

/// The lesion level and noise SD first read at `seed`: the median of its
/// 3 × 3 neighbourhood, and the robust spread (MAD) of the 5 × 5 about it.
/// Near a small lesion the 5 × 5 holds its edge, and the spread about the
/// level is the contrast, not the noise: the noise is then read from
/// differences of horizontal neighbours over 9 × 9 (an edge crosses few of
/// them), times 2.5 to stay above the spread of correlated (blurred)
/// noise, whichever is smaller. At least one stored unit (`slope`).
fn seed_level_and_noise(
    seed: Voxel,
    grid: [usize; 3],
    slope: f64,
    value: &dyn Fn(Voxel) -> Option<f64>,
) -> Option<(f64, f64)> {
    let near = |radius: usize| -> Vec<f64> {
        let mut out = Vec::new();
        for r in seed[1].saturating_sub(radius)..=(seed[1] + radius).min(grid[1] - 1) {
            for c in seed[2].saturating_sub(radius)..=(seed[2] + radius).min(grid[2] - 1) {
                out.extend(value([seed[0], r, c]));
            }
        }
        out
    };
    let level = median(&mut near(1))?;
    let mut deviations: Vec<f64> = near(2).iter().map(|v| (*v - level).abs()).collect();
    let spread = 1.4826 * median(&mut deviations).unwrap_or(0.0);
    let mut steps = Vec::new();
    for r in seed[1].saturating_sub(4)..=(seed[1] + 4).min(grid[1] - 1) {
        for c in seed[2].saturating_sub(4)..(seed[2] + 4).min(grid[2] - 1) {
            if let (Some(a), Some(b)) = (value([seed[0], r, c]), value([seed[0], r, c + 1])) {
                steps.push((b - a).abs());
            }
        }
    }
    let step_sd = median(&mut steps).map_or(f64::INFINITY, |m| 1.4826 * m / 2f64.sqrt());
    Some((level, spread.min(2.5 * step_sd).max(slope)))
}

/// The in-plane centre of the edge points as an offset from the seed (mm;
/// rows, columns) and their median distance from it; `None` without edge
/// points.
fn lesion_centre_mm(edge_offsets_mm: &[[f64; 2]]) -> Option<([f64; 2], f64)> {
    if edge_offsets_mm.is_empty() {
        return None;
    }
    let n = edge_offsets_mm.len() as f64;
    let centre = [0, 1].map(|a| edge_offsets_mm.iter().map(|p| p[a]).sum::<f64>() / n);
    let mut radii: Vec<f64> = edge_offsets_mm
        .iter()
        .map(|p| (p[0] - centre[0]).hypot(p[1] - centre[1]))
        .collect();
    Some((centre, median(&mut radii)?))
}

/// The distance of the edge points' centre from the seed and their median
/// distance from that centre, and the farthest one's, mm (see
/// [`lesion_centre_mm`]).
fn lesion_extent_mm(edge_offsets_mm: &[[f64; 2]]) -> Option<(f64, f64, f64)> {
    let (centre, radius) = lesion_centre_mm(edge_offsets_mm)?;
    let farthest = edge_offsets_mm
        .iter()
        .map(|p| (p[0] - centre[0]).hypot(p[1] - centre[1]))
        .fold(0.0, f64::max);
    Some((centre[0].hypot(centre[1]), radius, farthest))
}

/// What the rays from the seed found.
struct Rays {
    /// Background levels darker than the lesion, one per ray.
    dark: Vec<f64>,
    /// Background levels brighter than the lesion, one per ray.
    bright: Vec<f64>,
    /// The nearest edge, in ray steps (pixels).
    min_edge_px: Option<f64>,
    /// The median edge distance over the rays that found one, in ray steps.
    median_edge_px: Option<f64>,
    /// Where the rays met the lesion's edge: in-plane offsets from the seed
    /// (mm; rows, columns).
    edge_offsets_mm: Vec<[f64; 2]>,
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
        median_edge_px: None,
        edge_offsets_mm: Vec::new(),
    };
    let mut steps = Vec::new();
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
        steps.push(edge as f64);
        out.edge_offsets_mm.push([
            dr * edge as f64 * spacing_mm[0],
            dc * edge as f64 * spacing_mm[1],
        ]);
        let mut samples: Vec<f64> = (edge + 4..edge + 8).filter_map(|t| at(t as f64)).collect();
        let spread = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - samples.iter().copied().fold(f64::INFINITY, f64::min);
        let Some(b) = median(&mut samples) else {
            continue;
        };
        // flat: the samples are background, not the lesion's blurred edge
        if samples.len() < 4 || spread > (0.5 * (b - level).abs()).max(4.0 * noise) {
            continue;
        }
        {
            if b < level - floor {
                out.dark.push(b);
            } else if b > level + floor {
                out.bright.push(b);
            }
        }
    }
    out.median_edge_px = median(&mut steps);
    out
}

/// Morphological opening of one slice with the 3 × 3 cross: removes
/// one-pixel-wide bridges (a small vessel touching the lesion) and spurs,
/// keeps convex shapes.
pub(crate) fn open_slice(slice: &mut [u8], rows: usize, columns: usize) {
    let at = |data: &[u8], r: i64, c: i64| -> bool {
        r >= 0
            && c >= 0
            && (r as usize) < rows
            && (c as usize) < columns
            && data
                .get(r as usize * columns + c as usize)
                .is_some_and(|&v| v != 0)
    };
    let cross = [(0i64, 0i64), (0, 1), (0, -1), (1, 0), (-1, 0)];
    let eroded: Vec<u8> = (0..rows * columns)
        .map(|i| {
            let (r, c) = ((i / columns) as i64, (i % columns) as i64);
            u8::from(cross.iter().all(|(dr, dc)| at(slice, r + dr, c + dc)))
        })
        .collect();
    for (i, v) in slice.iter_mut().enumerate() {
        let (r, c) = ((i / columns) as i64, (i % columns) as i64);
        *v = u8::from(*v != 0 && cross.iter().any(|(dr, dc)| at(&eroded, r + dr, c + dc)));
    }
}

/// Keeps the 6-connected component of `box` bytes that contains `seed`
/// (or, if the seed was opened away, the largest part near it: nothing is
/// dropped then).
fn keep_component(bytes: &mut [u8], size: [usize; 3], seed: [usize; 3]) {
    let index = |[s, r, c]: [usize; 3]| (s * size[1] + r) * size[2] + c;
    if bytes.get(index(seed)).is_none_or(|&v| v != 1) {
        return;
    }
    const KEEP: u8 = 2;
    let mut stack = vec![seed];
    if let Some(v) = bytes.get_mut(index(seed)) {
        *v = KEEP;
    }
    while let Some([s, r, c]) = stack.pop() {
        let mut next = Vec::with_capacity(6);
        if s > 0 {
            next.push([s - 1, r, c]);
        }
        if s + 1 < size[0] {
            next.push([s + 1, r, c]);
        }
        if r > 0 {
            next.push([s, r - 1, c]);
        }
        if r + 1 < size[1] {
            next.push([s, r + 1, c]);
        }
        if c > 0 {
            next.push([s, r, c - 1]);
        }
        if c + 1 < size[2] {
            next.push([s, r, c + 1]);
        }
        for n in next {
            if let Some(v) = bytes.get_mut(index(n))
                && *v == 1
            {
                *v = KEEP;
                stack.push(n);
            }
        }
    }
    for v in bytes.iter_mut() {
        *v = u8::from(*v == KEEP);
    }
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
        // the open (darker) side: a tenth of the 60 HU contrast (the noise SD is 0)
        assert_eq!(g.window, [34.0, 70.0]);
        assert!(!g.hit_limit);
    }

    #[test]
    fn a_seed_off_centre_grows_the_whole_lesion() {
        // clicked 7 mm right of the centre of the 10 mm-radius sphere: most
        // rays meet the near edge, yet the far side is 17 mm away
        let (v, _) = sphere_in_liver(8.0);
        let truth_ml = 4.0 / 3.0 * std::f64::consts::PI;
        for seed in [[15, 40, 54], [15, 26, 40], [15, 50, 30]] {
            let g = grow(&v, seed, &GrowParams::default()).unwrap();
            let ml = VoxelSize::of(&v).unwrap().volume_ml(&g.mask).unwrap();
            assert!(
                (ml / truth_ml - 1.0).abs() < 0.05,
                "seed {seed:?}: {ml} vs {truth_ml}"
            );
            assert!(!g.hit_limit, "seed {seed:?}");
        }
    }

    #[test]
    fn a_vessel_cut_off_is_not_reported_as_a_leak() {
        // the 20 mm sphere with a two-pixel vessel at its level running from
        // it out of the search box: the growth follows the vessel to the
        // limit, the opening cuts it, and the region left is the sphere
        let centre = [20.0, 20.0, 15.0];
        let v = volume([30, 80, 160], [1.0, 0.5, 0.5], move |p| {
            let d = ((p[0] - centre[0]).powi(2)
                + (p[1] - centre[1]).powi(2)
                + (p[2] - centre[2]).powi(2))
            .sqrt();
            let vessel = p[0] > 20.0 && (p[1] - 20.25).abs() < 0.5 && (p[2] - 15.0).abs() < 0.5;
            if d <= 10.0 || vessel { 40.0 } else { 100.0 }
        });
        let g = grow(&v, [15, 40, 40], &GrowParams::default()).unwrap();
        let truth_ml = 4.0 / 3.0 * std::f64::consts::PI;
        let ml = VoxelSize::of(&v).unwrap().volume_ml(&g.mask).unwrap();
        assert!((ml / truth_ml - 1.0).abs() < 0.03, "{ml} vs {truth_ml}");
        assert!(g.bridges_cut && !g.hit_limit, "{g:?}");
        assert!(!g.mask.contains([15, 40, 70]), "the vessel was cut");
    }

    #[test]
    fn a_leak_into_a_tissue_the_rays_missed_is_grown_again_without_it() {
        // an 8 mm-radius mass (100) in fat (-100), touching on one side a
        // 4 mm band of muscle (60) that crosses the whole image: the rays
        // that cross the band read muscle then fat (not flat), so the
        // window is set half-way to fat and the region runs into the band
        // to the search limit; the band's level is read on the far voxels
        // and the region grows again with the window half-way to it
        let v = volume([40, 80, 80], [1.0, 1.0, 1.0], |p| {
            let d = ((p[0] - 40.0).powi(2) + (p[1] - 40.0).powi(2) + (p[2] - 20.0).powi(2)).sqrt();
            // the scanner's blur: a one-voxel ramp at the mass's surface
            let mass = (8.5 - d).clamp(0.0, 1.0);
            let around = if (48.0..52.0).contains(&p[0]) {
                60.0
            } else {
                -100.0
            };
            mass * 100.0 + (1.0 - mass) * around
        });
        let truth_ml = 4.0 / 3.0 * std::f64::consts::PI * 512.0 / 1000.0;
        // anywhere in the inner 60 %, in eight directions
        for k in 0..8 {
            let angle = k as f64 * std::f64::consts::FRAC_PI_4;
            let seed = [
                20,
                (40.0 + 4.8 * angle.sin()).round() as usize,
                (40.0 + 4.8 * angle.cos()).round() as usize,
            ];
            let g = grow(&v, seed, &GrowParams::default()).unwrap();
            let ml = VoxelSize::of(&v).unwrap().volume_ml(&g.mask).unwrap();
            // the mass, not the band (+200 % if it leaked): −10 %, because
            // against fat the window half-way to muscle keeps only voxels
            // at least 90 % mass; the in-plane edge refinement gives back
            // the ones at least half, not those of the poles
            assert!(
                (ml / truth_ml - 1.0).abs() < 0.12,
                "seed {seed:?}: {ml} mL vs {truth_ml}, window {:?}",
                g.window
            );
            assert!(!g.hit_limit, "seed {seed:?}");
            assert_eq!(g.window[0], 80.0, "seed {seed:?}");
            assert_eq!(g.background[0], Some(60.0), "seed {seed:?}");
        }
    }

    #[test]
    fn noise_does_not_leak_or_punch_holes() {
        let (v, seed) = sphere_in_liver(8.0);
        let g = grow(&v, seed, &GrowParams::default()).unwrap();
        let truth_ml = 4.0 / 3.0 * std::f64::consts::PI;
        let ml = VoxelSize::of(&v).unwrap().volume_ml(&g.mask).unwrap();
        assert!(
            (ml / truth_ml - 1.0).abs() < 0.05,
            "{ml} vs {truth_ml}: {g:?}"
        );
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
