//! egui panels (feature `gui`). Functions that draw take `&mut egui::Ui`, end
//! in `_ui`, read the session and return [`Command`]s; they never mutate the
//! session themselves.

pub mod cohort;
pub mod lesions;
pub mod project;
pub mod response;
pub mod segmentation;
pub mod signal;
pub mod style;
pub mod viewport;

use std::collections::HashMap;

use crate::session::{Central, Command, Layout, SeriesEntry, WindowPreset, Workspace};
use crate::tools::Tool;
use crate::volume::plane::{Plane, PlaneFrame, window_plane};
use egui::RichText;

/// State that only the UI needs (textures, caches, form fields).
#[derive(Default)]
pub struct UiState {
    /// The slice textures of the three panes.
    pub panes: [viewport::SliceTexture; 3],
    /// Browser thumbnails by SeriesInstanceUID.
    thumbnails: HashMap<String, egui::TextureHandle>,
    /// The "make lesion" form.
    pub lesion_form: lesions::LesionForm,
    /// Hide the side panel (lesions and response); `]` toggles it.
    pub hide_side_panel: bool,
    /// Hide the series browser; `[` toggles it.
    pub hide_browser: bool,
    /// Show the keyboard and mouse reference (`?` or F1).
    pub show_shortcuts: bool,
    /// Cine: the active pane plays through its images (`C` toggles it).
    pub cine: Cine,
    /// Project menu, relink window, reader field.
    pub project: project::ProjectUi,
}

/// Cine playback of the active pane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cine {
    /// Playing.
    pub playing: bool,
    /// Images per second.
    pub fps: f32,
    /// Time not yet turned into an image step (s).
    pending_s: f32,
}

impl Default for Cine {
    fn default() -> Self {
        Cine {
            playing: false,
            fps: 8.0,
            pending_s: 0.0,
        }
    }
}

/// Steps the active pane while cine plays (wrapping to the first image at
/// the end) and asks for the next frame in time; idle otherwise.
fn cine_ui(ui: &egui::Ui, workspace: &Workspace, cine: &mut Cine, commands: &mut Vec<Command>) {
    if !cine.playing {
        cine.pending_s = 0.0;
        return;
    }
    let fps = cine.fps.clamp(1.0, 60.0);
    cine.pending_s += ui.input(|i| i.stable_dt).min(0.5);
    let steps = (cine.pending_s * fps).floor();
    if steps >= 1.0 {
        cine.pending_s -= steps / fps;
        let pane = workspace.active_pane;
        let at_end = workspace
            .active_series()
            .zip(workspace.panes.get(pane))
            .is_some_and(|(e, p)| {
                let index = e.view.index_of(p.plane);
                let last = crate::volume::plane::plane_count(e.volume(), p.plane).saturating_sub(1);
                let direction = if p.plane == Plane::Native {
                    e.volume().image_direction()
                } else {
                    1
                };
                (direction > 0 && index >= last) || (direction < 0 && index == 0)
            });
        if at_end {
            commands.push(Command::StepImage {
                pane,
                images: -(i64::MAX / 4),
            });
        } else {
            commands.push(Command::StepImage {
                pane,
                images: steps as i64,
            });
        }
    }
    ui.ctx()
        .request_repaint_after(std::time::Duration::from_secs_f32(1.0 / fps));
}

/// The whole workstation: menu, tool bar, series browser, panes, lesions and
/// response, status bar. Keyboard shortcuts are read here too.
pub fn workstation_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut UiState,
) -> Vec<Command> {
    let mut commands = Vec::new();
    style::ensure_fonts(ui.ctx());
    panel_keys_ui(ui, state);
    cine_ui(ui, workspace, &mut state.cine, &mut commands);
    keyboard_ui(ui, workspace, state, &mut commands);
    egui::Panel::top("menu").show(ui, |ui| menu_ui(ui, workspace, state, &mut commands));
    if workspace.central == Central::Cohort {
        egui::Panel::bottom("status").show(ui, |ui| status_ui(ui, workspace));
        egui::CentralPanel::default().show(ui, |ui| {
            cohort::cohort_ui(ui, workspace, &mut commands);
        });
        project::close_prompt_ui(ui, workspace, &mut state.project, &mut commands);
        return commands;
    }
    egui::Panel::top("toolbar").show(ui, |ui| {
        toolbar_ui(ui, workspace, &mut state.cine, &mut commands)
    });
    egui::Panel::bottom("status").show(ui, |ui| status_ui(ui, workspace));
    // Sized so that at 1280 × 800 the image gets more than half the width;
    // both panels resize by their edge and collapse with one key.
    if !state.hide_browser {
        egui::Panel::left("browser")
            .resizable(true)
            .default_size(200.0)
            .min_size(150.0)
            .show(ui, |ui| browser_ui(ui, workspace, state, &mut commands));
    }
    if !state.hide_side_panel {
        egui::Panel::right("lesions")
            .resizable(true)
            .default_size(370.0)
            .min_size(300.0)
            .show(ui, |ui| {
                // The panel keeps the width the reader gave it: wide content
                // scrolls instead of pushing the image aside (no jump when
                // the measurement box or a lesion's detail opens).
                egui::ScrollArea::both()
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        lesions::lesions_ui(ui, workspace, &mut state.lesion_form, &mut commands);
                        ui.add_space(4.0);
                        project::signoff_ui(ui, workspace, &mut commands);
                        ui.add_space(8.0);
                        response::response_ui(ui, workspace, &mut commands);
                        ui.add_space(8.0);
                        signal::signal_ui(ui, workspace, &mut commands);
                    });
            });
    }
    egui::CentralPanel::no_frame()
        .frame(egui::Frame::new().fill(egui::Color32::BLACK))
        .show(ui, |ui| panes_ui(ui, workspace, state, &mut commands));
    shortcuts_window_ui(ui, state);
    project::audit_window_ui(ui, workspace, &mut commands);
    project::relink_window_ui(ui, workspace, &mut state.project, &mut commands);
    project::close_prompt_ui(ui, workspace, &mut state.project, &mut commands);
    commands
}

/// The keys that only change what the UI shows: `[` the browser, `]` the
/// lesion panel, `?`/F1 the shortcut reference.
fn panel_keys_ui(ui: &egui::Ui, state: &mut UiState) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    ui.input_mut(|i| {
        use egui::{Key, Modifiers};
        if i.consume_key(Modifiers::NONE, Key::OpenBracket) {
            state.hide_browser = !state.hide_browser;
        }
        if i.consume_key(Modifiers::NONE, Key::CloseBracket) {
            state.hide_side_panel = !state.hide_side_panel;
        }
        if i.consume_key(Modifiers::NONE, Key::C) {
            state.cine.playing = !state.cine.playing;
        }
        if i.consume_key(Modifiers::NONE, Key::F1)
            || i.consume_key(Modifiers::SHIFT, Key::Questionmark)
            || i.consume_key(Modifiers::NONE, Key::Questionmark)
        {
            state.show_shortcuts = !state.show_shortcuts;
        }
    });
}

/// Every shortcut of the reading view, in one place.
pub const SHORTCUTS: [(&str, &str); 28] = [
    ("Wheel", "next / previous image (one notch = one image)"),
    ("Ctrl + wheel, pinch", "zoom about the pointer"),
    ("+  −  0", "zoom in, out, fit"),
    ("F", "fit"),
    (
        "↑ ↓  PgUp PgDn",
        "previous / next image (10 with Page keys)",
    ),
    ("Home  End", "first / last image"),
    ("Middle drag, Shift + drag", "pan"),
    ("Right drag", "window (horizontal) and level (vertical)"),
    (
        "1 – 6",
        "window presets (soft tissue, lung, bone, liver, brain, auto)",
    ),
    ("V", "navigate"),
    ("L", "length"),
    ("B", "bidirectional (long and short axis)"),
    ("E  D", "ellipse ROI, freehand ROI"),
    ("G  P  X", "segment, brush, eraser"),
    (
        "Drag a handle",
        "move that end (no threshold: 1 px is 1 px; magnifier shown)",
    ),
    ("Hold Z", "magnifier at the pointer"),
    (
        "← → ↑ ↓ after grabbing a handle",
        "nudge it 1 screen px (Shift: 10)",
    ),
    ("Esc", "cancel the gesture, then the selection"),
    ("Del", "delete the selected measurement"),
    ("Ctrl+Z  Ctrl+Shift+Z", "undo, redo"),
    ("Tab", "next pane"),
    ("Y", "sync the compare panes here"),
    ("C", "cine: play / stop (rate in the tool bar)"),
    ("N  Shift+N", "next / previous lesion"),
    (".  ,", "next / previous series"),
    ("[  ]", "hide / show the browser, the lesion panel"),
    ("Ctrl+1  Ctrl+2", "reading view, cohort view"),
    ("?  F1", "this list"),
];

fn shortcuts_window_ui(ui: &egui::Ui, state: &mut UiState) {
    let mut open = state.show_shortcuts;
    egui::Window::new("Keyboard and mouse")
        .open(&mut open)
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
        .show(ui.ctx(), |ui| {
            egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                for (keys, what) in SHORTCUTS {
                    ui.label(RichText::new(keys).strong().monospace());
                    ui.label(what);
                    ui.end_row();
                }
            });
        });
    state.show_shortcuts = open;
}

fn panes_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut UiState,
    commands: &mut Vec<Command>,
) {
    if workspace.series.is_empty() {
        ui.centered_and_justified(|ui| {
            let text = if workspace.loading.is_some() {
                "Loading…"
            } else {
                "No images. File > Open folder… or drop a folder here."
            };
            ui.label(
                egui::RichText::new(text)
                    .color(egui::Color32::GRAY)
                    .size(18.0),
            );
        });
        return;
    }
    let rect = ui.available_rect_before_wrap();
    let gap = 3.0;
    let rects: Vec<egui::Rect> = match workspace.layout {
        Layout::Single => vec![rect],
        Layout::Compare => {
            let w = (rect.width() - gap) / 2.0;
            vec![
                egui::Rect::from_min_size(rect.min, egui::vec2(w, rect.height())),
                egui::Rect::from_min_size(
                    rect.min + egui::vec2(w + gap, 0.0),
                    egui::vec2(w, rect.height()),
                ),
            ]
        }
        Layout::Reformats => {
            let w = (rect.width() - gap) / 2.0;
            let h = (rect.height() - gap) / 2.0;
            vec![
                egui::Rect::from_min_size(rect.min, egui::vec2(w, rect.height())),
                egui::Rect::from_min_size(rect.min + egui::vec2(w + gap, 0.0), egui::vec2(w, h)),
                egui::Rect::from_min_size(
                    rect.min + egui::vec2(w + gap, h + gap),
                    egui::vec2(w, h),
                ),
            ]
        }
    };
    for (pane, (r, texture)) in rects.into_iter().zip(state.panes.iter_mut()).enumerate() {
        let image_rect = if workspace.layout == Layout::Compare {
            let header = egui::Rect::from_min_size(r.min, egui::vec2(r.width(), 52.0));
            let mut child = ui.new_child(
                egui::UiBuilder::new()
                    .max_rect(header)
                    .id_salt(("header", pane)),
            );
            child.set_clip_rect(header);
            compare_header_ui(&mut child, workspace, pane, commands);
            egui::Rect::from_min_max(egui::pos2(r.min.x, header.max.y), r.max)
        } else {
            r
        };
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(image_rect)
                .id_salt(("pane", pane)),
        );
        child.set_clip_rect(image_rect);
        viewport::pane_ui(&mut child, image_rect, workspace, pane, texture, commands);
    }
}

fn compare_header_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    pane: usize,
    commands: &mut Vec<Command>,
) {
    let Some(entry) = workspace.pane_series(pane) else {
        return;
    };
    egui::Frame::new()
        .fill(egui::Color32::from_gray(28))
        .inner_margin(egui::Margin::symmetric(8, 4))
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.set_height(44.0);
            let role = if pane == 0 { "Prior" } else { "Current" };
            let visit = workspace
                .patients
                .get(&entry.patient_key())
                .zip(entry.date)
                .map(|(p, d)| p.visit_label(d))
                .unwrap_or_default();
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new(format!("{role}: {visit}")).strong());
                let series = format!(
                    "{} · {} {}",
                    series_date_text(workspace, entry),
                    entry.volume().meta.modality,
                    workspace.blind_text(&entry.volume().meta.series_description)
                );
                elided_label(ui, egui::RichText::new(series));
            });
            ui.horizontal(|ui| {
                if pane == 0 {
                    elided_label(ui, egui::RichText::new("Click a series in the browser to change this pane (Tab switches panes).").weak());
                    return;
                }
                let mut linked = workspace.link.enabled;
                if ui.checkbox(&mut linked, "Linked").changed() {
                    commands.push(Command::SetLinked(linked));
                }
                if ui
                    .button("Sync here (Y)")
                    .on_hover_text("Link the two panes at the slices shown now: scroll both to the same anatomy first.")
                    .clicked()
                {
                    commands.push(Command::SyncHere);
                }
                let (text, colour) = match (workspace.link.offset_mm, workspace.link_offset_mm()) {
                    (Some(offset), _) => (format!("by offset {offset:+.1} mm"), egui::Color32::from_rgb(150, 200, 150)),
                    (None, Some(_)) => ("same frame of reference".to_string(), egui::Color32::from_rgb(150, 200, 150)),
                    (None, None) => (
                        "other frame of reference: align both, then Sync here".to_string(),
                        egui::Color32::from_rgb(240, 180, 110),
                    ),
                };
                elided_label(ui, egui::RichText::new(text).color(colour));
            });
        });
}

/// A one-line label that elides with "…" where the space ends and shows the
/// whole text on hover (pane headers: nothing clips or overlaps).
fn elided_label(ui: &mut egui::Ui, text: egui::RichText) -> egui::Response {
    let full = text.text().to_string();
    ui.add(egui::Label::new(text).truncate())
        .on_hover_text(full)
}

fn keyboard_ui(ui: &egui::Ui, workspace: &Workspace, state: &UiState, commands: &mut Vec<Command>) {
    if ui.ctx().egui_wants_keyboard_input() {
        return;
    }
    let pane = workspace.active_pane;
    let switched = ui.input_mut(|i| {
        use egui::{Key, Modifiers};
        for (key, central) in [(Key::Num1, Central::Reading), (Key::Num2, Central::Cohort)] {
            if i.consume_key(Modifiers::COMMAND, key) {
                commands.push(Command::ShowCentral(central));
                return true;
            }
        }
        false
    });
    if switched || workspace.central != Central::Reading {
        return;
    }
    ui.input_mut(|i| {
        use egui::{Key, Modifiers};
        if i.consume_key(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z)
            || i.consume_key(Modifiers::COMMAND, Key::Y)
        {
            commands.push(Command::Redo);
        }
        if i.consume_key(Modifiers::COMMAND, Key::Z) {
            commands.push(Command::Undo);
        }
        if i.consume_key(Modifiers::NONE, Key::Escape) {
            commands.push(Command::Cancel);
        }
        if i.consume_key(Modifiers::NONE, Key::Delete)
            || i.consume_key(Modifiers::NONE, Key::Backspace)
        {
            commands.push(Command::DeleteSelected);
        }
        // With a handle grabbed, the arrows nudge it by one screen pixel
        // (Shift: ten); otherwise Up/Down step images (Down = next image).
        let step = if i.modifiers.shift { 10.0 } else { 1.0 };
        let arrows: Vec<egui::Vec2> = [
            (Key::ArrowUp, egui::vec2(0.0, -1.0)),
            (Key::ArrowDown, egui::vec2(0.0, 1.0)),
            (Key::ArrowLeft, egui::vec2(-1.0, 0.0)),
            (Key::ArrowRight, egui::vec2(1.0, 0.0)),
        ]
        .into_iter()
        .filter(|(key, _)| i.key_pressed(*key))
        .map(|(_, d)| d)
        .collect();
        // looked up only when an arrow was pressed, not every frame
        let nudging = if arrows.is_empty() {
            None
        } else {
            nudge_target(workspace, state)
        };
        for d in arrows {
            match &nudging {
                Some(nudge) => {
                    if let Some(command) = nudge.command(d * step) {
                        commands.push(command);
                    }
                }
                None if d.y != 0.0 => commands.push(Command::StepImage {
                    pane,
                    images: d.y as i64,
                }),
                None => {}
            }
        }
        for (key, images) in [(Key::PageUp, -10), (Key::PageDown, 10)] {
            if i.key_pressed(key) {
                commands.push(Command::StepImage { pane, images });
            }
        }
        // zoom about the pane's centre: + / = in, - out, 0 back to fit
        let zoom_keys = [
            (Key::Plus, 1.2f32),
            (Key::Equals, 1.2),
            (Key::Minus, 1.0 / 1.2),
        ];
        for (key, factor) in zoom_keys {
            if i.key_pressed(key) {
                commands.push(Command::ZoomAt {
                    pane,
                    factor,
                    anchor: [0.0, 0.0],
                });
            }
        }
        if i.key_pressed(Key::Num0) && !i.modifiers.command {
            commands.push(Command::ResetView(pane));
        }
        // N / Shift+N: next / previous lesion; . / ,: next / previous series
        if !i.modifiers.command && i.key_pressed(Key::N) {
            if let Some(id) = neighbour_lesion(workspace, if i.modifiers.shift { -1 } else { 1 }) {
                commands.push(Command::SelectLesion(id));
            }
        }
        for (key, step) in [(Key::Period, 1i64), (Key::Comma, -1)] {
            if i.key_pressed(key)
                && let Some(series) = neighbour_series(workspace, step)
            {
                commands.push(Command::ShowSeries { pane, series });
            }
        }
        if i.key_pressed(Key::Home) {
            commands.push(Command::SetSlice { pane, index: 0 });
        }
        if i.key_pressed(Key::End) {
            commands.push(Command::SetSlice {
                pane,
                index: usize::MAX,
            });
        }
        if i.modifiers.is_none() {
            if i.key_pressed(Key::F) {
                commands.push(Command::ResetView(pane));
            }
            if i.key_pressed(Key::Y) {
                commands.push(Command::SyncHere);
            }
            for tool in Tool::ALL {
                if let Some(key) = Key::from_name(&tool.shortcut().to_string())
                    && i.key_pressed(key)
                {
                    commands.push(Command::SelectTool(tool));
                }
            }
            let digits = [
                Key::Num1,
                Key::Num2,
                Key::Num3,
                Key::Num4,
                Key::Num5,
                Key::Num6,
            ];
            for (key, preset) in digits.into_iter().zip(WindowPreset::ALL) {
                if i.key_pressed(key) {
                    commands.push(Command::ApplyPreset { pane, preset });
                }
            }
        }
        if i.key_pressed(egui::Key::Tab) && workspace.layout != Layout::Single {
            commands.push(Command::ActivatePane(
                (pane + 1) % workspace.layout.pane_count(),
            ));
        }
    });
}

/// The lesion `step` places after (or before) the selected one in the
/// table, wrapping; the first one when none is selected.
fn neighbour_lesion(workspace: &Workspace, step: i64) -> Option<String> {
    let lesions = &workspace.current_patient()?.lesions;
    let count = lesions.len() as i64;
    if count == 0 {
        return None;
    }
    let at = workspace
        .selected_lesion
        .as_deref()
        .and_then(|id| lesions.iter().position(|l| l.id == id));
    let next = match at {
        Some(at) => (at as i64 + step).rem_euclid(count),
        None => 0,
    };
    lesions.get(next as usize).map(|l| l.id.clone())
}

/// The series `step` places after (or before) the active pane's series in
/// the browser's order, within the patient being read, wrapping.
fn neighbour_series(workspace: &Workspace, step: i64) -> Option<usize> {
    let key = workspace.current_patient_key()?;
    let own: Vec<usize> = (0..workspace.series.len())
        .filter(|&i| {
            workspace
                .series
                .get(i)
                .is_some_and(|e| e.patient_key() == key)
        })
        .collect();
    let current = workspace.panes.get(workspace.active_pane)?.series?;
    let at = own.iter().position(|&i| i == current)? as i64;
    own.get((at + step).rem_euclid(own.len() as i64) as usize)
        .copied()
}

/// The handle the arrow keys move: the grabbed handle of the selected
/// measurement, when the active pane shows it.
struct Nudge<'a> {
    id: crate::tracking::MeasurementId,
    handle: usize,
    at: crate::geom::Vec3,
    map: viewport::ScreenMap,
    geometry: &'a crate::volume::plane::MeasurementGeometry,
}

impl Nudge<'_> {
    /// The command moving the handle by `delta` screen points.
    fn command(&self, delta: egui::Vec2) -> Option<Command> {
        let (u, v, _) = self.geometry.plane_from_point(&self.map.frame, self.at)?;
        let screen = self.map.screen_from_plane(u, v) + delta;
        let (u, v) = self.map.plane_from_screen(screen);
        let to = self.geometry.point_from_plane(&self.map.frame, u, v)?;
        Some(Command::MoveHandle {
            id: self.id,
            handle: self.handle,
            to,
        })
    }
}

fn nudge_target<'a>(workspace: &'a Workspace, state: &UiState) -> Option<Nudge<'a>> {
    let id = workspace.tools.selected?;
    let handle = workspace.tools.active_handle?;
    if workspace.tools.is_busy() {
        return None;
    }
    let pane = workspace.active_pane;
    let (_, shape) = workspace
        .pane_measurements(pane)
        .into_iter()
        .find(|(m, _)| *m == id)?;
    let at = *shape.handles().get(handle)?;
    Some(Nudge {
        id,
        handle,
        at,
        map: state.panes.get(pane)?.last_map?,
        geometry: &workspace.pane_series(pane)?.geometry,
    })
}

fn menu_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut UiState,
    commands: &mut Vec<Command>,
) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            project::project_menu_ui(ui, workspace, &mut state.project, commands);
            ui.separator();
            if ui.button("Open folder…").clicked()
                && let Some(dir) = rfd::FileDialog::new().pick_folder()
            {
                commands.push(Command::OpenFolder(dir));
            }
            ui.separator();
            if ui.button("Import lesion table (CSV)…").clicked()
                && let Some(file) = rfd::FileDialog::new()
                    .add_filter("CSV", &["csv"])
                    .pick_file()
            {
                commands.push(Command::ImportLesionTable(file));
            }
            if ui.button("Export lesion table (CSV)…").clicked()
                && let Some(file) = rfd::FileDialog::new()
                    .add_filter("CSV", &["csv"])
                    .set_file_name("lesions.csv")
                    .save_file()
            {
                commands.push(Command::ExportLesionTable(file));
            }
            ui.separator();
            if ui.button("Cohort: import results CSV…").clicked()
                && let Some(command) = cohort::pick_results_command()
            {
                commands.push(command);
            }
            if ui
                .button("Cohort: import lesion table + patient table…")
                .clicked()
                && let Some(command) = cohort::pick_lesion_tables_command()
            {
                commands.push(command);
            }
            if ui.button("Cohort: use this session's lesions").clicked() {
                commands.push(Command::CohortFromSession);
            }
        });
        ui.menu_button("Edit", |ui| {
            if ui
                .add_enabled(
                    workspace.history.can_undo(),
                    egui::Button::new("Undo  Ctrl+Z"),
                )
                .clicked()
            {
                commands.push(Command::Undo);
            }
            if ui
                .add_enabled(
                    workspace.history.can_redo(),
                    egui::Button::new("Redo  Ctrl+Shift+Z"),
                )
                .clicked()
            {
                commands.push(Command::Redo);
            }
            if ui
                .add_enabled(
                    workspace.tools.selected.is_some(),
                    egui::Button::new("Delete measurement  Del"),
                )
                .clicked()
            {
                commands.push(Command::DeleteSelected);
            }
        });
        ui.menu_button("View", |ui| {
            for (central, shortcut) in [(Central::Reading, "Ctrl+1"), (Central::Cohort, "Ctrl+2")] {
                if ui
                    .selectable_label(
                        workspace.central == central,
                        format!("{}  {shortcut}", central.label()),
                    )
                    .clicked()
                {
                    commands.push(Command::ShowCentral(central));
                }
            }
            ui.separator();
            layout_choice_ui(ui, workspace, commands);
            ui.separator();
            if ui.button("Fit  F").clicked() {
                commands.push(Command::ResetView(workspace.active_pane));
            }
            ui.checkbox(&mut state.hide_browser, "Hide series browser  [");
            ui.checkbox(&mut state.hide_side_panel, "Hide lesion panel  ]");
            let mut reversed = workspace.wheel_reversed;
            if ui
                .checkbox(&mut reversed, "Wheel down = previous image")
                .on_hover_text("Off (the PACS custom): wheel down and the Down key go to the next image number.")
                .changed()
            {
                commands.push(Command::SetWheelReversed(reversed));
            }
            ui.separator();
            if ui.button("Keyboard and mouse…  ?").clicked() {
                state.show_shortcuts = true;
            }
        });
        ui.menu_button("Window", |ui| {
            for (n, preset) in WindowPreset::ALL.into_iter().enumerate() {
                if ui
                    .button(format!("{}  [{}]", preset.label(), n + 1))
                    .clicked()
                {
                    commands.push(Command::ApplyPreset {
                        pane: workspace.active_pane,
                        preset,
                    });
                }
            }
        });
        ui.separator();
        for (central, shortcut) in [(Central::Reading, "Ctrl+1"), (Central::Cohort, "Ctrl+2")] {
            if ui
                .selectable_label(
                    workspace.central == central,
                    RichText::new(central.label()).strong(),
                )
                .on_hover_text(format!("Show the {} view ({shortcut})", central.label()))
                .clicked()
            {
                commands.push(Command::ShowCentral(central));
            }
        }
    });
}

fn toolbar_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    cine: &mut Cine,
    commands: &mut Vec<Command>,
) {
    // Wraps onto a second row on narrow windows instead of clipping Undo/Redo.
    ui.horizontal_wrapped(|ui| {
        for tool in Tool::ALL {
            let selected = workspace.tools.active == tool;
            let text = egui::RichText::new(format!("{}  {}", tool.name(), tool.shortcut()));
            if ui
                .selectable_label(selected, text)
                .on_hover_text(tool.tooltip())
                .clicked()
            {
                commands.push(Command::SelectTool(tool));
            }
        }
        ui.separator();
        layout_choice_ui(ui, workspace, commands);
        ui.separator();
        let pane = workspace.active_pane;
        let is_ct = workspace
            .active_series()
            .is_some_and(|e| e.volume().meta.modality == "CT");
        for (n, preset) in WindowPreset::ALL.into_iter().enumerate() {
            if !is_ct && preset != WindowPreset::Auto {
                continue;
            }
            let short = preset.label().split(' ').next().unwrap_or_default();
            if ui
                .small_button(short)
                .on_hover_text(format!("{}  (key {})", preset.label(), n + 1))
                .clicked()
            {
                commands.push(Command::ApplyPreset { pane, preset });
            }
        }
        // numeric window and level of the active pane
        if let Some(entry) = workspace.active_series() {
            let window = entry.view.window;
            let (mut width, mut level) = (window.width, window.center);
            let w = ui
                .add(
                    egui::DragValue::new(&mut width)
                        .prefix("W ")
                        .range(1.0..=100_000.0)
                        .speed(2.0),
                )
                .on_hover_text("Window width (type a value, or drag)");
            let l = ui
                .add(egui::DragValue::new(&mut level).prefix("L ").speed(1.0))
                .on_hover_text("Window level (centre)");
            if w.changed() || l.changed() {
                commands.push(Command::SetWindow {
                    pane,
                    window: crate::volume::Window {
                        center: level,
                        width,
                    },
                });
            }
        }
        ui.separator();
        let label = if cine.playing { "■ Cine" } else { "▶ Cine" };
        if ui
            .selectable_label(cine.playing, label)
            .on_hover_text("Play through the images of the active pane (C)")
            .clicked()
        {
            cine.playing = !cine.playing;
        }
        ui.add(
            egui::DragValue::new(&mut cine.fps)
                .range(1.0..=60.0)
                .suffix(" fps")
                .speed(0.2),
        );
        ui.separator();
        if ui
            .add_enabled(workspace.history.can_undo(), egui::Button::new("Undo"))
            .on_hover_text("Undo (Ctrl+Z)")
            .clicked()
        {
            commands.push(Command::Undo);
        }
        if ui
            .add_enabled(workspace.history.can_redo(), egui::Button::new("Redo"))
            .on_hover_text("Redo (Ctrl+Shift+Z)")
            .clicked()
        {
            commands.push(Command::Redo);
        }
    });
}

fn status_ui(ui: &mut egui::Ui, workspace: &Workspace) {
    ui.horizontal(|ui| {
        if let Some(fraction) = workspace.loading {
            ui.add(
                egui::ProgressBar::new(fraction)
                    .desired_width(240.0)
                    .show_percentage()
                    .text("Loading series"),
            );
        }
        ui.label(format!("{} series loaded", workspace.series.len()));
        if !workspace.ignored.is_empty() {
            ui.label(
                RichText::new(format!(
                    "· {} non-DICOM file(s) ignored",
                    workspace.ignored.len()
                ))
                .weak(),
            )
            .on_hover_ui(|ui| {
                // file names only: folder paths can carry a patient's name
                for p in workspace.ignored.iter().take(40) {
                    ui.label(
                        p.file_name()
                            .map(|n| n.to_string_lossy().to_string())
                            .unwrap_or_default(),
                    );
                }
            });
        }
        if !workspace.skipped.is_empty() {
            ui.label(format!("· {} file(s) skipped", workspace.skipped.len()))
                .on_hover_ui(|ui| {
                    for s in workspace.skipped.iter().take(40) {
                        ui.label(workspace.blind_text(&format!(
                            "{}: {}",
                            s.path.display(),
                            s.reason
                        )));
                    }
                });
        }
        ui.label(format!("· tool: {}", workspace.tools.active.name()));
        ui.separator();
        project::autosave_ui(ui, workspace);
        if let Some(message) = workspace.messages.last() {
            ui.separator();
            ui.colored_label(
                egui::Color32::from_rgb(230, 200, 150),
                workspace.blind_text(message),
            )
            .on_hover_ui(|ui| {
                for m in workspace.messages.iter().rev().take(20) {
                    ui.label(workspace.blind_text(m));
                }
            });
        }
    });
}

fn thumbnail(
    ctx: &egui::Context,
    cache: &mut HashMap<String, egui::TextureHandle>,
    entry: &SeriesEntry,
) -> Option<egui::TextureId> {
    if let Some(t) = cache.get(entry.uid()) {
        return Some(t.id());
    }
    let volume = entry.volume();
    let frame = PlaneFrame::new(volume, Plane::Native, volume.slices() / 2)?;
    let mut grey = vec![0u8; frame.width * frame.height];
    if !window_plane(
        volume,
        &frame,
        crate::session::default_window(volume),
        &mut grey,
    ) {
        return None;
    }
    // box-downsample to at most 64 pixels wide
    let step = (frame.width.max(frame.height) / 64).max(1);
    let (w, h) = (frame.width / step, frame.height / step);
    let small: Vec<u8> = (0..h)
        .flat_map(|y| (0..w).map(move |x| (x, y)))
        .map(|(x, y)| {
            grey.get(y * step * frame.width + x * step)
                .copied()
                .unwrap_or(0)
        })
        .collect();
    let image = egui::ColorImage::from_gray([w, h], &small);
    let handle = ctx.load_texture(
        format!("thumb-{}", entry.uid()),
        image,
        egui::TextureOptions::LINEAR,
    );
    let id = handle.id();
    cache.insert(entry.uid().to_string(), handle);
    Some(id)
}

fn browser_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut UiState,
    commands: &mut Vec<Command>,
) {
    // long descriptions elide (hover shows them whole) instead of widening
    // the panel over the image
    ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Truncate);
    egui::ScrollArea::vertical().show(ui, |ui| {
        for patient in workspace.patient_groups() {
            let name = workspace
                .series
                .iter()
                .find(|e| e.patient_key() == patient.patient_key)
                .map(|e| e.volume().meta.patient.name.replace('^', " "))
                .unwrap_or_default();
            if workspace.project.blinded {
                ui.label(
                    egui::RichText::new(workspace.patient_label(&patient.patient_key)).heading(),
                );
                ui.label(egui::RichText::new("blinded reading").weak());
            } else {
                ui.label(egui::RichText::new(name).heading());
                ui.label(egui::RichText::new(format!("ID {}", patient.patient_key)).weak());
            }
            for (n, tp) in patient.timepoints.iter().enumerate() {
                let locked = tp
                    .date
                    .is_some_and(|d| workspace.project.is_locked(&patient.patient_key, d));
                let lock = if locked { " · signed off" } else { "" };
                let label = match (n, tp.day) {
                    _ if workspace.project.blinded => {
                        format!("{} · day {}{lock}", tp.visit, tp.day.unwrap_or(0))
                    }
                    (0, _) => format!("{} · {}", tp.visit, pretty_date(&tp.study_date)),
                    (_, Some(day)) => {
                        format!("{} · {} · day {day}", tp.visit, pretty_date(&tp.study_date))
                    }
                    _ => format!("{} · {}", tp.visit, pretty_date(&tp.study_date)),
                };
                let label = if locked && !workspace.project.blinded {
                    format!("{label}{lock}")
                } else {
                    label
                };
                let label = if n == 0 {
                    format!("{label}  (baseline)")
                } else {
                    label
                };
                egui::CollapsingHeader::new(egui::RichText::new(label).strong())
                    .id_salt(("tp", &patient.patient_key, &tp.study_date))
                    .default_open(true)
                    .show(ui, |ui| {
                        for &i in &tp.series {
                            let Some(entry) = workspace.series.get(i) else {
                                continue;
                            };
                            let shown = workspace.panes[..workspace.layout.pane_count()]
                                .iter()
                                .any(|p| p.series == Some(i));
                            let v = entry.volume();
                            let description = if v.meta.series_description.is_empty() {
                                "(no description)".to_string()
                            } else {
                                workspace.blind_text(&v.meta.series_description)
                            };
                            let response = ui
                                .horizontal(|ui| {
                                    if let Some(id) =
                                        thumbnail(ui.ctx(), &mut state.thumbnails, entry)
                                    {
                                        ui.add(egui::Image::new((id, egui::vec2(48.0, 48.0))));
                                    }
                                    ui.vertical(|ui| {
                                        let response = ui.selectable_label(
                                            shown,
                                            format!("{}  {}", v.meta.modality, description),
                                        );
                                        ui.label(
                                            RichText::new(format!(
                                                "{} slices{}",
                                                v.slices(),
                                                signal::t2_tag(workspace, i)
                                            ))
                                            .weak(),
                                        );
                                        response
                                    })
                                    .inner
                                })
                                .inner;
                            if response.clicked() {
                                commands.push(Command::ShowSeries {
                                    pane: workspace.active_pane,
                                    series: i,
                                });
                            }
                            signal::t2_override_menu(&response, workspace, i, commands);
                        }
                    });
            }
            ui.separator();
        }
    });
}

/// The date of a series as shown: YYYY-MM-DD, or `day N` when blinded.
pub fn series_date_text(workspace: &Workspace, entry: &SeriesEntry) -> String {
    match (workspace.project.blinded, entry.date) {
        (false, _) => pretty_date(&entry.volume().meta.study_date),
        (true, Some(date)) => workspace.date_label(&entry.patient_key(), date),
        (true, None) => "day ?".to_string(),
    }
}

/// YYYYMMDD → YYYY-MM-DD (as is when it does not look like a date).
pub fn pretty_date(date: &str) -> String {
    match (date.get(0..4), date.get(4..6), date.get(6..8)) {
        (Some(y), Some(m), Some(d)) if date.len() == 8 => format!("{y}-{m}-{d}"),
        _ => date.to_string(),
    }
}

/// One selectable entry per pane layout (used by the View menu and the toolbar).
fn layout_choice_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    let orientation = workspace
        .active_series()
        .and_then(|e| e.volume().geometry.orientation);
    for layout in [Layout::Single, Layout::Reformats, Layout::Compare] {
        if ui
            .selectable_label(workspace.layout == layout, layout.name(orientation))
            .clicked()
        {
            commands.push(Command::SetLayout(layout));
        }
    }
}
