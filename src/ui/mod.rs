//! egui panels (feature `gui`). Functions that draw take `&mut egui::Ui`, end
//! in `_ui`, read the session and return [`Command`]s; they never mutate the
//! session themselves.

pub mod style;
pub mod viewport;

use crate::session::{Command, Workspace};
use crate::volume::Window;

/// State that only the UI needs (textures, caches).
#[derive(Default)]
pub struct UiState {
    /// The slice texture of the main viewport.
    pub viewport: viewport::SliceTexture,
}

/// The whole workstation: menu, series browser, viewport, status bar.
pub fn workstation_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut UiState,
) -> Vec<Command> {
    let mut commands = Vec::new();
    egui::Panel::top("menu").show(ui, |ui| menu_ui(ui, &mut commands));
    egui::Panel::bottom("status").show(ui, |ui| status_ui(ui, workspace));
    egui::Panel::left("browser")
        .resizable(true)
        .default_size(260.0)
        .show(ui, |ui| browser_ui(ui, workspace, &mut commands));
    egui::CentralPanel::no_frame()
        .frame(egui::Frame::new().fill(egui::Color32::BLACK))
        .show(ui, |ui| match workspace.selected_entry() {
            Some(entry) => viewport::viewport_ui(ui, entry, &mut state.viewport, &mut commands),
            None => {
                ui.centered_and_justified(|ui| {
                    let text = if workspace.loading.is_some() {
                        "Loading…"
                    } else {
                        "No images. File ▸ Open folder… or drop a folder here."
                    };
                    ui.label(
                        egui::RichText::new(text)
                            .color(egui::Color32::GRAY)
                            .size(18.0),
                    );
                });
            }
        });
    commands
}

fn menu_ui(ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui.button("Open folder…").clicked()
                && let Some(dir) = rfd::FileDialog::new().pick_folder()
            {
                commands.push(Command::OpenFolder(dir));
            }
        });
        ui.menu_button("Window", |ui| {
            for (name, window) in presets() {
                if ui.button(name).clicked() {
                    commands.push(Command::SetWindow(window));
                }
            }
        });
    });
}

/// Named CT window presets, with their keyboard shortcuts.
pub fn presets() -> [(&'static str, Window); 5] {
    [
        ("Soft tissue 400/40  [1]", Window::SOFT_TISSUE),
        ("Lung 1500/−600  [2]", Window::LUNG),
        ("Bone 1800/400  [3]", Window::BONE),
        ("Liver 150/30  [4]", Window::LIVER),
        ("Brain 80/40  [5]", Window::BRAIN),
    ]
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
        if !workspace.skipped.is_empty() {
            ui.label(format!("· {} file(s) skipped", workspace.skipped.len()))
                .on_hover_ui(|ui| {
                    for s in workspace.skipped.iter().take(40) {
                        ui.label(format!("{}: {}", s.path.display(), s.reason));
                    }
                });
        }
        for e in &workspace.errors {
            ui.colored_label(egui::Color32::LIGHT_RED, e);
        }
    });
}

fn browser_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        for patient in workspace.patients() {
            ui.heading(format!("Patient {}", patient.patient_key));
            for (n, tp) in patient.timepoints.iter().enumerate() {
                let label = match (n, tp.day) {
                    (0, _) => format!("Baseline · {}", pretty_date(&tp.study_date)),
                    (_, Some(day)) => format!(
                        "Day {day} (week {:.0}) · {}",
                        day as f64 / 7.0,
                        pretty_date(&tp.study_date)
                    ),
                    _ => pretty_date(&tp.study_date),
                };
                egui::CollapsingHeader::new(egui::RichText::new(label).strong())
                    .id_salt(("tp", &patient.patient_key, &tp.study_date))
                    .default_open(true)
                    .show(ui, |ui| {
                        for &i in &tp.series {
                            let Some(entry) = workspace.series.get(i) else {
                                continue;
                            };
                            let v = &entry.loaded.volume;
                            let text = format!(
                                "{}  {}  ({} sl)",
                                v.meta.modality,
                                if v.meta.series_description.is_empty() {
                                    "(no description)"
                                } else {
                                    &v.meta.series_description
                                },
                                v.slices()
                            );
                            if ui
                                .selectable_label(workspace.selected == Some(i), text)
                                .clicked()
                            {
                                commands.push(Command::Select(i));
                            }
                        }
                    });
            }
            ui.separator();
        }
    });
}

/// YYYYMMDD → YYYY-MM-DD (as is when it does not look like a date).
pub fn pretty_date(date: &str) -> String {
    match (date.get(0..4), date.get(4..6), date.get(6..8)) {
        (Some(y), Some(m), Some(d)) if date.len() == 8 => format!("{y}-{m}-{d}"),
        _ => date.to_string(),
    }
}
