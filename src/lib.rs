//! # Nadir — RECIST 1.1 tumour-response assessment and imaging measurement
//!
//! One crate, layered modules. Dependencies point *down* this list; the domain
//! never depends on the UI (see `docs/architecture.md` in the shared docs and
//! `tests/architecture.rs`, which enforces it):
//!
//! | layer | module | role |
//! |---|---|---|
//! | ui | `ui`, `app` (feature `gui`) | egui panels and the eframe shell |
//! | app state | [`session`] | headless app state (no egui): workspace, views, history, jobs |
//! | interaction | [`tools`] | measuring-tool state machines (no egui) |
//! | tracking | [`tracking`] | patient > timepoint, lesion, observation; undoable edits; `to_recist` |
//! | measuring | [`measure`], [`signal`] | measurements in patient space; quantities with unit and status; T2 weighting and signal trends |
//! | front ends | [`cli`] | the `nadir` subcommands |
//! | persistence | [`store`] | the `.nadir` project file (SQLite): schema, migrations, autosave writer, audit |
//! | adapters | [`dicom`], [`interchange`] | DICOM files in; CSV/JSON contract forms in and out |
//! | domain | [`cohort`], [`recist`], [`volume`], [`geom`] | pure computation |
//!
//! Only [`dicom`] names `dicom_*` crates; `recist`, `cohort` and `geom` do no I/O.

pub mod cli;
pub mod cohort;
pub mod dicom;
pub mod geom;
pub mod interchange;
pub mod measure;
pub mod recist;
pub mod segment;
pub mod session;
pub mod signal;
pub mod store;
pub mod synth;
pub mod tools;
pub mod tracking;
pub mod volume;

#[cfg(feature = "gui")]
pub mod app;
#[cfg(feature = "gui")]
pub mod ui;
