//! The Cohort view's state at the session level, without egui: a cohort is
//! built from a per-patient results CSV, from a lesion table + patient
//! table and from the session's own tracked lesions, with the same numbers
//! as `nadir cohort`; a bad file leaves the previous cohort and names file,
//! line and column; big files are read on a background thread.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use nadir::cli::cohort::outcomes_from_lesions;
use nadir::cohort::{BestResponse, CohortOptions, cohort_report};
use nadir::interchange::patient_table::read_patient_outcomes_file;
use nadir::session::cohort::{BACKGROUND_MIN_BYTES, SESSION_ARM};
use nadir::session::{Central, CohortSource, Command, Workspace};

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn arms(ws: &Workspace) -> Vec<String> {
    ws.cohort
        .cohort
        .as_ref()
        .expect("a cohort")
        .report
        .arms
        .iter()
        .map(|arm| arm.arm.clone())
        .collect()
}

#[test]
fn a_results_csv_gives_the_cli_report_and_plot_series() {
    let mut ws = Workspace::default();
    let path = data("cohort/two_arm_ties.csv");
    ws.apply(Command::ImportCohortResults(path.clone()));
    assert_eq!(
        ws.central,
        Central::Cohort,
        "importing shows the Cohort view"
    );
    assert!(ws.cohort.job.is_none(), "a small file is read at once");
    assert_eq!(ws.cohort.error, None);
    let cohort = ws.cohort.cohort.as_ref().unwrap();
    let table = read_patient_outcomes_file(&path).unwrap();
    let expected = cohort_report(&table.outcomes, &CohortOptions::default()).unwrap();
    assert_eq!(cohort.report, expected);
    assert_eq!(cohort.source, CohortSource::Results(path));
    assert_eq!(arms(&ws), vec!["control", "drug"]);
    assert!(cohort.report.comparison.is_some());
    let plots = &cohort.plots;
    assert_eq!(plots.waterfall.len(), 2);
    assert_eq!(plots.swimmer.len(), table.outcomes.len());
    assert_eq!(plots.km.len(), 2);
    assert!(plots.spider.is_none(), "no spider plot without lesion data");
    for (curve, arm) in plots.km.iter().zip(&cohort.report.arms) {
        assert_eq!(curve.arm, arm.arm);
        assert_eq!(curve.at_risk.len(), plots.km_ticks_months.len());
        assert_eq!(curve.at_risk.first(), Some(&arm.n), "all at risk at 0");
    }
}

#[test]
fn a_lesion_table_with_its_patient_table_gives_the_cli_outcomes_and_spider_lines() {
    let mut ws = Workspace::default();
    let (lesions, patients) = (
        data("cohort_lesions/lesions.csv"),
        data("cohort_lesions/patients.csv"),
    );
    ws.apply(Command::ImportCohortLesions {
        lesions: lesions.clone(),
        patients: patients.clone(),
    });
    assert_eq!(ws.cohort.error, None);
    let expected = outcomes_from_lesions(&lesions, &patients, false, 42).unwrap();
    let cohort = ws.cohort.cohort.as_ref().unwrap();
    assert_eq!(cohort.outcomes, expected.outcomes);
    assert_eq!(arms(&ws), vec!["placebo", "sorafenib"]);
    let spider = cohort.plots.spider.as_ref().expect("spider lines");
    assert!(!spider.is_empty());
    assert!(spider.iter().all(|line| line.points[0].months == 0.0));
}

#[test]
fn a_bad_file_names_file_line_and_column_and_keeps_the_previous_cohort() {
    let mut ws = Workspace::default();
    ws.apply(Command::ImportCohortResults(data(
        "cohort/two_arm_ties.csv",
    )));
    let before = ws.cohort.cohort.clone().unwrap();
    ws.apply(Command::ImportCohortResults(data("cohort/bad_number.csv")));
    let error = ws.cohort.error.clone().expect("an error");
    assert!(error.contains("bad_number.csv"), "{error}");
    assert!(error.contains("line 4"), "{error}");
    assert!(error.contains("pfs_months"), "{error}");
    assert_eq!(
        ws.cohort.cohort.as_ref(),
        Some(&before),
        "nothing half-imported"
    );
    // the same for path (b): a patient missing from the patient table
    ws.apply(Command::ImportCohortLesions {
        lesions: data("cohort_lesions/lesions.csv"),
        patients: data("cohort_lesions/bad_missing_patient.csv"),
    });
    let error = ws.cohort.error.clone().expect("an error");
    assert!(error.contains("lesions.csv, line"), "{error}");
    assert!(error.contains("patient_id"), "{error}");
    assert_eq!(ws.cohort.cohort.as_ref(), Some(&before));
    // a good import clears the error
    ws.apply(Command::ImportCohortResults(data("cohort/three_arms.csv")));
    assert_eq!(ws.cohort.error, None);
    assert_eq!(arms(&ws).len(), 3);
}

#[test]
fn a_big_file_is_read_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    let mut text = String::from(
        "patient_id,arm,best_response,best_change_pct,pfs_months,progressed,ttr_months\n",
    );
    let mut n = 0;
    while (text.len() as u64) < BACKGROUND_MIN_BYTES + 1000 {
        let arm = if n % 2 == 0 { "A" } else { "B" };
        let (response, ttr) = if n % 3 == 0 {
            ("PR", "1.5")
        } else {
            ("SD", "")
        };
        text.push_str(&format!(
            "P{n:06},{arm},{response},{:.1},{:.2},{},{ttr}\n",
            -50.0 + (n % 90) as f64,
            0.5 + (n % 37) as f64 * 0.5,
            n % 4 != 0
        ));
        n += 1;
    }
    std::fs::write(&path, text).unwrap();
    let mut ws = Workspace::default();
    ws.apply(Command::ImportCohortResults(path.clone()));
    assert!(ws.cohort.job.is_some(), "read on a background thread");
    ws.cohort.wait();
    assert!(ws.cohort.job.is_none());
    assert_eq!(ws.cohort.error, None);
    let cohort = ws.cohort.cohort.as_ref().unwrap();
    assert_eq!(cohort.outcomes.len(), n);
    assert_eq!(arms(&ws), vec!["A", "B"]);
    assert!(!ws.cohort.poll(), "nothing left to poll");
}

#[test]
fn the_sessions_lesions_give_a_one_arm_cohort_like_the_cli() {
    let mut ws = Workspace::default();
    ws.apply(Command::CohortFromSession);
    let error = ws.cohort.error.clone().expect("no lesions yet");
    assert!(error.contains("no tracked lesions"), "{error}");
    assert!(ws.cohort.cohort.is_none());

    let mut bl = support::series("bl", "20240108", "f1", 32, [1.0, 1.0], 0.0, 4);
    std::sync::Arc::make_mut(&mut bl.volume).meta.patient.id = "NADIR-SYN-001".into();
    ws.add_series(bl);
    let lesions = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans/lesions.csv");
    ws.apply(Command::ImportLesionTable(lesions.clone()));
    ws.apply(Command::CohortFromSession);
    assert_eq!(ws.cohort.error, None);
    assert_eq!(ws.central, Central::Cohort);
    let cohort = ws.cohort.cohort.as_ref().unwrap();
    assert_eq!(cohort.source, CohortSource::Session);
    assert_eq!(arms(&ws), vec![SESSION_ARM]);
    assert!(cohort.report.comparison.is_none());

    // The CLI on the same lesions with start date = baseline date.
    let cli = outcomes_from_lesions(
        &lesions,
        &data("cohort_lesions/sample_patients.csv"),
        false,
        42,
    )
    .unwrap();
    let mut expected = cli.outcomes[0].clone();
    expected.arm = SESSION_ARM.to_string();
    assert_eq!(cohort.outcomes, vec![expected]);
    assert_eq!(cohort.outcomes[0].best_response, BestResponse::Pr);
    let spider = cohort.plots.spider.as_ref().unwrap();
    assert_eq!(spider.len(), 1);
    assert_eq!(spider[0].points.len(), cli.spider[0].points.len());
}
