//! Properties of the cohort report over random cohorts: no panics, no NaN in
//! the JSON, a valid Kaplan–Meier curve, and independence of row order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nadir::cohort::{BestResponse, CohortOptions, PatientOutcome, cohort_report};
use nadir::interchange::cohort_json::cohort_json_string;
use proptest::prelude::*;

/// arm, response, best change %, PFS in half months, progressed, TTR in quarter months.
type Row = (u8, u8, Option<i16>, u16, bool, Option<u8>);

fn outcome_strategy() -> impl Strategy<Value = Row> {
    (
        0u8..3, // arm
        0u8..6, // response
        proptest::option::of(-100i16..200),
        0u16..40, // pfs in half months: many ties, zeros
        any::<bool>(),
        proptest::option::of(0u8..20),
    )
}

fn cohort(rows: Vec<Row>) -> Vec<PatientOutcome> {
    rows.into_iter()
        .enumerate()
        .map(
            |(i, (arm, response, change, pfs, progressed, ttr))| PatientOutcome {
                patient_id: format!("P{i:04}"),
                arm: ["A", "B", "C"][arm as usize].to_string(),
                best_response: BestResponse::ALL[response as usize],
                best_change_pct: change.map(f64::from),
                pfs_months: f64::from(pfs) / 2.0,
                progressed,
                ttr_months: ttr.map(|t| f64::from(t) / 4.0),
            },
        )
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn report_is_well_formed(rows in proptest::collection::vec(outcome_strategy(), 1..80)) {
        let outcomes = cohort(rows);
        let report = cohort_report(&outcomes, &CohortOptions::default()).unwrap();
        let text = cohort_json_string(&report).unwrap();
        prop_assert!(!text.contains("NaN") && !text.contains("inf"));
        for arm in &report.arms {
            let mut previous = 1.0;
            for row in arm.pfs.km.rows() {
                prop_assert!(row.surv <= previous && row.surv >= 0.0);
                if let (Some(lower), Some(upper)) = (row.ci_lower, row.ci_upper) {
                    prop_assert!(lower <= row.surv && row.surv <= upper && upper <= 1.0);
                }
                previous = row.surv;
            }
            let median = arm.pfs.median;
            if let (Some(lower), Some(estimate)) = (median.ci_lower, median.estimate) {
                prop_assert!(lower <= estimate);
            }
            if let (Some(upper), Some(estimate)) = (median.ci_upper, median.estimate) {
                prop_assert!(estimate <= upper);
            }
            prop_assert!(arm.orr.ci_lower <= arm.orr.rate && arm.orr.rate <= arm.orr.ci_upper);
        }
    }

    #[test]
    fn row_order_does_not_matter(rows in proptest::collection::vec(outcome_strategy(), 2..60)) {
        let outcomes = cohort(rows);
        let options = CohortOptions {
            reference_arm: Some(outcomes[0].arm.clone()),
            ..CohortOptions::default()
        };
        let forward = cohort_report(&outcomes, &options).unwrap();
        let mut reversed = outcomes.clone();
        reversed.reverse();
        let options = CohortOptions {
            experimental_arm: forward.comparison.as_ref().map(|c| c.experimental_arm.clone()),
            ..options
        };
        let backward = cohort_report(&reversed, &options).unwrap();
        for arm in &forward.arms {
            let other = backward.arms.iter().find(|a| a.arm == arm.arm).unwrap();
            prop_assert_eq!(arm, other);
        }
        prop_assert_eq!(&forward.comparison, &backward.comparison);
    }
}
