//! Find image files under a folder, read their headers in parallel, group them
//! into series and split each series into geometrically consistent stacks,
//! sorted along the slice normal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use super::header::{FrameInfo, ImageHeader, read_header};
use super::reason::{SkipReason, Unusable};
use crate::geom::Orientation;

/// A file that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// The technical reason (the `reason` of `nadir inspect`).
    pub reason: String,
    /// The kind of reason in plain language, for the reader. Not part of
    /// the `inspect` output.
    #[serde(skip)]
    pub kind: SkipReason,
    /// The file is not DICOM at all (no `DICM` magic, no data-set start; see
    /// [`super::could_be_dicom`]): a CSV or README beside the images, which
    /// the workstation ignores instead of counting as a failure. Not part of
    /// the `inspect` output.
    #[serde(skip)]
    pub not_dicom: bool,
}

impl Skipped {
    /// A file that cannot be used, and why; `not_dicom` follows from the
    /// kind ([`SkipReason::NotDicom`]).
    pub fn new(path: PathBuf, why: Unusable) -> Skipped {
        Skipped {
            path,
            not_dicom: why.reason == SkipReason::NotDicom,
            reason: why.detail,
            kind: why.reason,
        }
    }
}

/// One slice of a stack: a frame of one of the stack's files.
#[derive(Debug, Clone)]
pub struct SliceRef {
    /// Index into [`StackPlan::files`].
    pub file: usize,
    /// The frame's geometry and rescale.
    pub frame: FrameInfo,
}

/// A set of frames that forms one volume: same series, same image size and
/// pixel format, same orientation; sorted along the normal.
#[derive(Debug, Clone)]
pub struct StackPlan {
    /// The files that contribute frames.
    pub files: Vec<ImageHeader>,
    /// The slices in volume order.
    pub slices: Vec<SliceRef>,
    /// Geometry findings worth telling the reader (uneven spacing, tilt, ...).
    pub warnings: Vec<String>,
}

impl StackPlan {
    /// The header that stands for the whole stack (its first slice's file).
    pub fn first_header(&self) -> Option<&ImageHeader> {
        let first = self.slices.first()?;
        self.files.get(first.file)
    }
}

/// The result of scanning a folder.
#[derive(Debug, Clone, Default)]
pub struct ScanResult {
    /// Loadable stacks, ordered by series (study date, series number, UID).
    pub stacks: Vec<StackPlan>,
    /// Files that were not used.
    pub skipped: Vec<Skipped>,
}

/// Tolerance for "same orientation" (direction cosines).
const ORIENTATION_TOLERANCE: f64 = 1e-3;
/// Two slices closer than this along the normal share a position (mm).
const SAME_POSITION_MM: f64 = 1e-3;
/// Slice gaps that differ by more than this are "uneven" (mm).
const UNEVEN_SPACING_MM: f64 = 0.01;

/// Lists every regular file under `root` (or `root` itself if it is a file),
/// in a stable order. Symbolic links to directories are not followed.
pub fn list_files(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(root)?;
    if meta.is_file() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file() || (kind.is_symlink() && path.is_file()) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Scans `root` recursively: reads headers in parallel and plans the stacks.
pub fn scan(root: &Path) -> std::io::Result<ScanResult> {
    let files = list_files(root)?;
    Ok(plan(&files))
}

/// Reads the headers of `files` and plans the stacks.
pub fn plan(files: &[PathBuf]) -> ScanResult {
    let results: Vec<Result<ImageHeader, Skipped>> = files
        .par_iter()
        .map(|path| {
            // whether the file is DICOM at all is decided in the open
            // that failed, while the file is at hand
            read_header(path).map_err(|why| Skipped::new(path.clone(), why))
        })
        .collect();
    let mut skipped = Vec::new();
    let mut by_series: BTreeMap<String, Vec<ImageHeader>> = BTreeMap::new();
    for result in results {
        match result {
            Ok(header) => {
                let key = if header.series_instance_uid.is_empty() {
                    format!("(no SeriesInstanceUID) {}", header.path.display())
                } else {
                    header.series_instance_uid.clone()
                };
                by_series.entry(key).or_default().push(header);
            }
            Err(s) => skipped.push(s),
        }
    }
    let mut stacks: Vec<StackPlan> = by_series.into_values().flat_map(split_series).collect();
    stacks.sort_by_key(series_sort_key);
    ScanResult { stacks, skipped }
}

fn series_sort_key(stack: &StackPlan) -> (String, i64, String, String) {
    match stack.first_header() {
        Some(h) => (
            h.study_date.clone(),
            h.series_number.unwrap_or(i64::MAX),
            h.series_instance_uid.clone(),
            h.path.display().to_string(),
        ),
        None => Default::default(),
    }
}

/// Splits one series into stacks: every multi-frame file is a stack of its
/// own; single-frame files are grouped by size, pixel format and orientation
/// (so a three-plane localiser becomes three stacks, never a fake volume).
fn split_series(headers: Vec<ImageHeader>) -> Vec<StackPlan> {
    let mut stacks = Vec::new();
    let mut groups: Vec<(Option<Orientation>, Vec<ImageHeader>)> = Vec::new();
    for header in headers {
        if header.frames.len() > 1 {
            stacks.push(build_stack(vec![header]));
            continue;
        }
        let orientation = header.frames.first().and_then(|f| f.orientation);
        let slot = groups.iter_mut().find(|(o, members)| {
            let same_orientation = match (o, orientation) {
                (Some(a), Some(b)) => a.approx_eq(b, ORIENTATION_TOLERANCE),
                (None, None) => true,
                _ => false,
            };
            same_orientation
                && members.first().is_some_and(|m| {
                    m.format == header.format && m.photometric == header.photometric
                })
        });
        match slot {
            Some((_, members)) => members.push(header),
            None => groups.push((orientation, vec![header])),
        }
    }
    stacks.extend(groups.into_iter().map(|(_, files)| build_stack(files)));
    stacks
}

/// Orders the frames of `files` along the slice normal and checks the geometry.
fn build_stack(files: Vec<ImageHeader>) -> StackPlan {
    let mut slices: Vec<SliceRef> = files
        .iter()
        .enumerate()
        .flat_map(|(file, h)| {
            h.frames.iter().map(move |frame| SliceRef {
                file,
                frame: frame.clone(),
            })
        })
        .collect();
    let mut warnings = Vec::new();
    let orientation = slices.first().and_then(|s| s.frame.orientation);
    let positioned = slices
        .iter()
        .all(|s| s.frame.position.is_some() && s.frame.orientation.is_some());
    let instance = |s: &SliceRef| {
        files
            .get(s.file)
            .map(|h| (h.instance_number.unwrap_or(i64::MAX), h.path.clone()))
    };
    match (orientation, positioned) {
        (Some(orientation), true) => {
            let normal = orientation.normal();
            let depth = |s: &SliceRef| s.frame.position.map_or(0.0, |p| p.dot(normal));
            slices.sort_by(|a, b| {
                depth(a)
                    .total_cmp(&depth(b))
                    .then_with(|| instance(a).cmp(&instance(b)))
                    .then(a.frame.frame.cmp(&b.frame.frame))
            });
            let depths: Vec<f64> = slices.iter().map(depth).collect();
            check_spacing(&depths, &mut warnings);
            if let (Some(first), Some(last)) = (
                slices.first().and_then(|s| s.frame.position),
                slices.last().and_then(|s| s.frame.position),
            ) && let Some(direction) = (last - first).normalized()
            {
                let angle = direction
                    .dot(normal)
                    .abs()
                    .clamp(0.0, 1.0)
                    .acos()
                    .to_degrees();
                if angle > 0.01 {
                    warnings.push(format!(
                        "gantry tilt or sheared stack: slices advance {angle:.2}° off the slice normal \
                         (positions are kept per slice, so measurements stay exact)"
                    ));
                }
            }
        }
        _ => {
            slices.sort_by(|a, b| {
                instance(a)
                    .cmp(&instance(b))
                    .then(a.frame.frame.cmp(&b.frame.frame))
            });
            if slices.len() > 1 {
                warnings.push(
                    "no slice geometry (ImagePositionPatient/ImageOrientationPatient): slices kept in \
                     instance order and distances cannot be measured in mm across slices"
                        .to_string(),
                );
            }
        }
    }
    StackPlan {
        files,
        slices,
        warnings,
    }
}

/// Warns about repeated positions and uneven gaps along the normal.
fn check_spacing(depths: &[f64], warnings: &mut Vec<String>) {
    let gaps: Vec<f64> = depths.windows(2).map(|w| w[1] - w[0]).collect();
    let repeated = gaps.iter().filter(|g| g.abs() < SAME_POSITION_MM).count();
    if repeated > 0 {
        warnings.push(format!(
            "{repeated} slice(s) repeat another slice's position: the series may hold several volumes \
             (echoes, phases or repeats)"
        ));
    }
    let spacing: Vec<f64> = gaps
        .into_iter()
        .filter(|g| g.abs() >= SAME_POSITION_MM)
        .collect();
    let min = spacing.iter().copied().fold(f64::INFINITY, f64::min);
    let max = spacing.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if spacing.len() > 1 && max - min > UNEVEN_SPACING_MM {
        warnings.push(format!(
            "uneven slice spacing ({min:.3}–{max:.3} mm): positions are kept per slice; \
             reformats interpolate between the real positions"
        ));
    }
}
