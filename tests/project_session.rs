//! Projects at the session level, without egui: autosave of every edit
//! (with its audit rows), reopening, locks (sign-off) refusing edits and
//! undo, blinded reading in labels, messages and exports, relinking a moved
//! series by UID and fingerprint, and a read-only (newer) project that is
//! never written.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use nadir::recist::{Category, Date, LesionStatus};
use nadir::session::{Command, SaveStatus, Workspace};
use nadir::store::Project;
use nadir::tracking::{Finding, Lesion};

fn date(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

fn workspace() -> Workspace {
    let mut ws = Workspace::default();
    ws.add_series(support::series(
        "ct-bl",
        "20240108",
        "for-1",
        32,
        [0.5, 0.5],
        0.0,
        4,
    ));
    ws.add_series(support::series(
        "ct-w8",
        "20240304",
        "for-2",
        32,
        [0.5, 0.5],
        100.0,
        4,
    ));
    ws
}

/// Makes lesion T1 with an entered finding at both dates.
fn track(ws: &mut Workspace) {
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
}

fn flush(ws: &mut Workspace) {
    ws.project.flush(Duration::from_secs(10));
    ws.poll_project();
}

#[test]
fn every_edit_is_autosaved_with_its_audit_rows_and_reopens_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.nadir");
    let mut ws = workspace();
    ws.apply(Command::NewProject(path.clone()));
    assert!(ws.project.file.is_some(), "{:?}", ws.messages);
    track(&mut ws);
    ws.apply(Command::Undo); // the W8 finding goes
    flush(&mut ws);
    assert!(matches!(ws.project.status(), SaveStatus::Saved(_)));
    let opened = Project::open(&path).unwrap();
    assert!(opened.problems.is_empty());
    let stored = &opened.contents.patients[0];
    assert_eq!(stored.pseudonym, "Subject 1");
    let live = ws.current_patient().unwrap();
    assert_eq!(stored.patient.lesions, live.lesions);
    assert_eq!(stored.patient.observations, live.observations);
    assert_eq!(stored.patient.timepoints, live.timepoints);
    assert_eq!(opened.contents.series.len(), 2);
    let audit = opened.project.audit(Some("P-TEST"), Some("T1")).unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(actions, ["edit", "edit", "edit", "undo"]);
    assert_eq!(
        audit[2].description,
        "finding none → entered long axis 30.0 mm, short axis – mm"
    );
    assert_eq!(audit[2].date, Some(date("2024-03-04")));
    assert!(!audit[0].reader.is_empty());
}

#[test]
fn a_reopened_project_restores_patients_locks_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.nadir");
    let mut ws = workspace();
    ws.apply(Command::NewProject(path.clone()));
    track(&mut ws);
    ws.apply(Command::SetReader("Dr Who".into()));
    ws.apply(Command::SetLock {
        date: date("2024-01-08"),
        locked: true,
    });
    // who signed, and when, is shown at once
    let signed = ws
        .project
        .sign_off("P-TEST", date("2024-01-08"))
        .unwrap()
        .clone();
    assert_eq!(signed.by, "Dr Who");
    assert!(signed.at_utc.ends_with('Z'), "{}", signed.at_utc);
    ws.apply(Command::SetBlinded(true));
    flush(&mut ws);
    drop(ws);
    let mut fresh = Workspace::default();
    let folders = fresh.open_project(&path).unwrap();
    // the test series came from no folder: both are missing, none to load
    assert!(folders.is_empty());
    assert_eq!(fresh.project.missing.len(), 2);
    assert!(fresh.project.is_locked("P-TEST", date("2024-01-08")));
    let reopened = fresh
        .project
        .sign_off("P-TEST", date("2024-01-08"))
        .unwrap();
    assert_eq!(reopened.by, "Dr Who", "the signer survives reopening");
    assert!(fresh.project.blinded);
    assert_eq!(fresh.project.reader.as_deref(), Some("Dr Who"));
    let p = fresh.patients.get("P-TEST").unwrap();
    assert_eq!(p.lesions.len(), 1);
    assert_eq!(p.observations.len(), 2);
    // the assessment is live without the images
    assert!(fresh.assessment.result.is_some());
}

#[test]
fn a_locked_timepoint_refuses_edits_and_undo_until_unlocked_and_both_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.nadir");
    let mut ws = workspace();
    ws.apply(Command::NewProject(path.clone()));
    track(&mut ws);
    ws.apply(Command::SetLock {
        date: date("2024-01-08"),
        locked: true,
    });
    let before = ws.current_patient().unwrap().clone();
    // a finding at the locked baseline
    ws.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: date("2024-01-08"),
        finding: Some(Finding::Stated(LesionStatus::NotEvaluable)),
    });
    assert_eq!(ws.current_patient().unwrap(), &before);
    assert!(
        ws.messages.last().unwrap().contains("signed off"),
        "{:?}",
        ws.messages
    );
    // changing the lesion touches the baseline too
    ws.apply(Command::UpdateLesion(Lesion {
        id: "T1".into(),
        category: Category::Target,
        organ: "lung".into(),
        lymph_node: false,
    }));
    assert_eq!(ws.current_patient().unwrap(), &before);
    // the W8 finding is not locked
    ws.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: date("2024-03-04"),
        finding: Some(Finding::Stated(LesionStatus::Absent)),
    });
    assert_ne!(ws.current_patient().unwrap(), &before);
    // undo back to the baseline edits: refused at the lock
    for _ in 0..4 {
        ws.apply(Command::Undo);
    }
    let p = ws.current_patient().unwrap();
    assert!(p.finding("T1", date("2024-01-08")).is_some());
    assert!(ws.messages.last().unwrap().starts_with("cannot undo"));
    ws.apply(Command::SetLock {
        date: date("2024-01-08"),
        locked: false,
    });
    ws.apply(Command::Undo);
    assert!(
        ws.current_patient()
            .unwrap()
            .finding("T1", date("2024-01-08"))
            .is_none()
    );
    flush(&mut ws);
    let opened = Project::open(&path).unwrap();
    let rows = opened.project.audit(Some("P-TEST"), None).unwrap();
    let locks: Vec<&str> = rows
        .iter()
        .filter(|r| r.action == "lock" || r.action == "unlock")
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(locks, ["lock", "unlock"]);
}

#[test]
fn blinded_reading_hides_name_id_and_dates_in_labels_messages_and_exports() {
    let mut ws = workspace();
    track(&mut ws);
    ws.apply(Command::SetBlinded(true));
    assert_eq!(ws.patient_label("P-TEST"), "Subject 1");
    assert_eq!(ws.date_label("P-TEST", date("2024-03-04")), "day 56");
    let text = ws.blind_text("TEST^PATIENT (P-TEST) scanned 20240304, W8 2024-03-04; 1999-12-31");
    assert!(
        !text.contains("P-TEST") && !text.contains("TEST^PATIENT"),
        "{text}"
    );
    assert!(!text.contains("2024") && !text.contains("1999"), "{text}");
    assert!(text.contains("day 56"), "{text}");
    let csv = ws.lesion_table_csv().unwrap();
    assert!(!csv.contains("P-TEST") && !csv.contains("2024-"), "{csv}");
    assert!(
        csv.contains("Subject 1,baseline,2000-01-01") || csv.contains("Subject 1,"),
        "{csv}"
    );
    assert!(csv.contains("2000-02-26"), "{csv}");
    // a refusal message names the day, not the date
    ws.apply(Command::SetLock {
        date: date("2024-03-04"),
        locked: true,
    });
    ws.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: date("2024-03-04"),
        finding: None,
    });
    let last = ws.messages.last().unwrap();
    assert!(last.contains("day 56") && !last.contains("2024"), "{last}");
    ws.apply(Command::SetBlinded(false));
    assert_eq!(ws.patient_label("P-TEST"), "P-TEST");
}

#[test]
fn a_moved_series_is_relinked_by_uid_and_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.nadir");
    let mut ws = workspace();
    ws.apply(Command::NewProject(path.clone()));
    flush(&mut ws);
    drop(ws);
    let mut ws = Workspace::default();
    ws.open_project(&path).unwrap();
    assert_eq!(ws.project.missing.len(), 2);
    let moved = dir.path().join("moved");
    std::fs::create_dir(&moved).unwrap();
    ws.project.load_root = Some(moved.clone());
    ws.project.relinking = true;
    let mut other = support::series("ct-w8", "20240304", "for-2", 32, [0.5, 0.5], 100.0, 4);
    other.pixel_sha256 = Some("different".into());
    // The project stored no fingerprint for these test series, so give the
    // stored reference one to compare against.
    ws.project.series.get_mut("ct-w8").unwrap().pixel_sha256 = Some("original".into());
    ws.add_series(other);
    assert!(ws.messages.last().unwrap().contains("other pixels"));
    assert_eq!(ws.project.missing.len(), 2);
    ws.add_series(support::series(
        "ct-bl",
        "20240108",
        "for-1",
        32,
        [0.5, 0.5],
        0.0,
        4,
    ));
    assert_eq!(ws.project.missing.len(), 1);
    flush(&mut ws);
    let opened = Project::open_read_only(&path).unwrap();
    let bl = opened
        .contents
        .series
        .iter()
        .find(|s| s.series_instance_uid == "ct-bl")
        .unwrap();
    assert_eq!(bl.folder, moved);
}

#[test]
fn a_newer_project_opens_read_only_and_its_file_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.nadir");
    let mut ws = workspace();
    ws.apply(Command::NewProject(path.clone()));
    track(&mut ws);
    flush(&mut ws);
    drop(ws);
    {
        let opened = Project::open(&path).unwrap();
        opened
            .project
            .execute_raw(&format!(
                "PRAGMA user_version = {}; PRAGMA journal_mode = DELETE;",
                nadir::store::current_version() + 1
            ))
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let mut ws = Workspace::default();
    ws.open_project(&path).unwrap();
    assert!(matches!(ws.project.status(), SaveStatus::ReadOnly(_)));
    assert!(ws.messages.iter().any(|m| m.contains("read-only")));
    assert_eq!(ws.patients.get("P-TEST").unwrap().lesions.len(), 1);
    ws.apply(Command::RemoveLesion("T1".into()));
    ws.apply(Command::SetBlinded(true));
    ws.poll_project();
    drop(ws);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_corrupt_project_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.nadir");
    std::fs::write(&path, b"this is not a database at all, just some text").unwrap();
    let mut ws = Workspace::default();
    let e = ws.open_project(&path).unwrap_err();
    assert!(
        e.contains("junk.nadir") && e.contains("not a Nadir project"),
        "{e}"
    );
}

#[test]
fn segmentations_are_autosaved_audited_and_refused_on_a_locked_timepoint() {
    use nadir::segment::{Mask, VoxelSize};
    use nadir::tracking::{Edit, Segmentation};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seg.nadir");
    let mut ws = workspace();
    ws.apply(Command::NewProject(path.clone()));
    track(&mut ws);
    let segmentation = |d: &str| Segmentation {
        lesion_id: "T1".into(),
        date: date(d),
        series_uid: "ct-bl".into(),
        mask: Mask::from_fn([4, 32, 32], [1, 8, 8], [2, 6, 6], |_| true),
        voxel_size: Some(VoxelSize {
            pixel_spacing_mm: [0.5, 0.5],
            slice_extent_mm: vec![5.0; 4],
        }),
        fitted_volume: None,
    };
    ws.edit(Edit::PutSegmentation(segmentation("2024-01-08")));
    ws.apply(Command::SetLock {
        date: date("2024-03-04"),
        locked: true,
    });
    ws.edit(Edit::PutSegmentation(segmentation("2024-03-04")));
    assert!(ws.messages.last().unwrap().contains("signed off"));
    // the reader reports a fitted volume for the baseline mask
    let mut fitted = segmentation("2024-01-08");
    fitted.fitted_volume = Some(nadir::tracking::FittedVolume {
        volume_ml: 0.12,
        sd_ml: 0.004,
        mask_fingerprint: nadir::tracking::mask_fingerprint(&fitted.mask),
    });
    ws.edit(Edit::PutSegmentation(fitted.clone()));
    flush(&mut ws);
    let opened = Project::open(&path).unwrap();
    let p = &opened.contents.patients[0].patient;
    assert_eq!(p.segmentations, vec![fitted]);
    assert_eq!(p.segmentations[0].volume_ml(), Some(0.12));
    let audit = opened.project.audit(Some("P-TEST"), Some("T1")).unwrap();
    let edits: Vec<&str> = audit
        .iter()
        .filter(|a| a.action == "edit")
        .map(|a| a.description.as_str())
        .collect();
    // 72 voxels of 0.5 × 0.5 × 5 mm = 0.09 ml
    assert_eq!(
        edits[edits.len() - 2..],
        [
            "segmentation volume – → 0.09 ml (72 voxels)",
            "segmentation volume 0.09 → 0.12 ml (72 voxels, ellipsoid fit)"
        ]
    );
}
