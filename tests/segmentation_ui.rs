//! The segment tool driven through the real workstation panels with
//! egui_kittest on `sample_scans`: G selects it, a click on the baseline T2
//! (liver) grows its mask for the selected lesion, the lesion panel shows
//! the volume, "Propose diameters" attaches a bidirectional measurement,
//! and Ctrl+Z undoes it as one step.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use egui::{Key, Modifiers, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nadir::geom::Vec3;
use nadir::measure::Shape;
use nadir::recist::{Category, Date};
use nadir::session::{Command, LoadEvent, LoadJob, Workspace};
use nadir::tools::Tool;
use nadir::tracking::{Edit, Finding, Lesion};
use nadir::ui::{UiState, workstation_ui};
use nadir::volume::plane::{Plane, PlaneFrame};

struct App {
    workspace: Workspace,
    ui: UiState,
}

fn sample_workspace() -> Workspace {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans");
    let mut job = LoadJob::start(&folder).unwrap();
    let mut workspace = Workspace::default();
    let start = Instant::now();
    while !job.is_finished() {
        for event in job.poll() {
            if let LoadEvent::Loaded(series) = event {
                workspace.add_series(*series);
            }
        }
        assert!(start.elapsed() < Duration::from_secs(120), "stuck");
        std::thread::sleep(Duration::from_millis(5));
    }
    for event in job.poll() {
        if let LoadEvent::Loaded(series) = event {
            workspace.add_series(*series);
        }
    }
    workspace
}

fn truth() -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans/truth.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn growing_t2_on_the_baseline_ct_and_proposing_its_diameters() {
    let truth = truth();
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
    let mut workspace = sample_workspace();
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
    let app = App {
        workspace,
        ui: UiState::default(),
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
        .build_ui_state(
            |ui, app: &mut App| {
                let commands = workstation_ui(ui, &app.workspace, &mut app.ui);
                for c in commands {
                    app.workspace.apply(c);
                }
            },
            app,
        );
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
    // the outline is drawn on the pane's plane
    let volume = h.state().workspace.series[series].volume().clone();
    let frame = PlaneFrame::new(&volume, Plane::Native, s.round() as usize).unwrap();
    assert!(!nadir::segment::outline(&seg.mask, &frame).is_empty());
    // the lesion panel shows the volume and proposes the diameters
    assert!(h.query_all_by_label_contains(" mL").next().is_some());
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
    // one undo step removes the proposal, the mask stays
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    let patient = h.state().workspace.current_patient().unwrap();
    assert!(patient.finding("T2", date).is_none());
    assert!(patient.segmentation("T2", date).is_some());
}
