//! Project panels: the File-menu entries (new, open, recent, relink,
//! blinded reading, reader name), the autosave indicator, timepoint
//! sign-off (lock/unlock), the per-lesion audit window and the relink
//! window. They read the session and emit [`Command`]s.

use std::path::PathBuf;

use egui::{Color32, RichText};

use crate::session::{Command, SaveStatus, Workspace};

/// UI-only project state.
#[derive(Debug, Default)]
pub struct ProjectUi {
    /// Recent projects (read when the File menu opens).
    pub recent: Vec<PathBuf>,
    /// The reader-name field.
    pub reader: String,
    /// Whether the relink window is open.
    pub relink_open: bool,
    /// The "unsaved work" prompt is showing (a close was cancelled).
    pub close_prompt: bool,
    /// The reader chose to quit anyway: let the next close through.
    pub allow_close: bool,
}

/// Called when the window is asked to close: whether to cancel the close
/// and ask the reader first, because closing would lose reads
/// ([`Workspace::unsaved_work`]).
pub fn close_needs_prompt(workspace: &Workspace, state: &mut ProjectUi) -> bool {
    if state.allow_close || workspace.unsaved_work().is_none() {
        return false;
    }
    state.close_prompt = true;
    true
}

/// The prompt shown when closing would lose reads: save as a project, keep
/// Nadir open (failed writes keep being retried), or quit anyway.
pub fn close_prompt_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut ProjectUi,
    commands: &mut Vec<Command>,
) {
    if !state.close_prompt {
        return;
    }
    let Some(why) = workspace.unsaved_work() else {
        state.close_prompt = false;
        return;
    };
    egui::Window::new("Unsaved reads")
        .collapsible(false)
        .resizable(false)
        .anchor(egui::Align2::CENTER_CENTER, egui::vec2(0.0, 0.0))
        .show(ui.ctx(), |ui| {
            ui.label(why);
            ui.add_space(6.0);
            ui.horizontal(|ui| {
                let no_project = matches!(workspace.project.status(), SaveStatus::NoProject);
                if no_project
                    && ui.button("Save as project…").clicked()
                    && let Some(path) = pick_project_to_save()
                {
                    commands.push(Command::NewProject(path));
                    state.close_prompt = false;
                }
                if ui.button("Keep Nadir open").clicked() {
                    state.close_prompt = false;
                }
                if ui.button("Quit and lose them").clicked() {
                    state.close_prompt = false;
                    state.allow_close = true;
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
        });
}

fn pick_project_to_save() -> Option<PathBuf> {
    rfd::FileDialog::new()
        .add_filter("Nadir project", &[crate::store::EXTENSION])
        .set_file_name("study.nadir")
        .save_file()
}

fn pick_project_to_open() -> Option<PathBuf> {
    rfd::FileDialog::new()
        .add_filter("Nadir project", &[crate::store::EXTENSION])
        .pick_file()
}

/// File-menu entries for projects.
pub fn project_menu_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut ProjectUi,
    commands: &mut Vec<Command>,
) {
    if ui
        .button("New project…")
        .on_hover_text("Save this session as a .nadir project; every change is saved as it happens")
        .clicked()
        && let Some(path) = pick_project_to_save()
    {
        commands.push(Command::NewProject(path));
    }
    if ui.button("Open project…").clicked()
        && let Some(path) = pick_project_to_open()
    {
        commands.push(Command::OpenProject(path));
    }
    ui.menu_button("Open recent", |ui| {
        if state.recent.is_empty() {
            state.recent = crate::session::project::config_dir()
                .map(|d| crate::session::project::recent_projects(&d))
                .unwrap_or_default();
        }
        if state.recent.is_empty() {
            ui.label(RichText::new("no recent projects").weak());
        }
        for path in &state.recent {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if ui
                .button(name)
                .on_hover_text(path.display().to_string())
                .clicked()
            {
                commands.push(Command::OpenProject(path.clone()));
            }
        }
    });
    let missing = workspace.project.missing.len();
    if ui
        .add_enabled(
            missing > 0,
            egui::Button::new(format!("Relink missing series ({missing})…")),
        )
        .clicked()
    {
        state.relink_open = true;
    }
    ui.separator();
    let mut blinded = workspace.project.blinded;
    if ui
        .checkbox(&mut blinded, "Blinded reading")
        .on_hover_text(
            "Hide patient name, ID and dates everywhere (pseudonyms, days from baseline); exports are de-identified too",
        )
        .changed()
    {
        commands.push(Command::SetBlinded(blinded));
    }
    ui.horizontal(|ui| {
        ui.label("Reader");
        if state.reader.is_empty() {
            state.reader = workspace.project.reader_name();
        }
        let response = ui.add(
            egui::TextEdit::singleline(&mut state.reader)
                .desired_width(120.0)
                .hint_text("name for the audit trail"),
        );
        if response.lost_focus() && state.reader.trim() != workspace.project.reader_name() {
            commands.push(Command::SetReader(state.reader.clone()));
        }
    });
}

/// The autosave indicator (status bar).
pub fn autosave_ui(ui: &mut egui::Ui, workspace: &Workspace) {
    let name = workspace
        .project
        .file
        .as_ref()
        .and_then(|f| f.path.file_name())
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let (text, colour, hover) = match workspace.project.status() {
        SaveStatus::NoProject => (
            "not saved (no project)".to_string(),
            Color32::from_rgb(240, 180, 110),
            "Changes live only in this session: File > New project… saves them as they happen"
                .to_string(),
        ),
        SaveStatus::Saved(t) => (
            format!("{name}: saved"),
            Color32::from_rgb(150, 200, 150),
            match t {
                Some(t) => format!(
                    "Every change is saved as it happens; last save {:.1} ms",
                    t.as_secs_f64() * 1000.0
                ),
                None => "Every change is saved as it happens".into(),
            },
        ),
        SaveStatus::Saving(n) => (
            format!("saving {name}… ({n})"),
            Color32::from_rgb(230, 220, 150),
            "Writing on the background thread".into(),
        ),
        SaveStatus::Failed(e) => (
            format!("{name}: SAVE FAILED, retrying"),
            Color32::from_rgb(245, 130, 120),
            format!("{e}\nNothing is dropped: the change is retried before the next one."),
        ),
        SaveStatus::ReadOnly(reason) => (
            format!("{name}: read-only"),
            Color32::from_rgb(245, 130, 120),
            format!("{reason}\nChanges are not saved; the file is never written."),
        ),
    };
    ui.colored_label(colour, text).on_hover_text(hover);
    if workspace.project.blinded {
        ui.colored_label(Color32::from_rgb(190, 160, 240), "blinded");
    }
}

/// Sign-off of the current patient's timepoints: one toggle per timepoint.
pub fn signoff_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    let (Some(key), Some(patient)) = (workspace.current_patient_key(), workspace.current_patient())
    else {
        return;
    };
    if patient.timepoints.is_empty() {
        return;
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Sign-off").strong()).on_hover_text(
            "A signed-off timepoint is read-only; unlocking is recorded in the audit trail",
        );
        for t in &patient.timepoints {
            let signed = workspace.project.sign_off(&key, t.date);
            let locked = signed.is_some();
            let label = if locked {
                format!("{} signed off", patient.visit_label(t.date))
            } else {
                patient.visit_label(t.date)
            };
            let hover = format!(
                "{} ({}): {}",
                patient.visit_label(t.date),
                workspace.date_label(&key, t.date),
                match signed {
                    Some(s) => format!(
                        "signed off by {} at {} UTC — click to unlock",
                        s.by,
                        s.at_utc.replace('T', " ").trim_end_matches('Z')
                    ),
                    None => "open — click to sign off (lock)".to_string(),
                }
            );
            if ui
                .selectable_label(locked, label)
                .on_hover_text(hover)
                .clicked()
            {
                if locked {
                    commands.push(Command::SetLock {
                        date: t.date,
                        locked: false,
                    });
                } else {
                    // signing is never one click: ask for the meaning first
                    ui.data_mut(|d| d.insert_temp(signoff_id(), Some((t.date, false))));
                }
            }
        }
    });
    if workspace.project.file.is_some()
        && ui
            .small_button("Audit trail…")
            .on_hover_text(
                "Every change to this patient's read, sign-offs included: who, when, what",
            )
            .clicked()
    {
        commands.push(Command::ShowPatientAudit);
    }
    signoff_confirm_ui(ui, workspace, patient, commands);
}

fn signoff_id() -> egui::Id {
    egui::Id::unique("signoff_pending")
}

/// The meaning of a signature, as 21 CFR 11.50 asks it to be stated.
pub const SIGNATURE_MEANING: &str = "Authorship: I performed this assessment";

/// The confirmation of a sign-off: who signs, what the signature means
/// (ticked by the reader), then Sign or Cancel.
fn signoff_confirm_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    patient: &crate::tracking::Patient,
    commands: &mut Vec<Command>,
) {
    let Some(Some((date, mut agreed))) =
        ui.data(|d| d.get_temp::<Option<(crate::recist::Date, bool)>>(signoff_id()))
    else {
        return;
    };
    let mut keep = true;
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(RichText::new(format!("Sign off {}?", patient.visit_label(date))).strong());
        let signer = workspace
            .project
            .reader
            .clone()
            .unwrap_or_else(crate::store::os_user);
        ui.label(format!(
            "Signed as {signer}; the timepoint becomes read-only."
        ));
        ui.checkbox(&mut agreed, SIGNATURE_MEANING);
        ui.horizontal(|ui| {
            if ui
                .add_enabled(agreed, egui::Button::new("Sign"))
                .on_disabled_hover_text("Tick the meaning of the signature first")
                .clicked()
            {
                commands.push(Command::SetLock { date, locked: true });
                keep = false;
            }
            if ui.button("Cancel").clicked() {
                keep = false;
            }
        });
    });
    let value = keep.then_some((date, agreed));
    ui.data_mut(|d| d.insert_temp(signoff_id(), value));
}

/// The audit window of the lesion chosen with "Audit…".
pub fn audit_window_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    let Some(view) = &workspace.project.audit_view else {
        return;
    };
    let title = match view.lesion_id.as_deref() {
        Some(lesion) => format!("Audit trail — {lesion}"),
        None => "Audit trail — whole patient (sign-offs included)".to_string(),
    };
    let mut open = true;
    egui::Window::new(title)
        .open(&mut open)
        .default_size([620.0, 320.0])
        .default_pos(egui::pos2(300.0, 560.0))
        .show(ui.ctx(), |ui| {
            if view.rows.is_empty() {
                ui.label("No changes recorded yet.");
            }
            egui::ScrollArea::vertical().show(ui, |ui| {
                egui::Grid::new("audit_rows")
                    .striped(true)
                    .num_columns(4)
                    .show(ui, |ui| {
                        let when = if workspace.project.blinded {
                            "#"
                        } else {
                            "When (UTC)"
                        };
                        ui.label(RichText::new(when).strong());
                        ui.label(RichText::new("Who").strong());
                        ui.label(RichText::new("Where").strong());
                        ui.label(RichText::new("What").strong());
                        ui.end_row();
                        let patient = workspace.patients.get(&view.patient_key);
                        for row in &view.rows {
                            // the time of the change is not a patient date,
                            // but blinded reading hides it too
                            let when = if workspace.project.blinded {
                                format!("#{}", row.seq)
                            } else {
                                row.at_utc
                                    .replace('T', " ")
                                    .trim_end_matches('Z')
                                    .to_string()
                            };
                            ui.label(when);
                            ui.label(&row.reader);
                            let at = match (row.date, patient) {
                                (Some(d), Some(p)) => format!(
                                    "{} {}",
                                    p.visit_label(d),
                                    workspace.date_label(&view.patient_key, d)
                                ),
                                (Some(d), None) => workspace.date_label(&view.patient_key, d),
                                _ => String::new(),
                            };
                            ui.label(at);
                            let what = format!("{}: {}", row.action, row.description);
                            let label = ui.label(workspace.blind_text(&what));
                            if let Some(json) = &row.edit_json {
                                label.on_hover_text(workspace.blind_text(json));
                            }
                            ui.end_row();
                        }
                    });
            });
        });
    if !open {
        commands.push(Command::ShowAudit(None));
    }
}

/// The relink window: the project's series whose folder is gone, and a
/// button to choose the folder they moved to.
pub fn relink_window_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    state: &mut ProjectUi,
    commands: &mut Vec<Command>,
) {
    if !state.relink_open {
        return;
    }
    let mut open = true;
    egui::Window::new("Relink missing series")
        .open(&mut open)
        .default_size([560.0, 240.0])
        .show(ui.ctx(), |ui| {
            if workspace.project.missing.is_empty() {
                ui.label("Every series of the project is found.");
                return;
            }
            ui.label("These series were not found where the project last saw them. Choose the folder they are in now: series are matched by SeriesInstanceUID and pixel fingerprint.");
            egui::Grid::new("missing_series").striped(true).show(ui, |ui| {
                for s in &workspace.project.missing {
                    let key = &s.patient_key;
                    let date = crate::session::dicom_date(&s.study_date)
                        .map(|d| workspace.date_label(key, d))
                        .unwrap_or_default();
                    ui.label(workspace.patient_label(key));
                    ui.label(date);
                    ui.label(format!("{} {}", s.modality, s.description));
                    ui.label(RichText::new(workspace.blind_text(&s.folder.display().to_string())).weak());
                    ui.end_row();
                }
            });
            if ui.button("Choose folder…").clicked()
                && let Some(dir) = rfd::FileDialog::new().pick_folder()
            {
                commands.push(Command::RelinkFolder(dir));
            }
        });
    if !open {
        state.relink_open = false;
    }
}
