//! Segmentation accuracy on the `sample_scans` phantom (known ellipsoids):
//! each lesion is seeded at its true centre (`truth.json`), grown without a
//! box, and its volume and proposed long axis are compared with the truth.
//!
//! - `ct_segmentation_meets_the_issue_target` asserts the issue's target
//!   (every lesion's partial-volume volume within 5 %, every long axis within
//!   one pixel). It is NOT met on this phantom (5 mm slices, σ ≈ 12 HU
//!   correlated noise, 40–60 HU contrast for the liver and abdominal-wall
//!   lesions, vessels touching the lung lesion): ignored, run with
//!   `--ignored` to see it fail.
//! - `ct_segmentation_stays_within_regression_bounds` guards what the
//!   algorithm achieves today, so a regression (empty masks, leaks into the
//!   whole organ, a wrong long axis) fails; the same for the
//!   partial-volume estimate (`partial_volume_ml`), printed beside the
//!   voxel count (`PER_SLICE=1` prints each slice's estimate against the
//!   ellipsoid's exact content).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use nadir::dicom::{LoadOptions, LoadedSeries, load_stack, scan};
use nadir::geom::Vec3;
use nadir::segment::{GrowParams, VoxelSize, grow, partial_volume_ml, propose_bidirectional};

fn load(dir: &Path) -> LoadedSeries {
    let found = scan(dir).unwrap();
    let plan = found.stacks.first().expect("a stack");
    load_stack(
        plan,
        &LoadOptions {
            hash: false,
            progress: None,
            cancel: None,
        },
    )
    .unwrap()
}

struct Row {
    lesion: String,
    visit: String,
    truth_ml: f64,
    measured_ml: f64,
    partial_ml: f64,
    truth_long_mm: f64,
    measured_long_mm: f64,
    spacing_mm: f64,
}

fn measure(modality: &str) -> Vec<Row> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans");
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("truth.json")).unwrap()).unwrap();
    let series = truth["series"].as_array().unwrap();
    let mut loaded: Vec<(String, LoadedSeries)> = Vec::new();
    let mut rows = Vec::new();
    let key = modality.to_lowercase();
    for lesion in truth["lesions"].as_array().unwrap() {
        // lesions the MR does not show (lung) have no MR signal in the truth
        if key == "mr" && lesion["mr_mean_si"].is_null() {
            continue;
        }
        let uid = lesion[format!("{key}_series_instance_uid")]
            .as_str()
            .unwrap();
        if !loaded.iter().any(|(u, _)| u == uid) {
            let s = series
                .iter()
                .find(|s| s["series_instance_uid"] == uid)
                .unwrap();
            let dir = root.join(s["directory"].as_str().unwrap());
            loaded.push((uid.to_string(), load(&dir)));
        }
        let volume = &loaded.iter().find(|(u, _)| u == uid).unwrap().1.volume;
        let centre: Vec<f64> = lesion[format!("{key}_centre_mm")]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let voxel = volume
            .geometry
            .voxel_from_patient(Vec3::new(centre[0], centre[1], centre[2]))
            .unwrap();
        let seed = [
            voxel[2].round() as usize,
            voxel[1].round() as usize,
            voxel[0].round() as usize,
        ];
        let grown = grow(volume, seed, &GrowParams::default()).unwrap();
        println!(
            "  {} {}: level {:.0} window {:?} background {:?} limit {}",
            lesion["lesion_id"],
            lesion["visit"],
            grown.lesion_level,
            grown.window,
            grown.background,
            grown.hit_limit
        );
        let size = VoxelSize::of(volume).unwrap();
        let counted_ml = size.volume_ml(&grown.mask).unwrap();
        let pv = partial_volume_ml(volume, &grown.mask, &size).unwrap();
        let measured_ml = counted_ml;
        println!(
            "  {} {}: voxel count {:.3} mL ({:+.1} %), partial-volume estimate {:.3} mL ({:+.1} %), L {:?}, shell voxels read {} / decided by the mask {}",
            lesion["lesion_id"],
            lesion["visit"],
            counted_ml,
            100.0 * (counted_ml / lesion["volume_ml"].as_f64().unwrap() - 1.0),
            pv.volume_ml,
            100.0 * (pv.volume_ml / lesion["volume_ml"].as_f64().unwrap() - 1.0),
            pv.lesion_level,
            pv.edge_voxels_read,
            pv.edge_voxels_decided
        );
        if std::env::var("PER_SLICE").is_ok() {
            let semi: Vec<f64> = lesion["semi_axes_mm"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let voxel_ml = size.voxel_volume_ml(seed[0]).unwrap();
            let slab = size.slice_extent_mm[seed[0]];
            for (k, ml) in &pv.per_slice_ml {
                let z = volume
                    .geometry
                    .patient_from_voxel(0.0, 0.0, *k as f64)
                    .unwrap()
                    .z()
                    - centre[2];
                let (a, b) = (
                    (z - slab / 2.0).max(-semi[2]),
                    (z + slab / 2.0).min(semi[2]),
                );
                let area = |t: f64| t - t * t * t / (3.0 * semi[2] * semi[2]);
                let truth = if b > a {
                    std::f64::consts::PI * semi[0] * semi[1] * (area(b) - area(a)) / 1000.0
                } else {
                    0.0
                };
                let counted = grown
                    .mask
                    .counts_per_slice()
                    .iter()
                    .find(|(s, _)| s == k)
                    .map_or(0, |(_, n)| *n);
                println!(
                    "      slice {k}: truth {:.1} estimate {:.1} count {counted} (voxels)",
                    truth / voxel_ml,
                    ml / voxel_ml
                );
            }
        }
        let proposal = propose_bidirectional(&grown.mask, &volume.geometry).unwrap();
        rows.push(Row {
            lesion: lesion["lesion_id"].as_str().unwrap().to_string(),
            visit: lesion["visit"].as_str().unwrap().to_string(),
            truth_ml: lesion["volume_ml"].as_f64().unwrap(),
            measured_ml,
            partial_ml: pv.volume_ml,
            truth_long_mm: lesion["long_axis_mm"].as_f64().unwrap(),
            measured_long_mm: proposal.long_mm,
            spacing_mm: size.pixel_spacing_mm[1],
        });
    }
    rows
}

fn print(modality: &str, rows: &[Row]) {
    println!(
        "{modality}: lesion visit  truth_ml  measured_ml  error_%  partial_volume_ml  error_%  truth_long_mm  measured_long_mm"
    );
    for r in rows {
        println!(
            "{modality}  {:4} {:8} {:8.3} {:10.3} {:+8.1} {:10.3} {:+8.1} {:10.1} {:12.1}",
            r.lesion,
            r.visit,
            r.truth_ml,
            r.measured_ml,
            100.0 * (r.measured_ml / r.truth_ml - 1.0),
            r.partial_ml,
            100.0 * (r.partial_ml / r.truth_ml - 1.0),
            r.truth_long_mm,
            r.measured_long_mm
        );
    }
}

#[test]
fn ct_segmentation_stays_within_regression_bounds() {
    let rows = measure("CT");
    print("CT", &rows);
    assert_eq!(rows.len(), 15);
    let volume_errors: Vec<f64> = rows
        .iter()
        .map(|r| (r.measured_ml / r.truth_ml - 1.0).abs())
        .collect();
    let within = |limit: f64| volume_errors.iter().filter(|e| **e <= limit).count();
    // today: 6 of 15 within 5 % (T1, T2, T3 at baseline and W8), 13 within
    // 15 %, none beyond ±40 % (the two smallest, 12 and 14 mm: −38 %, +36 %)
    assert!(within(0.05) >= 6, "{volume_errors:?}");
    assert!(within(0.15) >= 13, "{volume_errors:?}");
    assert!(volume_errors.iter().all(|e| *e < 0.4), "{volume_errors:?}");
    // the partial-volume estimate: 6 within 5 % (T2 and N1 at baseline and
    // W8, T3 at baseline, N1 at W16), 14 within 20 % (NT1 at W16, whose
    // mask leaks, +42 %)
    let partial_errors: Vec<f64> = rows
        .iter()
        .map(|r| (r.partial_ml / r.truth_ml - 1.0).abs())
        .collect();
    let partial_within = |limit: f64| partial_errors.iter().filter(|e| **e <= limit).count();
    assert!(partial_within(0.05) >= 6, "{partial_errors:?}");
    assert!(partial_within(0.2) >= 14, "{partial_errors:?}");
    let long_ok = rows
        .iter()
        .filter(|r| (r.measured_long_mm - r.truth_long_mm).abs() <= r.spacing_mm)
        .count();
    assert!(
        long_ok >= 13,
        "long axis within one pixel for {long_ok} of 15"
    );
}

#[test]
#[ignore = "the issue's 5 % / one-pixel target is not met on the 5 mm phantom (see README)"]
fn ct_segmentation_meets_the_issue_target() {
    // the issue's exact target: every lesion (all are ≥ 10 mm) within 5 %
    // by the partial-volume estimate, every long axis within one pixel
    let rows = measure("CT");
    print("CT", &rows);
    assert_eq!(rows.len(), 15);
    let mut failures = Vec::new();
    for r in &rows {
        let error = (r.partial_ml / r.truth_ml - 1.0).abs();
        if error > 0.05 {
            failures.push(format!(
                "{} {}: volume {:.3} vs {:.3} mL",
                r.lesion, r.visit, r.partial_ml, r.truth_ml
            ));
        }
        if (r.measured_long_mm - r.truth_long_mm).abs() > r.spacing_mm {
            failures.push(format!(
                "{} {}: long axis {:.1} vs {:.1} mm",
                r.lesion, r.visit, r.measured_long_mm, r.truth_long_mm
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The T2-weighted MR series (2 mm pixels, 5 mm slices, Rician noise), for
/// the 12 lesions the MR shows: today 10 within 25 % (3 within 5 %) by the
/// voxel count, 9 within 5 % by the partial-volume estimate (the contrast is
/// 20–30 noise SDs); the smallest (NT1 at W16, 12 mm) leaks — a box is
/// needed there.
#[test]
fn mr_segmentation_stays_within_regression_bounds() {
    let rows = measure("MR");
    print("MR", &rows);
    assert_eq!(rows.len(), 12);
    let errors: Vec<f64> = rows
        .iter()
        .map(|r| (r.measured_ml / r.truth_ml - 1.0).abs())
        .collect();
    assert!(
        errors.iter().filter(|e| **e <= 0.25).count() >= 10,
        "{errors:?}"
    );
    assert!(
        errors.iter().filter(|e| **e <= 0.05).count() >= 3,
        "{errors:?}"
    );
    let partial: Vec<f64> = rows
        .iter()
        .map(|r| (r.partial_ml / r.truth_ml - 1.0).abs())
        .collect();
    assert!(
        partial.iter().filter(|e| **e <= 0.05).count() >= 9,
        "{partial:?}"
    );
    assert!(
        partial.iter().filter(|e| **e <= 0.15).count() >= 11,
        "{partial:?}"
    );
    let long_ok = rows
        .iter()
        .filter(|r| (r.measured_long_mm - r.truth_long_mm).abs() <= 2.0 * r.spacing_mm)
        .count();
    assert!(long_ok >= 11, "{long_ok}");
}
