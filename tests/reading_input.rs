//! The reader's hands, as the platform sends them: raw `MouseWheel` events
//! with their unit and modifiers, `Zoom` (pinch), pointer presses and moves,
//! key presses. Nothing here sets state egui derives from input (no
//! `zoom_delta`, no smoothed scroll): a test that did passed while Ctrl+wheel
//! did nothing.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui::{Event, Key, Modifiers, MouseWheelUnit, Pos2, TouchPhase, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nadir::measure::Shape;
use nadir::recist::Category;
use nadir::session::{Command, Workspace};
use nadir::volume::plane::Plane;
use support::ui::{App, harness, screen};

const PANE: usize = 0;

fn one_series(instance_numbers_descending: bool) -> Harness<'static, App> {
    let mut workspace = Workspace::default();
    let mut loaded = support::series("s1", "20240108", "f1", 128, [0.7, 0.7], 0.0, 40);
    let volume = std::sync::Arc::make_mut(&mut loaded.volume);
    volume.instance_numbers = if instance_numbers_descending {
        (1..=40).rev().collect()
    } else {
        (1..=40).collect()
    };
    workspace.add_series(loaded);
    let mut h = harness(workspace);
    h.run();
    h
}

fn centre(h: &Harness<'_, App>) -> Pos2 {
    h.state().ui.panes[PANE]
        .last_map
        .expect("pane drawn")
        .image_rect
        .center()
}

fn index(h: &Harness<'_, App>) -> usize {
    h.state().workspace.series[0].view.index_of(Plane::Native)
}

fn zoom(h: &Harness<'_, App>) -> f32 {
    h.state().workspace.panes[PANE].zoom
}

fn wheel(h: &mut Harness<'_, App>, unit: MouseWheelUnit, dy: f32, modifiers: Modifiers) {
    h.event(Event::MouseWheel {
        unit,
        delta: Vec2::new(0.0, dy),
        phase: TouchPhase::Move,
        source: match unit {
            MouseWheelUnit::Point => egui::MouseWheelSource::Trackpad,
            _ => egui::MouseWheelSource::Wheel,
        },
        modifiers,
    });
}

/// Runs `frames` frames (a notch arrives in the first; the rest are what a
/// 30 or 144 Hz display draws while egui's smoothed scroll would still run).
fn frames(h: &mut Harness<'_, App>, frames: usize) {
    for _ in 0..frames {
        h.step();
    }
}

#[test]
fn one_wheel_notch_is_exactly_one_image_at_30_and_144_frames_per_second() {
    for per_second in [30usize, 144] {
        let mut h = one_series(false);
        let p = centre(&h);
        h.hover_at(p);
        h.run();
        let start = index(&h);
        for notch in 1..=3 {
            // wheel down: egui's delta points the content up (negative y)
            wheel(&mut h, MouseWheelUnit::Line, -1.0, Modifiers::NONE);
            frames(&mut h, per_second / 4);
            assert_eq!(index(&h), start + notch, "{per_second} fps, notch {notch}");
        }
        wheel(&mut h, MouseWheelUnit::Line, 1.0, Modifiers::NONE);
        frames(&mut h, per_second / 4);
        assert_eq!(index(&h), start + 2, "wheel up goes back one image");
    }
}

#[test]
fn wheel_down_is_the_next_image_by_instance_number_and_the_overlay_says_so() {
    // slices stored feet to head, numbered head to feet (the real TCIA CT)
    let mut h = one_series(true);
    h.hover_at(centre(&h));
    h.run();
    let start = index(&h);
    let volume = h.state().workspace.series[0].volume().clone();
    let before = volume.image_number(start);
    wheel(&mut h, MouseWheelUnit::Line, -1.0, Modifiers::NONE);
    h.run();
    let after = volume.image_number(index(&h));
    assert_eq!(after, before + 1, "wheel down = next image number");
    assert_eq!(index(&h) + 1, start, "which is the previous stored slice");
    // the overlay numbers by InstanceNumber
    let label = format!("Im {after}/40");
    assert!(
        h.query_by_label_contains(&label).is_some() || overlay_text(&h).contains(&label),
        "overlay shows {label}: {}",
        overlay_text(&h)
    );
    // the Down key steps the same way
    h.key_press(Key::ArrowDown);
    h.run();
    assert_eq!(volume.image_number(index(&h)), after + 1);
    // and the setting flips the wheel
    h.state_mut()
        .workspace
        .apply(Command::SetWheelReversed(true));
    wheel(&mut h, MouseWheelUnit::Line, -1.0, Modifiers::NONE);
    h.run();
    assert_eq!(volume.image_number(index(&h)), after);
}

/// The text painted on the pane (the overlay is painted, not a widget).
fn overlay_text(h: &Harness<'_, App>) -> String {
    let mut out = String::new();
    for clipped in &h.output().shapes {
        collect_text(&clipped.shape, &mut out);
    }
    out
}

fn collect_text(shape: &egui::Shape, out: &mut String) {
    match shape {
        egui::Shape::Text(t) => {
            out.push_str(t.galley.text());
            out.push('\n');
        }
        egui::Shape::Vec(v) => v.iter().for_each(|s| collect_text(s, out)),
        _ => {}
    }
}

#[test]
fn trackpad_pixel_scrolling_accumulates_to_whole_images() {
    let mut h = one_series(false);
    h.hover_at(centre(&h));
    h.run();
    let start = index(&h);
    // 10 small pixel deltas of 12 points: 120 points = 3 images at 40 points each
    for _ in 0..10 {
        wheel(&mut h, MouseWheelUnit::Point, -12.0, Modifiers::NONE);
        h.step();
    }
    h.run();
    assert_eq!(index(&h), start + 3);
}

#[test]
fn ctrl_wheel_zooms_about_the_pointer() {
    let mut h = one_series(false);
    let c = centre(&h);
    let p = c + Vec2::new(80.0, -60.0);
    h.hover_at(p);
    h.run();
    let map = h.state().ui.panes[PANE].last_map.unwrap();
    let under = map.plane_from_screen(p);
    assert!((zoom(&h) - 1.0).abs() < 1e-6);
    wheel(&mut h, MouseWheelUnit::Line, 1.0, Modifiers::CTRL);
    h.run();
    wheel(&mut h, MouseWheelUnit::Line, 1.0, Modifiers::CTRL);
    h.run();
    assert!((zoom(&h) - 1.44).abs() < 1e-3, "two notches: {}", zoom(&h));
    assert_eq!(index(&h), index(&h), "no slice change");
    let map = h.state().ui.panes[PANE].last_map.unwrap();
    let now = map.plane_from_screen(p);
    assert!(
        (now.0 - under.0).abs() < 0.05 && (now.1 - under.1).abs() < 0.05,
        "the pixel under the pointer stays: {under:?} -> {now:?}"
    );
    // Ctrl+wheel never scrolls
    let slices_before = index(&h);
    wheel(&mut h, MouseWheelUnit::Line, -1.0, Modifiers::CTRL);
    h.run();
    assert_eq!(index(&h), slices_before);
    assert!((zoom(&h) - 1.2).abs() < 1e-3);
}

#[test]
fn pinch_and_keys_zoom() {
    let mut h = one_series(false);
    h.hover_at(centre(&h));
    h.run();
    h.event(Event::Zoom(1.5));
    h.run();
    assert!((zoom(&h) - 1.5).abs() < 1e-3, "{}", zoom(&h));
    h.key_press(Key::Plus);
    h.run();
    assert!((zoom(&h) - 1.8).abs() < 1e-3, "{}", zoom(&h));
    h.key_press(Key::Minus);
    h.run();
    assert!((zoom(&h) - 1.5).abs() < 1e-3, "{}", zoom(&h));
    h.key_press(Key::Num0);
    h.run();
    assert!((zoom(&h) - 1.0).abs() < 1e-6);
}

/// A bidirectional drawn and selected on pane 0; returns its id.
fn bidirectional(h: &mut Harness<'_, App>) -> nadir::tracking::MeasurementId {
    h.key_press(Key::B);
    h.run();
    let (a, b) = (screen(h, PANE, 30.0, 64.0), screen(h, PANE, 90.0, 64.0));
    support::ui::drag(h, a, b);
    h.state()
        .workspace
        .tools
        .selected
        .expect("drawn and selected")
}

fn long_axis_start(h: &Harness<'_, App>, id: nadir::tracking::MeasurementId) -> nadir::geom::Vec3 {
    let p = h.state().workspace.current_patient().unwrap();
    match &p.measurement(id).unwrap().measurement.shape {
        Shape::Bidirectional(b) => b.long_axis()[0],
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_two_pixel_handle_drag_moves_the_handle_two_pixels_and_arrows_nudge_it() {
    let mut h = one_series(false);
    let id = bidirectional(&mut h);
    let before = long_axis_start(&h, id);
    let map = h.state().ui.panes[PANE].last_map.unwrap();
    let ppmm = map.points_per_unit;
    let handle = screen(&h, PANE, 30.0, 64.0);
    // press, move 2 px (under egui's drag threshold), release
    h.hover_at(handle);
    h.run();
    primary(&mut h, handle, true);
    h.run();
    let to = handle + Vec2::new(2.0, 0.0);
    h.hover_at(to);
    h.run();
    primary(&mut h, to, false);
    h.run();
    let after = long_axis_start(&h, id);
    let moved_mm = after.distance(before);
    let expected_mm = f64::from(2.0 / ppmm);
    assert!(
        (moved_mm - expected_mm).abs() < 0.02,
        "moved {moved_mm:.3} mm, 2 px = {expected_mm:.3} mm"
    );
    // arrow right: one more screen pixel; Shift: ten
    h.key_press(Key::ArrowRight);
    h.run();
    let nudged = long_axis_start(&h, id).distance(before);
    assert!((nudged - f64::from(3.0 / ppmm)).abs() < 0.02, "{nudged}");
    h.key_press_modifiers(Modifiers::SHIFT, Key::ArrowRight);
    h.run();
    let nudged = long_axis_start(&h, id).distance(before);
    assert!((nudged - f64::from(13.0 / ppmm)).abs() < 0.02, "{nudged}");
    // each nudge is one undo step
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run();
    let undone = long_axis_start(&h, id).distance(before);
    assert!((undone - f64::from(3.0 / ppmm)).abs() < 0.02, "{undone}");
}

/// The platform's primary-button event at `pos` (press or release).
fn primary(h: &mut Harness<'_, App>, pos: Pos2, pressed: bool) {
    h.event(Event::PointerButton {
        pos,
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: Modifiers::NONE,
    });
}

/// Two timepoints on one frame of reference: baseline and W8.
fn two_visits() -> Harness<'static, App> {
    let mut workspace = Workspace::default();
    workspace.add_series(support::series(
        "bl",
        "20240108",
        "f1",
        128,
        [0.7, 0.7],
        0.0,
        20,
    ));
    workspace.add_series(support::series(
        "w8",
        "20240304",
        "f1",
        128,
        [0.7, 0.7],
        0.0,
        20,
    ));
    let mut h = harness(workspace);
    h.run();
    h
}

fn click_button(h: &mut Harness<'_, App>, label: &str) {
    h.get_by_label_contains(label).click();
    h.run();
}

/// Baseline T1 (liver, the bidirectional at the image's left) and a second
/// lesion drawn at the right made with `second` (the label clicked after
/// `prepare` has set its form).
fn baseline_two_lesions(
    h: &mut Harness<'_, App>,
    prepare: fn(&mut Harness<'_, App>),
    second: &str,
) {
    bidirectional(h);
    h.state_mut().ui.lesion_form.organ = "liver".into();
    h.run();
    click_button(h, "Make T1");
    h.key_press(Key::B);
    h.run();
    let (a, b) = (screen(h, PANE, 100.0, 20.0), screen(h, PANE, 120.0, 20.0));
    support::ui::drag(h, a, b);
    prepare(h);
    click_button(h, second);
}

#[test]
fn the_organ_must_be_chosen_and_lymph_node_sets_it() {
    let mut h = two_visits();
    let id = bidirectional(&mut h);
    // no organ preselected: the Make button is disabled
    click_button(&mut h, "Make T1");
    assert!(
        h.state()
            .workspace
            .current_patient()
            .unwrap()
            .lesions
            .is_empty(),
        "no organ chosen, no lesion"
    );
    h.get_by_label_contains("Lymph node").click();
    h.run();
    assert_eq!(h.state().ui.lesion_form.organ, "lymph node");
    click_button(&mut h, "Make N1");
    let p = h.state().workspace.current_patient().unwrap();
    let lesion = p.lesion("N1").expect("node target made");
    assert_eq!(lesion.organ, "lymph node");
    assert!(lesion.lymph_node);
    assert_eq!(p.lesion_of_measurement(id).unwrap().id, "N1");
}

#[test]
fn at_follow_up_the_default_is_attach_to_the_selected_lesion_and_no_target_is_offered() {
    let mut h = two_visits();
    // baseline: T1 (liver, left) and N1 (node, right)
    baseline_two_lesions(
        &mut h,
        |h| {
            h.get_by_label_contains("Lymph node").click();
            h.run();
        },
        "Make N1",
    );
    // W8, with T1 selected in the table
    h.state_mut()
        .workspace
        .apply(Command::ShowSeries { pane: 0, series: 1 });
    h.state_mut()
        .workspace
        .apply(Command::SelectLesion("T1".into()));
    h.run();
    let id = bidirectional(&mut h);
    assert_eq!(
        h.state().ui.lesion_form.attach_to.as_deref(),
        Some("T1"),
        "attach defaults to the selected lesion, not the last one made"
    );
    assert!(
        h.query_by_label_contains("Make T2").is_none(),
        "no target after baseline"
    );
    assert!(
        h.query_by_label_contains("Make NL1").is_some(),
        "only a new lesion"
    );
    click_button(&mut h, "Attach at W8");
    let p = h.state().workspace.current_patient().unwrap();
    assert_eq!(p.lesion_of_measurement(id).unwrap().id, "T1");
    assert!(
        h.state()
            .workspace
            .assessment
            .warnings
            .iter()
            .all(|w| !w.to_string().contains("new target")),
    );
    let _ = Category::Target;
}

#[test]
fn attaching_far_from_the_lesion_asks_first() {
    let mut h = two_visits();
    bidirectional(&mut h);
    h.state_mut().ui.lesion_form.organ = "liver".into();
    h.run();
    click_button(&mut h, "Make T1");
    h.state_mut()
        .workspace
        .apply(Command::ShowSeries { pane: 0, series: 1 });
    h.run();
    // 0.7 mm pixels: 100 px below is 70 mm away
    h.key_press(Key::B);
    h.run();
    let (a, b) = (screen(&h, PANE, 30.0, 124.0), screen(&h, PANE, 90.0, 124.0));
    support::ui::drag(&mut h, a, b);
    let id = h.state().workspace.tools.selected.unwrap();
    assert_eq!(h.state().ui.lesion_form.attach_to.as_deref(), Some("T1"));
    click_button(&mut h, "Attach at W8");
    let p = h.state().workspace.current_patient().unwrap();
    assert!(
        p.lesion_of_measurement(id).is_none(),
        "not attached without a word"
    );
    assert!(
        h.query_by_label_contains("mm from where it was measured")
            .is_some()
    );
    click_button(&mut h, "Attach to T1 anyway");
    let p = h.state().workspace.current_patient().unwrap();
    assert_eq!(p.lesion_of_measurement(id).unwrap().id, "T1");
}

fn harness_of_size(workspace: Workspace, size: Vec2) -> Harness<'static, App> {
    Harness::builder().with_size(size).build_ui_state(
        |ui, app: &mut App| {
            let commands = nadir::ui::workstation_ui(ui, &app.workspace, &mut app.ui);
            for c in commands {
                app.workspace.apply(c);
            }
        },
        App {
            workspace,
            ui: nadir::ui::UiState::default(),
        },
    )
}

#[test]
fn at_1280_by_800_the_image_has_half_the_window_and_panels_collapse_by_key() {
    let mut workspace = Workspace::default();
    let mut loaded = support::series("s1", "20240108", "f1", 128, [0.7, 0.7], 0.0, 10);
    std::sync::Arc::make_mut(&mut loaded.volume)
        .meta
        .series_description =
        "Chest/Abdomen 5.0 mm portal venous phase, a long protocol name".into();
    workspace.add_series(loaded);
    let mut h = harness_of_size(workspace, Vec2::new(1280.0, 800.0));
    h.run();
    let width = |h: &Harness<'_, App>| h.state().ui.panes[PANE].last_pane_rect.unwrap().width();
    assert!(width(&h) >= 640.0, "image pane {} of 1280", width(&h));
    h.key_press(Key::OpenBracket);
    h.run();
    h.key_press(Key::CloseBracket);
    h.run();
    assert!(h.state().ui.hide_browser && h.state().ui.hide_side_panel);
    assert!(width(&h) >= 1200.0, "both panels collapsed: {}", width(&h));
    h.key_press(Key::OpenBracket);
    h.run();
    assert!(!h.state().ui.hide_browser);
    // the reference opens on ?
    h.key_press(Key::F1);
    h.run();
    assert!(h.query_by_label_contains("one notch = one image").is_some());
}

#[test]
fn cine_plays_at_its_rate_and_stops_on_c() {
    let mut h = one_series(false);
    h.state_mut().workspace.apply(Command::SetSlice {
        pane: PANE,
        index: 0,
    });
    h.key_press(Key::C);
    h.run_steps(1);
    assert!(h.state().ui.cine.playing);
    let from = index(&h);
    // one second: four frames at the harness's 1/4 s step, 8 fps
    h.run_steps(4);
    assert_eq!(index(&h) - from, 8, "8 images in 1 s");
    h.key_press(Key::C);
    h.run_steps(2);
    let stopped_at = index(&h);
    h.run_steps(30);
    assert_eq!(index(&h), stopped_at, "stopped");
}

#[test]
fn window_and_level_can_be_typed() {
    let mut h = one_series(false);
    h.state_mut().workspace.apply(Command::SetWindow {
        pane: PANE,
        window: nadir::volume::Window {
            center: 90.0,
            width: 150.0,
        },
    });
    h.run();
    assert!(h.query_by_label_contains("W 150").is_some() || h.query_by_value("W 150").is_some());
}

#[test]
fn n_steps_through_the_lesions_and_period_through_the_series() {
    let mut h = two_visits();
    baseline_two_lesions(
        &mut h,
        |h| {
            h.state_mut().ui.lesion_form.organ = "lung".into();
            h.run();
        },
        "Make T2",
    );
    h.key_press(Key::Escape);
    h.key_press(Key::Escape);
    h.run();
    h.key_press(Key::N);
    h.run();
    let first = h.state().workspace.selected_lesion.clone().unwrap();
    h.key_press(Key::N);
    h.run();
    let second = h.state().workspace.selected_lesion.clone().unwrap();
    assert_ne!(first, second);
    h.key_press_modifiers(Modifiers::SHIFT, Key::N);
    h.run();
    assert_eq!(
        h.state().workspace.selected_lesion.as_deref(),
        Some(first.as_str())
    );
    assert_eq!(h.state().workspace.panes[PANE].series, Some(0));
    h.key_press(Key::Period);
    h.run();
    assert_eq!(h.state().workspace.panes[PANE].series, Some(1));
    h.key_press(Key::Comma);
    h.run();
    assert_eq!(h.state().workspace.panes[PANE].series, Some(0));
}

#[test]
fn the_loupe_shows_while_a_handle_is_dragged_and_while_z_is_held() {
    let mut h = one_series(false);
    bidirectional(&mut h);
    let loupe = |h: &Harness<'_, App>| h.state().ui.panes[PANE].loupe_shown;
    assert!(!loupe(&h));
    let handle = screen(&h, PANE, 30.0, 64.0);
    h.hover_at(handle);
    h.run();
    primary(&mut h, handle, true);
    h.run();
    h.hover_at(handle + Vec2::new(1.0, 0.0));
    h.run();
    assert!(loupe(&h), "magnifier while the handle is held");
    primary(&mut h, handle + Vec2::new(1.0, 0.0), false);
    h.run();
    assert!(!loupe(&h), "gone on release");
    h.key_down(Key::Z);
    h.hover_at(centre(&h));
    h.run();
    assert!(loupe(&h), "magnifier while Z is held");
    h.key_up(Key::Z);
    h.run();
    assert!(!loupe(&h));
}

#[test]
fn a_click_in_one_reformat_pane_sets_the_other_two_and_the_layout_names_its_planes() {
    let mut h = one_series(false);
    h.state_mut()
        .workspace
        .apply(Command::SetLayout(nadir::session::Layout::Reformats));
    h.run();
    assert!(
        h.query_by_label_contains("Axial + coronal + sagittal")
            .is_some(),
        "the layout is named by its planes"
    );
    // click in the axial pane, a quarter of the image in from its top-left
    let rect = h.state().ui.panes[0]
        .last_map
        .expect("axial drawn")
        .image_rect;
    let at = rect.min + rect.size() * 0.25;
    primary(&mut h, at, true);
    h.run();
    primary(&mut h, at, false);
    h.run();
    let view = h.state().workspace.series[0].view;
    let (column, row) = (
        view.index_of(Plane::FixedColumn),
        view.index_of(Plane::FixedRow),
    );
    // 128 × 128 pixels: a quarter in is column/row 32 (± rounding)
    assert!(
        (31..=33).contains(&column),
        "sagittal through column {column}"
    );
    assert!((31..=33).contains(&row), "coronal through row {row}");
    assert_eq!(view.index_of(Plane::Native), 20, "the clicked plane stays");
}

#[test]
fn the_zoom_tool_magnifies_by_dragging_up_about_the_press_point() {
    let mut h = one_series(false);
    let p = centre(&h) + Vec2::new(-70.0, 40.0);
    h.hover_at(p);
    h.run();
    h.key_press(Key::M);
    h.run();
    assert_eq!(
        h.state().workspace.tools.active,
        nadir::tools::Tool::Zoom,
        "M picks the zoom tool"
    );
    let under = h.state().ui.panes[PANE]
        .last_map
        .unwrap()
        .plane_from_screen(p);
    let window_before = h.state().workspace.series[0].view.window;
    primary(&mut h, p, true);
    h.run();
    // drag up in small moves, as a mouse reports it
    for step in 1..=14 {
        h.hover_at(p - Vec2::new(0.0, 5.0 * step as f32));
        h.step();
    }
    primary(&mut h, p - Vec2::new(0.0, 70.0), false);
    h.run();
    let z = zoom(&h);
    assert!(z > 1.6 && z < 2.1, "70 points up about doubles: {z}");
    let now = h.state().ui.panes[PANE]
        .last_map
        .unwrap()
        .plane_from_screen(p);
    assert!(
        (now.0 - under.0).abs() < 0.05 && (now.1 - under.1).abs() < 0.05,
        "the pixel where the drag began stays: {under:?} -> {now:?}"
    );
    assert_eq!(
        h.state().workspace.series[0].view.window,
        window_before,
        "no window/level change"
    );
    assert!(
        h.state()
            .workspace
            .current_patient()
            .is_none_or(|p| p.lesions.is_empty())
    );
}
