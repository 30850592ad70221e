//! `nadir assess LESIONS.csv [--json] [--confirm] [--min-sd-days N]`.
//!
//! Reads the lesion table (interchange §1), runs the RECIST 1.1 engine and
//! prints either the §2 JSON or a readable report per patient. Warnings go to
//! `err` and do not fail the command; on error nothing is written to `out`.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use crate::interchange::assess_json::AssessOutput;
use crate::recist::{AssessOptions, DEFAULT_MIN_SD_DAYS, PatientAssessment, assess_all};

/// Arguments of `nadir assess`.
#[derive(clap::Args, Debug, Clone)]
pub struct AssessArgs {
    /// Lesion table (CSV, one row per lesion per visit) or a `.nadir` project.
    #[arg(value_name = "LESIONS.csv|PROJECT.nadir")]
    pub path: PathBuf,
    /// Print the machine-readable JSON (interchange §2) instead of the report.
    #[arg(long)]
    pub json: bool,
    /// Require confirmation of CR/PR at a later assessment ≥ 28 days after.
    #[arg(long)]
    pub confirm: bool,
    /// Minimum days from baseline for SD to count as best response.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MIN_SD_DAYS,
          value_parser = clap::value_parser!(i64).range(0..))]
    pub min_sd_days: i64,
}

/// Runs `nadir assess`: output to `out`, warnings to `err`.
pub fn run(args: &AssessArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<()> {
    let file_name = args.path.display().to_string();
    // a CSV lesion table or a `.nadir` project (blinded if the project is)
    let table = super::project::read_lesion_input(&args.path)?;
    let options = AssessOptions {
        confirm: args.confirm,
        min_sd_days: args.min_sd_days,
    };
    let (patients, warnings) = assess_all(&table.records, &options);
    let text = if args.json {
        AssessOutput::from_assessments(&patients).to_json_pretty()?
    } else {
        render_report(&file_name, &patients, &options)
    };
    for warning in &table.warnings {
        writeln!(err, "warning: {warning}")?;
    }
    for warning in &warnings {
        writeln!(err, "warning: {file_name}: {warning}")?;
    }
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

fn opt_mm(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |value| format!("{value:.1}"))
}

fn opt_pct(value: Option<f64>) -> String {
    match value.map(|value| format!("{value:+.1}")) {
        None => "-".to_string(),
        Some(text) if text == "+0.0" || text == "-0.0" => "0.0".to_string(),
        Some(text) => text,
    }
}

fn opt_code(code: Option<&'static str>) -> &'static str {
    code.unwrap_or("-")
}

/// The readable report: per patient the baseline, one line per visit (sums,
/// changes, responses) with its explanation, and the best overall response.
pub fn render_report(
    file_name: &str,
    patients: &[PatientAssessment],
    options: &AssessOptions,
) -> String {
    let mut text = String::new();
    let confirmation = if options.confirm {
        "CR/PR confirmed >= 28 days later"
    } else {
        "no confirmation"
    };
    let _ = writeln!(
        text,
        "RECIST 1.1 response assessment of {file_name} ({confirmation}; SD counts from day {})",
        options.min_sd_days
    );
    for patient in patients {
        render_patient(&mut text, patient);
    }
    text
}

fn render_patient(text: &mut String, patient: &PatientAssessment) {
    let _ = writeln!(text, "\nPatient {}", patient.patient_id);
    let baseline = match (&patient.baseline_visit, patient.baseline_date) {
        (Some(visit), Some(date)) => format!("{visit} {date}"),
        _ => "none".to_string(),
    };
    let targets = if patient.has_targets() {
        format!(
            "sum {} mm over targets {}",
            opt_mm(patient.baseline_sum_mm),
            patient.target_ids.join(", ")
        )
    } else {
        "no target lesions".to_string()
    };
    let non_targets = if patient.non_target_ids.is_empty() {
        "no non-target lesions".to_string()
    } else {
        format!("non-targets {}", patient.non_target_ids.join(", "))
    };
    let _ = writeln!(text, "  Baseline {baseline}: {targets}; {non_targets}");
    if !patient.timepoints.is_empty() {
        let visit_width = patient
            .timepoints
            .iter()
            .map(|tp| tp.visit.chars().count())
            .max()
            .unwrap_or(0)
            .max(5);
        let _ = writeln!(
            text,
            "  {:<visit_width$}  {:<10}  {:>4}  {:>7}  {:>8}  {:>7}  {:>10}  {:<6}  {:<11}  {:<3}  Overall",
            "Visit",
            "Date",
            "Day",
            "Sum mm",
            "Nadir mm",
            "vs BL %",
            "vs nadir %",
            "Target",
            "Non-target",
            "New",
        );
        for tp in &patient.timepoints {
            let _ = writeln!(
                text,
                "  {:<visit_width$}  {:<10}  {:>4}  {:>7}  {:>8}  {:>7}  {:>10}  {:<6}  {:<11}  {:<3}  {}",
                tp.visit,
                tp.date.to_string(),
                tp.days_from_baseline,
                opt_mm(tp.sum_mm),
                opt_mm(tp.nadir_mm),
                opt_pct(tp.change_from_baseline_pct),
                opt_pct(tp.change_from_nadir_pct),
                opt_code(tp.target_response.map(|r| r.code())),
                opt_code(tp.non_target_response.map(|r| r.code())),
                if tp.new_lesions { "yes" } else { "no" },
                tp.overall_response.code()
            );
            let indent = visit_width + 4;
            let _ = writeln!(text, "{:indent$}{}", "", tp.explanation);
            let mut extras = Vec::new();
            if let Some(volume_ml) = tp.volume_ml {
                extras.push(format!(
                    "volume {volume_ml:.1} ml ({}% from baseline)",
                    opt_pct(tp.volume_change_from_baseline_pct)
                ));
            }
            if let Some(t2_ratio) = tp.t2_ratio {
                extras.push(format!(
                    "T2 ratio {t2_ratio:.2} ({}% from baseline)",
                    opt_pct(tp.t2_ratio_change_from_baseline_pct)
                ));
            }
            if !tp.counts_for_best_response {
                extras.push("after the first PD: not counted for best response".to_string());
            }
            if !extras.is_empty() {
                let _ = writeln!(text, "{:indent$}{}", "", extras.join("; "));
            }
        }
    }
    let best_change = patient
        .best_change_from_baseline_pct
        .map_or_else(String::new, |pct| {
            format!("; best change from baseline {}%", opt_pct(Some(pct)))
        });
    let _ = writeln!(
        text,
        "  Best overall response {}{best_change}",
        patient.best_overall_response_explanation
    );
}
