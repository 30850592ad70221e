//! The `nadir` command line (parsed and run in-process) on a `.nadir` project built from
//! `sample_scans/lesions.csv`: `assess` gives exactly the output of the CSV,
//! `cohort --lesions` too, `export` writes the same lesion table back, a
//! blinded export hides the patient ID and dates but assesses identically,
//! and bad project files fail with a clear message and stay untouched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use clap::Parser;

use nadir::interchange::lesion_table::parse_lesion_table;
use nadir::store::{Project, Settings, StoredPatient};
use nadir::tracking::{Patient, import_edit};

fn sample_csv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sample_scans/lesions.csv")
}

/// Runs `nadir ARGS` in-process (argument parsing included), capturing
/// stdout and stderr as the binary would print them. In-process because the
/// shared build directory's `nadir` executable may be another branch's.
fn nadir(args: &[&str]) -> (bool, String, String) {
    use nadir::cli::{Cli, Command};
    let mut argv = vec!["nadir"];
    argv.extend_from_slice(args);
    let cli = match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return (false, String::new(), e.to_string()),
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = match cli.command.as_ref().unwrap() {
        Command::Assess(a) => nadir::cli::assess::run(a, &mut out, &mut err),
        Command::Cohort(a) => nadir::cli::cohort::run(a, &mut out, &mut err),
        Command::Export(a) => nadir::cli::project::run_export(a, &mut err),
        other => panic!("not used here: {other:?}"),
    };
    if let Err(e) = &result {
        // as `nadir::cli::run` prints it
        err.extend_from_slice(format!("nadir: error: {e:#}\n").as_bytes());
    }
    (
        result.is_ok(),
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// A project holding the sample lesion table, as the workstation's import
/// would record it.
fn sample_project(dir: &Path, blinded: bool) -> PathBuf {
    let path = dir.join("sample.nadir");
    let bytes = std::fs::read(sample_csv()).unwrap();
    let table = parse_lesion_table(&bytes, "lesions.csv").unwrap();
    let mut project = Project::create(&path).unwrap();
    let mut ids: Vec<&str> = table.records.iter().map(|r| &*r.patient_id).collect();
    ids.dedup();
    for (i, id) in ids.iter().enumerate() {
        let mut p = Patient::new(id);
        let edit = import_edit(&p, &table.records);
        p.apply(edit).unwrap();
        let stored = StoredPatient {
            patient: p,
            pseudonym: format!("Subject {}", i + 1),
        };
        project.save_patient(&stored, &[], "test").unwrap();
    }
    project
        .save_settings(
            &Settings {
                blinded,
                reader: None,
            },
            "test",
        )
        .unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn assess_on_a_project_equals_assess_on_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path(), false);
    let csv = sample_csv();
    let (ok_a, json_csv, _) = nadir(&["assess", s(&csv), "--json"]);
    let (ok_b, json_project, err) = nadir(&["assess", s(&project), "--json"]);
    assert!(ok_a && ok_b, "{err}");
    assert_eq!(json_csv, json_project);
    // the readable report too, apart from the file named in its first line
    let (_, text_csv, _) = nadir(&["assess", s(&csv)]);
    let (_, text_project, _) = nadir(&["assess", s(&project)]);
    let body = |t: &str| t.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(body(&text_csv), body(&text_project));
    assert!(text_project.contains("Best overall response PR"));
}

#[test]
fn cohort_on_a_project_equals_cohort_on_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path(), false);
    let patients = dir.path().join("patients.csv");
    std::fs::write(
        &patients,
        "patient_id,arm,start_date\nNADIR-SYN-001,A,2024-01-08\n",
    )
    .unwrap();
    let csv = sample_csv();
    let (ok_a, a, _) = nadir(&[
        "cohort",
        "--lesions",
        s(&csv),
        "--patients",
        s(&patients),
        "--json",
    ]);
    let (ok_b, b, err) = nadir(&[
        "cohort",
        "--lesions",
        s(&project),
        "--patients",
        s(&patients),
        "--json",
    ]);
    assert!(ok_a && ok_b, "{err}");
    assert_eq!(a, b);
}

#[test]
fn export_writes_the_lesion_table_back() {
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path(), false);
    let out = dir.path().join("out.csv");
    let (ok, _, err) = nadir(&["export", s(&project), "--lesions", s(&out)]);
    assert!(ok, "{err}");
    assert!(err.contains("wrote 15 rows"), "{err}");
    let original = parse_lesion_table(&std::fs::read(sample_csv()).unwrap(), "a").unwrap();
    let exported = parse_lesion_table(&std::fs::read(&out).unwrap(), "b").unwrap();
    let key = |r: &nadir::recist::LesionRecord| (r.date, r.lesion_id.to_string());
    let mut a = original.records.clone();
    let mut b = exported.records.clone();
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a, b);
}

/// The assessment JSON without patient IDs and dates.
fn without_identity(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    for p in v["patients"].as_array_mut().unwrap() {
        p["patient_id"] = serde_json::Value::Null;
        for t in p["timepoints"].as_array_mut().unwrap() {
            t["date"] = serde_json::Value::Null;
        }
    }
    v
}

#[test]
fn a_blinded_export_hides_identity_and_dates_but_assesses_identically() {
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path(), false);
    let out = dir.path().join("blind.csv");
    let (ok, _, err) = nadir(&["export", s(&project), "--lesions", s(&out), "--blinded"]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("NADIR-SYN-001"));
    assert!(!text.contains("2024-"));
    assert!(text.contains("Subject 1,baseline,2000-01-01"), "{text}");
    assert!(text.contains("2000-02-26"), "day 56 = W8"); // 2024-03-04 is day 56
    let (_, original, _) = nadir(&["assess", s(&sample_csv()), "--json"]);
    let (_, blinded, _) = nadir(&["assess", s(&out), "--json"]);
    assert_eq!(without_identity(&original), without_identity(&blinded));
}

#[test]
fn a_blinded_project_blinds_export_and_assess_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path(), true);
    let out = dir.path().join("out.csv");
    let (ok, _, err) = nadir(&["export", s(&project), "--lesions", s(&out)]);
    assert!(ok, "{err}");
    assert!(err.contains("blinded"));
    assert!(
        !std::fs::read_to_string(&out)
            .unwrap()
            .contains("NADIR-SYN-001")
    );
    let (ok, json, _) = nadir(&["assess", s(&project), "--json"]);
    assert!(ok);
    assert!(!json.contains("NADIR-SYN-001") && !json.contains("2024-"));
    assert!(json.contains("Subject 1"));
}

#[test]
fn a_corrupt_project_fails_clearly_and_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.nadir");
    let bytes: Vec<u8> = (0..3000u32).map(|i| (i * 31 % 256) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let out = dir.path().join("out.csv");
    let (ok, stdout, err) = nadir(&["export", s(&path), "--lesions", s(&out)]);
    assert!(!ok);
    assert!(stdout.is_empty());
    assert!(
        err.contains("broken.nadir") && err.contains("not a Nadir project"),
        "{err}"
    );
    assert!(!out.exists());
    let (ok, _, err) = nadir(&["assess", s(&path)]);
    assert!(!ok && err.contains("broken.nadir"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn a_newer_project_is_read_but_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path(), false);
    {
        // what a later Nadir might do: a new table and a higher version
        let opened = Project::open(&project).unwrap();
        opened
            .project
            .execute_raw(&format!(
                "CREATE TABLE future_things (x); PRAGMA user_version = {}; PRAGMA journal_mode = DELETE;",
                nadir::store::current_version() + 1
            ))
            .unwrap();
    }
    let before = std::fs::read(&project).unwrap();
    let (ok, json, err) = nadir(&["assess", s(&project), "--json"]);
    assert!(ok, "{err}");
    assert!(err.contains("newer Nadir"), "{err}");
    let (_, csv_json, _) = nadir(&["assess", s(&sample_csv()), "--json"]);
    assert_eq!(json, csv_json);
    assert_eq!(std::fs::read(&project).unwrap(), before);
}

#[test]
fn export_never_writes_over_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let project = sample_project(dir.path(), false);
    let before = std::fs::read(&project).unwrap();
    let (ok, _, err) = nadir(&["export", s(&project), "--lesions", s(&project)]);
    assert!(!ok && err.contains("over a project file"), "{err}");
    assert_eq!(std::fs::read(&project).unwrap(), before);
}
