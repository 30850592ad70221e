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
    /// Lesion table (as for `nadir assess`) or a `.nadir` project; needs --patients with the patient dates.
    #[arg(
        long,
        value_name = "LESIONS.csv|PROJECT.nadir",
        requires = "patient_dates"
    )]
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

pub use crate::interchange::cohort_lesions::{LesionCohort, lesion_cohort, outcomes_from_lesions};

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
            let cohort = if crate::store::is_project_path(lesions) {
                super::project::project_cohort(lesions, patients, args, err)?
            } else {
                outcomes_from_lesions(lesions, patients, args.confirm, args.min_sd_days)?
            };
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
    use crate::cohort::BestResponse;
    use crate::cohort::series::SpiderPoint;
    use crate::interchange::lesion_table::parse_lesion_table;
    use crate::recist::AssessOptions;
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
    fn missing_lesion_file_is_an_error_naming_it() {
        let cli = Cli::try_parse_from([
            "cohort",
            "--lesions",
            "/nonexistent/l.csv",
            "--patients",
            "d.csv",
        ])
        .unwrap();
        let mut out = Vec::new();
        let error = run(&cli.args, &mut out, &mut Vec::new()).unwrap_err();
        assert!(
            format!("{error:#}").contains("cannot read /nonexistent/l.csv"),
            "{error:#}"
        );
        assert!(out.is_empty());
    }

    const LESION_HEADER: &str =
        "patient_id,visit,date,lesion_id,category,organ,long_axis_mm,status\n";
    const DATES_HEADER: &str = "patient_id,arm,start_date,death_date,last_contact_date\n";

    /// Input path (b) on in-memory tables (`l.csv`, `d.csv`).
    fn derive(
        lesion_rows: &str,
        patient_rows: &str,
        confirm: bool,
    ) -> anyhow::Result<LesionCohort> {
        let lesions =
            parse_lesion_table(format!("{LESION_HEADER}{lesion_rows}").as_bytes(), "l.csv")?;
        let patients = crate::interchange::patient_table::read_patient_dates(
            format!("{DATES_HEADER}{patient_rows}").as_bytes(),
            "d.csv",
        )?;
        let options = AssessOptions {
            confirm,
            ..AssessOptions::default()
        };
        lesion_cohort(&lesions, "l.csv", &patients, "d.csv", &options)
    }

    /// One patient P with target T1 (`date,mm` per visit, the first is baseline).
    fn single_target(visits: &[(&str, &str)]) -> String {
        visits
            .iter()
            .enumerate()
            .map(|(index, (date, mm))| {
                let status = if mm.is_empty() {
                    "not_evaluable"
                } else {
                    "measured"
                };
                format!("P,V{index},{date},T1,target,liver,{mm},{status}\n")
            })
            .collect()
    }

    fn months(days: i64) -> f64 {
        days as f64 / 30.4375
    }

    fn only(cohort: &LesionCohort) -> &PatientOutcome {
        assert_eq!(cohort.outcomes.len(), 1);
        &cohort.outcomes[0]
    }

    #[test]
    fn first_pd_is_the_event_and_months_count_from_start() {
        // Start 2024-01-10; baseline 2024-01-08 (before start); PD 2024-03-10 (day 60).
        let lesions = single_target(&[("2024-01-08", "50"), ("2024-03-10", "61")]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap();
        let outcome = only(&cohort);
        assert_eq!(outcome.best_response, BestResponse::Pd);
        assert!(outcome.progressed);
        assert_eq!(outcome.pfs_months, months(60));
        assert_eq!(outcome.ttr_months, None);
    }

    #[test]
    fn death_before_the_first_pd_is_the_event_with_a_warning() {
        // PD on day 60 but death on day 45, before that scan.
        let lesions = single_target(&[("2024-01-10", "50"), ("2024-03-10", "61")]);
        let cohort = derive(&lesions, "P,A,2024-01-10,2024-02-24,\n", false).unwrap();
        let outcome = only(&cohort);
        assert!(outcome.progressed);
        assert_eq!(outcome.pfs_months, months(45));
        assert_eq!(cohort.warnings.len(), 1, "{:?}", cohort.warnings);
        assert!(
            cohort.warnings[0]
                .starts_with("d.csv, line 2: patient \"P\": death_date 2024-02-24 is before the last scan on 2024-03-10"),
            "{:?}",
            cohort.warnings
        );
    }

    #[test]
    fn death_after_the_last_scan_is_the_event() {
        let lesions = single_target(&[("2024-01-10", "50"), ("2024-03-10", "45")]);
        let cohort = derive(&lesions, "P,A,2024-01-10,2024-12-31,2024-12-31\n", false).unwrap();
        let outcome = only(&cohort);
        assert!(outcome.progressed);
        assert_eq!(outcome.pfs_months, months(356));
        assert!(cohort.warnings.is_empty(), "{:?}", cohort.warnings);
    }

    #[test]
    fn censored_at_the_last_assessment_not_at_last_contact() {
        let lesions = single_target(&[("2024-01-10", "50"), ("2024-03-10", "45")]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,2024-12-31\n", false).unwrap();
        let outcome = only(&cohort);
        assert!(!outcome.progressed);
        assert_eq!(outcome.pfs_months, months(60));
        assert!(cohort.warnings.is_empty(), "{:?}", cohort.warnings);
    }

    #[test]
    fn trailing_ne_assessments_do_not_extend_censoring() {
        // Day 60 SD, day 120 NE (target not evaluable): censored on day 60.
        let lesions = single_target(&[
            ("2024-01-10", "50"),
            ("2024-03-10", "45"),
            ("2024-05-09", ""),
        ]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap();
        let outcome = only(&cohort);
        assert!(!outcome.progressed);
        assert_eq!(outcome.pfs_months, months(60));
        assert!(
            cohort.warnings.iter().any(|w| w.contains("censored at the last adequate assessment on 2024-03-10; later NE assessments up to 2024-05-09")),
            "{:?}",
            cohort.warnings
        );
    }

    #[test]
    fn ne_and_non_cr_non_pd_time_points_are_not_events() {
        let lesions = "P,BL,2024-01-10,NT1,non_target,bone,,present\n\
                       P,W8,2024-03-06,NT1,non_target,bone,,present\n\
                       P,W16,2024-05-01,NT1,non_target,bone,,not_evaluable\n";
        let cohort = derive(lesions, "P,A,2024-01-10,,\n", false).unwrap();
        let outcome = only(&cohort);
        assert_eq!(outcome.best_response, BestResponse::NonCrNonPd);
        assert_eq!(outcome.best_change_pct, None);
        assert!(!outcome.progressed);
        assert_eq!(outcome.pfs_months, months(56));
        // No target sum, no spider line.
        assert!(cohort.spider.is_empty());
    }

    #[test]
    fn time_to_response_is_the_first_cr_or_pr() {
        // SD day 56, PR day 112, PR day 168.
        let lesions = single_target(&[
            ("2024-01-10", "50"),
            ("2024-03-06", "40"),
            ("2024-05-01", "30"),
            ("2024-06-26", "28"),
        ]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap();
        let outcome = only(&cohort);
        assert_eq!(outcome.best_response, BestResponse::Pr);
        assert_eq!(outcome.ttr_months, Some(months(112)));
        assert_eq!(outcome.best_change_pct, Some(-44.0));
    }

    #[test]
    fn with_confirm_time_to_response_is_the_onset_of_the_confirmed_response() {
        // PR day 56 (unconfirmed: SD follows), SD day 112, PR day 168, PR day 224.
        let lesions = single_target(&[
            ("2024-01-10", "50"),
            ("2024-03-06", "34"),
            ("2024-05-01", "40"),
            ("2024-06-26", "33"),
            ("2024-08-21", "32"),
        ]);
        let confirmed = derive(&lesions, "P,A,2024-01-10,,\n", true).unwrap();
        assert_eq!(only(&confirmed).best_response, BestResponse::Pr);
        assert_eq!(only(&confirmed).ttr_months, Some(months(168)));
        let unconfirmed = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap();
        assert_eq!(only(&unconfirmed).ttr_months, Some(months(56)));
    }

    #[test]
    fn unconfirmed_response_gives_no_time_to_response() {
        // A single PR on day 56, then nothing: with --confirm the best response is SD.
        let lesions = single_target(&[("2024-01-10", "50"), ("2024-03-06", "34")]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,\n", true).unwrap();
        assert_eq!(only(&cohort).best_response, BestResponse::Sd);
        assert_eq!(only(&cohort).ttr_months, None);
    }

    #[test]
    fn response_after_the_first_pd_counts_for_nothing() {
        // SD day 56, PD day 112, PR day 168 (e.g. after crossover).
        let lesions = single_target(&[
            ("2024-01-10", "50"),
            ("2024-03-06", "45"),
            ("2024-05-01", "60"),
            ("2024-06-26", "20"),
        ]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap();
        let outcome = only(&cohort);
        assert_eq!(outcome.best_response, BestResponse::Sd);
        assert_eq!(outcome.ttr_months, None);
        assert_eq!(outcome.best_change_pct, Some(-10.0));
        assert!(outcome.progressed);
        assert_eq!(outcome.pfs_months, months(112));
        // The spider line keeps every measured point, after the PD too.
        assert_eq!(
            cohort.spider[0].points,
            vec![
                SpiderPoint {
                    months: 0.0,
                    change_pct: 0.0
                },
                SpiderPoint {
                    months: months(56),
                    change_pct: -10.0
                },
                SpiderPoint {
                    months: months(112),
                    change_pct: 20.0
                },
                SpiderPoint {
                    months: months(168),
                    change_pct: -60.0
                },
            ]
        );
    }

    #[test]
    fn spider_skips_time_points_without_a_change() {
        let lesions = single_target(&[
            ("2024-01-08", "50"),
            ("2024-03-06", ""),
            ("2024-05-01", "45"),
        ]);
        let cohort = derive(&lesions, "P,B,2024-01-10,,\n", false).unwrap();
        let line = &cohort.spider[0];
        assert_eq!((line.patient_id.as_str(), line.arm.as_str()), ("P", "B"));
        assert_eq!(
            line.points,
            vec![
                SpiderPoint {
                    months: 0.0,
                    change_pct: 0.0
                },
                SpiderPoint {
                    months: months(112),
                    change_pct: -10.0
                },
            ]
        );
    }

    #[test]
    fn no_follow_up_is_censored_at_zero_with_best_response_ne() {
        let lesions = single_target(&[("2024-01-08", "50")]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap();
        let outcome = only(&cohort);
        assert_eq!(outcome.best_response, BestResponse::Ne);
        assert_eq!((outcome.pfs_months, outcome.progressed), (0.0, false));
    }

    #[test]
    fn last_contact_before_the_last_scan_is_a_warning() {
        let lesions = single_target(&[("2024-01-10", "50"), ("2024-03-10", "45")]);
        let cohort = derive(&lesions, "P,A,2024-01-10,,2024-03-01\n", false).unwrap();
        assert_eq!(
            cohort.warnings,
            vec![
                "d.csv, line 2: patient \"P\": last_contact_date 2024-03-01 is before the last scan on 2024-03-10"
                    .to_string()
            ]
        );
    }

    #[test]
    fn pd_before_start_is_an_error() {
        let lesions = single_target(&[("2023-12-01", "50"), ("2024-01-05", "70")]);
        let error = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "d.csv, line 2: patient \"P\": the first PD (visit V1 on 2024-01-05) is before start_date 2024-01-10"
        );
    }

    #[test]
    fn patient_missing_from_the_patient_table_is_an_error() {
        let mut lesions = single_target(&[("2024-01-10", "50"), ("2024-03-10", "45")]);
        lesions.push_str("Q,BL,2024-01-10,T1,target,lung,30,measured\n");
        let error = derive(&lesions, "P,A,2024-01-10,,\n", false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "l.csv, line 4, column \"patient_id\": patient \"Q\" is not in the patient table d.csv"
        );
    }

    #[test]
    fn patient_missing_from_the_lesion_table_is_an_error() {
        let lesions = single_target(&[("2024-01-10", "50"), ("2024-03-10", "45")]);
        let error = derive(&lesions, "P,A,2024-01-10,,\nQ,A,2024-01-10,,\n", false).unwrap_err();
        assert_eq!(
            error.to_string(),
            "d.csv, line 3, column \"patient_id\": patient \"Q\" has no rows in the lesion table l.csv"
        );
    }

    #[test]
    fn outcomes_follow_the_patient_table_order() {
        let lesions = "A1,BL,2024-01-10,T1,target,liver,50,measured\n\
                       B1,BL,2024-01-10,T1,target,liver,50,measured\n";
        let cohort = derive(lesions, "B1,exp,2024-01-10,,\nA1,ref,2024-01-10,,\n", false).unwrap();
        let ids: Vec<&str> = cohort
            .outcomes
            .iter()
            .map(|o| o.patient_id.as_str())
            .collect();
        assert_eq!(ids, ["B1", "A1"]);
        assert_eq!(cohort.outcomes[0].arm, "exp");
    }

    #[test]
    fn no_input_is_an_error() {
        let cli = Cli::try_parse_from(["cohort"]).unwrap();
        let error = run(&cli.args, &mut Vec::new(), &mut Vec::new()).unwrap_err();
        assert!(error.to_string().contains("no input"));
    }
}
