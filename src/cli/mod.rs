//! Command-line front end: `nadir inspect`, `nadir assess`, `nadir cohort`,
//! `nadir synth`, `nadir export`; with no subcommand the workstation opens (feature `gui`).
//!
//! The CLI never uses the session or UI layers: it calls the domain directly,
//! so its numbers are the ones a test or the GUI gets.

pub mod assess;
pub mod cohort;
pub mod inspect;
pub mod project;
pub mod synth;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Nadir: RECIST 1.1 tumour-response assessment and imaging measurement.
#[derive(Debug, Parser)]
#[command(name = "nadir", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; without one, the workstation opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Folder (or file, or `.nadir` project) to open in the workstation; default: the bundled `sample_scans`.
    pub path: Option<PathBuf>,
    /// Lesion table (CSV, interchange §1) to import into the workstation once
    /// the images are loaded.
    #[arg(long, value_name = "CSV")]
    pub lesions: Option<PathBuf>,
    /// Open the Cohort tab on a per-patient results CSV (interchange §4a), or,
    /// with --cohort-patients, on a lesion table (interchange §4b).
    #[arg(long, value_name = "CSV")]
    pub cohort: Option<PathBuf>,
    /// With --cohort LESIONS.csv: the patient table (patient_id, arm,
    /// start_date, optional death_date, last_contact_date).
    #[arg(long, value_name = "CSV", requires = "cohort")]
    pub cohort_patients: Option<PathBuf>,
    /// Read into this project file: opened when it exists (its images are
    /// loaded, and PATH is added to it), else created once PATH has loaded,
    /// so every gesture of the read is saved and audited.
    #[arg(long, value_name = "FILE.nadir")]
    pub project: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a folder for DICOM series, load each fully and summarise it.
    Inspect(inspect::InspectArgs),
    /// Assess RECIST 1.1 response from a lesion table (CSV).
    Assess(assess::AssessArgs),
    /// Trial statistics: ORR/DCR with exact CIs, Kaplan-Meier PFS, log-rank, Cox; plots.
    Cohort(cohort::CohortArgs),
    /// Write the synthetic sample patient, or a benchmark CT series of any size.
    Synth(synth::SynthArgs),
    /// Export the lesion table of a `.nadir` project (blinded when the project is).
    Export(project::ExportArgs),
}

/// Runs one subcommand with the process's stdout and stderr; errors become
/// a message on stderr and a non-zero exit status.
pub fn run(command: &Command) -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let result = match command {
        Command::Inspect(args) => inspect::run(args, &mut stdout.lock(), &mut stderr.lock()),
        Command::Assess(args) => assess::run(args, &mut stdout.lock(), &mut stderr.lock()),
        Command::Cohort(args) => cohort::run(args, &mut stdout.lock(), &mut stderr.lock()),
        Command::Synth(args) => synth::run(args, &mut stdout.lock()),
        Command::Export(args) => project::run_export(args, &mut stderr.lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nadir: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
