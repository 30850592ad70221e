//! `nadir inspect DIR [--json] [--no-hash]` (interchange §3).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use crate::dicom::{self, LoadError, LoadOptions};
use crate::interchange::inspect_json::{InspectReport, SeriesSummary, SkippedEntry};

/// Arguments of `nadir inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Folder to scan recursively (or a single file).
    pub dir: PathBuf,
    /// Print the machine-readable summary (interchange §3).
    #[arg(long)]
    pub json: bool,
    /// Skip the pixel fingerprint (`pixel_sha256` is null): the quick path.
    #[arg(long)]
    pub no_hash: bool,
}

/// Scans, loads every series in turn (one volume in memory at a time) and reports.
pub fn inspect(args: &InspectArgs) -> anyhow::Result<InspectReport> {
    // NADIR_TIMING=1 prints the phases to stderr (for benchmarking).
    let timing = std::env::var_os("NADIR_TIMING").is_some();
    let started = std::time::Instant::now();
    let scan =
        dicom::scan(&args.dir).with_context(|| format!("cannot read {}", args.dir.display()))?;
    if timing {
        eprintln!(
            "timing: scan {:.1} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    let mut report = InspectReport {
        skipped: scan.skipped.iter().map(SkippedEntry::from).collect(),
        ..Default::default()
    };
    let options = LoadOptions {
        hash: !args.no_hash,
        ..Default::default()
    };
    for plan in &scan.stacks {
        let fallback_spacing = plan
            .first_header()
            .and_then(|h| h.spacing_between_slices_mm.or(h.slice_thickness_mm));
        match dicom::load_stack(plan, &options) {
            Ok(loaded) => {
                report
                    .skipped
                    .extend(loaded.skipped.iter().map(SkippedEntry::from));
                report
                    .series
                    .push(SeriesSummary::from_loaded(&loaded, fallback_spacing));
            }
            Err(LoadError::NothingDecoded(skipped)) => {
                let mut reported: Vec<&std::path::Path> = Vec::new();
                for s in &skipped {
                    report.skipped.push(SkippedEntry::from(s));
                    reported.push(&s.path);
                }
                // Files of the stack that were never reached still get a line.
                for h in &plan.files {
                    if !reported.contains(&h.path.as_path()) {
                        report.skipped.push(SkippedEntry {
                            path: h.path.display().to_string(),
                            reason: "its series could not be decoded".into(),
                        });
                    }
                }
            }
            Err(e @ LoadError::TooLarge { .. }) => {
                for h in &plan.files {
                    report.skipped.push(SkippedEntry {
                        path: h.path.display().to_string(),
                        reason: e.to_string(),
                    });
                }
            }
            Err(LoadError::Empty) => {}
            Err(e @ LoadError::Cancelled) => anyhow::bail!(e),
        }
    }
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    if timing {
        eprintln!(
            "timing: total {:.1} ms",
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(report)
}

/// Runs the subcommand, writing the report to `out` and warnings to `err`.
pub fn run(args: &InspectArgs, out: &mut dyn Write, err: &mut dyn Write) -> anyhow::Result<()> {
    let report = inspect(args)?;
    for s in &report.series {
        for w in &s.warnings {
            writeln!(
                err,
                "warning: series {} ({}): {w}",
                s.series_instance_uid, s.series_description
            )?;
        }
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        write_table(&report, out)?;
    }
    Ok(())
}

fn write_table(report: &InspectReport, out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "{:<3} {:<4} {:>6} {:>11} {:>13} {:>8}  {:>10} {:>10} {:>10}  description",
        "#", "mod", "slices", "size", "pixel mm", "slice mm", "min", "max", "mean"
    )?;
    for (i, s) in report.series.iter().enumerate() {
        let spacing = s
            .pixel_spacing_mm
            .map_or("-".to_string(), |[r, c]| format!("{r:.3}x{c:.3}"));
        let slice = s
            .slice_spacing_mm
            .map_or("-".to_string(), |v| format!("{v:.3}"));
        let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
        writeln!(
            out,
            "{:<3} {:<4} {:>6} {:>11} {:>13} {:>8}  {:>10} {:>10} {:>10}  {}",
            i + 1,
            s.modality,
            s.slices,
            format!("{}x{}", s.columns, s.rows),
            spacing,
            slice,
            num(s.rescaled_min),
            num(s.rescaled_max),
            num(s.rescaled_mean),
            s.series_description
        )?;
        writeln!(out, "    uid {}", s.series_instance_uid)?;
        if let Some(h) = &s.pixel_sha256 {
            writeln!(out, "    sha256 {h}")?;
        }
        for w in &s.warnings {
            writeln!(out, "    warning: {w}")?;
        }
    }
    if !report.skipped.is_empty() {
        writeln!(out, "\nskipped {} file(s):", report.skipped.len())?;
        for s in &report.skipped {
            writeln!(out, "  {}: {}", s.path, s.reason)?;
        }
    }
    Ok(())
}
