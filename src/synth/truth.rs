//! Ground truth of the sample patient (`sample_scans/truth.json`) and the
//! RECIST lesion table derived from it (`sample_scans/lesions.csv`, columns
//! of interchange §1).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Ellipsoid, PatientInfo, SynthSeries, round_to};

/// Everything known about the sample patient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// What this is.
    pub description: String,
    /// How to regenerate it.
    pub generator: String,
    /// Coordinate conventions of the centres below.
    pub coordinates: String,
    /// PatientID.
    pub patient_id: String,
    /// PatientName.
    pub patient_name: String,
    /// PatientBirthDate, `YYYYMMDD`.
    pub patient_birth_date: String,
    /// PatientSex.
    pub patient_sex: String,
    /// Per visit: target sums and the response they imply.
    pub visits: Vec<VisitSummary>,
    /// Per series, in the generator's order.
    pub series: Vec<SeriesTruth>,
    /// Per lesion per visit.
    pub lesions: Vec<LesionTruth>,
}

/// One series as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesTruth {
    /// Visit label.
    pub visit: String,
    /// Scan date, ISO `YYYY-MM-DD`.
    pub date: String,
    /// `CT` or `MR`.
    pub modality: String,
    /// Folder of the files, relative to `sample_scans/`.
    pub directory: String,
    /// StudyInstanceUID.
    pub study_instance_uid: String,
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// FrameOfReferenceUID.
    pub frame_of_reference_uid: String,
    /// SeriesDescription.
    pub series_description: String,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub columns: usize,
    /// Number of slices (files).
    pub slices: usize,
    /// PixelSpacing `[row, column]`, mm.
    pub pixel_spacing_mm: [f64; 2],
    /// SliceThickness, mm.
    pub slice_thickness_mm: f64,
    /// Centre-to-centre slice spacing, mm.
    pub slice_spacing_mm: f64,
    /// ImagePositionPatient of the first slice in ascending order, mm.
    pub origin_mm: [f64; 3],
    /// Where the phantom's anatomy origin lies in this series' patient
    /// coordinates (patient = anatomy + offset), mm.
    pub patient_offset_mm: [f64; 3],
    /// SOP Instance UIDs in ascending slice order.
    pub instances_in_order: Vec<String>,
    /// `pixel_sha256` as `nadir inspect` computes it (interchange §3).
    pub pixel_sha256: String,
    /// Smallest rescaled value.
    pub rescaled_min: f64,
    /// Largest rescaled value.
    pub rescaled_max: f64,
    /// Mean rescaled value.
    pub rescaled_mean: f64,
}

/// One lesion at one visit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionTruth {
    /// Stable lesion id (`T1`, `N1`, `NT1`).
    pub lesion_id: String,
    /// Visit label.
    pub visit: String,
    /// Scan date, ISO.
    pub date: String,
    /// `target` or `non_target`.
    pub category: String,
    /// Organ.
    pub organ: String,
    /// Whether the lesion is a lymph node (measured by short axis).
    pub lymph_node: bool,
    /// Centre in the phantom's anatomy coordinates, mm.
    pub anatomy_centre_mm: [f64; 3],
    /// Semi-axes `[a, b, c]`: `a`, `b` in the axial plane, `c` along z, mm.
    pub semi_axes_mm: [f64; 3],
    /// Angle of the `a` axis from patient +x (left) towards +y (posterior), degrees.
    pub in_plane_rotation_deg: f64,
    /// True longest diameter on the axial plane through the centre, mm.
    pub long_axis_mm: f64,
    /// True longest diameter perpendicular to it on that plane, mm.
    pub short_axis_mm: f64,
    /// True volume 4/3·π·a·b·c, mL.
    pub volume_ml: f64,
    /// CT series showing it.
    pub ct_series_instance_uid: String,
    /// Centre in that CT's patient coordinates (LPS), mm.
    pub ct_centre_mm: [f64; 3],
    /// Index (ascending slice order) of the CT slice through the centre.
    pub ct_slice_index: Option<usize>,
    /// InstanceNumber of that slice (= file name `NNNN.dcm`).
    pub ct_instance_number: Option<u32>,
    /// Mean attenuation of the lesion, HU.
    pub ct_mean_hu: f64,
    /// MR series of the visit.
    pub mr_series_instance_uid: String,
    /// Centre in that MR's patient coordinates (LPS), mm.
    pub mr_centre_mm: [f64; 3],
    /// InstanceNumber of the MR slice nearest the centre, if covered.
    pub mr_instance_number: Option<u32>,
    /// Mean T2 signal of the lesion (`None` when the MR does not cover it).
    pub mr_mean_si: Option<f64>,
    /// Mean T2 signal of skeletal muscle on the same series.
    pub mr_muscle_si: Option<f64>,
}

/// Who a lesion is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LesionIdentity {
    pub lesion_id: &'static str,
    pub category: &'static str,
    pub organ: &'static str,
    pub lymph_node: bool,
}

/// Target sums at one visit, by the RECIST 1.1 sum rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitSummary {
    /// Visit label.
    pub visit: String,
    /// Scan date, ISO.
    pub date: String,
    /// Days since baseline.
    pub days_from_baseline: u32,
    /// Σ long axis of non-nodal targets + Σ short axis of nodal targets, mm.
    pub sum_mm: f64,
    /// Change of the sum from baseline, % (`None` at baseline).
    pub change_from_baseline_pct: Option<f64>,
    /// `baseline`, or CR/PR/SD/PD from the target sums alone.
    pub target_response_by_sum: String,
    /// Σ target volumes, mL.
    pub volume_ml: f64,
    /// Change of the volume sum from baseline, %.
    pub volume_change_from_baseline_pct: Option<f64>,
    /// Mean over targets with MR of lesion/muscle T2 signal.
    pub t2_ratio: Option<f64>,
    /// Change of that mean from baseline, %.
    pub t2_ratio_change_from_baseline_pct: Option<f64>,
}

/// One row of the RECIST lesion table (interchange §1); field names are the
/// CSV column names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LesionTableRow {
    /// Patient id.
    pub patient_id: String,
    /// Visit label.
    pub visit: String,
    /// ISO date.
    pub date: String,
    /// Lesion id.
    pub lesion_id: String,
    /// `target` / `non_target`.
    pub category: String,
    /// Organ.
    pub organ: String,
    /// Lymph node flag.
    pub lymph_node: bool,
    /// Longest diameter, mm (targets).
    pub long_axis_mm: Option<f64>,
    /// Short axis, mm (targets).
    pub short_axis_mm: Option<f64>,
    /// `measured` for targets, `present` for non-targets.
    pub status: String,
    /// Volume, mL, rounded to 0.001 (targets).
    pub volume_ml: Option<f64>,
    /// Mean lesion T2 signal (targets covered by the MR).
    pub t2_si: Option<f64>,
    /// Mean muscle T2 signal on the same series.
    pub t2_ref_si: Option<f64>,
}

fn pct_change(value: f64, reference: f64) -> Option<f64> {
    (reference != 0.0).then(|| (value - reference) / reference * 100.0)
}

/// `pixel_sha256` of interchange §3: stored values in ascending slice order,
/// row-major, each as a little-endian i32.
pub fn pixel_sha256(series: &SynthSeries) -> String {
    let mut hasher = Sha256::new();
    let mut buffer = Vec::with_capacity(series.rows * series.columns * 4);
    for slice in series.stored.outer_iter() {
        buffer.clear();
        for &value in slice.iter() {
            buffer.extend_from_slice(&i32::from(value).to_le_bytes());
        }
        hasher.update(&buffer);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SeriesTruth {
    pub(crate) fn describe(
        series: &SynthSeries,
        visit: &str,
        date: &str,
        directory: &str,
        offset: [f64; 3],
    ) -> Self {
        let (mut min, mut max, mut sum) = (f64::INFINITY, f64::NEG_INFINITY, 0.0);
        for &v in series.stored.iter() {
            let r = series.rescaled(v);
            min = min.min(r);
            max = max.max(r);
            sum += r;
        }
        let count = series.stored.len().max(1) as f64;
        Self {
            visit: visit.to_string(),
            date: date.to_string(),
            modality: series.modality.code().to_string(),
            directory: directory.to_string(),
            study_instance_uid: series.study_instance_uid.clone(),
            series_instance_uid: series.series_instance_uid.clone(),
            frame_of_reference_uid: series.frame_of_reference_uid.clone(),
            series_description: series.series_description.clone(),
            rows: series.rows,
            columns: series.columns,
            slices: series.slices(),
            pixel_spacing_mm: series.pixel_spacing_mm,
            slice_thickness_mm: series.slice_thickness_mm,
            slice_spacing_mm: series.slice_spacing_mm,
            origin_mm: series.slice_positions.first().copied().unwrap_or([0.0; 3]),
            patient_offset_mm: offset,
            instances_in_order: series.sop_instance_uids.clone(),
            pixel_sha256: pixel_sha256(series),
            rescaled_min: min,
            rescaled_max: max,
            rescaled_mean: sum / count,
        }
    }
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

/// Index of the slice whose plane contains `z` (within 1 µm), if any.
fn slice_through(series: &SynthSeries, z: f64) -> Option<usize> {
    series
        .slice_positions
        .iter()
        .position(|p| (p[2] - z).abs() < 1e-3)
}

/// Index of the nearest slice, if `z` lies within the series' coverage.
fn nearest_slice(series: &SynthSeries, z: f64) -> Option<usize> {
    let first = series.slice_positions.first()?[2];
    let last = series.slice_positions.last()?[2];
    let half = series.slice_spacing_mm / 2.0;
    if z < first.min(last) - half || z > first.max(last) + half {
        return None;
    }
    series
        .slice_positions
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1[2] - z).abs().total_cmp(&(b.1[2] - z).abs()))
        .map(|(k, _)| k)
}

impl LesionTruth {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        identity: LesionIdentity,
        visit: &str,
        date: &str,
        ellipsoid: &Ellipsoid,
        ct_hu: f64,
        ct: (&SynthSeries, [f64; 3]),
        mr: (&SynthSeries, [f64; 3], f64, f64),
    ) -> Self {
        let (ct_series, ct_offset) = ct;
        let (mr_series, mr_offset, mr_si, muscle_si) = mr;
        let ct_centre = add(ellipsoid.centre_mm, ct_offset);
        let mr_centre = add(ellipsoid.centre_mm, mr_offset);
        let ct_slice = slice_through(ct_series, ct_centre[2]);
        let mr_slice = nearest_slice(mr_series, mr_centre[2]);
        Self {
            lesion_id: identity.lesion_id.to_string(),
            visit: visit.to_string(),
            date: date.to_string(),
            category: identity.category.to_string(),
            organ: identity.organ.to_string(),
            lymph_node: identity.lymph_node,
            anatomy_centre_mm: ellipsoid.centre_mm,
            semi_axes_mm: ellipsoid.semi_axes_mm,
            in_plane_rotation_deg: ellipsoid.rotation_deg,
            long_axis_mm: ellipsoid.long_axis_mm(),
            short_axis_mm: ellipsoid.short_axis_mm(),
            volume_ml: ellipsoid.volume_ml(),
            ct_series_instance_uid: ct_series.series_instance_uid.clone(),
            ct_centre_mm: ct_centre,
            ct_slice_index: ct_slice,
            ct_instance_number: ct_slice.and_then(|k| ct_series.instance_numbers.get(k).copied()),
            ct_mean_hu: ct_hu,
            mr_series_instance_uid: mr_series.series_instance_uid.clone(),
            mr_centre_mm: mr_centre,
            mr_instance_number: mr_slice.and_then(|k| mr_series.instance_numbers.get(k).copied()),
            mr_mean_si: mr_slice.map(|_| mr_si),
            mr_muscle_si: mr_slice.map(|_| muscle_si),
        }
    }

    /// The RECIST value of a target: short axis for nodes, else long axis.
    pub fn recist_diameter_mm(&self) -> f64 {
        if self.lymph_node {
            self.short_axis_mm
        } else {
            self.long_axis_mm
        }
    }
}

impl GroundTruth {
    pub(crate) fn new(
        patient: &PatientInfo,
        visits: &[(&str, &str, u32)],
        series: Vec<SeriesTruth>,
        lesions: Vec<LesionTruth>,
    ) -> Self {
        let mut summaries: Vec<VisitSummary> = Vec::new();
        let mut nadir = f64::INFINITY;
        for &(label, date, days) in visits {
            let targets: Vec<&LesionTruth> = lesions
                .iter()
                .filter(|l| l.visit == label && l.category == "target")
                .collect();
            let sum_mm: f64 = targets.iter().map(|l| l.recist_diameter_mm()).sum();
            let volume_ml: f64 = targets.iter().map(|l| l.volume_ml).sum();
            let ratios: Vec<f64> = targets
                .iter()
                .filter_map(|l| Some(l.mr_mean_si? / l.mr_muscle_si?))
                .collect();
            let t2_ratio =
                (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64);
            let baseline = summaries.first();
            let response = match baseline {
                None => "baseline".to_string(),
                Some(b) => {
                    let all_gone = targets.iter().all(|l| {
                        if l.lymph_node {
                            l.short_axis_mm < 10.0
                        } else {
                            l.long_axis_mm == 0.0
                        }
                    });
                    if all_gone {
                        "CR"
                    } else if sum_mm >= 1.2 * nadir - 1e-6 && sum_mm - nadir >= 5.0 - 1e-6 {
                        "PD"
                    } else if sum_mm <= 0.7 * b.sum_mm + 1e-6 {
                        "PR"
                    } else {
                        "SD"
                    }
                    .to_string()
                }
            };
            let summary = VisitSummary {
                visit: label.to_string(),
                date: date.to_string(),
                days_from_baseline: days,
                sum_mm,
                change_from_baseline_pct: baseline.and_then(|b| pct_change(sum_mm, b.sum_mm)),
                target_response_by_sum: response,
                volume_ml,
                volume_change_from_baseline_pct: baseline
                    .and_then(|b| pct_change(volume_ml, b.volume_ml)),
                t2_ratio,
                t2_ratio_change_from_baseline_pct: baseline
                    .and_then(|b| pct_change(t2_ratio?, b.t2_ratio?)),
            };
            nadir = nadir.min(sum_mm);
            summaries.push(summary);
        }
        Self {
            description: "Nadir synthetic patient: contrast CT (lung bases to kidneys) and axial \
                          T2-weighted MR at baseline, week 8 and week 16; four target lesions and \
                          one non-target lesion shrinking to a partial response. Not a real patient."
                .to_string(),
            generator: "nadir synth sample_scans".to_string(),
            coordinates: "LPS millimetres. ct_centre_mm / mr_centre_mm are in the named series' \
                          patient coordinates; anatomy_centre_mm = centre - patient_offset_mm of \
                          that series. Slices ascend in z; InstanceNumber 1 is the most superior \
                          slice. Lesion diameters are on the axial plane through the centre."
                .to_string(),
            patient_id: patient.id.clone(),
            patient_name: patient.name.clone(),
            patient_birth_date: patient.birth_date.clone(),
            patient_sex: patient.sex.clone(),
            visits: summaries,
            series,
            lesions,
        }
    }

    /// The RECIST lesion table (interchange §1) of the truth: targets with
    /// both diameters, volume and T2 values; non-targets `present` without
    /// measurements.
    pub fn lesion_table(&self) -> Vec<LesionTableRow> {
        self.lesions
            .iter()
            .map(|l| {
                let target = l.category == "target";
                LesionTableRow {
                    patient_id: self.patient_id.clone(),
                    visit: l.visit.clone(),
                    date: l.date.clone(),
                    lesion_id: l.lesion_id.clone(),
                    category: l.category.clone(),
                    organ: l.organ.clone(),
                    lymph_node: l.lymph_node,
                    long_axis_mm: target.then_some(round_to(l.long_axis_mm, 2)),
                    short_axis_mm: target.then_some(round_to(l.short_axis_mm, 2)),
                    status: if target { "measured" } else { "present" }.to_string(),
                    volume_ml: target.then_some(round_to(l.volume_ml, 3)),
                    t2_si: if target {
                        l.mr_mean_si.map(|v| round_to(v, 2))
                    } else {
                        None
                    },
                    t2_ref_si: if target {
                        l.mr_muscle_si.map(|v| round_to(v, 2))
                    } else {
                        None
                    },
                }
            })
            .collect()
    }
}
