//! T2 signal on the sample patient (`recist-1.1.md` §11): the MR series are
//! recognised as T2-weighted and the CTs are not; ellipse ROIs drawn on the
//! lesion and on paraspinal muscle at each visit give the phantom's known
//! signal intensities and lesion-to-muscle ratios (scanner gain changes
//! between visits, the ratio does not); ROIs on CT are refused unless the
//! reader overrides; editing a ROI re-measures it; the values reach the
//! lesion table and the engine's `t2_ratio`; acquisition changes are flagged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use nadir::geom::Vec3;
use nadir::recist::Date;
use nadir::session::{Command, PointerEvent, Workspace};
use nadir::tools::Tool;
use nadir::tracking::{MeasurementId, SignalRole};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load_sample() -> Workspace {
    support::sample_workspace()
}

fn truth() -> Value {
    support::sample_truth()
}

fn series_index(ws: &Workspace, modality: &str, date: &str) -> usize {
    ws.series
        .iter()
        .position(|e| e.volume().meta.modality == modality && e.volume().meta.study_date == date)
        .unwrap()
}

/// Draws an ellipse of `radius_px` pixels around patient point `centre_mm`
/// on series `series` (shown in pane 0 at the centre's slice); returns its id.
fn ellipse_at(ws: &mut Workspace, series: usize, centre_mm: Vec3, radius_px: f64) -> MeasurementId {
    ws.apply(Command::ShowSeries { pane: 0, series });
    let [column, row, slice] = ws.series[series]
        .volume()
        .geometry
        .voxel_from_patient(centre_mm)
        .unwrap();
    ws.apply(Command::SetSlice {
        pane: 0,
        index: slice.round() as usize,
    });
    ws.apply(Command::SelectTool(Tool::Ellipse));
    let plane = ws.plane_context(0, 0.5).unwrap();
    let a = ws
        .point_on_pane(0, column - radius_px, row - radius_px)
        .unwrap();
    let b = ws
        .point_on_pane(0, column + radius_px, row + radius_px)
        .unwrap();
    ws.apply(Command::Pointer {
        pane: 0,
        event: PointerEvent::Press {
            at: a,
            plane,
            hit: None,
        },
    });
    ws.apply(Command::Pointer {
        pane: 0,
        event: PointerEvent::Drag(b),
    });
    ws.apply(Command::Pointer {
        pane: 0,
        event: PointerEvent::Release(b),
    });
    ws.tools.selected.expect("an ellipse was drawn")
}

fn vec3(v: &Value) -> Vec3 {
    Vec3::new(
        v[0].as_f64().unwrap(),
        v[1].as_f64().unwrap(),
        v[2].as_f64().unwrap(),
    )
}

fn close(measured: f64, expected: f64, tolerance: f64) -> bool {
    ((measured - expected) / expected).abs() <= tolerance
}

#[test]
fn sample_t2_ratios_follow_the_phantom_and_reach_the_lesion_table() {
    let mut ws = load_sample();
    let truth = truth();
    // The MR series are T2-weighted by TE/TR; the CTs are not.
    for (i, entry) in ws.series.iter().enumerate() {
        let call = ws.t2_weighting(i).unwrap();
        assert_eq!(
            call.t2_weighted,
            entry.volume().meta.modality == "MR",
            "{}",
            call.reason
        );
    }
    ws.apply(Command::ImportLesionTable(
        root().join("sample_scans/lesions.csv"),
    ));
    let mut expected_ratio = Vec::new();
    for lesion in truth["lesions"].as_array().unwrap() {
        if lesion["lesion_id"] != "T3" {
            continue; // abdominal-wall desmoid-like target, in the MR field of view
        }
        let date = lesion["date"].as_str().unwrap().replace('-', "");
        let mr = series_index(&ws, "MR", &date);
        let series_truth = truth["series"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["modality"] == "MR" && s["date"] == lesion["date"])
            .unwrap();
        let offset = vec3(&series_truth["patient_offset_mm"]);
        let centre = vec3(&lesion["mr_centre_mm"]);
        // Paraspinal muscle at the lesion's level (anatomy x = ±34, y = 96).
        let anatomy_z = centre.z() - offset.z();
        let muscle = Vec3::new(34.0, 96.0, anatomy_z) + offset;

        let lesion_roi = ellipse_at(&mut ws, mr, centre, 3.0);
        ws.apply(Command::AssignSignal {
            measurement: lesion_roi,
            role: SignalRole::Lesion("T3".into()),
        });
        let muscle_roi = ellipse_at(&mut ws, mr, muscle, 3.0);
        ws.apply(Command::AssignSignal {
            measurement: muscle_roi,
            role: SignalRole::Reference,
        });
        let date = Date::parse_iso(lesion["date"].as_str().unwrap()).unwrap();
        let patient = ws.current_patient().unwrap();
        let lesion_si = patient
            .signal(date, &SignalRole::Lesion("T3".into()))
            .unwrap()
            .mean_si;
        let muscle_si = patient
            .signal(date, &SignalRole::Reference)
            .unwrap()
            .mean_si;
        let (true_lesion, true_muscle) = (
            lesion["mr_mean_si"].as_f64().unwrap(),
            lesion["mr_muscle_si"].as_f64().unwrap(),
        );
        eprintln!(
            "{}: lesion {lesion_si:.1} (truth {true_lesion:.1}), muscle {muscle_si:.1} (truth {true_muscle:.1})",
            lesion["visit"]
        );
        assert!(
            close(lesion_si, true_lesion, 0.03),
            "{lesion_si} vs {true_lesion}"
        );
        assert!(
            close(muscle_si, true_muscle, 0.03),
            "{muscle_si} vs {true_muscle}"
        );
        expected_ratio.push(true_lesion / true_muscle);
    }
    assert_eq!(expected_ratio.len(), 3);

    let summary = ws.signal_summary().unwrap();
    assert_eq!(summary.visits.len(), 3);
    assert!(
        summary.protocol_warnings.is_empty(),
        "{:?}",
        summary.protocol_warnings
    );
    for (visit, expected) in summary.visits.iter().zip(&expected_ratio) {
        let t3 = &visit.lesions[0];
        assert_eq!(t3.lesion_id, "T3");
        assert!(close(t3.ratio.unwrap(), *expected, 0.05), "{visit:?}");
    }
    // Gain changes between visits (muscle 200 → 220 → 190) but the ratio
    // trend is the tissue's: −18.3 % then −34.7 % for T3.
    let last = summary.visits.last().unwrap();
    let true_change = (expected_ratio[2] / expected_ratio[0] - 1.0) * 100.0;
    let change = last.lesions[0].ratio_change_pct.unwrap();
    assert!(
        (change - true_change).abs() < 5.0,
        "{change} vs {true_change}"
    );

    // The lesion table carries the measured values (others keep imported ones).
    let csv = ws.lesion_table_csv().unwrap();
    let row = csv
        .lines()
        .find(|l| l.contains(",W16,") && l.contains(",T3,"))
        .unwrap();
    let t2_si: f64 = row.split(',').nth(11).unwrap().parse().unwrap();
    assert!(close(t2_si, 380.0, 0.03), "{row}");
    // … and the engine's t2_ratio averages over targets at W16.
    let result = ws.assessment.result.as_ref().unwrap();
    assert!(result.timepoints.last().unwrap().t2_ratio.is_some());
}

#[test]
fn ct_rois_are_refused_unless_the_reader_overrides_and_edits_re_measure() {
    let mut ws = load_sample();
    ws.apply(Command::ImportLesionTable(
        root().join("sample_scans/lesions.csv"),
    ));
    let ct = series_index(&ws, "CT", "20240108");
    let centre = ws.series[ct]
        .volume()
        .geometry
        .patient_from_voxel(128.0, 128.0, 20.0)
        .unwrap();
    let roi = ellipse_at(&mut ws, ct, centre, 5.0);
    ws.apply(Command::AssignSignal {
        measurement: roi,
        role: SignalRole::Reference,
    });
    assert!(ws.current_patient().unwrap().signals.is_empty());
    assert!(
        ws.messages.last().unwrap().contains("T2-weighted series"),
        "{:?}",
        ws.messages
    );
    ws.apply(Command::SetT2Override {
        series: ct,
        t2_weighted: Some(true),
    });
    assert!(
        ws.t2_weighting(ct)
            .unwrap()
            .reason
            .contains("set by the reader")
    );
    ws.apply(Command::AssignSignal {
        measurement: roi,
        role: SignalRole::Reference,
    });
    let date = Date::parse_iso("2024-01-08").unwrap();
    let before = ws
        .current_patient()
        .unwrap()
        .signal(date, &SignalRole::Reference)
        .unwrap()
        .clone();
    // Moving the ellipse (Navigate tool drag on its edge) re-measures it in
    // the same undo step.
    let shape = ws
        .current_patient()
        .unwrap()
        .measurement(roi)
        .unwrap()
        .measurement
        .shape
        .translated(Vec3::new(30.0, 0.0, 0.0));
    ws.edit(nadir::tracking::Edit::SetShape { id: roi, shape });
    let after = ws
        .current_patient()
        .unwrap()
        .signal(date, &SignalRole::Reference)
        .unwrap()
        .clone();
    assert_ne!(before.mean_si, after.mean_si);
    ws.apply(Command::Undo);
    let undone = ws
        .current_patient()
        .unwrap()
        .signal(date, &SignalRole::Reference)
        .unwrap()
        .clone();
    assert_eq!(undone, before);
    // Clearing is one step too.
    ws.apply(Command::ClearSignal {
        date,
        role: SignalRole::Reference,
    });
    assert!(ws.current_patient().unwrap().signals.is_empty());
}

#[test]
fn a_changed_sequence_between_visits_is_flagged() {
    let mut ws = load_sample();
    ws.apply(Command::ImportLesionTable(
        root().join("sample_scans/lesions.csv"),
    ));
    for date in ["20240108", "20240304"] {
        let mr = series_index(&ws, "MR", date);
        let centre = ws.series[mr]
            .volume()
            .geometry
            .patient_from_voxel(96.0, 96.0, 10.0)
            .unwrap();
        let roi = ellipse_at(&mut ws, mr, centre, 3.0);
        ws.apply(Command::AssignSignal {
            measurement: roi,
            role: SignalRole::Reference,
        });
    }
    assert!(ws.signal_summary().unwrap().protocol_warnings.is_empty());
    let w8 = series_index(&ws, "MR", "20240304");
    let meta = &mut std::sync::Arc::make_mut(&mut ws.series[w8].loaded.volume).meta;
    meta.echo_time_ms = Some(80.0);
    meta.magnetic_field_strength_t = Some(3.0);
    let warnings = ws.signal_summary().unwrap().protocol_warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("TE 100 → 80 ms"), "{warnings:?}");
    assert!(warnings[0].contains("field strength"), "{warnings:?}");
}

#[test]
fn a_lesion_mask_on_the_t2_series_is_its_roi_and_is_re_measured() {
    let mut ws = load_sample();
    ws.apply(Command::ImportLesionTable(
        root().join("sample_scans/lesions.csv"),
    ));
    let truth = truth();
    let t3 = truth["lesions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lesion_id"] == "T3" && l["visit"] == "baseline")
        .unwrap();
    let mr = series_index(&ws, "MR", "20240108");
    ws.apply(Command::ShowSeries {
        pane: 0,
        series: mr,
    });
    ws.apply(Command::SelectLesion("T3".into()));
    let centre = vec3(&t3["mr_centre_mm"]);
    ws.apply(Command::GrowAt {
        pane: 0,
        seed: centre,
    });
    let date = Date::parse_iso("2024-01-08").unwrap();
    assert!(
        ws.current_patient()
            .unwrap()
            .segmentations
            .iter()
            .any(|g| g.lesion_id == "T3" && g.date == date),
        "{:?}",
        ws.messages
    );
    ws.apply(Command::AssignSegmentationSignal {
        lesion_id: "T3".into(),
        date,
    });
    let role = SignalRole::Lesion("T3".into());
    let signal = ws
        .current_patient()
        .unwrap()
        .signal(date, &role)
        .unwrap()
        .clone();
    // The whole lesion, partial-volume edges included: a little below the
    // core value of 640, well above muscle.
    eprintln!(
        "mask mean {:.1} over {} voxels",
        signal.mean_si, signal.pixels
    );
    assert!(
        signal.mean_si > 520.0 && signal.mean_si < 660.0,
        "{signal:?}"
    );
    assert!(signal.pixels > 100, "{signal:?}");
    // Deleting the mask removes the signal; undo brings both back.
    ws.apply(Command::DeleteSegmentation);
    assert!(ws.current_patient().unwrap().signal(date, &role).is_none());
    ws.apply(Command::Undo);
    assert_eq!(
        ws.current_patient().unwrap().signal(date, &role),
        Some(&signal)
    );
}
