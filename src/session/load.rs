//! The background loading job: a folder is scanned and its series decoded on
//! a named thread; the UI polls the events and never blocks a frame.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::dicom::{self, LoadOptions, LoadedSeries, Skipped};

/// Something the loading thread reports.
#[derive(Debug)]
pub enum LoadEvent {
    /// Headers read: this many slices will be decoded in all.
    Planned {
        /// Total slices over all stacks.
        total_slices: usize,
        /// DICOM files (or files that could be) that cannot be used, with why.
        skipped: Vec<Skipped>,
        /// Files that are not DICOM at all (a CSV, a README, a JSON beside
        /// the images): ignored, not counted as failures.
        ignored: Vec<PathBuf>,
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
                let (ignored, skipped): (Vec<Skipped>, Vec<Skipped>) =
                    scan.skipped.iter().cloned().partition(|s| s.not_dicom);
                let _ = tx.send(LoadEvent::Planned {
                    total_slices,
                    skipped,
                    ignored: ignored.into_iter().map(|s| s.path).collect(),
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
                        // a series that cannot be loaded (too large, empty …)
                        // is listed with its reason, never dropped silently
                        Err(e) => LoadEvent::Failed(
                            plan.files
                                .iter()
                                .map(|h| {
                                    Skipped::new(
                                        h.path.clone(),
                                        dicom::Unusable::new(e.skip_reason(), e.to_string()),
                                    )
                                })
                                .collect(),
                        ),
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
