//! Headless application state: what is loaded, what is selected, how each
//! view is set up, and the background loading job. No egui here, so all of it
//! is testable without a window.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::dicom::{self, LoadOptions, LoadedSeries, Skipped};
use crate::volume::{Volume, Window};

/// Something the loading thread reports.
#[derive(Debug)]
pub enum LoadEvent {
    /// Headers read: this many slices will be decoded in all.
    Planned {
        /// Total slices over all stacks.
        total_slices: usize,
        /// Files that were not images.
        skipped: Vec<Skipped>,
    },
    /// One stack is loaded.
    Loaded(Box<LoadedSeries>),
    /// One stack could not be loaded at all.
    Failed(Vec<Skipped>),
    /// The folder could not be read.
    Error(String),
    /// Everything is done.
    Finished,
}

/// A folder being loaded on a named background thread.
#[derive(Debug)]
pub struct LoadJob {
    /// The folder.
    pub root: PathBuf,
    events: Receiver<LoadEvent>,
    progress: Arc<AtomicUsize>,
    cancel: Arc<AtomicBool>,
    total_slices: usize,
    finished: bool,
}

impl LoadJob {
    /// Starts loading `root` (recursively) in the background.
    pub fn start(root: &Path) -> std::io::Result<LoadJob> {
        let (tx, rx) = channel();
        let progress = Arc::new(AtomicUsize::new(0));
        let cancel = Arc::new(AtomicBool::new(false));
        let (p, c, dir) = (progress.clone(), cancel.clone(), root.to_path_buf());
        std::thread::Builder::new()
            .name("nadir-load".into())
            .spawn(move || {
                let scan = match dicom::scan(&dir) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(LoadEvent::Error(format!("{}: {e}", dir.display())));
                        let _ = tx.send(LoadEvent::Finished);
                        return;
                    }
                };
                let total_slices = scan.stacks.iter().map(|s| s.slices.len()).sum();
                let _ = tx.send(LoadEvent::Planned {
                    total_slices,
                    skipped: scan.skipped.clone(),
                });
                let options = LoadOptions {
                    hash: false,
                    progress: Some(&p),
                    cancel: Some(&c),
                };
                for plan in &scan.stacks {
                    if c.load(Ordering::Relaxed) {
                        break;
                    }
                    let event = match dicom::load_stack(plan, &options) {
                        Ok(loaded) => LoadEvent::Loaded(Box::new(loaded)),
                        Err(dicom::LoadError::NothingDecoded(s)) => LoadEvent::Failed(s),
                        Err(_) => continue,
                    };
                    if tx.send(event).is_err() {
                        return;
                    }
                }
                let _ = tx.send(LoadEvent::Finished);
            })?;
        Ok(LoadJob {
            root: root.to_path_buf(),
            events: rx,
            progress,
            cancel,
            total_slices: 0,
            finished: false,
        })
    }

    /// Fraction of slices decoded so far (0 before the plan is known).
    pub fn fraction(&self) -> f32 {
        if self.total_slices == 0 {
            return 0.0;
        }
        self.progress.load(Ordering::Relaxed) as f32 / self.total_slices as f32
    }

    /// Whether the job has reported everything.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Asks the thread to stop after the current slice.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Takes the events that arrived since the last call (never blocks).
    pub fn poll(&mut self) -> Vec<LoadEvent> {
        let mut out = Vec::new();
        loop {
            match self.events.try_recv() {
                Ok(event) => {
                    if let LoadEvent::Planned { total_slices, .. } = &event {
                        self.total_slices = *total_slices;
                    }
                    if matches!(event, LoadEvent::Finished) {
                        self.finished = true;
                    }
                    out.push(event);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    self.finished = true;
                    break;
                }
            }
        }
        out
    }
}

/// How one series is displayed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewState {
    /// Current slice index.
    pub slice: usize,
    /// Display window.
    pub window: Window,
    /// Screen pixels per image pixel, relative to "fit" (1 = fit).
    pub zoom: f32,
    /// Pan in screen points.
    pub pan: [f32; 2],
}

impl ViewState {
    /// The starting view of a volume: middle slice, the window its modality
    /// calls for.
    pub fn initial(volume: &Volume) -> ViewState {
        ViewState {
            slice: volume.slices() / 2,
            window: default_window(volume),
            zoom: 1.0,
            pan: [0.0, 0.0],
        }
    }

    /// Moves by `delta` slices, clamped to the volume.
    pub fn scroll(&mut self, delta: i64, slices: usize) {
        let last = slices.saturating_sub(1) as i64;
        self.slice = (self.slice as i64 + delta).clamp(0, last) as usize;
    }
}

/// CT: soft tissue; anything else: the 1st–99th percentile of a sample of
/// voxels (robust against hot spots), else the file's own window.
pub fn default_window(volume: &Volume) -> Window {
    if volume.meta.modality == "CT" {
        return Window::SOFT_TISSUE;
    }
    percentile_window(volume, 0.01, 0.99)
        .or_else(|| {
            volume
                .meta
                .default_window
                .map(|(center, width)| Window { center, width })
        })
        .unwrap_or(Window {
            center: 0.5,
            width: 1.0,
        })
}

/// The window spanning the `low`–`high` quantiles of modality values,
/// estimated from a regular sample of at most ~200,000 voxels.
pub fn percentile_window(volume: &Volume, low: f64, high: f64) -> Option<Window> {
    let plane = volume.rows() * volume.columns();
    let total = volume.voxels.len();
    if total == 0 || plane == 0 {
        return None;
    }
    let step = (total / 200_000).max(1);
    let data = volume.voxels.as_slice()?;
    let mut values: Vec<f64> = data
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, &v)| {
            volume
                .slice_rescale(i / plane)
                .apply(f64::from(i32::from(v) + volume.stored_offset))
        })
        .collect();
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        values
            .get(((values.len() - 1) as f64 * q).round() as usize)
            .copied()
    };
    let (lo, hi) = (at(low)?, at(high)?);
    let width = (hi - lo).max(1.0);
    Some(Window {
        center: lo + width / 2.0,
        width,
    })
}

/// One loaded series and how it is viewed.
#[derive(Debug, Clone)]
pub struct SeriesEntry {
    /// The loaded series.
    pub loaded: LoadedSeries,
    /// Its view.
    pub view: ViewState,
}

/// What a gesture asks the session to do (one gesture, one command).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Open another folder.
    OpenFolder(PathBuf),
    /// Show series `index`.
    Select(usize),
    /// Move the selected series by this many slices.
    Scroll(i64),
    /// Go to a slice of the selected series.
    SetSlice(usize),
    /// Set the window of the selected series.
    SetWindow(Window),
    /// Multiply the zoom of the selected series (about the viewport centre).
    Zoom(f32),
    /// Pan the selected series by screen points.
    Pan([f32; 2]),
    /// Fit the image to the viewport again.
    ResetView,
}

/// Everything loaded in this session.
#[derive(Debug, Default)]
pub struct Workspace {
    /// Loaded series, ordered by patient, study date, series number.
    pub series: Vec<SeriesEntry>,
    /// The series shown in the viewport.
    pub selected: Option<usize>,
    /// Files that were not used.
    pub skipped: Vec<Skipped>,
    /// Errors to show the reader.
    pub errors: Vec<String>,
    /// Loading progress (0–1) while a job runs.
    pub loading: Option<f32>,
}

/// A study date of a patient: one timepoint.
#[derive(Debug, Clone, PartialEq)]
pub struct TimepointGroup {
    /// StudyDate (YYYYMMDD).
    pub study_date: String,
    /// Days from the patient's earliest study date, when dates parse.
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
    /// Adds a loaded series, keeping the list ordered, and selects the first one.
    pub fn add_series(&mut self, loaded: LoadedSeries) {
        let view = ViewState::initial(&loaded.volume);
        self.skipped.extend(loaded.skipped.iter().cloned());
        let selected_uid = self
            .selected_entry()
            .map(|e| e.loaded.volume.meta.series_instance_uid.clone());
        self.series.push(SeriesEntry { loaded, view });
        self.series
            .sort_by(|a, b| series_order(a).cmp(&series_order(b)));
        self.selected = match selected_uid {
            Some(uid) => self
                .series
                .iter()
                .position(|e| e.loaded.volume.meta.series_instance_uid == uid),
            None => Some(0),
        };
    }

    /// The selected series.
    pub fn selected_entry(&self) -> Option<&SeriesEntry> {
        self.series.get(self.selected?)
    }

    /// Patients → timepoints → series, for the browser.
    pub fn patients(&self) -> Vec<PatientGroup> {
        let mut out: Vec<PatientGroup> = Vec::new();
        for (i, e) in self.series.iter().enumerate() {
            let key = patient_key(&e.loaded.volume);
            let date = e.loaded.volume.meta.study_date.clone();
            let patient = match out.iter_mut().position(|p| p.patient_key == key) {
                Some(p) => &mut out[p],
                None => {
                    out.push(PatientGroup {
                        patient_key: key,
                        timepoints: Vec::new(),
                    });
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            match patient.timepoints.iter_mut().find(|t| t.study_date == date) {
                Some(t) => t.series.push(i),
                None => patient.timepoints.push(TimepointGroup {
                    study_date: date,
                    day: None,
                    series: vec![i],
                }),
            }
        }
        for p in &mut out {
            p.timepoints.sort_by(|a, b| a.study_date.cmp(&b.study_date));
            let base = p.timepoints.first().and_then(|t| day_number(&t.study_date));
            for t in &mut p.timepoints {
                t.day = base.zip(day_number(&t.study_date)).map(|(b, d)| d - b);
            }
        }
        out
    }

    /// Applies a command from the UI.
    pub fn apply(&mut self, command: Command) {
        if let Command::Select(i) = command {
            if i < self.series.len() {
                self.selected = Some(i);
            }
            return;
        }
        let Some(entry) = self.selected.and_then(|i| self.series.get_mut(i)) else {
            return;
        };
        let slices = entry.loaded.volume.slices();
        let view = &mut entry.view;
        match command {
            Command::Scroll(delta) => view.scroll(delta, slices),
            Command::SetSlice(s) => view.slice = s.min(slices.saturating_sub(1)),
            Command::SetWindow(w) => {
                view.window = Window {
                    center: w.center,
                    width: w.width.max(1.0),
                }
            }
            Command::Zoom(factor) => view.zoom = (view.zoom * factor).clamp(0.1, 40.0),
            Command::Pan([dx, dy]) => view.pan = [view.pan[0] + dx, view.pan[1] + dy],
            Command::ResetView => {
                view.zoom = 1.0;
                view.pan = [0.0, 0.0];
            }
            Command::OpenFolder(_) | Command::Select(_) => {}
        }
    }
}

fn series_order(e: &SeriesEntry) -> (String, String, i64, String) {
    let m = &e.loaded.volume.meta;
    (
        patient_key(&e.loaded.volume),
        m.study_date.clone(),
        m.series_number.unwrap_or(i64::MAX),
        m.series_instance_uid.clone(),
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

/// Days since 1970-01-01 of a DICOM date (YYYYMMDD), `None` if it does not parse.
pub fn day_number(date: &str) -> Option<i64> {
    let digits = date.trim();
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i64 = digits.get(0..4)?.parse().ok()?;
    let m: i64 = digits.get(4..6)?.parse().ok()?;
    let d: i64 = digits.get(6..8)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers() {
        assert_eq!(day_number("19700101"), Some(0));
        assert_eq!(
            day_number("20240301")
                .zip(day_number("20240101"))
                .map(|(a, b)| a - b),
            Some(60)
        );
        assert_eq!(day_number("2024-03-01"), None);
        assert_eq!(day_number("20241301"), None);
    }

    #[test]
    fn scrolling_is_clamped() {
        let mut v = ViewState {
            slice: 1,
            window: Window::SOFT_TISSUE,
            zoom: 1.0,
            pan: [0.0, 0.0],
        };
        v.scroll(-5, 10);
        assert_eq!(v.slice, 0);
        v.scroll(50, 10);
        assert_eq!(v.slice, 9);
    }
}
