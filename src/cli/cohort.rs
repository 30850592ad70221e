//! `nadir cohort`: trial statistics for one or more arms (interchange §4).
//!
//! Input (a): `nadir cohort PATIENTS.csv` with one row per patient.
//! Input (b): `nadir cohort --lesions LESIONS.csv --patients PATIENTS.csv`,
//! where the RECIST engine derives best response, best change and the PFS /
//! response dates ([`outcomes_from_lesions`]). Output: a readable table per
//! arm, or the JSON of interchange §4 with `--json`; `--plots DIR` writes the
//! waterfall, swimmer, spider (b only) and KM plots as PNG and SVG.

use crate::cohort::plots_render::{PlotInput, render_cohort_plots};
use crate::cohort::series::SpiderSeries;
use crate::cohort::{CohortOptions, CohortReport, PatientOutcome, cohort_report};
use crate::interchange::cohort_json::cohort_json_string;
use crate::interchange::patient_table::read_patient_outcomes_file;
use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `nadir cohort`.
#[derive(clap::Args, Debug, Clone, PartialEq)]
pub struct CohortArgs {
    /// Per-patient results CSV (patient_id, arm, best_response, best_change_pct,
    /// pfs_months, progressed, ttr_months).
    #[arg(value_name = "PATIENTS.csv", conflicts_with = "lesions")]
    pub patients: Option<PathBuf>,
    /// Lesion table (as for `nadir assess`); needs --patients with the patient dates.
    #[arg(long, value_name = "LESIONS.csv", requires = "patient_dates")]
    pub lesions: Option<PathBuf>,
    /// With --lesions: patient table (patient_id, arm, start_date, optional
    /// death_date, last_contact_date).
    #[arg(long = "patients", value_name = "PATIENTS.csv", requires = "lesions")]
    pub patient_dates: Option<PathBuf>,
    /// Print the JSON of interchange §4 instead of the table.
    #[arg(long)]
    pub json: bool,
    /// With --lesions: PR/CR need confirmation ≥ 28 days later.
    #[arg(long)]
    pub confirm: bool,
    /// With --lesions: minimum days from baseline for SD to count as best response.
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub min_sd_days: u32,
    /// Reference arm of the comparison (default: the first arm in the file).
    #[arg(long, value_name = "ARM")]
    pub reference_arm: Option<String>,
    /// Experimental arm of the comparison (default: the first other arm).
    #[arg(long, value_name = "ARM")]
    pub experimental_arm: Option<String>,
    /// Landmark times for PFS rates, months, comma-separated.
    #[arg(long, value_name = "MONTHS", value_delimiter = ',', default_values_t = [12.0, 24.0])]
    pub landmarks: Vec<f64>,
    /// Write waterfall, swimmer, spider (with --lesions) and km plots (.png and .svg) here.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
}

/// What input path (b) yields: the per-patient records plus the spider series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LesionCohort {
    /// One record per patient.
    pub outcomes: Vec<PatientOutcome>,
    /// % change over time per patient, baseline (0, 0) included.
    pub spider: Vec<SpiderSeries>,
    /// Non-fatal remarks to print.
    pub warnings: Vec<String>,
}

/// Input path (b): derives the per-patient records from the lesion table and
/// the patient table.
///
/// To wire: read LESIONS.csv with the lesion-table reader, run the RECIST engine
/// per patient with `confirm` / `min_sd_days`, read the patient table
/// (`patient_id`, `arm`, `start_date`, optional `death_date`,
/// `last_contact_date`), then per patient build
/// [`crate::cohort::dates::PatientDates`] (first PD date, first CR/PR date, last
/// assessment date) and call [`crate::cohort::dates::pfs_from_dates`]; the best
/// response and best change come from the engine; spider points are
/// (days since start / 30.4375, change_from_baseline_pct) per time point.
pub fn outcomes_from_lesions(
    lesions: &Path,
    patients: &Path,
    confirm: bool,
    min_sd_days: u32,
) -> anyhow::Result<LesionCohort> {
    let _ = (confirm, min_sd_days);
    bail!(
        "nadir cohort --lesions {} --patients {}: input from the lesion table is not yet wired \
         to the RECIST engine; give a per-patient results CSV instead",
        lesions.display(),
        patients.display()
    )
}

/// Runs `nadir cohort`: results to `out`, remarks (warnings, plot files) to `err`.
pub fn run(args: &CohortArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<()> {
    let (outcomes, spider) = match (&args.patients, &args.lesions, &args.patient_dates) {
        (Some(path), None, None) => {
            if args.confirm || args.min_sd_days != 42 {
                writeln!(
                    err,
                    "warning: --confirm and --min-sd-days only apply with --lesions; ignored"
                )?;
            }
            let table = read_patient_outcomes_file(path)?;
            for warning in &table.warnings {
                writeln!(err, "warning: {warning}")?;
            }
            (table.outcomes, None)
        }
        (None, Some(lesions), Some(patients)) => {
            let cohort = outcomes_from_lesions(lesions, patients, args.confirm, args.min_sd_days)?;
            for warning in &cohort.warnings {
                writeln!(err, "warning: {warning}")?;
            }
            (cohort.outcomes, Some(cohort.spider))
        }
        (Some(_), Some(_), _) => {
            bail!(
                "give either PATIENTS.csv or --lesions LESIONS.csv --patients PATIENTS.csv, not both"
            )
        }
        (None, Some(_), None) => {
            bail!("--lesions needs --patients PATIENTS.csv (the patient dates)")
        }
        (_, None, Some(_)) => bail!(
            "--patients is the patient table of --lesions; for per-patient results give the file \
             without --patients: nadir cohort PATIENTS.csv"
        ),
        (None, None, None) => bail!(
            "no input: give PATIENTS.csv (per-patient results) or --lesions LESIONS.csv --patients PATIENTS.csv"
        ),
    };

    let options = CohortOptions {
        reference_arm: args.reference_arm.clone(),
        experimental_arm: args.experimental_arm.clone(),
        landmarks_months: args.landmarks.clone(),
    };
    let report = cohort_report(&outcomes, &options).context("cannot analyse the cohort")?;

    if let Some(dir) = &args.plots {
        write_plots(dir, &outcomes, &report, spider.as_deref(), err)?;
    }

    if args.json {
        let text = cohort_json_string(&report).context("cannot serialise the report")?;
        writeln!(out, "{text}")?;
    } else {
        out.write_all(report_text(&report).as_bytes())?;
    }
    Ok(())
}

fn write_plots(
    dir: &Path,
    outcomes: &[PatientOutcome],
    report: &CohortReport,
    spider: Option<&[SpiderSeries]>,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    let plots = render_cohort_plots(&PlotInput {
        outcomes,
        report,
        spider,
    })
    .context("cannot render the plots")?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the plot directory {}", dir.display()))?;
    for plot in plots {
        for (extension, bytes) in [("png", plot.png.as_slice()), ("svg", plot.svg.as_bytes())] {
            let path = dir.join(format!("{}.{extension}", plot.name));
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(err, "wrote {}", path.display())?;
        }
    }
    Ok(())
}

/// The readable (non-JSON) report: one block per arm, the pooled rates and
/// the comparison.
pub fn report_text(report: &CohortReport) -> String {
    let mut text = String::new();
    for arm in &report.arms {
        let counts = arm.response_counts;
        text.push_str(&format!("Arm {} (n = {})\n", arm.arm, arm.n));
        text.push_str(&format!(
            "  Best response      CR {}  PR {}  SD {}  PD {}  NE {}\n",
            counts.cr, counts.pr, counts.sd, counts.pd, counts.ne
        ));
        text.push_str(&format!("  ORR                {}\n", rate_text(&arm.orr)));
        text.push_str(&format!("  DCR                {}\n", rate_text(&arm.dcr)));
        let change = arm.best_change;
        text.push_str(&format!(
            "  Best change        n {}, mean {}, median {}, range {} to {}\n",
            change.n,
            pct(change.mean),
            pct(change.median),
            pct(change.min),
            pct(change.max)
        ));
        let ttr = arm.time_to_response;
        text.push_str(&format!(
            "  Time to response   n {}, median {} (IQR {} to {}) months\n",
            ttr.n,
            months(ttr.median),
            months(ttr.q1),
            months(ttr.q3)
        ));
        let median = arm.pfs.median;
        text.push_str(&format!(
            "  PFS                {} events; median {} months (95% CI {} to {})\n",
            arm.pfs.km.events(),
            months_nr(median.estimate),
            months_nr(median.ci_lower),
            months_nr(median.ci_upper)
        ));
        for landmark in &arm.pfs.landmarks {
            text.push_str(&format!(
                "  {:<18} {}\n",
                format!("PFS at {} months", trim_number(landmark.time_months)),
                match landmark.surv {
                    None => "not estimable (beyond the last follow-up)".to_string(),
                    Some(surv) => format!(
                        "{} (95% CI {} to {})",
                        pct(Some(100.0 * surv)),
                        pct(landmark.ci_lower.map(|v| 100.0 * v)),
                        pct(landmark.ci_upper.map(|v| 100.0 * v))
                    ),
                }
            ));
        }
        text.push('\n');
    }
    let overall = &report.overall;
    text.push_str(&format!("All arms (n = {})\n", overall.n));
    text.push_str(&format!(
        "  ORR                {}\n",
        rate_text(&overall.orr)
    ));
    text.push_str(&format!(
        "  DCR                {}\n",
        rate_text(&overall.dcr)
    ));
    if let Some(comparison) = &report.comparison {
        let test = &comparison.logrank;
        text.push_str(&format!(
            "\n{} vs {} (reference)\n",
            comparison.experimental_arm, comparison.reference_arm
        ));
        text.push_str(&format!(
            "  Log-rank           chi-square {} (1 df), p {}; observed/expected {} {}/{}, {} {}/{}\n",
            number(test.chisq, 3),
            p_text(test.p),
            comparison.reference_arm,
            trim_number(test.observed_reference),
            number(Some(test.expected_reference), 2),
            comparison.experimental_arm,
            trim_number(test.observed_experimental),
            number(Some(test.expected_experimental), 2),
        ));
        match &comparison.cox {
            Some(cox) => text.push_str(&format!(
                "  Cox hazard ratio   {} (95% CI {} to {}), Wald p {}\n",
                number(Some(cox.hr), 3),
                number(Some(cox.ci_lower), 3),
                number(Some(cox.ci_upper), 3),
                p_text(Some(cox.wald_p))
            )),
            None => text.push_str(
                "  Cox hazard ratio   not estimable (an arm has no events while the other is at risk)\n",
            ),
        }
    }
    text
}

fn rate_text(rate: &crate::cohort::binomial::RateEstimate) -> String {
    format!(
        "{}/{} = {} (95% CI {} to {})",
        rate.x,
        rate.n,
        pct(Some(100.0 * rate.rate)),
        pct(Some(100.0 * rate.ci_lower)),
        pct(Some(100.0 * rate.ci_upper))
    )
}

fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.1}%"))
}

fn months(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

fn months_nr(value: Option<f64>) -> String {
    value.map_or_else(|| "NR".to_string(), |v| format!("{v:.2}"))
}

fn number(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "-".to_string(), |v| format!("{v:.decimals$}"))
}

fn trim_number(value: f64) -> String {
    format!("{value}")
}

fn p_text(p: Option<f64>) -> String {
    match p {
        None => "-".to_string(),
        Some(p) if p < 0.001 => "< 0.001".to_string(),
        Some(p) => format!("{p:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: CohortArgs,
    }

    #[test]
    fn defaults() {
        let cli = Cli::try_parse_from(["cohort", "p.csv"]).unwrap();
        assert_eq!(cli.args.patients, Some(PathBuf::from("p.csv")));
        assert_eq!(cli.args.landmarks, vec![12.0, 24.0]);
        assert_eq!(cli.args.min_sd_days, 42);
        assert!(!cli.args.json && !cli.args.confirm);
    }

    #[test]
    fn landmarks_and_arms() {
        let cli = Cli::try_parse_from([
            "cohort",
            "p.csv",
            "--landmarks",
            "6,18.5",
            "--reference-arm",
            "A",
            "--experimental-arm",
            "B",
            "--json",
            "--plots",
            "out",
        ])
        .unwrap();
        assert_eq!(cli.args.landmarks, vec![6.0, 18.5]);
        assert_eq!(cli.args.reference_arm.as_deref(), Some("A"));
        assert_eq!(cli.args.experimental_arm.as_deref(), Some("B"));
        assert_eq!(cli.args.plots, Some(PathBuf::from("out")));
    }

    #[test]
    fn lesions_need_patients_and_exclude_positional() {
        assert!(Cli::try_parse_from(["cohort", "--lesions", "l.csv"]).is_err());
        assert!(
            Cli::try_parse_from([
                "cohort",
                "p.csv",
                "--lesions",
                "l.csv",
                "--patients",
                "d.csv"
            ])
            .is_err()
        );
        let cli = Cli::try_parse_from([
            "cohort",
            "--lesions",
            "l.csv",
            "--patients",
            "d.csv",
            "--confirm",
        ])
        .unwrap();
        assert_eq!(cli.args.patient_dates, Some(PathBuf::from("d.csv")));
        assert!(cli.args.confirm);
    }

    #[test]
    fn lesion_input_is_not_yet_wired() {
        let cli =
            Cli::try_parse_from(["cohort", "--lesions", "l.csv", "--patients", "d.csv"]).unwrap();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let error = run(&cli.args, &mut out, &mut err).unwrap_err();
        assert!(error.to_string().contains("not yet wired"), "{error}");
    }

    #[test]
    fn no_input_is_an_error() {
        let cli = Cli::try_parse_from(["cohort"]).unwrap();
        let error = run(&cli.args, &mut Vec::new(), &mut Vec::new()).unwrap_err();
        assert!(error.to_string().contains("no input"));
    }
}
