//! Project panels driven with egui_kittest: blinded reading leaves no
//! patient name, ID or date in any widget, the Sign-off toggles lock and
//! unlock a timepoint, the lesion's "Audit…" button opens its audit trail,
//! and the autosave indicator tells whether changes are saved.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{Queryable, by};
use nadir::recist::{Category, Date};
use nadir::session::{Command, Workspace};
use nadir::tracking::{Finding, Lesion};
use support::ui::App;

fn date(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

fn workspace() -> Workspace {
    let mut ws = Workspace::default();
    ws.add_series(support::series(
        "bl",
        "20240108",
        "f1",
        32,
        [0.5, 0.5],
        0.0,
        4,
    ));
    ws.add_series(support::series(
        "w8",
        "20240304",
        "f2",
        32,
        [0.5, 0.5],
        0.0,
        4,
    ));
    ws.apply(Command::UpdateLesion(Lesion {
        id: "T1".into(),
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    }));
    for (d, mm) in [("2024-01-08", 40.0), ("2024-03-04", 30.0)] {
        ws.apply(Command::SetFinding {
            lesion_id: "T1".into(),
            date: date(d),
            finding: Some(Finding::Entered {
                long_axis_mm: Some(mm),
                short_axis_mm: None,
                extra: Default::default(),
            }),
        });
    }
    ws
}

fn harness(workspace: Workspace) -> Harness<'static, App> {
    support::ui::harness_polling(workspace, |ws| {
        ws.poll_project();
    })
}

#[test]
fn blinded_reading_leaves_no_name_id_or_date_in_any_widget() {
    let mut h = harness(workspace());
    h.run();
    assert!(
        h.query_all_by_label_contains("P-TEST").next().is_some(),
        "shown unblinded"
    );
    assert!(h.query_all_by_label_contains("2024-01-08").next().is_some());
    h.state_mut().workspace.apply(Command::SetBlinded(true));
    h.state_mut()
        .workspace
        .messages
        .push("imported 2 rows for P-TEST (TEST^PATIENT) at 2024-03-04".into());
    h.run();
    for secret in ["P-TEST", "TEST PATIENT", "TEST^PATIENT", "2024-", "20240"] {
        let hits: Vec<String> = h
            .query_all_by_label_contains(secret)
            .map(|n| format!("{n:?}"))
            .collect();
        assert!(hits.is_empty(), "{secret} still shown: {hits:?}");
    }
    assert!(h.query_all_by_label_contains("Subject 1").next().is_some());
    assert!(h.query_all_by_label_contains("day 56").next().is_some());
}

#[test]
fn sign_off_toggles_lock_and_unlock_a_timepoint() {
    let mut h = harness(workspace());
    h.run();
    let baseline_locked = |h: &Harness<'_, App>| {
        h.state()
            .workspace
            .project
            .is_locked("P-TEST", date("2024-01-08"))
    };
    h.get(by().label("baseline").role(Role::Button)).click();
    h.run();
    // signing is never one click: the meaning must be ticked first
    assert!(!baseline_locked(&h), "one click does not sign");
    h.get_by_label("Sign").click();
    h.run();
    assert!(
        !baseline_locked(&h),
        "Sign is disabled until the meaning is ticked"
    );
    h.get_by_label(nadir::ui::project::SIGNATURE_MEANING)
        .click();
    h.run();
    h.get_by_label("Sign").click();
    h.run();
    assert!(baseline_locked(&h));
    assert!(h.query_by_label("baseline signed off").is_some());
    // a locked baseline refuses a finding
    h.state_mut().workspace.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: date("2024-01-08"),
        finding: None,
    });
    h.run();
    assert!(
        h.state()
            .workspace
            .current_patient()
            .unwrap()
            .finding("T1", date("2024-01-08"))
            .is_some()
    );
    h.get_by_label("baseline signed off").click();
    h.run();
    assert!(
        !h.state()
            .workspace
            .project
            .is_locked("P-TEST", date("2024-01-08"))
    );
}

/// One baseline series in a new project file at `path`.
fn project_workspace(path: &std::path::Path) -> Workspace {
    let mut ws = Workspace::default();
    ws.add_series(support::series(
        "bl",
        "20240108",
        "f1",
        32,
        [0.5, 0.5],
        0.0,
        4,
    ));
    ws.apply(Command::NewProject(path.to_path_buf()));
    ws
}

#[test]
fn the_audit_button_opens_the_lesions_audit_trail_and_the_indicator_says_saved() {
    let dir = tempfile::tempdir().unwrap();
    let ws = project_workspace(&dir.path().join("ui.nadir"));
    let mut h = harness(ws);
    h.run();
    assert!(h.query_all_by_label_contains("ui.nadir").next().is_some());
    h.state_mut().workspace.apply(Command::UpdateLesion(Lesion {
        id: "T1".into(),
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    }));
    h.state_mut()
        .workspace
        .apply(Command::SelectLesion("T1".into()));
    h.state_mut()
        .workspace
        .project
        .flush(Duration::from_secs(10));
    h.run();
    assert!(h.query_by_label("ui.nadir: saved").is_some());
    h.get_by_label("Audit…").click();
    h.run();
    assert!(h.query_by_label_contains("Audit trail — T1").is_some());
    assert!(
        h.query_by_label_contains("lesion created: target, liver")
            .is_some()
    );
}

#[test]
fn without_a_project_the_indicator_says_changes_are_not_saved() {
    let mut h = harness(workspace());
    h.run();
    assert!(h.query_by_label("not saved (no project)").is_some());
}

#[test]
fn the_patient_audit_trail_shows_who_signed_off_and_when() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = project_workspace(&dir.path().join("signed.nadir"));
    ws.apply(Command::SetReader("Dr Reader".into()));
    let mut h = harness(ws);
    h.run();
    h.get(by().label("baseline").role(Role::Button)).click();
    h.run();
    h.get_by_label(nadir::ui::project::SIGNATURE_MEANING)
        .click();
    h.run();
    h.get_by_label("Sign").click();
    h.run();
    h.state_mut()
        .workspace
        .project
        .flush(Duration::from_secs(10));
    h.get_by_label("Audit trail…").click();
    h.run();
    assert!(h.query_by_label_contains("whole patient").is_some());
    assert!(h.query_by_label_contains("timepoint signed off").is_some());
    assert!(h.query_all_by_label_contains("Dr Reader").next().is_some());
}
