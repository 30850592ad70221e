//! Editing and reading the shape of a mask: brush and eraser on one slice,
//! shape-based interpolation between painted slices, the outline and fill
//! of the mask on any pane plane, and the RECIST bidirectional proposed
//! from the mask or from an ellipsoid fitted to it.

use super::{EllipsoidFit, Mask, SegmentError};
use crate::geom::Vec3;
use crate::measure::Bidirectional;
use crate::volume::Geometry;
use crate::volume::plane::{Plane, PlaneFrame};

/// Paints (`value` true: brush) or erases (false) a disc of `radius_mm` on
/// `slice`, centred at the fractional `(row, column)`, honouring the pixel
/// spacing `[row mm, column mm]`: the pixels whose centre lies in the disc.
pub fn brush(
    mask: &mut Mask,
    slice: usize,
    centre: [f64; 2],
    radius_mm: f64,
    spacing_mm: [f64; 2],
    value: bool,
) {
    let [row_mm, column_mm] = spacing_mm.map(|s| if s > 0.0 { s } else { 1.0 });
    if !(radius_mm > 0.0 && centre.iter().all(|x| x.is_finite())) {
        return;
    }
    let reach_r = (radius_mm / row_mm).ceil() + 1.0;
    let reach_c = (radius_mm / column_mm).ceil() + 1.0;
    let rows =
        (centre[0] - reach_r).max(0.0) as usize..(centre[0] + reach_r + 1.0).max(0.0) as usize;
    let columns =
        (centre[1] - reach_c).max(0.0) as usize..(centre[1] + reach_c + 1.0).max(0.0) as usize;
    mask.paint_slice(slice, rows, columns, value, |r, c| {
        let dy = (r as f64 - centre[0]) * row_mm;
        let dx = (c as f64 - centre[1]) * column_mm;
        dx * dx + dy * dy <= radius_mm * radius_mm
    });
}

/// Signed distance (mm; negative inside) of every pixel of a `rows ×
/// columns` box to the boundary of the painted pixels `inside`, by brute
/// force over the boundary pixels (the boxes are lesion-sized).
fn signed_distance(
    inside: &dyn Fn(usize, usize) -> bool,
    rows: usize,
    columns: usize,
    spacing_mm: [f64; 2],
) -> Vec<f64> {
    let mut edge: Vec<[f64; 2]> = Vec::new();
    for r in 0..rows {
        for c in 0..columns {
            if !inside(r, c) {
                continue;
            }
            // boundary pixel: a 4-neighbour outside
            let outside_neighbour =
                [(0i64, 1i64), (0, -1), (1, 0), (-1, 0)]
                    .iter()
                    .any(|(dr, dc)| {
                        let (rr, cc) = (r as i64 + dr, c as i64 + dc);
                        rr < 0
                            || cc < 0
                            || rr >= rows as i64
                            || cc >= columns as i64
                            || !inside(rr as usize, cc as usize)
                    });
            if outside_neighbour {
                edge.push([r as f64 * spacing_mm[0], c as f64 * spacing_mm[1]]);
            }
        }
    }
    let mut out = Vec::with_capacity(rows * columns);
    for r in 0..rows {
        for c in 0..columns {
            let p = [r as f64 * spacing_mm[0], c as f64 * spacing_mm[1]];
            let d = edge
                .iter()
                .map(|e| ((e[0] - p[0]).powi(2) + (e[1] - p[1]).powi(2)).sqrt())
                .fold(f64::INFINITY, f64::min);
            // boundary pixels sit half a pixel inside the edge
            let half = 0.5 * spacing_mm[0].min(spacing_mm[1]);
            out.push(if inside(r, c) { -(d + half) } else { d - half });
        }
    }
    out
}

/// Fills every empty slice between two painted slices of the mask by
/// shape-based interpolation: the signed distance maps of the two painted
/// slices are interpolated linearly by slice index and the pixels at or
/// inside the zero level are set. Returns how many slices were filled.
pub fn interpolate_gaps(mask: &mut Mask, spacing_mm: [f64; 2]) -> usize {
    let painted = mask.slices();
    let mut filled = 0;
    for pair in painted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if b <= a + 1 {
            continue;
        }
        let (Some(va), Some(vb)) = (mask.slice_view(a), mask.slice_view(b)) else {
            continue;
        };
        // a common in-plane box with a margin
        let (start, size) = (va.0, va.1);
        let margin = 2;
        let r0 = start[0].min(vb.0[0]).saturating_sub(margin);
        let c0 = start[1].min(vb.0[1]).saturating_sub(margin);
        let r1 = (start[0] + size[0]).max(vb.0[0] + vb.1[0]) + margin;
        let c1 = (start[1] + size[1]).max(vb.0[1] + vb.1[1]) + margin;
        let r1 = r1.min(mask.grid()[1]);
        let c1 = c1.min(mask.grid()[2]);
        let (rows, columns) = (r1 - r0, c1 - c0);
        let sdf_of = |s: usize| {
            let m = &*mask;
            signed_distance(
                &|r, c| m.contains([s, r0 + r, c0 + c]),
                rows,
                columns,
                spacing_mm,
            )
        };
        let da = sdf_of(a);
        let db = sdf_of(b);
        for s in a + 1..b {
            let t = (s - a) as f64 / (b - a) as f64;
            let bytes: Vec<u8> = da
                .iter()
                .zip(&db)
                .map(|(x, y)| u8::from((1.0 - t) * x + t * y <= 0.0))
                .collect();
            mask.set_slice_box(s, [r0, c0], [rows, columns], &bytes);
            filled += 1;
        }
    }
    filled
}

/// One edge of the outline, in plane pixel coordinates `(u, v)` of a pane.
pub type OutlineSegment = [(f64, f64); 2];

/// The two in-plane voxel axes of a plane (indices into `[slice, row,
/// column]`) and the fixed axis.
fn plane_axes(plane: Plane) -> ([usize; 2], usize) {
    match plane {
        Plane::Native => ([1, 2], 0),
        Plane::FixedRow => ([0, 2], 1),
        Plane::FixedColumn => ([0, 1], 2),
    }
}

/// Plane coordinates of a fractional voxel `[slice, row, column]`.
fn to_plane(frame: &PlaneFrame, v: [f64; 3]) -> (f64, f64) {
    let (u, w, _) = frame.plane_from_voxel([v[2], v[1], v[0]]);
    (u, w)
}

/// The mask's cross-section on a pane plane: the inside voxels as
/// `[slice, row, column]`, iterated over the mask's box.
fn cross_section(mask: &Mask, frame: &PlaneFrame) -> Vec<[usize; 3]> {
    let (origin, size) = mask.bounds();
    let ([a, b], fixed) = plane_axes(frame.plane);
    if mask.is_empty() || frame.index < origin[fixed] || frame.index >= origin[fixed] + size[fixed]
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in origin[a]..origin[a] + size[a] {
        for j in origin[b]..origin[b] + size[b] {
            let mut v = [0usize; 3];
            v[a] = i;
            v[b] = j;
            v[fixed] = frame.index;
            if mask.contains(v) {
                out.push(v);
            }
        }
    }
    out
}

/// The outline of the mask on a pane plane: the pixel edges between inside
/// and outside voxels, as segments in the pane's plane coordinates.
pub fn outline(mask: &Mask, frame: &PlaneFrame) -> Vec<OutlineSegment> {
    let ([a, b], _) = plane_axes(frame.plane);
    let mut out = Vec::new();
    for v in cross_section(mask, frame) {
        for (axis, other) in [(a, b), (b, a)] {
            for step in [-1i64, 1] {
                let n = v[axis] as i64 + step;
                let mut neighbour = v;
                let outside = if n < 0 {
                    true
                } else {
                    neighbour[axis] = n as usize;
                    !mask.contains(neighbour)
                };
                if !outside {
                    continue;
                }
                let centre = v.map(|x| x as f64);
                let mut p = centre;
                let mut q = centre;
                p[axis] += 0.5 * step as f64;
                q[axis] += 0.5 * step as f64;
                p[other] -= 0.5;
                q[other] += 0.5;
                out.push([to_plane(frame, p), to_plane(frame, q)]);
            }
        }
    }
    out
}

/// The mask's cross-section on a pane plane as horizontal runs of pixels,
/// `[v, u_first, u_last]` in plane coordinates (pixel centres), for a
/// light fill.
pub fn fill_runs(mask: &Mask, frame: &PlaneFrame) -> Vec<[f64; 3]> {
    let mut pixels: Vec<(i64, i64)> = cross_section(mask, frame)
        .into_iter()
        .map(|v| {
            let (u, w) = to_plane(frame, v.map(|x| x as f64));
            (w.round() as i64, u.round() as i64)
        })
        .collect();
    pixels.sort_unstable();
    let mut runs: Vec<[f64; 3]> = Vec::new();
    let mut current: Option<(i64, i64, i64)> = None;
    for (w, u) in pixels {
        current = match current {
            Some((cw, first, last)) if cw == w && u == last + 1 => Some((cw, first, u)),
            Some((cw, first, last)) => {
                runs.push([cw as f64, first as f64, last as f64]);
                Some((w, u, u))
            }
            None => Some((w, u, u)),
        };
        let _ = current;
    }
    if let Some((w, first, last)) = current {
        runs.push([w as f64, first as f64, last as f64]);
    }
    runs
}

/// A bidirectional measurement proposed from a mask.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    /// The native slice it lies on.
    pub slice: usize,
    /// The measurement (patient space, mm).
    pub bidirectional: Bidirectional,
    /// Long-axis length, mm.
    pub long_mm: f64,
    /// Short-axis length, mm.
    pub short_mm: f64,
}

/// Two in-plane points (mm).
type Segment2 = [[f64; 2]; 2];

/// Convex hull (monotone chain) of 2-D points, counter-clockwise.
fn convex_hull(mut points: Vec<[f64; 2]>) -> Vec<[f64; 2]> {
    points.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    points.dedup();
    if points.len() < 3 {
        return points;
    }
    let cross = |o: [f64; 2], a: [f64; 2], b: [f64; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let mut lower: Vec<[f64; 2]> = Vec::new();
    for &p in &points {
        while lower.len() >= 2 && cross(lower[lower.len() - 2], lower[lower.len() - 1], p) <= 0.0 {
            lower.pop();
        }
        lower.push(p);
    }
    let mut upper: Vec<[f64; 2]> = Vec::new();
    for &p in points.iter().rev() {
        while upper.len() >= 2 && cross(upper[upper.len() - 2], upper[upper.len() - 1], p) <= 0.0 {
            upper.pop();
        }
        upper.push(p);
    }
    lower.pop();
    upper.pop();
    lower.extend(upper);
    lower
}

/// Longest and perpendicular diameters of one slice from the convex hull
/// of its pixel centres, in-plane mm coordinates `[x = column · column
/// spacing, y = row · row spacing]`; each end is extended by half a pixel's
/// extent along the axis, so the axes reach the pixel edges:
/// `(long ends, short ends)`.
fn slice_diameters(hull: &[[f64; 2]], pixel_mm: [f64; 2]) -> Option<(Segment2, Segment2)> {
    // half a pixel along the direction (half the spacing on either axis)
    let half_extent = |d: [f64; 2]| 0.5 * (d[0] * pixel_mm[0]).hypot(d[1] * pixel_mm[1]);
    let mut best: Option<(f64, [f64; 2], [f64; 2])> = None;
    for (i, a) in hull.iter().enumerate() {
        for b in hull.iter().skip(i) {
            let dist = (a[0] - b[0]).hypot(a[1] - b[1]);
            let d = if dist > 0.0 {
                [(b[0] - a[0]) / dist, (b[1] - a[1]) / dist]
            } else {
                [1.0, 0.0]
            };
            let total = dist + 2.0 * half_extent(d);
            if best.is_none_or(|(l, _, _)| total > l + 1e-9) {
                best = Some((total, *a, *b));
            }
        }
    }
    let (_, a, b) = best?;
    let dist = (a[0] - b[0]).hypot(a[1] - b[1]);
    let d = if dist > 0.0 {
        [(b[0] - a[0]) / dist, (b[1] - a[1]) / dist]
    } else {
        [1.0, 0.0]
    };
    let e = half_extent(d);
    let p = [a[0] - d[0] * e, a[1] - d[1] * e];
    let q = [b[0] + d[0] * e, b[1] + d[1] * e];
    let n = [-d[1], d[0]];
    let along = |x: [f64; 2]| (x[0] - p[0]) * d[0] + (x[1] - p[1]) * d[1];
    let across = |x: [f64; 2]| (x[0] - p[0]) * n[0] + (x[1] - p[1]) * n[1];
    // the width across is concave along the axis: its maximum is at a vertex
    let mut short: Option<(f64, f64, f64, f64)> = None; // (length, t, s_min, s_max)
    for v in hull {
        let t = along(*v);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (i, a) in hull.iter().enumerate() {
            let Some(b) = hull.get((i + 1) % hull.len()).copied() else {
                continue;
            };
            let (ta, tb) = (along(*a), along(b));
            if (ta.min(tb) - 1e-9..=ta.max(tb) + 1e-9).contains(&t) {
                if (tb - ta).abs() < 1e-12 {
                    for s in [across(*a), across(b)] {
                        lo = lo.min(s);
                        hi = hi.max(s);
                    }
                } else {
                    let f = ((t - ta) / (tb - ta)).clamp(0.0, 1.0);
                    let s = across(*a) + f * (across(b) - across(*a));
                    lo = lo.min(s);
                    hi = hi.max(s);
                }
            }
        }
        if hi >= lo && short.is_none_or(|(l, ..)| hi - lo > l + 1e-9) {
            short = Some((hi - lo, t, lo, hi));
        }
    }
    let (_, t, lo, hi) = short.unwrap_or((0.0, 0.0, 0.0, 0.0));
    let en = half_extent(n);
    let at = |s: f64| [p[0] + d[0] * t + n[0] * s, p[1] + d[1] * t + n[1] * s];
    Some(([p, q], [at(lo - en), at(hi + en)]))
}

/// Proposes the RECIST bidirectional of a mask: on the native slice where
/// the longest in-plane diameter is longest, that diameter (the maximum
/// Feret diameter of the slice's pixels, measured to pixel edges so a run
/// of N pixels measures N · spacing) and the longest chord of the slice's
/// convex hull perpendicular to it, as patient-space points.
pub fn propose_bidirectional(mask: &Mask, geometry: &Geometry) -> Result<Proposal, SegmentError> {
    let ([row_mm, column_mm], _) = spacing_and_normal(geometry)?;
    let mut best: Option<(f64, usize, Segment2, Segment2)> = None;
    for slice in mask.slices() {
        let Some((start, size, raw)) = mask.slice_view(slice) else {
            continue;
        };
        // single-pixel spurs would set the extreme points: measure the
        // slice opened with the 3 × 3 cross (unless that empties it)
        let mut opened = raw.to_vec();
        super::grow::open_slice(&mut opened, size[0], size[1]);
        let bytes: &[u8] = if opened.iter().any(|&v| v != 0) {
            &opened
        } else {
            raw
        };
        let mut corners = Vec::new();
        for r in 0..size[0] {
            for c in 0..size[1] {
                if bytes.get(r * size[1] + c).is_some_and(|&v| v != 0) {
                    let (y, x) = ((start[0] + r) as f64, (start[1] + c) as f64);
                    corners.push([x * column_mm, y * row_mm]);
                }
            }
        }
        let hull = convex_hull(corners);
        if let Some((long, short)) = slice_diameters(&hull, [column_mm, row_mm]) {
            let l = (long[0][0] - long[1][0]).hypot(long[0][1] - long[1][1]);
            if best.as_ref().is_none_or(|(b, ..)| l > *b + 1e-9) {
                best = Some((l, slice, long, short));
            }
        }
    }
    let (_, slice, long, short) = best.ok_or(SegmentError::EmptyMask)?;
    proposal_on_slice(geometry, slice, long, short)
}

/// The pixel spacing `[row, column]` (mm) and slice normal of `geometry`,
/// which a proposal needs.
fn spacing_and_normal(geometry: &Geometry) -> Result<([f64; 2], Vec3), SegmentError> {
    let spacing = geometry
        .pixel_spacing_mm
        .ok_or(SegmentError::NoPixelSpacing)?;
    let normal = geometry
        .normal()
        .ok_or_else(|| SegmentError::Measure("no orientation".into()))?;
    Ok((spacing, normal))
}

/// The proposal with long and short axes `long`, `short` on native slice
/// `slice`, given in-plane mm `[column · column spacing, row · row spacing]`.
fn proposal_on_slice(
    geometry: &Geometry,
    slice: usize,
    long: Segment2,
    short: Segment2,
) -> Result<Proposal, SegmentError> {
    let ([row_mm, column_mm], normal) = spacing_and_normal(geometry)?;
    let point = |p: [f64; 2]| -> Result<Vec3, SegmentError> {
        geometry
            .patient_from_voxel(p[0] / column_mm, p[1] / row_mm, slice as f64)
            .ok_or_else(|| SegmentError::Measure("slice outside the geometry".into()))
    };
    let long_points = [point(long[0])?, point(long[1])?];
    let short_points = [point(short[0])?, point(short[1])?];
    let bidirectional = Bidirectional::new(long_points, short_points, normal)
        .map_err(|e| SegmentError::Measure(e.to_string()))?;
    Ok(Proposal {
        slice,
        long_mm: bidirectional.long_length(),
        short_mm: bidirectional.short_length(),
        bidirectional,
    })
}

/// Proposes the RECIST bidirectional from an ellipsoid fitted to the
/// lesion ([`super::fit_ellipsoid`]): on the native slice nearest its centre
/// (where its section is largest), the section's major axis and the minor
/// axis perpendicular to it, as patient-space points. Free of the pixel
/// grid and of the noise on the mask's edge pixels — on the sample CT's
/// abdominal-wall mass the mask's extreme pixels overshoot by 2–3 mm where
/// the fit's axes are within a pixel — but only as right as the fit: use it
/// when the fit is accepted.
pub fn propose_from_ellipsoid(
    fit: &EllipsoidFit,
    geometry: &Geometry,
) -> Result<Proposal, SegmentError> {
    let ([row_mm, column_mm], normal) = spacing_and_normal(geometry)?;
    let (slice, dz) = geometry
        .slice_positions_mm
        .iter()
        .map(|p| p.dot(normal) - fit.centre_along_normal_mm)
        .enumerate()
        .min_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))
        .ok_or_else(|| SegmentError::Measure("no slice positions".into()))?;
    // the section of dᵀ M d ≤ 1 at d_z = dz: (v − u)ᵀ M₂ (v − u) ≤ r²
    let m = &fit.quadric_mm;
    let det = m[0][0] * m[1][1] - m[0][1] * m[1][0];
    if det <= 0.0 || m[0][0] <= 0.0 {
        return Err(SegmentError::Measure("not an ellipsoid".into()));
    }
    let inverse = [
        [m[1][1] / det, -m[0][1] / det],
        [-m[1][0] / det, m[0][0] / det],
    ];
    let coupling = [m[0][2], m[1][2]];
    let u = [
        -dz * (inverse[0][0] * coupling[0] + inverse[0][1] * coupling[1]),
        -dz * (inverse[1][0] * coupling[0] + inverse[1][1] * coupling[1]),
    ];
    let schur = m[2][2]
        - (coupling[0] * (inverse[0][0] * coupling[0] + inverse[0][1] * coupling[1])
            + coupling[1] * (inverse[1][0] * coupling[0] + inverse[1][1] * coupling[1]));
    let r2 = 1.0 - dz * dz * schur;
    if r2 <= 0.0 {
        return Err(SegmentError::Measure(
            "the ellipsoid does not reach any slice".into(),
        ));
    }
    // M₂'s eigenvalues: the smaller one is the major axis
    let (a, b, c) = (m[0][0], m[0][1], m[1][1]);
    let mean = (a + c) / 2.0;
    let spread = (((a - c) / 2.0).powi(2) + b * b).sqrt();
    let (small, large) = (mean - spread, mean + spread);
    if small <= 0.0 {
        return Err(SegmentError::Measure("not an ellipsoid".into()));
    }
    // eigenvector of `small`: (b, small − a), or (small − c, b)
    let direction = if (small - a).abs() + b.abs() > (small - c).abs() + b.abs() {
        [b, small - a]
    } else {
        [small - c, b]
    };
    let length = direction[0].hypot(direction[1]);
    let major = if length > 1e-12 {
        [direction[0] / length, direction[1] / length]
    } else if a <= c {
        [1.0, 0.0]
    } else {
        [0.0, 1.0]
    };
    let minor = [-major[1], major[0]];
    let r = r2.sqrt();
    let (half_long, half_short) = (r / small.sqrt(), r / large.sqrt());
    // in-plane mm: x = column · column spacing, y = row · row spacing
    let centre = [
        fit.centre_voxel[2] * column_mm + u[0],
        fit.centre_voxel[1] * row_mm + u[1],
    ];
    let end = |axis: [f64; 2], t: f64| [centre[0] + axis[0] * t, centre[1] + axis[1] * t];
    proposal_on_slice(
        geometry,
        slice,
        [end(major, -half_long), end(major, half_long)],
        [end(minor, -half_short), end(minor, half_short)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::Orientation;

    fn geometry(slices: usize, spacing: [f64; 3]) -> Geometry {
        Geometry {
            pixel_spacing_mm: Some([spacing[1], spacing[2]]),
            orientation: Some(Orientation::AXIAL),
            slice_positions_mm: (0..slices)
                .map(|s| Vec3::new(0.0, 0.0, s as f64 * spacing[0]))
                .collect(),
            frame_of_reference_uid: None,
        }
    }

    /// An ellipsoid fit with only the geometry set (semi-axes `semi` mm
    /// along the axes rotated by `rotation`, columns of (column, row,
    /// normal) components), centred at `centre_voxel` on an axial grid with
    /// `slice_mm` spacing.
    fn fitted(
        rotation: [[f64; 3]; 3],
        semi: [f64; 3],
        centre_voxel: [f64; 3],
        slice_mm: f64,
    ) -> EllipsoidFit {
        let mut m = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] = (0..3)
                    .map(|k| rotation[i][k] * rotation[j][k] / (semi[k] * semi[k]))
                    .sum();
            }
        }
        EllipsoidFit {
            volume_ml: 0.0,
            volume_sd_ml: 0.0,
            voxel_count_ml: 0.0,
            semi_axes_mm: semi,
            axial_long_mm: 0.0,
            axial_short_mm: 0.0,
            centre_voxel,
            centre_along_normal_mm: centre_voxel[0] * slice_mm,
            quadric_mm: m,
            lesion_level: 0.0,
            psf_weight: 0.0,
            noise_sd: 0.0,
            edge_residual_ratio: 0.0,
            outlier_fraction: 0.0,
            voxels_fitted: 0,
            iterations: 0,
            accepted: true,
            rejection: None,
        }
    }

    #[test]
    fn the_ellipsoid_proposal_is_the_section_axes_on_the_nearest_slice() {
        // semi-axes 10, 6, 8 mm turned 30° in-plane and tilted 20° out of
        // it, centred 2 mm above slice 5 (5 mm slices, 1.5 mm pixels)
        let spacing = [5.0, 1.5, 1.5];
        let g = geometry(12, spacing);
        let (a, b) = (30f64.to_radians(), 20f64.to_radians());
        let turn = [
            [a.cos(), -a.sin(), 0.0],
            [a.sin(), a.cos(), 0.0],
            [0.0, 0.0, 1.0],
        ];
        let tilt = [
            [b.cos(), 0.0, b.sin()],
            [0.0, 1.0, 0.0],
            [-b.sin(), 0.0, b.cos()],
        ];
        let mut rotation = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                rotation[i][j] = (0..3).map(|k| turn[i][k] * tilt[k][j]).sum();
            }
        }
        let fit = fitted(rotation, [10.0, 6.0, 8.0], [5.4, 20.3, 19.7], spacing[0]);
        let p = propose_from_ellipsoid(&fit, &g).unwrap();
        assert_eq!(p.slice, 5);
        let centre = Vec3::new(19.7 * spacing[2], 20.3 * spacing[1], 5.4 * spacing[0]);
        let m = fit.quadric_mm;
        let q = |d: [f64; 3]| -> f64 {
            (0..3)
                .map(|i| (0..3).map(|j| d[i] * m[i][j] * d[j]).sum::<f64>())
                .sum()
        };
        let offset = |v: Vec3| {
            let d = v - centre;
            [d.x(), d.y(), d.z()]
        };
        // every end lies on the surface, on the slice
        let [l0, l1] = p.bidirectional.long_axis();
        let [s0, s1] = p.bidirectional.short_axis();
        for end in [l0, l1, s0, s1] {
            assert!((q(offset(end)) - 1.0).abs() < 1e-9, "{end:?}");
            assert!((end.z() - 25.0).abs() < 1e-9);
        }
        // no chord of the section through its centre is longer than the
        // long axis, and the one across it is the short axis
        let mid = offset(Vec3::new(
            (l0.x() + l1.x()) / 2.0,
            (l0.y() + l1.y()) / 2.0,
            25.0,
        ));
        let chord = |e: [f64; 2]| {
            // (mid + t e)ᵀ M (mid + t e) = 1: a t² + 2 b t + c = 0
            let e3 = [e[0], e[1], 0.0];
            let a2 = q(e3);
            let b2: f64 = (0..3)
                .map(|i| (0..3).map(|j| mid[i] * m[i][j] * e3[j]).sum::<f64>())
                .sum();
            let c2 = q(mid) - 1.0;
            2.0 * (b2 * b2 - a2 * c2).max(0.0).sqrt() / a2
        };
        let longest = (0..3600)
            .map(|k| {
                let t = f64::from(k) / 3600.0 * std::f64::consts::PI;
                chord([t.cos(), t.sin()])
            })
            .fold(0.0, f64::max);
        assert!(p.long_mm >= longest - 1e-9, "{} vs {longest}", p.long_mm);
        assert!(p.long_mm - longest < 1e-3, "{} vs {longest}", p.long_mm);
        let d = l1 - l0;
        let across = [-d.y() / p.long_mm, d.x() / p.long_mm];
        assert!((p.short_mm - chord(across)).abs() < 1e-9);
        assert!(p.long_mm > p.short_mm);
    }

    /// An axis-aligned ellipsoid mask (semi-axes in mm along column, row, slice).
    fn ellipsoid(grid: [usize; 3], spacing: [f64; 3], centre: [f64; 3], semi: [f64; 3]) -> Mask {
        Mask::from_fn(grid, [0; 3], grid, |[s, r, c]| {
            let x = (c as f64 - centre[2]) * spacing[2] / semi[0];
            let y = (r as f64 - centre[1]) * spacing[1] / semi[1];
            let z = (s as f64 - centre[0]) * spacing[0] / semi[2];
            x * x + y * y + z * z <= 1.0
        })
    }

    #[test]
    fn a_run_of_n_pixels_measures_n_spacings() {
        let mut m = Mask::empty([3, 20, 20]);
        m.paint_slice(1, 5..6, 3..10, true, |_, _| true); // 7 pixels along a row
        let g = geometry(3, [2.0, 0.8, 0.5]);
        let p = propose_bidirectional(&m, &g).unwrap();
        assert!((p.long_mm - 7.0 * 0.5).abs() < 1e-9, "{}", p.long_mm);
        assert_eq!(p.slice, 1);
    }

    #[test]
    fn the_proposal_is_on_the_slice_with_the_longest_diameter_and_perpendicular() {
        let spacing = [2.0, 0.5, 0.5];
        let grid = [21, 80, 80];
        let m = ellipsoid(grid, spacing, [10.0, 40.0, 40.0], [15.0, 9.0, 12.0]);
        let g = geometry(grid[0], spacing);
        let p = propose_bidirectional(&m, &g).unwrap();
        assert_eq!(p.slice, 10);
        // 30 mm long, 18 mm short: within one pixel
        assert!((p.long_mm - 30.0).abs() <= 0.5, "{}", p.long_mm);
        assert!((p.short_mm - 18.0).abs() <= 0.5, "{}", p.short_mm);
        let b = p.bidirectional;
        let [l0, l1] = b.long_axis();
        let [s0, s1] = b.short_axis();
        let cos = (l1 - l0).dot(s1 - s0) / (b.long_length() * b.short_length());
        assert!(cos.abs() < 1e-6);
        assert!(l0.z() == 20.0 && s1.z() == 20.0);
    }

    #[test]
    fn a_rotated_ellipse_is_measured_along_its_axis() {
        // 40 × 16 mm ellipse rotated 30°, 0.5 mm pixels
        let (a, b) = (20.0f64, 8.0f64);
        let (sin, cos) = 30f64.to_radians().sin_cos();
        let m = Mask::from_fn([1, 120, 120], [0; 3], [1, 120, 120], |[_, r, c]| {
            let x = (c as f64 - 60.0) * 0.5;
            let y = (r as f64 - 60.0) * 0.5;
            let u = x * cos + y * sin;
            let v = -x * sin + y * cos;
            (u / a).powi(2) + (v / b).powi(2) <= 1.0
        });
        let mut g = geometry(1, [1.0, 0.5, 0.5]);
        g.slice_positions_mm = vec![Vec3::ZERO];
        let p = propose_bidirectional(&m, &g).unwrap();
        // within one pixel
        let pixel = 0.5;
        assert!((p.long_mm - 40.0).abs() <= pixel, "{}", p.long_mm);
        assert!((p.short_mm - 16.0).abs() <= pixel, "{}", p.short_mm);
        let [l0, l1] = p.bidirectional.long_axis();
        let angle = (l1.y() - l0.y())
            .atan2(l1.x() - l0.x())
            .to_degrees()
            .rem_euclid(180.0);
        assert!((angle - 30.0).abs() < 3.0, "{angle}");
    }

    #[test]
    fn brush_paints_a_disc_in_mm_and_eraser_removes_it() {
        let mut m = Mask::empty([3, 40, 40]);
        brush(&mut m, 1, [20.0, 20.0], 5.0, [0.5, 1.0], true);
        // 10 rows each side (0.5 mm), 5 columns each side (1 mm)
        let (origin, size) = m.bounds();
        assert_eq!((origin, size), ([1, 10, 15], [1, 21, 11]));
        let n = m.count() as f64;
        let expected = std::f64::consts::PI * 25.0 / 0.5;
        assert!((n / expected - 1.0).abs() < 0.05, "{n} vs {expected}");
        brush(&mut m, 1, [20.0, 22.0], 3.0, [0.5, 1.0], false);
        assert!(!m.contains([1, 20, 22]) && m.contains([1, 20, 17]));
        brush(&mut m, 1, [20.0, 20.0], 10.0, [0.5, 1.0], false);
        assert!(m.is_empty());
    }

    #[test]
    fn interpolation_fills_between_painted_slices_by_shape() {
        let mut m = Mask::empty([10, 60, 60]);
        brush(&mut m, 2, [30.0, 30.0], 4.0, [1.0, 1.0], true);
        brush(&mut m, 6, [30.0, 30.0], 12.0, [1.0, 1.0], true);
        let filled = interpolate_gaps(&mut m, [1.0, 1.0]);
        assert_eq!(filled, 3);
        // radii 6, 8, 10 mm on slices 3, 4, 5: areas grow monotonically and match
        let counts: Vec<usize> = (2..=6)
            .map(|s| {
                m.counts_per_slice()
                    .into_iter()
                    .find(|(k, _)| *k == s)
                    .map_or(0, |(_, n)| n)
            })
            .collect();
        for (i, radius) in [(1, 6.0), (2, 8.0), (3, 10.0)] {
            let expected = std::f64::consts::PI * radius * radius;
            let n = counts[i] as f64;
            assert!(
                (n / expected - 1.0).abs() < 0.12,
                "slice {i}: {n} vs {expected}"
            );
        }
        assert!(counts.windows(2).all(|w| w[0] < w[1]));
        // nothing above or below
        assert_eq!(m.slices(), vec![2, 3, 4, 5, 6]);
    }

    #[test]
    fn the_outline_encloses_the_cross_section_on_every_plane() {
        let grid = [10, 20, 30];
        let m = Mask::from_fn(grid, [0; 3], grid, |[s, r, c]| {
            (3..6).contains(&s) && (5..9).contains(&r) && (10..17).contains(&c)
        });
        let volume = crate::segment::test_support::volume(grid, [2.0, 1.0, 1.0], |_| 0.0);
        let native = PlaneFrame::new(&volume, Plane::Native, 4).unwrap();
        // a 4 × 7 rectangle: 2 · (4 + 7) unit edges
        let segments = outline(&m, &native);
        assert_eq!(segments.len(), 22);
        let us: Vec<f64> = segments.iter().flat_map(|s| [s[0].0, s[1].0]).collect();
        assert_eq!(us.iter().copied().fold(f64::INFINITY, f64::min), 9.5);
        assert_eq!(us.iter().copied().fold(f64::NEG_INFINITY, f64::max), 16.5);
        let row = PlaneFrame::new(&volume, Plane::FixedRow, 6).unwrap();
        // 3 slices × 7 columns
        assert_eq!(outline(&m, &row).len(), 2 * (3 + 7));
        let runs = fill_runs(&m, &row);
        assert_eq!(runs.len(), 3);
        assert!(runs.iter().all(|r| r[1] == 10.0 && r[2] == 16.0));
        let away = PlaneFrame::new(&volume, Plane::Native, 8).unwrap();
        assert!(outline(&m, &away).is_empty());
    }
}
