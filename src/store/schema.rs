//! The schema of a `.nadir` project as ordered migrations. The file's
//! `PRAGMA user_version` is the number of migrations applied; opening an
//! older file applies the missing ones in one transaction. A new table
//! (segmentations, T2 signal values …) is a new entry at the end of
//! [`MIGRATIONS`]; existing entries are never edited.

/// `PRAGMA application_id` of a Nadir project ("NADR").
pub const APPLICATION_ID: i64 = 0x4E41_4452;

/// Migration `i` (0-based) brings a file from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[V1, V2, V3];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Tables a file of `version` has (checked on open).
pub fn tables_of(version: i64) -> Vec<&'static str> {
    let mut tables = Vec::new();
    if version >= 1 {
        tables.extend_from_slice(V1_TABLES);
    }
    if version >= 2 {
        tables.extend_from_slice(V2_TABLES);
    }
    tables
}

/// Tables added by version 2.
pub const V2_TABLES: &[&str] = &["segmentations", "signal_rois"];

/// Tables every version-1 file has.
pub const V1_TABLES: &[&str] = &[
    "settings",
    "patients",
    "series_refs",
    "timepoints",
    "lesions",
    "measurements",
    "observations",
    "locks",
    "audit",
];

const V1: &str = r#"
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE patients (
    patient_key TEXT PRIMARY KEY,
    pseudonym   TEXT NOT NULL,
    position    INTEGER NOT NULL,
    -- highest measurement id handed out (ids are never reused)
    measurement_counter INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE series_refs (
    series_instance_uid TEXT PRIMARY KEY,
    patient_key  TEXT NOT NULL REFERENCES patients(patient_key) ON DELETE CASCADE,
    folder       TEXT NOT NULL,
    pixel_sha256 TEXT,
    study_date   TEXT NOT NULL,
    modality     TEXT NOT NULL,
    description  TEXT NOT NULL
);
CREATE TABLE timepoints (
    patient_key TEXT NOT NULL REFERENCES patients(patient_key) ON DELETE CASCADE,
    date        TEXT NOT NULL,
    visit       TEXT,
    PRIMARY KEY (patient_key, date)
);
CREATE TABLE lesions (
    patient_key TEXT NOT NULL REFERENCES patients(patient_key) ON DELETE CASCADE,
    lesion_id   TEXT NOT NULL,
    position    INTEGER NOT NULL,
    category    TEXT NOT NULL CHECK (category IN ('target', 'non_target', 'new')),
    organ       TEXT NOT NULL,
    lymph_node  INTEGER NOT NULL CHECK (lymph_node IN (0, 1)),
    PRIMARY KEY (patient_key, lesion_id)
);
CREATE TABLE measurements (
    patient_key    TEXT NOT NULL REFERENCES patients(patient_key) ON DELETE CASCADE,
    measurement_id INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    date           TEXT NOT NULL,
    series_instance_uid TEXT NOT NULL,
    sop_instance_uid    TEXT,
    plane          TEXT NOT NULL,
    plane_index    INTEGER NOT NULL,
    spacing_known  INTEGER NOT NULL CHECK (spacing_known IN (0, 1)),
    shape_json     TEXT NOT NULL,
    PRIMARY KEY (patient_key, measurement_id)
);
CREATE TABLE observations (
    patient_key    TEXT NOT NULL,
    lesion_id      TEXT NOT NULL,
    date           TEXT NOT NULL,
    position       INTEGER NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('measured', 'entered', 'stated')),
    measurement_id INTEGER,
    long_axis_mm   REAL,
    short_axis_mm  REAL,
    volume_ml      REAL,
    t2_si          REAL,
    t2_ref_si      REAL,
    status         TEXT,
    PRIMARY KEY (patient_key, lesion_id, date),
    FOREIGN KEY (patient_key, lesion_id) REFERENCES lesions(patient_key, lesion_id) ON DELETE CASCADE,
    FOREIGN KEY (patient_key, date) REFERENCES timepoints(patient_key, date) ON DELETE CASCADE,
    FOREIGN KEY (patient_key, measurement_id) REFERENCES measurements(patient_key, measurement_id)
);
CREATE TABLE locks (
    patient_key TEXT NOT NULL REFERENCES patients(patient_key) ON DELETE CASCADE,
    date        TEXT NOT NULL,
    locked_by   TEXT NOT NULL,
    locked_at_utc TEXT NOT NULL,
    PRIMARY KEY (patient_key, date)
);
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at_utc      TEXT NOT NULL,
    reader      TEXT NOT NULL,
    patient_key TEXT,
    lesion_id   TEXT,
    date        TEXT,
    action      TEXT NOT NULL,
    description TEXT NOT NULL,
    edit_json   TEXT
);
CREATE INDEX audit_by_lesion ON audit (patient_key, lesion_id);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
"#;

/// Version 2: 3-D segmentations (the mask as a BLOB in the segment module's
/// own byte form) and T2 signal ROIs.
const V2: &str = r#"
CREATE TABLE segmentations (
    patient_key TEXT NOT NULL,
    lesion_id   TEXT NOT NULL,
    date        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    series_instance_uid TEXT NOT NULL,
    mask        BLOB NOT NULL,
    pixel_spacing_row_mm REAL,
    pixel_spacing_column_mm REAL,
    slice_extent_mm_json TEXT,
    PRIMARY KEY (patient_key, lesion_id, date),
    FOREIGN KEY (patient_key, lesion_id) REFERENCES lesions(patient_key, lesion_id) ON DELETE CASCADE,
    FOREIGN KEY (patient_key, date) REFERENCES timepoints(patient_key, date) ON DELETE CASCADE
);
CREATE TABLE signal_rois (
    patient_key TEXT NOT NULL REFERENCES patients(patient_key) ON DELETE CASCADE,
    date        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('lesion', 'reference')),
    lesion_id   TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('measurement', 'segmentation')),
    measurement_id INTEGER,
    series_instance_uid TEXT NOT NULL,
    mean_si     REAL NOT NULL,
    pixels      INTEGER NOT NULL,
    PRIMARY KEY (patient_key, date, role, lesion_id),
    FOREIGN KEY (patient_key, date) REFERENCES timepoints(patient_key, date) ON DELETE CASCADE
);
"#;

/// Version 3: a volume the reader adopted from an ellipsoid fitted to the
/// mask (`tracking::FittedVolume`), with the fingerprint of the mask it was
/// fitted to (stored as the signed 64-bit integer of the same bits).
const V3: &str = r#"
ALTER TABLE segmentations ADD COLUMN fitted_volume_ml REAL;
ALTER TABLE segmentations ADD COLUMN fitted_volume_sd_ml REAL;
ALTER TABLE segmentations ADD COLUMN fitted_mask_fingerprint INTEGER;
"#;
