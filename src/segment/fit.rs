//! A model-based lesion volume: [`fit_ellipsoid`] fits an ellipsoid, seen
//! through the scanner's voxels, to the image around a mask.
//!
//! Why: on 5 mm slices a voxel count (or one partial-volume fraction per
//! edge voxel) carries the noise of every edge voxel separately. On a
//! 12–15 mm liver lesion at five noise SDs of contrast that alone is an
//! 8–13 % SD for a per-voxel estimator (the `ct_noise_floor` study). A
//! shape with a handful of parameters, fitted to all edge voxels at once,
//! averages much of that noise away — as long as the lesion has that
//! shape. (Not all of it: on that lesion the fit's own SD is still 6–13 %,
//! see *Uncertainty*; on larger or higher-contrast lesions it is 0.1–2 %.) Solid
//! tumours measured by RECIST are mostly ellipsoid-like (the desmoid
//! literature's volume *is* the ellipsoid formula π/6 · L · W · H, from
//! three calliper diameters); an irregular or heterogeneous lesion is
//! detected by the fit's residuals and the fit is then not accepted.
//!
//! **The model.** An ellipsoid (centre, three semi-axes, any orientation)
//! of uniform level `L` in a background `B(v)`. A voxel a fraction `f(v)`
//! full reads `f·L + (1 − f)·B(v)` before an in-plane point-spread function
//! `[w, 1 − 2w, w]` along rows and columns (`w` fitted, 0 for none, ¼ for
//! a [1 2 1]/4 kernel); through the plane the voxel is its slice's slab
//! (SliceThickness, else the spacing). `f(v)` is exact along the slice
//! normal (the ellipsoid's interval on a line, intersected with the slab)
//! and a 5 × 5 average of such lines in-plane, so it moves smoothly with the
//! parameters.
//!
//! **The background** `B(v)` is read, not fitted. The zone that may hold
//! lesion is the mask dilated by three pixels in-plane plus the slice
//! beyond each end slice (the mask keeps voxels at least half lesion, so a
//! cap beyond it is less than a slice thick). The voxels two pixels or more
//! outside that footprint on their own slice are the *sources*. A voxel
//! closer to the lesion takes the tissue above and below it: the 3 × 3
//! median of the sources around the same pixel on the nearest slice on each
//! side where that pixel is a source, when the two agree within the noise
//! ([`COLUMN_AGREEMENT`]). The lesion narrows towards its ends, so there
//! the pixel shows what lies beside the edge without the lesion. Otherwise
//! (and for the sources) a voxel takes the median of the nearest sources on
//! its own slice. So each part of the edge is mixed with the tissue beside
//! it — muscle on one side of the abdominal-wall mass, fat on the other —
//! and a layer of muscle one pixel thick between the mass and fat reads as
//! muscle: beside the edge alone the fit took it for lesion mixed with fat
//! (the sample CT's mass +12 to +19 %; now +1 to +4 %).
//!
//! **The fit**: Levenberg–Marquardt on the zone's voxels with Tukey's
//! biweight (a vessel touching the lesion, at the lesion's level, is an
//! outlier of the model, not a reason to grow it), the scale the MAD of
//! the residuals. Starts from the mask's second moments.
//!
//! **Uncertainty.** [`EllipsoidFit::volume_sd_ml`] is the volume's SD from
//! the image noise: the fit's sandwich covariance with the noise's in-plane
//! correlation measured from the residuals away from the edge. On a
//! 12–15 mm liver lesion at five noise SDs of contrast it is 6–13 %: no
//! estimator can promise 5 % there. It says nothing about a wrong model.
//!
//! **Acceptance.** The fit is [`EllipsoidFit::accepted`] when its edge
//! residuals are as small as the noise: the robust SD of the residuals of
//! the voxels the surface crosses is at most [`MAX_EDGE_RESIDUAL_RATIO`]
//! times that of the rest of the zone, at most [`MAX_OUTLIER_FRACTION`] of
//! the edge voxels are outliers, and at least [`MIN_SEEN_FRACTION`] of the
//! ellipsoid lies on the voxels it was fitted to. Otherwise the reason is
//! given (the ellipsoid reaching beyond first) and the mask's count stands.
//! A fit whose ellipsoid has run away after the first, least-squares round
//! (less than [`RUNAWAY_SEEN_FRACTION`] on the voxels it was fitted to)
//! stops there, unaccepted: on the real lung tumour grown into the
//! mediastinum that saves two-thirds of the time (7.4 → 2.5 s). A layer
//! of another tissue thinner than two pixels that no slice above or below
//! shows (the two disagree, or the lesion does not narrow) is still read
//! as lesion mixed with what lies beyond it.

// Small dense matrices (3 × 3, 11 × 11) read best in index notation, as in
// the maths they implement.
#![allow(clippy::needless_range_loop)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;

use super::{Mask, SegmentError, VoxelSize, chessboard_distance, median};
use crate::volume::Volume;

/// Largest ratio of the edge residuals' robust SD to the rest of the zone's
/// for an accepted fit.
pub const MAX_EDGE_RESIDUAL_RATIO: f64 = 1.5;
/// Largest fraction of edge voxels with a residual beyond the biweight's
/// cut-off for an accepted fit.
pub const MAX_OUTLIER_FRACTION: f64 = 0.2;
/// Smallest fraction of the fitted ellipsoid lying on the voxels it was
/// fitted to (the mask, three pixels around it and the slice beyond each
/// end) for an accepted fit: one reaching further has followed something
/// else.
pub const MIN_SEEN_FRACTION: f64 = 0.97;

/// After the first (least-squares) round, an ellipsoid with less than this
/// fraction on the voxels it was fitted to has run away (the real lung
/// tumour grown into the mediastinum: 50 %; the sample lesions: 98.7 % or
/// more); it is reported, not accepted, without the robust rounds.
const RUNAWAY_SEEN_FRACTION: f64 = 0.8;
/// The zone: the mask dilated by this many pixels in-plane.
const ZONE_PIXELS: usize = 3;
/// Background is read this many pixels or more from the footprint.
const BACKGROUND_FROM: usize = 2;
/// Rounds of reading the background again without the fitted lesion's spill.
const BACKGROUND_ROUNDS: usize = 2;
/// The tissue above and below a voxel is one tissue when the two readings
/// differ by at most this many [`neighbour_noise`] SDs (3.5 noise SDs under
/// the sample CT's blur: 3.7 SDs of the difference of two 3 × 3 medians).
const COLUMN_AGREEMENT: f64 = 6.0;
/// Nearest voxels outside the zone searched up to this many pixels away.
const BACKGROUND_SEARCH: usize = 8;
/// In-plane lines per voxel side for the occupancy.
const LINES: usize = 5;
/// The fit has converged when no parameter moved more than this many
/// finite-difference steps (0.01 mm for the centre).
const CONVERGED_STEPS: f64 = 0.5;
/// Tukey biweight tuning constant (95 % efficiency under Gaussian noise).
const TUKEY_C: f64 = 4.685;
/// Parameters: centre (3, mm), log semi-axes (3), rotation vector (3),
/// level `L`, point-spread weight `w`.
const PARAMS: usize = 11;

/// An ellipsoid fitted to a lesion.
#[derive(Debug, Clone, PartialEq)]
pub struct EllipsoidFit {
    /// 4/3 · π · a · b · c, mL.
    pub volume_ml: f64,
    /// The volume's standard deviation from the image noise alone, mL
    /// (NaN when it cannot be computed): how far another noise draw of the
    /// same lesion would move it. It does not include a wrong model (a
    /// lesion that is not an ellipsoid, tissue beside it not read).
    pub volume_sd_ml: f64,
    /// The mask's voxel count, mL (for comparison).
    pub voxel_count_ml: f64,
    /// Semi-axes, mm, largest first.
    pub semi_axes_mm: [f64; 3],
    /// Longest diameter of the ellipsoid's cross-section with the axial
    /// plane through its centre, mm (what RECIST measures, free of the
    /// pixel grid).
    pub axial_long_mm: f64,
    /// Longest diameter perpendicular to it on that plane, mm.
    pub axial_short_mm: f64,
    /// Centre as fractional voxel indices `[slice, row, column]`.
    pub centre_voxel: [f64; 3],
    /// The centre's position along the slice normal, mm, on the same
    /// measure as a slice position's dot product with the normal (the
    /// fractional slice index need not be, between unevenly spaced slices).
    pub centre_along_normal_mm: f64,
    /// The ellipsoid as the quadric `M`, mm⁻², on the axes (column, row,
    /// slice normal): the point `d` mm from the centre is inside when
    /// `dᵀ M d ≤ 1`.
    pub quadric_mm: [[f64; 3]; 3],
    /// The lesion level `L` (modality units).
    pub lesion_level: f64,
    /// The fitted in-plane point-spread weight `w`.
    pub psf_weight: f64,
    /// Robust SD of the residuals away from the edge (modality units).
    pub noise_sd: f64,
    /// Robust SD of the edge voxels' residuals over `noise_sd`.
    pub edge_residual_ratio: f64,
    /// Fraction of edge voxels beyond the biweight's cut-off.
    pub outlier_fraction: f64,
    /// Voxels in the fit.
    pub voxels_fitted: usize,
    /// Levenberg–Marquardt steps taken.
    pub iterations: usize,
    /// Whether the fit describes the lesion (see the module documentation).
    pub accepted: bool,
    /// Why not, when it does not.
    pub rejection: Option<String>,
}

/// The working box: the zone plus one pixel (the point-spread function).
struct Work {
    /// Box size `[slices, rows, columns]`.
    n: [usize; 3],
    /// Box origin in the grid.
    lo: [usize; 3],
    /// Pixel spacing `[row, column]`, mm.
    spacing: [f64; 2],
    /// Position of each box slice along the normal, mm, from the box's
    /// first slice, growing with the slice index.
    z: Vec<f64>,
    /// The first box slice's position along the normal (slice position ·
    /// normal), and whether that measure grows with the slice index.
    along_base: (f64, bool),
    /// Half thickness of each box slice, mm.
    half_z: Vec<f64>,
    /// Modality values.
    value: Vec<f64>,
    /// The modality value of one stored step (the rescale slope).
    value_step: f64,
    /// Background level of each voxel.
    background: Vec<f64>,
    /// Voxels the background is read from.
    outside: Vec<bool>,
    /// Box slices beyond the mask's end slices (the footprint extended).
    beyond_end: Vec<bool>,
    /// Voxels whose residual enters the fit.
    fitted: Vec<usize>,
    /// Voxels whose occupancy the fit needs (the zone and one pixel around
    /// it, for the point-spread function); elsewhere it is 0.
    modelled: Vec<usize>,
}

impl Work {
    fn at(&self, s: usize, r: usize, c: usize) -> usize {
        (s * self.n[1] + r) * self.n[2] + c
    }

    /// `(slice, row, column)` of box index `i`: the inverse of [`Work::at`].
    fn coords(&self, i: usize) -> (usize, usize, usize) {
        box_coords(self.n, i)
    }

    /// The lesion's contrast to the median background of the fitted voxels.
    fn contrast(&self, level: f64) -> f64 {
        let mut b: Vec<f64> = self.fitted.iter().map(|&i| self.background[i]).collect();
        median(&mut b).map_or(0.0, |b| (level - b).abs())
    }

    /// The smallest residual scale the model can claim: integer stored
    /// values, and its own approximation (0.5 % of the contrast).
    fn noise_floor(&self, level: f64) -> f64 {
        (0.29 * self.value_step)
            .max(0.005 * self.contrast(level))
            .max(1e-9)
    }
}

/// `(slice, row, column)` of index `i` of a box of size `n`.
fn box_coords(n: [usize; 3], i: usize) -> (usize, usize, usize) {
    let (nr, nc) = (n[1], n[2]);
    (i / (nr * nc), (i / nc) % nr, i % nc)
}

/// Ellipsoid geometry: centre and the quadric `M` (`(x−c)ᵀ M (x−c) ≤ 1`).
#[derive(Debug, Clone, Copy)]
struct Quadric {
    centre: [f64; 3],
    m: [[f64; 3]; 3],
    min_axis: f64,
}

/// A rotation matrix from a rotation vector (Rodrigues).
fn rotation(omega: [f64; 3]) -> [[f64; 3]; 3] {
    let theta = (omega[0] * omega[0] + omega[1] * omega[1] + omega[2] * omega[2]).sqrt();
    if theta < 1e-12 {
        return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    }
    let k = omega.map(|x| x / theta);
    let (s, c) = theta.sin_cos();
    let t = 1.0 - c;
    [
        [
            c + k[0] * k[0] * t,
            k[0] * k[1] * t - k[2] * s,
            k[0] * k[2] * t + k[1] * s,
        ],
        [
            k[1] * k[0] * t + k[2] * s,
            c + k[1] * k[1] * t,
            k[1] * k[2] * t - k[0] * s,
        ],
        [
            k[2] * k[0] * t - k[1] * s,
            k[2] * k[1] * t + k[0] * s,
            c + k[2] * k[2] * t,
        ],
    ]
}

fn matmul(a: &[[f64; 3]; 3], b: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut out = [[0.0; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

/// The quadric of parameters `p` with base orientation `axes` (columns are
/// the semi-axis directions).
fn quadric(p: &[f64; PARAMS], axes: &[[f64; 3]; 3]) -> Quadric {
    let r = matmul(axes, &rotation([p[6], p[7], p[8]]));
    let inv_sq = [0, 1, 2].map(|i| (-2.0 * p[3 + i]).exp());
    let mut m = [[0.0; 3]; 3];
    for (i, row) in m.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (0..3).map(|k| r[i][k] * inv_sq[k] * r[j][k]).sum();
        }
    }
    let min_axis = [p[3], p[4], p[5]]
        .iter()
        .map(|l| l.exp())
        .fold(f64::INFINITY, f64::min);
    Quadric {
        centre: [p[0], p[1], p[2]],
        m,
        min_axis,
    }
}

impl Quadric {
    /// `sqrt((x−c)ᵀ M (x−c))`: 1 on the surface.
    fn radius(&self, point: [f64; 3]) -> f64 {
        let d = [0, 1, 2].map(|i| point[i] - self.centre[i]);
        let mut q = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                q += d[i] * self.m[i][j] * d[j];
            }
        }
        q.max(0.0).sqrt()
    }

    /// Fraction of the voxel centred at `(x, y, z)` with half sizes
    /// `(hx, hy, hz)` inside the ellipsoid (coordinates x, y in-plane, z
    /// along the normal).
    fn occupancy(&self, centre: [f64; 3], half: [f64; 3]) -> f64 {
        let half_diagonal = (half[0] * half[0] + half[1] * half[1] + half[2] * half[2]).sqrt();
        let margin = half_diagonal / self.min_axis.max(1e-9);
        let rho = self.radius(centre);
        if rho - 1.0 > margin {
            return 0.0;
        }
        if 1.0 - rho > margin {
            return 1.0;
        }
        // an ellipsoid is convex: all eight corners inside, the box is inside
        let corners_inside = (0..8).all(|k| {
            let corner = [0, 1, 2].map(|a| {
                if k >> a & 1 == 1 {
                    centre[a] + half[a]
                } else {
                    centre[a] - half[a]
                }
            });
            self.radius(corner) <= 1.0
        });
        if corners_inside {
            return 1.0;
        }
        let m = &self.m;
        let a = m[2][2];
        if a <= 0.0 {
            return 0.0;
        }
        let z_lo = centre[2] - half[2] - self.centre[2];
        let z_hi = centre[2] + half[2] - self.centre[2];
        let mut total = 0.0;
        for i in 0..LINES {
            let dy = centre[1] + ((i as f64 + 0.5) / LINES as f64 * 2.0 - 1.0) * half[1]
                - self.centre[1];
            for j in 0..LINES {
                let dx = centre[0] + ((j as f64 + 0.5) / LINES as f64 * 2.0 - 1.0) * half[0]
                    - self.centre[0];
                let b = m[0][2] * dx + m[1][2] * dy;
                let c = m[0][0] * dx * dx + 2.0 * m[0][1] * dx * dy + m[1][1] * dy * dy - 1.0;
                let disc = b * b - a * c;
                if disc <= 0.0 {
                    continue;
                }
                let root = disc.sqrt();
                let t1 = (-b - root) / a;
                let t2 = (-b + root) / a;
                let overlap = t2.min(z_hi) - t1.max(z_lo);
                if overlap > 0.0 {
                    total += overlap;
                }
            }
        }
        total / ((LINES * LINES) as f64 * 2.0 * half[2])
    }
}

/// The occupancy of every voxel of the box (0 outside the modelled voxels).
fn occupancy_map(work: &Work, q: &Quadric) -> Vec<f64> {
    let mut f = vec![0.0; work.value.len()];
    let half_xy = [work.spacing[1] / 2.0, work.spacing[0] / 2.0];
    for &i in &work.modelled {
        let (s, r, c) = work.coords(i);
        let centre = [
            c as f64 * work.spacing[1],
            r as f64 * work.spacing[0],
            work.z[s],
        ];
        f[i] = q.occupancy(centre, [half_xy[0], half_xy[1], work.half_z[s]]);
    }
    f
}

/// The model's prediction at every fitted voxel from an occupancy map.
fn predict(work: &Work, f: &[f64], level: f64, w: f64) -> Vec<f64> {
    let raw: Vec<f64> = f
        .iter()
        .zip(&work.background)
        .map(|(&f, &b)| {
            if f >= 1.0 {
                level
            } else {
                f * level + (1.0 - f) * b
            }
        })
        .collect();
    let kernel = [w, 1.0 - 2.0 * w, w];
    work.fitted
        .iter()
        .map(|&i| {
            let (s, r, c) = work.coords(i);
            let mut sum = 0.0;
            for (dr, kr) in kernel.iter().enumerate() {
                for (dc, kc) in kernel.iter().enumerate() {
                    // fitted voxels are at least one pixel inside the box
                    let j = work.at(s, r + dr - 1, c + dc - 1);
                    sum += kr * kc * raw.get(j).copied().unwrap_or(0.0);
                }
            }
            sum
        })
        .collect()
}

fn tukey_rho(u: f64) -> f64 {
    if u.abs() >= 1.0 {
        1.0 / 6.0
    } else {
        let t = 1.0 - u * u;
        (1.0 - t * t * t) / 6.0
    }
}

fn tukey_weight(u: f64) -> f64 {
    if u.abs() >= 1.0 {
        0.0
    } else {
        let t = 1.0 - u * u;
        t * t
    }
}

fn robust_sd(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut abs: Vec<f64> = values.map(f64::abs).collect();
    median(&mut abs).map(|m| 1.4826 * m)
}

/// Solve the symmetric system `a · x = b` (Gaussian elimination with partial
/// pivoting); `None` when singular.
fn solve(mut a: [[f64; PARAMS]; PARAMS], mut b: [f64; PARAMS]) -> Option<[f64; PARAMS]> {
    for col in 0..PARAMS {
        let pivot = (col..PARAMS).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..PARAMS {
            let factor = a[row][col] / a[col][col];
            for k in col..PARAMS {
                a[row][k] -= factor * a[col][k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = [0.0; PARAMS];
    for row in (0..PARAMS).rev() {
        let tail: f64 = (row + 1..PARAMS).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Eigenvectors (columns) and eigenvalues of a symmetric 3 × 3 matrix
/// (cyclic Jacobi rotations).
fn symmetric_eigen(mut a: [[f64; 3]; 3]) -> ([[f64; 3]; 3], [f64; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..50 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        if off < 1e-12 {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-15 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            for k in 0..3 {
                let (akp, akq) = (a[k][p], a[k][q]);
                a[k][p] = c * akp - s * akq;
                a[k][q] = s * akp + c * akq;
            }
            for k in 0..3 {
                let (apk, aqk) = (a[p][k], a[q][k]);
                a[p][k] = c * apk - s * aqk;
                a[q][k] = s * apk + c * aqk;
            }
            for row in v.iter_mut() {
                let (vkp, vkq) = (row[p], row[q]);
                row[p] = c * vkp - s * vkq;
                row[q] = s * vkp + c * vkq;
            }
        }
    }
    (v, [a[0][0], a[1][1], a[2][2]])
}

/// Fit an ellipsoid to the lesion `mask` outlines on `volume` (see the
/// module documentation). Errors: the mask on another grid, an empty mask,
/// unknown spacing.
pub fn fit_ellipsoid(
    volume: &Volume,
    mask: &Mask,
    size: &VoxelSize,
) -> Result<EllipsoidFit, SegmentError> {
    fit_ellipsoid_cancellable(volume, mask, size, &AtomicBool::new(false))
}

/// [`fit_ellipsoid`] that stops with [`SegmentError::Cancelled`] soon after
/// `cancel` is set (it is read before every Levenberg–Marquardt step: a
/// few ms on a lesion, about 0.3 s on a 175 000-voxel mask).
pub fn fit_ellipsoid_cancellable(
    volume: &Volume,
    mask: &Mask,
    size: &VoxelSize,
    cancel: &AtomicBool,
) -> Result<EllipsoidFit, SegmentError> {
    let voxel_count_ml = super::measurable_count_ml(volume, mask, size)?;
    let mut work = prepare(volume, mask, size)?;
    let (p0, axes) = initial_guess(&work, mask, volume)?;
    // first nearly least squares (every edge voxel pulls, however far off
    // the start is), then robust with the residuals' own scale
    let floor = work.noise_floor(p0[9]);
    let (mut p, mut iterations) =
        levenberg_marquardt(&work, p0, &axes, work.contrast(p0[9]).max(floor), cancel)?;
    // an ellipsoid that ran far beyond the mask's surroundings will not be
    // accepted: the robust rounds would only cost seconds on a large mask
    let f = occupancy_map(&work, &quadric(&p, &axes));
    let volume_ml = 4.0 / 3.0 * std::f64::consts::PI * (p[3] + p[4] + p[5]).exp() / 1000.0;
    if seen_fraction(&work, &f, volume_ml) < RUNAWAY_SEEN_FRACTION {
        return Ok(summarise(&work, &p, &axes, voxel_count_ml, iterations));
    }
    for _ in 0..BACKGROUND_ROUNDS {
        correct_background(&mut work, &p, &axes);
        let (q, more) = levenberg_marquardt(&work, p, &axes, TUKEY_C * floor, cancel)?;
        p = q;
        iterations += more;
    }
    Ok(summarise(&work, &p, &axes, voxel_count_ml, iterations))
}

/// An ellipsoid fit running on its own thread: the workstation starts one
/// when the reader asks, keeps drawing, and shows the result when it lands.
/// A fit of a mask the reader has since edited is [`FitJob::cancel`]led, so
/// a long fit (16 s on a 175 000-voxel mask) does not keep a core busy for
/// a result nobody will see.
#[derive(Debug, Default)]
pub struct FitJob {
    result: OnceLock<Result<EllipsoidFit, String>>,
    cancel: AtomicBool,
}

impl FitJob {
    /// Fit `mask` on `volume` on a thread named `nadir-fit`; `on_done` runs
    /// on that thread once the result is in (a UI asks for a repaint).
    /// The error text says why there is no fit (unknown spacing, a thread
    /// that could not start, cancelled).
    pub fn start(
        volume: Arc<Volume>,
        mask: Mask,
        size: Option<VoxelSize>,
        on_done: impl FnOnce() + Send + 'static,
    ) -> Arc<FitJob> {
        let job = Arc::new(FitJob::default());
        let spawned = std::thread::Builder::new().name("nadir-fit".into()).spawn({
            let job = Arc::clone(&job);
            move || {
                let fit = match &size {
                    Some(size) => fit_ellipsoid_cancellable(&volume, &mask, size, &job.cancel)
                        .map_err(|e| e.to_string()),
                    None => Err("the series has no slice spacing".to_string()),
                };
                let _ = job.result.set(fit);
                on_done();
            }
        });
        if let Err(error) = spawned {
            let _ = job
                .result
                .set(Err(format!("could not start the fit: {error}")));
        }
        job
    }

    /// The result, once the fit has finished (`None` while it runs).
    pub fn result(&self) -> Option<&Result<EllipsoidFit, String>> {
        self.result.get()
    }

    /// Ask the fit to stop; it ends with an error "cancelled" within one
    /// Levenberg–Marquardt step.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Whether [`FitJob::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// Read the box, the zone and the background.
fn prepare(volume: &Volume, mask: &Mask, size: &VoxelSize) -> Result<Work, SegmentError> {
    let grid = [volume.slices(), volume.rows(), volume.columns()];
    let data = volume.voxels.as_slice().ok_or(SegmentError::GridMismatch)?;
    let (origin, extent) = mask.bounds();
    let pad = ZONE_PIXELS + BACKGROUND_SEARCH + 1;
    let lo = [
        origin[0].saturating_sub(2),
        origin[1].saturating_sub(pad),
        origin[2].saturating_sub(pad),
    ];
    let hi = [
        (origin[0] + extent[0] + 2).min(grid[0]),
        (origin[1] + extent[1] + pad).min(grid[1]),
        (origin[2] + extent[2] + pad).min(grid[2]),
    ];
    let n = [0, 1, 2].map(|a| hi[a] - lo[a]);
    let (ns, nr, nc) = (n[0], n[1], n[2]);
    let len = ns * nr * nc;
    let at = |s: usize, r: usize, c: usize| (s * nr + r) * nc + c;
    let mut value = vec![0.0f64; len];
    let mut inside = vec![false; len];
    for s in 0..ns {
        let rescale = volume.slice_rescale(lo[0] + s);
        for r in 0..nr {
            let row = ((lo[0] + s) * grid[1] + lo[1] + r) * grid[2] + lo[2];
            let values = data.get(row..row + nc).ok_or(SegmentError::GridMismatch)?;
            for (c, &v) in values.iter().enumerate() {
                let i = at(s, r, c);
                value[i] = rescale.apply(f64::from(i32::from(v) + volume.stored_offset));
                inside[i] = mask.contains([lo[0] + s, lo[1] + r, lo[2] + c]);
            }
        }
    }
    // footprint per slice: the mask, and beyond each end slice that slice's
    // (the slices it is extended to are less than half lesion anywhere)
    let beyond_end = footprint(&mut inside, n);
    // the zone: footprint dilated in-plane
    let zone = dilate_in_plane(&inside, n, ZONE_PIXELS);
    let near = dilate_in_plane(&inside, n, BACKGROUND_FROM - 1);
    let modelled: Vec<usize> = dilate_in_plane(&zone, n, 1)
        .iter()
        .enumerate()
        .filter_map(|(i, &m)| m.then_some(i))
        .collect();
    // background: median of the nearest voxels outside the zone, same slice
    let sources: Vec<Option<f64>> = near
        .iter()
        .zip(&value)
        .map(|(&near, &v)| (!near).then_some(v))
        .collect();
    let mut fitted = Vec::new();
    for s in 0..ns {
        for r in 1..nr.saturating_sub(1) {
            for c in 1..nc.saturating_sub(1) {
                let i = at(s, r, c);
                if zone[i] {
                    fitted.push(i);
                }
            }
        }
    }
    // geometry along the normal
    let normal = volume.geometry.normal();
    let positions = &volume.geometry.slice_positions_mm;
    let along: Vec<f64> = match normal {
        Some(nv) if positions.len() == grid[0] => positions.iter().map(|p| p.dot(nv)).collect(),
        _ => {
            let mut acc = 0.0;
            size.slice_extent_mm
                .iter()
                .map(|e| {
                    acc += e;
                    acc
                })
                .collect()
        }
    };
    let ascending = along.last() >= along.first();
    let thickness = volume
        .meta
        .slice_thickness_mm
        .filter(|t| *t > 0.0 && t.is_finite());
    let base = along.get(lo[0]).copied().unwrap_or(0.0);
    let z: Vec<f64> = (lo[0]..hi[0])
        .map(|k| {
            let d = along.get(k).copied().unwrap_or(0.0) - base;
            if ascending { d } else { -d }
        })
        .collect();
    let half_z: Vec<f64> = (lo[0]..hi[0])
        .map(|k| {
            thickness.unwrap_or_else(|| size.slice_extent_mm.get(k).copied().unwrap_or(1.0)) / 2.0
        })
        .collect();
    let mut work = Work {
        n,
        lo,
        spacing: size.pixel_spacing_mm,
        z,
        along_base: (base, ascending),
        half_z,
        value,
        value_step: volume.slice_rescale(lo[0]).slope.abs(),
        background: Vec::new(),
        beyond_end,
        outside: near.iter().map(|x| !x).collect(),
        fitted,
        modelled,
    };
    work.background = read_background(&work, &sources);
    Ok(work)
}

/// Every voxel's background: the median of the nearest `sources` on its
/// own slice (at least three, searched up to [`BACKGROUND_SEARCH`] pixels
/// away; else the median of all sources). On the slices beyond the mask's
/// end slices it is the tissue at the same place on the next slice out
/// ([`through_plane`]): a cap less than half a voxel deep hides little of
/// what lies under it, and the same slice's surroundings may be another
/// tissue (the abdominal-wall mass sits in muscle there, with fat beside).
fn read_background(work: &Work, sources: &[Option<f64>]) -> Vec<f64> {
    let n = work.n;
    let (nr, nc) = (n[1], n[2]);
    let at = |s: usize, r: usize, c: usize| (s * nr + r) * nc + c;
    let mut all: Vec<f64> = sources.iter().flatten().copied().collect();
    let fallback = median(&mut all).unwrap_or(0.0);
    let tolerance = COLUMN_AGREEMENT * neighbour_noise(work, sources);
    let mut background = vec![fallback; sources.len()];
    let mut ring = Vec::new();
    for &i in &work.modelled {
        let (s, r, c) = box_coords(n, i);
        if sources[i].is_none() {
            if let Some(v) = column_above_and_below(work, sources, s, r, c, tolerance) {
                background[i] = v;
                continue;
            }
        }
        if work.beyond_end[s] {
            if let Some(v) = through_plane(work, sources, s, r, c) {
                background[i] = v;
                continue;
            }
        }
        let (ri, ci) = (r as i64, c as i64);
        for d in 0..=BACKGROUND_SEARCH as i64 {
            ring.clear();
            for rr in (ri - d - 1).max(0)..=(ri + d + 1).min(nr as i64 - 1) {
                for cc in (ci - d - 1).max(0)..=(ci + d + 1).min(nc as i64 - 1) {
                    let cheb = (rr - ri).abs().max((cc - ci).abs());
                    if cheb < d.max(1) {
                        continue;
                    }
                    if let Some(Some(v)) = sources.get(at(s, rr as usize, cc as usize)) {
                        ring.push(*v);
                    }
                }
            }
            if ring.len() >= 3 {
                if let Some(m) = median(&mut ring) {
                    background[i] = m;
                }
                break;
            }
        }
    }
    background
}

/// The tissue at the same place on the nearest other slice with a source
/// there: the median of the sources in the 3 × 3 pixels around `(r, c)`.
fn through_plane(
    work: &Work,
    sources: &[Option<f64>],
    s: usize,
    r: usize,
    c: usize,
) -> Option<f64> {
    let n = work.n;
    let nearest = (0..n[0])
        .filter(|&t| t != s && sources[work.at(t, r, c)].is_some())
        .min_by(|&a, &b| {
            (work.z[a] - work.z[s])
                .abs()
                .total_cmp(&(work.z[b] - work.z[s]).abs())
        })?;
    let mut patch: Vec<f64> = (r.saturating_sub(1)..=(r + 1).min(n[1] - 1))
        .flat_map(|rr| (c.saturating_sub(1)..=(c + 1).min(n[2] - 1)).map(move |cc| (rr, cc)))
        .filter_map(|(rr, cc)| sources[work.at(nearest, rr, cc)])
        .collect();
    median(&mut patch)
}

/// The tissue above and below voxel `(s, r, c)`: the 3 × 3 median of the
/// sources around the same pixel on the nearest slice on each side where
/// that pixel is a source, when both exist and differ by at most
/// `tolerance` (the same tissue); their mean.
fn column_above_and_below(
    work: &Work,
    sources: &[Option<f64>],
    s: usize,
    r: usize,
    c: usize,
    tolerance: f64,
) -> Option<f64> {
    let n = work.n;
    let patch = |t: usize| -> Option<f64> {
        let mut values: Vec<f64> = (r.saturating_sub(1)..=(r + 1).min(n[1] - 1))
            .flat_map(|rr| (c.saturating_sub(1)..=(c + 1).min(n[2] - 1)).map(move |cc| (rr, cc)))
            .filter_map(|(rr, cc)| sources[work.at(t, rr, cc)])
            .collect();
        median(&mut values)
    };
    let is_source = |t: usize| sources[work.at(t, r, c)].is_some();
    let below = (0..s).rev().find(|&t| is_source(t)).and_then(patch)?;
    let above = (s + 1..n[0]).find(|&t| is_source(t)).and_then(patch)?;
    ((below - above).abs() <= tolerance).then_some((below + above) / 2.0)
}

/// The noise of the sources as their neighbours' differences show it:
/// the robust SD of the differences of in-plane neighbours along rows,
/// over √2. Correlated noise makes this smaller than the noise itself
/// (0.58 × under the sample CT's [1 2 1]/4 blur).
fn neighbour_noise(work: &Work, sources: &[Option<f64>]) -> f64 {
    let nc = work.n[2];
    let mut steps: Vec<f64> = sources
        .windows(2)
        .enumerate()
        .filter(|(i, _)| (i + 1) % nc != 0)
        .filter_map(|(_, pair)| Some((pair[0]? - pair[1]?).abs()))
        .collect();
    median(&mut steps).map_or(0.0, |m| 1.4826 * m / 2f64.sqrt())
}

/// The model's blurred lesion fraction at every voxel of the box.
fn blurred_fraction(work: &Work, f: &[f64], w: f64) -> Vec<f64> {
    let [ns, nr, nc] = work.n;
    let kernel = [w, 1.0 - 2.0 * w, w];
    let mut out = vec![0.0; f.len()];
    for s in 0..ns {
        for r in 0..nr {
            for c in 0..nc {
                let mut sum = 0.0;
                let mut weight = 0.0;
                for (dr, kr) in kernel.iter().enumerate() {
                    for (dc, kc) in kernel.iter().enumerate() {
                        let (rr, cc) = (r + dr, c + dc);
                        if rr < 1 || cc < 1 || rr > nr || cc > nc {
                            continue;
                        }
                        sum += kr * kc * f[work.at(s, rr - 1, cc - 1)];
                        weight += kr * kc;
                    }
                }
                out[work.at(s, r, c)] = if weight > 0.0 { sum / weight } else { 0.0 };
            }
        }
    }
    out
}

/// Read the background again from the voxels outside the zone with the
/// fitted lesion's spill taken out: `(I − g·L) / (1 − g)`, `g` the model's
/// blurred fraction there (voxels at least half lesion are not used).
fn correct_background(work: &mut Work, p: &[f64; PARAMS], axes: &[[f64; 3]; 3]) {
    let f = occupancy_map(work, &quadric(p, axes));
    let g = blurred_fraction(work, &f, p[10]);
    let sources: Vec<Option<f64>> = (0..work.value.len())
        .map(|i| {
            (work.outside[i] && g[i] < 0.5).then(|| (work.value[i] - g[i] * p[9]) / (1.0 - g[i]))
        })
        .collect();
    work.background = read_background(work, &sources);
}

/// Extend the mask's footprint to the slice beyond each end slice (the
/// end slice's footprint). Returns, per slice, whether it is one of those
/// slices beyond an end.
fn footprint(inside: &mut [bool], n: [usize; 3]) -> Vec<bool> {
    let plane = n[1] * n[2];
    let mut beyond_end = vec![false; n[0]];
    let has = |inside: &[bool], s: usize| inside[s * plane..(s + 1) * plane].iter().any(|&x| x);
    let slices: Vec<usize> = (0..n[0]).filter(|&s| has(inside, s)).collect();
    let (Some(&first), Some(&last)) = (slices.first(), slices.last()) else {
        return beyond_end;
    };
    if first > 0 {
        let (before, rest) = inside.split_at_mut(first * plane);
        before[(first - 1) * plane..].copy_from_slice(&rest[..plane]);
        beyond_end[first - 1] = true;
    }
    if last + 1 < n[0] {
        let (upto, after) = inside.split_at_mut((last + 1) * plane);
        after[..plane].copy_from_slice(&upto[last * plane..]);
        beyond_end[last + 1] = true;
    }
    beyond_end
}

/// `inside` dilated by `pixels` (chessboard) on each slice.
fn dilate_in_plane(inside: &[bool], n: [usize; 3], pixels: usize) -> Vec<bool> {
    let plane = n[1] * n[2];
    let mut out = Vec::with_capacity(inside.len());
    for slice in inside.chunks(plane.max(1)) {
        let distance = chessboard_distance(n[1], n[2], &|r, c| slice[r * n[2] + c]);
        out.extend(distance.iter().map(|&d| d <= pixels));
    }
    out
}

/// Start from the ellipsoid with the mask's second moments, scaled to the
/// mask's volume.
fn initial_guess(
    work: &Work,
    mask: &Mask,
    volume: &Volume,
) -> Result<([f64; PARAMS], [[f64; 3]; 3]), SegmentError> {
    let mut sum_w = 0.0;
    let mut mean = [0.0; 3];
    let mut second = [[0.0; 3]; 3];
    let mut levels = Vec::new();
    for [s, r, c] in mask.voxels() {
        let (ls, lr, lc) = (s - work.lo[0], r - work.lo[1], c - work.lo[2]);
        let p = [
            lc as f64 * work.spacing[1],
            lr as f64 * work.spacing[0],
            work.z.get(ls).copied().unwrap_or(0.0),
        ];
        let w = 2.0 * work.half_z.get(ls).copied().unwrap_or(1.0);
        sum_w += w;
        for i in 0..3 {
            mean[i] += w * p[i];
            for j in 0..3 {
                second[i][j] += w * p[i] * p[j];
            }
        }
        if let Some(v) = volume.value(s, r, c) {
            levels.push(v);
        }
    }
    if sum_w <= 0.0 {
        return Err(SegmentError::EmptyMask);
    }
    let mean = mean.map(|m| m / sum_w);
    let mut cov = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            cov[i][j] = second[i][j] / sum_w - mean[i] * mean[j];
        }
    }
    // the slab's own spread (a uniform of the slice spacing) is not shape;
    // and a lesion whose mask covers k slices is about k slices tall: the
    // start must reach into the slice beyond each end, or no step ever
    // would (the occupancy there does not change until it is reached).
    // Along any direction an ellipsoid's variance is its half-extent² / 5.
    let dz = 2.0 * work.half_z.first().copied().unwrap_or(1.0);
    let slices = mask.slices().len() as f64;
    let half_height = slices * dz / 2.0;
    cov[2][2] = (cov[2][2] - dz * dz / 12.0).max(half_height * half_height / 5.0);
    let (axes, eigen) = symmetric_eigen(cov);
    let semi = eigen.map(|l| (5.0 * l.max(1e-6)).sqrt());
    let level = median(&mut levels).unwrap_or(0.0);
    let p = [
        mean[0],
        mean[1],
        mean[2],
        semi[0].ln(),
        semi[1].ln(),
        semi[2].ln(),
        0.0,
        0.0,
        0.0,
        level,
        0.2,
    ];
    Ok((p, axes))
}

/// Steps of the finite differences per parameter.
fn steps(p: &[f64; PARAMS]) -> [f64; PARAMS] {
    let level_step = 0.01 * p[9].abs().max(10.0);
    [
        0.02, 0.02, 0.02, 0.002, 0.002, 0.002, 0.002, 0.002, 0.002, level_step, 0.005,
    ]
}

fn clamp_params(p: &mut [f64; PARAMS], work: &Work) {
    let extent = [
        work.n[2] as f64 * work.spacing[1],
        work.n[1] as f64 * work.spacing[0],
        work.z.last().copied().unwrap_or(0.0) + 1.0,
    ];
    let smallest = work.spacing[0].min(work.spacing[1]) * 0.25;
    for i in 0..3 {
        p[i] = p[i].clamp(-extent[i] * 0.25, extent[i] * 1.25);
        p[3 + i] = p[3 + i].clamp(smallest.ln(), extent[0].max(extent[1]).max(extent[2]).ln());
    }
    p[10] = p[10].clamp(0.0, 0.3);
}

/// The Jacobian of the prediction at the fitted voxels, column by column
/// (forward differences; `f` the occupancy map at `p`).
fn jacobian(work: &Work, p: &[f64; PARAMS], axes: &[[f64; 3]; 3], f: &[f64]) -> Vec<Vec<f64>> {
    let h = steps(p);
    let base_pred: Vec<f64> = predict(work, f, p[9], p[10]);
    (0..PARAMS)
        .into_par_iter()
        .map(|k| {
            let mut q = *p;
            q[k] += h[k];
            let pred = if k < 9 {
                let fq = occupancy_map(work, &quadric(&q, axes));
                predict(work, &fq, q[9], q[10])
            } else {
                predict(work, f, q[9], q[10])
            };
            pred.iter()
                .zip(&base_pred)
                .map(|(a, b)| (a - b) / h[k])
                .collect()
        })
        .collect()
}

/// Robust Levenberg–Marquardt (iteratively reweighted Tukey biweight).
fn levenberg_marquardt(
    work: &Work,
    mut p: [f64; PARAMS],
    axes: &[[f64; 3]; 3],
    min_scale: f64,
    cancel: &AtomicBool,
) -> Result<([f64; PARAMS], usize), SegmentError> {
    let residuals = |p: &[f64; PARAMS], f: &[f64]| -> Vec<f64> {
        let pred = predict(work, f, p[9], p[10]);
        work.fitted
            .iter()
            .zip(pred)
            .map(|(&i, pr)| work.value[i] - pr)
            .collect()
    };
    let mut f = occupancy_map(work, &quadric(&p, axes));
    let mut r = residuals(&p, &f);
    let mut lambda = 1e-2;
    let mut iterations = 0;
    for _ in 0..40 {
        if cancel.load(Ordering::Relaxed) {
            return Err(SegmentError::Cancelled);
        }
        iterations += 1;
        let scale = (robust_sd(r.iter().copied()).unwrap_or(1.0) * TUKEY_C).max(min_scale);
        let cost = |r: &[f64]| r.iter().map(|x| tukey_rho(x / scale)).sum::<f64>();
        let weights: Vec<f64> = r.iter().map(|x| tukey_weight(x / scale)).collect();
        let h = steps(&p);
        let jac = jacobian(work, &p, axes, &f);
        let mut jtj = [[0.0; PARAMS]; PARAMS];
        let mut jtr = [0.0; PARAMS];
        for (n, (&w, &res)) in weights.iter().zip(&r).enumerate() {
            if w == 0.0 {
                continue;
            }
            for a in 0..PARAMS {
                let ja = jac[a][n];
                jtr[a] += w * ja * res;
                for b in a..PARAMS {
                    jtj[a][b] += w * ja * jac[b][n];
                }
            }
        }
        for a in 0..PARAMS {
            for b in 0..a {
                jtj[a][b] = jtj[b][a];
            }
        }
        let current = cost(&r);
        let mut improved = false;
        for _ in 0..8 {
            let mut damped = jtj;
            for (a, row) in damped.iter_mut().enumerate() {
                row[a] += lambda * jtj[a][a].max(1e-9);
            }
            let Some(delta) = solve(damped, jtr) else {
                lambda *= 10.0;
                continue;
            };
            let mut q = p;
            for a in 0..PARAMS {
                q[a] += delta[a];
            }
            clamp_params(&mut q, work);
            let fq = occupancy_map(work, &quadric(&q, axes));
            let rq = residuals(&q, &fq);
            if cost(&rq) < current {
                let change = (0..PARAMS)
                    .map(|a| (delta[a] / h[a]).abs())
                    .fold(0.0, f64::max);
                p = q;
                f = fq;
                r = rq;
                lambda = (lambda / 3.0).max(1e-6);
                improved = true;
                if change < CONVERGED_STEPS && lambda < 1e-2 {
                    return Ok((p, iterations));
                }
                break;
            }
            lambda *= 10.0;
        }
        if !improved {
            break;
        }
    }
    Ok((p, iterations))
}

/// The fit's figures and whether it is accepted.
fn summarise(
    work: &Work,
    p: &[f64; PARAMS],
    axes: &[[f64; 3]; 3],
    voxel_count_ml: f64,
    iterations: usize,
) -> EllipsoidFit {
    let q = quadric(p, axes);
    let f = occupancy_map(work, &q);
    let pred = predict(work, &f, p[9], p[10]);
    let residual: Vec<f64> = work
        .fitted
        .iter()
        .zip(&pred)
        .map(|(&i, pr)| work.value[i] - pr)
        .collect();
    // edge: voxels the surface crosses (or whose neighbours it does)
    let [_, nr, nc] = work.n;
    let is_edge = |i: usize| {
        let (s, r, c) = work.coords(i);
        let mut lo = 1.0f64;
        let mut hi = 0.0f64;
        for rr in r.saturating_sub(1)..=(r + 1).min(nr - 1) {
            for cc in c.saturating_sub(1)..=(c + 1).min(nc - 1) {
                let v = f[work.at(s, rr, cc)];
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
        hi - lo > 0.05
    };
    let mut edge = Vec::new();
    let mut flat = Vec::new();
    let mut is_flat = Vec::with_capacity(residual.len());
    for (&i, &res) in work.fitted.iter().zip(&residual) {
        let on_edge = is_edge(i);
        is_flat.push(!on_edge);
        if on_edge {
            edge.push(res);
        } else {
            flat.push(res);
        }
    }
    let noise_sd = robust_sd(flat.iter().copied())
        .or_else(|| robust_sd(residual.iter().copied()))
        .unwrap_or(0.0);
    let noise_sd = noise_sd.max(work.noise_floor(p[9]));
    let edge_sd = robust_sd(edge.iter().copied()).unwrap_or(0.0);
    let edge_residual_ratio = if noise_sd > 0.0 {
        edge_sd / noise_sd
    } else {
        f64::INFINITY
    };
    let cut = TUKEY_C * noise_sd;
    let outlier_fraction = if edge.is_empty() {
        0.0
    } else {
        edge.iter().filter(|x| x.abs() > cut).count() as f64 / edge.len() as f64
    };
    let mut semi = [p[3].exp(), p[4].exp(), p[5].exp()];
    let volume_ml = 4.0 / 3.0 * std::f64::consts::PI * semi.iter().product::<f64>() / 1000.0;
    let noise = NoiseModel::measure(work, &residual, &is_flat, noise_sd);
    let volume_sd_ml = volume_ml
        * noise
            .as_ref()
            .and_then(|noise| relative_volume_sd(noise, p, axes, &f, &residual, noise_sd))
            .unwrap_or(f64::NAN);
    semi.sort_by(|a, b| b.total_cmp(a));
    let m = q.m;
    // a plane z = const through the centre: the section is dᵀ M₂ d ≤ 1
    let tr2 = m[0][0] + m[1][1];
    let det2 = m[0][0] * m[1][1] - m[0][1] * m[0][1];
    let root2 = (tr2 * tr2 / 4.0 - det2).max(0.0).sqrt();
    let axial_long_mm = 2.0 / (tr2 / 2.0 - root2).max(1e-12).sqrt();
    let axial_short_mm = 2.0 / (tr2 / 2.0 + root2).max(1e-12).sqrt();
    let centre_voxel = [
        work.lo[0] as f64 + slice_index(work, p[2]),
        work.lo[1] as f64 + p[1] / work.spacing[0],
        work.lo[2] as f64 + p[0] / work.spacing[1],
    ];
    // back from the box's z (growing with the slice index) to the measure
    // along the normal
    let (base, ascending) = work.along_base;
    let sign = if ascending { 1.0 } else { -1.0 };
    let centre_along_normal_mm = base + sign * p[2];
    let mut quadric_mm = m;
    for a in 0..2 {
        quadric_mm[a][2] *= sign;
        quadric_mm[2][a] *= sign;
    }
    let seen = seen_fraction(work, &f, volume_ml);
    // the first reason that applies: an ellipsoid that reached beyond the
    // mask's surroundings has followed something else, whatever its residuals
    let rejection = if seen < MIN_SEEN_FRACTION {
        Some(format!(
            "the fitted ellipsoid ({volume_ml:.2} mL) reaches beyond the region around the mask ({:.0} % inside it)",
            seen * 100.0
        ))
    } else if edge_residual_ratio.is_nan() || edge_residual_ratio > MAX_EDGE_RESIDUAL_RATIO {
        Some(format!(
            "the edge does not follow an ellipsoid (edge residuals {edge_residual_ratio:.2} × the noise)"
        ))
    } else if outlier_fraction > MAX_OUTLIER_FRACTION {
        Some(format!(
            "{:.0} % of the edge voxels are not explained by an ellipsoid",
            outlier_fraction * 100.0
        ))
    } else {
        None
    };
    EllipsoidFit {
        volume_ml,
        volume_sd_ml,
        voxel_count_ml,
        semi_axes_mm: semi,
        axial_long_mm,
        axial_short_mm,
        centre_voxel,
        centre_along_normal_mm,
        quadric_mm,
        lesion_level: p[9],
        psf_weight: p[10],
        noise_sd,
        edge_residual_ratio,
        outlier_fraction,
        voxels_fitted: work.fitted.len(),
        iterations,
        accepted: rejection.is_none(),
        rejection,
    }
}

/// How much of an ellipsoid of `volume_ml` lies on the voxels the fit saw
/// (`f` its occupancy map).
fn seen_fraction(work: &Work, f: &[f64], volume_ml: f64) -> f64 {
    let seen_ml: f64 = work
        .modelled
        .iter()
        .map(|&i| {
            let (s, _, _) = work.coords(i);
            f[i] * work.spacing[0] * work.spacing[1] * 2.0 * work.half_z[s] / 1000.0
        })
        .sum();
    seen_ml / volume_ml.max(1e-12)
}

/// Lags (pixels, each way in-plane) over which the noise is correlated.
const NOISE_LAGS: i64 = 2;
/// Side of the lag window.
const LAG_WIDTH: usize = (2 * NOISE_LAGS + 1) as usize;

/// The fitted voxels' in-plane neighbourhoods and the noise covariance
/// between them, measured from the residuals away from the edge
/// (reconstructed CT noise is correlated over a pixel or two in-plane;
/// slices are taken as independent).
struct NoiseModel<'a> {
    work: &'a Work,
    /// Box index → position among the fitted voxels (`usize::MAX` if none).
    position: Vec<usize>,
    /// Covariance by in-plane lag, `LAG_WIDTH × LAG_WIDTH`, row-major.
    covariance: Vec<f64>,
}

impl<'a> NoiseModel<'a> {
    /// `None` when there is no noise to measure.
    fn measure(work: &'a Work, residual: &[f64], is_flat: &[bool], noise_sd: f64) -> Option<Self> {
        if noise_sd <= 0.0 || residual.is_empty() {
            return None;
        }
        let mut position = vec![usize::MAX; work.value.len()];
        for (n, &i) in work.fitted.iter().enumerate() {
            position[i] = n;
        }
        let mut model = Self {
            work,
            position,
            covariance: vec![0.0; LAG_WIDTH * LAG_WIDTH],
        };
        // clipped at the biweight's cut, so a vessel does not count as noise
        let cut = TUKEY_C * noise_sd;
        let clipped: Vec<f64> = residual.iter().map(|r| r.clamp(-cut, cut)).collect();
        let mut raw = [0.0; LAG_WIDTH * LAG_WIDTH];
        for (k, (dr, dc)) in Self::lags().enumerate() {
            let (mut sum, mut count) = (0.0, 0usize);
            for n in (0..residual.len()).filter(|&n| is_flat[n]) {
                if let Some(m) = model.neighbour(n, dr, dc).filter(|&m| is_flat[m]) {
                    sum += clipped[n] * clipped[m];
                    count += 1;
                }
            }
            raw[k] = if count > 0 { sum / count as f64 } else { 0.0 };
        }
        let centre = raw[LAG_WIDTH * LAG_WIDTH / 2];
        if centre <= 0.0 {
            return None;
        }
        // correlations bounded by 1, scaled to the robust noise SD
        model.covariance = raw
            .iter()
            .map(|c| (c / centre).clamp(-1.0, 1.0) * noise_sd * noise_sd)
            .collect();
        Some(model)
    }

    /// The in-plane lags, in the covariance's order.
    fn lags() -> impl Iterator<Item = (i64, i64)> {
        (-NOISE_LAGS..=NOISE_LAGS).flat_map(|dr| (-NOISE_LAGS..=NOISE_LAGS).map(move |dc| (dr, dc)))
    }

    /// The fitted voxel `(dr, dc)` pixels from fitted voxel `n`, if any.
    fn neighbour(&self, n: usize, dr: i64, dc: i64) -> Option<usize> {
        let work = self.work;
        let (s, r, c) = work.coords(work.fitted[n]);
        let (rr, cc) = (r as i64 + dr, c as i64 + dc);
        if rr < 0 || cc < 0 || rr >= work.n[1] as i64 || cc >= work.n[2] as i64 {
            return None;
        }
        let m = self.position[work.at(s, rr as usize, cc as usize)];
        (m != usize::MAX).then_some(m)
    }

    /// The noise variance of `Σ_n a_n ε_n` over the fitted voxels.
    fn variance_of_sum(&self, a: &[f64]) -> f64 {
        let mut variance = 0.0;
        for (n, &an) in a.iter().enumerate() {
            if an == 0.0 {
                continue;
            }
            for ((dr, dc), c) in Self::lags().zip(&self.covariance) {
                if let Some(m) = self.neighbour(n, dr, dc) {
                    variance += an * c * a[m];
                }
            }
        }
        variance
    }
}

/// The fitted volume's relative standard deviation from the noise: the
/// sandwich covariance of the weighted least-squares estimate,
/// `(JᵀWJ)⁻¹ JᵀW Σ W J (JᵀWJ)⁻¹`, with `W` the biweights and `Σ` the
/// measured noise covariance. The background is read, not fitted, so its
/// own noise is not included.
fn relative_volume_sd(
    noise: &NoiseModel<'_>,
    p: &[f64; PARAMS],
    axes: &[[f64; 3]; 3],
    f: &[f64],
    residual: &[f64],
    noise_sd: f64,
) -> Option<f64> {
    let jac = jacobian(noise.work, p, axes, f);
    let cut = TUKEY_C * noise_sd;
    let weights: Vec<f64> = residual.iter().map(|r| tukey_weight(r / cut)).collect();
    let mut jtwj = [[0.0; PARAMS]; PARAMS];
    for (n, &w) in weights.iter().enumerate() {
        for a in 0..PARAMS {
            for b in 0..PARAMS {
                jtwj[a][b] += w * jac[a][n] * jac[b][n];
            }
        }
    }
    // d(log V)/dp: the three log semi-axes
    let mut gradient = [0.0; PARAMS];
    gradient[3..6].fill(1.0);
    let u = solve(jtwj, gradient)?;
    // uᵀ JᵀW Σ W J u
    let wju: Vec<f64> = (0..residual.len())
        .map(|n| weights[n] * (0..PARAMS).map(|a| jac[a][n] * u[a]).sum::<f64>())
        .collect();
    let variance = noise.variance_of_sum(&wju);
    (variance >= 0.0).then(|| variance.sqrt())
}

/// Fractional box slice index of a position along the normal.
fn slice_index(work: &Work, z: f64) -> f64 {
    let zs = &work.z;
    for k in 0..zs.len().saturating_sub(1) {
        let (a, b) = (zs[k], zs[k + 1]);
        if (z >= a && z <= b) || k + 2 == zs.len() {
            return k as f64 + if b != a { (z - a) / (b - a) } else { 0.0 };
        }
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{noisy_phantom, phantom_at, phantom_in, volume, voxel_mm};
    use super::*;

    #[test]
    fn an_ellipsoid_on_five_mm_slices_is_measured_from_its_partial_volumes() {
        // 10 mm tall on 5 mm slices at four offsets to the slice grid: the
        // voxel count is off by up to 10 %, the fit by less than 4 %
        let mut worst_count: f64 = 0.0;
        for z in [25.0, 26.25, 27.5, 28.75] {
            let (v, mask, truth) = phantom_at(z, [5.0, 7.0, 6.5], 45.0, |_| 105.0);
            let size = VoxelSize::of(&v).unwrap();
            let fit = fit_ellipsoid(&v, &mask, &size).unwrap();
            worst_count = worst_count.max((fit.voxel_count_ml / truth - 1.0).abs());
            let error = (fit.volume_ml / truth - 1.0).abs();
            assert!(error < 0.04, "z {z}: {} vs {truth}: {error}", fit.volume_ml);
            assert!(fit.accepted, "{fit:?}");
            assert!((fit.lesion_level - 45.0).abs() < 1.0, "{fit:?}");
            // no blur in this phantom
            assert!(fit.psf_weight < 0.05, "{fit:?}");
            // axial long axis 14 mm, short 13 mm
            assert!((fit.axial_long_mm - 14.0).abs() < 0.3, "{fit:?}");
            assert!((fit.axial_short_mm - 13.0).abs() < 0.3, "{fit:?}");
        }
        assert!(worst_count > 0.08, "count {worst_count}");
    }

    #[test]
    fn the_stated_volume_sd_matches_the_spread_over_noise_draws() {
        // a 15 mm liver lesion at five noise SDs of contrast, blurred by
        // [1 2 1]/4 like the sample CT, ten noise draws. The fit's errors
        // run −9 to +22 % (RMS 11 %) and it states SDs of 6–9 %: at this
        // size and contrast the noise alone moves the volume that much
        // (with only the three semi-axes free it would still be 4–7 %).
        // Counting the ideal mask gives 3.7 % RMS, but no mask from a noisy
        // image is the ideal one. The stated SD must be within a factor of
        // two of the spread: mean (error / SD)² in [¼, 4] (today 2.5).
        // Taking the noise as white would state SDs 2.3× too small (13.5).
        let mut z_squared = Vec::new();
        let mut errors = Vec::new();
        for seed in 0..10u64 {
            let z = 25.0 + (seed % 8) as f64 * 0.625;
            let (v, mask, truth) =
                noisy_phantom(seed, [z, 29.6, 30.2], [6.5, 6.0, 7.5], 45.0, 105.0, 12.0);
            let size = VoxelSize::of(&v).unwrap();
            let fit = fit_ellipsoid(&v, &mask, &size).unwrap();
            let error = fit.volume_ml / truth - 1.0;
            let stated = fit.volume_sd_ml / fit.volume_ml;
            assert!(
                stated.is_finite() && stated > 0.0,
                "seed {seed}: SD {stated}"
            );
            errors.push(error);
            z_squared.push((error / stated).powi(2));
        }
        let mean_z_squared = z_squared.iter().sum::<f64>() / z_squared.len() as f64;
        let rms = (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt();
        eprintln!(
            "RMS error {:.1} %, mean (error / SD)² {mean_z_squared:.2}",
            100.0 * rms
        );
        assert!(
            (0.25..=4.0).contains(&mean_z_squared),
            "mean (error / stated SD)² = {mean_z_squared:.2} ({z_squared:?})"
        );
    }

    #[test]
    fn a_large_high_contrast_lesion_states_a_small_sd() {
        // a 30 mm lesion at 20 noise SDs: well measured, and it says so
        let (v, mask, truth) = noisy_phantom(
            3,
            [27.5, 29.6, 30.2],
            [12.0, 11.0, 14.0],
            345.0,
            105.0,
            12.0,
        );
        let size = VoxelSize::of(&v).unwrap();
        let fit = fit_ellipsoid(&v, &mask, &size).unwrap();
        let stated = fit.volume_sd_ml / fit.volume_ml;
        assert!(stated < 0.01, "stated SD {:.2} %", 100.0 * stated);
        assert!(
            (fit.volume_ml / truth - 1.0).abs() < 0.03,
            "{} vs {truth}",
            fit.volume_ml
        );
    }

    #[test]
    fn each_side_is_judged_against_its_own_tissue() {
        // fat on the left, muscle on the right of a 95 HU lesion: a muscle
        // voxel must not read as lesion mixed with fat
        let (v, mask, truth) = phantom_at(27.3, [9.0, 8.0, 10.0], 95.0, |x| {
            if x < 30.2 { -100.0 } else { 55.0 }
        });
        let size = VoxelSize::of(&v).unwrap();
        let fit = fit_ellipsoid(&v, &mask, &size).unwrap();
        let error = (fit.volume_ml / truth - 1.0).abs();
        assert!(error < 0.03, "{} vs {truth}: {error}", fit.volume_ml);
        assert!(fit.accepted, "{fit:?}");
    }

    #[test]
    fn a_thin_layer_between_the_lesion_and_fat_is_read_as_its_own_tissue() {
        // a 95 HU lesion in a column of muscle (55 HU) that runs through
        // every slice and is one pixel wider all round than the lesion's
        // widest section, fat beyond: the sample CT's abdominal-wall mass
        // where the wall is thin. Beside the widest section the nearest
        // voxels outside the mask's surroundings are fat, but the muscle
        // pixel lies between; above and below, the lesion is narrower and
        // that pixel reads muscle. Reading the background beside the edge
        // only, the fit took the muscle pixel for lesion mixed with fat:
        // +24 %.
        let (centre, semi) = ([27.3, 29.6, 30.2], [12.0, 9.0, 12.0]);
        let muscle = |y: f64, x: f64| {
            ((y - centre[1]) / (semi[1] + 1.5)).powi(2)
                + ((x - centre[2]) / (semi[2] + 1.5)).powi(2)
                <= 1.0
        };
        let (v, mask, truth) = phantom_in(centre, semi, 95.0, |p| {
            if muscle(p[1], p[0]) { 55.0 } else { -100.0 }
        });
        let size = VoxelSize::of(&v).unwrap();
        let fit = fit_ellipsoid(&v, &mask, &size).unwrap();
        let error = (fit.volume_ml / truth - 1.0).abs();
        assert!(error < 0.01, "{} vs {truth}: {error}", fit.volume_ml);
        assert!(fit.accepted, "{fit:?}");
    }

    #[test]
    fn a_vessel_touching_the_lesion_is_left_out() {
        // a lung lesion with a vessel at its level running past it in-plane,
        // two pixels wide, touching its edge on the middle slices
        let (centre, semi) = ([27.3, 29.6, 30.2], [9.0, 8.0, 10.0]);
        let vessel = |p: [f64; 3]| (p[1] - (29.6 + 8.0 + 1.5)).abs() < 1.5 && p[2] > 15.0;
        let (v, lesion, truth) =
            phantom_in(
                centre,
                semi,
                35.0,
                |p| {
                    if vessel(p) { 35.0 } else { -860.0 }
                },
            );
        // the mask holds the vessel where it touches the middle slices
        let dims = lesion.grid();
        let mask = Mask::from_fn(dims, [0; 3], dims, |[s, r, c]| {
            let [z, y, x] = voxel_mm([s, r, c], [5.0, 1.5, 1.5]);
            lesion.contains([s, r, c])
                || vessel([x, y, z]) && (z - centre[0]).abs() < 5.0 && (x - centre[2]).abs() < 6.0
        });
        let size = VoxelSize::of(&v).unwrap();
        let fit = fit_ellipsoid(&v, &mask, &size).unwrap();
        let error = (fit.volume_ml / truth - 1.0).abs();
        assert!(fit.voxel_count_ml > truth * 1.05, "{fit:?}");
        assert!(error < 0.03, "{} vs {truth}: {error}", fit.volume_ml);
    }

    #[test]
    fn a_lesion_that_is_not_an_ellipsoid_is_not_accepted() {
        // two 12 mm spheres side by side, overlapping by a third: a dumbbell
        let spacing = [5.0, 1.5, 1.5];
        let dims = [12, 40, 48];
        let lobes = [[27.3, 29.6, 18.0], [27.3, 29.6, 34.0]];
        let inside = |p: [f64; 3]| {
            lobes.iter().any(|c| {
                (0..3)
                    .map(|a| ((p[a] - c[a]) / [11.0, 11.0, 11.0][a]).powi(2))
                    .sum::<f64>()
                    <= 1.0
            })
        };
        let fraction = |p: [f64; 3]| {
            let mut n = 0;
            for i in 0..8 {
                for j in 0..4 {
                    for k in 0..4 {
                        let q = [
                            p[0] + spacing[0] * ((i as f64 + 0.5) / 8.0 - 0.5),
                            p[1] + spacing[1] * ((j as f64 + 0.5) / 4.0 - 0.5),
                            p[2] + spacing[2] * ((k as f64 + 0.5) / 4.0 - 0.5),
                        ];
                        n += usize::from(inside(q));
                    }
                }
            }
            n as f64 / 128.0
        };
        let v = volume(dims, spacing, |p| {
            let f = fraction([p[2], p[1], p[0]]);
            -100.0 * (1.0 - f) + 60.0 * f
        });
        let mask = Mask::from_fn(dims, [0; 3], dims, |[s, r, c]| {
            fraction(voxel_mm([s, r, c], spacing)) >= 0.5
        });
        let size = VoxelSize::of(&v).unwrap();
        let fit = fit_ellipsoid(&v, &mask, &size).unwrap();
        assert!(!fit.accepted, "{fit:?}");
        assert!(fit.rejection.is_some());
    }

    #[test]
    fn an_empty_mask_or_another_grid_is_an_error() {
        let (v, _, _) = phantom_at(27.3, [5.0, 7.0, 6.5], 45.0, |_| 105.0);
        let size = VoxelSize::of(&v).unwrap();
        assert_eq!(
            fit_ellipsoid(&v, &Mask::empty([12, 40, 40]), &size),
            Err(SegmentError::EmptyMask)
        );
        assert_eq!(
            fit_ellipsoid(&v, &Mask::empty([3, 40, 40]), &size),
            Err(SegmentError::GridMismatch)
        );
    }

    #[test]
    fn a_cancelled_fit_stops_with_an_error() {
        let (v, mask, _) = phantom_at(27.3, [5.0, 7.0, 6.5], 45.0, |_| 105.0);
        let size = VoxelSize::of(&v).unwrap();
        assert_eq!(
            fit_ellipsoid_cancellable(&v, &mask, &size, &AtomicBool::new(true)),
            Err(SegmentError::Cancelled)
        );
        assert!(fit_ellipsoid_cancellable(&v, &mask, &size, &AtomicBool::new(false)).is_ok());
    }

    #[test]
    fn a_fit_job_lands_its_result_or_stops_when_cancelled() {
        let (v, mask, _) = phantom_at(27.3, [5.0, 7.0, 6.5], 45.0, |_| 105.0);
        let size = VoxelSize::of(&v).unwrap();
        let expected = fit_ellipsoid(&v, &mask, &size).map_err(|e| e.to_string());
        let v = Arc::new(v);
        let run = |cancel: bool| {
            let (done, landed) = std::sync::mpsc::channel();
            let job = FitJob::start(
                Arc::clone(&v),
                mask.clone(),
                Some(size.clone()),
                move || {
                    let _ = done.send(());
                },
            );
            if cancel {
                // the fit reads the flag before every step, and takes many
                job.cancel();
                assert!(job.is_cancelled());
            }
            landed
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("the job ends and says so");
            job.result().cloned().expect("a result once done")
        };
        assert_eq!(run(false), expected);
        assert_eq!(run(true), Err("cancelled".to_string()));
        // no spacing: an error, not a fit
        let job = FitJob::start(Arc::clone(&v), mask.clone(), None, || {});
        let started = std::time::Instant::now();
        while job.result().is_none() {
            assert!(started.elapsed().as_secs() < 60);
            std::thread::yield_now();
        }
        assert!(job.result().unwrap().is_err());
    }
}
