//! The RECIST 1.1 response engine: lesion records in, time-point assessments and
//! best overall response out (shared docs `recist-1.1.md`, conventions E1–E15).
//!
//! Pure: no I/O, no clock, no panics, no other crate modules. Every time point
//! carries a sentence explaining its overall response; problems with the input
//! come back as [`Warning`] data, never printed.
//!
//! - [`model`]: input ([`LesionRecord`], [`Date`], [`Category`], [`LesionStatus`]).
//! - [`response`]: output ([`PatientAssessment`], [`TimepointAssessment`], responses).
//! - [`baseline`]: baseline visit (E1), organ grouping, conformance warnings.
//! - [`warning`]: [`Warning`] and [`WarningKind`].
//!
//! Entry points: [`assess_patient`] (one patient, e.g. live in the GUI) and
//! [`assess_all`] (a cohort, patients in `patient_id` order, assessed in
//! parallel with rayon; the result does not depend on the thread count).

pub mod baseline;
mod bor;
mod engine;
mod explain;
pub mod model;
pub mod response;
pub mod warning;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use rayon::prelude::*;

pub use baseline::{baseline_visit, organ_key};
pub use model::{Category, Date, LesionRecord, LesionStatus};
pub use response::{
    NonTargetResponse, OverallResponse, PatientAssessment, TargetResponse, TimepointAssessment,
};
pub use warning::{Warning, WarningKind};

/// Value of a target that is present but too small to measure, in mm (§4.4.2).
pub const TOO_SMALL_MM: f64 = 5.0;
/// A nodal target counts as CR below this short axis, in mm (§4.3.1).
pub const CR_NODE_SHORT_AXIS_MM: f64 = 10.0;
/// PR: sum ≤ this fraction of the baseline sum (−30 %).
pub const PR_MAX_RATIO: f64 = 0.7;
/// PD: sum ≥ this multiple of the nadir (+20 %) ...
pub const PD_MIN_RATIO: f64 = 1.2;
/// ... and at least this many mm above the nadir.
pub const PD_MIN_INCREASE_MM: f64 = 5.0;
/// Tolerance for the inclusive PR/PD thresholds (E3).
pub const THRESHOLD_TOLERANCE: f64 = 1e-6;
/// Minimum days between a CR/PR and its confirmation (§4.6.1, E9).
pub const CONFIRMATION_MIN_DAYS: i64 = 28;
/// Default minimum days from baseline for SD to count as best response (E10).
pub const DEFAULT_MIN_SD_DAYS: i64 = 42;

/// Options of the best-overall-response computation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AssessOptions {
    /// CR/PR must be confirmed ≥ 28 days later (E9); off in randomised trials.
    pub confirm: bool,
    /// Minimum whole days from baseline for SD to count as best response (E10).
    pub min_sd_days: i64,
}

impl Default for AssessOptions {
    fn default() -> Self {
        Self {
            confirm: false,
            min_sd_days: DEFAULT_MIN_SD_DAYS,
        }
    }
}

/// Assesses one patient.
///
/// The patient is the one of the first record; records of other patients are
/// ignored with a warning. No records: an assessment with no time points, BOR NE.
pub fn assess_patient(
    records: &[LesionRecord],
    options: &AssessOptions,
) -> (PatientAssessment, Vec<Warning>) {
    let patient_id = records
        .first()
        .map(|record| record.patient_id.as_ref())
        .unwrap_or_default();
    let mut warnings = Vec::new();
    let rows: Vec<&LesionRecord> = records
        .iter()
        .filter(|record| {
            let same = &*record.patient_id == patient_id;
            if !same {
                warnings.push(Warning {
                    patient_id: patient_id.to_string(),
                    visit: None,
                    lesion_id: None,
                    kind: WarningKind::OtherPatient {
                        other_patient_id: record.patient_id.to_string(),
                    },
                });
            }
            same
        })
        .collect();
    let (assessment, engine_warnings) = engine::assess_rows(patient_id, &rows, options);
    warnings.extend(engine_warnings);
    (assessment, warnings)
}

/// Assesses every patient in `records`, in `patient_id` order (byte-wise), so
/// the result does not depend on the order of the records.
pub fn assess_all(
    records: &[LesionRecord],
    options: &AssessOptions,
) -> (Vec<PatientAssessment>, Vec<Warning>) {
    // Consecutive records of one patient (the usual layout) skip the hash lookup.
    let mut patients: Vec<(&str, Vec<&LesionRecord>)> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut current: Option<(&str, usize)> = None;
    for record in records {
        let patient_id = record.patient_id.as_ref();
        let group = match current {
            Some((id, group)) if engine::same_text(id, patient_id) => group,
            _ => *group_of.entry(patient_id).or_insert_with(|| {
                patients.push((patient_id, Vec::new()));
                patients.len() - 1
            }),
        };
        current = Some((patient_id, group));
        if let Some((_, rows)) = patients.get_mut(group) {
            rows.push(record);
        }
    }
    patients.sort_unstable_by(|a, b| a.0.cmp(b.0));
    // Patients are independent: assess them in parallel, collected in order.
    let results: Vec<(PatientAssessment, Vec<Warning>)> = patients
        .par_iter()
        .map(|(patient_id, rows)| engine::assess_rows(patient_id, rows, options))
        .collect();
    let mut assessments = Vec::with_capacity(results.len());
    let mut warnings = Vec::new();
    for (assessment, patient_warnings) in results {
        assessments.push(assessment);
        warnings.extend(patient_warnings);
    }
    (assessments, warnings)
}
