//! The session's side of a `.nadir` project: which file is open, the
//! autosave writer (every applied edit is queued to the store's background
//! thread together with its audit rows), timepoint locks (sign-off),
//! blinded reading (pseudonyms and days from baseline instead of names, IDs
//! and dates), the reader's name, the recent-projects list, series
//! references and relinking of series whose folder has moved.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Workspace;
use crate::recist::Date;
use crate::store::writer::{WriteEvent, WriteRequest, Writer};
use crate::store::{AuditEntry, AuditRow, Project, SeriesRef, Settings, StoredPatient};
use crate::tracking::Edit;
use crate::tracking::Patient;
use crate::tracking::describe::{describe_edit, touched_dates};

/// An open project file.
#[derive(Debug)]
pub struct OpenProject {
    /// The file.
    pub path: PathBuf,
    /// The autosave writer; `None` when the project is read-only.
    pub writer: Option<Writer>,
    /// Why the project is read-only (damaged, newer version …).
    pub read_only: Option<String>,
    /// Edits saved since the project was opened.
    pub saved: usize,
    /// When a failed write was last retried.
    pub last_retry: Option<std::time::Instant>,
}

/// What the autosave indicator shows.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveStatus {
    /// No project: changes live only in this session.
    NoProject,
    /// Everything is on disk; the last transaction took this long.
    Saved(Option<Duration>),
    /// Writes queued.
    Saving(usize),
    /// The last write failed (it is kept and retried).
    Failed(String),
    /// The project is open read-only.
    ReadOnly(String),
}

/// The per-lesion audit view.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditView {
    /// The patient key.
    pub patient_key: String,
    /// The lesion; `None`: the whole patient.
    pub lesion_id: Option<String>,
    /// The rows, oldest first.
    pub rows: Vec<AuditRow>,
}

/// Who signed a timepoint off, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOff {
    /// The reader's name.
    pub by: String,
    /// UTC, ISO 8601.
    pub at_utc: String,
}

/// Project state of a session (also meaningful without a file: blinding,
/// locks and pseudonyms then live only in memory).
#[derive(Debug, Default)]
pub struct ProjectSession {
    /// The open project, if any.
    pub file: Option<OpenProject>,
    /// Blinded reading.
    pub blinded: bool,
    /// The reader's name (setting; default: the OS user).
    pub reader: Option<String>,
    /// Pseudonyms by patient key (`Subject 1` …).
    pub pseudonyms: BTreeMap<String, String>,
    /// Locked (signed-off) timepoints by (patient key, date): who signed
    /// and when.
    pub locks: BTreeMap<(String, Date), SignOff>,
    /// Series references of the project by SeriesInstanceUID.
    pub series: BTreeMap<String, SeriesRef>,
    /// Series references whose images were not found.
    pub missing: Vec<SeriesRef>,
    /// The folder being loaded (recorded in new series references).
    pub load_root: Option<PathBuf>,
    /// Loading a folder to relink missing series.
    pub relinking: bool,
    /// The audit view, when open.
    pub audit_view: Option<AuditView>,
}

impl ProjectSession {
    /// The reader's name for the audit trail.
    pub fn reader_name(&self) -> String {
        self.reader.clone().unwrap_or_else(crate::store::os_user)
    }

    /// The pseudonym of a patient, assigning the next `Subject N` if new.
    pub fn pseudonym(&mut self, key: &str) -> String {
        if let Some(p) = self.pseudonyms.get(key) {
            return p.clone();
        }
        let taken: BTreeSet<&String> = self.pseudonyms.values().collect();
        let name = (1..)
            .map(|n| format!("Subject {n}"))
            .find(|n| !taken.contains(n))
            .unwrap_or_else(|| "Subject".into());
        self.pseudonyms.insert(key.to_string(), name.clone());
        name
    }

    /// Who signed a timepoint off and when; `None` while it is open.
    pub fn sign_off(&self, key: &str, date: Date) -> Option<&SignOff> {
        self.locks.get(&(key.to_string(), date))
    }

    /// Whether a timepoint is locked (signed off).
    pub fn is_locked(&self, key: &str, date: Date) -> bool {
        self.locks.contains_key(&(key.to_string(), date))
    }

    /// The autosave state.
    pub fn status(&self) -> SaveStatus {
        let Some(file) = &self.file else {
            return SaveStatus::NoProject;
        };
        if let Some(reason) = &file.read_only {
            return SaveStatus::ReadOnly(reason.clone());
        }
        match &file.writer {
            None => SaveStatus::ReadOnly("no writer".into()),
            Some(w) => match (&w.last_error, w.pending()) {
                (Some(e), _) => SaveStatus::Failed(e.clone()),
                (None, 0) => SaveStatus::Saved(w.last_elapsed),
                (None, n) => SaveStatus::Saving(n),
            },
        }
    }

    /// Queues a write when a writable project is open.
    pub fn write(&mut self, request: WriteRequest) {
        let reader = self.reader_name();
        if let Some(w) = self.file.as_mut().and_then(|f| f.writer.as_mut()) {
            w.send(&reader, request);
        }
    }

    /// Queues the save of a patient with audit entries.
    pub fn save_patient(&mut self, patient: &Patient, audit: Vec<AuditEntry>) {
        if self.file.is_none() {
            return;
        }
        let pseudonym = self.pseudonym(&patient.id);
        self.write(WriteRequest::SavePatient {
            patient: StoredPatient {
                patient: patient.clone(),
                pseudonym,
            },
            audit,
        });
    }

    /// The settings to store.
    pub fn settings(&self) -> Settings {
        Settings {
            blinded: self.blinded,
            reader: self.reader.clone(),
        }
    }

    /// Collects the writer's events; returns messages for the reader (each
    /// failure once) and whether writes are still pending.
    pub fn poll(&mut self) -> (Vec<String>, bool) {
        let mut messages = Vec::new();
        let Some(file) = self.file.as_mut() else {
            return (messages, false);
        };
        let Some(writer) = file.writer.as_mut() else {
            return (messages, false);
        };
        let before = writer.last_error.clone();
        if before.is_some() {
            // a failed write waits in the writer; ask again now and then
            let due = file
                .last_retry
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(2));
            if due {
                writer.retry();
                file.last_retry = Some(std::time::Instant::now());
            }
        }
        for event in writer.poll() {
            match event {
                WriteEvent::Saved { .. } => file.saved += 1,
                WriteEvent::Failed { error, .. } => {
                    if before.as_deref() != Some(error.as_str())
                        && !messages.contains(&format!("autosave failed: {error}"))
                    {
                        messages.push(format!("autosave failed: {error}"));
                    }
                }
            }
        }
        (messages, writer.pending() > 0)
    }

    /// Waits (at most `timeout`) until queued writes are on disk.
    pub fn flush(&mut self, timeout: Duration) {
        if let Some(w) = self.file.as_mut().and_then(|f| f.writer.as_mut()) {
            w.flush(timeout);
        }
    }

    /// Reads the audit trail of a patient (or one lesion) from the file.
    /// A separate read-only connection: WAL lets it read while the writer
    /// writes.
    pub fn read_audit(
        &self,
        patient_key: &str,
        lesion_id: Option<&str>,
    ) -> Result<Vec<AuditRow>, String> {
        let file = self.file.as_ref().ok_or("no project is open")?;
        Project::read_audit_of(&file.path, Some(patient_key), lesion_id).map_err(|e| e.to_string())
    }
}

/// The days-from-baseline label of a date (`day 56`).
pub fn day_label(baseline: Option<Date>, date: Date) -> String {
    match baseline {
        Some(b) => format!("day {}", date.days_since(b)),
        None => "day ?".to_string(),
    }
}

/// The configuration folder: `$XDG_CONFIG_HOME/nadir`, else `~/.config/nadir`.
pub fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("nadir"))
}

/// Where reads opened without a project are autosaved:
/// `$XDG_DATA_HOME/nadir/reads` (else `~/.local/share/nadir/reads`).
pub fn reads_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("nadir").join("reads"))
}

/// A new project file in `dir` named by patient and date
/// (`NADIR-SYN-001_20240108.nadir`, then `…-2.nadir` when that exists).
/// Characters other than letters, digits, `-` and `_` become `_`.
pub fn autosave_path(dir: &Path, patient_key: &str, date: &str) -> PathBuf {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let stem = format!("{}_{}", clean(patient_key), clean(date));
    let mut path = dir.join(format!("{stem}.{}", crate::store::EXTENSION));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.{}", crate::store::EXTENSION));
        n += 1;
    }
    path
}

/// How many recent projects are remembered.
pub const RECENT_MAX: usize = 8;

/// The recent projects listed in `dir/recent-projects.txt`, newest first.
pub fn recent_projects(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_to_string(dir.join("recent-projects.txt"))
        .map(|text| {
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(PathBuf::from)
                .take(RECENT_MAX)
                .collect()
        })
        .unwrap_or_default()
}

/// Puts `project` first in the recent list in `dir`.
pub fn remember_recent(dir: &Path, project: &Path) -> std::io::Result<()> {
    let project = std::fs::canonicalize(project).unwrap_or_else(|_| project.to_path_buf());
    let mut list = recent_projects(dir);
    list.retain(|p| p != &project);
    list.insert(0, project);
    list.truncate(RECENT_MAX);
    std::fs::create_dir_all(dir)?;
    let text: String = list.iter().map(|p| format!("{}\n", p.display())).collect();
    std::fs::write(dir.join("recent-projects.txt"), text)
}

// ---------------------------------------------------------------------------
// The workspace's project operations (kept here so `session/mod.rs` only
// gains small hooks).

impl Workspace {
    /// Why closing Nadir now would lose reads, if it would: lesions or
    /// measurements that live only in this session (no project), writes the
    /// project file refused (kept and retried until then), or edits made
    /// to a project open read-only. `None` when everything is on disk (or
    /// there is nothing to lose); queued writes are flushed on exit.
    pub fn unsaved_work(&self) -> Option<String> {
        let has_reads = self.patients.values().any(|p| {
            !p.lesions.is_empty()
                || !p.measurements.is_empty()
                || !p.signals.is_empty()
                || !p.segmentations.is_empty()
        });
        match self.project.status() {
            SaveStatus::NoProject if has_reads => Some(
                "This session's lesions and measurements are not in a project file: \
                 closing now loses them."
                    .into(),
            ),
            SaveStatus::Failed(error) => Some(format!(
                "The last changes could not be written to the project ({error}); \
                 they are kept and retried while Nadir stays open."
            )),
            SaveStatus::ReadOnly(reason) if self.history.can_undo() => Some(format!(
                "The project is open read-only ({reason}): this session's changes are not saved."
            )),
            _ => None,
        }
    }

    /// The name shown for a patient: the pseudonym when blinded, else the key.
    pub fn patient_label(&self, key: &str) -> String {
        if self.project.blinded {
            self.project
                .pseudonyms
                .get(key)
                .cloned()
                .unwrap_or_else(|| "Subject ?".into())
        } else {
            key.to_string()
        }
    }

    /// The text shown for a date of a patient: `day N` from baseline when
    /// blinded, else the ISO date.
    pub fn date_label(&self, key: &str, date: Date) -> String {
        if self.project.blinded {
            day_label(
                self.patients.get(key).and_then(Patient::baseline_date),
                date,
            )
        } else {
            date.to_string()
        }
    }

    /// `text` with patient keys, names and ISO dates replaced when blinded
    /// (for messages built elsewhere).
    pub fn blind_text(&self, text: &str) -> String {
        if !self.project.blinded {
            return text.to_string();
        }
        let mut out = text.to_string();
        for entry in &self.series {
            let patient = &entry.volume().meta.patient;
            let label = self.patient_label(&entry.patient_key());
            for secret in [&patient.name, &patient.id, &patient.birth_date] {
                if secret.trim().len() > 1 {
                    out = out.replace(secret.as_str(), &label);
                }
            }
            let study_date = &entry.volume().meta.study_date;
            if let Some(date) = entry.date {
                let day = self.date_label(&entry.patient_key(), date);
                out = out.replace(&date.to_string(), &day);
                if study_date.len() == 8 {
                    out = out.replace(study_date.as_str(), &day);
                }
            }
        }
        for key in self.patients.keys() {
            if key.trim().len() > 1 {
                out = out.replace(key.as_str(), &self.patient_label(key));
            }
        }
        blank_iso_dates(&out)
    }

    /// Why `edit` of patient `key` is refused by a locked timepoint, if it is.
    pub fn lock_refusal(&self, key: &str, edit: &Edit) -> Option<String> {
        let patient = self.patients.get(key)?;
        let locked: Vec<Date> = touched_dates(patient, edit)
            .into_iter()
            .filter(|d| self.project.is_locked(key, *d))
            .collect();
        let first = *locked.first()?;
        Some(format!(
            "{} ({}) is signed off: unlock the timepoint to change it",
            patient.visit_label(first),
            self.date_label(key, first)
        ))
    }

    /// Queues the save of patient `key` after an edit, with its audit rows
    /// (`notes` described before the edit was applied).
    pub(super) fn autosave_edit(
        &mut self,
        key: &str,
        action: &str,
        notes: &[crate::tracking::describe::ChangeNote],
        edit: &Edit,
    ) {
        if self.project.file.is_none() {
            return;
        }
        let audit = AuditEntry::for_edit(key, action, notes, edit);
        if let Some(patient) = self.patients.get(key) {
            let patient = patient.clone();
            self.project.save_patient(&patient, audit);
        }
    }

    /// The audit notes of an edit, when a project records them.
    pub(super) fn audit_notes(
        &self,
        key: &str,
        edit: &Edit,
    ) -> Vec<crate::tracking::describe::ChangeNote> {
        match (self.project.file.as_ref(), self.patients.get(key)) {
            (Some(_), Some(p)) => describe_edit(p, edit),
            _ => Vec::new(),
        }
    }

    /// Hook after a series was added: its pseudonym, its series reference
    /// (saved with the patient when a project is open) and relinking.
    pub(super) fn project_series_added(&mut self, uid: &str) {
        let Some(entry) = self.series.iter().find(|e| e.uid() == uid) else {
            return;
        };
        let key = entry.patient_key();
        let meta = &entry.volume().meta;
        let found = SeriesRef {
            series_instance_uid: uid.to_string(),
            patient_key: key.clone(),
            folder: self.project.load_root.clone().unwrap_or_default(),
            pixel_sha256: entry.loaded.pixel_sha256.clone(),
            study_date: meta.study_date.clone(),
            modality: meta.modality.clone(),
            description: meta.series_description.clone(),
        };
        self.project.pseudonym(&key);
        let missing_at = self
            .project
            .missing
            .iter()
            .position(|m| m.series_instance_uid == uid);
        match (self.project.series.get(uid).cloned(), missing_at) {
            (Some(known), Some(at)) => {
                let same_pixels = match (&known.pixel_sha256, &found.pixel_sha256) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                if same_pixels {
                    self.project.missing.remove(at);
                    let relinked = SeriesRef {
                        folder: found.folder.clone(),
                        ..known
                    };
                    self.messages.push(format!(
                        "relinked series {} to {}",
                        relinked.description,
                        relinked.folder.display()
                    ));
                    self.project
                        .series
                        .insert(uid.to_string(), relinked.clone());
                    self.project.write(WriteRequest::PutSeries(relinked));
                } else {
                    self.messages.push(format!(
                        "series {} in {} has the same UID but other pixels (fingerprint differs): not relinked",
                        known.description,
                        found.folder.display()
                    ));
                }
            }
            (Some(_), None) => {}
            (None, _) => {
                if let Some(patient) = self.patients.get(&key).cloned() {
                    self.project.save_patient(&patient, Vec::new());
                }
                self.project.series.insert(uid.to_string(), found.clone());
                self.project.write(WriteRequest::PutSeries(found));
            }
        }
    }

    /// Creates a project file at `path` holding this session (patients,
    /// series references, settings) and starts autosaving to it.
    pub fn new_project(&mut self, path: &Path) -> Result<(), String> {
        let mut path = path.to_path_buf();
        if path.extension().is_none() {
            path.set_extension(crate::store::EXTENSION);
        }
        let project = Project::create(&path).map_err(|e| e.to_string())?;
        let writer = Writer::start(project).map_err(|e| format!("{}: {e}", path.display()))?;
        self.project.file = Some(OpenProject {
            path: path.clone(),
            writer: Some(writer),
            read_only: None,
            saved: 0,
            last_retry: None,
        });
        let settings = self.project.settings();
        self.project.write(WriteRequest::SaveSettings(settings));
        let patients: Vec<Patient> = self.patients.values().cloned().collect();
        for p in &patients {
            self.project.save_patient(p, Vec::new());
        }
        let series: Vec<SeriesRef> = self.project.series.values().cloned().collect();
        for s in series {
            self.project.write(WriteRequest::PutSeries(s));
        }
        for (key, date) in self.project.locks.keys().cloned().collect::<Vec<_>>() {
            self.project.write(WriteRequest::SetLock {
                patient_key: key,
                date,
                locked: true,
            });
        }
        self.messages
            .push(format!("project {} created; autosave on", path.display()));
        Ok(())
    }

    /// Opens a project into this (fresh) workspace: its patients, locks,
    /// settings and series references. Returns the folders to load; series
    /// whose folder is gone are listed in `project.missing`.
    pub fn open_project(&mut self, path: &Path) -> Result<Vec<PathBuf>, String> {
        let opened = Project::open(path).map_err(|e| e.to_string())?;
        let contents = opened.contents;
        for problem in &opened.problems {
            self.messages.push(format!(
                "{}: {problem} — opened read-only, the file will not be changed",
                path.display()
            ));
        }
        let read_only = opened.project.read_only().map(str::to_string);
        let writer = match read_only {
            Some(_) => None,
            None => Some(Writer::start(opened.project).map_err(|e| e.to_string())?),
        };
        self.patients = contents
            .patients
            .iter()
            .map(|s| (s.patient.id.clone(), s.patient.clone()))
            .collect();
        self.project.pseudonyms = contents
            .patients
            .iter()
            .map(|s| (s.patient.id.clone(), s.pseudonym.clone()))
            .collect();
        self.project.locks = contents
            .locks
            .iter()
            .map(|l| {
                let signed = SignOff {
                    by: l.locked_by.clone(),
                    at_utc: l.locked_at_utc.clone(),
                };
                ((l.patient_key.clone(), l.date), signed)
            })
            .collect();
        self.project.blinded = contents.settings.blinded;
        self.project.reader = contents.settings.reader.clone();
        self.project.series = contents
            .series
            .iter()
            .map(|s| (s.series_instance_uid.clone(), s.clone()))
            .collect();
        let mut folders: Vec<PathBuf> = Vec::new();
        self.project.missing.clear();
        for s in &contents.series {
            if s.folder.is_dir() {
                if !folders.contains(&s.folder) {
                    folders.push(s.folder.clone());
                }
            } else {
                self.project.missing.push(s.clone());
            }
        }
        self.project.file = Some(OpenProject {
            path: path.to_path_buf(),
            writer,
            read_only,
            saved: 0,
            last_retry: None,
        });
        self.history = Default::default();
        self.refresh_assessment();
        Ok(folders)
    }

    /// After the project's folders have loaded: series references whose
    /// images did not turn up are listed as missing.
    pub fn project_loading_finished(&mut self) {
        let loaded: BTreeSet<String> = self.series.iter().map(|e| e.uid().to_string()).collect();
        for s in self.project.series.values() {
            if !loaded.contains(&s.series_instance_uid)
                && !self
                    .project
                    .missing
                    .iter()
                    .any(|m| m.series_instance_uid == s.series_instance_uid)
            {
                self.project.missing.push(s.clone());
            }
        }
        self.project.relinking = false;
        if !self.project.missing.is_empty() {
            self.messages.push(format!(
                "{} series of the project were not found: File > Relink missing series…",
                self.project.missing.len()
            ));
        }
    }

    /// Locks (signs off) or unlocks a timepoint of the current patient.
    pub(super) fn set_lock(&mut self, date: Date, locked: bool) {
        let Some(key) = self.current_patient_key() else {
            return;
        };
        let entry = (key.clone(), date);
        let changed = if locked {
            let signed = SignOff {
                by: self.project.reader_name(),
                at_utc: crate::store::now_utc(),
            };
            self.project.locks.insert(entry, signed).is_none()
        } else {
            self.project.locks.remove(&entry).is_some()
        };
        if changed {
            self.project.write(WriteRequest::SetLock {
                patient_key: key,
                date,
                locked,
            });
            self.refresh_audit_view();
        }
    }

    /// Turns blinded reading on or off (a project setting, audited).
    pub(super) fn set_blinded(&mut self, blinded: bool) {
        if self.project.blinded != blinded {
            self.project.blinded = blinded;
            let settings = self.project.settings();
            self.project.write(WriteRequest::SaveSettings(settings));
        }
    }

    /// Opens the audit view of a lesion (or closes it with `None`).
    pub(super) fn show_audit(&mut self, lesion_id: Option<String>) {
        match lesion_id {
            Some(lesion_id) => self.open_audit(Some(lesion_id)),
            None => self.project.audit_view = None,
        }
    }

    /// Opens the audit view of the whole patient being read: every change,
    /// sign-offs and unlocks included, with who and when.
    pub(super) fn show_patient_audit(&mut self) {
        self.open_audit(None);
    }

    fn open_audit(&mut self, lesion_id: Option<String>) {
        let Some(key) = self.current_patient_key() else {
            return;
        };
        if self.project.file.is_none() {
            self.messages
                .push("no project: File > New project… keeps an audit trail".into());
            return;
        }
        self.project.flush(Duration::from_secs(2));
        match self.project.read_audit(&key, lesion_id.as_deref()) {
            Ok(rows) => {
                self.project.audit_view = Some(AuditView {
                    patient_key: key,
                    lesion_id,
                    rows,
                })
            }
            Err(e) => self
                .messages
                .push(format!("cannot read the audit trail: {e}")),
        }
    }

    fn refresh_audit_view(&mut self) {
        if let Some(view) = &self.project.audit_view {
            let (key, lesion) = (view.patient_key.clone(), view.lesion_id.clone());
            if let Ok(rows) = self.project.read_audit(&key, lesion.as_deref())
                && let Some(v) = self.project.audit_view.as_mut()
            {
                v.rows = rows;
            }
        }
    }

    /// Collects autosave results (call every frame); returns whether writes
    /// are still pending (keep polling).
    pub fn poll_project(&mut self) -> bool {
        let saved_before = self.project.file.as_ref().map_or(0, |f| f.saved);
        let (messages, pending) = self.project.poll();
        self.messages.extend(messages);
        let saved_after = self.project.file.as_ref().map_or(0, |f| f.saved);
        if saved_after != saved_before && !pending {
            self.refresh_audit_view();
        }
        pending
    }
}

/// Replaces every `YYYY-MM-DD` in `text` with `(date hidden)`.
fn blank_iso_dates(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let candidate = text.get(i..i + 10);
        if let Some(c) = candidate
            && Date::parse_iso(c).is_some()
        {
            out.push_str("(date hidden)");
            i += 10;
            continue;
        }
        let ch_len = text
            .get(i..)
            .and_then(|s| s.chars().next())
            .map_or(1, char::len_utf8);
        if let Some(s) = text.get(i..i + ch_len) {
            out.push_str(s);
        }
        i += ch_len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_projects_are_newest_first_without_duplicates_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..10 {
            remember_recent(dir.path(), Path::new(&format!("/p/{i}.nadir"))).unwrap();
        }
        remember_recent(dir.path(), Path::new("/p/5.nadir")).unwrap();
        let list = recent_projects(dir.path());
        assert_eq!(list.len(), RECENT_MAX);
        assert_eq!(list[0], Path::new("/p/5.nadir"));
        assert_eq!(list[1], Path::new("/p/9.nadir"));
        assert_eq!(list.iter().filter(|p| p.ends_with("5.nadir")).count(), 1);
    }

    #[test]
    fn pseudonyms_are_stable_and_numbered_in_order_of_appearance() {
        let mut s = ProjectSession::default();
        assert_eq!(s.pseudonym("B"), "Subject 1");
        assert_eq!(s.pseudonym("A"), "Subject 2");
        assert_eq!(s.pseudonym("B"), "Subject 1");
    }

    #[test]
    fn days_from_baseline() {
        let d = |s| Date::parse_iso(s).unwrap();
        assert_eq!(day_label(Some(d("2024-01-08")), d("2024-03-04")), "day 56");
    }
}

#[cfg(test)]
mod autosave_tests {
    use super::autosave_path;

    #[test]
    fn autosave_names_are_clean_and_never_overwrite() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let first = autosave_path(dir.path(), "DOE/JOHN 12", "20240108");
        assert_eq!(
            first.file_name().and_then(|n| n.to_str()),
            Some("DOE_JOHN_12_20240108.nadir")
        );
        std::fs::write(&first, b"x").unwrap_or_else(|e| panic!("{e}"));
        let second = autosave_path(dir.path(), "DOE/JOHN 12", "20240108");
        assert_eq!(
            second.file_name().and_then(|n| n.to_str()),
            Some("DOE_JOHN_12_20240108-2.nadir")
        );
    }
}
