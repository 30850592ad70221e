//! The segment tool driven through the real workstation panels with
//! egui_kittest on `sample_scans`: G selects it, a click on the baseline T2
//! (liver) grows its mask for the selected lesion, the lesion panel shows
//! the volume, "Fit ellipsoid" fits it on a background thread and shows the
//! result, "Report this volume" makes it the reported volume, "Propose
//! diameters" attaches a bidirectional measurement (from the accepted fit),
//! Ctrl+Z undoes it as one step, and an erased stroke makes the fit stale
//! and the count the reported volume again.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui::{Key, Modifiers, Pos2};
use egui_kittest::kittest::Queryable;
use nadir::geom::Vec3;
use nadir::measure::Shape;
use nadir::recist::{Category, Date};
use nadir::session::Command;
use nadir::tools::Tool;
use nadir::tracking::{Edit, Finding, Lesion};
use nadir::volume::plane::{Plane, PlaneFrame};

/// The status bar's last message.
fn status(h: &egui_kittest::Harness<'_, support::ui::App>) -> String {
    h.state()
        .workspace
        .messages
        .last()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn growing_t2_on_the_baseline_ct_and_proposing_its_diameters() {
    let truth = support::sample_truth();
    let lesion = truth["lesions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["lesion_id"] == "T2" && l["visit"] == "baseline")
        .unwrap()
        .clone();
    let uid = lesion["ct_series_instance_uid"]
        .as_str()
        .unwrap()
        .to_string();
    let centre: Vec<f64> = lesion["ct_centre_mm"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let centre = Vec3::new(centre[0], centre[1], centre[2]);
    let mut workspace = support::sample_workspace();
    let series = workspace
        .series
        .iter()
        .position(|e| e.uid() == uid)
        .unwrap();
    workspace.apply(Command::ShowSeries { pane: 0, series });
    let [c, r, s] = workspace.series[series]
        .geometry
        .geometry
        .voxel_from_patient(centre)
        .unwrap();
    workspace.apply(Command::SetSlice {
        pane: 0,
        index: s.round() as usize,
    });
    workspace.edit(Edit::PutLesion(Lesion {
        id: "T2".into(),
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    }));
    workspace.apply(Command::SelectLesion("T2".into()));
    let mut h = support::ui::harness(workspace);
    h.run();
    h.key_press(Key::G);
    h.run();
    assert_eq!(h.state().workspace.tools.active, Tool::Segment);
    let map = h.state().ui.panes[0].last_map.expect("pane drawn");
    assert_eq!(map.frame.plane, Plane::Native);
    let at: Pos2 = map.screen_from_plane(c, r);
    h.hover_at(at);
    h.drag_at(at);
    h.run();
    h.drop_at(at);
    h.run();
    h.run();
    let date = Date::parse_iso("2024-01-08").unwrap();
    let seg = h
        .state()
        .workspace
        .segmentation_of("T2", date)
        .unwrap_or_else(|| panic!("no mask: {:?}", h.state().workspace.messages))
        .clone();
    let truth_ml = lesion["volume_ml"].as_f64().unwrap();
    let ml = seg.volume_ml().unwrap();
    assert!((ml / truth_ml - 1.0).abs() < 0.10, "{ml} vs {truth_ml}");
    // the status bar says what was grown (an earlier warning does not stay)
    let last = status(&h);
    assert_eq!(
        last,
        format!(
            "T2 at 2024-01-08: grown, {ml:.2} mL, {} voxels.",
            seg.mask.count()
        )
    );
    assert!(h.query_by_label_contains(": grown, ").is_some());
    // the outline is drawn on the pane's plane
    let volume = h.state().workspace.series[series].volume().clone();
    let frame = PlaneFrame::new(&volume, Plane::Native, s.round() as usize).unwrap();
    assert!(!nadir::segment::outline(&seg.mask, &frame).is_empty());
    // the lesion panel shows the volume and proposes the diameters
    assert!(h.query_all_by_label_contains(" mL").next().is_some());
    // The experimental partial-volume estimate is shown beside the count.
    assert!(
        h.query_by_label_contains("partial-volume estimate")
            .is_some(),
        "partial-volume estimate shown"
    );
    // "Fit ellipsoid" runs the fit on its own thread; the panel shows the
    // result when it lands (the workstation keeps drawing meanwhile)
    h.get_by_label("Fit ellipsoid").click();
    h.step();
    let started = std::time::Instant::now();
    while h.query_by_label_contains("ellipsoid fit ").is_none() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "no fit result shown"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        // a spinner repaints every frame: step, not run
        h.step();
    }
    h.run();
    // (a label's text is its accesskit value)
    let shown = h
        .get_by_label_contains("ellipsoid fit ")
        .value()
        .unwrap_or_default();
    assert!(shown.contains("· accepted"), "{shown}");
    let fitted_ml: f64 = shown
        .trim_start_matches("ellipsoid fit ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (fitted_ml / truth_ml - 1.0).abs() < 0.05,
        "{shown} vs {truth_ml}"
    );
    // the reader reports the fit's volume: the panel and the lesion table
    // carry it from then on
    h.get_by_label("Report this volume").click();
    h.run();
    let reported = h
        .state()
        .workspace
        .segmentation_volume_ml("T2", date)
        .unwrap();
    assert!((reported - fitted_ml).abs() < 0.01, "{reported} vs {shown}");
    assert!(h.query_by_label_contains("(ellipsoid fit)").is_some());
    assert!(h.query_by_label("Report the voxel count").is_some());
    h.get_by_label("Propose diameters").click();
    h.run();
    let patient = h.state().workspace.current_patient().unwrap().clone();
    let Some(Finding::Measured(id)) = patient.finding("T2", date) else {
        panic!("not measured: {:?}", h.state().workspace.messages);
    };
    let Shape::Bidirectional(b) = &patient.measurement(*id).unwrap().measurement.shape else {
        panic!("not bidirectional")
    };
    let long = lesion["long_axis_mm"].as_f64().unwrap();
    assert!((b.long_length() - long).abs() <= 1.5, "{}", b.long_length());
    // with the fit accepted, the proposal is the fitted ellipsoid's section
    let said = status(&h);
    assert!(said.contains("from the ellipsoid fit"), "{said}");
    // one undo step removes the proposal, the mask stays
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    let patient = h.state().workspace.current_patient().unwrap();
    assert!(patient.finding("T2", date).is_none());
    assert!(patient.segmentation("T2", date).is_some());
    // An edit makes the fit stale: the panel offers the fit again, and a
    // fit still running when the mask changes is cancelled, its result
    // never shown for the edited mask.
    // (stepped, not run: a spinner repaints every frame)
    let erase_at = |h: &mut egui_kittest::Harness<'_, support::ui::App>, at: Pos2| {
        h.hover_at(at);
        h.drag_at(at);
        h.step();
        h.step();
        h.drop_at(at);
        h.step();
        h.step();
    };
    let count = |h: &egui_kittest::Harness<'_, support::ui::App>| {
        h.state()
            .workspace
            .segmentation_of("T2", date)
            .map(|s| s.mask.count())
    };
    h.key_press(Key::X);
    h.run();
    assert_eq!(h.state().workspace.tools.active, Tool::Eraser);
    let before = count(&h);
    erase_at(&mut h, at);
    assert!(count(&h) < before, "the eraser took voxels away");
    assert!(h.query_by_label_contains("ellipsoid fit ").is_none());
    // and the reported volume is the edited mask's count again
    assert!(h.query_by_label_contains("(ellipsoid fit)").is_none());
    h.get_by_label("Fit ellipsoid").click();
    h.step();
    h.step();
    assert!(h.query_by_label_contains("fitting an ellipsoid").is_some());
    let before = count(&h);
    erase_at(&mut h, at + egui::vec2(6.0, 0.0));
    assert!(count(&h) < before, "the eraser took voxels away");
    for _ in 0..20 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    assert!(h.query_by_label_contains("ellipsoid fit ").is_none());
    assert!(h.query_by_label_contains("fitting an ellipsoid").is_none());
    assert!(h.query_by_label("Fit ellipsoid").is_some());
}
