//! Cohort statistics against R (`binom.test`, `survfit`, `quantile.survfit`,
//! `survdiff`, `coxph(ties = "efron")`, `quantile(type = 7)`) and against the
//! published exact CIs of `cohort-statistics.md`.
//!
//! The fixtures in `r_fixtures/mod.rs` are R's full-precision output for the
//! CSV cohorts in `tests/data/cohort/`, printed by `scripts/check_against_r.sh`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::excessive_precision)]

mod r_fixtures;

use nadir::cohort::binomial::clopper_pearson;
use nadir::cohort::{ArmReport, CohortOptions, CohortReport, PatientOutcome, cohort_report};
use nadir::interchange::patient_table::read_patient_outcomes_file;
use std::path::PathBuf;

/// R's NA in the fixtures.
pub const R_NA: f64 = f64::NAN;

/// Relative tolerance against R.
const REL_TOL: f64 = 1e-9;

/// Landmarks the R script evaluates.
const LANDMARKS: [f64; 4] = [0.5, 3.0, 12.0, 24.0];

/// `binom.test(x, n)$conf.int`.
pub struct BinomFixture {
    /// Successes.
    pub x: usize,
    /// Trials.
    pub n: usize,
    /// Lower limit.
    pub lower: f64,
    /// Upper limit.
    pub upper: f64,
}

/// One arm of one cohort file.
pub struct ArmFixture {
    /// CSV under tests/data/cohort.
    pub file: &'static str,
    /// Arm label.
    pub arm: &'static str,
    /// time, n.risk, n.event, n.censor, surv, std.err, lower, upper.
    pub km: &'static [[f64; 8]],
    /// median, lower, upper.
    pub median: [f64; 3],
    /// time, surv, std.err (log scale), lower, upper.
    pub landmarks: &'static [[f64; 5]],
    /// ORR exact CI.
    pub orr_ci: [f64; 2],
    /// DCR exact CI.
    pub dcr_ci: [f64; 2],
    /// Time to response: median, q1, q3 (type 7).
    pub ttr_median_q1_q3: [f64; 3],
    /// Best % change: mean, median.
    pub best_change_mean_median: [f64; 2],
}

/// survdiff + coxph of one two-arm cohort file.
pub struct ComparisonFixture {
    /// CSV under tests/data/cohort.
    pub file: &'static str,
    /// Reference arm (first in the file).
    pub reference: &'static str,
    /// Experimental arm.
    pub experimental: &'static str,
    /// Observed events: reference, experimental.
    pub observed: [f64; 2],
    /// Expected events: reference, experimental.
    pub expected: [f64; 2],
    /// Variance of O − E.
    pub variance: f64,
    /// χ².
    pub chisq: f64,
    /// p-value.
    pub p: f64,
    /// beta, se, hr, lower, upper, z, p.
    pub cox: Option<[f64; 7]>,
}

fn data_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cohort")
        .join(file)
}

fn load(file: &str) -> Vec<PatientOutcome> {
    read_patient_outcomes_file(&data_path(file))
        .unwrap()
        .outcomes
}

fn report(file: &str) -> CohortReport {
    let options = CohortOptions {
        landmarks_months: LANDMARKS.to_vec(),
        ..CohortOptions::default()
    };
    cohort_report(&load(file), &options).unwrap()
}

fn arm<'a>(report: &'a CohortReport, name: &str) -> &'a ArmReport {
    report.arms.iter().find(|a| a.arm == name).unwrap()
}

/// `actual` agrees with R's `expected` (NA ↔ None) to `REL_TOL` relative.
#[track_caller]
fn check(actual: Option<f64>, expected: f64, what: &str) {
    if expected.is_nan() {
        assert_eq!(actual, None, "{what}: R gives NA");
        return;
    }
    let actual = actual.unwrap_or_else(|| panic!("{what}: null, R gives {expected}"));
    let scale = expected.abs().max(1e-300);
    let rel = (actual - expected).abs() / scale;
    assert!(
        rel <= REL_TOL || (actual - expected).abs() <= 1e-15,
        "{what}: {actual:e} vs R {expected:e} (relative {rel:e})"
    );
}

#[test]
fn clopper_pearson_matches_binom_test() {
    for f in r_fixtures::BINOM {
        let (lower, upper) = clopper_pearson(f.x, f.n).unwrap();
        check(Some(lower), f.lower, &format!("{}/{} lower", f.x, f.n));
        check(Some(upper), f.upper, &format!("{}/{} upper", f.x, f.n));
    }
}

/// The published intervals of the doc's table, to the published rounding.
#[test]
fn clopper_pearson_reproduces_published_intervals() {
    // (x, n, decimals of the published percentage, lower %, upper %)
    let published: [(usize, usize, i32, f64, f64); 7] = [
        (16, 49, 0, 20.0, 48.0),
        (7, 35, 0, 8.0, 37.0),
        (10, 21, 1, 25.7, 70.2),
        (2, 4, 1, 6.8, 93.2),
        (8, 17, 1, 23.0, 72.2),
        (7, 13, 1, 25.1, 80.8),
        (5, 9, 1, 21.2, 86.3),
    ];
    let round = |value: f64, decimals: i32| {
        let factor = 10f64.powi(decimals);
        (value * 100.0 * factor).round() / factor
    };
    for (x, n, decimals, lower, upper) in published {
        let (ci_lower, ci_upper) = clopper_pearson(x, n).unwrap();
        assert_eq!(round(ci_lower, decimals), lower, "{x}/{n} lower {ci_lower}");
        assert_eq!(round(ci_upper, decimals), upper, "{x}/{n} upper {ci_upper}");
        // The doc notes that Wilson reproduces none of them.
        let (wilson_lower, wilson_upper) = wilson(x, n);
        assert!(
            round(wilson_lower, decimals) != lower || round(wilson_upper, decimals) != upper,
            "{x}/{n}: Wilson would match too"
        );
    }
}

fn wilson(x: usize, n: usize) -> (f64, f64) {
    let z = nadir::cohort::Z_95;
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    (centre - half, centre + half)
}

#[test]
fn kaplan_meier_tables_match_survfit() {
    for f in r_fixtures::ARMS {
        let report = report(f.file);
        let arm = arm(&report, f.arm);
        let rows = arm.pfs.km.rows();
        assert_eq!(rows.len(), f.km.len(), "{} {}: rows", f.file, f.arm);
        for (row, r) in rows.iter().zip(f.km) {
            let what = format!("{} {} t={}", f.file, f.arm, r[0]);
            assert_eq!(row.time_months, r[0], "{what}: time");
            assert_eq!(row.n_risk as f64, r[1], "{what}: n_risk");
            assert_eq!(row.n_event as f64, r[2], "{what}: n_event");
            assert_eq!(row.n_censor as f64, r[3], "{what}: n_censor");
            check(Some(row.surv), r[4], &format!("{what}: surv"));
            check(row.std_err, r[5], &format!("{what}: std_err"));
            check(row.ci_lower, r[6], &format!("{what}: ci_lower"));
            check(row.ci_upper, r[7], &format!("{what}: ci_upper"));
        }
    }
}

#[test]
fn medians_and_their_intervals_match_quantile_survfit() {
    for f in r_fixtures::ARMS {
        let report = report(f.file);
        let median = arm(&report, f.arm).pfs.median;
        let what = format!("{} {} median", f.file, f.arm);
        check(median.estimate, f.median[0], &what);
        check(median.ci_lower, f.median[1], &format!("{what} lower"));
        check(median.ci_upper, f.median[2], &format!("{what} upper"));
    }
}

#[test]
fn landmarks_match_summary_survfit() {
    for f in r_fixtures::ARMS {
        let report = report(f.file);
        let landmarks = &arm(&report, f.arm).pfs.landmarks;
        assert_eq!(landmarks.len(), f.landmarks.len());
        for (landmark, r) in landmarks.iter().zip(f.landmarks) {
            let what = format!("{} {} landmark {}", f.file, f.arm, r[0]);
            assert_eq!(landmark.time_months, r[0]);
            check(landmark.surv, r[1], &format!("{what}: surv"));
            check(landmark.std_err, r[2], &format!("{what}: std_err"));
            check(landmark.ci_lower, r[3], &format!("{what}: lower"));
            check(landmark.ci_upper, r[4], &format!("{what}: upper"));
        }
    }
}

#[test]
fn rates_ttr_and_best_change_match_r() {
    for f in r_fixtures::ARMS {
        let report = report(f.file);
        let arm = arm(&report, f.arm);
        let what = format!("{} {}", f.file, f.arm);
        check(
            Some(arm.orr.ci_lower),
            f.orr_ci[0],
            &format!("{what} ORR lower"),
        );
        check(
            Some(arm.orr.ci_upper),
            f.orr_ci[1],
            &format!("{what} ORR upper"),
        );
        check(
            Some(arm.dcr.ci_lower),
            f.dcr_ci[0],
            &format!("{what} DCR lower"),
        );
        check(
            Some(arm.dcr.ci_upper),
            f.dcr_ci[1],
            &format!("{what} DCR upper"),
        );
        let ttr = arm.time_to_response;
        check(
            ttr.median,
            f.ttr_median_q1_q3[0],
            &format!("{what} TTR median"),
        );
        check(ttr.q1, f.ttr_median_q1_q3[1], &format!("{what} TTR q1"));
        check(ttr.q3, f.ttr_median_q1_q3[2], &format!("{what} TTR q3"));
        check(
            arm.best_change.mean,
            f.best_change_mean_median[0],
            &format!("{what} change mean"),
        );
        check(
            arm.best_change.median,
            f.best_change_mean_median[1],
            &format!("{what} change median"),
        );
    }
}

#[test]
fn logrank_and_cox_match_survdiff_and_coxph() {
    for f in r_fixtures::COMPARISONS {
        let report = report(f.file);
        let comparison = report.comparison.as_ref().unwrap();
        assert_eq!(comparison.reference_arm, f.reference);
        assert_eq!(comparison.experimental_arm, f.experimental);
        let test = &comparison.logrank;
        let what = f.file;
        check(
            Some(test.observed_reference),
            f.observed[0],
            &format!("{what} O ref"),
        );
        check(
            Some(test.observed_experimental),
            f.observed[1],
            &format!("{what} O exp"),
        );
        check(
            Some(test.expected_reference),
            f.expected[0],
            &format!("{what} E ref"),
        );
        check(
            Some(test.expected_experimental),
            f.expected[1],
            &format!("{what} E exp"),
        );
        check(Some(test.variance), f.variance, &format!("{what} V"));
        check(test.chisq, f.chisq, &format!("{what} chisq"));
        check(test.p, f.p, &format!("{what} p"));
        match (&comparison.cox, f.cox) {
            (None, None) => {}
            (Some(cox), Some(r)) => {
                check(Some(cox.beta), r[0], &format!("{what} beta"));
                check(Some(cox.se), r[1], &format!("{what} se"));
                check(Some(cox.hr), r[2], &format!("{what} hr"));
                check(Some(cox.ci_lower), r[3], &format!("{what} hr lower"));
                check(Some(cox.ci_upper), r[4], &format!("{what} hr upper"));
                check(Some(cox.wald_z), r[5], &format!("{what} z"));
                check(Some(cox.wald_p), r[6], &format!("{what} wald p"));
            }
            (ours, r) => panic!("{what}: cox {ours:?} vs R {r:?}"),
        }
    }
}

/// Reversing the rows changes nothing but the default arm order; with the
/// arms named, every number is bit-identical.
#[test]
fn results_do_not_depend_on_row_order() {
    for file in ["two_arm_ties.csv", "random_200.csv", "all_censored_arm.csv"] {
        let outcomes = load(file);
        let arms: Vec<String> = {
            let mut seen = Vec::new();
            for o in &outcomes {
                if !seen.contains(&o.arm) {
                    seen.push(o.arm.clone());
                }
            }
            seen
        };
        let options = CohortOptions {
            reference_arm: Some(arms[0].clone()),
            experimental_arm: Some(arms[1].clone()),
            landmarks_months: LANDMARKS.to_vec(),
        };
        let forward = cohort_report(&outcomes, &options).unwrap();
        let mut reversed_rows = outcomes.clone();
        reversed_rows.reverse();
        let backward = cohort_report(&reversed_rows, &options).unwrap();
        for arm_report in &forward.arms {
            assert_eq!(
                arm_report,
                arm(&backward, &arm_report.arm),
                "{file} {}",
                arm_report.arm
            );
        }
        assert_eq!(forward.overall, backward.overall);
        assert_eq!(forward.comparison, backward.comparison);
    }
}
