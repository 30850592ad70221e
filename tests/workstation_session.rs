//! The lesion workflow at the session level, without egui: measuring by
//! pointer commands, making and attaching lesions, statuses without drawing,
//! undo/redo, live assessment from the same engine as `nadir assess`,
//! lesion-table import/export, and linked scrolling of the compare panes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use nadir::geom::Vec3;
use nadir::interchange::lesion_table::{parse_lesion_table, read_lesion_table};
use nadir::measure::Shape;
use nadir::recist::{AssessOptions, Category, Date, LesionStatus, OverallResponse, assess_patient};
use nadir::session::{Command, Layout, PointerEvent, Workspace};
use nadir::tools::Tool;
use nadir::tracking::{Finding, MeasurementId};

fn workspace() -> Workspace {
    let mut ws = Workspace::default();
    // Each series has its own frame of reference, like the sample CTs.
    ws.add_series(support::series(
        "ct-bl",
        "20240108",
        "for-1",
        64,
        [0.5, 0.5],
        0.0,
        10,
    ));
    ws.add_series(support::series(
        "ct-w8",
        "20240304",
        "for-2",
        64,
        [0.5, 0.5],
        100.0,
        10,
    ));
    ws
}

fn date(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

/// Draws with `tool` on pane `pane` from plane pixel `a` to `b`; returns the new id.
fn draw(
    ws: &mut Workspace,
    pane: usize,
    tool: Tool,
    a: (f64, f64),
    b: (f64, f64),
) -> MeasurementId {
    ws.apply(Command::SelectTool(tool));
    let plane = ws.plane_context(pane, 0.5).unwrap();
    let start = ws.point_on_pane(pane, a.0, a.1).unwrap();
    let end = ws.point_on_pane(pane, b.0, b.1).unwrap();
    ws.apply(Command::Pointer {
        pane,
        event: PointerEvent::Press {
            at: start,
            plane,
            hit: None,
        },
    });
    ws.apply(Command::Pointer {
        pane,
        event: PointerEvent::Drag(end),
    });
    ws.apply(Command::Pointer {
        pane,
        event: PointerEvent::Release(end),
    });
    ws.tools.selected.expect("a measurement was created")
}

fn length_of(ws: &Workspace, id: MeasurementId) -> f64 {
    let m = ws.current_patient().unwrap().measurement(id).unwrap();
    match &m.measurement.shape {
        Shape::Length(l) => l.start.distance(l.end),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_measurement_becomes_a_target_and_the_response_is_live() {
    let mut ws = workspace();
    assert_eq!(ws.current_date(), Some(date("2024-01-08")));
    // 40 pixels × 0.5 mm = 20 mm
    let baseline = draw(&mut ws, 0, Tool::Length, (10.0, 20.0), (50.0, 20.0));
    assert!((length_of(&ws, baseline) - 20.0).abs() < 1e-9);
    ws.apply(Command::MakeLesion {
        measurement: baseline,
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    });
    assert_eq!(ws.selected_lesion.as_deref(), Some("T1"));
    let result = ws.assessment.result.clone().unwrap();
    assert_eq!(result.baseline_sum_mm, Some(20.0));

    // W8: the same lesion measures 12 mm -> -40 %: PR
    ws.apply(Command::ShowSeries { pane: 0, series: 1 });
    assert_eq!(ws.current_date(), Some(date("2024-03-04")));
    let follow_up = draw(&mut ws, 0, Tool::Length, (10.0, 20.0), (34.0, 20.0));
    ws.apply(Command::AttachToLesion {
        measurement: follow_up,
        lesion_id: "T1".into(),
    });
    let result = ws.assessment.result.clone().unwrap();
    let w8 = &result.timepoints[0];
    assert_eq!(w8.visit, "W8");
    assert_eq!(w8.sum_mm, Some(12.0));
    assert!((w8.change_from_baseline_pct.unwrap() + 40.0).abs() < 1e-9);
    assert_eq!(w8.overall_response, OverallResponse::Pr);

    // moving a handle of the W8 line changes the response at once
    let plane = ws.plane_context(0, 0.5).unwrap();
    let grab = ws.point_on_pane(0, 34.0, 20.0).unwrap();
    let to = ws.point_on_pane(0, 54.0, 20.0).unwrap();
    ws.apply(Command::SelectTool(Tool::Navigate));
    ws.apply(Command::Pointer {
        pane: 0,
        event: PointerEvent::Press {
            at: grab,
            plane,
            hit: Some(nadir::tools::Hit {
                id: follow_up,
                handle: Some(1),
            }),
        },
    });
    ws.apply(Command::Pointer {
        pane: 0,
        event: PointerEvent::Release(to),
    });
    let w8 = ws.assessment.result.clone().unwrap().timepoints[0].clone();
    assert_eq!(w8.sum_mm, Some(22.0));
    assert_eq!(w8.target_response.unwrap().code(), "SD");

    // one undo restores 12 mm and PR; redo brings 22 mm back
    ws.apply(Command::Undo);
    assert_eq!(
        ws.assessment.result.clone().unwrap().timepoints[0].sum_mm,
        Some(12.0)
    );
    ws.apply(Command::Redo);
    assert_eq!(
        ws.assessment.result.clone().unwrap().timepoints[0].sum_mm,
        Some(22.0)
    );
}

#[test]
fn statuses_without_drawing_feed_the_engine() {
    let mut ws = workspace();
    let id = draw(&mut ws, 0, Tool::Length, (10.0, 20.0), (50.0, 20.0));
    ws.apply(Command::MakeLesion {
        measurement: id,
        category: Category::Target,
        organ: "lung".into(),
        lymph_node: false,
    });
    let w8 = date("2024-03-04");
    ws.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: w8,
        finding: Some(Finding::Stated(LesionStatus::Absent)),
    });
    let tp = ws.assessment.result.clone().unwrap().timepoints[0].clone();
    assert_eq!(
        (tp.sum_mm, tp.overall_response),
        (Some(0.0), OverallResponse::Cr)
    );
    ws.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: w8,
        finding: Some(Finding::Stated(LesionStatus::NotEvaluable)),
    });
    let tp = ws.assessment.result.clone().unwrap().timepoints[0].clone();
    assert_eq!(tp.overall_response, OverallResponse::Ne);
    // an invalid status is refused with a message, nothing changes
    let before = ws.current_patient().unwrap().clone();
    ws.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: w8,
        finding: Some(Finding::Stated(LesionStatus::Equivocal)),
    });
    assert_eq!(ws.current_patient().unwrap(), &before);
    assert!(ws.messages.last().unwrap().contains("not valid"));
}

#[test]
fn baseline_conformance_warnings_are_reported_per_lesion() {
    let mut ws = workspace();
    // 16 px × 0.5 mm = 8 mm: below the 10 mm measurability minimum
    let id = draw(&mut ws, 0, Tool::Length, (10.0, 20.0), (26.0, 20.0));
    ws.apply(Command::MakeLesion {
        measurement: id,
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    });
    let warning = ws
        .assessment
        .warnings
        .iter()
        .find(|w| w.lesion_id.as_deref() == Some("T1"))
        .expect("a warning for T1");
    assert!(warning.to_string().contains("10 mm"), "{warning}");
}

#[test]
fn a_node_measured_bidirectionally_counts_its_short_axis() {
    let mut ws = workspace();
    let id = draw(&mut ws, 0, Tool::Bidirectional, (10.0, 30.0), (50.0, 30.0));
    let m = ws
        .current_patient()
        .unwrap()
        .measurement(id)
        .unwrap()
        .clone();
    let Shape::Bidirectional(b) = &m.measurement.shape else {
        panic!()
    };
    assert!(b.axes_cosine().abs() < 1e-9);
    assert!((b.long_length() - 20.0).abs() < 1e-9);
    ws.apply(Command::MakeLesion {
        measurement: id,
        category: Category::Target,
        organ: "lymph node".into(),
        lymph_node: true,
    });
    let result = ws.assessment.result.clone().unwrap();
    assert_eq!(result.target_ids, vec!["N1".to_string()]);
    assert!((result.baseline_sum_mm.unwrap() - b.short_length()).abs() < 1e-9);
}

#[test]
fn deleting_a_measured_finding_is_one_undoable_step() {
    let mut ws = workspace();
    let id = draw(&mut ws, 0, Tool::Length, (10.0, 20.0), (50.0, 20.0));
    ws.apply(Command::MakeLesion {
        measurement: id,
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    });
    ws.apply(Command::SelectMeasurement(Some(id)));
    ws.apply(Command::DeleteSelected);
    let p = ws.current_patient().unwrap();
    assert!(p.measurement(id).is_none());
    assert!(p.finding("T1", date("2024-01-08")).is_none());
    ws.apply(Command::Undo);
    let p = ws.current_patient().unwrap();
    assert!(p.measurement(id).is_some());
    assert_eq!(
        p.finding("T1", date("2024-01-08")),
        Some(&Finding::Measured(id))
    );
}

#[test]
fn the_imported_sample_table_gives_the_cli_assessment_and_exports_back() {
    let mut ws = Workspace::default();
    let mut bl = support::series("bl", "20240108", "f1", 32, [1.0, 1.0], 0.0, 4);
    std::sync::Arc::make_mut(&mut bl.volume).meta.patient.id = "NADIR-SYN-001".into();
    ws.add_series(bl);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans/lesions.csv");
    ws.apply(Command::ImportLesionTable(path.clone()));
    let table = read_lesion_table(std::fs::File::open(&path).unwrap(), "lesions.csv").unwrap();
    let (expected, _) = assess_patient(&table.records, &AssessOptions::default());
    assert_eq!(ws.assessment.result.as_ref(), Some(&expected));
    assert_eq!(expected.best_overall_response, OverallResponse::Pr);
    // export -> read again -> the same assessment
    let csv = ws.lesion_table_csv().unwrap();
    let again = parse_lesion_table(csv.as_bytes(), "export.csv").unwrap();
    assert_eq!(
        assess_patient(&again.records, &AssessOptions::default()).0,
        expected
    );
    // the import is one undo step
    ws.apply(Command::Undo);
    assert!(ws.current_patient().unwrap().lesions.is_empty());
}

#[test]
fn compare_links_by_offset_when_frames_of_reference_differ() {
    let mut ws = workspace();
    ws.apply(Command::ShowSeries { pane: 0, series: 1 });
    ws.apply(Command::SetLayout(Layout::Compare));
    assert_eq!(ws.panes[0].series, Some(0), "prior = baseline");
    assert_eq!(ws.panes[1].series, Some(1), "current = W8");
    assert!(
        !ws.is_linked(),
        "different frames of reference: not linked until synced"
    );
    // align anatomy: current slice 4 (z = 120) shows what prior slice 2 (z = 10) shows
    ws.apply(Command::SetSlice { pane: 1, index: 4 });
    ws.apply(Command::SetSlice { pane: 0, index: 2 });
    ws.apply(Command::SyncHere);
    assert_eq!(ws.link.offset_mm, Some(110.0));
    ws.apply(Command::Scroll { pane: 1, delta: 3 });
    assert_eq!(ws.series[1].view.index[0], 7);
    assert_eq!(ws.series[0].view.index[0], 5, "the prior pane follows");
    ws.apply(Command::SetLinked(false));
    ws.apply(Command::Scroll { pane: 1, delta: -1 });
    assert_eq!(ws.series[0].view.index[0], 5, "unlinked: stays");
}

#[test]
fn compare_links_at_once_with_a_shared_frame_of_reference_and_jumps_to_lesions() {
    let mut ws = Workspace::default();
    ws.add_series(support::series(
        "a",
        "20240108",
        "same",
        64,
        [0.5, 0.5],
        0.0,
        10,
    ));
    ws.add_series(support::series(
        "b",
        "20240304",
        "same",
        64,
        [0.5, 0.5],
        20.0,
        10,
    ));
    ws.apply(Command::SetSlice { pane: 0, index: 7 }); // z = 35 on the baseline
    let id = draw(&mut ws, 0, Tool::Length, (10.0, 20.0), (50.0, 20.0));
    ws.apply(Command::MakeLesion {
        measurement: id,
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    });
    ws.apply(Command::ShowSeries { pane: 0, series: 1 });
    ws.apply(Command::SetLayout(Layout::Compare));
    assert!(ws.is_linked());
    ws.apply(Command::SetSlice { pane: 1, index: 0 });
    ws.apply(Command::SetSlice { pane: 0, index: 0 });
    ws.apply(Command::SelectLesion("T1".into()));
    assert_eq!(
        ws.series[0].view.index[0], 7,
        "prior pane at the measurement"
    );
    assert_eq!(
        ws.series[1].view.index[0], 3,
        "current pane at the same z (35 mm)"
    );
}

#[test]
fn a_drawn_measurement_keeps_its_patient_position() {
    let mut ws = workspace();
    ws.apply(Command::SetSlice { pane: 0, index: 3 });
    let id = draw(&mut ws, 0, Tool::Length, (0.0, 0.0), (10.0, 0.0));
    let m = ws
        .current_patient()
        .unwrap()
        .measurement(id)
        .unwrap()
        .clone();
    let Shape::Length(l) = m.measurement.shape else {
        panic!()
    };
    assert_eq!(l.start, Vec3::new(0.0, 0.0, 15.0));
    assert_eq!(
        m.measurement.image.sop_instance_uid.as_deref(),
        Some("ct-bl.3")
    );
    // zoom and pan never change it
    ws.apply(Command::Zoom {
        pane: 0,
        factor: 3.0,
    });
    ws.apply(Command::Pan {
        pane: 0,
        delta: [40.0, 10.0],
    });
    assert_eq!(ws.current_patient().unwrap().measurement(id).unwrap(), &m);
}

#[test]
fn linked_compare_panes_share_zoom_pan_and_window() {
    let mut ws = workspace();
    ws.apply(Command::SetLayout(Layout::Compare));
    assert!(ws.link.enabled);
    ws.apply(Command::ZoomAt {
        pane: 1,
        factor: 2.0,
        anchor: [10.0, 0.0],
    });
    ws.apply(Command::Pan {
        pane: 1,
        delta: [5.0, -3.0],
    });
    assert_eq!(ws.panes[0].zoom, ws.panes[1].zoom);
    assert_eq!(ws.panes[0].pan, ws.panes[1].pan);
    let window = nadir::volume::Window {
        center: 90.0,
        width: 150.0,
    };
    ws.apply(Command::SetWindow { pane: 0, window });
    assert_eq!(ws.pane_series(1).unwrap().view.window, window);
    // unlinked: each pane on its own
    ws.apply(Command::SetLinked(false));
    ws.apply(Command::SetZoom { pane: 0, zoom: 1.0 });
    assert_ne!(ws.panes[0].zoom, ws.panes[1].zoom);
}

#[test]
fn a_lesion_not_yet_measured_at_this_visit_is_shown_where_the_sync_offset_expects_it() {
    // other frames of reference; the W8 series starts 100 mm higher, so the
    // same anatomy lies 100 mm higher there (current − prior = +100 mm)
    let mut ws = workspace();
    ws.apply(Command::SetSlice { pane: 0, index: 3 });
    let m = draw(&mut ws, 0, Tool::Length, (10.0, 20.0), (50.0, 20.0));
    ws.apply(Command::MakeLesion {
        measurement: m,
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    });
    ws.apply(Command::ShowSeries { pane: 0, series: 1 });
    ws.apply(Command::SetSlice { pane: 0, index: 8 });
    // without an offset nothing can be said: the pane stays
    ws.apply(Command::SelectLesion("T1".into()));
    assert_eq!(
        ws.pane_series(0)
            .unwrap()
            .view
            .index_of(nadir::volume::plane::Plane::Native),
        8
    );
    ws.link.offset_mm = Some(100.0);
    ws.apply(Command::SelectLesion("T1".into()));
    let view = ws.pane_series(0).unwrap().view;
    assert_eq!(
        view.index_of(nadir::volume::plane::Plane::Native),
        3,
        "same anatomy"
    );
    assert_eq!(view.index_of(nadir::volume::plane::Plane::FixedRow), 20);
    assert_eq!(view.index_of(nadir::volume::plane::Plane::FixedColumn), 30);
}
