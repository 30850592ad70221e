//! Assembles the cohort report (`cohort_report`) from the per-topic modules.

use super::binomial::{RateEstimate, rate_estimate};
use super::cox::{CoxEstimate, cox_efron};
use super::km::{KaplanMeier, Landmark, MedianEstimate, SurvivalTime};
use super::logrank::{LogRankTest, log_rank};
use super::summary::{
    BestChangeSummary, ResponseCounts, TimeToResponse, best_change_summary, time_to_response,
    waterfall_order,
};
use super::{CohortError, CohortOptions, PatientOutcome};
use std::collections::{HashMap, HashSet};

/// Everything `nadir cohort` reports (interchange §4).
#[derive(Debug, Clone, PartialEq)]
pub struct CohortReport {
    /// Per arm, in order of first appearance.
    pub arms: Vec<ArmReport>,
    /// All arms pooled (counts and rates only).
    pub overall: OverallReport,
    /// Experimental vs reference; `None` for a single arm.
    pub comparison: Option<Comparison>,
}

/// The statistics of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmReport {
    /// Arm label.
    pub arm: String,
    /// Patients in the arm (NE included).
    pub n: usize,
    /// Patients per best response.
    pub response_counts: ResponseCounts,
    /// Objective response rate (CR + PR) with exact CI.
    pub orr: RateEstimate,
    /// Disease control rate (CR + PR + SD) with exact CI.
    pub dcr: RateEstimate,
    /// Best % change summary.
    pub best_change: BestChangeSummary,
    /// Patient ids in waterfall order.
    pub waterfall_order: Vec<String>,
    /// Time to response over responders.
    pub time_to_response: TimeToResponse,
    /// Progression-free survival.
    pub pfs: PfsSummary,
}

/// PFS of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct PfsSummary {
    /// The Kaplan–Meier fit (table, n, events).
    pub km: KaplanMeier,
    /// Landmark rates, in the order of the options.
    pub landmarks: Vec<Landmark>,
    /// Median PFS with its CI.
    pub median: MedianEstimate,
}

/// All arms pooled.
#[derive(Debug, Clone, PartialEq)]
pub struct OverallReport {
    /// Patients.
    pub n: usize,
    /// Patients per best response.
    pub response_counts: ResponseCounts,
    /// Objective response rate.
    pub orr: RateEstimate,
    /// Disease control rate.
    pub dcr: RateEstimate,
}

/// Experimental vs reference arm.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Reference arm label.
    pub reference_arm: String,
    /// Experimental arm label.
    pub experimental_arm: String,
    /// Log-rank test.
    pub logrank: LogRankTest,
    /// Cox hazard ratio (experimental vs reference); `None` when not estimable.
    pub cox: Option<CoxEstimate>,
}

/// Computes the cohort report. Fails on invalid records (empty or duplicate
/// ids, negative or non-finite times, non-finite changes), invalid landmarks
/// and unknown or identical comparison arms.
pub fn cohort_report(
    outcomes: &[PatientOutcome],
    options: &CohortOptions,
) -> Result<CohortReport, CohortError> {
    validate(outcomes, options)?;
    let arms = group_by_arm(outcomes);

    let mut arm_reports = Vec::with_capacity(arms.len());
    for (arm, patients) in &arms {
        arm_reports.push(arm_report(arm, patients, options)?);
    }

    let counts = ResponseCounts::count(outcomes);
    let overall = OverallReport {
        n: outcomes.len(),
        response_counts: counts,
        orr: rate_estimate(counts.objective_responses(), outcomes.len())
            .ok_or(CohortError::NoPatients)?,
        dcr: rate_estimate(counts.disease_control(), outcomes.len())
            .ok_or(CohortError::NoPatients)?,
    };

    let comparison = match select_comparison_arms(&arms, options)? {
        None => None,
        Some((reference, experimental)) => {
            let reference_times = survival_times(arm_patients(&arms, reference));
            let experimental_times = survival_times(arm_patients(&arms, experimental));
            Some(Comparison {
                reference_arm: reference.to_string(),
                experimental_arm: experimental.to_string(),
                logrank: log_rank(&reference_times, &experimental_times),
                cox: cox_efron(&reference_times, &experimental_times),
            })
        }
    };

    Ok(CohortReport {
        arms: arm_reports,
        overall,
        comparison,
    })
}

fn arm_report(
    arm: &str,
    patients: &[&PatientOutcome],
    options: &CohortOptions,
) -> Result<ArmReport, CohortError> {
    let n = patients.len();
    let counts = ResponseCounts::count(patients.iter().copied());
    let km = KaplanMeier::fit(&survival_times(patients));
    let landmarks = options
        .landmarks_months
        .iter()
        .map(|&time| km.landmark(time))
        .collect();
    let median = km.median();
    Ok(ArmReport {
        arm: arm.to_string(),
        n,
        response_counts: counts,
        orr: rate_estimate(counts.objective_responses(), n).ok_or(CohortError::NoPatients)?,
        dcr: rate_estimate(counts.disease_control(), n).ok_or(CohortError::NoPatients)?,
        best_change: best_change_summary(patients.iter().copied()),
        waterfall_order: waterfall_order(patients.iter().copied())
            .into_iter()
            .map(|patient| patient.patient_id.clone())
            .collect(),
        time_to_response: time_to_response(patients.iter().copied()),
        pfs: PfsSummary {
            km,
            landmarks,
            median,
        },
    })
}

/// Arm labels with their patients, in order of first appearance.
pub(crate) fn group_by_arm(outcomes: &[PatientOutcome]) -> Vec<(&str, Vec<&PatientOutcome>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut arms: Vec<(&str, Vec<&PatientOutcome>)> = Vec::new();
    for outcome in outcomes {
        let slot = *index.entry(outcome.arm.as_str()).or_insert_with(|| {
            arms.push((outcome.arm.as_str(), Vec::new()));
            arms.len() - 1
        });
        if let Some((_, patients)) = arms.get_mut(slot) {
            patients.push(outcome);
        }
    }
    arms
}

fn arm_patients<'a>(
    arms: &'a [(&str, Vec<&'a PatientOutcome>)],
    name: &str,
) -> &'a [&'a PatientOutcome] {
    arms.iter()
        .find(|(arm, _)| *arm == name)
        .map_or(&[], |(_, patients)| patients.as_slice())
}

fn survival_times(patients: &[&PatientOutcome]) -> Vec<SurvivalTime> {
    patients
        .iter()
        .map(|patient| SurvivalTime {
            time_months: patient.pfs_months,
            event: patient.progressed,
        })
        .collect()
}

/// (reference, experimental): named arms must exist; defaults follow first
/// appearance; `None` when the cohort has a single arm.
fn select_comparison_arms<'a>(
    arms: &[(&'a str, Vec<&PatientOutcome>)],
    options: &CohortOptions,
) -> Result<Option<(&'a str, &'a str)>, CohortError> {
    let find = |name: &Option<String>| -> Result<Option<&'a str>, CohortError> {
        match name {
            None => Ok(None),
            Some(name) => arms
                .iter()
                .find(|(arm, _)| arm == name)
                .map(|(arm, _)| Some(*arm))
                .ok_or_else(|| CohortError::UnknownArm {
                    name: name.clone(),
                    available: arms
                        .iter()
                        .map(|(arm, _)| format!("{arm:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
        }
    };
    let reference = find(&options.reference_arm)?;
    let experimental = find(&options.experimental_arm)?;
    if let (Some(reference), Some(experimental)) = (reference, experimental) {
        if reference == experimental {
            return Err(CohortError::SameArm(reference.to_string()));
        }
    }
    let first_other = |other: Option<&str>| {
        arms.iter()
            .map(|(arm, _)| *arm)
            .find(|arm| Some(*arm) != other)
    };
    let reference = match reference {
        Some(reference) => Some(reference),
        None => first_other(experimental),
    };
    let experimental = match experimental {
        Some(experimental) => Some(experimental),
        None => first_other(reference),
    };
    Ok(match (reference, experimental) {
        (Some(reference), Some(experimental)) if reference != experimental => {
            Some((reference, experimental))
        }
        _ => None,
    })
}

fn validate(outcomes: &[PatientOutcome], options: &CohortOptions) -> Result<(), CohortError> {
    if outcomes.is_empty() {
        return Err(CohortError::NoPatients);
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(outcomes.len());
    for outcome in outcomes {
        let id = outcome.patient_id.as_str();
        if id.trim().is_empty() {
            return Err(CohortError::EmptyPatientId);
        }
        if !seen.insert(id) {
            return Err(CohortError::DuplicatePatient(id.to_string()));
        }
        if outcome.arm.trim().is_empty() {
            return Err(CohortError::EmptyArm(id.to_string()));
        }
        let invalid = |field: &'static str, value: f64, requirement: &'static str| {
            CohortError::InvalidValue {
                patient_id: id.to_string(),
                field,
                value,
                requirement,
            }
        };
        if !(outcome.pfs_months.is_finite() && outcome.pfs_months >= 0.0) {
            return Err(invalid("pfs_months", outcome.pfs_months, " ≥ 0"));
        }
        if let Some(change) = outcome.best_change_pct {
            if !change.is_finite() {
                return Err(invalid("best_change_pct", change, ""));
            }
        }
        if let Some(ttr) = outcome.ttr_months {
            if !(ttr.is_finite() && ttr >= 0.0) {
                return Err(invalid("ttr_months", ttr, " ≥ 0"));
            }
        }
    }
    if let Some(&bad) = options
        .landmarks_months
        .iter()
        .find(|t| !(t.is_finite() && **t >= 0.0))
    {
        return Err(CohortError::InvalidLandmark(bad));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::BestResponse;

    fn outcome(id: &str, arm: &str, pfs: f64, progressed: bool) -> PatientOutcome {
        PatientOutcome {
            patient_id: id.into(),
            arm: arm.into(),
            best_response: BestResponse::Sd,
            best_change_pct: None,
            pfs_months: pfs,
            progressed,
            ttr_months: None,
        }
    }

    fn cohort() -> Vec<PatientOutcome> {
        vec![
            outcome("1", "B", 1.0, true),
            outcome("2", "A", 2.0, true),
            outcome("3", "C", 3.0, true),
            outcome("4", "A", 4.0, false),
        ]
    }

    fn arms(options: CohortOptions) -> Result<Option<(String, String)>, CohortError> {
        cohort_report(&cohort(), &options).map(|report| {
            report
                .comparison
                .map(|c| (c.reference_arm, c.experimental_arm))
        })
    }

    fn named(reference: Option<&str>, experimental: Option<&str>) -> CohortOptions {
        CohortOptions {
            reference_arm: reference.map(String::from),
            experimental_arm: experimental.map(String::from),
            ..CohortOptions::default()
        }
    }

    #[test]
    fn arms_in_order_of_first_appearance() {
        let report = cohort_report(&cohort(), &CohortOptions::default()).unwrap();
        let names: Vec<&str> = report.arms.iter().map(|a| a.arm.as_str()).collect();
        assert_eq!(names, vec!["B", "A", "C"]);
        assert_eq!(report.overall.n, 4);
    }

    #[test]
    fn default_reference_is_first_arm_experimental_the_next() {
        assert_eq!(arms(named(None, None)), Ok(Some(("B".into(), "A".into()))));
    }

    #[test]
    fn named_reference_takes_first_other_arm_as_experimental() {
        assert_eq!(
            arms(named(Some("A"), None)),
            Ok(Some(("A".into(), "B".into())))
        );
    }

    #[test]
    fn named_experimental_takes_first_other_arm_as_reference() {
        assert_eq!(
            arms(named(None, Some("B"))),
            Ok(Some(("A".into(), "B".into())))
        );
        assert_eq!(
            arms(named(None, Some("C"))),
            Ok(Some(("B".into(), "C".into())))
        );
    }

    #[test]
    fn unknown_and_identical_arms_are_errors() {
        assert!(matches!(
            arms(named(Some("X"), None)),
            Err(CohortError::UnknownArm { .. })
        ));
        assert_eq!(
            arms(named(Some("A"), Some("A"))),
            Err(CohortError::SameArm("A".into()))
        );
    }

    #[test]
    fn single_arm_has_no_comparison() {
        let report =
            cohort_report(&[outcome("1", "A", 1.0, true)], &CohortOptions::default()).unwrap();
        assert_eq!(report.comparison, None);
        let report =
            cohort_report(&[outcome("1", "A", 1.0, true)], &named(Some("A"), None)).unwrap();
        assert_eq!(report.comparison, None);
    }

    #[test]
    fn invalid_records_are_rejected() {
        assert_eq!(
            cohort_report(&[], &CohortOptions::default()),
            Err(CohortError::NoPatients)
        );
        let mut duplicate = cohort();
        duplicate.push(outcome("1", "A", 1.0, true));
        assert_eq!(
            cohort_report(&duplicate, &CohortOptions::default()),
            Err(CohortError::DuplicatePatient("1".into()))
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            let result = cohort_report(&[outcome("1", "A", bad, true)], &CohortOptions::default());
            assert!(matches!(
                result,
                Err(CohortError::InvalidValue {
                    field: "pfs_months",
                    ..
                })
            ));
        }
        let mut change = outcome("1", "A", 1.0, true);
        change.best_change_pct = Some(f64::NAN);
        assert!(cohort_report(&[change], &CohortOptions::default()).is_err());
        let mut ttr = outcome("1", "A", 1.0, true);
        ttr.ttr_months = Some(-1.0);
        assert!(cohort_report(&[ttr], &CohortOptions::default()).is_err());
        assert_eq!(
            cohort_report(&[outcome("", "A", 1.0, true)], &CohortOptions::default()),
            Err(CohortError::EmptyPatientId)
        );
        assert!(matches!(
            cohort_report(&[outcome("1", " ", 1.0, true)], &CohortOptions::default()),
            Err(CohortError::EmptyArm(_))
        ));
    }

    #[test]
    fn invalid_landmarks_are_rejected() {
        let options = CohortOptions {
            landmarks_months: vec![12.0, -1.0],
            ..CohortOptions::default()
        };
        assert_eq!(
            cohort_report(&cohort(), &options),
            Err(CohortError::InvalidLandmark(-1.0))
        );
    }

    #[test]
    fn landmarks_follow_the_options() {
        let options = CohortOptions {
            landmarks_months: vec![3.0, 0.5],
            ..CohortOptions::default()
        };
        let report = cohort_report(&cohort(), &options).unwrap();
        let times: Vec<f64> = report.arms[1]
            .pfs
            .landmarks
            .iter()
            .map(|l| l.time_months)
            .collect();
        assert_eq!(times, vec![3.0, 0.5]);
    }
}
