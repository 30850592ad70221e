//! Synthetic series for the workstation tests: known spacing, dates and
//! frames of reference, a bright disc as the "lesion".
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use nadir::dicom::LoadedSeries;
use nadir::volume::{PatientIdentity, SeriesMeta, Volume};

/// `../shared/dicom`, or the folder named by `NADIR_SHARED_DICOM`. Missing
/// data fails under CI and skips (loudly) elsewhere.
pub fn shared_dicom() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("NADIR_SHARED_DICOM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/dicom")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing: real-data tests must run in CI",
        dir.display()
    );
    eprintln!("SKIPPED: {} not found", dir.display());
    None
}

/// A CT-like series of `slices` × `size` × `size` with pixel spacing
/// [row, column] and slices 5 mm apart starting at `z0`.
pub fn series(
    uid: &str,
    date: &str,
    frame_of_reference: &str,
    size: usize,
    spacing: [f64; 2],
    z0: f64,
    slices: usize,
) -> LoadedSeries {
    let voxels = ndarray::Array3::from_shape_fn((slices, size, size), |(_, r, c)| {
        let (dr, dc) = (r as f64 - size as f64 / 2.0, c as f64 - size as f64 / 2.0);
        if dr * dr + dc * dc < (size as f64 / 6.0).powi(2) {
            1100
        } else {
            1000
        }
    });
    let mut volume = Volume::axial_hu(voxels, spacing, z0, 5.0);
    volume.geometry.frame_of_reference_uid = Some(frame_of_reference.to_string());
    volume.meta = SeriesMeta {
        series_instance_uid: uid.to_string(),
        study_instance_uid: format!("study-{date}"),
        modality: "CT".into(),
        series_description: format!("CT {date}"),
        series_number: Some(1),
        study_date: date.to_string(),
        slice_thickness_mm: Some(5.0),
        patient: PatientIdentity {
            name: "TEST^PATIENT".into(),
            id: "P-TEST".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    volume.instances_in_order = (0..slices).map(|i| format!("{uid}.{i}")).collect();
    LoadedSeries {
        volume: volume.into(),
        stats: None,
        pixel_sha256: None,
        warnings: Vec::new(),
        skipped: Vec::new(),
    }
}

/// The whole of `sample_scans/` loaded into a fresh workspace (all six series),
/// through the same background loader the workstation uses.
pub fn sample_workspace() -> nadir::session::Workspace {
    use nadir::session::{LoadEvent, LoadJob, Workspace};
    use std::time::{Duration, Instant};
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans");
    let mut job = LoadJob::start(&folder).unwrap();
    let mut workspace = Workspace::default();
    let start = Instant::now();
    loop {
        let finished = job.is_finished();
        for event in job.poll() {
            if let LoadEvent::Loaded(series) = event {
                workspace.add_series(*series);
            }
        }
        if finished {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(120), "stuck loading");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(workspace.series.len(), 6, "{:?}", workspace.skipped);
    workspace
}

/// `sample_scans/truth.json`.
pub fn sample_truth() -> serde_json::Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans/truth.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The workstation under egui_kittest: the real panels, commands applied
/// to the session after each frame, as the app does.
#[cfg(feature = "gui")]
pub mod ui {
    use egui::Pos2;
    use egui_kittest::Harness;
    use nadir::session::Workspace;
    use nadir::ui::{UiState, workstation_ui};

    /// The app state the harness drives.
    pub struct App {
        /// The session.
        pub workspace: Workspace,
        /// The UI state.
        pub ui: UiState,
    }

    /// A 1600 × 1000 harness around `workspace`.
    pub fn harness(workspace: Workspace) -> Harness<'static, App> {
        harness_polling(workspace, |_| {})
    }

    /// A 1600 × 1000 harness around `workspace` that also runs `poll` on
    /// the session after each frame (as the app polls its background jobs).
    pub fn harness_polling(
        workspace: Workspace,
        poll: fn(&mut Workspace),
    ) -> Harness<'static, App> {
        Harness::builder()
            .with_size(egui::vec2(1600.0, 1000.0))
            .build_ui_state(
                move |ui, app: &mut App| {
                    let commands = workstation_ui(ui, &app.workspace, &mut app.ui);
                    for c in commands {
                        app.workspace.apply(c);
                    }
                    poll(&mut app.workspace);
                },
                App {
                    workspace,
                    ui: UiState::default(),
                },
            )
    }

    /// Screen point of plane pixel (u, v) in pane `pane` (drawn at least once).
    pub fn screen(h: &Harness<'_, App>, pane: usize, u: f64, v: f64) -> Pos2 {
        h.state().ui.panes[pane]
            .last_map
            .expect("pane drawn")
            .screen_from_plane(u, v)
    }

    /// A left-button drag from `from` to `to` in four frames.
    pub fn drag(h: &mut Harness<'_, App>, from: Pos2, to: Pos2) {
        h.hover_at(from);
        h.drag_at(from);
        h.run();
        h.hover_at(from + (to - from) * 0.5);
        h.run();
        h.hover_at(to);
        h.run();
        h.drop_at(to);
        h.run();
    }
}
