//! The T2 signal workflow through the real panels (egui_kittest, no window):
//! draw an ellipse on the sample T2 MR, record it as T3's lesion ROI and
//! another as the muscle reference with the measurement box's buttons, and
//! read the ratio in the T2 panel.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nadir::session::Command;
use nadir::tools::Tool;
use nadir::tracking::SignalRole;
use support::ui::{App, drag, harness, screen};

/// Draws an ellipse of ±3 px around plane pixel (u, v) of pane 0.
fn ellipse(h: &mut Harness<'_, App>, u: f64, v: f64) {
    let (a, b) = (
        screen(h, 0, u - 3.0, v - 3.0),
        screen(h, 0, u + 3.0, v + 3.0),
    );
    drag(h, a, b);
}

#[test]
fn rois_recorded_from_the_measurement_box_show_their_ratio() {
    let mut ws = support::sample_workspace();
    ws.apply(Command::ImportLesionTable(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans/lesions.csv"),
    ));
    let mr = ws
        .series
        .iter()
        .position(|e| e.volume().meta.modality == "MR" && e.volume().meta.study_date == "20240108")
        .unwrap();
    ws.apply(Command::ShowSeries {
        pane: 0,
        series: mr,
    });
    // T3 (abdominal wall) at baseline: MR centre (46.5, -96, -40) mm; muscle
    // (paraspinal) at (35.5, 92, -40) mm on the same slice.
    let geometry = ws.series[mr].volume().geometry.clone();
    let lesion = geometry
        .voxel_from_patient(nadir::geom::Vec3::new(46.5, -96.0, -40.0))
        .unwrap();
    let muscle = geometry
        .voxel_from_patient(nadir::geom::Vec3::new(35.5, 92.0, -40.0))
        .unwrap();
    ws.apply(Command::SetSlice {
        pane: 0,
        index: lesion[2].round() as usize,
    });
    ws.apply(Command::SelectTool(Tool::Ellipse));
    ws.apply(Command::SelectLesion("T3".into()));
    let mut h = harness(ws);
    h.run();
    ellipse(&mut h, lesion[0], lesion[1]);
    assert!(h.query_by_label_contains("T2-weighted series").is_some());
    h.get_by_label("Lesion ROI of T3 at baseline").click();
    h.run();
    ellipse(&mut h, muscle[0], muscle[1]);
    h.get_by_label("Muscle reference at baseline").click();
    h.run();
    h.run();
    let patient = h.state().workspace.current_patient().unwrap();
    let date = patient.baseline_date().unwrap();
    let lesion_si = patient
        .signal(date, &SignalRole::Lesion("T3".into()))
        .unwrap()
        .mean_si;
    let muscle_si = patient
        .signal(date, &SignalRole::Reference)
        .unwrap()
        .mean_si;
    assert!(
        (lesion_si / muscle_si - 3.2).abs() < 0.15,
        "{lesion_si} / {muscle_si}"
    );
    // The T2 panel shows the row: "<SI> · <ratio> · —" for T3 at baseline.
    let ratio = format!("{:.2}", lesion_si / muscle_si);
    assert!(
        h.query_by_label_contains(&format!("{lesion_si:.1} · {ratio}"))
            .is_some(),
        "T2 panel row for T3"
    );
}
