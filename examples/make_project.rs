//! Builds a `.nadir` project the way the workstation does, without a window:
//! loads a folder, imports a lesion table, saves the session as a project
//! (autosave from then on), edits a measurement-free finding and signs off
//! the baseline, so the audit trail has something to show.
//!
//! ```sh
//! cargo run --example make_project -- sample_scans sample_scans/lesions.csv /tmp/study.nadir
//! nadir /tmp/study.nadir
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::Duration;

use nadir::recist::Date;
use nadir::session::{Command, LoadEvent, LoadJob, Workspace};
use nadir::tracking::Finding;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [folder, lesions, project] = args.as_slice() else {
        eprintln!("usage: make_project FOLDER LESIONS.csv PROJECT.nadir");
        std::process::exit(2);
    };
    let folder = PathBuf::from(folder);
    let mut ws = Workspace::default();
    ws.project.load_root = Some(std::fs::canonicalize(&folder).unwrap());
    let mut job = LoadJob::start(&folder).unwrap();
    while !job.is_finished() {
        for event in job.poll() {
            if let LoadEvent::Loaded(series) = event {
                ws.add_series(*series);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for event in job.poll() {
        if let LoadEvent::Loaded(series) = event {
            ws.add_series(*series);
        }
    }
    ws.apply(Command::NewProject(PathBuf::from(project)));
    ws.apply(Command::ImportLesionTable(PathBuf::from(lesions)));
    // a reader's corrections at W8, then the baseline is signed off
    let w8 = Date::parse_iso("2024-03-04").unwrap();
    let extra = match ws.current_patient().and_then(|p| p.finding("T2", w8)) {
        Some(Finding::Entered { extra, .. }) => *extra,
        _ => Default::default(),
    };
    for mm in [36.0, 35.5] {
        ws.apply(Command::SetFinding {
            lesion_id: "T2".into(),
            date: w8,
            finding: Some(Finding::Entered {
                long_axis_mm: Some(mm),
                short_axis_mm: Some(27.0),
                extra,
            }),
        });
    }
    ws.apply(Command::SetLock {
        date: Date::parse_iso("2024-01-08").unwrap(),
        locked: true,
    });
    ws.project.flush(Duration::from_secs(20));
    ws.poll_project();
    for m in &ws.messages {
        println!("{m}");
    }
}
