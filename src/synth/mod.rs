//! Deterministic synthetic patient and benchmark series (`nadir synth`).
//!
//! Pure: builds image series in memory ([`SynthSeries`]) and their ground
//! truth ([`GroundTruth`]); writing DICOM files is `crate::dicom::write`'s job
//! and writing the folder is `crate::cli::synth`'s. No I/O, no clock, no
//! DICOM crates. The same call always returns the same bytes: noise comes
//! from a seeded SplitMix64 per slice, UIDs from SHA-256 of descriptive text.
//!
//! - [`sample_patient`]: one patient (`NADIR-SYN-001`) with a contrast CT of
//!   the lower chest and upper abdomen and an axial T2-weighted MR series at
//!   baseline, week 8 and week 16. Four target lesions (lung nodule, liver
//!   metastasis, desmoid-like abdominal-wall mass, para-aortic lymph node) and
//!   one non-target liver lesion shrink: SD at week 8, PR at week 16; the
//!   lesions' T2 signal falls relative to muscle.
//! - [`benchmark_ct`]: one CT series of any size through the same anatomy,
//!   for decoder benchmarks.
//!
//! Coordinates are DICOM patient coordinates (LPS, mm). The phantom's
//! anatomy lives in its own "anatomy" coordinates; each series places the
//! patient at an offset (table position), so `patient = anatomy + offset`.

pub mod anatomy;
pub mod lesion;
pub mod noise;
mod render;
pub mod truth;

use ndarray::Array3;
use sha2::{Digest, Sha256};

pub use anatomy::{Anatomy, MUSCLE_T2_SI, Tissue};
pub use lesion::Ellipsoid;
pub use truth::{GroundTruth, LesionTableRow, LesionTruth, SeriesTruth, VisitSummary};

/// Errors of the generator.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SynthError {
    /// A requested size is zero or too large for DICOM's 16-bit Rows/Columns.
    #[error("invalid size: {what} = {value} (allowed 1..={max})")]
    InvalidSize {
        /// Which dimension.
        what: &'static str,
        /// The value asked for.
        value: usize,
        /// Largest allowed value.
        max: usize,
    },
}

/// Imaging modality of a synthetic series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    /// Computed tomography (CT Image Storage).
    Ct,
    /// Magnetic resonance (MR Image Storage).
    Mr,
}

impl Modality {
    /// DICOM Modality code.
    pub fn code(self) -> &'static str {
        match self {
            Modality::Ct => "CT",
            Modality::Mr => "MR",
        }
    }
}

/// Patient module attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientInfo {
    /// PatientName in DICOM PN form (`FAMILY^GIVEN`).
    pub name: String,
    /// PatientID.
    pub id: String,
    /// PatientBirthDate, `YYYYMMDD`.
    pub birth_date: String,
    /// PatientSex: `F`, `M` or `O`.
    pub sex: String,
}

/// MR acquisition parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MrParameters {
    /// EchoTime, ms.
    pub echo_time_ms: f64,
    /// RepetitionTime, ms.
    pub repetition_time_ms: f64,
    /// EchoTrainLength.
    pub echo_train_length: u32,
    /// MagneticFieldStrength, tesla.
    pub magnetic_field_strength_t: f64,
    /// FlipAngle, degrees.
    pub flip_angle_deg: f64,
}

/// One image series in memory, with everything a writer needs.
///
/// Slices are stored in ascending position along the slice normal
/// (row direction × column direction; for axial slices: foot to head), the
/// order `nadir inspect` sorts into. Instance numbers run the other way, as
/// a head-first scanner numbers them: `instance_numbers[k] = slices - k`.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthSeries {
    /// Patient module.
    pub patient: PatientInfo,
    /// StudyInstanceUID.
    pub study_instance_uid: String,
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// FrameOfReferenceUID.
    pub frame_of_reference_uid: String,
    /// SOPInstanceUID of each slice, in slice order.
    pub sop_instance_uids: Vec<String>,
    /// InstanceNumber of each slice, in slice order.
    pub instance_numbers: Vec<u32>,
    /// StudyDate (also SeriesDate, ContentDate), `YYYYMMDD`.
    pub study_date: String,
    /// StudyTime, `HHMMSS`.
    pub study_time: String,
    /// StudyID.
    pub study_id: String,
    /// AccessionNumber.
    pub accession_number: String,
    /// StudyDescription.
    pub study_description: String,
    /// SeriesDescription.
    pub series_description: String,
    /// SeriesNumber.
    pub series_number: u32,
    /// Modality.
    pub modality: Modality,
    /// BodyPartExamined.
    pub body_part: String,
    /// Rows (image height).
    pub rows: usize,
    /// Columns (image width).
    pub columns: usize,
    /// PixelSpacing `[row spacing, column spacing]`, mm.
    pub pixel_spacing_mm: [f64; 2],
    /// SliceThickness, mm.
    pub slice_thickness_mm: f64,
    /// SpacingBetweenSlices (centre to centre), mm.
    pub slice_spacing_mm: f64,
    /// ImagePositionPatient of each slice (centre of its first pixel), LPS mm.
    pub slice_positions: Vec<[f64; 3]>,
    /// ImageOrientationPatient: row direction cosines, then column ones.
    pub orientation: [f64; 6],
    /// RescaleSlope (CT; 1 for MR).
    pub rescale_slope: f64,
    /// RescaleIntercept (CT; 0 for MR).
    pub rescale_intercept: f64,
    /// WindowCenter.
    pub window_center: f64,
    /// WindowWidth.
    pub window_width: f64,
    /// MR acquisition parameters (`None` for CT).
    pub mr: Option<MrParameters>,
    /// BitsStored (BitsAllocated is 16).
    pub bits_stored: u16,
    /// PixelRepresentation: 0 unsigned, 1 two's complement.
    pub pixel_representation: u16,
    /// Stored pixel values, `[slice, row, column]`.
    pub stored: Array3<i16>,
}

impl SynthSeries {
    /// Number of slices.
    pub fn slices(&self) -> usize {
        self.slice_positions.len()
    }

    /// Rescaled value (HU for CT) of a stored value.
    pub fn rescaled(&self, stored: i16) -> f64 {
        f64::from(stored) * self.rescale_slope + self.rescale_intercept
    }
}

/// The sample patient: its series and their ground truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplePatient {
    /// All series; `truth.series[i]` describes `series[i]` (and names the
    /// folder it goes in).
    pub series: Vec<SynthSeries>,
    /// Ground truth.
    pub truth: GroundTruth,
}

/// A DICOM UID `2.25.<decimal of the first 128 bits of SHA-256(text)>`, and a
/// 64-bit seed from the next bits.
pub fn uid_from_text(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut first = [0_u8; 16];
    for (slot, byte) in first.iter_mut().zip(digest.iter()) {
        *slot = *byte;
    }
    format!("2.25.{}", u128::from_be_bytes(first))
}

/// A 64-bit seed from SHA-256 of `text`.
pub fn seed_from_text(text: &str) -> u64 {
    let digest = Sha256::digest(text.as_bytes());
    let mut bytes = [0_u8; 8];
    for (slot, byte) in bytes.iter_mut().zip(digest.iter().skip(16)) {
        *slot = *byte;
    }
    u64::from_be_bytes(bytes)
}

/// The sample patient's demographics.
pub fn sample_patient_info() -> PatientInfo {
    PatientInfo {
        name: "SYNTHETIC^NADIR".to_string(),
        id: "NADIR-SYN-001".to_string(),
        birth_date: "19650312".to_string(),
        sex: "F".to_string(),
    }
}

/// A visit of the sample patient.
#[derive(Debug, Clone, Copy)]
struct Visit {
    label: &'static str,
    date_iso: &'static str,
    days_from_baseline: u32,
    /// Table offset of the CT (anatomy → patient), mm.
    ct_offset_mm: [f64; 3],
    /// Table offset of the MR, mm.
    mr_offset_mm: [f64; 3],
    /// MR receiver gain: scales every signal, so only ratios are comparable.
    mr_gain: f64,
}

const VISITS: [Visit; 3] = [
    Visit {
        label: "baseline",
        date_iso: "2024-01-08",
        days_from_baseline: 0,
        ct_offset_mm: [0.0, 0.0, 0.0],
        mr_offset_mm: [1.5, -4.0, 30.0],
        mr_gain: 1.0,
    },
    Visit {
        label: "W8",
        date_iso: "2024-03-04",
        days_from_baseline: 56,
        ct_offset_mm: [2.5, -3.0, 10.0],
        mr_offset_mm: [-2.0, -1.0, 25.0],
        mr_gain: 1.1,
    },
    Visit {
        label: "W16",
        date_iso: "2024-04-29",
        days_from_baseline: 112,
        ct_offset_mm: [-1.5, 2.0, -15.0],
        mr_offset_mm: [0.5, 3.0, 35.0],
        mr_gain: 0.95,
    },
];

/// A lesion of the sample patient, at every visit.
#[derive(Debug, Clone, Copy)]
struct LesionSpec {
    lesion_id: &'static str,
    category: &'static str,
    organ: &'static str,
    lymph_node: bool,
    centre_mm: [f64; 3],
    rotation_deg: f64,
    /// Semi-axes `[a, b, c]` at each visit, mm.
    semi_axes_mm: [[f64; 3]; 3],
    ct_hu: f64,
    /// Lesion-to-muscle T2 signal ratio at each visit.
    t2_ratio: [f64; 3],
}

const LESIONS: [LesionSpec; 5] = [
    LesionSpec {
        lesion_id: "T1",
        category: "target",
        organ: "lung",
        lymph_node: false,
        centre_mm: [-90.0, 40.0, 45.0],
        rotation_deg: 35.0,
        semi_axes_mm: [[12.5, 9.0, 10.0], [10.0, 7.4, 8.2], [7.0, 5.3, 6.0]],
        ct_hu: 35.0,
        t2_ratio: [2.4, 2.3, 2.2],
    },
    LesionSpec {
        lesion_id: "T2",
        category: "target",
        organ: "liver",
        lymph_node: false,
        centre_mm: [-75.0, 10.0, -45.0],
        rotation_deg: -25.0,
        semi_axes_mm: [[22.0, 16.5, 18.0], [18.0, 13.5, 14.8], [13.5, 10.2, 11.0]],
        ct_hu: 50.0,
        t2_ratio: [3.5, 3.3, 3.0],
    },
    LesionSpec {
        lesion_id: "T3",
        category: "target",
        organ: "abdominal wall",
        lymph_node: false,
        centre_mm: [45.0, -92.0, -70.0],
        rotation_deg: 15.0,
        semi_axes_mm: [[30.0, 13.0, 24.0], [27.0, 12.0, 21.5], [23.5, 10.5, 19.0]],
        ct_hu: 95.0,
        t2_ratio: [3.2, 2.6, 2.0],
    },
    LesionSpec {
        lesion_id: "N1",
        category: "target",
        organ: "lymph node",
        lymph_node: true,
        centre_mm: [35.0, 12.0, -80.0],
        rotation_deg: 60.0,
        semi_axes_mm: [[13.0, 9.0, 11.0], [9.5, 6.5, 8.0], [8.0, 5.5, 7.0]],
        ct_hu: 60.0,
        t2_ratio: [2.3, 2.1, 2.0],
    },
    LesionSpec {
        lesion_id: "NT1",
        category: "non_target",
        organ: "liver",
        lymph_node: false,
        centre_mm: [-45.0, -30.0, -55.0],
        rotation_deg: 10.0,
        semi_axes_mm: [[7.5, 6.0, 6.5], [6.5, 5.2, 5.6], [6.0, 4.8, 5.2]],
        ct_hu: 45.0,
        t2_ratio: [3.4, 3.3, 3.2],
    },
];

impl LesionSpec {
    fn ellipsoid(&self, visit: usize) -> Ellipsoid {
        Ellipsoid {
            centre_mm: self.centre_mm,
            semi_axes_mm: self.semi_axes_mm.get(visit).copied().unwrap_or([0.0; 3]),
            rotation_deg: self.rotation_deg,
        }
    }
}

/// Sample CT geometry: 256² at 1.5 mm, 38 axial slices of 5 mm from the lung
/// bases (anatomy z = +75) to the lower renal poles (z = −110).
const CT_MATRIX: usize = 256;
const CT_PIXEL_MM: f64 = 1.5;
const CT_SLICES: usize = 38;
const CT_SLICE_MM: f64 = 5.0;
const CT_TOP_Z_MM: f64 = 75.0;
/// Sample MR geometry: 192² at 2 mm, 20 contiguous 5 mm slices through the
/// abdominal lesions (anatomy z = −120 … −25), every lesion centre on a slice.
const MR_MATRIX: usize = 192;
const MR_PIXEL_MM: f64 = 2.0;
const MR_SLICES: usize = 20;
const MR_THICKNESS_MM: f64 = 5.0;
const MR_SPACING_MM: f64 = 5.0;
const MR_TOP_Z_MM: f64 = -25.0;
/// In-plane image centre (x, y) in anatomy coordinates: the body plus table.
const FOV_CENTRE_MM: [f64; 2] = [0.0, 10.0];
/// Noise of a 5 mm CT slice, HU (scaled by √(5 mm / thickness)).
const CT_NOISE_HU_AT_5MM: f64 = 12.0;
/// MR noise (Gaussian σ of each channel before the magnitude), at unit gain.
const MR_NOISE_SI: f64 = 15.0;

const AXIAL: [f64; 6] = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];

/// Positions of axial slices in ascending z, the top one at `top_z`.
fn axial_positions(
    slices: usize,
    rows: usize,
    columns: usize,
    pixel_mm: f64,
    top_z: f64,
    spacing: f64,
    offset: [f64; 3],
) -> Vec<[f64; 3]> {
    let x0 = FOV_CENTRE_MM[0] - (columns as f64 - 1.0) / 2.0 * pixel_mm;
    let y0 = FOV_CENTRE_MM[1] - (rows as f64 - 1.0) / 2.0 * pixel_mm;
    (0..slices)
        .map(|k| {
            let z = top_z - spacing * (slices - 1 - k) as f64;
            [x0 + offset[0], y0 + offset[1], z + offset[2]]
        })
        .collect()
}

/// Instance numbers for slices in ascending z: 1 = most superior.
fn instance_numbers(slices: usize) -> Vec<u32> {
    (0..slices)
        .map(|k| u32::try_from(slices - k).unwrap_or(u32::MAX))
        .collect()
}

fn sop_uids(series_key: &str, instance_numbers: &[u32]) -> Vec<String> {
    instance_numbers
        .iter()
        .map(|n| uid_from_text(&format!("{series_key}/instance/{n}")))
        .collect()
}

/// Round to `decimals` decimal places (for CSV output of derived values).
pub(crate) fn round_to(value: f64, decimals: i32) -> f64 {
    let factor = 10_f64.powi(decimals);
    (value * factor).round() / factor
}

/// The sample patient: CT and MR at baseline, week 8 and week 16, with
/// ground truth. Deterministic; takes a few seconds in a debug build.
pub fn sample_patient() -> SamplePatient {
    let anatomy = Anatomy::new();
    let patient = sample_patient_info();
    let mut series = Vec::new();
    let mut series_truth = Vec::new();
    let mut lesion_truth = Vec::new();
    for (visit_index, visit) in VISITS.iter().enumerate() {
        let date_da = visit.date_iso.replace('-', "");
        let visit_dir = format!("{}_{}", visit.label, visit.date_iso);
        let lesions: Vec<render::SceneLesion> = LESIONS
            .iter()
            .map(|spec| render::SceneLesion {
                ellipsoid: spec.ellipsoid(visit_index),
                ct_hu: spec.ct_hu,
                t2_si: spec.t2_ratio.get(visit_index).copied().unwrap_or(1.0)
                    * MUSCLE_T2_SI
                    * visit.mr_gain,
            })
            .collect();
        // CT.
        let ct_key = format!("nadir synth/{}/{}/CT", patient.id, visit.label);
        let ct_positions = axial_positions(
            CT_SLICES,
            CT_MATRIX,
            CT_MATRIX,
            CT_PIXEL_MM,
            CT_TOP_Z_MM,
            CT_SLICE_MM,
            visit.ct_offset_mm,
        );
        let ct_instances = instance_numbers(CT_SLICES);
        let mut ct = SynthSeries {
            patient: patient.clone(),
            study_instance_uid: uid_from_text(&format!("{ct_key}/study")),
            series_instance_uid: uid_from_text(&format!("{ct_key}/series")),
            frame_of_reference_uid: uid_from_text(&format!("{ct_key}/frame of reference")),
            sop_instance_uids: sop_uids(&ct_key, &ct_instances),
            instance_numbers: ct_instances,
            study_date: date_da.clone(),
            study_time: "091230".to_string(),
            study_id: format!("{}", 1001 + visit_index * 2),
            accession_number: format!("SYN{}CT", date_da),
            study_description: "CT CHEST ABDOMEN WITH CONTRAST".to_string(),
            series_description: "Chest/Abdomen 5.0 mm portal venous".to_string(),
            series_number: 3,
            modality: Modality::Ct,
            body_part: "CHEST".to_string(),
            rows: CT_MATRIX,
            columns: CT_MATRIX,
            pixel_spacing_mm: [CT_PIXEL_MM, CT_PIXEL_MM],
            slice_thickness_mm: CT_SLICE_MM,
            slice_spacing_mm: CT_SLICE_MM,
            slice_positions: ct_positions,
            orientation: AXIAL,
            rescale_slope: 1.0,
            rescale_intercept: -1024.0,
            window_center: 40.0,
            window_width: 400.0,
            mr: None,
            bits_stored: 12,
            pixel_representation: 0,
            stored: Array3::zeros((0, 0, 0)),
        };
        ct.stored = render::render(
            &ct,
            &render::Scene {
                anatomy: &anatomy,
                lesions: &lesions,
                offset_mm: visit.ct_offset_mm,
                mr_gain: 1.0,
                noise: CT_NOISE_HU_AT_5MM,
                seed: seed_from_text(&ct_key),
            },
        );
        // MR.
        let mr_key = format!("nadir synth/{}/{}/MR", patient.id, visit.label);
        let mr_positions = axial_positions(
            MR_SLICES,
            MR_MATRIX,
            MR_MATRIX,
            MR_PIXEL_MM,
            MR_TOP_Z_MM,
            MR_SPACING_MM,
            visit.mr_offset_mm,
        );
        let mr_instances = instance_numbers(MR_SLICES);
        let mut mr = SynthSeries {
            patient: patient.clone(),
            study_instance_uid: uid_from_text(&format!("{mr_key}/study")),
            series_instance_uid: uid_from_text(&format!("{mr_key}/series")),
            frame_of_reference_uid: uid_from_text(&format!("{mr_key}/frame of reference")),
            sop_instance_uids: sop_uids(&mr_key, &mr_instances),
            instance_numbers: mr_instances,
            study_date: date_da.clone(),
            study_time: "140500".to_string(),
            study_id: format!("{}", 1002 + visit_index * 2),
            accession_number: format!("SYN{}MR", date_da),
            study_description: "MR ABDOMEN".to_string(),
            series_description: "T2 TSE AX".to_string(),
            series_number: 5,
            modality: Modality::Mr,
            body_part: "ABDOMEN".to_string(),
            rows: MR_MATRIX,
            columns: MR_MATRIX,
            pixel_spacing_mm: [MR_PIXEL_MM, MR_PIXEL_MM],
            slice_thickness_mm: MR_THICKNESS_MM,
            slice_spacing_mm: MR_SPACING_MM,
            slice_positions: mr_positions,
            orientation: AXIAL,
            rescale_slope: 1.0,
            rescale_intercept: 0.0,
            window_center: 700.0,
            window_width: 1400.0,
            mr: Some(MrParameters {
                echo_time_ms: 100.0,
                repetition_time_ms: 4000.0,
                echo_train_length: 16,
                magnetic_field_strength_t: 1.5,
                flip_angle_deg: 90.0,
            }),
            bits_stored: 12,
            pixel_representation: 0,
            stored: Array3::zeros((0, 0, 0)),
        };
        mr.stored = render::render(
            &mr,
            &render::Scene {
                anatomy: &anatomy,
                lesions: &lesions,
                offset_mm: visit.mr_offset_mm,
                mr_gain: visit.mr_gain,
                noise: MR_NOISE_SI,
                seed: seed_from_text(&mr_key),
            },
        );
        for (s, modality_dir, offset) in [
            (&ct, "CT_chest_abdomen", visit.ct_offset_mm),
            (&mr, "MR_T2_TSE_AX", visit.mr_offset_mm),
        ] {
            series_truth.push(SeriesTruth::describe(
                s,
                visit.label,
                visit.date_iso,
                &format!("{visit_dir}/{modality_dir}"),
                offset,
            ));
        }
        for spec in &LESIONS {
            let ellipsoid = spec.ellipsoid(visit_index);
            let muscle_si = MUSCLE_T2_SI * visit.mr_gain;
            let ratio = spec.t2_ratio.get(visit_index).copied().unwrap_or(1.0);
            lesion_truth.push(truth::LesionTruth::new(
                truth::LesionIdentity {
                    lesion_id: spec.lesion_id,
                    category: spec.category,
                    organ: spec.organ,
                    lymph_node: spec.lymph_node,
                },
                visit.label,
                visit.date_iso,
                &ellipsoid,
                spec.ct_hu,
                (&ct, visit.ct_offset_mm),
                (&mr, visit.mr_offset_mm, ratio * muscle_si, muscle_si),
            ));
        }
        series.push(ct);
        series.push(mr);
    }
    let visits = VISITS
        .iter()
        .map(|v| (v.label, v.date_iso, v.days_from_baseline))
        .collect::<Vec<_>>();
    let truth = GroundTruth::new(&patient, &visits, series_truth, lesion_truth);
    SamplePatient { series, truth }
}

/// Largest Rows/Columns the benchmark generator accepts.
pub const MAX_MATRIX: usize = 4096;
/// Largest number of benchmark slices.
pub const MAX_SLICES: usize = 20_000;
/// Benchmark slice thickness and spacing, mm.
pub const BENCHMARK_SLICE_MM: f64 = 1.25;
/// Benchmark field of view across the larger matrix dimension, mm.
pub const BENCHMARK_FOV_MM: f64 = 380.0;

/// A contrast CT of `slices` axial slices (1.25 mm, from the lung apices
/// down) of `rows × columns` pixels over a 380 mm field of view, through the
/// sample patient's anatomy and baseline lesions, with realistic noise, air
/// outside the body, a reconstruction circle and the table. Stored unsigned,
/// 12 bits, intercept −1024.
pub fn benchmark_ct(slices: usize, rows: usize, columns: usize) -> Result<SynthSeries, SynthError> {
    for (what, value, max) in [
        ("slices", slices, MAX_SLICES),
        ("rows", rows, MAX_MATRIX),
        ("columns", columns, MAX_MATRIX),
    ] {
        if value == 0 || value > max {
            return Err(SynthError::InvalidSize { what, value, max });
        }
    }
    let anatomy = Anatomy::new();
    let pixel_mm = BENCHMARK_FOV_MM / rows.max(columns) as f64;
    let key = format!("nadir synth/benchmark/{slices}x{rows}x{columns}");
    let top_z = 150.0;
    let positions = axial_positions(
        slices,
        rows,
        columns,
        pixel_mm,
        top_z,
        BENCHMARK_SLICE_MM,
        [0.0; 3],
    );
    let instances = instance_numbers(slices);
    let lesions: Vec<render::SceneLesion> = LESIONS
        .iter()
        .map(|spec| render::SceneLesion {
            ellipsoid: spec.ellipsoid(0),
            ct_hu: spec.ct_hu,
            t2_si: 0.0,
        })
        .collect();
    let mut series = SynthSeries {
        patient: PatientInfo {
            name: "SYNTHETIC^BENCHMARK".to_string(),
            id: "NADIR-BENCH".to_string(),
            birth_date: "19650312".to_string(),
            sex: "F".to_string(),
        },
        study_instance_uid: uid_from_text(&format!("{key}/study")),
        series_instance_uid: uid_from_text(&format!("{key}/series")),
        frame_of_reference_uid: uid_from_text(&format!("{key}/frame of reference")),
        sop_instance_uids: sop_uids(&key, &instances),
        instance_numbers: instances,
        study_date: "20240108".to_string(),
        study_time: "091230".to_string(),
        study_id: "9001".to_string(),
        accession_number: "SYNBENCH".to_string(),
        study_description: "CT CHEST ABDOMEN PELVIS WITH CONTRAST".to_string(),
        series_description: format!("Benchmark {slices} x {rows} x {columns} 1.25 mm"),
        series_number: 2,
        modality: Modality::Ct,
        body_part: "CHEST".to_string(),
        rows,
        columns,
        pixel_spacing_mm: [pixel_mm, pixel_mm],
        slice_thickness_mm: BENCHMARK_SLICE_MM,
        slice_spacing_mm: BENCHMARK_SLICE_MM,
        slice_positions: positions,
        orientation: AXIAL,
        rescale_slope: 1.0,
        rescale_intercept: -1024.0,
        window_center: 40.0,
        window_width: 400.0,
        mr: None,
        bits_stored: 12,
        pixel_representation: 0,
        stored: Array3::zeros((0, 0, 0)),
    };
    series.stored = render::render(
        &series,
        &render::Scene {
            anatomy: &anatomy,
            lesions: &lesions,
            offset_mm: [0.0; 3],
            mr_gain: 1.0,
            noise: CT_NOISE_HU_AT_5MM,
            seed: seed_from_text(&key),
        },
    );
    Ok(series)
}

/// The sample patient, generated once per test binary.
#[cfg(test)]
pub(crate) fn cached_sample_patient() -> &'static SamplePatient {
    static PATIENT: std::sync::OnceLock<SamplePatient> = std::sync::OnceLock::new();
    PATIENT.get_or_init(sample_patient)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient() -> &'static SamplePatient {
        cached_sample_patient()
    }

    #[test]
    fn uids_are_valid_and_deterministic() {
        let a = uid_from_text("x");
        assert_eq!(a, uid_from_text("x"));
        assert_ne!(a, uid_from_text("y"));
        assert!(a.starts_with("2.25."));
        assert!(a.len() <= 64);
        let digits = a.trim_start_matches("2.25.");
        assert!(digits.chars().all(|c| c.is_ascii_digit()));
        assert!(!digits.starts_with('0') || digits == "0");
    }

    #[test]
    fn sample_patient_has_ct_and_mr_per_visit() {
        let p = patient();
        assert_eq!(p.series.len(), 6);
        assert_eq!(p.truth.series.len(), 6);
        for (s, t) in p.series.iter().zip(&p.truth.series) {
            assert_eq!(s.series_instance_uid, t.series_instance_uid);
            assert_eq!(s.modality.code(), t.modality);
            assert_eq!(s.stored.dim(), (s.slices(), s.rows, s.columns));
            assert_eq!(s.sop_instance_uids.len(), s.slices());
        }
        let modalities: Vec<_> = p.series.iter().map(|s| s.modality.code()).collect();
        assert_eq!(modalities, ["CT", "MR", "CT", "MR", "CT", "MR"]);
    }

    #[test]
    fn sample_patient_is_deterministic() {
        let again = sample_patient();
        assert!(again == *patient());
    }

    #[test]
    fn all_uids_are_distinct() {
        let p = patient();
        let mut uids = std::collections::BTreeSet::new();
        let mut count = 0;
        for s in &p.series {
            for uid in [&s.series_instance_uid, &s.frame_of_reference_uid]
                .into_iter()
                .chain(&s.sop_instance_uids)
            {
                uids.insert(uid.clone());
                count += 1;
            }
        }
        assert_eq!(uids.len(), count);
    }

    #[test]
    fn sample_fits_twenty_megabytes_uncompressed() {
        let bytes: usize = patient().series.iter().map(|s| s.stored.len() * 2).sum();
        assert!(bytes < 20 * 1024 * 1024, "{bytes} bytes");
    }

    #[test]
    fn stored_values_fit_bits_stored() {
        for s in &patient().series {
            let max = (1_i32 << s.bits_stored) - 1;
            assert!(s.stored.iter().all(|&v| (0..=max).contains(&i32::from(v))));
        }
    }

    #[test]
    fn slices_ascend_and_instances_descend() {
        for s in &patient().series {
            for pair in s.slice_positions.windows(2) {
                let step = pair[1][2] - pair[0][2];
                assert!((step - s.slice_spacing_mm).abs() < 1e-9);
            }
            assert_eq!(
                s.instance_numbers.first().copied(),
                u32::try_from(s.slices()).ok()
            );
            assert_eq!(s.instance_numbers.last().copied(), Some(1));
        }
    }

    #[test]
    fn target_sum_gives_sd_then_pr() {
        let summary = &patient().truth.visits;
        assert_eq!(summary.len(), 3);
        let baseline = summary[0].sum_mm;
        assert!((baseline - 147.0).abs() < 1e-9);
        let w8 = summary[1].sum_mm;
        let w16 = summary[2].sum_mm;
        // Week 8: a decrease, but less than 30 %: SD (no PD: below baseline/nadir).
        assert!(w8 < baseline && w8 > 0.7 * baseline);
        assert_eq!(summary[1].target_response_by_sum, "SD");
        // Week 16: at least 30 % below baseline: PR.
        assert!(w16 <= 0.7 * baseline);
        assert_eq!(summary[2].target_response_by_sum, "PR");
    }

    #[test]
    fn baseline_targets_are_measurable() {
        for l in patient()
            .truth
            .lesions
            .iter()
            .filter(|l| l.visit == "baseline")
        {
            if l.category != "target" {
                continue;
            }
            if l.lymph_node {
                assert!(l.short_axis_mm >= 15.0, "{}", l.lesion_id);
            } else {
                assert!(l.long_axis_mm >= 10.0, "{}", l.lesion_id);
            }
        }
    }

    #[test]
    fn node_shrinks_from_18_to_11_mm() {
        let sa: Vec<f64> = patient()
            .truth
            .lesions
            .iter()
            .filter(|l| l.lesion_id == "N1")
            .map(|l| l.short_axis_mm)
            .collect();
        assert_eq!(sa, [18.0, 13.0, 11.0]);
    }

    #[test]
    fn desmoid_t2_ratio_falls() {
        let ratios: Vec<f64> = patient()
            .truth
            .lesions
            .iter()
            .filter(|l| l.lesion_id == "T3")
            .filter_map(|l| Some(l.mr_mean_si? / l.mr_muscle_si?))
            .collect();
        assert_eq!(ratios.len(), 3);
        assert!((ratios[0] - 3.2).abs() < 1e-9);
        assert!((ratios[2] - 2.0).abs() < 1e-9);
        assert!(ratios[0] > ratios[1] && ratios[1] > ratios[2]);
    }

    /// Centre voxel and mean HU: the lesion centre lies on a CT slice plane
    /// and the image there shows the lesion's attenuation.
    #[test]
    fn ct_lesion_centres_show_lesion_attenuation() {
        let p = patient();
        for l in &p.truth.lesions {
            let series = p
                .series
                .iter()
                .find(|s| s.series_instance_uid == l.ct_series_instance_uid)
                .expect("series");
            let k = l.ct_slice_index.expect("on a CT slice");
            let [x, y, _] = l.ct_centre_mm;
            let origin = series.slice_positions[k];
            let col = ((x - origin[0]) / series.pixel_spacing_mm[1]).round() as usize;
            let row = ((y - origin[1]) / series.pixel_spacing_mm[0]).round() as usize;
            // Mean over a 3×3 patch (noise ~12 HU per pixel, correlated).
            let mut sum = 0.0;
            for dr in 0..3 {
                for dc in 0..3 {
                    sum += series.rescaled(series.stored[[k, row + dr - 1, col + dc - 1]]);
                }
            }
            let mean = sum / 9.0;
            assert!(
                (mean - l.ct_mean_hu).abs() < 20.0,
                "{} {}: {mean}",
                l.lesion_id,
                l.visit
            );
        }
    }

    #[test]
    fn abdominal_lesion_centres_lie_on_mr_slices() {
        let p = patient();
        for l in p.truth.lesions.iter().filter(|l| l.lesion_id != "T1") {
            let mr = p
                .series
                .iter()
                .find(|s| s.series_instance_uid == l.mr_series_instance_uid)
                .expect("series");
            let instance = l.mr_instance_number.expect("covered by the MR");
            let k = mr
                .instance_numbers
                .iter()
                .position(|&n| n == instance)
                .expect("slice");
            assert!((mr.slice_positions[k][2] - l.mr_centre_mm[2]).abs() < 1e-9);
            assert!(l.mr_mean_si.is_some() && l.mr_muscle_si.is_some());
        }
        // The lung nodule lies above the MR's field.
        assert!(
            p.truth
                .lesions
                .iter()
                .filter(|l| l.lesion_id == "T1")
                .all(|l| l.mr_mean_si.is_none())
        );
    }

    #[test]
    fn benchmark_rejects_bad_sizes() {
        assert!(benchmark_ct(0, 16, 16).is_err());
        assert!(benchmark_ct(1, 0, 16).is_err());
        assert!(benchmark_ct(1, 16, MAX_MATRIX + 1).is_err());
    }

    #[test]
    fn benchmark_is_deterministic_and_sized() {
        let a = benchmark_ct(3, 64, 48).expect("valid");
        let b = benchmark_ct(3, 64, 48).expect("valid");
        assert!(a == b);
        assert_eq!(a.stored.dim(), (3, 64, 48));
        // Air outside the body, tissue inside.
        let corner = a.rescaled(a.stored[[0, 0, 0]]);
        assert!(corner <= -900.0);
    }
}
