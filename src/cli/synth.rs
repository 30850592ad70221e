//! `nadir synth OUT`: write the deterministic sample patient (the project's
//! `sample_scans/`: DICOM series, `truth.json`, `lesions.csv`, `README.md`),
//! or with `--slices N` one benchmark CT series of any size.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::dicom::write::{WriteSyntax, write_series};
use crate::synth::{GroundTruth, SamplePatient, benchmark_ct, sample_patient, truth::pixel_sha256};

/// Transfer syntaxes offered on the command line (those with an encoder).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferSyntaxArg {
    /// Explicit VR Little Endian (1.2.840.10008.1.2.1).
    ExplicitLe,
    /// Implicit VR Little Endian (1.2.840.10008.1.2).
    ImplicitLe,
    /// Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99).
    Deflate,
    /// Encapsulated Uncompressed Explicit VR Little Endian (1.2.840.10008.1.2.1.98).
    EncapsulatedUncompressed,
    /// JPEG-LS Lossless (1.2.840.10008.1.2.4.80).
    JpegLs,
    /// JPEG-LS near-lossless, NEAR = 2 (1.2.840.10008.1.2.4.81).
    JpegLsNear,
}

impl From<TransferSyntaxArg> for WriteSyntax {
    fn from(arg: TransferSyntaxArg) -> Self {
        match arg {
            TransferSyntaxArg::ExplicitLe => WriteSyntax::ExplicitVrLittleEndian,
            TransferSyntaxArg::ImplicitLe => WriteSyntax::ImplicitVrLittleEndian,
            TransferSyntaxArg::Deflate => WriteSyntax::DeflatedExplicitVrLittleEndian,
            TransferSyntaxArg::EncapsulatedUncompressed => WriteSyntax::EncapsulatedUncompressed,
            TransferSyntaxArg::JpegLs => WriteSyntax::JpegLsLossless,
            TransferSyntaxArg::JpegLsNear => WriteSyntax::JpegLsNearLossless,
        }
    }
}

/// Arguments of `nadir synth`.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// Output folder, created if missing; files of the same name are replaced.
    pub out: PathBuf,
    /// Write a benchmark CT of this many 1.25 mm slices instead of the sample patient.
    #[arg(long)]
    pub slices: Option<usize>,
    /// Benchmark rows (default 512; needs --slices).
    #[arg(long)]
    pub rows: Option<usize>,
    /// Benchmark columns (default 512; needs --slices).
    #[arg(long)]
    pub columns: Option<usize>,
    /// Transfer syntax of the written files.
    #[arg(long, value_enum, default_value_t = TransferSyntaxArg::ExplicitLe)]
    pub transfer_syntax: TransferSyntaxArg,
}

/// Default benchmark matrix.
const DEFAULT_MATRIX: usize = 512;

/// Run `nadir synth`; progress and a summary go to `out`.
pub fn run(args: &SynthArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    let syntax = WriteSyntax::from(args.transfer_syntax);
    match args.slices {
        Some(slices) => {
            let rows = args.rows.unwrap_or(DEFAULT_MATRIX);
            let columns = args.columns.unwrap_or(DEFAULT_MATRIX);
            let series = benchmark_ct(slices, rows, columns)?;
            let paths = write_series(&series, &args.out, syntax)?;
            let bytes = total_size(&paths)?;
            writeln!(
                out,
                "wrote {} files ({:.1} MB, {}) to {}\nseries {}\npixel_sha256 {}",
                paths.len(),
                bytes as f64 / 1e6,
                syntax.uid(),
                args.out.display(),
                series.series_instance_uid,
                pixel_sha256(&series)
            )?;
        }
        None => {
            if args.rows.is_some() || args.columns.is_some() {
                bail!("--rows/--columns apply to a benchmark series: add --slices N");
            }
            write_sample(&sample_patient(), &args.out, syntax, out)?;
        }
    }
    Ok(())
}

fn total_size(paths: &[PathBuf]) -> anyhow::Result<u64> {
    let mut total = 0;
    for path in paths {
        total += std::fs::metadata(path)
            .with_context(|| format!("cannot stat {}", path.display()))?
            .len();
    }
    Ok(total)
}

fn write_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Write the sample patient into `dir`: one folder per series (named in the
/// truth), `truth.json`, `lesions.csv` and `README.md`.
pub fn write_sample(
    patient: &SamplePatient,
    dir: &Path,
    syntax: WriteSyntax,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut files = 0;
    let mut bytes = 0;
    for (series, truth) in patient.series.iter().zip(&patient.truth.series) {
        let paths = write_series(series, &dir.join(&truth.directory), syntax)?;
        files += paths.len();
        bytes += total_size(&paths)?;
        writeln!(out, "{:<40} {} slices", truth.directory, paths.len())?;
    }
    let mut json = serde_json::to_string_pretty(&patient.truth)?;
    json.push('\n');
    write_file(&dir.join("truth.json"), json.as_bytes())?;
    write_file(&dir.join("lesions.csv"), &lesion_csv(&patient.truth)?)?;
    write_file(&dir.join("README.md"), readme(&patient.truth).as_bytes())?;
    writeln!(
        out,
        "wrote {files} DICOM files ({:.1} MB) + truth.json, lesions.csv, README.md to {}\n",
        bytes as f64 / 1e6,
        dir.display()
    )?;
    out.write_all(truth_table(&patient.truth).as_bytes())?;
    Ok(())
}

/// The lesion table (interchange §1) as CSV bytes.
pub fn lesion_csv(truth: &GroundTruth) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in truth.lesion_table() {
        writer.serialize(row)?;
    }
    Ok(writer.into_inner()?)
}

/// Markdown tables: per visit sums, per lesion per visit measurements.
pub fn truth_table(truth: &GroundTruth) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| visit | date | sum (mm) | change | by sum | target volume (mL) | change | T2 ratio | change |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|");
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |p| format!("{p:+.1} %"));
    for v in &truth.visits {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {} | {} | {:.2} | {} | {} | {} |",
            v.visit,
            v.date,
            v.sum_mm,
            pct(v.change_from_baseline_pct),
            v.target_response_by_sum,
            v.volume_ml,
            pct(v.volume_change_from_baseline_pct),
            v.t2_ratio.map_or("–".to_string(), |r| format!("{r:.3}")),
            pct(v.t2_ratio_change_from_baseline_pct),
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "| lesion | category | organ | visit | LD (mm) | SA (mm) | volume (mL) | CT (HU) | T2 SI / muscle | CT file |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
    for l in &truth.lesions {
        let t2 = match (l.mr_mean_si, l.mr_muscle_si) {
            (Some(si), Some(muscle)) => format!("{si:.0} / {muscle:.0}"),
            _ => "not covered".to_string(),
        };
        let file = l
            .ct_instance_number
            .map_or("–".to_string(), |n| format!("{n:04}.dcm"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1} | {:.1} | {:.3} | {:.0} | {} | {} |",
            l.lesion_id,
            l.category,
            l.organ,
            l.visit,
            l.long_axis_mm,
            l.short_axis_mm,
            l.volume_ml,
            l.ct_mean_hu,
            t2,
            file
        );
    }
    s
}

/// `sample_scans/README.md`.
pub fn readme(truth: &GroundTruth) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# sample_scans: the Nadir synthetic patient\n");
    let _ = writeln!(
        s,
        "A synthetic, anonymous patient (`{}`, {}) generated by Nadir's own deterministic \
         phantom code (`src/synth/`). It is what the workstation opens by default and what \
         the tests use. It is **not** a real patient and not for clinical use.\n",
        truth.patient_id, truth.patient_name
    );
    let _ = writeln!(s, "Regenerate (byte-for-byte identical output):\n");
    let _ = writeln!(s, "```sh\ncargo run --release -- synth sample_scans\n```\n");
    let _ = writeln!(s, "## Layout\n");
    let _ = writeln!(
        s,
        "| folder | series | slices | pixel spacing (mm) | slice thickness / spacing (mm) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|");
    for series in &truth.series {
        let _ = writeln!(
            s,
            "| `{}/` | {} {} | {} × {} × {} | {} × {} | {} / {} |",
            series.directory,
            series.modality,
            series.series_description,
            series.columns,
            series.rows,
            series.slices,
            series.pixel_spacing_mm[0],
            series.pixel_spacing_mm[1],
            series.slice_thickness_mm,
            series.slice_spacing_mm
        );
    }
    let _ = writeln!(
        s,
        "\nOne DICOM file per slice (CT Image Storage / MR Image Storage, explicit VR little \
         endian), named by InstanceNumber; `0001.dcm` is the most superior slice. CT: \
         portal-venous contrast, 12 bits stored unsigned, RescaleIntercept −1024. MR: axial \
         T2-weighted TSE (TE 100 ms, TR 4000 ms, 1.5 T), no fat suppression; the receiver gain \
         differs between visits, so compare lesion signal only as a ratio to muscle. Every \
         series has its own FrameOfReferenceUID and table position.\n"
    );
    let _ = writeln!(
        s,
        "- `truth.json`: ground truth per series and per lesion per visit (centres in each series' patient coordinates, semi-axes, rotation, true long/short axis on the axial plane through the centre, volume, CT HU, MR signal and muscle reference, expected `pixel_sha256`)."
    );
    let _ = writeln!(
        s,
        "- `lesions.csv`: the RECIST lesion table of the truth (interchange §1), input for `nadir assess`.\n"
    );
    let _ = writeln!(s, "## Ground truth\n");
    s.push_str(&truth_table(truth));
    let _ = writeln!(
        s,
        "\nTarget sum = long axis of non-nodal targets + short axis of the node; \"by sum\" is \
         the RECIST 1.1 target response from the sums alone (PR: ≥ 30 % below baseline). \
         Volumes and the T2 ratio are exploratory (recist-1.1.md §10–11)."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::cached_sample_patient;

    #[test]
    fn csv_has_the_interchange_columns() {
        let csv = String::from_utf8(lesion_csv(&cached_sample_patient().truth).unwrap()).unwrap();
        let header = csv.lines().next().unwrap();
        assert_eq!(
            header,
            "patient_id,visit,date,lesion_id,category,organ,lymph_node,long_axis_mm,\
             short_axis_mm,status,volume_ml,t2_si,t2_ref_si"
        );
        assert_eq!(csv.lines().count(), 1 + 15);
        assert!(csv.contains(
            "NADIR-SYN-001,baseline,2024-01-08,N1,target,lymph node,true,26.0,18.0,measured,"
        ));
        assert!(
            csv.contains("NADIR-SYN-001,W16,2024-04-29,NT1,non_target,liver,false,,,present,,,")
        );
    }

    fn read_tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut files = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let bytes = std::fs::read(&path).unwrap();
                    files.push((path.strip_prefix(root).unwrap().to_path_buf(), bytes));
                }
            }
        }
        files.sort();
        files
    }

    /// The sample folder written twice is identical byte for byte, holds
    /// 174 DICOM files plus truth.json (which parses back to the same truth),
    /// lesions.csv and README.md, and stays under 20 MB.
    #[test]
    fn sample_folder_is_deterministic_and_complete() {
        let patient = cached_sample_patient();
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        write_sample(
            patient,
            a.path(),
            WriteSyntax::ExplicitVrLittleEndian,
            &mut Vec::new(),
        )
        .unwrap();
        write_sample(
            patient,
            b.path(),
            WriteSyntax::ExplicitVrLittleEndian,
            &mut Vec::new(),
        )
        .unwrap();
        let tree_a = read_tree(a.path());
        assert!(tree_a == read_tree(b.path()));
        let dicom_files = tree_a
            .iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "dcm"))
            .count();
        assert_eq!(dicom_files, 3 * (38 + 20));
        assert_eq!(tree_a.len(), dicom_files + 3);
        let total: usize = tree_a.iter().map(|(_, bytes)| bytes.len()).sum();
        assert!(total < 20_000_000, "{total} bytes");
        let json = std::fs::read_to_string(a.path().join("truth.json")).unwrap();
        // serde_json parses floats to within 1 ulp (no `float_roundtrip`), so
        // compare numbers with a tolerance.
        let parsed: GroundTruth = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.series.len(), patient.truth.series.len());
        assert_eq!(parsed.lesions.len(), patient.truth.lesions.len());
        for (p, t) in parsed.series.iter().zip(&patient.truth.series) {
            assert_eq!(p.series_instance_uid, t.series_instance_uid);
            assert_eq!(p.pixel_sha256, t.pixel_sha256);
            assert_eq!(p.instances_in_order, t.instances_in_order);
        }
        for (p, t) in parsed.lesions.iter().zip(&patient.truth.lesions) {
            assert_eq!((&p.lesion_id, &p.visit), (&t.lesion_id, &t.visit));
            assert!((p.volume_ml - t.volume_ml).abs() < 1e-12);
            assert_eq!(p.long_axis_mm, t.long_axis_mm);
            assert_eq!(p.short_axis_mm, t.short_axis_mm);
        }
    }

    #[test]
    fn rows_without_slices_is_an_error() {
        let args = SynthArgs {
            out: PathBuf::from("unused"),
            slices: None,
            rows: Some(64),
            columns: None,
            transfer_syntax: TransferSyntaxArg::ExplicitLe,
        };
        assert!(run(&args, &mut Vec::new()).is_err());
    }

    #[test]
    fn benchmark_writes_requested_slices() {
        let dir = tempfile::tempdir().unwrap();
        let args = SynthArgs {
            out: dir.path().join("bench"),
            slices: Some(3),
            rows: Some(32),
            columns: Some(40),
            transfer_syntax: TransferSyntaxArg::JpegLs,
        };
        let mut log = Vec::new();
        run(&args, &mut log).unwrap();
        let names: Vec<_> = std::fs::read_dir(dir.path().join("bench"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 3);
        assert!(
            String::from_utf8(log)
                .unwrap()
                .contains("1.2.840.10008.1.2.4.80")
        );
    }

    #[test]
    fn bad_benchmark_size_is_an_error() {
        let args = SynthArgs {
            out: PathBuf::from("unused"),
            slices: Some(0),
            rows: None,
            columns: None,
            transfer_syntax: TransferSyntaxArg::ExplicitLe,
        };
        assert!(run(&args, &mut Vec::new()).is_err());
    }
}
