//! `nadir cohort --lesions LESIONS.csv --patients PATIENTS.csv` (interchange
//! §4b) end to end through `cli::cohort::run`: per-patient values derived by
//! hand, round-trip consistency with input (a), bad input, `sample_scans`.
//!
//! Fixture `tests/data/cohort_lesions/lesions.csv` + `patients.csv`: two arms,
//! eight patients, one target unless said, months = days / 30.4375 from
//! `start_date`. Rows of the lesion table are grouped by visit, not by
//! patient; the patient table lists placebo first (the reference arm).
//!
//! | patient | arm | course (sum mm; % vs baseline) | BOR | best % | PFS days | event | TTR days |
//! |---|---|---|---|---|---|---|---|
//! | P05 | placebo | start 01-05, BL 01-03 45; 02-14 56 (+24.4 %, +11 mm vs nadir 45: PD) | PD | +24.44 | 40 (PD 02-14) | yes | - |
//! | P01 | sorafenib | start 01-10, BL 01-08 50; 03-06 40 (−20 SD); 05-01 30 (−40 PR); 06-26 28 (−44 PR) | PR | −44 | 168 (censored at 06-26) | no | 112 (05-01) |
//! | P06 | placebo | start=BL 02-05, T1 35 + T2 20 = 55; 04-01 33+19=52 (−5.45 SD); 05-27 T2 not evaluable (NE) | SD | −5.45 | 56 (censored at the last adequate scan 04-01, not 05-27) | no | - |
//! | P02 | sorafenib | start=BL 02-01 40; 03-28 36 (−10 SD); 05-23 48 (+33 % vs nadir 36: PD); 07-18 30 after PD | SD (day 56 ≥ 42) | −10 (07-18 is after the first PD) | 112 (PD 05-23) | yes | - |
//! | P07 | placebo | start 01-20, BL 01-18 non-target only, present at 03-14 and 05-09 | NonCR/NonPD | none | 110 (censored at 05-09) | no | - |
//! | P03 | sorafenib | start 01-15, BL 01-12 60 + NT; 03-11 39 (−35 PR); death 04-20 | PR | −35 | 96 (death) | yes | 56 (03-11) |
//! | P08 | placebo | start=BL 03-04 50; 04-01 48 (−4 SD on day 28 < 42, then lost: NE); death 09-01 | NE | −4 | 181 (death) | yes | - |
//! | P04 | sorafenib | start 03-01, BL 02-27 30 + NT; 04-26 27 (−10 SD); 06-14 25 (−16.67) + new lesion: PD | SD (day 59) | −16.67 | 105 (PD 06-14) | yes | - |
//!
//! Day counts (2024 is a leap year): P01 01-10→05-01 = 21+29+31+30+1 = 112,
//! →06-26 = 112+30+26 = 168; P02 02-01→05-23 = 28+31+30+23 = 112; P03
//! 01-15→03-11 = 16+29+11 = 56, →04-20 = 56+20+20 = 96; P04 03-01→06-14 =
//! 31+30+31+13 = 105; P05 01-05→02-14 = 26+14 = 40; P06 02-05→04-01 =
//! 24+31+1 = 56; P07 01-20→05-09 = 11+29+31+30+9 = 110; P08 03-04→09-01 =
//! 27+30+31+30+31+31+31+1 = 181.
//!
//! `expected_outcomes.csv` is the same table as an input (a) file; the cohort
//! JSON of both inputs must be identical.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use nadir::cli::cohort::{CohortArgs, outcomes_from_lesions, run};
use nadir::cohort::BestResponse;
use nadir::cohort::series::SpiderPoint;
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: CohortArgs,
}

fn data(file: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cohort_lesions")
        .join(file)
        .display()
        .to_string()
}

fn sample_lesions() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sample_scans/lesions.csv")
        .display()
        .to_string()
}

/// Runs `nadir cohort ARGS`: (result, stdout, stderr).
fn run_cohort(args: &[&str]) -> (anyhow::Result<()>, String, String) {
    let mut argv = vec!["cohort"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = run(&cli.args, &mut out, &mut err);
    (
        result,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let (result, out, err) = run_cohort(args);
    if let Err(error) = result {
        panic!("{error:#}\n{err}");
    }
    serde_json::from_str(&out).unwrap()
}

fn months(days: i64) -> f64 {
    days as f64 / 30.4375
}

/// (id, best response, best change %, PFS days, progressed, TTR days), by hand
/// (table in the module doc).
type Expected = (
    &'static str,
    BestResponse,
    Option<f64>,
    i64,
    bool,
    Option<i64>,
);

const EXPECTED: [Expected; 8] = [
    (
        "P05",
        BestResponse::Pd,
        Some(11.0 / 45.0 * 100.0),
        40,
        true,
        None,
    ),
    ("P01", BestResponse::Pr, Some(-44.0), 168, false, Some(112)),
    (
        "P06",
        BestResponse::Sd,
        Some(-3.0 / 55.0 * 100.0),
        56,
        false,
        None,
    ),
    ("P02", BestResponse::Sd, Some(-10.0), 112, true, None),
    ("P07", BestResponse::NonCrNonPd, None, 110, false, None),
    ("P03", BestResponse::Pr, Some(-35.0), 96, true, Some(56)),
    ("P08", BestResponse::Ne, Some(-4.0), 181, true, None),
    (
        "P04",
        BestResponse::Sd,
        Some(-5.0 / 30.0 * 100.0),
        105,
        true,
        None,
    ),
];

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn derived_values_match_the_hand_computation() {
    let cohort = outcomes_from_lesions(
        Path::new(&data("lesions.csv")),
        Path::new(&data("patients.csv")),
        false,
        42,
    )
    .unwrap();
    assert_eq!(cohort.outcomes.len(), EXPECTED.len());
    for (outcome, (id, response, change, pfs_days, progressed, ttr_days)) in
        cohort.outcomes.iter().zip(EXPECTED)
    {
        assert_eq!(outcome.patient_id, id);
        assert_eq!(outcome.best_response, response, "{id}");
        assert!(
            close(outcome.best_change_pct, change),
            "{id}: {:?}",
            outcome.best_change_pct
        );
        assert_eq!(outcome.pfs_months, months(pfs_days), "{id}");
        assert_eq!(outcome.progressed, progressed, "{id}");
        assert_eq!(outcome.ttr_months, ttr_days.map(months), "{id}");
    }
    let arms: Vec<&str> = cohort.outcomes.iter().map(|o| o.arm.as_str()).collect();
    assert_eq!(
        arms,
        [
            "placebo",
            "sorafenib",
            "placebo",
            "sorafenib",
            "placebo",
            "sorafenib",
            "placebo",
            "sorafenib"
        ]
    );
    // The only remark: P06's trailing NE scan does not extend its censoring.
    assert_eq!(cohort.warnings.len(), 1, "{:?}", cohort.warnings);
    assert!(
        cohort.warnings[0]
            .contains("patient \"P06\": censored at the last adequate assessment on 2024-04-01"),
        "{:?}",
        cohort.warnings
    );
}

#[test]
fn spider_series_start_at_baseline_and_keep_every_measured_point() {
    let cohort = outcomes_from_lesions(
        Path::new(&data("lesions.csv")),
        Path::new(&data("patients.csv")),
        false,
        42,
    )
    .unwrap();
    // P07 has no target lesions, so no line.
    let ids: Vec<&str> = cohort
        .spider
        .iter()
        .map(|s| s.patient_id.as_str())
        .collect();
    assert_eq!(ids, ["P05", "P01", "P06", "P02", "P03", "P08", "P04"]);
    let point = |days: i64, change_pct: f64| SpiderPoint {
        months: months(days),
        change_pct,
    };
    let p02 = &cohort.spider[3];
    assert_eq!(p02.best_response, BestResponse::Sd);
    // 03-28 = day 56, 05-23 = day 112 (PD), 07-18 = day 168 (after PD, kept).
    assert_eq!(
        p02.points,
        vec![
            point(0, 0.0),
            point(56, -10.0),
            point(112, 20.0),
            point(168, -25.0)
        ]
    );
    // P06: the NE visit has no change and is left out.
    assert_eq!(
        cohort.spider[2].points,
        vec![point(0, 0.0), point(56, -3.0 / 55.0 * 100.0)]
    );
    // P01: baseline two days before start is still drawn at (0, 0).
    assert_eq!(
        cohort.spider[1].points,
        vec![
            point(0, 0.0),
            point(56, -20.0),
            point(112, -40.0),
            point(168, -44.0)
        ]
    );
}

#[test]
fn cohort_json_from_lesions_equals_the_json_from_the_per_patient_table() {
    let from_lesions = json(&[
        "--lesions",
        &data("lesions.csv"),
        "--patients",
        &data("patients.csv"),
        "--json",
    ]);
    let from_outcomes = json(&[&data("expected_outcomes.csv"), "--json"]);
    assert_eq!(from_lesions, from_outcomes);

    // And the numbers are the expected ones.
    let placebo = &from_lesions["arms"]["placebo"];
    let sorafenib = &from_lesions["arms"]["sorafenib"];
    assert_eq!(
        placebo["response_counts"],
        serde_json::json!({"CR": 0, "PR": 0, "SD": 2, "PD": 1, "NE": 1})
    );
    assert_eq!(
        sorafenib["response_counts"],
        serde_json::json!({"CR": 0, "PR": 2, "SD": 2, "PD": 0, "NE": 0})
    );
    assert_eq!(placebo["orr"]["x"], 0);
    assert_eq!(placebo["dcr"]["x"], 2);
    assert_eq!(sorafenib["orr"]["x"], 2);
    assert_eq!(sorafenib["orr"]["rate"], 0.5);
    assert_eq!(sorafenib["dcr"]["x"], 4);
    assert_eq!(
        sorafenib["waterfall_order"],
        serde_json::json!(["P02", "P04", "P03", "P01"])
    );
    assert_eq!(
        placebo["waterfall_order"],
        serde_json::json!(["P05", "P08", "P06"])
    );
    assert_eq!(placebo["best_change"]["n"], 3);
    assert_eq!(placebo["pfs"]["events"], 2);
    assert_eq!(sorafenib["pfs"]["events"], 3);
    assert_eq!(sorafenib["time_to_response"]["n"], 2);
    let ttr_median = (months(56) + months(112)) / 2.0;
    assert_eq!(
        sorafenib["time_to_response"]["median"].as_f64(),
        Some(ttr_median)
    );
    let first_row = &placebo["pfs"]["km_table"][0];
    assert_eq!(first_row["time"].as_f64(), Some(months(40)));
    assert_eq!(first_row["n_risk"], 4);
    assert_eq!(first_row["n_event"], 1);
    let comparison = &from_lesions["comparison"];
    assert_eq!(comparison["reference_arm"], "placebo");
    assert_eq!(comparison["experimental_arm"], "sorafenib");
}

#[test]
fn confirm_and_min_sd_days_reach_the_engine() {
    // With --confirm, P03's single PR (day 59 from baseline) is SD and loses
    // its time to response; P01's PR (05-01 confirmed 06-26) stays.
    let cohort = outcomes_from_lesions(
        Path::new(&data("lesions.csv")),
        Path::new(&data("patients.csv")),
        true,
        42,
    )
    .unwrap();
    let p03 = cohort
        .outcomes
        .iter()
        .find(|o| o.patient_id == "P03")
        .unwrap();
    assert_eq!(p03.best_response, BestResponse::Sd);
    assert_eq!(p03.ttr_months, None);
    let p01 = cohort
        .outcomes
        .iter()
        .find(|o| o.patient_id == "P01")
        .unwrap();
    assert_eq!(p01.best_response, BestResponse::Pr);
    assert_eq!(p01.ttr_months, Some(months(112)));

    let value = json(&[
        "--lesions",
        &data("lesions.csv"),
        "--patients",
        &data("patients.csv"),
        "--json",
        "--confirm",
    ]);
    assert_eq!(value["arms"]["sorafenib"]["orr"]["x"], 1);

    // --min-sd-days 28: P08's SD on day 28 now counts.
    let value = json(&[
        "--lesions",
        &data("lesions.csv"),
        "--patients",
        &data("patients.csv"),
        "--json",
        "--min-sd-days",
        "28",
    ]);
    assert_eq!(
        value["arms"]["placebo"]["response_counts"],
        serde_json::json!({"CR": 0, "PR": 0, "SD": 3, "PD": 1, "NE": 0})
    );
}

#[test]
fn warnings_go_to_stderr_and_the_readable_table_to_stdout() {
    let (result, out, err) = run_cohort(&[
        "--lesions",
        &data("lesions.csv"),
        "--patients",
        &data("patients.csv"),
    ]);
    result.unwrap();
    assert!(out.contains("Arm placebo (n = 4)"), "{out}");
    assert!(out.contains("Arm sorafenib (n = 4)"), "{out}");
    assert!(
        err.contains("warning: ") && err.contains("\"P06\": censored at the last adequate"),
        "{err}"
    );
}

#[test]
fn bad_input_names_file_line_and_column_and_prints_nothing() {
    let lesions = data("lesions.csv");
    let cases = [
        (
            lesions.clone(),
            data("bad_missing_column.csv"),
            data("bad_missing_column.csv"),
            "line 1: missing required column \"start_date\"",
        ),
        (
            lesions.clone(),
            data("bad_date.csv"),
            data("bad_date.csv"),
            "line 4, column \"start_date\": \"2024-02-30\" is not an ISO date YYYY-MM-DD",
        ),
        (
            lesions.clone(),
            data("bad_duplicate.csv"),
            data("bad_duplicate.csv"),
            "line 10, column \"patient_id\": patient \"P01\" already appears on line 3",
        ),
        (
            lesions.clone(),
            data("bad_missing_patient.csv"),
            lesions.clone(),
            "line 12, column \"patient_id\": patient \"P08\" is not in the patient table",
        ),
        (
            lesions.clone(),
            data("bad_extra_patient.csv"),
            data("bad_extra_patient.csv"),
            "line 7, column \"patient_id\": patient \"P09\" has no rows in the lesion table",
        ),
        (
            data("bad_lesion_date.csv"),
            data("patients.csv"),
            data("bad_lesion_date.csv"),
            ":15: column date: ",
        ),
    ];
    for (lesions, patients, named_file, expected) in cases {
        let (result, out, _) =
            run_cohort(&["--lesions", &lesions, "--patients", &patients, "--json"]);
        let message = format!("{:#}", result.unwrap_err());
        assert!(message.contains(&named_file), "{patients}: {message}");
        assert!(message.contains(expected), "{patients}: {message}");
        assert!(out.is_empty(), "{patients}: printed {out}");
    }
}

#[test]
fn missing_patient_table_is_an_error_naming_it() {
    let (result, out, _) = run_cohort(&[
        "--lesions",
        &data("lesions.csv"),
        "--patients",
        "/nonexistent/patients.csv",
        "--json",
    ]);
    let message = format!("{:#}", result.unwrap_err());
    assert!(message.contains("/nonexistent/patients.csv"), "{message}");
    assert!(out.is_empty());
}

#[test]
fn sample_scans_with_a_one_patient_table() {
    // NADIR-SYN-001: baseline 2024-01-08 = start, sum 25 + 44 + 60 + 18 (node,
    // short axis) = 147; W8 2024-03-04: 20 + 36 + 54 + 13 = 123 (−16.3 %, SD);
    // W16 2024-04-29: 14 + 27 + 47 + 11 = 99 (−32.7 %, PR). Best response PR,
    // time to response = PFS (censored) = 112 days.
    let cohort = outcomes_from_lesions(
        Path::new(&sample_lesions()),
        Path::new(&data("sample_patients.csv")),
        false,
        42,
    )
    .unwrap();
    let outcome = &cohort.outcomes[0];
    assert_eq!(outcome.best_response, BestResponse::Pr);
    assert!(close(
        outcome.best_change_pct,
        Some((99.0 - 147.0) / 147.0 * 100.0)
    ));
    assert_eq!(outcome.pfs_months, months(112));
    assert!(!outcome.progressed);
    assert_eq!(outcome.ttr_months, Some(months(112)));

    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let plots_arg = plots.display().to_string();
    let (result, out, err) = run_cohort(&[
        "--lesions",
        &sample_lesions(),
        "--patients",
        &data("sample_patients.csv"),
        "--json",
        "--plots",
        &plots_arg,
    ]);
    if let Err(error) = result {
        panic!("{error:#}\n{err}");
    }
    let from_lesions: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(from_lesions["comparison"], serde_json::Value::Null);
    assert_eq!(from_lesions["arms"]["sorafenib"]["n"], 1);
    assert_eq!(
        from_lesions,
        json(&[&data("sample_expected_outcomes.csv"), "--json"])
    );
    for name in ["waterfall", "swimmer", "spider", "km"] {
        assert!(plots.join(format!("{name}.png")).exists(), "{name}");
        assert!(plots.join(format!("{name}.svg")).exists(), "{name}");
    }
}
