//! The workstation UI driven with egui_kittest (no window, no GPU): pointer
//! drags and keys go through the real panels, commands go through the
//! session, and the tests assert on the session state.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui::{Key, Modifiers, Pos2};
use egui_kittest::Harness;
use nadir::measure::Shape;
use nadir::session::Workspace;
use nadir::tracking::StoredMeasurement;
use support::ui::App;

fn harness() -> Harness<'static, App> {
    let mut workspace = Workspace::default();
    // non-square pixels: rows 0.8 mm, columns 0.6 mm
    workspace.add_series(support::series(
        "s1",
        "20240108",
        "f1",
        128,
        [0.8, 0.6],
        0.0,
        12,
    ));
    support::ui::harness(workspace)
}

/// Screen point of plane pixel (u, v) in pane 0.
fn screen(h: &Harness<'_, App>, u: f64, v: f64) -> Pos2 {
    h.state().ui.panes[0]
        .last_map
        .expect("pane drawn")
        .screen_from_plane(u, v)
}

fn drag(h: &mut Harness<'_, App>, from: Pos2, to: Pos2) {
    h.hover_at(from);
    h.drag_at(from);
    h.run();
    let mid = from + (to - from) * 0.5;
    h.hover_at(mid);
    h.run();
    h.hover_at(to);
    h.run();
    h.drop_at(to);
    h.run();
}

fn measurements(h: &Harness<'_, App>) -> Vec<StoredMeasurement> {
    h.state()
        .workspace
        .current_patient()
        .map(|p| p.measurements.clone())
        .unwrap_or_default()
}

#[test]
fn a_length_drag_records_millimetres_from_the_real_spacing() {
    let mut h = harness();
    h.run();
    h.key_press(Key::L);
    h.run();
    assert_eq!(h.state().workspace.tools.active, nadir::tools::Tool::Length);
    // 50 columns × 0.6 mm = 30 mm across; 40 rows × 0.8 mm = 32 mm down
    let (a, b) = (screen(&h, 20.0, 30.0), screen(&h, 70.0, 70.0));
    // true aspect: a row step is 0.8/0.6 times a column step on screen
    let map = h.state().ui.panes[0].last_map.unwrap();
    let ratio = map.image_rect.height() / map.image_rect.width();
    assert!((ratio - 0.8 / 0.6).abs() < 1e-3, "{ratio}");
    drag(&mut h, a, b);
    let ms = measurements(&h);
    assert_eq!(ms.len(), 1);
    let Shape::Length(l) = &ms[0].measurement.shape else {
        panic!()
    };
    let mm = l.start.distance(l.end);
    let expected = (30.0f64.powi(2) + 32.0f64.powi(2)).sqrt();
    // within a fraction of a screen pixel
    assert!((mm - expected).abs() < 0.5, "{mm} vs {expected}");
    assert!(ms[0].measurement.spacing_known);
}

#[test]
fn escape_cancels_a_measurement_being_drawn() {
    let mut h = harness();
    h.run();
    h.key_press(Key::B);
    h.run();
    let (a, b) = (screen(&h, 20.0, 30.0), screen(&h, 80.0, 30.0));
    h.hover_at(a);
    h.drag_at(a);
    h.run();
    h.hover_at(b);
    h.run();
    assert!(h.state().workspace.tools.is_busy(), "drawing in progress");
    h.key_press(Key::Escape);
    h.run();
    h.drop_at(b);
    h.run();
    assert!(measurements(&h).is_empty());
    assert!(!h.state().workspace.tools.is_busy());
}

#[test]
fn undo_and_redo_by_keyboard() {
    let mut h = harness();
    h.run();
    h.key_press(Key::L);
    let (a, b) = (screen(&h, 20.0, 30.0), screen(&h, 60.0, 30.0));
    drag(&mut h, a, b);
    assert_eq!(measurements(&h).len(), 1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    assert!(measurements(&h).is_empty(), "undo removes it");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run();
    assert_eq!(measurements(&h).len(), 1, "redo restores it");
}

#[test]
fn a_dragged_handle_edits_and_the_bidirectional_stays_perpendicular() {
    let mut h = harness();
    h.run();
    h.key_press(Key::B);
    let (a, b) = (screen(&h, 20.0, 60.0), screen(&h, 100.0, 60.0));
    drag(&mut h, a, b);
    let ms = measurements(&h);
    let Shape::Bidirectional(b) = &ms[0].measurement.shape else {
        panic!()
    };
    assert!((b.long_length() - 80.0 * 0.6).abs() < 0.5);
    // drag the far short-axis end further out and along the long axis
    let entry = &h.state().workspace.series[0];
    let frame = entry.frame(nadir::volume::plane::Plane::Native).unwrap();
    let (u, v, _) = entry
        .geometry
        .plane_from_point(&frame, b.short_axis()[1])
        .unwrap();
    let handle = screen(&h, u, v);
    drag(&mut h, handle, handle + egui::vec2(25.0, 30.0));
    let ms = measurements(&h);
    assert_eq!(ms.len(), 1, "edited, not a new one");
    let Shape::Bidirectional(after) = &ms[0].measurement.shape else {
        panic!()
    };
    assert_ne!(after, b, "the handle moved");
    assert!(
        after.axes_cosine().abs() < 1e-9,
        "perpendicular: cos = {}",
        after.axes_cosine()
    );
    assert!(after.short_length() > b.short_length());
    assert!(after.short_length() <= after.long_length());
    // the edit is one undo step
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    let Shape::Bidirectional(undone) = &measurements(&h)[0].measurement.shape else {
        panic!()
    };
    assert_eq!(undone, b);
}

#[test]
fn scrolling_and_window_presets_by_keyboard() {
    let mut h = harness();
    h.run();
    let start = h.state().workspace.series[0].view.index[0];
    h.key_press(Key::ArrowDown);
    h.run();
    assert_eq!(h.state().workspace.series[0].view.index[0], start + 1);
    h.key_press(Key::PageUp);
    h.run();
    assert_eq!(h.state().workspace.series[0].view.index[0], 0);
    h.key_press(Key::Num2);
    h.run();
    assert_eq!(
        h.state().workspace.series[0].view.window,
        nadir::volume::Window::LUNG
    );
}

#[test]
fn idle_means_no_repaint_and_no_texture_upload() {
    let mut h = harness();
    h.run();
    let uploads = h.state().ui.panes[0].uploads;
    h.run();
    h.step();
    assert_eq!(
        h.state().ui.panes[0].uploads,
        uploads,
        "same slice and window: no upload"
    );
    assert!(
        !h.ctx.has_requested_repaint(),
        "nothing to animate: no repaint"
    );
    h.key_press(Key::ArrowDown);
    h.run();
    assert_eq!(
        h.state().ui.panes[0].uploads,
        uploads + 1,
        "a new slice: one upload"
    );
}
