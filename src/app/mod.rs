//! The eframe shell (feature `gui`): owns the session, polls background jobs,
//! lays out the panels and applies what the panels asked for after layout.

use std::path::{Path, PathBuf};

use crate::session::{CohortSource, Command, LoadEvent, LoadJob, Workspace};
use crate::ui;

/// Opens the workstation window on `path` (default: the bundled `sample_scans`),
/// importing the lesion table `lesions` once the images are loaded; with
/// `cohort`, the Cohort tab opens on it. With `project`, the read goes into
/// that project file: opened when it exists (then `path`, if given, is
/// added to it), else created once `path` has loaded.
pub fn run(
    path: Option<PathBuf>,
    lesions: Option<PathBuf>,
    cohort: Option<CohortSource>,
    project: Option<PathBuf>,
) -> anyhow::Result<()> {
    let existing_project = project.as_ref().filter(|p| p.exists()).cloned();
    let explicit_path = path.clone();
    let start = match &existing_project {
        Some(p) => p.clone(),
        None => path.unwrap_or_else(default_folder),
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("Nadir")
            .with_inner_size([1600.0, 1000.0])
            .with_drag_and_drop(true),
        ..Default::default()
    };
    eframe::run_native(
        "Nadir",
        options,
        Box::new(move |cc| {
            let mut app = NadirApp::new(&cc.egui_ctx, &start);
            app.pending_import = lesions;
            match (&existing_project, project) {
                (Some(_), _) => {
                    if let Some(folder) = explicit_path {
                        app.open_folder(&folder);
                    }
                }
                (None, new) => app.pending_new_project = new,
            }
            let command = match cohort {
                Some(CohortSource::Results(path)) => Some(Command::ImportCohortResults(path)),
                Some(CohortSource::Lesions { lesions, patients }) => {
                    Some(Command::ImportCohortLesions { lesions, patients })
                }
                Some(CohortSource::Session) => Some(Command::CohortFromSession),
                None => None,
            };
            if let Some(command) = command {
                app.workspace.apply(command);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
}

/// `sample_scans` next to the executable's crate, else in the working directory.
fn default_folder() -> PathBuf {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans");
    if bundled.is_dir() {
        bundled
    } else {
        PathBuf::from("sample_scans")
    }
}

/// The application: a workspace of loaded series plus the loading job.
pub struct NadirApp {
    workspace: Workspace,
    ui_state: ui::UiState,
    job: Option<LoadJob>,
    /// A lesion table to import when loading has finished.
    pending_import: Option<PathBuf>,
    /// A project file to create once loading has finished (`--project`).
    pending_new_project: Option<PathBuf>,
    /// Folders of the open project still to load, after the running job.
    pending_folders: Vec<PathBuf>,
    /// Loading the folders of a project (missing series are listed after).
    project_loading: bool,
    /// The window title last set.
    title: String,
}

impl NadirApp {
    /// Creates the app and starts loading `folder`.
    pub fn new(ctx: &egui::Context, folder: &Path) -> Self {
        ui::style::apply(ctx);
        let mut app = NadirApp {
            workspace: Workspace::default(),
            ui_state: ui::UiState::default(),
            job: None,
            pending_import: None,
            pending_new_project: None,
            pending_folders: Vec::new(),
            project_loading: false,
            title: "Nadir".into(),
        };
        if crate::store::is_project_path(folder) {
            app.open_project(folder);
        } else {
            app.open_folder(folder);
        }
        app
    }

    /// Opens a project: its lesions at once, its folders one after another.
    fn open_project(&mut self, path: &Path) {
        // the open project's queued writes first (it may be the same file)
        self.workspace
            .project
            .flush(std::time::Duration::from_secs(10));
        let mut fresh = crate::session::Workspace::default();
        match fresh.open_project(path) {
            Ok(folders) => {
                if let Some(job) = &self.job {
                    job.cancel();
                }
                self.job = None;
                let previous = std::mem::replace(&mut self.workspace, fresh);
                self.workspace.cohort = previous.cohort;
                self.workspace.central = previous.central;
                if let Some(dir) = crate::session::project::config_dir() {
                    let _ = crate::session::project::remember_recent(&dir, path);
                }
                self.ui_state.project = Default::default();
                self.pending_folders = folders;
                self.project_loading = true;
                self.start_next_folder();
            }
            Err(e) => self.workspace.messages.push(e),
        }
    }

    /// Starts loading the next pending folder (project opening or relinking).
    fn start_next_folder(&mut self) -> bool {
        while !self.pending_folders.is_empty() {
            let folder = self.pending_folders.remove(0);
            // absolute, so the project finds it again from anywhere
            self.workspace.project.load_root =
                Some(std::fs::canonicalize(&folder).unwrap_or_else(|_| folder.clone()));
            match LoadJob::start(&folder) {
                Ok(job) => {
                    self.job = Some(job);
                    return true;
                }
                Err(e) => self
                    .workspace
                    .messages
                    .push(format!("{}: {e}", folder.display())),
            }
        }
        if self.project_loading {
            self.project_loading = false;
            self.workspace.project_loading_finished();
        }
        false
    }

    fn open_folder(&mut self, folder: &Path) {
        if let Some(job) = &self.job {
            job.cancel();
        }
        if self.workspace.project.file.is_some() {
            // With a project open, a folder adds its images to the project.
            self.pending_folders.push(folder.to_path_buf());
            self.job = None;
            self.start_next_folder();
            return;
        }
        // A new folder replaces the images, not the cohort or the tab shown.
        let previous = std::mem::take(&mut self.workspace);
        self.workspace.cohort = previous.cohort;
        self.workspace.central = previous.central;
        self.workspace.project.load_root =
            Some(std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf()));
        match LoadJob::start(folder) {
            Ok(job) => self.job = Some(job),
            Err(e) => self
                .workspace
                .messages
                .push(format!("{}: {e}", folder.display())),
        }
    }

    fn poll_job(&mut self, ctx: &egui::Context) {
        let Some(job) = &mut self.job else { return };
        for event in job.poll() {
            match event {
                LoadEvent::Planned {
                    skipped, ignored, ..
                } => {
                    self.workspace.skipped.extend(skipped);
                    self.workspace.ignored.extend(ignored);
                }
                LoadEvent::Loaded(series) => self.workspace.add_series(*series),
                LoadEvent::Failed(skipped) => self.workspace.skipped.extend(skipped),
                LoadEvent::Error(e) => self.workspace.messages.push(e),
                LoadEvent::Finished => {}
            }
        }
        self.workspace.loading = (!job.is_finished()).then(|| job.fraction());
        if job.is_finished() {
            self.job = None;
            if self.start_next_folder() {
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
                return;
            }
            if let Some(path) = self.pending_new_project.take() {
                self.workspace.apply(Command::NewProject(path));
            } else if self.workspace.project.file.is_none() {
                self.autosave_project();
            }
            if let Some(path) = self.pending_import.take() {
                self.workspace.apply(Command::ImportLesionTable(path));
            }
        } else {
            // Keep polling while the job runs; idle otherwise (no repaint, ~0 CPU).
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    /// Images opened without a project: the read goes into an autosaved
    /// project in the user's data folder, named by patient and date, so the
    /// audit trail starts with the first gesture (File > New project… saves
    /// it under another name).
    fn autosave_project(&mut self) {
        let Some(entry) = self.workspace.series.first() else {
            return;
        };
        let (key, date) = (entry.patient_key(), entry.volume().meta.study_date.clone());
        let Some(dir) = crate::session::project::reads_dir() else {
            return;
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            self.workspace
                .messages
                .push(format!("cannot autosave the read: {}: {e}", dir.display()));
            return;
        }
        let path = crate::session::project::autosave_path(&dir, &key, &date);
        self.workspace.apply(Command::NewProject(path));
    }

    fn apply(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::OpenFolder(path) => self.open_folder(&path),
                Command::OpenProject(path) => self.open_project(&path),
                Command::RelinkFolder(path) => {
                    self.workspace.project.relinking = true;
                    self.project_loading = true;
                    self.pending_folders.push(path);
                    if self.job.is_none() {
                        self.start_next_folder();
                    }
                }
                other => self.workspace.apply(other),
            }
        }
    }
}

impl eframe::App for NadirApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_job(ctx);
        if self.workspace.poll_project() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
        let title = match &self.workspace.project.file {
            Some(f) => format!(
                "Nadir — {}{}",
                f.path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default(),
                if self.workspace.project.blinded {
                    " (blinded)"
                } else {
                    ""
                }
            ),
            None => "Nadir".to_string(),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        if self.workspace.cohort.poll() {
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            if crate::store::is_project_path(&path) {
                self.open_project(&path);
            } else {
                self.open_folder(&path);
            }
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Whatever is queued reaches the disk before the window goes.
        self.workspace
            .project
            .flush(std::time::Duration::from_secs(10));
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        // Closing would lose reads (no project, failed writes): ask first.
        if ui.ctx().input(|i| i.viewport().close_requested())
            && ui::project::close_needs_prompt(&self.workspace, &mut self.ui_state.project)
        {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::CancelClose);
        }
        let commands = ui::workstation_ui(ui, &self.workspace, &mut self.ui_state);
        self.apply(commands);
    }
}
