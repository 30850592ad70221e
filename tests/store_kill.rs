//! Reads are never lost: a writer process applying a deterministic stream of
//! edits through the real store (the autosave writer thread) is killed with
//! SIGKILL at random moments, many times. After every kill the file is
//! reopened: `PRAGMA integrity_check` is `ok`, the patient equals exactly
//! the state after the first k edits for some k (no half-written gesture),
//! the audit trail holds exactly the rows of those k edits, and k never goes
//! back (nothing that was on disk is lost by a later crash).
//!
//! The child is this test binary re-executed with `NADIR_KILL_CHILD` set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nadir::geom::Vec3;
use nadir::measure::{ImageRef, Length, Measurement, Shape};
use nadir::recist::{Category, Date, LesionStatus};
use nadir::store::writer::{WriteRequest, Writer};
use nadir::store::{AuditEntry, Project, StoredPatient};
use nadir::tracking::describe::describe_edit;
use nadir::tracking::{
    Edit, ExtraValues, Finding, Lesion, MeasurementId, Patient, StoredMeasurement, Timepoint,
};
use nadir::volume::plane::Plane;

const EDITS: usize = 240;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn length(mm: f64, index: usize) -> Measurement {
    Measurement {
        shape: Shape::Length(Length {
            start: Vec3::new(10.0, 20.0, index as f64 * 5.0),
            end: Vec3::new(10.0 + mm, 20.0, index as f64 * 5.0),
        }),
        image: ImageRef {
            series_instance_uid: "1.2.840.99".into(),
            sop_instance_uid: Some(format!("1.2.840.99.{index}")),
            plane: Plane::Native,
            index,
        },
        spacing_known: true,
    }
}

/// A deterministic stream of valid edits (gestures), with the patient
/// state after each: `states[k]` is the state after the first k edits.
fn stream() -> (Vec<Edit>, Vec<Patient>) {
    let mut rng = Lcg(20_241_121);
    let mut p = Patient::new("KILL-001");
    let mut edits = Vec::new();
    let mut states = vec![p.clone()];
    let dates: Vec<Date> = ["2024-01-08", "2024-03-04", "2024-04-29", "2024-06-24"]
        .iter()
        .map(|d| Date::parse_iso(d).unwrap())
        .collect();
    let mut next_id = 0u64;
    while edits.len() < EDITS {
        let edit = if edits.len() < dates.len() {
            Edit::PutTimepoint(Timepoint {
                date: dates[edits.len()],
                visit: None,
            })
        } else {
            let date = dates[rng.below(dates.len() as u64) as usize];
            match rng.below(7) {
                0 | 1 => {
                    next_id += 1;
                    let measurement = StoredMeasurement {
                        id: MeasurementId(next_id),
                        date,
                        measurement: length(10.0 + rng.below(400) as f64 / 10.0, next_id as usize),
                    };
                    if rng.below(2) == 0 {
                        let lesion = format!("T{next_id}");
                        Edit::Batch(vec![
                            Edit::AddMeasurement(measurement),
                            Edit::PutLesion(Lesion {
                                id: lesion.clone(),
                                category: Category::Target,
                                organ: "liver".into(),
                                lymph_node: false,
                            }),
                            Edit::SetObservation {
                                lesion_id: lesion,
                                date,
                                finding: Some(Finding::Measured(MeasurementId(next_id))),
                            },
                        ])
                    } else {
                        Edit::AddMeasurement(measurement)
                    }
                }
                2 | 3 => match p
                    .measurements
                    .get(rng.below(p.measurements.len() as u64) as usize)
                {
                    Some(m) => Edit::SetShape {
                        id: m.id,
                        shape: length(5.0 + rng.below(500) as f64 / 10.0, 1).shape,
                    },
                    None => continue,
                },
                4 => match p.lesions.get(rng.below(p.lesions.len() as u64) as usize) {
                    Some(l) => Edit::SetObservation {
                        lesion_id: l.id.clone(),
                        date,
                        finding: Some(if rng.below(2) == 0 {
                            Finding::Entered {
                                long_axis_mm: Some(rng.below(600) as f64 / 10.0),
                                short_axis_mm: None,
                                extra: ExtraValues::default(),
                            }
                        } else {
                            Finding::Stated(LesionStatus::TooSmall)
                        }),
                    },
                    None => continue,
                },
                5 => match p
                    .measurements
                    .get(rng.below(p.measurements.len() as u64) as usize)
                {
                    Some(m) if rng.below(3) == 0 => Edit::RemoveMeasurement(m.id),
                    _ => continue,
                },
                _ => match p.lesions.get(rng.below(p.lesions.len() as u64) as usize) {
                    Some(l) if rng.below(4) == 0 => Edit::RemoveLesion(l.id.clone()),
                    Some(l) => Edit::PutLesion(Lesion {
                        organ: format!("organ {}", rng.below(9)),
                        ..l.clone()
                    }),
                    None => continue,
                },
            }
        };
        let mut next = p.clone();
        if next.apply(edit.clone()).is_err() {
            continue;
        }
        p = next;
        edits.push(edit);
        states.push(p.clone());
    }
    (edits, states)
}

fn audit_of(before: &Patient, edit: &Edit) -> Vec<AuditEntry> {
    AuditEntry::for_edit(&before.id, "edit", &describe_edit(before, edit), edit)
}

fn same(a: &Patient, b: &Patient) -> bool {
    a.id == b.id
        && a.timepoints == b.timepoints
        && a.lesions == b.lesions
        && a.measurements == b.measurements
        && a.observations == b.observations
}

/// The child: opens the project, checks it holds `states[start]`, then
/// sends the remaining edits to the autosave writer as fast as it can.
#[test]
fn kill_child() {
    let Ok(path) = std::env::var("NADIR_KILL_CHILD") else {
        return;
    };
    let start: usize = std::env::var("NADIR_KILL_START").unwrap().parse().unwrap();
    let (edits, states) = stream();
    let opened = Project::open(Path::new(&path)).unwrap();
    let mut p = opened
        .contents
        .patients
        .first()
        .map(|s| s.patient.clone())
        .unwrap_or_else(|| Patient::new("KILL-001"));
    assert!(same(&p, &states[start]));
    let mut writer = Writer::start(opened.project).unwrap();
    for edit in &edits[start..] {
        let audit = audit_of(&p, edit);
        p.apply(edit.clone()).unwrap();
        writer.send(
            "child",
            WriteRequest::SavePatient {
                patient: StoredPatient {
                    patient: p.clone(),
                    pseudonym: "Subject 1".into(),
                },
                audit,
            },
        );
        // a reader's pace, faster than any reader: the writer lags behind
        std::thread::sleep(Duration::from_micros(300));
    }
    writer.flush(Duration::from_secs(60));
    println!("CHILD-DONE");
}

#[test]
fn sigkill_at_random_moments_loses_at_most_the_gesture_in_progress() {
    const KILLS: usize = 40;
    let (edits, states) = stream();
    let audit_rows: Vec<usize> = {
        let mut counts = vec![0];
        for (k, edit) in edits.iter().enumerate() {
            counts.push(counts[k] + audit_of(&states[k], edit).len());
        }
        counts
    };
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = Lcg(7);
    let (mut kills, mut mid_stream, mut runs, mut completed) = (0, 0, 0, 0);
    let started = Instant::now();
    let mut round = 0;
    let mut path = dir.path().join("kill-0.nadir");
    drop(Project::create(&path).unwrap());
    let mut k = 0;
    // Until enough kills have landed: a stream that completes starts over
    // on a new file, so a fast disk cannot make the test vacuous.
    while (kills < KILLS || completed == 0) && runs < 600 {
        runs += 1;
        if k == EDITS {
            completed += 1;
            round += 1;
            path = dir.path().join(format!("kill-{round}.nadir"));
            drop(Project::create(&path).unwrap());
            k = 0;
        }
        let mut child = Command::new(&exe)
            .args(["--exact", "kill_child", "--nocapture", "--test-threads=1"])
            .env("NADIR_KILL_CHILD", &path)
            .env("NADIR_KILL_START", k.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // mostly early (mid-stream), now and then late enough to finish
        let spread = if runs % 10 == 0 { 2_000_000 } else { 40_000 };
        std::thread::sleep(Duration::from_micros(2_000 + rng.below(spread)));
        let killed = child.try_wait().unwrap().is_none();
        if killed {
            child.kill().unwrap(); // SIGKILL on Unix
            kills += 1;
        }
        child.wait().unwrap();
        let opened = Project::open(&path).unwrap();
        assert!(opened.problems.is_empty(), "{:?}", opened.problems);
        assert_eq!(opened.project.integrity_check().unwrap(), "ok");
        let on_disk = opened
            .contents
            .patients
            .first()
            .map(|s| s.patient.clone())
            .unwrap_or_else(|| Patient::new("KILL-001"));
        // An edit may leave the state as it was (e.g. a lesion put back
        // unchanged), so k is fixed by the state and the audit rows together.
        let audit = opened.project.audit(None, None).unwrap();
        let found =
            (k..=EDITS).find(|&j| same(&on_disk, &states[j]) && audit.len() == audit_rows[j]);
        let Some(found) = found else {
            let by_state: Vec<(usize, usize)> = (k..=EDITS)
                .filter(|&j| same(&on_disk, &states[j]))
                .map(|j| (j, audit_rows[j]))
                .collect();
            panic!(
                "after run {runs}: the file holds no prefix at or after edit {k}: \
                 {} audit rows; states equal at (edit, audit rows) {by_state:?}",
                audit.len()
            );
        };
        if killed && found > 0 && found < EDITS {
            mid_stream += 1;
        }
        k = found;
    }
    eprintln!(
        "{runs} runs, {kills} SIGKILLs ({mid_stream} mid-stream), {completed} streams of {EDITS} edits completed, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(kills >= KILLS, "only {kills} kills landed");
    assert!(
        mid_stream >= KILLS / 2,
        "only {mid_stream} kills landed mid-stream"
    );
    assert!(completed >= 1, "no stream completed");
}

/// Per-edit save time on a realistic patient (`cargo test --release --test
/// store_kill -- --ignored --nocapture save_time`): as shipped
/// (`synchronous=FULL`, one fsync per edit), and without the fsync to show
/// what the rewrite itself costs.
#[test]
#[ignore]
fn save_time() {
    let (edits, states) = stream();
    let dir = tempfile::tempdir().unwrap();
    for (name, pragma) in [
        ("FULL (as shipped)", None),
        ("OFF (no fsync)", Some("PRAGMA synchronous = OFF")),
    ] {
        let mut project =
            Project::create(&dir.path().join(format!("t{}.nadir", pragma.is_some()))).unwrap();
        if let Some(sql) = pragma {
            project.execute_raw(sql).unwrap();
        }
        let mut times = Vec::new();
        for (k, edit) in edits.iter().enumerate() {
            let audit = audit_of(&states[k], edit);
            let t = Instant::now();
            project
                .save_patient(
                    &StoredPatient {
                        patient: states[k + 1].clone(),
                        pseudonym: "S".into(),
                    },
                    &audit,
                    "t",
                )
                .unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let last = &states[EDITS];
        times.sort_by(f64::total_cmp);
        println!(
            "synchronous={name}: per-edit save over {} edits (patient at the end: {} measurements, {} lesions, {} observations): median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            times.len(),
            last.measurements.len(),
            last.lesions.len(),
            last.observations.len(),
            times[times.len() / 2],
            times[times.len() * 95 / 100],
            times[times.len() - 1]
        );
    }
}
