//! Interchange §4b: per-patient outcomes derived from a lesion table and a
//! patient table (start, death, last contact dates) through the RECIST
//! engine, for `nadir cohort --lesions` and the workstation's Cohort tab.
//!
//! Errors are `anyhow` with the file, line and column in the message (the
//! table readers' typed errors are wrapped with context); a typed error enum
//! is a pending clean-up.

use crate::cohort::dates::{PatientDates, days_to_months, pfs_from_dates};
use crate::cohort::series::{SpiderPoint, SpiderSeries};
use crate::cohort::{BestResponse, PatientOutcome};
use crate::interchange::lesion_table::{LesionTable, parse_lesion_table};
use crate::interchange::patient_table::{
    PatientDatesRow, PatientDatesTable, read_patient_dates_file,
};
use crate::recist::{
    AssessOptions, CONFIRMATION_MIN_DAYS, Date, OverallResponse, PatientAssessment,
    TimepointAssessment, assess_all,
};
use anyhow::{Context, bail};
use std::collections::{HashMap, HashSet};

use std::path::Path;

/// What input path (b) yields: the per-patient records plus the spider series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LesionCohort {
    /// One record per patient, in the order of the patient table (which sets
    /// the order of the arms and so the default reference arm).
    pub outcomes: Vec<PatientOutcome>,
    /// % change of the target sum over time per patient with a measurable
    /// baseline (baseline sum > 0): the point (0 months, 0 %) for the baseline,
    /// then every follow-up time point with a non-null
    /// `change_from_baseline_pct` at (days since `start_date` / 30.4375, change),
    /// after the first PD too. Patients without targets have no series.
    pub spider: Vec<SpiderSeries>,
    /// Non-fatal remarks to print, each naming its file.
    pub warnings: Vec<String>,
}

/// Input path (b): derives the per-patient records from the lesion table and
/// the patient table (interchange §4b).
///
/// Reads LESIONS.csv (interchange §1) and PATIENTS.csv (`patient_id`, `arm`,
/// `start_date`, optional `death_date`, `last_contact_date`), runs the RECIST
/// engine with `confirm` / `min_sd_days` (as `nadir assess`), then per
/// patient, see [`lesion_cohort`] for every convention. Errors name the file,
/// line and column; nothing is printed by this function.
pub fn outcomes_from_lesions(
    lesions: &Path,
    patients: &Path,
    confirm: bool,
    min_sd_days: u32,
) -> anyhow::Result<LesionCohort> {
    let lesions_file = lesions.display().to_string();
    let bytes = std::fs::read(lesions).with_context(|| format!("cannot read {lesions_file}"))?;
    let lesion_table = parse_lesion_table(&bytes, &lesions_file)?;
    let patient_table = read_patient_dates_file(patients)?;
    let options = AssessOptions {
        confirm,
        min_sd_days: i64::from(min_sd_days),
    };
    lesion_cohort(
        &lesion_table,
        &lesions_file,
        &patient_table,
        &patients.display().to_string(),
        &options,
    )
}

/// Input path (b) on tables already read; `lesions_file` and `patients_file`
/// name them in messages.
///
/// Conventions (interchange §4b, recist-1.1.md E9–E11):
///
/// - **Patients**: the two tables must list the same patients. A patient of
///   the lesion table missing from the patient table is an error naming the
///   lesion file, the line of the patient's first row and the patient; a
///   patient of the patient table without lesion rows is an error naming the
///   patient file and line. (Errors, not warnings: a trial report must not
///   silently drop or invent patients.)
/// - **Best response and best change** are the engine's best overall response
///   and `best_change_from_baseline_pct`, with the same options as `assess`.
///   The engine's `NonCR/NonPD` (non-target disease only) is kept as
///   [`BestResponse::NonCrNonPd`], which the cohort counts as SD for DCR and
///   not for ORR.
/// - **PFS event**: the first follow-up time point whose *overall* response is
///   PD (a non-target `NonCR/NonPD` or an `NE` time point is never an event;
///   PD dated back by a confirmed equivocal new lesion (E6) is dated as the
///   engine dates it), or `death_date`, whichever is first. Death counts
///   whenever it occurs, also long after the last scan (no missed-visit rule).
/// - **Censoring** without an event: at the last *adequate* assessment, i.e.
///   the latest follow-up whose overall response is not NE, else the baseline
///   scan (a time before `start_date` becomes 0). RECIST PFS is censored at the
///   last adequate tumour assessment, so trailing NE scans (warned) and
///   `last_contact_date` never extend it.
/// - **Time to response**: from `start_date` to the first CR/PR time point in
///   the best-response window (up to and including the first PD), only for
///   patients whose best response is CR or PR. With `confirm`, the first CR/PR
///   that is itself confirmed (a CR/PR ≥ 28 days later with only CR/PR/NE
///   between, E9), i.e. the onset of the confirmed response.
/// - **Months** = whole days since `start_date` / 30.4375.
/// - **Errors** besides unmatched patients: a first PD or a first response
///   before `start_date` (dates of the patient-table row named).
/// - **Warnings**: `death_date` before the last scan; `last_contact_date`
///   before the last scan (a scan is a contact); censoring moved back over
///   trailing NE assessments; a follow-up scan before `start_date`; plus the
///   table and engine warnings.
pub fn lesion_cohort(
    lesion_table: &LesionTable,
    lesions_file: &str,
    patient_table: &PatientDatesTable,
    patients_file: &str,
    options: &AssessOptions,
) -> anyhow::Result<LesionCohort> {
    let mut warnings: Vec<String> = lesion_table
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    warnings.extend(patient_table.warnings.iter().cloned());

    let listed: HashSet<&str> = patient_table
        .patients
        .iter()
        .map(|row| row.patient_id.as_str())
        .collect();
    // Lesion-table patients without a patient-table row: the first in file order.
    for (record, line) in lesion_table.records.iter().zip(&lesion_table.lines) {
        if !listed.contains(&*record.patient_id) {
            bail!(
                "{lesions_file}, line {line}, column \"patient_id\": patient {:?} is not in the \
                 patient table {patients_file}",
                &*record.patient_id
            );
        }
    }

    let (assessments, engine_warnings) = assess_all(&lesion_table.records, options);
    warnings.extend(
        engine_warnings
            .iter()
            .map(|warning| format!("{lesions_file}: {warning}")),
    );
    let assessment_of: HashMap<&str, &PatientAssessment> = assessments
        .iter()
        .map(|assessment| (assessment.patient_id.as_str(), assessment))
        .collect();

    let mut cohort = LesionCohort::default();
    for row in &patient_table.patients {
        let Some(assessment) = assessment_of.get(row.patient_id.as_str()) else {
            bail!(
                "{patients_file}, line {}, column \"patient_id\": patient {:?} has no rows in the \
                 lesion table {lesions_file}",
                row.line,
                row.patient_id
            );
        };
        let (outcome, spider) =
            patient_outcome(row, assessment, options, patients_file, &mut warnings)?;
        cohort.outcomes.push(outcome);
        cohort.spider.extend(spider);
    }
    cohort.warnings = warnings;
    Ok(cohort)
}

/// The cohort record and spider series of one patient (conventions: [`lesion_cohort`]).
fn patient_outcome(
    row: &PatientDatesRow,
    assessment: &PatientAssessment,
    options: &AssessOptions,
    patients_file: &str,
    warnings: &mut Vec<String>,
) -> anyhow::Result<(PatientOutcome, Option<SpiderSeries>)> {
    let place = format!(
        "{patients_file}, line {}: patient {:?}",
        row.line, row.patient_id
    );
    let Some(baseline_date) = assessment.baseline_date else {
        bail!("{place}: no baseline scan in the lesion table");
    };
    let start = row.start_date;
    let points = &assessment.timepoints;

    let first_progression = points
        .iter()
        .find(|point| point.overall_response == OverallResponse::Pd);
    let best_response = best_response_code(assessment.best_overall_response);
    let first_response = first_response(points, assessment.best_overall_response, options);
    let last_scan = points.last().map_or(baseline_date, |point| point.date);
    let last_adequate = points
        .iter()
        .rev()
        .find(|point| point.overall_response != OverallResponse::Ne)
        .map_or(baseline_date, |point| point.date);

    if let Some(point) = first_progression.filter(|point| point.date < start) {
        bail!(
            "{place}: the first PD (visit {} on {}) is before start_date {start}",
            point.visit,
            point.date
        );
    }
    if let Some(point) = first_response.filter(|point| point.date < start) {
        bail!(
            "{place}: the first response (visit {} on {}) is before start_date {start}",
            point.visit,
            point.date
        );
    }
    if let Some(point) = points.iter().find(|point| point.date < start) {
        warnings.push(format!(
            "{place}: follow-up visit {} on {} is before start_date {start}",
            point.visit, point.date
        ));
    }
    if let Some(death) = row.death_date.filter(|death| *death < last_scan) {
        warnings.push(format!(
            "{place}: death_date {death} is before the last scan on {last_scan}; \
             the PFS event is the earlier of death and the first PD"
        ));
    }
    if let Some(contact) = row.last_contact_date.filter(|contact| *contact < last_scan) {
        warnings.push(format!(
            "{place}: last_contact_date {contact} is before the last scan on {last_scan}"
        ));
    }
    if first_progression.is_none() && row.death_date.is_none() && last_adequate < last_scan {
        warnings.push(format!(
            "{place}: censored at the last adequate assessment on {last_adequate}; \
             later NE assessments up to {last_scan} do not extend PFS"
        ));
    }

    let day = |date: Date| i64::from(date.days_since_epoch());
    let times = pfs_from_dates(&PatientDates {
        start_day: day(start),
        death_day: row.death_date.map(day),
        last_assessment_day: day(last_adequate),
        first_progression_day: first_progression.map(|point| day(point.date)),
        first_response_day: first_response.map(|point| day(point.date)),
    })
    .with_context(|| place.clone())?;

    let outcome = PatientOutcome {
        patient_id: row.patient_id.clone(),
        arm: row.arm.clone(),
        best_response,
        best_change_pct: assessment.best_change_from_baseline_pct,
        pfs_months: times.pfs_months,
        progressed: times.progressed,
        ttr_months: times.ttr_months,
    };
    let spider = assessment
        .baseline_sum_mm
        .is_some_and(|sum| sum > 0.0)
        .then(|| SpiderSeries {
            patient_id: row.patient_id.clone(),
            arm: row.arm.clone(),
            best_response,
            points: std::iter::once(SpiderPoint {
                months: 0.0,
                change_pct: 0.0,
            })
            .chain(points.iter().filter_map(|point| {
                Some(SpiderPoint {
                    months: days_to_months(point.date.days_since(start)),
                    change_pct: point.change_from_baseline_pct?,
                })
            }))
            .collect(),
        });
    Ok((outcome, spider))
}

/// The cohort code of an engine best overall response.
fn best_response_code(response: OverallResponse) -> BestResponse {
    match response {
        OverallResponse::Cr => BestResponse::Cr,
        OverallResponse::Pr => BestResponse::Pr,
        OverallResponse::Sd => BestResponse::Sd,
        OverallResponse::NonCrNonPd => BestResponse::NonCrNonPd,
        OverallResponse::Pd => BestResponse::Pd,
        OverallResponse::Ne => BestResponse::Ne,
    }
}

/// The time point that dates the response onset: `None` unless the best
/// overall response is CR or PR; else the first CR/PR in the best-response
/// window, with `confirm` the first one confirmed by a CR/PR ≥ 28 days later
/// with only CR/PR/NE between (E9).
fn first_response<'a>(
    points: &'a [TimepointAssessment],
    best: OverallResponse,
    options: &AssessOptions,
) -> Option<&'a TimepointAssessment> {
    if !best.is_objective_response() {
        return None;
    }
    let window: Vec<&TimepointAssessment> = points
        .iter()
        .filter(|point| point.counts_for_best_response)
        .collect();
    let objective = |point: &TimepointAssessment| point.overall_response.is_objective_response();
    let first_objective = window.iter().copied().find(|point| objective(point));
    if !options.confirm {
        return first_objective;
    }
    for (index, first) in window.iter().enumerate() {
        if !objective(first) {
            continue;
        }
        for later in window.iter().skip(index + 1) {
            if objective(later) && later.date.days_since(first.date) >= CONFIRMATION_MIN_DAYS {
                return Some(first);
            }
            if !objective(later) && later.overall_response != OverallResponse::Ne {
                break;
            }
        }
    }
    // The engine confirmed a response that this scan did not find; keep its onset.
    first_objective
}
