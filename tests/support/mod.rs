//! Synthetic series for the workstation tests: known spacing, dates and
//! frames of reference, a bright disc as the "lesion".
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use nadir::dicom::LoadedSeries;
use nadir::geom::{Orientation, Vec3};
use nadir::volume::{Geometry, PatientIdentity, Photometric, Rescale, SeriesMeta, Volume};

/// A CT-like series of `slices` × `size` × `size` with pixel spacing
/// [row, column] and slices 5 mm apart starting at `z0`.
pub fn series(
    uid: &str,
    date: &str,
    frame_of_reference: &str,
    size: usize,
    spacing: [f64; 2],
    z0: f64,
    slices: usize,
) -> LoadedSeries {
    let voxels = ndarray::Array3::from_shape_fn((slices, size, size), |(_, r, c)| {
        let (dr, dc) = (r as f64 - size as f64 / 2.0, c as f64 - size as f64 / 2.0);
        if dr * dr + dc * dc < (size as f64 / 6.0).powi(2) {
            1100
        } else {
            1000
        }
    });
    LoadedSeries {
        volume: Volume {
            voxels,
            stored_offset: 0,
            rescale: vec![
                Rescale {
                    slope: 1.0,
                    intercept: -1024.0
                };
                slices
            ],
            geometry: Geometry {
                pixel_spacing_mm: Some(spacing),
                orientation: Some(Orientation::AXIAL),
                slice_positions_mm: (0..slices)
                    .map(|i| Vec3::new(0.0, 0.0, z0 + 5.0 * i as f64))
                    .collect(),
                frame_of_reference_uid: Some(frame_of_reference.to_string()),
            },
            photometric: Photometric::Monochrome2,
            meta: SeriesMeta {
                series_instance_uid: uid.to_string(),
                study_instance_uid: format!("study-{date}"),
                modality: "CT".into(),
                series_description: format!("CT {date}"),
                series_number: Some(1),
                study_date: date.to_string(),
                slice_thickness_mm: Some(5.0),
                patient: PatientIdentity {
                    name: "TEST^PATIENT".into(),
                    id: "P-TEST".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
            instances_in_order: (0..slices).map(|i| format!("{uid}.{i}")).collect(),
        },
        stats: None,
        pixel_sha256: None,
        warnings: Vec::new(),
        skipped: Vec::new(),
    }
}
