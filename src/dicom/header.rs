//! Pass 1 of loading: read a file's header (everything before Pixel Data) and
//! keep only what grouping, sorting, decoding and the `Volume` need.

use std::path::{Path, PathBuf};

use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::{DefaultDicomObject, InMemDicomObject};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::decode::contain_panics;
use super::open::{Extent, OpenFailure, open};
use super::reason::{SkipReason, Unusable, compression_name, non_image_sop_class};
use crate::geom::{Orientation, Vec3};
use crate::volume::{PatientIdentity, Photometric, Rescale};

/// Media Storage Directory Storage: a DICOMDIR index file.
const DICOMDIR_SOP_CLASS: &str = "1.2.840.10008.1.3.10";

/// The most voxels one object may declare (4 GiB of 16-bit voxels).
const MAX_VOXELS_PER_OBJECT: u64 = 1 << 31;

/// Geometry and value mapping of one frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameInfo {
    /// 0-based frame number inside its file.
    pub frame: u32,
    /// ImagePositionPatient.
    pub position: Option<Vec3>,
    /// ImageOrientationPatient.
    pub orientation: Option<Orientation>,
    /// Rescale to modality values.
    pub rescale: Rescale,
}

/// How the pixel data of a file is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// Transfer Syntax UID.
    pub transfer_syntax_uid: String,
    /// Human name of the transfer syntax.
    pub transfer_syntax_name: String,
    /// Native (not encapsulated), little endian, not deflated: pixel data can be
    /// read straight from the file.
    pub native_little_endian: bool,
    /// Explicit VR (matters for locating the Pixel Data element header).
    pub explicit_vr: bool,
}

/// The pixel format of a file's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelFormat {
    /// Rows.
    pub rows: u16,
    /// Columns.
    pub columns: u16,
    /// BitsAllocated (8 or 16 are supported).
    pub bits_allocated: u16,
    /// BitsStored.
    pub bits_stored: u16,
    /// PixelRepresentation == 1.
    pub signed: bool,
}

impl PixelFormat {
    /// Number of pixels in one frame.
    pub fn pixels_per_frame(&self) -> usize {
        usize::from(self.rows) * usize::from(self.columns)
    }

    /// Bytes of one native frame.
    pub fn bytes_per_frame(&self) -> usize {
        self.pixels_per_frame() * usize::from(self.bits_allocated / 8)
    }

    /// Offset that makes every stored value fit an `i16`: 32768 for unsigned
    /// 16-bit data, else 0.
    pub fn stored_offset(&self) -> i32 {
        if !self.signed && self.bits_stored > 15 {
            32768
        } else {
            0
        }
    }
}

/// Everything Nadir keeps from one image file's header.
#[derive(Debug, Clone)]
pub struct ImageHeader {
    /// The file.
    pub path: PathBuf,
    /// SOPInstanceUID.
    pub sop_instance_uid: String,
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// StudyInstanceUID.
    pub study_instance_uid: String,
    /// FrameOfReferenceUID.
    pub frame_of_reference_uid: Option<String>,
    /// Modality.
    pub modality: String,
    /// SeriesDescription.
    pub series_description: String,
    /// SeriesNumber.
    pub series_number: Option<i64>,
    /// InstanceNumber.
    pub instance_number: Option<i64>,
    /// StudyDate.
    pub study_date: String,
    /// StudyTime.
    pub study_time: String,
    /// Patient identifiers.
    pub patient: PatientIdentity,
    /// Pixel format.
    pub format: PixelFormat,
    /// Display interpretation.
    pub photometric: Photometric,
    /// Transfer syntax facts.
    pub encoding: Encoding,
    /// PixelSpacing [row, column] mm (or ImagerPixelSpacing as a fallback).
    pub pixel_spacing_mm: Option<[f64; 2]>,
    /// SliceThickness mm.
    pub slice_thickness_mm: Option<f64>,
    /// SpacingBetweenSlices mm.
    pub spacing_between_slices_mm: Option<f64>,
    /// EchoTime ms.
    pub echo_time_ms: Option<f64>,
    /// RepetitionTime ms.
    pub repetition_time_ms: Option<f64>,
    /// MagneticFieldStrength T.
    pub magnetic_field_strength_t: Option<f64>,
    /// Manufacturer.
    pub manufacturer: String,
    /// ManufacturerModelName.
    pub model_name: String,
    /// First WindowCenter / WindowWidth pair.
    pub default_window: Option<(f64, f64)>,
    /// Frames of this file (one for classic images).
    pub frames: Vec<FrameInfo>,
}

fn skip(reason: SkipReason, detail: impl Into<String>) -> Unusable {
    Unusable::new(reason, detail)
}

/// A compression Nadir cannot decode, named by its transfer syntax (or
/// `fallback` for one not in [`compression_name`]'s table).
pub fn unsupported_compression(ts_uid: &str, fallback: &str) -> SkipReason {
    SkipReason::UnsupportedCompression(compression_name(ts_uid).unwrap_or(fallback).to_string())
}

fn unreadable_value(tag: Tag) -> Unusable {
    skip(
        SkipReason::DamagedHeader,
        format!("unreadable value of {tag}"),
    )
}

/// Reads the header of `path` (stopping before Pixel Data) and checks that it
/// is a greyscale image Nadir can load. Data sets without file meta are read
/// too (see [`super::open`]).
pub fn read_header(path: &Path) -> Result<ImageHeader, Unusable> {
    let obj = match open(path, Extent::Header) {
        Ok(obj) => obj,
        Err(OpenFailure::Refused(why)) if is_dicomdir_file(path) => {
            return Err(skip(
                SkipReason::NotAnImage(non_image_sop_class(DICOMDIR_SOP_CLASS)),
                format!(
                    "DICOMDIR (a directory index, not an image), and damaged: {}",
                    why.detail
                ),
            ));
        }
        Err(OpenFailure::Refused(why)) => {
            return Err(why.map_detail(|why| format!("not a readable DICOM file: {why}")));
        }
        Err(OpenFailure::Crashed(crash)) => {
            return Err(skip(
                SkipReason::DamagedHeader,
                format!("not a readable DICOM file: damaged ({crash})"),
            ));
        }
    };
    header_from_object(path, &obj)
}

/// Whether the file meta group alone says this is a DICOMDIR (used to give a
/// damaged DICOMDIR the right reason).
fn is_dicomdir_file(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut magic = [0u8; 4];
    if file.seek(SeekFrom::Start(128)).is_err()
        || file.read_exact(&mut magic).is_err()
        || &magic != b"DICM"
    {
        return false;
    }
    if file.seek(SeekFrom::Start(128)).is_err() {
        return false;
    }
    contain_panics(|| dicom_object::meta::FileMetaTable::from_reader(std::io::BufReader::new(file)))
        .ok()
        .and_then(Result::ok)
        .is_some_and(|meta| meta.media_storage_sop_class_uid() == DICOMDIR_SOP_CLASS)
}

/// Formats an error with its sources, one after the other.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// Extracts an [`ImageHeader`] from an already opened object.
pub fn header_from_object(path: &Path, obj: &DefaultDicomObject) -> Result<ImageHeader, Unusable> {
    let meta = obj.meta();
    if meta.media_storage_sop_class_uid() == DICOMDIR_SOP_CLASS {
        return Err(skip(
            SkipReason::NotAnImage(non_image_sop_class(DICOMDIR_SOP_CLASS)),
            "DICOMDIR (a directory index, not an image)",
        ));
    }
    let ts_uid = meta
        .transfer_syntax()
        .trim_end_matches(['\0', ' '])
        .to_string();
    let ts = TransferSyntaxRegistry.get(&ts_uid).ok_or_else(|| {
        skip(
            unsupported_compression(&ts_uid, "unknown transfer syntax"),
            format!("unknown transfer syntax {ts_uid}"),
        )
    })?;
    if ts.is_encapsulated_pixel_data() && ts.pixel_data_reader().is_none() {
        return Err(skip(
            unsupported_compression(&ts_uid, ts.name()),
            format!("no decoder for transfer syntax {} ({ts_uid})", ts.name()),
        ));
    }
    let encoding = Encoding {
        transfer_syntax_name: ts.name().to_string(),
        native_little_endian: ts.is_codec_free()
            && matches!(ts.endianness(), dicom_encoding::Endianness::Little),
        explicit_vr: ts_uid != "1.2.840.10008.1.2",
        transfer_syntax_uid: ts_uid,
    };

    let rows = uint(obj, tags::ROWS)?;
    let columns = uint(obj, tags::COLUMNS)?;
    let (Some(rows), Some(columns)) = (rows, columns) else {
        // a known non-image class by name; an image class without pixels
        let sop_class = Some(text(obj, tags::SOP_CLASS_UID))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| meta.media_storage_sop_class_uid().to_string());
        let reason = match non_image_sop_class(&sop_class) {
            Some(name) => SkipReason::NotAnImage(Some(name)),
            None => SkipReason::NoPixelData,
        };
        return Err(skip(
            reason,
            "not an image: no Rows/Columns (a report, plan or object without Pixel Data)",
        ));
    };
    if rows == 0 || columns == 0 {
        return Err(skip(
            SkipReason::NoPixelData,
            "empty image (Rows or Columns is 0)",
        ));
    }
    let number_of_frames = match obj.get(tags::NUMBER_OF_FRAMES) {
        None => 1,
        Some(e) => {
            let raw = e.to_str().map(|s| s.trim().to_string()).unwrap_or_default();
            if raw.is_empty() {
                1
            } else {
                raw.parse::<u32>().map_err(|_| {
                    skip(
                        SkipReason::DamagedHeader,
                        format!("NumberOfFrames {raw:?} is not a whole number"),
                    )
                })?
            }
        }
    };
    if number_of_frames == 0 {
        return Err(skip(SkipReason::DamagedHeader, "NumberOfFrames is 0"));
    }
    let samples = uint(obj, tags::SAMPLES_PER_PIXEL)?.unwrap_or(1);
    if samples != 1 {
        return Err(skip(
            SkipReason::Colour,
            format!("colour image ({samples} samples per pixel): Nadir reads greyscale CT/MR"),
        ));
    }
    let bits_allocated = uint(obj, tags::BITS_ALLOCATED)?.unwrap_or(16);
    if bits_allocated != 8 && bits_allocated != 16 {
        return Err(skip(
            SkipReason::UnsupportedPixels,
            format!("BitsAllocated {bits_allocated} is not supported (8 or 16)"),
        ));
    }
    let bits_stored = uint(obj, tags::BITS_STORED)?.unwrap_or(bits_allocated);
    if bits_stored == 0 || bits_stored > bits_allocated {
        return Err(skip(
            SkipReason::DamagedHeader,
            format!("BitsStored {bits_stored} does not fit BitsAllocated {bits_allocated}"),
        ));
    }
    let signed = uint(obj, tags::PIXEL_REPRESENTATION)?.unwrap_or(0) == 1;
    let photometric = match text(obj, tags::PHOTOMETRIC_INTERPRETATION).as_str() {
        "MONOCHROME1" => Photometric::Monochrome1,
        "MONOCHROME2" | "" => Photometric::Monochrome2,
        other => {
            let reason = if other == "PALETTE COLOR" {
                SkipReason::Colour
            } else {
                SkipReason::UnsupportedPixels
            };
            return Err(skip(
                reason,
                format!("photometric interpretation {other} is not greyscale"),
            ));
        }
    };

    let format = PixelFormat {
        rows,
        columns,
        bits_allocated,
        bits_stored,
        signed,
    };
    // A native object must hold every frame it declares: this catches damaged
    // Rows/Columns/NumberOfFrames before anything is allocated for them.
    let declared_bytes = format.bytes_per_frame() as u64 * u64::from(number_of_frames);
    if ts.is_codec_free()
        && let Ok(meta) = std::fs::metadata(path)
        && declared_bytes > meta.len()
    {
        return Err(skip(
            SkipReason::Truncated,
            format!(
                "Pixel Data cannot hold {number_of_frames} frame(s) of {columns}x{rows} at {bits_allocated} bits \
             ({declared_bytes} bytes) in a file of {} bytes",
                meta.len()
            ),
        ));
    }
    if format.pixels_per_frame() as u64 * u64::from(number_of_frames) > MAX_VOXELS_PER_OBJECT {
        return Err(skip(
            SkipReason::TooLarge,
            format!(
                "{number_of_frames} frame(s) of {columns}x{rows} is larger than Nadir loads (2^31 voxels)"
            ),
        ));
    }
    let frames = frame_infos(obj, number_of_frames);
    let shared = functional_group(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, 0);
    let first_frame = functional_group(obj, tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE, 0);
    // A functional group macro may sit in the shared or the per-frame groups.
    let group = |seq: Tag| {
        shared
            .and_then(|g| item(g, seq))
            .or_else(|| first_frame.and_then(|g| item(g, seq)))
    };
    let pixel_measures = group(tags::PIXEL_MEASURES_SEQUENCE);
    let pixel_spacing_mm = pair(obj, tags::PIXEL_SPACING)
        .or_else(|| pixel_measures.and_then(|m| pair(m, tags::PIXEL_SPACING)))
        .or_else(|| pair(obj, tags::IMAGER_PIXEL_SPACING))
        .filter(|[r, c]| *r > 0.0 && *c > 0.0);
    let slice_thickness_mm = float(obj, tags::SLICE_THICKNESS)
        .or_else(|| pixel_measures.and_then(|m| float(m, tags::SLICE_THICKNESS)));
    let spacing_between_slices_mm = float(obj, tags::SPACING_BETWEEN_SLICES)
        .or_else(|| pixel_measures.and_then(|m| float(m, tags::SPACING_BETWEEN_SLICES)));
    let echo_time_ms = float(obj, tags::ECHO_TIME).or_else(|| {
        group(tags::MR_ECHO_SEQUENCE).and_then(|m| float(m, tags::EFFECTIVE_ECHO_TIME))
    });
    let repetition_time_ms = float(obj, tags::REPETITION_TIME).or_else(|| {
        group(tags::MR_TIMING_AND_RELATED_PARAMETERS_SEQUENCE)
            .and_then(|m| float(m, tags::REPETITION_TIME))
    });
    let default_window = match (
        first_float(obj, tags::WINDOW_CENTER),
        first_float(obj, tags::WINDOW_WIDTH),
    ) {
        (Some(c), Some(w)) if w > 0.0 => Some((c, w)),
        _ => group(tags::FRAME_VOILUT_SEQUENCE)
            .and_then(|v| {
                Some((
                    first_float(v, tags::WINDOW_CENTER)?,
                    first_float(v, tags::WINDOW_WIDTH)?,
                ))
            })
            .filter(|(_, w)| *w > 0.0),
    };

    Ok(ImageHeader {
        path: path.to_path_buf(),
        sop_instance_uid: text(obj, tags::SOP_INSTANCE_UID),
        series_instance_uid: text(obj, tags::SERIES_INSTANCE_UID),
        study_instance_uid: text(obj, tags::STUDY_INSTANCE_UID),
        frame_of_reference_uid: Some(text(obj, tags::FRAME_OF_REFERENCE_UID))
            .filter(|s| !s.is_empty()),
        modality: text(obj, tags::MODALITY),
        series_description: text(obj, tags::SERIES_DESCRIPTION),
        series_number: int(obj, tags::SERIES_NUMBER),
        instance_number: int(obj, tags::INSTANCE_NUMBER),
        study_date: text(obj, tags::STUDY_DATE),
        study_time: text(obj, tags::STUDY_TIME),
        patient: PatientIdentity {
            name: text(obj, tags::PATIENT_NAME),
            id: text(obj, tags::PATIENT_ID),
            birth_date: text(obj, tags::PATIENT_BIRTH_DATE),
            sex: text(obj, tags::PATIENT_SEX),
        },
        format,
        photometric,
        encoding,
        pixel_spacing_mm,
        slice_thickness_mm,
        spacing_between_slices_mm,
        echo_time_ms,
        repetition_time_ms,
        magnetic_field_strength_t: float(obj, tags::MAGNETIC_FIELD_STRENGTH),
        manufacturer: text(obj, tags::MANUFACTURER),
        model_name: text(obj, tags::MANUFACTURER_MODEL_NAME),
        default_window,
        frames,
    })
}

/// Per-frame geometry and rescale: classic attributes for single-frame
/// images, functional groups (per-frame overriding shared) for enhanced ones.
fn frame_infos(obj: &InMemDicomObject, number_of_frames: u32) -> Vec<FrameInfo> {
    let classic_position = triple(obj, tags::IMAGE_POSITION_PATIENT);
    let classic_orientation =
        six(obj, tags::IMAGE_ORIENTATION_PATIENT).and_then(Orientation::from_iop);
    let classic_rescale = rescale_of(obj);
    let shared = functional_group(obj, tags::SHARED_FUNCTIONAL_GROUPS_SEQUENCE, 0);
    (0..number_of_frames)
        .map(|frame| {
            let per_frame = functional_group(
                obj,
                tags::PER_FRAME_FUNCTIONAL_GROUPS_SEQUENCE,
                frame as usize,
            );
            let from_groups = |seq: Tag| {
                per_frame
                    .and_then(|g| item(g, seq))
                    .or_else(|| shared.and_then(|g| item(g, seq)))
            };
            let position = from_groups(tags::PLANE_POSITION_SEQUENCE)
                .and_then(|p| triple(p, tags::IMAGE_POSITION_PATIENT))
                .or(classic_position);
            let orientation = from_groups(tags::PLANE_ORIENTATION_SEQUENCE)
                .and_then(|p| six(p, tags::IMAGE_ORIENTATION_PATIENT))
                .and_then(Orientation::from_iop)
                .or(classic_orientation);
            let rescale = from_groups(tags::PIXEL_VALUE_TRANSFORMATION_SEQUENCE)
                .and_then(rescale_of)
                .or(classic_rescale)
                .unwrap_or(Rescale::IDENTITY);
            FrameInfo {
                frame,
                position,
                orientation,
                rescale,
            }
        })
        .collect()
}

fn rescale_of(obj: &InMemDicomObject) -> Option<Rescale> {
    let slope = float(obj, tags::RESCALE_SLOPE);
    let intercept = float(obj, tags::RESCALE_INTERCEPT);
    if slope.is_none() && intercept.is_none() {
        return None;
    }
    Some(Rescale {
        slope: slope.filter(|s| *s != 0.0).unwrap_or(1.0),
        intercept: intercept.unwrap_or(0.0),
    })
}

fn functional_group(obj: &InMemDicomObject, seq: Tag, index: usize) -> Option<&InMemDicomObject> {
    obj.get(seq)?.items()?.get(index)
}

fn item(obj: &InMemDicomObject, seq: Tag) -> Option<&InMemDicomObject> {
    functional_group(obj, seq, 0)
}

/// The raw bytes of an element whose VR is UN (unknown), which some
/// anonymisers and converters leave behind; `None` for any other VR.
fn unknown_vr_bytes(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<u8>> {
    let e = obj.get(tag)?;
    (e.vr() == VR::UN).then(|| e.to_bytes().ok().map(|b| b.into_owned()))?
}

/// Text of an element; UN elements are read as the ASCII text their
/// dictionary VR (a string VR for every tag read this way) implies.
fn text(obj: &InMemDicomObject, tag: Tag) -> String {
    let trim = |s: &str| {
        s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .to_string()
    };
    if let Some(bytes) = unknown_vr_bytes(obj, tag) {
        return trim(&String::from_utf8_lossy(&bytes));
    }
    obj.get(tag)
        .and_then(|e| e.to_str().ok().map(|s| trim(&s)))
        .unwrap_or_default()
}

fn floats(obj: &InMemDicomObject, tag: Tag) -> Option<Vec<f64>> {
    let values = match unknown_vr_bytes(obj, tag) {
        // DS values (decimal strings), the VR of every number read this way
        // except EffectiveEchoTime (FD, binary little endian).
        Some(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let parsed: Option<Vec<f64>> = text
                .split('\\')
                .map(|part| {
                    part.trim_matches(|c: char| c.is_whitespace() || c == '\0')
                        .parse()
                        .ok()
                })
                .collect();
            match parsed {
                Some(v) => v,
                None if bytes.len() % 8 == 0 => bytes
                    .chunks_exact(8)
                    .filter_map(|c| <[u8; 8]>::try_from(c).ok())
                    .map(f64::from_le_bytes)
                    .collect(),
                None => return None,
            }
        }
        None => obj.get(tag)?.to_multi_float64().ok()?,
    };
    (!values.is_empty() && values.iter().all(|v| v.is_finite())).then_some(values)
}

fn float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    floats(obj, tag)?.first().copied()
}

fn first_float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    float(obj, tag)
}

fn pair(obj: &InMemDicomObject, tag: Tag) -> Option<[f64; 2]> {
    let v = floats(obj, tag)?;
    Some([*v.first()?, *v.get(1)?])
}

fn triple(obj: &InMemDicomObject, tag: Tag) -> Option<Vec3> {
    let v = floats(obj, tag)?;
    Some(Vec3([*v.first()?, *v.get(1)?, *v.get(2)?]))
}

fn six(obj: &InMemDicomObject, tag: Tag) -> Option<[f64; 6]> {
    let v = floats(obj, tag)?;
    v.get(..6)?.try_into().ok()
}

/// An IS (integer string) attribute.
fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    if unknown_vr_bytes(obj, tag).is_some() {
        return text(obj, tag).parse().ok();
    }
    obj.get(tag)?.to_int::<i64>().ok()
}

/// A small unsigned attribute (US); an unreadable value is a reason to skip.
fn uint(obj: &InMemDicomObject, tag: Tag) -> Result<Option<u16>, Unusable> {
    if let Some(bytes) = unknown_vr_bytes(obj, tag) {
        // US in a UN element: two bytes, little endian (UN is only explicit VR LE).
        return <[u8; 2]>::try_from(bytes.as_slice())
            .map(|b| Some(u16::from_le_bytes(b)))
            .map_err(|_| unreadable_value(tag));
    }
    match obj.get(tag) {
        None => Ok(None),
        Some(e) => e
            .to_int::<u16>()
            .map(Some)
            .map_err(|_| unreadable_value(tag)),
    }
}
