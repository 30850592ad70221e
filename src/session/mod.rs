//! Headless application state: what is loaded, how each pane shows it, the
//! measuring tools, the lesions being tracked with their undo history, and
//! the live RECIST assessment. No egui here, so all of it is testable
//! without a window; the UI only sends [`Command`]s.

pub mod attach;
pub mod cohort;
pub mod load;
pub mod project;
pub mod segmentation;
pub mod signal;
pub mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use attach::{AttachConcern, LesionChoice, lesion_choice};
pub use cohort::{Central, Cohort, CohortJob, CohortSource, CohortState};
pub use load::{LoadEvent, LoadJob};
pub use project::{AuditView, ProjectSession, SaveStatus, SignOff};
pub use segmentation::{SegmentGesture, SegmentState};
pub use signal::{LesionSignal, SignalSummary, SignalVisit};
pub use view::{
    Layout, Pane, SeriesView, WindowPreset, default_window, nearest_slice, percentile_window,
    slice_position_mm,
};

use crate::dicom::{LoadedSeries, Skipped};
use crate::geom::Vec3;
use crate::interchange::lesion_table::{parse_lesion_table, write_lesion_table};
use crate::measure::{ImageContext, Measurement, Shape};
use crate::recist::{AssessOptions, Category, Date, PatientAssessment, Warning, assess_patient};
use crate::tools::{Hit, PlaneContext, Tool, ToolOutcome, ToolState};
use crate::tracking::{
    Edit, Finding, Lesion, MeasurementId, Patient, SignalRole, StoredMeasurement, Timepoint,
    TrackingIssue, to_recist,
};
use crate::volume::plane::{MeasurementGeometry, Plane, PlaneFrame};
use crate::volume::{Volume, Window};

/// The smallest zoom relative to fit.
pub const MIN_ZOOM: f32 = 0.1;
/// The largest zoom relative to fit (a 512² CT then shows ~1 mm as ~60 px).
pub const MAX_ZOOM: f32 = 40.0;

/// One loaded series, its measuring geometry and its view state.
#[derive(Debug, Clone)]
pub struct SeriesEntry {
    /// The loaded series.
    pub loaded: LoadedSeries,
    /// The geometry measurements are made in.
    pub geometry: MeasurementGeometry,
    /// StudyDate as a date (the timepoint), when it parses.
    pub date: Option<Date>,
    /// How it is viewed.
    pub view: SeriesView,
}

impl SeriesEntry {
    /// Wraps a loaded series.
    pub fn new(loaded: LoadedSeries) -> SeriesEntry {
        let geometry = MeasurementGeometry::of(&loaded.volume);
        let date = dicom_date(&loaded.volume.meta.study_date);
        let view = SeriesView::initial(&loaded.volume);
        SeriesEntry {
            loaded,
            geometry,
            date,
            view,
        }
    }

    /// The volume.
    pub fn volume(&self) -> &Volume {
        &self.loaded.volume
    }

    /// The SeriesInstanceUID.
    pub fn uid(&self) -> &str {
        &self.loaded.volume.meta.series_instance_uid
    }

    /// The measuring context of this series.
    pub fn context(&self) -> ImageContext<'_> {
        ImageContext {
            volume: &self.loaded.volume,
            geometry: &self.geometry,
        }
    }

    /// The frame of `plane` at the current index.
    pub fn frame(&self, plane: Plane) -> Option<PlaneFrame> {
        PlaneFrame::new(self.volume(), plane, self.view.index_of(plane))
    }

    /// The patient key (PatientID, else name).
    pub fn patient_key(&self) -> String {
        patient_key(self.volume())
    }
}

/// A DICOM date (YYYYMMDD) as a [`Date`].
pub fn dicom_date(text: &str) -> Option<Date> {
    let t = text.trim();
    if t.len() != 8 {
        return None;
    }
    Date::from_ymd(
        t.get(0..4)?.parse().ok()?,
        t.get(4..6)?.parse().ok()?,
        t.get(6..8)?.parse().ok()?,
    )
}

fn patient_key(volume: &Volume) -> String {
    let p = &volume.meta.patient;
    if p.id.is_empty() {
        p.name.clone()
    } else {
        p.id.clone()
    }
}

/// A pointer gesture on a pane, already in the pane's patient space.
#[derive(Debug, Clone, PartialEq)]
pub enum PointerEvent {
    /// Primary button pressed.
    Press {
        /// Where.
        at: Vec3,
        /// The plane under the pointer.
        plane: PlaneContext,
        /// What was hit.
        hit: Option<Hit>,
    },
    /// Moved with the button held.
    Drag(Vec3),
    /// Released.
    Release(Vec3),
}

/// What a gesture asks the session to do (one gesture, one command).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open another folder.
    OpenFolder(PathBuf),
    /// Read a lesion table (interchange §1) into the current patient (one undo step).
    ImportLesionTable(PathBuf),
    /// Write the current patient's lesion table.
    ExportLesionTable(PathBuf),
    /// Show series `series` in pane `pane`.
    ShowSeries {
        /// Pane index.
        pane: usize,
        /// Series index.
        series: usize,
    },
    /// Make a pane the active one (keyboard and browser act on it).
    ActivatePane(usize),
    /// Change the layout.
    SetLayout(Layout),
    /// Move a pane's plane by this many slices.
    Scroll {
        /// Pane.
        pane: usize,
        /// Slices (positive: towards higher indices).
        delta: i64,
    },
    /// Move a pane by this many images in image order: positive is the next
    /// image (higher InstanceNumber on the native plane, whichever way the
    /// slices are stored), as a PACS steps on wheel-down or the Down key.
    StepImage {
        /// Pane.
        pane: usize,
        /// Images (positive: next).
        images: i64,
    },
    /// Multiply a pane's zoom keeping the image point under `anchor` where
    /// it is (`anchor`: screen points from the centre of the pane's image
    /// area; `[0, 0]` zooms about the centre).
    ZoomAt {
        /// Pane.
        pane: usize,
        /// Factor.
        factor: f32,
        /// The fixed point, relative to the image area's centre.
        anchor: [f32; 2],
    },
    /// Move the crosshair of the reformat layout to a voxel `[column, row,
    /// slice]` of the pane's series: every plane family goes through it, so
    /// a click in one pane sets the other two.
    Crosshair {
        /// Pane clicked.
        pane: usize,
        /// Voxel indices `[column, row, slice]`.
        voxel: [usize; 3],
    },
    /// Set the zoom of a pane to exactly this (1 = fit), about its centre.
    SetZoom {
        /// Pane.
        pane: usize,
        /// Zoom relative to fit.
        zoom: f32,
    },
    /// Reverse the wheel: wheel-down goes to the previous image (the PACS
    /// custom, wheel-down = next image, is the default).
    SetWheelReversed(bool),
    /// Go to an index of a pane's plane.
    SetSlice {
        /// Pane.
        pane: usize,
        /// Index.
        index: usize,
    },
    /// Set the window of a pane's series.
    SetWindow {
        /// Pane.
        pane: usize,
        /// Window.
        window: Window,
    },
    /// Apply a preset to a pane's series.
    ApplyPreset {
        /// Pane.
        pane: usize,
        /// Preset.
        preset: WindowPreset,
    },
    /// Multiply a pane's zoom.
    Zoom {
        /// Pane.
        pane: usize,
        /// Factor.
        factor: f32,
    },
    /// Pan a pane by screen points.
    Pan {
        /// Pane.
        pane: usize,
        /// Delta.
        delta: [f32; 2],
    },
    /// Fit a pane again.
    ResetView(usize),
    /// Choose the tool.
    SelectTool(Tool),
    /// A pointer gesture for the tools.
    Pointer {
        /// Pane.
        pane: usize,
        /// Event.
        event: PointerEvent,
    },
    /// Esc: cancel the gesture in progress (or clear the selection).
    Cancel,
    /// Select a measurement (or none).
    SelectMeasurement(Option<MeasurementId>),
    /// Delete the selected measurement.
    DeleteSelected,
    /// Move one handle of a measurement to a point (the arrow-key nudge;
    /// one undo step).
    MoveHandle {
        /// The measurement.
        id: MeasurementId,
        /// The handle index (see `Shape::handles`).
        handle: usize,
        /// Where it goes (patient mm, on the measurement's plane).
        to: Vec3,
    },
    /// Undo the last edit.
    Undo,
    /// Redo the last undone edit.
    Redo,
    /// Turn a measurement into a new lesion at its timepoint.
    MakeLesion {
        /// The measurement.
        measurement: MeasurementId,
        /// Category.
        category: Category,
        /// Organ.
        organ: String,
        /// Lymph node.
        lymph_node: bool,
    },
    /// Record a measurement as an existing lesion's finding at its timepoint.
    AttachToLesion {
        /// The measurement.
        measurement: MeasurementId,
        /// The lesion.
        lesion_id: String,
    },
    /// Set (or clear) a lesion's finding at a timepoint without drawing.
    SetFinding {
        /// The lesion.
        lesion_id: String,
        /// The timepoint.
        date: Date,
        /// The finding.
        finding: Option<Finding>,
    },
    /// Change a lesion's category, organ or node flag.
    UpdateLesion(Lesion),
    /// Delete a lesion and its findings.
    RemoveLesion(String),
    /// Select a lesion and bring every pane to it.
    SelectLesion(String),
    /// Link the compare panes at their current positions ("sync here").
    SyncHere,
    /// Turn linked scrolling on or off.
    SetLinked(bool),
    /// Change the assessment options.
    SetAssessOptions(AssessOptions),
    /// Show the reading workspace or the Cohort view in the central area.
    ShowCentral(Central),
    /// Import a per-patient results CSV (interchange §4a) as the cohort.
    ImportCohortResults(PathBuf),
    /// Import a lesion table + patient table (interchange §4b) as the cohort.
    ImportCohortLesions {
        /// The lesion table.
        lesions: PathBuf,
        /// The patient table.
        patients: PathBuf,
    },
    /// Build the cohort from this session's tracked lesions.
    CohortFromSession,
    /// Create a project file holding this session and autosave to it (the
    /// app also handles `OpenProject` and `RelinkFolder`, which load images).
    NewProject(PathBuf),
    /// Open a project file (handled by the app: it loads the project's folders).
    OpenProject(PathBuf),
    /// Load a folder to relink the project's missing series (handled by the app).
    RelinkFolder(PathBuf),
    /// Sign off (lock) or unlock a timepoint of the current patient.
    SetLock {
        /// The timepoint.
        date: Date,
        /// Locked or not.
        locked: bool,
    },
    /// Blinded reading on or off.
    SetBlinded(bool),
    /// Show the audit trail of a lesion (`None` closes it).
    ShowAudit(Option<String>),
    /// Show the audit trail of the whole patient (every change, sign-offs
    /// with who and when).
    ShowPatientAudit,
    /// Set the reader's name for the audit trail (empty: the OS user).
    SetReader(String),
    /// Record an ROI measurement as a T2 signal ROI (lesion or muscle
    /// reference) at its timepoint.
    AssignSignal {
        /// The ellipse or freehand measurement.
        measurement: MeasurementId,
        /// Lesion or reference.
        role: SignalRole,
    },
    /// Record a lesion's segmentation at a timepoint as its T2 signal ROI.
    AssignSegmentationSignal {
        /// The lesion.
        lesion_id: String,
        /// The timepoint.
        date: Date,
    },
    /// Clear a T2 signal ROI.
    ClearSignal {
        /// The timepoint.
        date: Date,
        /// Lesion or reference.
        role: SignalRole,
    },
    /// Override (or with `None` restore) the program's T2-weighted call for a series.
    SetT2Override {
        /// Series index.
        series: usize,
        /// The reader's call.
        t2_weighted: Option<bool>,
    },
    /// Grow the selected lesion's mask from a seed point on a pane.
    GrowAt {
        /// Pane.
        pane: usize,
        /// Seed (patient mm).
        seed: Vec3,
    },
    /// Set the brush and eraser radius (mm).
    SetBrushRadius(f64),
    /// Interpolate the selected lesion's mask between its painted slices.
    InterpolateSegmentation,
    /// Delete the selected lesion's mask at the current timepoint.
    DeleteSegmentation,
    /// Propose the bidirectional measurement from the selected lesion's mask.
    ProposeDiameters,
    /// Propose it from an ellipsoid fitted to that very mask (used when the
    /// fit is accepted; otherwise the mask's proposal).
    ProposeDiametersFromFit(Box<crate::segment::EllipsoidFit>),
    /// Report the selected lesion's volume at this timepoint from an
    /// accepted ellipsoid fit of its mask as it is now.
    ReportFittedVolume(Box<crate::segment::EllipsoidFit>),
    /// Report it from the mask's voxel count again.
    ReportVoxelCount,
}

/// The undo and redo stacks: inverse edits, tagged with their patient.
#[derive(Debug, Default, Clone)]
pub struct History {
    undo: Vec<(String, Edit)>,
    redo: Vec<(String, Edit)>,
}

impl History {
    /// Whether there is something to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is something to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}

/// Linked scrolling of the compare panes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// Whether scrolling one pane moves the other.
    pub enabled: bool,
    /// Reader-set offset: current position − prior position (mm), from "sync here".
    pub offset_mm: Option<f64>,
}

/// The live RECIST assessment of the current patient.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    /// The engine's result (same engine as `nadir assess`).
    pub result: Option<PatientAssessment>,
    /// Engine warnings (baseline conformance …).
    pub warnings: Vec<Warning>,
    /// Decisions made while building the records.
    pub issues: Vec<TrackingIssue>,
}

/// Everything loaded in this session.
#[derive(Debug)]
pub struct Workspace {
    /// Loaded series, ordered by patient, study date, series number.
    pub series: Vec<SeriesEntry>,
    /// Panes (three; the layout decides how many are shown).
    pub panes: [Pane; 3],
    /// The layout.
    pub layout: Layout,
    /// The pane keyboard and browser act on.
    pub active_pane: usize,
    /// Lesion tracking per patient key.
    pub patients: BTreeMap<String, Patient>,
    /// Undo/redo.
    pub history: History,
    /// The measuring tools.
    pub tools: ToolState,
    /// Which pane the gesture in progress belongs to.
    pub gesture_pane: Option<usize>,
    /// Linked scrolling of the compare panes.
    pub link: Link,
    /// The selected lesion.
    pub selected_lesion: Option<String>,
    /// Assessment options (`--confirm`, `--min-sd-days`).
    pub assess_options: AssessOptions,
    /// The assessment of the current patient, refreshed after every change.
    pub assessment: Assessment,
    /// Files that were not used.
    pub skipped: Vec<Skipped>,
    /// Files that are not DICOM at all (ignored, not failures).
    pub ignored: Vec<PathBuf>,
    /// Messages for the reader (errors, import results), newest last.
    pub messages: Vec<String>,
    /// Loading progress (0–1) while a job runs.
    pub loading: Option<f32>,
    /// What the central area shows.
    pub central: Central,
    /// The Cohort view's cohort, error and background import.
    pub cohort: CohortState,
    /// The project file, autosave, locks, blinding.
    pub project: ProjectSession,
    /// The reader's T2-weighted calls by SeriesInstanceUID (override the program's).
    pub t2_overrides: BTreeMap<String, bool>,
    /// Segmentation gesture and brush size.
    pub segment: SegmentState,
    /// Wheel-down goes to the previous image instead of the next one.
    pub wheel_reversed: bool,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            series: Vec::new(),
            panes: [
                Pane::empty(Plane::Native),
                Pane::empty(Plane::FixedRow),
                Pane::empty(Plane::FixedColumn),
            ],
            layout: Layout::Single,
            active_pane: 0,
            patients: BTreeMap::new(),
            history: History::default(),
            tools: ToolState::default(),
            gesture_pane: None,
            link: Link {
                enabled: true,
                offset_mm: None,
            },
            selected_lesion: None,
            assess_options: AssessOptions::default(),
            assessment: Assessment::default(),
            skipped: Vec::new(),
            ignored: Vec::new(),
            messages: Vec::new(),
            loading: None,
            central: Central::Reading,
            cohort: CohortState::default(),
            project: ProjectSession::default(),
            t2_overrides: BTreeMap::new(),
            segment: SegmentState::default(),
            wheel_reversed: false,
        }
    }
}

/// A study date of a patient: one timepoint.
#[derive(Debug, Clone, PartialEq)]
pub struct TimepointGroup {
    /// The date, when StudyDate parses.
    pub date: Option<Date>,
    /// StudyDate as stored.
    pub study_date: String,
    /// Visit label (`baseline`, `W8` …).
    pub visit: String,
    /// Days from the patient's baseline.
    pub day: Option<i64>,
    /// Indices into [`Workspace::series`].
    pub series: Vec<usize>,
}

/// The series of one patient, by timepoint (baseline = earliest date).
#[derive(Debug, Clone, PartialEq)]
pub struct PatientGroup {
    /// PatientID (or name when the ID is empty).
    pub patient_key: String,
    /// Timepoints in date order.
    pub timepoints: Vec<TimepointGroup>,
}

impl Workspace {
    /// Adds a loaded series, keeping the list ordered; the first series goes
    /// into the first pane. Its date becomes a timepoint of its patient.
    pub fn add_series(&mut self, loaded: LoadedSeries) {
        self.skipped.extend(loaded.skipped.iter().cloned());
        let entry = SeriesEntry::new(loaded);
        let uid = entry.uid().to_string();
        let key = entry.patient_key();
        let patient = self
            .patients
            .entry(key.clone())
            .or_insert_with(|| Patient::new(&key));
        if let Some(date) = entry.date
            && !patient.timepoints.iter().any(|t| t.date == date)
        {
            // A fact of the images, not a reader's edit: not in the undo history.
            let _ = patient.apply(Edit::PutTimepoint(Timepoint { date, visit: None }));
        }
        let shown: Vec<Option<String>> = self
            .panes
            .iter()
            .map(|p| {
                p.series
                    .and_then(|i| self.series.get(i))
                    .map(|e| e.uid().to_string())
            })
            .collect();
        self.series.push(entry);
        self.series.sort_by_key(series_order);
        for (pane, uid) in self.panes.iter_mut().zip(shown) {
            pane.series = uid.and_then(|uid| self.series.iter().position(|e| e.uid() == uid));
        }
        if self.panes[0].series.is_none() {
            self.panes[0].series = Some(0);
            for pane in &mut self.panes[1..] {
                pane.series = Some(0);
            }
        }
        self.project_series_added(&uid);
        self.refresh_assessment();
    }

    /// The series shown in a pane.
    pub fn pane_series(&self, pane: usize) -> Option<&SeriesEntry> {
        self.series.get(self.panes.get(pane)?.series?)
    }

    /// The series of the active pane.
    pub fn active_series(&self) -> Option<&SeriesEntry> {
        self.pane_series(self.active_pane)
    }

    /// The key of the patient being read (of the active pane, else the first).
    pub fn current_patient_key(&self) -> Option<String> {
        self.active_series()
            .map(SeriesEntry::patient_key)
            .or_else(|| self.patients.keys().next().cloned())
    }

    /// The patient being read.
    pub fn current_patient(&self) -> Option<&Patient> {
        self.patients.get(&self.current_patient_key()?)
    }

    /// The date of the active pane's series (the "current timepoint").
    pub fn current_date(&self) -> Option<Date> {
        self.active_series().and_then(|e| e.date)
    }

    /// Patients → timepoints → series, for the browser.
    pub fn patient_groups(&self) -> Vec<PatientGroup> {
        let mut out: Vec<PatientGroup> = Vec::new();
        for (i, e) in self.series.iter().enumerate() {
            let key = e.patient_key();
            let at = match out.iter().position(|p| p.patient_key == key) {
                Some(at) => at,
                None => {
                    out.push(PatientGroup {
                        patient_key: key.clone(),
                        timepoints: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let Some(patient) = out.get_mut(at) else {
                continue;
            };
            let study_date = e.volume().meta.study_date.clone();
            match patient
                .timepoints
                .iter_mut()
                .find(|t| t.study_date == study_date)
            {
                Some(t) => t.series.push(i),
                None => {
                    let tracked = self.patients.get(&key);
                    let visit = match (tracked, e.date) {
                        (Some(p), Some(d)) => p.visit_label(d),
                        _ => study_date.clone(),
                    };
                    let day = tracked
                        .and_then(Patient::baseline_date)
                        .zip(e.date)
                        .map(|(b, d)| d.days_since(b));
                    patient.timepoints.push(TimepointGroup {
                        date: e.date,
                        study_date,
                        visit,
                        day,
                        series: vec![i],
                    });
                }
            }
        }
        for p in &mut out {
            p.timepoints.sort_by(|a, b| a.study_date.cmp(&b.study_date));
        }
        out
    }

    /// Measurements drawn on the series of `pane` in its current plane, with
    /// the shape being edited replaced by its preview.
    pub fn pane_measurements(&self, pane: usize) -> Vec<(MeasurementId, Shape)> {
        let (Some(entry), Some(p), Some(patient)) = (
            self.pane_series(pane),
            self.panes.get(pane),
            self.current_patient(),
        ) else {
            return Vec::new();
        };
        let index = entry.view.index_of(p.plane);
        let preview = self.tools.preview();
        patient
            .measurements
            .iter()
            .filter(|m| {
                let image = &m.measurement.image;
                image.series_instance_uid == entry.uid()
                    && image.plane == p.plane
                    && image.index == index
            })
            .map(|m| {
                let shape = match &preview {
                    Some((Some(id), shape, _)) if *id == m.id => shape.clone(),
                    _ => m.measurement.shape.clone(),
                };
                (m.id, shape)
            })
            .collect()
    }

    /// The plane context of a pane for the tools (image reference, plane
    /// directions); `min_extent` is the smallest drawn size in space units.
    pub fn plane_context(&self, pane: usize, min_extent: f64) -> Option<PlaneContext> {
        let entry = self.pane_series(pane)?;
        let frame = entry.frame(self.panes.get(pane)?.plane)?;
        let g = &entry.geometry;
        let origin = g.point_from_plane(&frame, 0.0, 0.0)?;
        let u_direction = (g.point_from_plane(&frame, 1.0, 0.0)? - origin).normalized()?;
        let v_direction = (g.point_from_plane(&frame, 0.0, 1.0)? - origin).normalized()?;
        let normal = u_direction.cross(v_direction).normalized()?;
        let sop_instance_uid = match frame.plane {
            Plane::Native => entry.volume().instances_in_order.get(frame.index).cloned(),
            Plane::FixedRow | Plane::FixedColumn => None,
        };
        Some(PlaneContext {
            image: crate::measure::ImageRef {
                series_instance_uid: entry.uid().to_string(),
                sop_instance_uid,
                plane: frame.plane,
                index: frame.index,
            },
            spacing_known: g.spacing_known,
            normal,
            u_direction,
            v_direction,
            min_extent,
        })
    }

    /// The point (patient mm) of plane pixel `(u, v)` of a pane's current plane.
    pub fn point_on_pane(&self, pane: usize, u: f64, v: f64) -> Option<Vec3> {
        let entry = self.pane_series(pane)?;
        let frame = entry.frame(self.panes.get(pane)?.plane)?;
        entry.geometry.point_from_plane(&frame, u, v)
    }

    /// Applies a command from the UI.
    pub fn apply(&mut self, command: Command) {
        let view_of = match &command {
            Command::SetWindow { pane, .. }
            | Command::ApplyPreset { pane, .. }
            | Command::Zoom { pane, .. }
            | Command::ZoomAt { pane, .. }
            | Command::SetZoom { pane, .. }
            | Command::Pan { pane, .. }
            | Command::ResetView(pane) => Some(*pane),
            _ => None,
        };
        self.apply_command(command);
        if let Some(pane) = view_of {
            self.follow_view(pane);
        }
    }

    /// In Compare with linking on, the other pane takes this pane's zoom,
    /// pan and (for the same modality) window, so prior and current are read
    /// at the same magnification and contrast.
    fn follow_view(&mut self, pane: usize) {
        if self.layout != Layout::Compare || !self.link.enabled || pane > 1 {
            return;
        }
        let other = 1 - pane;
        let (Some(from), Some(_)) = (self.panes.get(pane).copied(), self.panes.get(other)) else {
            return;
        };
        if let Some(p) = self.panes.get_mut(other) {
            p.zoom = from.zoom;
            p.pan = from.pan;
        }
        let source = self
            .pane_series(pane)
            .map(|e| (e.view.window, e.volume().meta.modality.clone()));
        if let Some((window, modality)) = source
            && self.panes[other].series != self.panes[pane].series
            && let Some(entry) = self.pane_entry_mut(other)
            && entry.volume().meta.modality == modality
        {
            entry.view.window = window;
        }
    }

    fn apply_command(&mut self, command: Command) {
        match command {
            Command::OpenFolder(_) => {}
            Command::ImportLesionTable(path) => self.import_lesion_table(&path),
            Command::ExportLesionTable(path) => self.export_lesion_table(&path),
            Command::ShowSeries { pane, series } => self.show_series(pane, series),
            Command::ActivatePane(pane) => {
                if pane < self.layout.pane_count() {
                    self.active_pane = pane;
                }
            }
            Command::SetLayout(layout) => self.set_layout(layout),
            Command::Scroll { pane, delta } => {
                let now = self.pane_index(pane);
                if let Some(now) = now {
                    self.set_slice(pane, (now as i64 + delta).max(0) as usize);
                }
            }
            Command::StepImage { pane, images } => {
                let direction = match self.panes.get(pane).map(|p| p.plane) {
                    Some(Plane::Native) => self
                        .pane_series(pane)
                        .map_or(1, |e| e.volume().image_direction()),
                    _ => 1,
                };
                if let Some(now) = self.pane_index(pane) {
                    self.set_slice(pane, (now as i64 + images * direction).max(0) as usize);
                }
            }
            Command::ZoomAt {
                pane,
                factor,
                anchor,
            } => {
                if let Some(p) = self.panes.get_mut(pane) {
                    let zoom = (p.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
                    let applied = zoom / p.zoom;
                    // the image point under the anchor stays under it
                    p.pan = [
                        anchor[0] - (anchor[0] - p.pan[0]) * applied,
                        anchor[1] - (anchor[1] - p.pan[1]) * applied,
                    ];
                    p.zoom = zoom;
                }
            }
            Command::Crosshair { pane, voxel } => {
                if let Some(e) = self.pane_entry_mut(pane) {
                    e.view.set_voxel(voxel, &e.loaded.volume);
                }
            }
            Command::SetZoom { pane, zoom } => {
                if let Some(p) = self.panes.get_mut(pane) {
                    let zoom = zoom.clamp(MIN_ZOOM, MAX_ZOOM);
                    let applied = zoom / p.zoom;
                    p.pan = [p.pan[0] * applied, p.pan[1] * applied];
                    p.zoom = zoom;
                }
            }
            Command::SetWheelReversed(reversed) => self.wheel_reversed = reversed,
            Command::SetSlice { pane, index } => self.set_slice(pane, index),
            Command::SetWindow { pane, window } => {
                if let Some(entry) = self.pane_entry_mut(pane) {
                    entry.view.window = Window {
                        center: window.center,
                        width: window.width.max(1.0),
                    };
                }
            }
            Command::ApplyPreset { pane, preset } => {
                if let Some(entry) = self.pane_entry_mut(pane) {
                    entry.view.window = preset.window(&entry.loaded.volume);
                }
            }
            Command::Zoom { pane, factor } => {
                if let Some(p) = self.panes.get_mut(pane) {
                    p.zoom = (p.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
                }
            }
            Command::Pan { pane, delta } => {
                if let Some(p) = self.panes.get_mut(pane) {
                    p.pan = [p.pan[0] + delta[0], p.pan[1] + delta[1]];
                }
            }
            Command::ResetView(pane) => {
                if let Some(p) = self.panes.get_mut(pane) {
                    p.zoom = 1.0;
                    p.pan = [0.0, 0.0];
                }
            }
            Command::SelectTool(tool) => {
                self.tools.cancel();
                self.segment.gesture = None;
                self.tools.active = tool;
            }
            Command::Pointer { pane, event } => self.pointer(pane, event),
            Command::Cancel => {
                self.tools.cancel();
                self.segment.gesture = None;
                self.gesture_pane = None;
            }
            Command::SelectMeasurement(id) => {
                if self.tools.selected != id {
                    self.tools.active_handle = None;
                }
                self.tools.selected = id;
            }
            Command::MoveHandle { id, handle, to } => self.move_handle(id, handle, to),
            Command::DeleteSelected => {
                if let Some(id) = self.tools.selected.take() {
                    self.edit(Edit::RemoveMeasurement(id));
                }
            }
            Command::Undo => self.undo(),
            Command::Redo => self.redo(),
            Command::MakeLesion {
                measurement,
                category,
                organ,
                lymph_node,
            } => self.make_lesion(measurement, category, organ, lymph_node),
            Command::AttachToLesion {
                measurement,
                lesion_id,
            } => {
                let date = self
                    .current_patient()
                    .and_then(|p| p.measurement(measurement))
                    .map(|m| m.date);
                if let Some(date) = date {
                    self.edit(Edit::SetObservation {
                        lesion_id: lesion_id.clone(),
                        date,
                        finding: Some(Finding::Measured(measurement)),
                    });
                    self.selected_lesion = Some(lesion_id);
                }
            }
            Command::SetFinding {
                lesion_id,
                date,
                finding,
            } => self.edit(Edit::SetObservation {
                lesion_id,
                date,
                finding,
            }),
            Command::UpdateLesion(lesion) => self.edit(Edit::PutLesion(lesion)),
            Command::RemoveLesion(id) => {
                if self.selected_lesion.as_deref() == Some(id.as_str()) {
                    self.selected_lesion = None;
                }
                self.edit(Edit::RemoveLesion(id));
            }
            Command::SelectLesion(id) => self.select_lesion(&id),
            Command::SyncHere => {
                let current = self.native_position(1);
                let prior = self.native_position(0);
                if let (Some(c), Some(p)) = (current, prior) {
                    self.link.offset_mm = Some(c - p);
                    self.link.enabled = true;
                }
            }
            Command::SetLinked(enabled) => self.link.enabled = enabled,
            Command::SetAssessOptions(options) => {
                self.assess_options = options;
                self.refresh_assessment();
            }
            Command::ShowCentral(central) => {
                self.tools.cancel();
                self.central = central;
            }
            Command::ImportCohortResults(path) => {
                self.central = Central::Cohort;
                self.cohort
                    .import(CohortSource::Results(path), &self.assess_options);
            }
            Command::ImportCohortLesions { lesions, patients } => {
                self.central = Central::Cohort;
                self.cohort.import(
                    CohortSource::Lesions { lesions, patients },
                    &self.assess_options,
                );
            }
            Command::CohortFromSession => {
                self.central = Central::Cohort;
                self.cohort.job = None;
                let result = if self.project.blinded {
                    // pseudonyms instead of patient IDs in every plot and table
                    let blinded: BTreeMap<String, Patient> = self
                        .patients
                        .iter()
                        .map(|(key, p)| {
                            let label = self.patient_label(key);
                            let mut p = p.clone();
                            p.id = label.clone();
                            (label, p)
                        })
                        .collect();
                    Cohort::from_session(&blinded, &self.assess_options)
                } else {
                    Cohort::from_session(&self.patients, &self.assess_options)
                };
                self.cohort.finish(result);
            }
            Command::NewProject(path) => {
                if let Err(e) = self.new_project(&path) {
                    self.messages.push(e);
                }
            }
            Command::OpenProject(_) | Command::RelinkFolder(_) => {}
            Command::SetLock { date, locked } => self.set_lock(date, locked),
            Command::SetBlinded(blinded) => self.set_blinded(blinded),
            Command::ShowAudit(lesion) => self.show_audit(lesion),
            Command::ShowPatientAudit => self.show_patient_audit(),
            Command::SetReader(name) => {
                let name = name.trim();
                self.project.reader = (!name.is_empty()).then(|| name.to_string());
                let settings = self.project.settings();
                self.project
                    .write(crate::store::writer::WriteRequest::SaveSettings(settings));
            }
            Command::AssignSignal { measurement, role } => self.assign_signal(measurement, role),
            Command::AssignSegmentationSignal { lesion_id, date } => {
                self.assign_segmentation_signal(&lesion_id, date);
            }
            Command::ClearSignal { date, role } => self.edit(Edit::SetSignal {
                date,
                role,
                signal: None,
            }),
            Command::SetT2Override {
                series,
                t2_weighted,
            } => self.set_t2_override(series, t2_weighted),
            Command::GrowAt { pane, seed } => self.grow_at(pane, seed, None),
            Command::SetBrushRadius(mm) => {
                if mm.is_finite() {
                    self.segment.brush_radius_mm = mm.clamp(0.5, 50.0);
                }
            }
            Command::InterpolateSegmentation => self.interpolate_segmentation(),
            Command::DeleteSegmentation => self.delete_segmentation(),
            Command::ProposeDiameters => self.propose_diameters(None),
            Command::ProposeDiametersFromFit(fit) => self.propose_diameters(Some(&fit)),
            Command::ReportFittedVolume(fit) => self.report_fitted_volume(Some(&fit)),
            Command::ReportVoxelCount => self.report_fitted_volume(None),
        }
    }

    fn pane_entry_mut(&mut self, pane: usize) -> Option<&mut SeriesEntry> {
        let series = self.panes.get(pane)?.series?;
        self.series.get_mut(series)
    }

    fn pane_index(&self, pane: usize) -> Option<usize> {
        let p = self.panes.get(pane)?;
        Some(self.pane_series(pane)?.view.index_of(p.plane))
    }

    fn show_series(&mut self, pane: usize, series: usize) {
        if series >= self.series.len() || pane >= self.panes.len() {
            return;
        }
        self.tools.cancel();
        match self.layout {
            Layout::Reformats | Layout::Single => {
                for p in &mut self.panes {
                    p.series = Some(series);
                }
            }
            Layout::Compare => {
                if let Some(p) = self.panes.get_mut(pane) {
                    p.series = Some(series);
                }
                self.follow_link(pane);
            }
        }
        self.active_pane = pane.min(self.layout.pane_count() - 1);
        self.refresh_assessment();
    }

    fn set_layout(&mut self, layout: Layout) {
        self.tools.cancel();
        let current = self
            .active_series()
            .map(|_| self.panes[self.active_pane].series)
            .unwrap_or(self.panes[0].series);
        self.layout = layout;
        match layout {
            Layout::Single => {
                self.panes[0].plane = Plane::Native;
                self.panes[0].series = current;
                self.active_pane = 0;
            }
            Layout::Reformats => {
                for (pane, plane) in self.panes.iter_mut().zip(Plane::ALL) {
                    pane.plane = plane;
                    pane.series = current;
                }
                self.active_pane = 0;
                // the reformats open through the selected lesion, not the
                // volume centre
                if let Some(lesion) = self.selected_lesion.clone() {
                    self.select_lesion(&lesion);
                }
            }
            Layout::Compare => {
                self.panes[0].plane = Plane::Native;
                self.panes[1].plane = Plane::Native;
                // current = the series being read; prior = its previous
                // timepoint. Reading the baseline: it becomes the prior and
                // the next timepoint the current.
                let prior = current.and_then(|c| self.earlier_series_of(c));
                let (prior, current) = match (prior, current) {
                    (Some(p), c) => (Some(p), c),
                    (None, Some(c)) => match self.later_series_of(c) {
                        Some(later) => (Some(c), Some(later)),
                        None => (Some(c), Some(c)),
                    },
                    (None, None) => (None, None),
                };
                self.panes[0].series = prior;
                self.panes[1].series = current;
                self.active_pane = 1;
                self.link.offset_mm = None;
                self.follow_link(1);
            }
        }
    }

    fn same_kind_series(&self, series: usize) -> Vec<(usize, Date)> {
        let Some(entry) = self.series.get(series) else {
            return Vec::new();
        };
        let (key, modality) = (entry.patient_key(), &entry.volume().meta.modality);
        self.series
            .iter()
            .enumerate()
            .filter(|(_, e)| e.patient_key() == key && &e.volume().meta.modality == modality)
            .filter_map(|(i, e)| Some((i, e.date?)))
            .collect()
    }

    /// The series of the nearest earlier timepoint of the same patient and
    /// modality as `series`.
    pub fn earlier_series_of(&self, series: usize) -> Option<usize> {
        let date = self.series.get(series)?.date?;
        self.same_kind_series(series)
            .into_iter()
            .filter(|(_, d)| *d < date)
            .max_by_key(|(_, d)| *d)
            .map(|(i, _)| i)
    }

    /// The series of the nearest later timepoint of the same patient and
    /// modality as `series`.
    pub fn later_series_of(&self, series: usize) -> Option<usize> {
        let date = self.series.get(series)?.date?;
        self.same_kind_series(series)
            .into_iter()
            .filter(|(_, d)| *d > date)
            .min_by_key(|(_, d)| *d)
            .map(|(i, _)| i)
    }

    /// Position along the slice normal (mm) of a pane's native slice.
    pub fn native_position(&self, pane: usize) -> Option<f64> {
        let entry = self.pane_series(pane)?;
        slice_position_mm(entry.volume(), entry.view.index_of(Plane::Native))
    }

    /// The offset (current − prior, mm) linking the compare panes: the
    /// reader's "sync here" if set, else 0 when both series share a
    /// FrameOfReferenceUID, else none (not linked).
    pub fn link_offset_mm(&self) -> Option<f64> {
        if let Some(offset) = self.link.offset_mm {
            return Some(offset);
        }
        let a = self
            .pane_series(0)?
            .volume()
            .geometry
            .frame_of_reference_uid
            .as_ref()?;
        let b = self
            .pane_series(1)?
            .volume()
            .geometry
            .frame_of_reference_uid
            .as_ref()?;
        (a == b).then_some(0.0)
    }

    /// Whether the compare panes scroll together now.
    pub fn is_linked(&self) -> bool {
        self.layout == Layout::Compare && self.link.enabled && self.link_offset_mm().is_some()
    }

    fn set_slice(&mut self, pane: usize, index: usize) {
        let Some(plane) = self.panes.get(pane).map(|p| p.plane) else {
            return;
        };
        if let Some(entry) = self.pane_entry_mut(pane) {
            entry.view.set_index(plane, index, &entry.loaded.volume);
        }
        if plane == Plane::Native {
            self.follow_link(pane);
        }
    }

    /// Moves the other compare pane to the position of `pane`.
    fn follow_link(&mut self, pane: usize) {
        if !self.is_linked() || pane > 1 {
            return;
        }
        let (Some(offset), Some(position)) = (self.link_offset_mm(), self.native_position(pane))
        else {
            return;
        };
        let other = 1 - pane;
        // current − prior = offset
        let target = if pane == 1 {
            position - offset
        } else {
            position + offset
        };
        let Some(entry) = self.pane_entry_mut(other) else {
            return;
        };
        if let Some(slice) = nearest_slice(&entry.loaded.volume, target) {
            entry
                .view
                .set_index(Plane::Native, slice, &entry.loaded.volume);
        }
    }

    fn pointer(&mut self, pane: usize, event: PointerEvent) {
        if self.tools.active.segments() {
            self.segment_pointer(pane, event);
            return;
        }
        match event {
            PointerEvent::Press { at, plane, hit } => {
                let hit_shape = hit.and_then(|h| {
                    let m = self.current_patient()?.measurement(h.id)?;
                    Some((h.id, m.measurement.shape.clone()))
                });
                let taken = self.tools.press(at, &plane, hit, |id| {
                    hit_shape
                        .as_ref()
                        .filter(|(hit_id, _)| *hit_id == id)
                        .map(|(_, shape)| shape.clone())
                });
                self.gesture_pane = taken.then_some(pane);
                if let Some(id) = self.tools.selected
                    && let Some(lesion) = self
                        .current_patient()
                        .and_then(|p| p.lesion_of_measurement(id))
                {
                    self.selected_lesion = Some(lesion.id.clone());
                }
            }
            PointerEvent::Drag(at) => {
                if self.gesture_pane == Some(pane) {
                    self.tools.drag(at);
                }
            }
            PointerEvent::Release(at) => {
                if self.gesture_pane != Some(pane) {
                    return;
                }
                self.gesture_pane = None;
                match self.tools.release(at) {
                    ToolOutcome::Nothing => {}
                    ToolOutcome::Created(measurement) => {
                        if let Some(id) = self.store_measurement(pane, measurement) {
                            self.tools.selected = Some(id);
                        }
                    }
                    ToolOutcome::Edited { id, after, .. } => {
                        self.edit(Edit::SetShape { id, shape: after })
                    }
                }
            }
        }
    }

    fn move_handle(&mut self, id: MeasurementId, handle: usize, to: Vec3) {
        let Some(shape) = self
            .current_patient()
            .and_then(|p| p.measurement(id))
            .map(|m| m.measurement.shape.clone())
        else {
            return;
        };
        if handle >= shape.handles().len() {
            return;
        }
        let moved = shape.with_handle_moved(handle, to);
        if moved != shape {
            self.edit(Edit::SetShape { id, shape: moved });
        }
    }

    fn store_measurement(
        &mut self,
        pane: usize,
        measurement: Measurement,
    ) -> Option<MeasurementId> {
        let date = self.pane_series(pane)?.date?;
        let key = self.pane_series(pane)?.patient_key();
        let patient = self.patients.get_mut(&key)?;
        let id = patient.next_measurement_id();
        self.edit_patient(
            &key,
            Edit::AddMeasurement(StoredMeasurement {
                id,
                date,
                measurement,
            }),
        );
        Some(id)
    }

    fn make_lesion(
        &mut self,
        measurement: MeasurementId,
        category: Category,
        organ: String,
        lymph_node: bool,
    ) {
        let Some(patient) = self.current_patient() else {
            return;
        };
        let Some(date) = patient.measurement(measurement).map(|m| m.date) else {
            return;
        };
        let choice = lesion_choice(patient, date);
        if !choice.categories().contains(&category) {
            self.messages.push(match choice {
                LesionChoice::FollowUp => format!(
                    "not recorded: after baseline a measurement is attached to a lesion or recorded as a new lesion (RECIST 1.1 chooses {} lesions at baseline only)",
                    if category == Category::Target { "target" } else { "non-target" }
                ),
                LesionChoice::Baseline => {
                    "not recorded: a new lesion needs a prior timepoint; at baseline make a target or non-target".to_string()
                }
            });
            return;
        }
        if organ.trim().is_empty() {
            self.messages
                .push("not recorded: choose the lesion's organ first".to_string());
            return;
        }
        let id = patient.next_lesion_id(category, lymph_node);
        self.edit(Edit::Batch(vec![
            Edit::PutLesion(Lesion {
                id: id.clone(),
                category,
                organ,
                lymph_node,
            }),
            Edit::SetObservation {
                lesion_id: id.clone(),
                date,
                finding: Some(Finding::Measured(measurement)),
            },
        ]));
        if self
            .current_patient()
            .is_some_and(|p| p.lesion(&id).is_some())
        {
            self.selected_lesion = Some(id);
        }
    }

    /// Applies a reader's edit to the current patient as one undo step.
    pub fn edit(&mut self, edit: Edit) {
        if let Some(key) = self.current_patient_key() {
            self.edit_patient(&key, edit);
        }
    }

    fn edit_patient(&mut self, key: &str, edit: Edit) {
        let edit = match self.patients.get(key) {
            Some(patient) => self.with_signal_updates(patient, edit),
            None => return,
        };
        if let Some(refusal) = self.lock_refusal(key, &edit) {
            self.messages.push(refusal);
            return;
        }
        let notes = self.audit_notes(key, &edit);
        let recorded = self.project.file.is_some().then(|| edit.clone());
        let Some(patient) = self.patients.get_mut(key) else {
            return;
        };
        match patient.apply(edit) {
            Ok(inverse) => {
                self.history.undo.push((key.to_string(), inverse));
                self.history.redo.clear();
                if let Some(edit) = recorded {
                    self.autosave_edit(key, "edit", &notes, &edit);
                }
            }
            Err(e) => self.messages.push(e.to_string()),
        }
        self.refresh_assessment();
    }

    fn undo(&mut self) {
        self.tools.cancel();
        if let Some((key, edit)) = self.history.undo.pop() {
            if let Some(refusal) = self.lock_refusal(&key, &edit) {
                self.messages.push(format!("cannot undo: {refusal}"));
                self.history.undo.push((key, edit));
                return;
            }
            let notes = self.audit_notes(&key, &edit);
            let recorded = edit.clone();
            if let Some(patient) = self.patients.get_mut(&key) {
                match patient.apply(edit) {
                    Ok(redo) => {
                        self.history.redo.push((key.clone(), redo));
                        self.autosave_edit(&key, "undo", &notes, &recorded);
                    }
                    Err(e) => self.messages.push(format!("cannot undo: {e}")),
                }
            }
        }
        self.forget_missing_selection();
        self.refresh_assessment();
    }

    fn redo(&mut self) {
        self.tools.cancel();
        if let Some((key, edit)) = self.history.redo.pop() {
            if let Some(refusal) = self.lock_refusal(&key, &edit) {
                self.messages.push(format!("cannot redo: {refusal}"));
                self.history.redo.push((key, edit));
                return;
            }
            let notes = self.audit_notes(&key, &edit);
            let recorded = edit.clone();
            if let Some(patient) = self.patients.get_mut(&key) {
                match patient.apply(edit) {
                    Ok(undo) => {
                        self.history.undo.push((key.clone(), undo));
                        self.autosave_edit(&key, "redo", &notes, &recorded);
                    }
                    Err(e) => self.messages.push(format!("cannot redo: {e}")),
                }
            }
        }
        self.forget_missing_selection();
        self.refresh_assessment();
    }

    fn forget_missing_selection(&mut self) {
        let patient = self.current_patient();
        let measurement_gone = self
            .tools
            .selected
            .is_some_and(|id| patient.is_none_or(|p| p.measurement(id).is_none()));
        let lesion_gone = self
            .selected_lesion
            .as_deref()
            .is_some_and(|id| patient.is_none_or(|p| p.lesion(id).is_none()));
        if measurement_gone {
            self.tools.selected = None;
        }
        if lesion_gone {
            self.selected_lesion = None;
        }
    }

    /// Recomputes the assessment of the current patient with the engine.
    pub fn refresh_assessment(&mut self) {
        self.assessment = match self.current_patient() {
            Some(patient) => {
                let (records, issues) = to_recist(patient);
                if records.is_empty() {
                    Assessment {
                        result: None,
                        warnings: Vec::new(),
                        issues,
                    }
                } else {
                    let (result, warnings) = assess_patient(&records, &self.assess_options);
                    Assessment {
                        result: Some(result),
                        warnings,
                        issues,
                    }
                }
            }
            None => Assessment::default(),
        };
    }

    /// Selects a lesion and brings each pane to its measurement on the
    /// pane's series (or, in compare, to the linked position of the other pane).
    fn select_lesion(&mut self, lesion_id: &str) {
        self.selected_lesion = Some(lesion_id.to_string());
        let Some(patient) = self.current_patient() else {
            return;
        };
        let measured: Vec<(Date, StoredMeasurement)> = patient
            .observations
            .iter()
            .filter(|o| o.lesion_id == lesion_id)
            .filter_map(|o| match o.finding {
                Finding::Measured(id) => patient.measurement(id).map(|m| (o.date, m.clone())),
                _ => None,
            })
            .collect();
        let mut moved = [false; 3];
        for pane in 0..self.layout.pane_count() {
            let Some(entry) = self.pane_series(pane) else {
                continue;
            };
            let uid = entry.uid().to_string();
            let frame_of_reference = entry.volume().geometry.frame_of_reference_uid.clone();
            // the measurement on this series, else one on a series of the same frame of reference
            let on_series = measured
                .iter()
                .find(|(_, m)| m.measurement.image.series_instance_uid == uid);
            let same_frame = || {
                measured.iter().find(|(_, m)| {
                    self.series.iter().any(|e| {
                        e.uid() == m.measurement.image.series_instance_uid
                            && frame_of_reference.is_some()
                            && e.volume().geometry.frame_of_reference_uid == frame_of_reference
                    })
                })
            };
            let target = match on_series.or_else(same_frame) {
                Some((_, m)) if m.measurement.spacing_known || on_series.is_some() => entry
                    .geometry
                    .geometry
                    .voxel_from_patient(m.measurement.shape.centroid()),
                Some(_) => None,
                // not measured in this frame of reference: where the
                // reader's "sync here" offset says it should be
                None => self.expected_voxel(pane, &measured),
            };
            if let Some(voxel) = target
                && let Some(e) = self.pane_entry_mut(pane)
            {
                e.view
                    .set_voxel(voxel.map(|x| x.round().max(0.0) as usize), &e.loaded.volume);
                if let Some(m) = moved.get_mut(pane) {
                    *m = true;
                }
            }
        }
        self.go_to_masks(lesion_id, &mut moved);
        if self.layout == Layout::Compare {
            match moved {
                [true, false, _] => self.follow_link(0),
                [false, true, _] => self.follow_link(1),
                _ => {}
            }
        }
    }

    /// The voxel of `pane`'s series where a lesion measured only in other
    /// frames of reference is expected: the measurement nearest in date,
    /// moved along the slice normal by the reader's sync offset (current −
    /// prior: added when the pane's date is later). `None` without an offset
    /// or without pixel spacing.
    fn expected_voxel(
        &self,
        pane: usize,
        measured: &[(Date, StoredMeasurement)],
    ) -> Option<[f64; 3]> {
        let offset = self.link.offset_mm?;
        let entry = self.pane_series(pane)?;
        let date = entry.date?;
        let (measured_on, m) = measured
            .iter()
            .filter(|(_, m)| m.measurement.spacing_known)
            .min_by_key(|(d, _)| d.days_since(date).abs())?;
        let normal = entry.geometry.plane_normal(Plane::Native)?;
        let sign = if date > *measured_on { 1.0 } else { -1.0 };
        let point = m.measurement.shape.centroid() + normal * (offset * sign);
        entry.geometry.geometry.voxel_from_patient(point)
    }

    fn import_lesion_table(&mut self, path: &Path) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                self.messages.push(format!("{}: {e}", path.display()));
                return;
            }
        };
        let name = path.display().to_string();
        match parse_lesion_table(&bytes, &name) {
            Ok(table) => {
                let Some(key) = self.current_patient_key() else {
                    self.messages
                        .push("open the patient's images before importing a lesion table".into());
                    return;
                };
                let Some(patient) = self.patients.get(&key) else {
                    return;
                };
                let edit = crate::tracking::import_edit(patient, &table.records);
                self.edit_patient(&key, edit);
                self.messages
                    .push(format!("imported {} rows from {name}", table.records.len()));
                for w in table.warnings {
                    self.messages.push(w.to_string());
                }
            }
            Err(e) => self.messages.push(e.to_string()),
        }
    }

    /// The current patient's lesion table (interchange §1) as CSV text.
    pub fn lesion_table_csv(&self) -> Result<String, String> {
        let patient = self.current_patient().ok_or("no patient")?;
        let (mut records, _) = to_recist(patient);
        if self.project.blinded {
            // de-identified: pseudonym, baseline moved to 2000-01-01 (README)
            let label = self.patient_label(&patient.id);
            records = crate::tracking::describe::blind_records(&records, |_| label.clone());
        }
        let mut out = Vec::new();
        write_lesion_table(&records, &mut out).map_err(|e| e.to_string())?;
        String::from_utf8(out).map_err(|e| e.to_string())
    }

    fn export_lesion_table(&mut self, path: &Path) {
        match self.lesion_table_csv() {
            Ok(text) => match std::fs::write(path, text) {
                Ok(()) => self
                    .messages
                    .push(format!("lesion table written to {}", path.display())),
                Err(e) => self.messages.push(format!("{}: {e}", path.display())),
            },
            Err(e) => self.messages.push(format!("cannot export: {e}")),
        }
    }
}

fn series_order(e: &SeriesEntry) -> (String, String, i64, String) {
    let m = &e.volume().meta;
    (
        e.patient_key(),
        m.study_date.clone(),
        m.series_number.unwrap_or(i64::MAX),
        m.series_instance_uid.clone(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dicom_dates_parse() {
        assert_eq!(dicom_date("20240301"), Date::parse_iso("2024-03-01"));
        assert_eq!(dicom_date("2024-03-01"), None);
        assert_eq!(dicom_date("20241301"), None);
    }
}
