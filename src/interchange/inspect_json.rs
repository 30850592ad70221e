//! `nadir inspect --json` (interchange §3): the loaded-series summary.

use serde::Serialize;

use crate::dicom::{LoadedSeries, Skipped};

/// The whole report.
#[derive(Debug, Clone, Serialize, Default)]
pub struct InspectReport {
    /// One entry per loaded stack.
    pub series: Vec<SeriesSummary>,
    /// Files that were not used, with the reason.
    pub skipped: Vec<SkippedEntry>,
}

/// A skipped file.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SkippedEntry {
    /// Path as found while scanning.
    pub path: String,
    /// Why it was not used.
    pub reason: String,
}

impl From<&Skipped> for SkippedEntry {
    fn from(s: &Skipped) -> Self {
        SkippedEntry {
            path: s.path.display().to_string(),
            reason: s.reason.clone(),
        }
    }
}

/// One series (stack) as in interchange §3.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesSummary {
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// Modality.
    pub modality: String,
    /// SeriesDescription.
    pub series_description: String,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub columns: usize,
    /// Number of slices (frames).
    pub slices: usize,
    /// [row spacing, column spacing] mm.
    pub pixel_spacing_mm: Option<[f64; 2]>,
    /// Mean spacing along the normal (single slice: SpacingBetweenSlices or SliceThickness).
    pub slice_spacing_mm: Option<f64>,
    /// ImageOrientationPatient.
    pub orientation: Option<[f64; 6]>,
    /// ImagePositionPatient of the first slice in order.
    pub origin_mm: Option<[f64; 3]>,
    /// SOP Instance UIDs in slice order.
    pub instances_in_order: Vec<String>,
    /// Smallest rescaled value.
    pub rescaled_min: Option<f64>,
    /// Largest rescaled value.
    pub rescaled_max: Option<f64>,
    /// Mean rescaled value.
    pub rescaled_mean: Option<f64>,
    /// SHA-256 over stored values (null with `--no-hash`).
    pub pixel_sha256: Option<String>,
    /// Geometry and loading warnings (an addition to §3; empty when all is well).
    pub warnings: Vec<String>,
}

impl SeriesSummary {
    /// Summarises a loaded series; `fallback_spacing_mm` is used for
    /// single-slice stacks (SpacingBetweenSlices or SliceThickness).
    pub fn from_loaded(loaded: &LoadedSeries, fallback_spacing_mm: Option<f64>) -> Self {
        let v = &loaded.volume;
        let g = &v.geometry;
        SeriesSummary {
            series_instance_uid: v.meta.series_instance_uid.clone(),
            modality: v.meta.modality.clone(),
            series_description: v.meta.series_description.clone(),
            rows: v.rows(),
            columns: v.columns(),
            slices: v.slices(),
            pixel_spacing_mm: g.pixel_spacing_mm,
            slice_spacing_mm: g.mean_slice_spacing_mm().or(fallback_spacing_mm),
            orientation: g.orientation.map(|o| o.to_iop()),
            origin_mm: g.slice_positions_mm.first().map(|p| p.0),
            instances_in_order: v.instances_in_order.clone(),
            rescaled_min: loaded.stats.map(|s| s.min),
            rescaled_max: loaded.stats.map(|s| s.max),
            rescaled_mean: loaded.stats.map(|s| s.mean),
            pixel_sha256: loaded.pixel_sha256.clone(),
            warnings: loaded.warnings.clone(),
        }
    }
}
