//! The first image of `sample_scans` is ready within 1 s of opening the folder
//! (scan + decode of the first series on the loading thread). Checked in
//! release builds only: a debug build decodes several times slower.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use nadir::session::{LoadEvent, LoadJob, Workspace};

#[test]
fn first_series_of_the_sample_loads_within_a_second() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans");
    let start = Instant::now();
    let mut job = LoadJob::start(&folder).unwrap();
    let mut workspace = Workspace::default();
    while workspace.series.is_empty() {
        for event in job.poll() {
            if let LoadEvent::Loaded(series) = event {
                workspace.add_series(*series);
            }
        }
        assert!(
            !job.is_finished() || !workspace.series.is_empty(),
            "nothing loaded"
        );
        assert!(start.elapsed() < Duration::from_secs(20), "stuck");
        std::thread::sleep(Duration::from_millis(1));
    }
    let elapsed = start.elapsed();
    job.cancel();
    eprintln!("first series ready after {elapsed:?}");
    assert!(
        workspace.pane_series(0).is_some(),
        "shown in the first pane"
    );
    if !cfg!(debug_assertions) {
        assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
    }
}
