//! Writing synthetic series as DICOM files: one CT Image Storage or MR Image
//! Storage object per slice, with a proper file meta group, in a chosen
//! transfer syntax.
//!
//! Native syntaxes (explicit / implicit VR little endian, deflated explicit
//! VR little endian) are written directly. Encapsulated syntaxes are encoded
//! frame by frame with the encoders `dicom-transfer-syntax-registry`
//! registers: JPEG-LS lossless and near-lossless (CharLS) and encapsulated
//! uncompressed. The registry has no encoder for RLE, JPEG lossless
//! (process 14) or JPEG 2000 in this build, and its JPEG baseline encoder
//! narrows 12-bit data to 8 bits without adjusting the rescale, so it is not
//! offered: use gdcm/dcmtk for those.

use std::path::{Path, PathBuf};

use dicom_core::ops::ApplyOp;
use dicom_core::value::PixelFragmentSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR, dicom_value};
use dicom_dictionary_std::{tags, uids};
use dicom_encoding::adapters::EncodeOptions;
use dicom_encoding::transfer_syntax::{Codec, TransferSyntaxIndex};
use dicom_object::{FileDicomObject, FileMetaTableBuilder, InMemDicomObject};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::synth::{Modality, SynthSeries, uid_from_text};

/// Manufacturer (0008,0070) of every synthetic object.
pub const MANUFACTURER: &str = "Nadir synthetic phantom";
/// ImplementationVersionName (0002,0013) of the file meta group.
pub const IMPLEMENTATION_VERSION_NAME: &str = "NADIR_SYNTH_1";

/// Transfer syntaxes the writer can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteSyntax {
    /// Explicit VR Little Endian, 1.2.840.10008.1.2.1 (default).
    ExplicitVrLittleEndian,
    /// Implicit VR Little Endian, 1.2.840.10008.1.2.
    ImplicitVrLittleEndian,
    /// Deflated Explicit VR Little Endian, 1.2.840.10008.1.2.1.99.
    DeflatedExplicitVrLittleEndian,
    /// Encapsulated Uncompressed Explicit VR Little Endian, 1.2.840.10008.1.2.1.98.
    EncapsulatedUncompressed,
    /// JPEG-LS Lossless, 1.2.840.10008.1.2.4.80 (CharLS).
    JpegLsLossless,
    /// JPEG-LS Lossy (near-lossless, NEAR = 2), 1.2.840.10008.1.2.4.81 (CharLS).
    JpegLsNearLossless,
}

impl WriteSyntax {
    /// Every supported syntax.
    pub const ALL: [WriteSyntax; 6] = [
        WriteSyntax::ExplicitVrLittleEndian,
        WriteSyntax::ImplicitVrLittleEndian,
        WriteSyntax::DeflatedExplicitVrLittleEndian,
        WriteSyntax::EncapsulatedUncompressed,
        WriteSyntax::JpegLsLossless,
        WriteSyntax::JpegLsNearLossless,
    ];

    /// Transfer Syntax UID.
    pub fn uid(self) -> &'static str {
        match self {
            WriteSyntax::ExplicitVrLittleEndian => uids::EXPLICIT_VR_LITTLE_ENDIAN,
            WriteSyntax::ImplicitVrLittleEndian => uids::IMPLICIT_VR_LITTLE_ENDIAN,
            WriteSyntax::DeflatedExplicitVrLittleEndian => uids::DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN,
            WriteSyntax::EncapsulatedUncompressed => {
                uids::ENCAPSULATED_UNCOMPRESSED_EXPLICIT_VR_LITTLE_ENDIAN
            }
            WriteSyntax::JpegLsLossless => uids::JPEGLS_LOSSLESS,
            WriteSyntax::JpegLsNearLossless => uids::JPEGLS_NEAR_LOSSLESS,
        }
    }

    /// Whether pixel data is encapsulated (encoded per frame).
    pub fn is_encapsulated(self) -> bool {
        matches!(
            self,
            WriteSyntax::EncapsulatedUncompressed
                | WriteSyntax::JpegLsLossless
                | WriteSyntax::JpegLsNearLossless
        )
    }

    /// Whether decoding returns exactly the stored values.
    pub fn is_lossless(self) -> bool {
        self != WriteSyntax::JpegLsNearLossless
    }

    fn encode_options(self) -> EncodeOptions {
        let mut options = EncodeOptions::new();
        if self == WriteSyntax::JpegLsNearLossless {
            // CharLS NEAR = 2^(BitsStored-4) * (100 - quality) / 100 = 2 for 12 bits.
            options.quality = Some(99);
        }
        options
    }
}

/// Errors writing a series.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// Creating the folder or a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The series' fields disagree (e.g. pixel array shape vs rows/columns).
    #[error("inconsistent series: {0}")]
    Inconsistent(String),
    /// A stored value does not fit BitsStored / PixelRepresentation.
    #[error("slice {slice}: stored value {value} outside {min}..={max}")]
    PixelOutOfRange {
        /// Slice index.
        slice: usize,
        /// The value.
        value: i16,
        /// Smallest allowed.
        min: i32,
        /// Largest allowed.
        max: i32,
    },
    /// Building the file meta group failed.
    #[error("file meta group: {0}")]
    Meta(String),
    /// The transfer syntax has no encoder in this build.
    #[error("no encoder for transfer syntax {0}")]
    NoEncoder(&'static str),
    /// The encoder failed.
    #[error("encoding slice {slice} as {syntax}: {message}")]
    Encode {
        /// Slice index.
        slice: usize,
        /// Transfer syntax UID.
        syntax: &'static str,
        /// The encoder's message.
        message: String,
    },
    /// dicom-object could not serialise the object.
    #[error("cannot write {path}: {message}")]
    Serialise {
        /// The path.
        path: PathBuf,
        /// The cause.
        message: String,
    },
}

/// Format a decimal string (DS): at most 16 characters, no exponent.
fn ds(value: f64) -> String {
    let value = if value == 0.0 || !value.is_finite() {
        0.0
    } else {
        value
    };
    let plain = format!("{value}");
    if plain.len() <= 16 {
        return plain;
    }
    for decimals in (0..=12).rev() {
        let s = format!("{value:.decimals$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if s.len() <= 16 {
            return if s == "-0" { "0".to_string() } else { s };
        }
    }
    format!("{}", value.round())
}

fn put_str(obj: &mut InMemDicomObject, tag: Tag, vr: VR, value: &str) {
    obj.put(DataElement::new(tag, vr, PrimitiveValue::from(value)));
}

fn put_strs(obj: &mut InMemDicomObject, tag: Tag, vr: VR, values: &[String]) {
    let value: PrimitiveValue = PrimitiveValue::Strs(values.iter().cloned().collect());
    obj.put(DataElement::new(tag, vr, value));
}

fn put_ds(obj: &mut InMemDicomObject, tag: Tag, values: &[f64]) {
    let strings: Vec<String> = values.iter().map(|&v| ds(v)).collect();
    put_strs(obj, tag, VR::DS, &strings);
}

fn put_us(obj: &mut InMemDicomObject, tag: Tag, value: u16) {
    obj.put(DataElement::new(tag, VR::US, dicom_value!(U16, [value])));
}

/// SOP Class UID of a series' objects.
fn sop_class_uid(series: &SynthSeries) -> &'static str {
    match series.modality {
        Modality::Ct => uids::CT_IMAGE_STORAGE,
        Modality::Mr => uids::MR_IMAGE_STORAGE,
    }
}

fn check_series(series: &SynthSeries) -> Result<(), WriteError> {
    let slices = series.slices();
    if series.stored.dim() != (slices, series.rows, series.columns) {
        return Err(WriteError::Inconsistent(format!(
            "pixel array {:?} vs {} slices of {} x {}",
            series.stored.dim(),
            slices,
            series.rows,
            series.columns
        )));
    }
    if series.sop_instance_uids.len() != slices || series.instance_numbers.len() != slices {
        return Err(WriteError::Inconsistent(
            "one SOP Instance UID and instance number per slice needed".to_string(),
        ));
    }
    if u16::try_from(series.rows).is_err() || u16::try_from(series.columns).is_err() {
        return Err(WriteError::Inconsistent(
            "rows/columns above 65535".to_string(),
        ));
    }
    if !(1..=16).contains(&series.bits_stored) || series.pixel_representation > 1 {
        return Err(WriteError::Inconsistent(format!(
            "BitsStored {} / PixelRepresentation {}",
            series.bits_stored, series.pixel_representation
        )));
    }
    Ok(())
}

/// The DICOM object of slice `k` (ascending slice order) with native pixel
/// data, its file meta group naming `syntax`.
pub fn slice_object(
    series: &SynthSeries,
    k: usize,
    syntax: WriteSyntax,
) -> Result<FileDicomObject<InMemDicomObject>, WriteError> {
    check_series(series)?;
    let position = series
        .slice_positions
        .get(k)
        .copied()
        .ok_or_else(|| WriteError::Inconsistent(format!("no slice {k}")))?;
    let sop_instance_uid = series.sop_instance_uids.get(k).cloned().unwrap_or_default();
    let instance_number = series.instance_numbers.get(k).copied().unwrap_or(0);
    let is_ct = series.modality == Modality::Ct;
    let mut obj = InMemDicomObject::new_empty();

    // SOP Common, General Study/Series/Equipment, Patient.
    put_str(&mut obj, tags::SPECIFIC_CHARACTER_SET, VR::CS, "ISO_IR 100");
    let image_type: Vec<String> = if is_ct {
        vec!["ORIGINAL".into(), "PRIMARY".into(), "AXIAL".into()]
    } else {
        vec!["ORIGINAL".into(), "PRIMARY".into(), "OTHER".into()]
    };
    put_strs(&mut obj, tags::IMAGE_TYPE, VR::CS, &image_type);
    put_str(&mut obj, tags::SOP_CLASS_UID, VR::UI, sop_class_uid(series));
    put_str(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, &sop_instance_uid);
    for tag in [
        tags::STUDY_DATE,
        tags::SERIES_DATE,
        tags::ACQUISITION_DATE,
        tags::CONTENT_DATE,
    ] {
        put_str(&mut obj, tag, VR::DA, &series.study_date);
    }
    for tag in [
        tags::STUDY_TIME,
        tags::SERIES_TIME,
        tags::ACQUISITION_TIME,
        tags::CONTENT_TIME,
    ] {
        put_str(&mut obj, tag, VR::TM, &series.study_time);
    }
    put_str(
        &mut obj,
        tags::ACCESSION_NUMBER,
        VR::SH,
        &series.accession_number,
    );
    put_str(&mut obj, tags::MODALITY, VR::CS, series.modality.code());
    put_str(&mut obj, tags::MANUFACTURER, VR::LO, MANUFACTURER);
    put_str(&mut obj, tags::INSTITUTION_NAME, VR::LO, "Nadir");
    put_str(&mut obj, tags::REFERRING_PHYSICIAN_NAME, VR::PN, "");
    put_str(
        &mut obj,
        tags::STUDY_DESCRIPTION,
        VR::LO,
        &series.study_description,
    );
    put_str(
        &mut obj,
        tags::SERIES_DESCRIPTION,
        VR::LO,
        &series.series_description,
    );
    put_str(
        &mut obj,
        tags::MANUFACTURER_MODEL_NAME,
        VR::LO,
        "nadir synth",
    );
    put_str(&mut obj, tags::PATIENT_NAME, VR::PN, &series.patient.name);
    put_str(&mut obj, tags::PATIENT_ID, VR::LO, &series.patient.id);
    put_str(
        &mut obj,
        tags::PATIENT_BIRTH_DATE,
        VR::DA,
        &series.patient.birth_date,
    );
    put_str(&mut obj, tags::PATIENT_SEX, VR::CS, &series.patient.sex);
    put_str(&mut obj, tags::PATIENT_IDENTITY_REMOVED, VR::CS, "YES");
    put_str(
        &mut obj,
        tags::DEIDENTIFICATION_METHOD,
        VR::LO,
        "Synthetic phantom: no real patient",
    );
    put_str(
        &mut obj,
        tags::BODY_PART_EXAMINED,
        VR::CS,
        &series.body_part,
    );

    // Acquisition.
    put_ds(
        &mut obj,
        tags::SLICE_THICKNESS,
        &[series.slice_thickness_mm],
    );
    if let Some(mr) = &series.mr {
        put_str(&mut obj, tags::SCANNING_SEQUENCE, VR::CS, "SE");
        put_strs(
            &mut obj,
            tags::SEQUENCE_VARIANT,
            VR::CS,
            &["SK".into(), "SP".into()],
        );
        put_str(&mut obj, tags::SCAN_OPTIONS, VR::CS, "");
        put_str(&mut obj, tags::MR_ACQUISITION_TYPE, VR::CS, "2D");
        put_str(&mut obj, tags::SEQUENCE_NAME, VR::SH, "*tse2d1_16");
        put_ds(&mut obj, tags::REPETITION_TIME, &[mr.repetition_time_ms]);
        put_ds(&mut obj, tags::ECHO_TIME, &[mr.echo_time_ms]);
        put_ds(&mut obj, tags::NUMBER_OF_AVERAGES, &[1.0]);
        put_ds(
            &mut obj,
            tags::IMAGING_FREQUENCY,
            &[42.577_478_5 * mr.magnetic_field_strength_t],
        );
        put_str(&mut obj, tags::IMAGED_NUCLEUS, VR::SH, "1H");
        put_str(&mut obj, tags::ECHO_NUMBERS, VR::IS, "1");
        put_ds(
            &mut obj,
            tags::MAGNETIC_FIELD_STRENGTH,
            &[mr.magnetic_field_strength_t],
        );
        put_ds(
            &mut obj,
            tags::SPACING_BETWEEN_SLICES,
            &[series.slice_spacing_mm],
        );
        put_str(
            &mut obj,
            tags::ECHO_TRAIN_LENGTH,
            VR::IS,
            &mr.echo_train_length.to_string(),
        );
        put_ds(&mut obj, tags::FLIP_ANGLE, &[mr.flip_angle_deg]);
    } else {
        put_ds(&mut obj, tags::KVP, &[120.0]);
        put_ds(
            &mut obj,
            tags::SPACING_BETWEEN_SLICES,
            &[series.slice_spacing_mm],
        );
        put_ds(
            &mut obj,
            tags::RECONSTRUCTION_DIAMETER,
            &[(series.rows as f64 * series.pixel_spacing_mm[0])
                .min(series.columns as f64 * series.pixel_spacing_mm[1])],
        );
        put_str(&mut obj, tags::CONVOLUTION_KERNEL, VR::SH, "STANDARD");
        put_str(&mut obj, tags::X_RAY_TUBE_CURRENT, VR::IS, "200");
    }
    put_str(&mut obj, tags::PATIENT_POSITION, VR::CS, "HFS");

    // Relationship, image plane.
    put_str(
        &mut obj,
        tags::STUDY_INSTANCE_UID,
        VR::UI,
        &series.study_instance_uid,
    );
    put_str(
        &mut obj,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        &series.series_instance_uid,
    );
    put_str(&mut obj, tags::STUDY_ID, VR::SH, &series.study_id);
    put_str(
        &mut obj,
        tags::SERIES_NUMBER,
        VR::IS,
        &series.series_number.to_string(),
    );
    put_str(&mut obj, tags::ACQUISITION_NUMBER, VR::IS, "1");
    put_str(
        &mut obj,
        tags::INSTANCE_NUMBER,
        VR::IS,
        &instance_number.to_string(),
    );
    put_ds(&mut obj, tags::IMAGE_POSITION_PATIENT, &position);
    put_ds(
        &mut obj,
        tags::IMAGE_ORIENTATION_PATIENT,
        &series.orientation,
    );
    put_str(
        &mut obj,
        tags::FRAME_OF_REFERENCE_UID,
        VR::UI,
        &series.frame_of_reference_uid,
    );
    put_str(&mut obj, tags::POSITION_REFERENCE_INDICATOR, VR::LO, "");
    // SliceLocation: position along the slice normal.
    let o = series.orientation;
    let normal = [
        o[1] * o[5] - o[2] * o[4],
        o[2] * o[3] - o[0] * o[5],
        o[0] * o[4] - o[1] * o[3],
    ];
    let location = position[0] * normal[0] + position[1] * normal[1] + position[2] * normal[2];
    put_ds(&mut obj, tags::SLICE_LOCATION, &[location]);

    // Image pixel.
    let rows = u16::try_from(series.rows).unwrap_or(u16::MAX);
    let columns = u16::try_from(series.columns).unwrap_or(u16::MAX);
    put_us(&mut obj, tags::SAMPLES_PER_PIXEL, 1);
    put_str(
        &mut obj,
        tags::PHOTOMETRIC_INTERPRETATION,
        VR::CS,
        "MONOCHROME2",
    );
    put_us(&mut obj, tags::ROWS, rows);
    put_us(&mut obj, tags::COLUMNS, columns);
    put_ds(&mut obj, tags::PIXEL_SPACING, &series.pixel_spacing_mm);
    put_us(&mut obj, tags::BITS_ALLOCATED, 16);
    put_us(&mut obj, tags::BITS_STORED, series.bits_stored);
    put_us(&mut obj, tags::HIGH_BIT, series.bits_stored - 1);
    put_us(
        &mut obj,
        tags::PIXEL_REPRESENTATION,
        series.pixel_representation,
    );
    put_ds(&mut obj, tags::WINDOW_CENTER, &[series.window_center]);
    put_ds(&mut obj, tags::WINDOW_WIDTH, &[series.window_width]);
    if is_ct {
        put_ds(
            &mut obj,
            tags::RESCALE_INTERCEPT,
            &[series.rescale_intercept],
        );
        put_ds(&mut obj, tags::RESCALE_SLOPE, &[series.rescale_slope]);
        put_str(&mut obj, tags::RESCALE_TYPE, VR::LO, "HU");
    }

    let (min, max) = if series.pixel_representation == 1 {
        (
            -(1_i32 << (series.bits_stored - 1)),
            (1_i32 << (series.bits_stored - 1)) - 1,
        )
    } else {
        (0, (1_i32 << series.bits_stored) - 1)
    };
    let mut pixels: Vec<u16> = Vec::with_capacity(series.rows * series.columns);
    for &value in series.stored.index_axis(ndarray::Axis(0), k) {
        if !(min..=max).contains(&i32::from(value)) {
            return Err(WriteError::PixelOutOfRange {
                slice: k,
                value,
                min,
                max,
            });
        }
        // Two's complement bit pattern for signed data.
        pixels.push(value as u16);
    }
    obj.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OW,
        PrimitiveValue::U16(pixels.into()),
    ));

    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(sop_class_uid(series))
        .media_storage_sop_instance_uid(sop_instance_uid)
        .transfer_syntax(syntax.uid())
        .implementation_class_uid(implementation_class_uid())
        .implementation_version_name(IMPLEMENTATION_VERSION_NAME);
    let mut file = obj
        .with_meta(meta)
        .map_err(|e| WriteError::Meta(e.to_string()))?;
    if syntax.is_encapsulated() {
        encapsulate(&mut file, k, syntax)?;
    }
    Ok(file)
}

/// Implementation Class UID of the writer.
pub fn implementation_class_uid() -> String {
    uid_from_text("nadir synth DICOM writer")
}

/// Replace native pixel data by one encoded fragment (single-frame object:
/// empty basic offset table, no NumberOfFrames).
fn encapsulate(
    file: &mut FileDicomObject<InMemDicomObject>,
    k: usize,
    syntax: WriteSyntax,
) -> Result<(), WriteError> {
    let ts = TransferSyntaxRegistry
        .get(syntax.uid())
        .ok_or(WriteError::NoEncoder(syntax.uid()))?;
    let Codec::EncapsulatedPixelData(_, Some(writer)) = ts.codec() else {
        return Err(WriteError::NoEncoder(syntax.uid()));
    };
    let mut fragment = Vec::new();
    let ops = writer
        .encode_frame(&*file, 0, syntax.encode_options(), &mut fragment)
        .map_err(|e| WriteError::Encode {
            slice: k,
            syntax: syntax.uid(),
            message: e.to_string(),
        })?;
    if fragment.len() % 2 == 1 {
        fragment.push(0);
    }
    for op in ops {
        file.apply(op).map_err(|e| WriteError::Encode {
            slice: k,
            syntax: syntax.uid(),
            message: e.to_string(),
        })?;
    }
    file.put(DataElement::new(
        tags::PIXEL_DATA,
        VR::OB,
        PixelFragmentSequence::new(Vec::<u32>::new(), vec![fragment]),
    ));
    Ok(())
}

/// Number of digits of the file names: at least 4.
fn name_width(series: &SynthSeries) -> usize {
    let largest = series.instance_numbers.iter().copied().max().unwrap_or(0);
    largest.to_string().len().max(4)
}

/// Write one file per slice into `dir` (created if missing), named by
/// InstanceNumber (`0001.dcm`, …). Returns the paths in ascending slice order.
pub fn write_series(
    series: &SynthSeries,
    dir: &Path,
    syntax: WriteSyntax,
) -> Result<Vec<PathBuf>, WriteError> {
    check_series(series)?;
    std::fs::create_dir_all(dir).map_err(|source| WriteError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let width = name_width(series);
    let mut paths = Vec::with_capacity(series.slices());
    for k in 0..series.slices() {
        let file = slice_object(series, k, syntax)?;
        let instance = series.instance_numbers.get(k).copied().unwrap_or(0);
        let path = dir.join(format!("{instance:0width$}.dcm"));
        file.write_to_file(&path)
            .map_err(|e| WriteError::Serialise {
                path: path.clone(),
                message: e.to_string(),
            })?;
        paths.push(path);
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::benchmark_ct;
    use dicom_pixeldata::PixelDecoder;

    #[test]
    fn ds_fits_sixteen_characters() {
        assert_eq!(ds(-191.25), "-191.25");
        assert_eq!(ds(0.0), "0");
        assert_eq!(ds(-0.0), "0");
        assert_eq!(ds(1.0), "1");
        let long = ds(380.0 / 300.0);
        assert!(long.len() <= 16, "{long}");
        assert!((long.parse::<f64>().unwrap() - 380.0 / 300.0).abs() < 1e-10);
        assert!(ds(-123456.123456789).len() <= 16);
    }

    fn small_series() -> SynthSeries {
        benchmark_ct(4, 40, 48).expect("valid size")
    }

    fn read_back(series: &SynthSeries, syntax: WriteSyntax) {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_series(series, dir.path(), syntax).unwrap();
        assert_eq!(paths.len(), series.slices());
        for (k, path) in paths.iter().enumerate() {
            let obj = dicom_object::open_file(path).unwrap();
            assert_eq!(obj.meta().transfer_syntax(), syntax.uid());
            assert_eq!(
                obj.meta().media_storage_sop_class_uid(),
                uids::CT_IMAGE_STORAGE
            );
            let text = |tag| obj.element(tag).unwrap().to_str().unwrap().to_string();
            assert_eq!(text(tags::SOP_INSTANCE_UID), series.sop_instance_uids[k]);
            assert_eq!(text(tags::SERIES_INSTANCE_UID), series.series_instance_uid);
            assert_eq!(text(tags::MODALITY), "CT");
            assert_eq!(text(tags::MANUFACTURER), MANUFACTURER);
            assert_eq!(
                obj.element(tags::INSTANCE_NUMBER)
                    .unwrap()
                    .to_int::<u32>()
                    .unwrap(),
                series.instance_numbers[k]
            );
            let position: Vec<f64> = obj
                .element(tags::IMAGE_POSITION_PATIENT)
                .unwrap()
                .to_multi_float64()
                .unwrap();
            assert_eq!(position.len(), 3);
            for (read, written) in position.iter().zip(series.slice_positions[k]) {
                assert!((read - written).abs() < 1e-9);
            }
            let spacing: Vec<f64> = obj
                .element(tags::PIXEL_SPACING)
                .unwrap()
                .to_multi_float64()
                .unwrap();
            assert!((spacing[0] - series.pixel_spacing_mm[0]).abs() < 1e-9);
            assert_eq!(
                obj.element(tags::ROWS).unwrap().to_int::<u16>().unwrap(),
                40
            );
            assert_eq!(
                obj.element(tags::COLUMNS).unwrap().to_int::<u16>().unwrap(),
                48
            );
            let intercept: f64 = obj
                .element(tags::RESCALE_INTERCEPT)
                .unwrap()
                .to_float64()
                .unwrap();
            assert_eq!(intercept, -1024.0);
            // Pixel values.
            let decoded = obj.decode_pixel_data().unwrap();
            let values: Vec<u16> = decoded.data_ow();
            let expected: Vec<u16> = series
                .stored
                .index_axis(ndarray::Axis(0), k)
                .iter()
                .map(|&v| v as u16)
                .collect();
            assert_eq!(values.len(), expected.len());
            if syntax.is_lossless() {
                assert_eq!(values, expected, "slice {k}");
            } else {
                let worst = values
                    .iter()
                    .zip(&expected)
                    .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
                    .max()
                    .unwrap();
                assert!(worst <= 2, "near-lossless error {worst}");
            }
        }
    }

    #[test]
    fn explicit_le_round_trips() {
        read_back(&small_series(), WriteSyntax::ExplicitVrLittleEndian);
    }

    #[test]
    fn implicit_le_round_trips() {
        read_back(&small_series(), WriteSyntax::ImplicitVrLittleEndian);
    }

    #[test]
    fn deflated_round_trips() {
        read_back(&small_series(), WriteSyntax::DeflatedExplicitVrLittleEndian);
    }

    #[test]
    fn encapsulated_uncompressed_round_trips() {
        read_back(&small_series(), WriteSyntax::EncapsulatedUncompressed);
    }

    #[test]
    fn jpeg_ls_lossless_round_trips() {
        read_back(&small_series(), WriteSyntax::JpegLsLossless);
    }

    #[test]
    fn jpeg_ls_near_lossless_stays_within_near() {
        read_back(&small_series(), WriteSyntax::JpegLsNearLossless);
    }

    #[test]
    fn writing_twice_gives_identical_bytes() {
        let series = small_series();
        for syntax in WriteSyntax::ALL {
            let a = tempfile::tempdir().unwrap();
            let b = tempfile::tempdir().unwrap();
            let pa = write_series(&series, a.path(), syntax).unwrap();
            let pb = write_series(&series, b.path(), syntax).unwrap();
            for (x, y) in pa.iter().zip(&pb) {
                assert_eq!(std::fs::read(x).unwrap(), std::fs::read(y).unwrap());
            }
        }
    }

    #[test]
    fn out_of_range_pixels_are_rejected() {
        let mut series = small_series();
        series.stored[[1, 2, 3]] = 5000; // > 4095 for 12 bits stored
        let dir = tempfile::tempdir().unwrap();
        let err =
            write_series(&series, dir.path(), WriteSyntax::ExplicitVrLittleEndian).unwrap_err();
        assert!(matches!(
            err,
            WriteError::PixelOutOfRange {
                slice: 1,
                value: 5000,
                ..
            }
        ));
    }

    #[test]
    fn inconsistent_shape_is_rejected() {
        let mut series = small_series();
        series.rows = 41;
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            write_series(&series, dir.path(), WriteSyntax::ExplicitVrLittleEndian),
            Err(WriteError::Inconsistent(_))
        ));
    }

    #[test]
    fn mr_objects_carry_mr_attributes() {
        let patient = crate::synth::cached_sample_patient();
        let mr = patient
            .series
            .iter()
            .find(|s| s.modality == Modality::Mr)
            .unwrap();
        let obj = slice_object(mr, 0, WriteSyntax::ExplicitVrLittleEndian).unwrap();
        assert_eq!(
            obj.meta().media_storage_sop_class_uid(),
            uids::MR_IMAGE_STORAGE
        );
        let float = |tag| obj.element(tag).unwrap().to_float64().unwrap();
        assert_eq!(float(tags::ECHO_TIME), 100.0);
        assert_eq!(float(tags::REPETITION_TIME), 4000.0);
        assert_eq!(float(tags::MAGNETIC_FIELD_STRENGTH), 1.5);
        assert!(obj.element(tags::RESCALE_SLOPE).is_err());
        assert_eq!(
            obj.element(tags::SCANNING_SEQUENCE)
                .unwrap()
                .to_str()
                .unwrap(),
            "SE"
        );
    }
}
