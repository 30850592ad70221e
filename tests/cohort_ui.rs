//! The Cohort tab driven with egui_kittest (no window, no GPU): switching
//! by keyboard and by the tab, the per-arm statistics shown for an imported
//! fixture (found through the accessibility tree), the error banner of a bad
//! file, and "Use this session's lesions".
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use nadir::session::{Central, Command, Workspace};
use support::ui::App;

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(path)
}

fn harness(workspace: Workspace) -> Harness<'static, App> {
    support::ui::harness_polling(workspace, |ws| {
        ws.cohort.poll();
    })
}

#[test]
fn the_cohort_tab_shows_per_arm_statistics_of_an_imported_results_csv() {
    let mut h = harness(Workspace::default());
    h.run();
    assert_eq!(h.state().workspace.central, Central::Reading);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Num2);
    h.run();
    assert_eq!(h.state().workspace.central, Central::Cohort, "Ctrl+2");
    assert!(h.query_by_label_contains("No cohort yet").is_some());

    // The file dialog is not drivable: send its command as the menu would.
    h.state_mut()
        .workspace
        .apply(Command::ImportCohortResults(data(
            "cohort/two_arm_ties.csv",
        )));
    h.run();
    let report = h.state().workspace.cohort.cohort.clone().unwrap().report;
    // arms as column headers
    assert!(h.query_by_label("control").is_some());
    assert!(h.query_by_label("drug").is_some());
    assert!(h.query_by_label("ORR (95% CI)").is_some());
    assert!(h.query_by_label("Median PFS (95% CI)").is_some());
    // the ORR cell of each arm with its exact CI, as the report has it
    for arm in &report.arms {
        let orr = format!(
            "{}/{} = {:.1}% ({:.1}–{:.1})",
            arm.orr.x,
            arm.orr.n,
            arm.orr.rate * 100.0,
            arm.orr.ci_lower * 100.0,
            arm.orr.ci_upper * 100.0
        );
        assert!(
            h.query_all_by_label(&orr).next().is_some(),
            "ORR of {}: {orr}",
            arm.arm
        );
    }
    // two arms: the comparison
    assert!(h.query_by_label("drug vs control").is_some());
    assert!(h.query_all_by_label_contains("Log-rank").next().is_some());
    assert!(h.query_all_by_label_contains("Cox HR").next().is_some());
    // the plot titles
    for title in ["Waterfall", "Swimmer", "Spider", "Kaplan–Meier"] {
        assert!(
            h.query_all_by_label_contains(title).next().is_some(),
            "{title}"
        );
    }

    // a bad file: a banner naming file, line and column; the cohort stays
    h.state_mut()
        .workspace
        .apply(Command::ImportCohortResults(data("cohort/bad_number.csv")));
    h.run();
    assert!(
        h.query_by_label_contains("Import failed").is_some(),
        "banner"
    );
    assert!(
        h.query_by_label_contains("bad_number.csv, line 4, column \"pfs_months\"")
            .is_some(),
        "file, line and column"
    );
    assert!(
        h.query_by_label_contains("the previous cohort is still shown")
            .is_some()
    );
    assert!(
        h.query_by_label("control").is_some(),
        "previous cohort shown"
    );

    // back to reading with the tab
    h.get_by_label("Reading").click();
    h.run();
    assert_eq!(h.state().workspace.central, Central::Reading);
}

#[test]
fn use_this_sessions_lesions_builds_a_one_arm_cohort() {
    let mut workspace = Workspace::default();
    let mut bl = support::series("bl", "20240108", "f1", 32, [1.0, 1.0], 0.0, 4);
    std::sync::Arc::make_mut(&mut bl.volume).meta.patient.id = "NADIR-SYN-001".into();
    workspace.add_series(bl);
    workspace.apply(Command::ImportLesionTable(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans/lesions.csv"),
    ));
    let mut h = harness(workspace);
    h.run();
    h.get_by_label("Cohort").click();
    h.run();
    assert_eq!(h.state().workspace.central, Central::Cohort);
    h.get_by_label("Use this session's lesions").click();
    h.run();
    let cohort = h.state().workspace.cohort.cohort.clone().expect("a cohort");
    assert_eq!(cohort.outcomes.len(), 1);
    assert!(h.query_by_label("all").is_some(), "arm column");
    assert!(
        h.query_all_by_label("1/1 = 100.0% (2.5–100.0)")
            .next()
            .is_some(),
        "ORR"
    );
    assert!(
        h.query_by_label_contains("a real trial needs a patient table")
            .is_some()
    );
}
