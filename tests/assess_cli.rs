//! `nadir assess` over the CSV fixtures in `tests/data/assess/`: JSON exactly as
//! expected, readable report, warnings on stderr, errors with nothing on stdout.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use nadir::cli::assess::{AssessArgs, run};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/assess")
        .join(name)
}

fn args(name: &str, json: bool, confirm: bool, min_sd_days: i64) -> AssessArgs {
    AssessArgs {
        path: fixture(name),
        json,
        confirm,
        min_sd_days,
    }
}

/// Runs the command; returns (result, stdout, stderr).
fn run_assess(args: &AssessArgs) -> (anyhow::Result<()>, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = run(args, &mut out, &mut err);
    (
        result,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn assert_json(csv: &str, expected: &str, confirm: bool, min_sd_days: i64) {
    let (result, out, err) = run_assess(&args(csv, true, confirm, min_sd_days));
    result.unwrap();
    let actual: serde_json::Value = serde_json::from_str(&out).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture(expected)).unwrap()).unwrap();
    assert_eq!(actual, expected, "{csv} vs {expected}; stderr: {err}");
    assert!(!out.contains("NaN"));
}

#[test]
fn interchange_example_matches_the_documented_output() {
    assert_json(
        "interchange_example.csv",
        "interchange_example.json",
        false,
        42,
    );
    let (_, out, _) = run_assess(&args("interchange_example.csv", true, false, 42));
    // The documented example, rounded as the documentation rounds it.
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let tp = &value["patients"][0]["timepoints"][0];
    let round = |v: &serde_json::Value| (v.as_f64().unwrap() * 10.0).round() / 10.0;
    assert_eq!(value["patients"][0]["baseline_sum_mm"], 63.0);
    assert_eq!(round(&tp["change_from_baseline_pct"]), -36.5);
    assert_eq!(round(&tp["volume_ml"]), 12.5);
    assert_eq!(round(&tp["volume_change_from_baseline_pct"]), -60.2);
    assert_eq!(round(&tp["t2_ratio"]), 1.8);
    assert_eq!(round(&tp["t2_ratio_change_from_baseline_pct"]), -25.0);
}

#[test]
fn guideline_example_incomplete_visit_is_pd() {
    assert_json(
        "guideline_incomplete_pd.csv",
        "guideline_incomplete_pd.json",
        false,
        42,
    );
}

#[test]
fn e3_float_thresholds() {
    assert_json("float_threshold.csv", "float_threshold.json", false, 42);
}

#[test]
fn course_with_node_cr_reappearance_and_post_pd_visits() {
    assert_json("course.csv", "course.json", false, 42);
    assert_json("course.csv", "course.confirm.json", true, 42);
}

#[test]
fn non_target_only_patients_follow_table2() {
    assert_json("non_target_only.csv", "non_target_only.json", false, 42);
    assert_json(
        "non_target_only.csv",
        "non_target_only.confirm_sd20.json",
        true,
        20,
    );
}

#[test]
fn equivocal_new_lesion_back_dates_pd() {
    assert_json("equivocal_new.csv", "equivocal_new.json", false, 42);
}

#[test]
fn every_timepoint_has_an_explanation_and_no_nan() {
    for csv in [
        "interchange_example.csv",
        "guideline_incomplete_pd.csv",
        "float_threshold.csv",
        "course.csv",
        "non_target_only.csv",
        "equivocal_new.csv",
        "warnings.csv",
    ] {
        let (result, out, _) = run_assess(&args(csv, true, false, 42));
        result.unwrap();
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        for patient in value["patients"].as_array().unwrap() {
            for tp in patient["timepoints"].as_array().unwrap() {
                let explanation = tp["explanation"].as_str().unwrap();
                let overall = tp["overall_response"].as_str().unwrap();
                assert!(
                    explanation.starts_with(&format!("{overall}: ")),
                    "{csv}: {explanation}"
                );
            }
        }
    }
}

#[test]
fn readable_report_shows_visits_sums_responses_explanations_and_bor() {
    let (result, out, err) = run_assess(&args("course.csv", false, false, 42));
    result.unwrap();
    assert!(err.is_empty(), "{err}");
    for expected in [
        "Patient C1",
        "Baseline screening 2024-01-02: sum 70.0 mm over targets T1, T2; non-targets NT1",
        "W24    2024-06-18   168      8.0      14.0    -88.6       -42.9  CR      NonCR/NonPD  no   PR",
        "PR: targets in complete response but non-target NT1 still present",
        "PD: sum 15.0 mm is +87.5% and +7.0 mm over the nadir 8.0 mm",
        "after the first PD: not counted for best response",
        "Best overall response PR: first PR at W8 (visits after the first PD at W32 do not count); best change from baseline -88.6%",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
}

#[test]
fn warnings_go_to_stderr_and_the_command_succeeds() {
    let (result, out, err) = run_assess(&args("warnings.csv", true, false, 42));
    result.unwrap();
    assert!(out.starts_with('{'));
    for expected in [
        "warnings.csv:1: unknown column 'reader' ignored",
        "lesion T1: non-nodal baseline target of 8 mm is below the 10 mm measurability minimum",
        "lesion T4: nodal baseline target of 12 mm short axis is below 15 mm",
        "3 target lesions in organ 'lung' at baseline (at most 2 per organ)",
        "lesion T9: target row for a lesion that is not a baseline target; row ignored",
        "visit W8, lesion T4: baseline target has no row at this visit",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
    for line in err.lines() {
        assert!(line.starts_with("warning: "), "{line}");
    }
}

#[test]
fn errors_name_file_line_and_column_and_print_nothing_on_stdout() {
    let cases = [
        (
            "bad_date.csv",
            "bad_date.csv:3: column date: '2024-02-30' is not a date (expected YYYY-MM-DD)",
        ),
        (
            "duplicate_row.csv",
            "duplicate_row.csv:5: column lesion_id: duplicate row for patient B1, visit W8, lesion T1 (first at line 3)",
        ),
        (
            "missing_column.csv",
            "missing_column.csv:1: column date: required column is missing",
        ),
        (
            "not_a_number.csv",
            "not_a_number.csv:3: column volume_ml: 'twelve' is not a number",
        ),
    ];
    for (csv, message) in cases {
        for json in [false, true] {
            let (result, out, _) = run_assess(&args(csv, json, false, 42));
            let error = result.unwrap_err();
            assert!(out.is_empty(), "{csv}: stdout must stay empty");
            let text = format!("{error:#}");
            assert!(text.ends_with(message), "{csv}: {text}");
            assert!(text.contains(&fixture(csv).display().to_string()));
        }
    }
}

#[test]
fn unreadable_file_is_an_error() {
    let (result, out, _) = run_assess(&args("does_not_exist.csv", true, false, 42));
    assert!(result.is_err());
    assert!(out.is_empty());
}

#[test]
fn cli_arguments_parse_with_defaults() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: AssessArgs,
    }
    let cli = Cli::try_parse_from(["nadir-assess", "x.csv"]).unwrap();
    assert_eq!(cli.args.min_sd_days, 42);
    assert!(!cli.args.json && !cli.args.confirm);
    let cli = Cli::try_parse_from([
        "nadir-assess",
        "x.csv",
        "--json",
        "--confirm",
        "--min-sd-days",
        "56",
    ])
    .unwrap();
    assert_eq!(cli.args.min_sd_days, 56);
    assert!(cli.args.json && cli.args.confirm);
    assert!(Cli::try_parse_from(["nadir-assess", "x.csv", "--min-sd-days", "-1"]).is_err());
}
