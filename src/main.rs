//! The `nadir` binary: a subcommand runs the CLI; no subcommand opens the
//! workstation (feature `gui`) on the given folder or the bundled `sample_scans`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = nadir::cli::Cli::parse();
    match &cli.command {
        Some(command) => nadir::cli::run(command),
        None => {
            let cohort = match (cli.cohort, cli.cohort_patients) {
                (Some(lesions), Some(patients)) => {
                    Some(nadir::session::CohortSource::Lesions { lesions, patients })
                }
                (Some(results), None) => Some(nadir::session::CohortSource::Results(results)),
                (None, _) => None,
            };
            open_workstation(cli.path, cli.lesions, cohort, cli.project)
        }
    }
}

#[cfg(feature = "gui")]
fn open_workstation(
    path: Option<std::path::PathBuf>,
    lesions: Option<std::path::PathBuf>,
    cohort: Option<nadir::session::CohortSource>,
    project: Option<std::path::PathBuf>,
) -> ExitCode {
    match nadir::app::run(path, lesions, cohort, project) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nadir: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "gui"))]
fn open_workstation(
    _path: Option<std::path::PathBuf>,
    _lesions: Option<std::path::PathBuf>,
    _cohort: Option<nadir::session::CohortSource>,
    _project: Option<std::path::PathBuf>,
) -> ExitCode {
    eprintln!("nadir: this build has no workstation (built without the `gui` feature); see --help");
    ExitCode::FAILURE
}
