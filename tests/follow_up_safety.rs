//! Follow-up defaults that cannot record the wrong lesion, at the session
//! level: no target or non-target after baseline, no lesion without an
//! organ, the attach default (selected lesion, else nearest in patient
//! position), the confirmations (far away, another size class), and
//! diameters recorded at the 0.1 mm the reader sees.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use nadir::recist::Category;
use nadir::session::{AttachConcern, Command, PointerEvent, Workspace};
use nadir::tools::Tool;
use nadir::tracking::{MeasurementId, recist_diameters_mm};

/// Baseline and W8 on one frame of reference, 0.5 mm pixels.
fn workspace(frame_w8: &str) -> Workspace {
    let mut ws = Workspace::default();
    ws.add_series(support::series(
        "bl",
        "20240108",
        "f1",
        128,
        [0.5, 0.5],
        0.0,
        10,
    ));
    ws.add_series(support::series(
        "w8",
        "20240304",
        frame_w8,
        128,
        [0.5, 0.5],
        0.0,
        10,
    ));
    ws
}

fn draw(ws: &mut Workspace, a: (f64, f64), b: (f64, f64)) -> MeasurementId {
    ws.apply(Command::SelectTool(Tool::Length));
    let plane = ws.plane_context(0, 0.5).unwrap();
    let start = ws.point_on_pane(0, a.0, a.1).unwrap();
    let end = ws.point_on_pane(0, b.0, b.1).unwrap();
    for event in [
        PointerEvent::Press {
            at: start,
            plane,
            hit: None,
        },
        PointerEvent::Drag(end),
        PointerEvent::Release(end),
    ] {
        ws.apply(Command::Pointer { pane: 0, event });
    }
    ws.tools.selected.unwrap()
}

fn make(ws: &mut Workspace, m: MeasurementId, category: Category, organ: &str, node: bool) {
    ws.apply(Command::MakeLesion {
        measurement: m,
        category,
        organ: organ.into(),
        lymph_node: node,
    });
}

/// Baseline: T1 (liver) at the left, N1 (node) 50 mm to the right.
fn baseline_two_lesions(frame_w8: &str) -> Workspace {
    let mut ws = workspace(frame_w8);
    let t1 = draw(&mut ws, (10.0, 20.0), (50.0, 20.0));
    make(&mut ws, t1, Category::Target, "liver", false);
    let n1 = draw(&mut ws, (110.0, 20.0), (140.0, 20.0));
    make(&mut ws, n1, Category::Target, "lymph node", true);
    ws.apply(Command::ShowSeries { pane: 0, series: 1 });
    ws
}

#[test]
fn no_target_or_non_target_is_made_after_baseline() {
    let mut ws = baseline_two_lesions("f1");
    let m = draw(&mut ws, (10.0, 80.0), (40.0, 80.0));
    for category in [Category::Target, Category::NonTarget] {
        make(&mut ws, m, category, "lung", false);
        let p = ws.current_patient().unwrap();
        assert!(p.lesion_of_measurement(m).is_none(), "{category:?} refused");
        assert!(
            ws.messages.last().unwrap().contains("after baseline"),
            "{:?}",
            ws.messages
        );
    }
    make(&mut ws, m, Category::New, "lung", false);
    let p = ws.current_patient().unwrap();
    assert_eq!(p.lesion_of_measurement(m).unwrap().id, "NL1");
}

#[test]
fn a_new_lesion_is_not_made_at_baseline() {
    let mut ws = workspace("f1");
    let m = draw(&mut ws, (10.0, 20.0), (50.0, 20.0));
    make(&mut ws, m, Category::New, "lung", false);
    assert!(
        ws.current_patient()
            .unwrap()
            .lesion_of_measurement(m)
            .is_none()
    );
}

#[test]
fn no_lesion_without_an_organ() {
    let mut ws = workspace("f1");
    let m = draw(&mut ws, (10.0, 20.0), (50.0, 20.0));
    make(&mut ws, m, Category::Target, "  ", false);
    assert!(ws.current_patient().unwrap().lesions.is_empty());
    assert!(ws.messages.last().unwrap().contains("organ"));
}

#[test]
fn attach_defaults_to_the_selected_lesion_else_the_nearest() {
    let mut ws = baseline_two_lesions("f1");
    // selected in the table: that one, wherever the measurement is
    ws.apply(Command::SelectLesion("T1".into()));
    let near_n1 = draw(&mut ws, (112.0, 22.0), (138.0, 22.0));
    assert_eq!(ws.attach_suggestion(near_n1).as_deref(), Some("T1"));
    // nothing selected: the nearest in patient position
    ws.selected_lesion = None;
    assert_eq!(ws.attach_suggestion(near_n1).as_deref(), Some("N1"));
    let near_t1 = draw(&mut ws, (12.0, 24.0), (46.0, 24.0));
    ws.selected_lesion = None;
    assert_eq!(ws.attach_suggestion(near_t1).as_deref(), Some("T1"));
}

#[test]
fn attaching_far_away_or_at_another_size_asks_for_confirmation() {
    let mut ws = baseline_two_lesions("f1");
    // T1 at baseline: 20 mm long, centred at (15 mm, 10 mm)
    let same_place = draw(&mut ws, (12.0, 20.0), (48.0, 20.0));
    assert!(ws.attach_concerns(same_place, "T1").is_empty());
    // 70 px × 0.5 mm = 35 mm away, same size
    let far = draw(&mut ws, (10.0, 90.0), (50.0, 90.0));
    let concerns = ws.attach_concerns(far, "T1");
    assert!(
        matches!(concerns.as_slice(), [AttachConcern::Far { distance_mm, .. }] if (*distance_mm - 35.0).abs() < 0.5),
        "{concerns:?}"
    );
    // 29 mm away: no question
    let near = draw(&mut ws, (10.0, 78.0), (50.0, 78.0));
    assert!(ws.attach_concerns(near, "T1").is_empty(), "29 mm");
    // same place, 5 mm instead of 20 mm: another size class
    let small = draw(&mut ws, (25.0, 20.0), (35.0, 20.0));
    assert!(matches!(
        ws.attach_concerns(small, "T1").as_slice(),
        [AttachConcern::SizeClass { .. }]
    ));
}

#[test]
fn other_frames_of_reference_compare_after_the_sync_offset_only() {
    let mut ws = baseline_two_lesions("f2");
    let far = draw(&mut ws, (10.0, 90.0), (50.0, 90.0));
    // no common frame and no sync offset: position cannot be compared
    assert!(ws.attach_concerns(far, "T1").is_empty());
    ws.link.offset_mm = Some(0.0);
    assert!(matches!(
        ws.attach_concerns(far, "T1").as_slice(),
        [AttachConcern::Far { .. }]
    ));
}

#[test]
fn diameters_are_recorded_at_the_tenth_of_a_millimetre_shown() {
    let mut ws = workspace("f1");
    // 33.37 px × 0.5 mm = 16.685 mm -> 16.7 mm
    let m = draw(&mut ws, (10.0, 20.0), (43.37, 20.0));
    let stored = ws
        .current_patient()
        .unwrap()
        .measurement(m)
        .unwrap()
        .clone();
    let (long, _) = recist_diameters_mm(&stored.measurement, false).unwrap();
    assert_eq!(long, Some(16.7));
    make(&mut ws, m, Category::Target, "liver", false);
    let result = ws.assessment.result.clone().unwrap();
    assert_eq!(result.baseline_sum_mm, Some(16.7));
    let csv = ws.lesion_table_csv().unwrap();
    assert!(csv.contains("16.7") && !csv.contains("16.68"), "{csv}");
}

#[test]
fn reformats_open_through_the_selected_lesion() {
    use nadir::session::Layout;
    use nadir::volume::plane::Plane;
    let mut ws = workspace("f1");
    // a lesion drawn on slice 2, columns 100-120, row 30
    ws.apply(Command::SetSlice { pane: 0, index: 2 });
    let m = draw(&mut ws, (100.0, 30.0), (120.0, 30.0));
    make(&mut ws, m, Category::Target, "liver", false);
    ws.apply(Command::SetSlice { pane: 0, index: 7 });
    ws.apply(Command::SetLayout(Layout::Reformats));
    let view = &ws.series[0].view;
    assert_eq!(view.index_of(Plane::Native), 2, "axial through the lesion");
    assert_eq!(
        view.index_of(Plane::FixedRow),
        30,
        "coronal through its row"
    );
    assert_eq!(
        view.index_of(Plane::FixedColumn),
        110,
        "sagittal through its centre"
    );
}
