//! `.nadir` projects on the command line: `nadir export PROJECT.nadir
//! --lesions OUT.csv [--blinded]`, and the lesion table of a project
//! wherever a command takes LESIONS.csv (`assess`, `cohort --lesions`).
//!
//! A project is only read here (opened read-only, never migrated or
//! written). When the project's blinded setting is on, or with `--blinded`,
//! patient IDs become the project's pseudonyms and each patient's dates are
//! shifted so that the baseline is 2000-01-01, intervals exact
//! ([`crate::tracking::describe::blind_records`]).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::interchange::lesion_table::{
    LesionTable, TableWarning, parse_lesion_table, write_lesion_table,
};
use crate::store::{Contents, Project, is_project_path};
use crate::tracking::describe::blind_records;
use crate::tracking::to_recist;

/// Arguments of `nadir export`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    /// The project file.
    #[arg(value_name = "PROJECT.nadir")]
    pub project: PathBuf,
    /// Write the lesion table (CSV, interchange §1) here.
    #[arg(long, value_name = "OUT.csv")]
    pub lesions: PathBuf,
    /// De-identify even when the project is not set to blinded reading.
    #[arg(long)]
    pub blinded: bool,
}

/// Whether the lesion table of a project is de-identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blinding {
    /// As the project's setting says.
    AsProject,
    /// Always.
    Force,
    /// Never (joining with a patient table of real IDs); the caller warns.
    Never,
}

/// The lesion table of a project, blinded as `blinding` says; returns it
/// with whether it was blinded and whether the project is set to blinded.
pub fn project_lesion_table(
    path: &Path,
    blinding: Blinding,
) -> anyhow::Result<(LesionTable, bool, bool)> {
    let opened = Project::open_read_only(path)?;
    let name = path.display().to_string();
    let mut warnings: Vec<TableWarning> = opened
        .problems
        .iter()
        .map(|p| TableWarning {
            file: name.clone(),
            line: 0,
            message: format!("read what could be read: {p}"),
        })
        .collect();
    let contents: &Contents = &opened.contents;
    let mut records = Vec::new();
    for stored in &contents.patients {
        let (r, issues) = to_recist(&stored.patient);
        records.extend(r);
        for issue in issues {
            warnings.push(TableWarning {
                file: name.clone(),
                line: 0,
                message: format!("{} at {}: {}", issue.lesion_id, issue.date, issue.message),
            });
        }
    }
    let blinded = match blinding {
        Blinding::AsProject => contents.settings.blinded,
        Blinding::Force => true,
        Blinding::Never => false,
    };
    if blinded {
        let pseudonyms: HashMap<&str, &str> = contents
            .patients
            .iter()
            .map(|p| (p.patient.id.as_str(), p.pseudonym.as_str()))
            .collect();
        records = blind_records(&records, |id| {
            pseudonyms
                .get(id)
                .map_or_else(|| "Subject ?".to_string(), |p| (*p).to_string())
        });
        // A warning about a lesion at a date would carry the real date.
        for w in &mut warnings {
            if w.message.contains(" at ") {
                w.message = "a measured lesion has no diameter in mm; not evaluable".into();
            }
        }
    }
    let lines = (2..).take(records.len()).collect();
    Ok((
        LesionTable {
            records,
            lines,
            warnings,
        },
        blinded,
        contents.settings.blinded,
    ))
}

/// Reads a lesion table from a CSV file or a `.nadir` project.
pub fn read_lesion_input(path: &Path) -> anyhow::Result<LesionTable> {
    if is_project_path(path) {
        return Ok(project_lesion_table(path, Blinding::AsProject)?.0);
    }
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    Ok(parse_lesion_table(&bytes, &name)?)
}

/// Runs `nadir export`: the lesion table to `--lesions`, remarks to `err`.
pub fn run_export(args: &ExportArgs, err: &mut dyn Write) -> anyhow::Result<()> {
    let same_file = args.lesions == args.project
        || (args.lesions.exists()
            && std::fs::canonicalize(&args.lesions).ok()
                == std::fs::canonicalize(&args.project).ok());
    if same_file || is_project_path(&args.lesions) {
        anyhow::bail!(
            "{}: will not write a lesion table over a project file; give a .csv path",
            args.lesions.display()
        );
    }
    let blinding = if args.blinded {
        Blinding::Force
    } else {
        Blinding::AsProject
    };
    let (table, blinded, _) = project_lesion_table(&args.project, blinding)?;
    for w in &table.warnings {
        writeln!(err, "warning: {w}")?;
    }
    let mut bytes = Vec::new();
    write_lesion_table(&table.records, &mut bytes)?;
    std::fs::write(&args.lesions, bytes)
        .with_context(|| format!("cannot write {}", args.lesions.display()))?;
    writeln!(
        err,
        "wrote {} rows to {}{}",
        table.records.len(),
        args.lesions.display(),
        if blinded {
            " (blinded: pseudonyms, baseline moved to 2000-01-01)"
        } else {
            ""
        }
    )?;
    Ok(())
}

/// `nadir cohort --lesions PROJECT.nadir --patients PATIENTS.csv`: the
/// project's lesion table with its real patient IDs (the patient table is
/// keyed by them); a blinded project gets a warning on `err`.
pub fn project_cohort(
    project: &Path,
    patients: &Path,
    args: &super::cohort::CohortArgs,
    err: &mut dyn Write,
) -> anyhow::Result<crate::interchange::cohort_lesions::LesionCohort> {
    let (table, _, project_blinded) = project_lesion_table(project, Blinding::Never)?;
    if project_blinded {
        writeln!(
            err,
            "warning: {} is set to blinded reading, but the cohort is joined with {} by real patient ID; \
             the output names patients as that table does",
            project.display(),
            patients.display()
        )?;
    }
    let patient_table = crate::interchange::patient_table::read_patient_dates_file(patients)?;
    let options = crate::recist::AssessOptions {
        confirm: args.confirm,
        min_sd_days: i64::from(args.min_sd_days),
    };
    crate::interchange::cohort_lesions::lesion_cohort(
        &table,
        &project.display().to_string(),
        &patient_table,
        &patients.display().to_string(),
        &options,
    )
}
