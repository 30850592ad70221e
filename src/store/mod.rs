//! The project store: one `.nadir` file (SQLite, WAL journal, foreign keys
//! on) holding patients, series references (UID, folder, pixel
//! fingerprint), timepoints, lesions, measurements (patient-space geometry
//! as JSON + image reference), observations, timepoint locks, settings and
//! an append-only audit trail. This is the only module naming `rusqlite`.
//!
//! Every saved change is one transaction: the affected patient's rows are
//! rewritten and the audit rows appended together, so a crash loses at most
//! the change in flight. [`writer::Writer`] runs the writes on a background
//! thread. A damaged or newer file opens read-only with what could be read,
//! and is never written.

pub mod schema;
pub mod writer;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use crate::measure::{ImageRef, Measurement, Shape};
use crate::recist::{Category, Date, LesionStatus};
use crate::segment::{Mask, VoxelSize};
use crate::tracking::describe::ChangeNote;
use crate::tracking::{
    Edit, ExtraValues, Finding, FittedVolume, Lesion, MeasurementId, Patient, Segmentation,
    SignalRoi, SignalRole, SignalSource, StoredMeasurement, Timepoint,
};
use crate::volume::plane::Plane;

pub use schema::current_version;

/// File extension of a project.
pub const EXTENSION: &str = "nadir";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is missing or cannot be read.
    #[error("{path}: cannot open the project: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not a Nadir project.
    #[error("{path}: not a Nadir project ({reason})")]
    NotAProject {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Creating a project over an existing file.
    #[error("{0}: a file exists there already; choose another name")]
    Exists(PathBuf),
    /// The project is open read-only.
    #[error("{path}: the project is open read-only ({reason}); nothing was saved")]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// Why it is read-only.
        reason: String,
    },
    /// An SQLite error while reading or writing.
    #[error("{path}: {action}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// What was being done.
        action: String,
        /// The SQLite error.
        source: rusqlite::Error,
    },
}

/// A series of the project: where its files were, and the fingerprint of
/// its pixels (interchange §3 `pixel_sha256`), so a moved folder can be
/// relinked by SeriesInstanceUID and fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRef {
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// The patient key it belongs to.
    pub patient_key: String,
    /// The folder it was loaded from.
    pub folder: PathBuf,
    /// SHA-256 of the stored pixel values, when computed.
    pub pixel_sha256: Option<String>,
    /// StudyDate as stored (YYYYMMDD).
    pub study_date: String,
    /// Modality.
    pub modality: String,
    /// SeriesDescription.
    pub description: String,
}

/// A signed-off (locked) timepoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Lock {
    /// The patient key.
    pub patient_key: String,
    /// The timepoint.
    pub date: Date,
    /// Who signed off.
    pub locked_by: String,
    /// When (UTC, ISO 8601).
    pub locked_at_utc: String,
}

/// A patient with its pseudonym (shown when reading blinded).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPatient {
    /// The tracking data; `patient.id` is the patient key.
    pub patient: Patient,
    /// Pseudonym, e.g. `Subject 1`.
    pub pseudonym: String,
}

/// Project-wide settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// Blinded reading: no patient name, ID or dates in the UI and exports.
    pub blinded: bool,
    /// The reader's name for the audit trail; `None`: the OS user.
    pub reader: Option<String>,
}

/// One row of the audit trail.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    /// Order of writing.
    pub seq: i64,
    /// When (UTC, ISO 8601).
    pub at_utc: String,
    /// Who.
    pub reader: String,
    /// Which patient.
    pub patient_key: Option<String>,
    /// Which lesion.
    pub lesion_id: Option<String>,
    /// Which timepoint.
    pub date: Option<Date>,
    /// `edit`, `undo`, `redo`, `lock`, `unlock`, `setting`.
    pub action: String,
    /// Readable text (without the date).
    pub description: String,
    /// The edit as JSON, for edits.
    pub edit_json: Option<String>,
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// Which patient.
    pub patient_key: Option<String>,
    /// Which lesion.
    pub lesion_id: Option<String>,
    /// Which timepoint.
    pub date: Option<Date>,
    /// `edit`, `undo`, `redo`, `lock`, `unlock`, `setting`.
    pub action: String,
    /// Readable text.
    pub description: String,
    /// The edit as JSON.
    pub edit_json: Option<String>,
}

impl AuditEntry {
    /// The audit entries of an edit of `patient_key`: one per note, each
    /// carrying the whole edit as JSON.
    pub fn for_edit(
        patient_key: &str,
        action: &str,
        notes: &[ChangeNote],
        edit: &Edit,
    ) -> Vec<AuditEntry> {
        let json = edit_json(edit).to_string();
        notes
            .iter()
            .map(|n| AuditEntry {
                patient_key: Some(patient_key.to_string()),
                lesion_id: n.lesion_id.clone(),
                date: n.date,
                action: action.to_string(),
                description: n.text.clone(),
                edit_json: Some(json.clone()),
            })
            .collect()
    }
}

/// Everything a project holds (except the audit trail, read on demand).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Contents {
    /// Patients in creation order.
    pub patients: Vec<StoredPatient>,
    /// Series references.
    pub series: Vec<SeriesRef>,
    /// Locked timepoints.
    pub locks: Vec<Lock>,
    /// Settings.
    pub settings: Settings,
}

/// An open project file.
#[derive(Debug)]
pub struct Project {
    conn: Connection,
    path: PathBuf,
    read_only: Option<String>,
}

/// The result of opening a project: the file, what it holds, and what
/// could not be read (then the project is read-only).
#[derive(Debug)]
pub struct Opened {
    /// The project.
    pub project: Project,
    /// Its contents (as much as could be read).
    pub contents: Contents,
    /// Problems found while reading; non-empty means read-only.
    pub problems: Vec<String>,
}

fn sql_error(path: &Path, action: &str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    let action = action.to_string();
    move |source| StoreError::Sqlite {
        path,
        action,
        source,
    }
}

/// The reader name of this OS user (`$USER`, `$LOGNAME`, `$USERNAME`, else
/// the last component of `$HOME`), else `unknown`.
pub fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .or_else(|| {
            let home = PathBuf::from(std::env::var_os("HOME")?);
            Some(home.file_name()?.to_string_lossy().to_string())
        })
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// Now in UTC as ISO 8601 (`2026-11-21T05:07:06.123Z`).
pub fn now_utc() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let days = i32::try_from(secs / 86_400).unwrap_or(i32::MAX);
    let rem = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        Date::from_days_since_epoch(days),
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        now.subsec_millis()
    )
}

fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sql_error(path, "setting the busy timeout"))?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(sql_error(path, "enabling foreign keys"))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sql_error(path, "switching to WAL"))?;
    // FULL: a committed change survives a power loss too, not only a crash.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sql_error(path, "setting synchronous"))?;
    Ok(())
}

impl Project {
    /// Creates a new, empty project at `path` (refusing to replace a file).
    pub fn create(path: &Path) -> Result<Project, StoreError> {
        if path.exists() {
            return Err(StoreError::Exists(path.to_path_buf()));
        }
        let mut conn = Connection::open(path).map_err(|e| StoreError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        configure(&conn, path)?;
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .map_err(sql_error(path, "setting the application id"))?;
        migrate(&mut conn, path, 0)?;
        Ok(Project {
            conn,
            path: path.to_path_buf(),
            read_only: None,
        })
    }

    /// Opens a project. A newer schema version, a damaged file or a missing
    /// table opens read-only with what could be read (`problems` say what);
    /// a file that is not a Nadir project at all is an error. An older
    /// version is migrated. A read-only project's file is never written.
    pub fn open(path: &Path) -> Result<Opened, StoreError> {
        Project::open_with(path, true)
    }

    /// Opens a project only to read it (command-line use): never migrated,
    /// never written. An older file reads as empty with a problem noted.
    pub fn open_read_only(path: &Path) -> Result<Opened, StoreError> {
        Project::open_with(path, false)
    }

    fn open_with(path: &Path, writable: bool) -> Result<Opened, StoreError> {
        check_header(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let reader =
            Connection::open_with_flags(path, flags).map_err(|e| StoreError::Unreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        let application_id: i64 = reader
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(|e| StoreError::NotAProject {
                path: path.to_path_buf(),
                reason: format!("the database cannot be read: {e}"),
            })?;
        if application_id != schema::APPLICATION_ID {
            return Err(StoreError::NotAProject {
                path: path.to_path_buf(),
                reason: format!(
                    "an SQLite database of another application (application_id {application_id:#x})"
                ),
            });
        }
        let version: i64 = reader
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql_error(path, "reading the schema version"))?;
        let mut problems = Vec::new();
        if version > current_version() {
            problems.push(format!(
                "written by a newer Nadir (schema version {version}; this build knows {}): opened read-only",
                current_version()
            ));
        }
        let check: String = reader
            .pragma_query_value(None, "quick_check", |r| r.get(0))
            .unwrap_or_else(|e| e.to_string());
        if check != "ok" {
            problems.push(format!("integrity check failed: {check}"));
        }
        // An older file opened to write is read after its migration.
        let contents = if version >= current_version() || !problems.is_empty() || !writable {
            read_contents(&reader, version, &mut problems)
        } else {
            Contents::default()
        };
        if !problems.is_empty() || !writable {
            let reason = if problems.is_empty() {
                "opened for reading".to_string()
            } else {
                problems.join("; ")
            };
            return Ok(Opened {
                project: Project {
                    conn: reader,
                    path: path.to_path_buf(),
                    read_only: Some(reason),
                },
                contents,
                problems,
            });
        }
        let writable = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| StoreError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
        .and_then(|mut conn| {
            configure(&conn, path)?;
            if version < current_version() {
                migrate(&mut conn, path, version)?;
            }
            Ok(conn)
        });
        let conn = match writable {
            Ok(conn) => conn,
            Err(e) => {
                // e.g. a read-only folder or medium: read what is there
                let problem = format!("the file cannot be written ({e})");
                return Ok(Opened {
                    project: Project {
                        conn: reader,
                        path: path.to_path_buf(),
                        read_only: Some(problem.clone()),
                    },
                    contents,
                    problems: vec![problem],
                });
            }
        };
        drop(reader);
        let mut problems = Vec::new();
        let contents = read_contents(&conn, current_version(), &mut problems);
        let read_only = (!problems.is_empty()).then(|| problems.join("; "));
        Ok(Opened {
            project: Project {
                conn,
                path: path.to_path_buf(),
                read_only,
            },
            contents,
            problems,
        })
    }

    /// The audit trail of a project file read on a fresh read-only
    /// connection (no integrity check, no contents): for the workstation's
    /// audit view while the writer thread owns the writing connection.
    pub fn read_audit_of(
        path: &Path,
        patient_key: Option<&str>,
        lesion_id: Option<&str>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        check_header(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|e| StoreError::Unreadable {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
        read_audit(&conn, patient_key, lesion_id)
            .map_err(sql_error(path, "reading the audit trail"))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Why the project is read-only, if it is.
    pub fn read_only(&self) -> Option<&str> {
        self.read_only.as_deref()
    }

    fn writable(&mut self) -> Result<Transaction<'_>, StoreError> {
        if let Some(reason) = &self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
                reason: reason.clone(),
            });
        }
        let path = self.path.clone();
        self.conn
            .transaction()
            .map_err(sql_error(&path, "starting a transaction"))
    }

    /// Writes a patient (all its rows, replacing the stored ones) together
    /// with audit entries, in one transaction.
    pub fn save_patient(
        &mut self,
        patient: &StoredPatient,
        audit: &[AuditEntry],
        reader: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.writable()?;
        write_patient(&tx, patient).map_err(sql_error(&path, "saving the patient"))?;
        append_audit(&tx, audit, reader).map_err(sql_error(&path, "appending to the audit"))?;
        tx.commit().map_err(sql_error(&path, "committing"))
    }

    /// Records a series reference (replacing one with the same UID).
    pub fn put_series(&mut self, series: &SeriesRef) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.writable()?;
        tx.execute(
            "INSERT OR REPLACE INTO series_refs (series_instance_uid, patient_key, folder,
             pixel_sha256, study_date, modality, description) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            params![
                series.series_instance_uid,
                series.patient_key,
                series.folder.to_string_lossy(),
                series.pixel_sha256,
                series.study_date,
                series.modality,
                series.description
            ],
        )
        .map_err(sql_error(&path, "saving a series reference"))?;
        tx.commit().map_err(sql_error(&path, "committing"))
    }

    /// Locks (signs off) or unlocks a timepoint; audited.
    pub fn set_lock(
        &mut self,
        patient_key: &str,
        date: Date,
        locked: bool,
        reader: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.writable()?;
        let at = now_utc();
        if locked {
            tx.execute(
                "INSERT OR REPLACE INTO locks (patient_key, date, locked_by, locked_at_utc)
                 VALUES (?1, ?2, ?3, ?4)",
                params![patient_key, date.to_string(), reader, at],
            )
        } else {
            tx.execute(
                "DELETE FROM locks WHERE patient_key = ?1 AND date = ?2",
                params![patient_key, date.to_string()],
            )
        }
        .map_err(sql_error(&path, "saving the lock"))?;
        let entry = AuditEntry {
            patient_key: Some(patient_key.to_string()),
            lesion_id: None,
            date: Some(date),
            action: if locked { "lock" } else { "unlock" }.into(),
            description: if locked {
                "timepoint signed off (locked)".into()
            } else {
                "timepoint unlocked".into()
            },
            edit_json: None,
        };
        append_audit(&tx, &[entry], reader).map_err(sql_error(&path, "appending to the audit"))?;
        tx.commit().map_err(sql_error(&path, "committing"))
    }

    /// Saves the settings; a change of blinding is audited.
    pub fn save_settings(&mut self, settings: &Settings, reader: &str) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self.writable()?;
        let before: Option<String> = tx
            .query_row(
                "SELECT value FROM settings WHERE key = 'blinded'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql_error(&path, "reading the settings"))?;
        let blinded = if settings.blinded { "true" } else { "false" };
        tx.execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES ('blinded', ?1)",
            params![blinded],
        )
        .map_err(sql_error(&path, "saving the settings"))?;
        match &settings.reader {
            Some(name) => tx.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES ('reader', ?1)",
                params![name],
            ),
            None => tx.execute("DELETE FROM settings WHERE key = 'reader'", []),
        }
        .map_err(sql_error(&path, "saving the settings"))?;
        if before.as_deref().unwrap_or("false") != blinded {
            let entry = AuditEntry {
                patient_key: None,
                lesion_id: None,
                date: None,
                action: "setting".into(),
                description: format!(
                    "blinded reading {}",
                    if settings.blinded { "on" } else { "off" }
                ),
                edit_json: None,
            };
            append_audit(&tx, &[entry], reader)
                .map_err(sql_error(&path, "appending to the audit"))?;
        }
        tx.commit().map_err(sql_error(&path, "committing"))
    }

    /// Re-reads everything.
    pub fn load(&self) -> (Contents, Vec<String>) {
        let mut problems = Vec::new();
        let version = self.version().unwrap_or_else(|_| current_version());
        let contents = read_contents(&self.conn, version, &mut problems);
        (contents, problems)
    }

    /// The audit trail of a patient, oldest first; with `lesion_id`, only
    /// that lesion's rows.
    pub fn audit(
        &self,
        patient_key: Option<&str>,
        lesion_id: Option<&str>,
    ) -> Result<Vec<AuditRow>, StoreError> {
        read_audit(&self.conn, patient_key, lesion_id)
            .map_err(sql_error(&self.path, "reading the audit trail"))
    }

    /// `PRAGMA integrity_check`: `ok` or the problems found.
    pub fn integrity_check(&self) -> Result<String, StoreError> {
        self.conn
            .pragma_query_value(None, "integrity_check", |r| r.get(0))
            .map_err(sql_error(&self.path, "checking integrity"))
    }

    /// The schema version of the file.
    pub fn version(&self) -> Result<i64, StoreError> {
        self.conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql_error(&self.path, "reading the schema version"))
    }

    /// Runs raw SQL (tests only: damaging files, trying to bypass triggers).
    #[doc(hidden)]
    pub fn execute_raw(&self, sql: &str) -> Result<(), StoreError> {
        self.conn
            .execute_batch(sql)
            .map_err(sql_error(&self.path, "running SQL"))
    }
}

fn check_header(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(|e| StoreError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => {
                return Err(StoreError::Unreadable {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        }
    }
    if read < header.len() || &header != b"SQLite format 3\0" {
        return Err(StoreError::NotAProject {
            path: path.to_path_buf(),
            reason: if read == 0 {
                "the file is empty".into()
            } else {
                "no SQLite header: the file is damaged or of another kind".into()
            },
        });
    }
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path, from: i64) -> Result<(), StoreError> {
    let tx = conn
        .transaction()
        .map_err(sql_error(path, "starting the migration"))?;
    for (i, sql) in schema::MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= from {
            continue;
        }
        tx.execute_batch(sql)
            .map_err(sql_error(path, &format!("migrating to version {version}")))?;
        tx.pragma_update(None, "user_version", version)
            .map_err(sql_error(path, "setting the schema version"))?;
    }
    tx.commit()
        .map_err(sql_error(path, "committing the migration"))
}

fn bool_int(b: bool) -> i64 {
    i64::from(b)
}

fn write_patient(tx: &Transaction<'_>, stored: &StoredPatient) -> rusqlite::Result<()> {
    let p = &stored.patient;
    let key = p.id.as_str();
    let position: i64 = tx
        .query_row(
            "SELECT position FROM patients WHERE patient_key = ?1",
            [key],
            |r| r.get(0),
        )
        .optional()?
        .map_or_else(
            || {
                tx.query_row(
                    "SELECT COALESCE(MAX(position), 0) + 1 FROM patients",
                    [],
                    |r| r.get(0),
                )
            },
            Ok,
        )?;
    tx.execute(
        "INSERT INTO patients (patient_key, pseudonym, position, measurement_counter)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(patient_key) DO UPDATE SET pseudonym = excluded.pseudonym,
         measurement_counter = excluded.measurement_counter",
        params![
            key,
            stored.pseudonym,
            position,
            i64::try_from(p.measurement_counter()).unwrap_or(i64::MAX)
        ],
    )?;
    for table in [
        "signal_rois",
        "segmentations",
        "observations",
        "measurements",
        "lesions",
        "timepoints",
    ] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE patient_key = ?1"),
            [key],
        )?;
    }
    let mut stmt =
        tx.prepare_cached("INSERT INTO timepoints (patient_key, date, visit) VALUES (?1, ?2, ?3)")?;
    for t in &p.timepoints {
        stmt.execute(params![key, t.date.to_string(), t.visit])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO lesions (patient_key, lesion_id, position, category, organ, lymph_node)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, l) in p.lesions.iter().enumerate() {
        stmt.execute(params![
            key,
            l.id,
            i as i64,
            l.category.code(),
            l.organ,
            bool_int(l.lymph_node)
        ])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO measurements (patient_key, measurement_id, position, date,
         series_instance_uid, sop_instance_uid, plane, plane_index, spacing_known, shape_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (i, m) in p.measurements.iter().enumerate() {
        let image = &m.measurement.image;
        let shape = serde_json::to_string(&m.measurement.shape)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        stmt.execute(params![
            key,
            i64::try_from(m.id.0).unwrap_or(i64::MAX),
            i as i64,
            m.date.to_string(),
            image.series_instance_uid,
            image.sop_instance_uid,
            plane_code(image.plane),
            i64::try_from(image.index).unwrap_or(i64::MAX),
            bool_int(m.measurement.spacing_known),
            shape
        ])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO observations (patient_key, lesion_id, date, position, kind, measurement_id,
         long_axis_mm, short_axis_mm, volume_ml, t2_si, t2_ref_si, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for (i, o) in p.observations.iter().enumerate() {
        let (kind, mid, long, short, extra, status) = match &o.finding {
            Finding::Measured(id) => (
                "measured",
                Some(i64::try_from(id.0).unwrap_or(i64::MAX)),
                None,
                None,
                ExtraValues::default(),
                None,
            ),
            Finding::Entered {
                long_axis_mm,
                short_axis_mm,
                extra,
            } => ("entered", None, *long_axis_mm, *short_axis_mm, *extra, None),
            Finding::Stated(s) => (
                "stated",
                None,
                None,
                None,
                ExtraValues::default(),
                Some(s.code()),
            ),
        };
        stmt.execute(params![
            key,
            o.lesion_id,
            o.date.to_string(),
            i as i64,
            kind,
            mid,
            long,
            short,
            extra.volume_ml,
            extra.t2_si,
            extra.t2_ref_si,
            status
        ])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO segmentations (patient_key, lesion_id, date, position, series_instance_uid,
         mask, pixel_spacing_row_mm, pixel_spacing_column_mm, slice_extent_mm_json,
         fitted_volume_ml, fitted_volume_sd_ml, fitted_mask_fingerprint)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for (i, g) in p.segmentations.iter().enumerate() {
        let (row_mm, column_mm, extents) = match &g.voxel_size {
            Some(v) => (
                Some(v.pixel_spacing_mm[0]),
                Some(v.pixel_spacing_mm[1]),
                Some(
                    serde_json::to_string(&v.slice_extent_mm)
                        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?,
                ),
            ),
            None => (None, None, None),
        };
        stmt.execute(params![
            key,
            g.lesion_id,
            g.date.to_string(),
            i as i64,
            g.series_uid,
            g.mask.to_bytes(),
            row_mm,
            column_mm,
            extents,
            g.fitted_volume.as_ref().map(|f| f.volume_ml),
            g.fitted_volume.as_ref().map(|f| f.sd_ml),
            // the fingerprint's bits as SQLite's signed integer
            g.fitted_volume
                .as_ref()
                .map(|f| i64::from_ne_bytes(f.mask_fingerprint.to_ne_bytes()))
        ])?;
    }
    let mut stmt = tx.prepare_cached(
        "INSERT INTO signal_rois (patient_key, date, role, lesion_id, position, source,
         measurement_id, series_instance_uid, mean_si, pixels)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (i, sig) in p.signals.iter().enumerate() {
        let (role, lesion_id) = match &sig.role {
            SignalRole::Lesion(id) => ("lesion", id.as_str()),
            SignalRole::Reference => ("reference", ""),
        };
        let (source, mid) = match sig.source {
            SignalSource::Measurement(id) => {
                ("measurement", Some(i64::try_from(id.0).unwrap_or(i64::MAX)))
            }
            SignalSource::Segmentation => ("segmentation", None),
        };
        stmt.execute(params![
            key,
            sig.date.to_string(),
            role,
            lesion_id,
            i as i64,
            source,
            mid,
            sig.series_uid,
            sig.mean_si,
            i64::try_from(sig.pixels).unwrap_or(i64::MAX)
        ])?;
    }
    Ok(())
}

fn append_audit(
    tx: &Transaction<'_>,
    entries: &[AuditEntry],
    reader: &str,
) -> rusqlite::Result<()> {
    let at = now_utc();
    let mut stmt = tx.prepare_cached(
        "INSERT INTO audit (at_utc, reader, patient_key, lesion_id, date, action, description,
         edit_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for e in entries {
        stmt.execute(params![
            at,
            reader,
            e.patient_key,
            e.lesion_id,
            e.date.map(|d| d.to_string()),
            e.action,
            e.description,
            e.edit_json
        ])?;
    }
    Ok(())
}

fn plane_code(plane: Plane) -> &'static str {
    match plane {
        Plane::Native => "native",
        Plane::FixedRow => "fixed_row",
        Plane::FixedColumn => "fixed_column",
    }
}

fn plane_from_code(code: &str) -> Option<Plane> {
    Plane::ALL.into_iter().find(|p| plane_code(*p) == code)
}

fn bad(what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        Box::new(std::io::Error::new(std::io::ErrorKind::InvalidData, what)),
    )
}

fn date_of(text: &str) -> rusqlite::Result<Date> {
    Date::parse_iso(text).ok_or_else(|| bad(format!("bad date {text:?}")))
}

fn read_contents(conn: &Connection, version: i64, problems: &mut Vec<String>) -> Contents {
    let mut contents = Contents::default();
    let tables: Vec<String> = match conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<String>, _>>()
        }) {
        Ok(tables) => tables,
        Err(e) => {
            problems.push(format!("schema: {e}"));
            Vec::new()
        }
    };
    for t in schema::tables_of(version.min(current_version())) {
        if !tables.iter().any(|x| x == t) {
            problems.push(format!("table {t} is missing"));
        }
    }
    let has = |t: &str| tables.iter().any(|x| x == t);
    let v2 = has("segmentations") && has("signal_rois");
    let mut note = |what: &str, result: rusqlite::Result<()>| {
        if let Err(e) = result {
            problems.push(format!("{what}: {e}"));
        }
    };
    let mut settings = Settings::default();
    note("settings", read_settings(conn, &mut settings));
    contents.settings = settings;
    let mut patients = Vec::new();
    note("patients", read_patients(conn, &mut patients));
    for stored in &mut patients {
        let key = stored.patient.id.clone();
        let mut edits = Vec::new();
        note(
            &format!("patient {key}"),
            read_patient_edits(conn, &key, v2, &mut edits),
        );
        for edit in edits {
            if let Err(e) = stored.patient.apply(edit) {
                note(
                    &format!("patient {key}"),
                    Err(bad(format!("inconsistent rows: {e}"))),
                );
            }
        }
    }
    contents.patients = patients;
    let mut series = Vec::new();
    note("series_refs", read_series(conn, &mut series));
    contents.series = series;
    let mut locks = Vec::new();
    note("locks", read_locks(conn, &mut locks));
    contents.locks = locks;
    contents
}

fn read_settings(conn: &Connection, settings: &mut Settings) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("SELECT key, value FROM settings")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (key, value) = row?;
        match key.as_str() {
            "blinded" => settings.blinded = value == "true",
            "reader" => settings.reader = Some(value),
            _ => {}
        }
    }
    Ok(())
}

fn read_patients(conn: &Connection, out: &mut Vec<StoredPatient>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT patient_key, pseudonym, measurement_counter FROM patients
         ORDER BY position, patient_key",
    )?;
    let rows = stmt.query_map([], |r| {
        let mut patient = Patient::new(&r.get::<_, String>(0)?);
        patient.raise_measurement_counter(u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0));
        Ok(StoredPatient {
            patient,
            pseudonym: r.get(1)?,
        })
    })?;
    for row in rows {
        out.push(row?);
    }
    Ok(())
}

/// The rows of a patient as the edits that rebuild it (applying them also
/// checks that the rows are consistent).
fn read_patient_edits(
    conn: &Connection,
    key: &str,
    v2: bool,
    edits: &mut Vec<Edit>,
) -> rusqlite::Result<()> {
    let mut stmt =
        conn.prepare("SELECT date, visit FROM timepoints WHERE patient_key = ?1 ORDER BY date")?;
    let rows = stmt.query_map([key], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    for row in rows {
        let (date, visit) = row?;
        edits.push(Edit::PutTimepoint(Timepoint {
            date: date_of(&date)?,
            visit,
        }));
    }
    let mut stmt = conn.prepare(
        "SELECT lesion_id, category, organ, lymph_node FROM lesions WHERE patient_key = ?1
         ORDER BY position",
    )?;
    let rows = stmt.query_map([key], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })?;
    for row in rows {
        let (id, category, organ, node) = row?;
        let category = Category::from_code(&category)
            .ok_or_else(|| bad(format!("unknown category {category:?}")))?;
        edits.push(Edit::PutLesion(Lesion {
            id,
            category,
            organ,
            lymph_node: node != 0,
        }));
    }
    let mut stmt = conn.prepare(
        "SELECT measurement_id, date, series_instance_uid, sop_instance_uid, plane, plane_index,
         spacing_known, shape_json FROM measurements WHERE patient_key = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([key], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, String>(7)?,
        ))
    })?;
    for row in rows {
        let (id, date, series, sop, plane, index, spacing, shape) = row?;
        let shape: Shape = serde_json::from_str(&shape)
            .map_err(|e| bad(format!("measurement #{id}: bad shape: {e}")))?;
        edits.push(Edit::AddMeasurement(StoredMeasurement {
            id: MeasurementId(u64::try_from(id).map_err(|_| bad(format!("bad id {id}")))?),
            date: date_of(&date)?,
            measurement: Measurement {
                shape,
                image: ImageRef {
                    series_instance_uid: series,
                    sop_instance_uid: sop,
                    plane: plane_from_code(&plane)
                        .ok_or_else(|| bad(format!("unknown plane {plane:?}")))?,
                    index: usize::try_from(index).map_err(|_| bad(format!("bad index {index}")))?,
                },
                spacing_known: spacing != 0,
            },
        }));
    }
    let mut stmt = conn.prepare(
        "SELECT lesion_id, date, kind, measurement_id, long_axis_mm, short_axis_mm, volume_ml,
         t2_si, t2_ref_si, status FROM observations WHERE patient_key = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([key], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<i64>>(3)?,
            [
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, Option<f64>>(5)?,
                r.get::<_, Option<f64>>(6)?,
                r.get::<_, Option<f64>>(7)?,
                r.get::<_, Option<f64>>(8)?,
            ],
            r.get::<_, Option<String>>(9)?,
        ))
    })?;
    for row in rows {
        let (lesion_id, date, kind, mid, [long, short, volume, t2, t2_ref], status) = row?;
        let finding = match kind.as_str() {
            "measured" => {
                let id = mid.ok_or_else(|| bad("measured finding without measurement".into()))?;
                Finding::Measured(MeasurementId(
                    u64::try_from(id).map_err(|_| bad(format!("bad id {id}")))?,
                ))
            }
            "entered" => Finding::Entered {
                long_axis_mm: long,
                short_axis_mm: short,
                extra: ExtraValues {
                    volume_ml: volume,
                    t2_si: t2,
                    t2_ref_si: t2_ref,
                },
            },
            _ => {
                let code = status.unwrap_or_default();
                Finding::Stated(
                    LesionStatus::from_code(&code)
                        .ok_or_else(|| bad(format!("unknown status {code:?}")))?,
                )
            }
        };
        edits.push(Edit::SetObservation {
            lesion_id,
            date: date_of(&date)?,
            finding: Some(finding),
        });
    }
    if v2 {
        read_segmentation_edits(conn, key, edits)?;
        read_signal_edits(conn, key, edits)?;
    }
    Ok(())
}

fn read_segmentation_edits(
    conn: &Connection,
    key: &str,
    edits: &mut Vec<Edit>,
) -> rusqlite::Result<()> {
    // a version-2 file read without migrating (salvage) has no fitted
    // volume columns
    let fitted_columns = if conn
        .prepare("SELECT fitted_volume_ml FROM segmentations LIMIT 0")
        .is_ok()
    {
        "fitted_volume_ml, fitted_volume_sd_ml, fitted_mask_fingerprint"
    } else {
        "NULL, NULL, NULL"
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT lesion_id, date, series_instance_uid, mask, pixel_spacing_row_mm,
         pixel_spacing_column_mm, slice_extent_mm_json, {fitted_columns} FROM segmentations
         WHERE patient_key = ?1 ORDER BY position"
    ))?;
    let rows = stmt.query_map([key], |r| {
        let fitted = (
            r.get::<_, Option<f64>>(7)?,
            r.get::<_, Option<f64>>(8)?,
            r.get::<_, Option<i64>>(9)?,
        );
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            (
                r.get::<_, Option<f64>>(4)?,
                r.get::<_, Option<f64>>(5)?,
                r.get::<_, Option<String>>(6)?,
            ),
            fitted,
        ))
    })?;
    for row in rows {
        let (lesion_id, date, series_uid, mask, (row_mm, column_mm, extents), fitted) = row?;
        let mask = Mask::from_bytes(&mask)
            .map_err(|e| bad(format!("segmentation of {lesion_id} at {date}: {e}")))?;
        let voxel_size = match (row_mm, column_mm, extents) {
            (Some(r), Some(c), Some(json)) => Some(VoxelSize {
                pixel_spacing_mm: [r, c],
                slice_extent_mm: serde_json::from_str(&json)
                    .map_err(|e| bad(format!("segmentation of {lesion_id}: slice extents: {e}")))?,
            }),
            _ => None,
        };
        let fitted_volume = match fitted {
            // (an SD that could not be computed, NaN, is stored as NULL)
            (Some(volume_ml), sd_ml, Some(bits)) => Some(FittedVolume {
                volume_ml,
                sd_ml: sd_ml.unwrap_or(f64::NAN),
                mask_fingerprint: u64::from_ne_bytes(bits.to_ne_bytes()),
            }),
            _ => None,
        };
        edits.push(Edit::PutSegmentation(Segmentation {
            lesion_id,
            date: date_of(&date)?,
            series_uid,
            mask,
            voxel_size,
            fitted_volume,
        }));
    }
    Ok(())
}

fn read_signal_edits(conn: &Connection, key: &str, edits: &mut Vec<Edit>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT date, role, lesion_id, source, measurement_id, series_instance_uid, mean_si,
         pixels FROM signal_rois WHERE patient_key = ?1 ORDER BY position",
    )?;
    let rows = stmt.query_map([key], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<i64>>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, f64>(6)?,
            r.get::<_, i64>(7)?,
        ))
    })?;
    for row in rows {
        let (date, role, lesion_id, source, mid, series_uid, mean_si, pixels) = row?;
        let date = date_of(&date)?;
        let role = match role.as_str() {
            "reference" => SignalRole::Reference,
            _ => SignalRole::Lesion(lesion_id),
        };
        let source = match (source.as_str(), mid) {
            ("measurement", Some(id)) => SignalSource::Measurement(MeasurementId(
                u64::try_from(id).map_err(|_| bad(format!("bad id {id}")))?,
            )),
            ("segmentation", _) => SignalSource::Segmentation,
            (other, _) => return Err(bad(format!("bad signal source {other:?}"))),
        };
        edits.push(Edit::SetSignal {
            date,
            role: role.clone(),
            signal: Some(SignalRoi {
                date,
                role,
                source,
                series_uid,
                mean_si,
                pixels: usize::try_from(pixels).map_err(|_| bad(format!("bad pixels {pixels}")))?,
            }),
        });
    }
    Ok(())
}

fn read_series(conn: &Connection, out: &mut Vec<SeriesRef>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT series_instance_uid, patient_key, folder, pixel_sha256, study_date, modality,
         description FROM series_refs ORDER BY patient_key, study_date, series_instance_uid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(SeriesRef {
            series_instance_uid: r.get(0)?,
            patient_key: r.get(1)?,
            folder: PathBuf::from(r.get::<_, String>(2)?),
            pixel_sha256: r.get(3)?,
            study_date: r.get(4)?,
            modality: r.get(5)?,
            description: r.get(6)?,
        })
    })?;
    for row in rows {
        out.push(row?);
    }
    Ok(())
}

fn read_locks(conn: &Connection, out: &mut Vec<Lock>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT patient_key, date, locked_by, locked_at_utc FROM locks ORDER BY patient_key, date",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (patient_key, date, locked_by, locked_at_utc) = row?;
        out.push(Lock {
            patient_key,
            date: date_of(&date)?,
            locked_by,
            locked_at_utc,
        });
    }
    Ok(())
}

fn read_audit(
    conn: &Connection,
    patient_key: Option<&str>,
    lesion_id: Option<&str>,
) -> rusqlite::Result<Vec<AuditRow>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at_utc, reader, patient_key, lesion_id, date, action, description, edit_json
         FROM audit WHERE (?1 IS NULL OR patient_key = ?1) AND (?2 IS NULL OR lesion_id = ?2)
         ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![patient_key, lesion_id], |r| {
        Ok((
            AuditRow {
                seq: r.get(0)?,
                at_utc: r.get(1)?,
                reader: r.get(2)?,
                patient_key: r.get(3)?,
                lesion_id: r.get(4)?,
                date: None,
                action: r.get(6)?,
                description: r.get(7)?,
                edit_json: r.get(8)?,
            },
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut audit, date) = row?;
        audit.date = date.as_deref().and_then(Date::parse_iso);
        out.push(audit);
    }
    Ok(out)
}

/// An edit as JSON for the audit trail: `{"kind": ..., ...}` with dates as
/// ISO text and geometry in patient-space millimetres.
pub fn edit_json(edit: &Edit) -> serde_json::Value {
    use serde_json::json;
    let finding_json = |f: &Option<Finding>| match f {
        None => serde_json::Value::Null,
        Some(Finding::Measured(id)) => json!({"measured": id.0}),
        Some(Finding::Entered {
            long_axis_mm,
            short_axis_mm,
            extra,
        }) => json!({"entered": {"long_axis_mm": long_axis_mm, "short_axis_mm": short_axis_mm,
            "volume_ml": extra.volume_ml, "t2_si": extra.t2_si, "t2_ref_si": extra.t2_ref_si}}),
        Some(Finding::Stated(s)) => json!({"stated": s.code()}),
    };
    let lesion_json = |l: &Lesion| {
        json!({"id": l.id, "category": l.category.code(), "organ": l.organ,
               "lymph_node": l.lymph_node})
    };
    match edit {
        Edit::AddMeasurement(m) => json!({"kind": "add_measurement", "id": m.id.0,
            "date": m.date.to_string(), "measurement": m.measurement}),
        Edit::RemoveMeasurement(id) => json!({"kind": "remove_measurement", "id": id.0}),
        Edit::SetShape { id, shape } => json!({"kind": "set_shape", "id": id.0, "shape": shape}),
        Edit::PutLesion(l) => json!({"kind": "put_lesion", "lesion": lesion_json(l)}),
        Edit::RemoveLesion(id) => json!({"kind": "remove_lesion", "id": id}),
        Edit::SetObservation {
            lesion_id,
            date,
            finding,
        } => json!({"kind": "set_observation", "lesion_id": lesion_id,
            "date": date.to_string(), "finding": finding_json(finding)}),
        Edit::PutTimepoint(t) => json!({"kind": "put_timepoint", "date": t.date.to_string(),
            "visit": t.visit}),
        Edit::RemoveTimepoint(d) => json!({"kind": "remove_timepoint", "date": d.to_string()}),
        Edit::SetSignal { date, role, signal } => {
            let role_json = |r: &SignalRole| match r {
                SignalRole::Lesion(id) => json!({"lesion": id}),
                SignalRole::Reference => json!("reference"),
            };
            let signal = signal.as_ref().map(|s| {
                json!({
                    "source": match s.source {
                        SignalSource::Measurement(id) => json!({"measurement": id.0}),
                        SignalSource::Segmentation => json!("segmentation"),
                    },
                    "series_uid": s.series_uid,
                    "mean_si": s.mean_si,
                    "pixels": s.pixels,
                })
            });
            json!({"kind": "set_signal", "date": date.to_string(), "role": role_json(role),
                   "signal": signal})
        }
        // the mask itself is in the segmentations table; the audit keeps its size
        Edit::PutSegmentation(g) => json!({"kind": "put_segmentation", "lesion_id": g.lesion_id,
            "date": g.date.to_string(), "series_uid": g.series_uid, "voxels": g.mask.count(),
            "volume_ml": g.volume_ml()}),
        Edit::RemoveSegmentation { lesion_id, date } => json!({"kind": "remove_segmentation",
            "lesion_id": lesion_id, "date": date.to_string()}),
        Edit::Batch(edits) => {
            json!({"kind": "batch", "edits": edits.iter().map(edit_json).collect::<Vec<_>>()})
        }
    }
}

/// Whether a path names a project file (extension `.nadir`).
pub fn is_project_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(EXTENSION))
}

#[cfg(test)]
mod tests;
