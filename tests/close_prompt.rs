//! Closing never loses reads silently: with lesions that live only in the
//! session (no project) the close is cancelled and the reader is asked; an
//! empty session or a saved project closes at once; "Keep Nadir open"
//! dismisses the prompt and "Quit and lose them" lets the next close through.
#![cfg(feature = "gui")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use egui_kittest::kittest::Queryable;
use nadir::recist::Category;
use nadir::session::Workspace;
use nadir::tracking::{Edit, Lesion};
use nadir::ui::project::{ProjectUi, close_needs_prompt};

/// A session with one loaded series and nothing read.
fn with_a_series() -> Workspace {
    let mut ws = Workspace::default();
    ws.add_series(support::series(
        "s1",
        "20240108",
        "f1",
        64,
        [0.5, 0.5],
        0.0,
        4,
    ));
    ws
}

fn with_a_lesion() -> Workspace {
    let mut ws = with_a_series();
    ws.edit(Edit::PutLesion(Lesion {
        id: "T1".into(),
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    }));
    ws
}

#[test]
fn an_empty_session_closes_at_once() {
    let ws = with_a_series();
    let mut state = ProjectUi::default();
    assert!(ws.unsaved_work().is_none());
    assert!(!close_needs_prompt(&ws, &mut state));
}

#[test]
fn reads_without_a_project_are_not_lost_silently() {
    let ws = with_a_lesion();
    assert!(ws.unsaved_work().unwrap().contains("not in a project file"));
    let mut state = ProjectUi::default();
    assert!(close_needs_prompt(&ws, &mut state));
    assert!(state.close_prompt);
    // The reader chose to quit anyway: the next close goes through.
    state.allow_close = true;
    assert!(!close_needs_prompt(&ws, &mut state));
}

#[test]
fn reads_saved_in_a_project_close_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = with_a_lesion();
    ws.apply(nadir::session::Command::NewProject(
        dir.path().join("p.nadir"),
    ));
    ws.project.flush(std::time::Duration::from_secs(10));
    assert!(ws.unsaved_work().is_none(), "{:?}", ws.unsaved_work());
}

#[test]
fn the_prompt_offers_save_keep_and_quit() {
    let mut h = support::ui::harness(with_a_lesion());
    h.state_mut().ui.project.close_prompt = true;
    h.run();
    assert!(h.query_by_label_contains("not in a project file").is_some());
    assert!(h.query_by_label("Save as project…").is_some());
    assert!(h.query_by_label("Quit and lose them").is_some());
    h.get_by_label("Keep Nadir open").click();
    h.run();
    assert!(!h.state().ui.project.close_prompt);
    assert!(h.query_by_label("Quit and lose them").is_none());
}
