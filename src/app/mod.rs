//! The eframe shell (feature `gui`): owns the session, polls background jobs,
//! lays out the panels and applies what the panels asked for after layout.

use std::path::{Path, PathBuf};

use crate::session::{CohortSource, Command, LoadEvent, LoadJob, Workspace};
use crate::ui;

/// Opens the workstation window on `path` (default: the bundled `sample_scans`),
/// importing the lesion table `lesions` once the images are loaded; with
/// `cohort`, the Cohort tab opens on it.
pub fn run(
    path: Option<PathBuf>,
    lesions: Option<PathBuf>,
    cohort: Option<CohortSource>,
) -> anyhow::Result<()> {
    let start = path.unwrap_or_else(default_folder);
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
        };
        app.open_folder(folder);
        app
    }

    fn open_folder(&mut self, folder: &Path) {
        if let Some(job) = &self.job {
            job.cancel();
        }
        // A new folder replaces the images, not the cohort or the tab shown.
        let previous = std::mem::take(&mut self.workspace);
        self.workspace.cohort = previous.cohort;
        self.workspace.central = previous.central;
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
                LoadEvent::Planned { skipped, .. } => self.workspace.skipped.extend(skipped),
                LoadEvent::Loaded(series) => self.workspace.add_series(*series),
                LoadEvent::Failed(skipped) => self.workspace.skipped.extend(skipped),
                LoadEvent::Error(e) => self.workspace.messages.push(e),
                LoadEvent::Finished => {}
            }
        }
        self.workspace.loading = (!job.is_finished()).then(|| job.fraction());
        if job.is_finished() {
            self.job = None;
            if let Some(path) = self.pending_import.take() {
                self.workspace.apply(Command::ImportLesionTable(path));
            }
        } else {
            // Keep polling while the job runs; idle otherwise (no repaint, ~0 CPU).
            ctx.request_repaint_after(std::time::Duration::from_millis(50));
        }
    }

    fn apply(&mut self, commands: Vec<Command>) {
        for command in commands {
            match command {
                Command::OpenFolder(path) => self.open_folder(&path),
                other => self.workspace.apply(other),
            }
        }
    }
}

impl eframe::App for NadirApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_job(ctx);
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
            self.open_folder(&path);
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let commands = ui::workstation_ui(ui, &self.workspace, &mut self.ui_state);
        self.apply(commands);
    }
}
