//! The in-memory image volume every viewer, measurement and statistic works on.
//!
//! A [`Volume`] keeps the *stored* pixel values exactly as they were in the
//! DICOM files (after masking to BitsStored and sign extension), two bytes a
//! voxel, plus a per-slice [`Rescale`] to modality values (HU for CT). Keeping
//! stored values makes the pixel fingerprint exact and halves memory against
//! `f32`; the rescale is an affine map, so windowing and statistics stay cheap.

pub mod buffer;
pub mod plane;

use ndarray::Array3;
use serde::Serialize;

use crate::geom::{Orientation, Vec3};

/// Linear map from stored values to modality values: `slope * stored + intercept`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rescale {
    /// RescaleSlope (1 when absent).
    pub slope: f64,
    /// RescaleIntercept (0 when absent).
    pub intercept: f64,
}

impl Rescale {
    /// The identity map.
    pub const IDENTITY: Rescale = Rescale {
        slope: 1.0,
        intercept: 0.0,
    };

    /// Applies the map to one stored value.
    pub fn apply(self, stored: f64) -> f64 {
        self.slope * stored + self.intercept
    }
}

/// Where the voxels are in the patient (LPS, mm).
///
/// Slices keep their own ImagePositionPatient, so uneven spacing and gantry
/// tilt are represented exactly; [`Geometry::patient_from_voxel`] interpolates
/// between neighbouring slice positions for fractional slice indices.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Geometry {
    /// [row spacing, column spacing] in mm (DICOM PixelSpacing order); `None` when unknown.
    pub pixel_spacing_mm: Option<[f64; 2]>,
    /// Direction cosines of rows and columns; `None` when the files carry none.
    pub orientation: Option<Orientation>,
    /// ImagePositionPatient of every slice, in slice order; empty when unknown.
    pub slice_positions_mm: Vec<Vec3>,
    /// FrameOfReferenceUID, shared by series that can be linked by patient position.
    pub frame_of_reference_uid: Option<String>,
}

impl Geometry {
    /// The slice normal (row × column direction), if the orientation is known.
    pub fn normal(&self) -> Option<Vec3> {
        self.orientation.map(Orientation::normal)
    }

    /// Mean distance between consecutive slices along the normal
    /// ((last − first) / (n − 1)); `None` for fewer than two positioned slices.
    pub fn mean_slice_spacing_mm(&self) -> Option<f64> {
        let normal = self.normal()?;
        let first = self.slice_positions_mm.first()?;
        let last = self.slice_positions_mm.last()?;
        let n = self.slice_positions_mm.len();
        let spacing = (last.dot(normal) - first.dot(normal)) / (n.max(2) - 1) as f64;
        (n >= 2 && spacing.abs() > 1e-6).then_some(spacing)
    }

    /// Patient position of a voxel given as (column, row, slice), fractional
    /// indices allowed. `None` when spacing, orientation or positions are unknown
    /// or the slice index is outside the volume.
    pub fn patient_from_voxel(&self, column: f64, row: f64, slice: f64) -> Option<Vec3> {
        let [row_spacing, column_spacing] = self.pixel_spacing_mm?;
        let orientation = self.orientation?;
        let origin = self.slice_origin(slice)?;
        Some(
            origin
                + orientation.row * (column * column_spacing)
                + orientation.column * (row * row_spacing),
        )
    }

    /// Voxel indices `[column, row, slice]` (fractional) of a patient point:
    /// the inverse of [`Geometry::patient_from_voxel`]. The slice index is
    /// interpolated between the two slices whose positions along the normal
    /// bracket the point (extrapolated beyond the ends). `None` when the
    /// geometry is incomplete or slices do not advance along the normal.
    pub fn voxel_from_patient(&self, point: Vec3) -> Option<[f64; 3]> {
        let [row_spacing, column_spacing] = self.pixel_spacing_mm?;
        let orientation = self.orientation?;
        let normal = orientation.normal();
        let depth = point.dot(normal);
        let n = self.slice_positions_mm.len();
        let slice = match n {
            0 => return None,
            1 => 0.0,
            _ => {
                let along: Vec<f64> = self
                    .slice_positions_mm
                    .iter()
                    .map(|p| p.dot(normal))
                    .collect();
                let ascending = along.last()? >= along.first()?;
                // first bracket [i, i + 1] that contains depth, else the end pair
                let mut lower = if ascending == (depth < *along.first()?) {
                    0
                } else {
                    n - 2
                };
                for i in 0..n - 1 {
                    let (a, b) = (*along.get(i)?, *along.get(i + 1)?);
                    if (a.min(b)..=a.max(b)).contains(&depth) {
                        lower = i;
                        break;
                    }
                }
                let (a, b) = (*along.get(lower)?, *along.get(lower + 1)?);
                if (b - a).abs() < 1e-9 {
                    return None;
                }
                lower as f64 + (depth - a) / (b - a)
            }
        };
        let origin = self.slice_origin(slice.clamp(0.0, (n - 1) as f64))?;
        let offset = point - origin;
        // extrapolate the origin beyond the ends along the normal
        let column = offset.dot(orientation.row) / column_spacing;
        let row = offset.dot(orientation.column) / row_spacing;
        Some([column, row, slice])
    }

    /// Position of pixel (0, 0) of a possibly fractional slice index, by linear
    /// interpolation between the two neighbouring slices.
    fn slice_origin(&self, slice: f64) -> Option<Vec3> {
        let n = self.slice_positions_mm.len();
        if n == 0 || !slice.is_finite() || slice < -0.5 || slice > n as f64 - 0.5 {
            return None;
        }
        if n == 1 {
            return self.slice_positions_mm.first().copied();
        }
        let lower = (slice.floor().max(0.0) as usize).min(n - 2);
        let t = slice - lower as f64;
        let a = *self.slice_positions_mm.get(lower)?;
        let b = *self.slice_positions_mm.get(lower + 1)?;
        Some(a + (b - a) * t)
    }
}

/// Photometric interpretation of a greyscale image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Photometric {
    /// Low values display dark (the usual case).
    Monochrome2,
    /// Low values display bright: the display must invert (stored values are not inverted).
    Monochrome1,
}

/// Who the images belong to. Kept for display and export, never logged:
/// its `Debug` output is redacted.
#[derive(Clone, Default, PartialEq, Serialize)]
pub struct PatientIdentity {
    /// PatientName.
    pub name: String,
    /// PatientID.
    pub id: String,
    /// PatientBirthDate (YYYYMMDD as stored).
    pub birth_date: String,
    /// PatientSex.
    pub sex: String,
}

impl std::fmt::Debug for PatientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PatientIdentity(<redacted>)")
    }
}

/// Descriptive metadata of a series that later features need.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SeriesMeta {
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// StudyInstanceUID.
    pub study_instance_uid: String,
    /// Modality (CT, MR, ...).
    pub modality: String,
    /// SeriesDescription.
    pub series_description: String,
    /// SeriesNumber, when present.
    pub series_number: Option<i64>,
    /// StudyDate as stored (YYYYMMDD); empty when absent.
    pub study_date: String,
    /// StudyTime as stored; empty when absent.
    pub study_time: String,
    /// SliceThickness in mm.
    pub slice_thickness_mm: Option<f64>,
    /// EchoTime in ms (MR).
    pub echo_time_ms: Option<f64>,
    /// RepetitionTime in ms (MR).
    pub repetition_time_ms: Option<f64>,
    /// MagneticFieldStrength in tesla (MR).
    pub magnetic_field_strength_t: Option<f64>,
    /// Manufacturer.
    pub manufacturer: String,
    /// ManufacturerModelName.
    pub model_name: String,
    /// The window (centre, width) suggested by the file, if any.
    pub default_window: Option<(f64, f64)>,
    /// Patient identifiers (redacted in `Debug`).
    pub patient: PatientIdentity,
}

/// Summary statistics of modality (rescaled) values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ValueStats {
    /// Smallest rescaled value.
    pub min: f64,
    /// Largest rescaled value.
    pub max: f64,
    /// Mean rescaled value.
    pub mean: f64,
}

/// A loaded image series: voxels, geometry and metadata.
#[derive(Debug, Clone)]
pub struct Volume {
    /// Stored values minus [`Volume::stored_offset`], indexed `[slice, row, column]`.
    pub voxels: Array3<i16>,
    /// Added to a voxel to get the stored value: 0, or 32768 for unsigned
    /// 16-bit data (whose range does not fit `i16` otherwise).
    pub stored_offset: i32,
    /// Per-slice map from stored values to modality values.
    pub rescale: Vec<Rescale>,
    /// Where the voxels are.
    pub geometry: Geometry,
    /// Display interpretation.
    pub photometric: Photometric,
    /// Series metadata.
    pub meta: SeriesMeta,
    /// SOP Instance UIDs in slice order (a multi-frame object contributes one entry).
    pub instances_in_order: Vec<String>,
    /// InstanceNumber of each slice's file, in slice order, when every slice
    /// comes from its own single-frame file that has one (else empty: frames
    /// are then numbered in slice order). See [`Volume::image_number`].
    pub instance_numbers: Vec<i64>,
}

impl Volume {
    /// An axial stack without metadata, for synthetic volumes (tests,
    /// benchmarks): stored values are `HU + 1024` (slope 1, intercept
    /// −1024), slice `k` lies at z = `z0_mm + k · slice_mm` with its first
    /// pixel at x = y = 0, MONOCHROME2, no frame of reference.
    pub fn axial_hu(
        voxels: Array3<i16>,
        pixel_spacing_mm: [f64; 2],
        z0_mm: f64,
        slice_mm: f64,
    ) -> Volume {
        let slices = voxels.dim().0;
        Volume {
            voxels,
            stored_offset: 0,
            rescale: vec![
                Rescale {
                    slope: 1.0,
                    intercept: -1024.0,
                };
                slices
            ],
            geometry: Geometry {
                pixel_spacing_mm: Some(pixel_spacing_mm),
                orientation: Some(Orientation::AXIAL),
                slice_positions_mm: (0..slices)
                    .map(|k| Vec3::new(0.0, 0.0, z0_mm + k as f64 * slice_mm))
                    .collect(),
                frame_of_reference_uid: None,
            },
            photometric: Photometric::Monochrome2,
            meta: SeriesMeta::default(),
            instances_in_order: Vec::new(),
            instance_numbers: Vec::new(),
        }
    }

    /// The image number a PACS and a CRF give slice `index`: its file's
    /// InstanceNumber, else its 1-based position in slice order.
    pub fn image_number(&self, index: usize) -> i64 {
        self.instance_numbers
            .get(index)
            .copied()
            .unwrap_or(index as i64 + 1)
    }

    /// +1 when image numbers rise with the slice index, −1 when they fall
    /// (many CTs number head to feet while slices are stored feet to head),
    /// so "next image" is `index + image_direction()`.
    pub fn image_direction(&self) -> i64 {
        match (self.instance_numbers.first(), self.instance_numbers.last()) {
            (Some(first), Some(last)) if last < first => -1,
            _ => 1,
        }
    }

    /// Number of slices.
    pub fn slices(&self) -> usize {
        self.voxels.dim().0
    }

    /// Number of rows per slice.
    pub fn rows(&self) -> usize {
        self.voxels.dim().1
    }

    /// Number of columns per slice.
    pub fn columns(&self) -> usize {
        self.voxels.dim().2
    }

    /// The rescale of a slice (identity if out of range).
    pub fn slice_rescale(&self, slice: usize) -> Rescale {
        self.rescale
            .get(slice)
            .copied()
            .unwrap_or(Rescale::IDENTITY)
    }

    /// The stored value of a voxel, `None` outside the volume.
    pub fn stored_value(&self, slice: usize, row: usize, column: usize) -> Option<i32> {
        self.voxels
            .get((slice, row, column))
            .map(|&v| i32::from(v) + self.stored_offset)
    }

    /// The modality value (e.g. HU) of a voxel, `None` outside the volume.
    pub fn value(&self, slice: usize, row: usize, column: usize) -> Option<f64> {
        let stored = self.stored_value(slice, row, column)?;
        Some(self.slice_rescale(slice).apply(f64::from(stored)))
    }

    /// Min, max and mean modality value over the whole volume, `None` when empty.
    pub fn value_stats(&self) -> Option<ValueStats> {
        let plane = self.rows() * self.columns();
        let data = self.voxels.as_slice()?;
        let mut acc = StatsAccumulator::default();
        for (slice, values) in data.chunks(plane.max(1)).enumerate() {
            acc.add_slice(values, self.stored_offset, self.slice_rescale(slice));
        }
        acc.finish()
    }
}

/// Accumulates rescaled min / max / sum slice by slice, exactly in `f64`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsAccumulator {
    min: Option<f64>,
    max: Option<f64>,
    sum: f64,
    count: u64,
}

impl StatsAccumulator {
    /// Adds one slice of voxels (stored − offset) with its rescale.
    pub fn add_slice(&mut self, values: &[i16], stored_offset: i32, rescale: Rescale) {
        if values.is_empty() {
            return;
        }
        let (mut lo, mut hi, mut sum) = (i16::MAX, i16::MIN, 0i64);
        for &v in values {
            lo = lo.min(v);
            hi = hi.max(v);
            sum += i64::from(v);
        }
        let n = values.len() as u64;
        let stored_sum = sum as f64 + f64::from(stored_offset) * n as f64;
        let a = rescale.apply(f64::from(i32::from(lo) + stored_offset));
        let b = rescale.apply(f64::from(i32::from(hi) + stored_offset));
        self.merge_parts(
            a.min(b),
            a.max(b),
            rescale.slope * stored_sum + rescale.intercept * n as f64,
            n,
        );
    }

    fn merge_parts(&mut self, min: f64, max: f64, sum: f64, count: u64) {
        self.min = Some(self.min.map_or(min, |m| m.min(min)));
        self.max = Some(self.max.map_or(max, |m| m.max(max)));
        self.sum += sum;
        self.count += count;
    }

    /// Merges another accumulator into this one.
    pub fn merge(&mut self, other: &StatsAccumulator) {
        if let (Some(min), Some(max)) = (other.min, other.max) {
            self.merge_parts(min, max, other.sum, other.count);
        }
    }

    /// The statistics, `None` if nothing was added.
    pub fn finish(&self) -> Option<ValueStats> {
        Some(ValueStats {
            min: self.min?,
            max: self.max?,
            mean: self.sum / self.count as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grey_byte_clamps_and_rounds() {
        assert_eq!(grey_byte(-20.0), 0);
        assert_eq!(grey_byte(0.4), 0);
        assert_eq!(grey_byte(0.6), 1);
        assert_eq!(grey_byte(254.7), 255);
        assert_eq!(grey_byte(1e9), 255);
        assert_eq!(grey_byte(f32::NAN), 0);
    }

    fn geometry(positions: &[[f64; 3]]) -> Geometry {
        Geometry {
            pixel_spacing_mm: Some([0.5, 0.8]),
            orientation: Some(Orientation::AXIAL),
            slice_positions_mm: positions.iter().map(|p| Vec3(*p)).collect(),
            frame_of_reference_uid: None,
        }
    }

    #[test]
    fn patient_from_voxel_uses_column_spacing_along_rows() {
        let g = geometry(&[[10.0, 20.0, 30.0], [10.0, 20.0, 35.0]]);
        // column index 10 moves along +x by 10 * column spacing (0.8 mm);
        // row index 4 along +y by 4 * row spacing (0.5 mm).
        let p = g.patient_from_voxel(10.0, 4.0, 1.0).unwrap();
        assert_eq!(p, Vec3::new(18.0, 22.0, 35.0));
        let mid = g.patient_from_voxel(0.0, 0.0, 0.5).unwrap();
        assert_eq!(mid, Vec3::new(10.0, 20.0, 32.5));
        assert!(g.patient_from_voxel(0.0, 0.0, 2.0).is_none());
    }

    #[test]
    fn voxel_from_patient_inverts_patient_from_voxel() {
        let g = geometry(&[[10.0, 20.0, 30.0], [10.0, 20.0, 35.0], [10.0, 20.0, 45.0]]);
        for (c, r, s) in [
            (10.0, 4.0, 1.0),
            (0.0, 0.0, 0.0),
            (3.5, 7.25, 1.5),
            (1.0, 2.0, 2.0),
        ] {
            let p = g.patient_from_voxel(c, r, s).unwrap();
            let [c2, r2, s2] = g.voxel_from_patient(p).unwrap();
            assert!(
                (c - c2).abs() < 1e-9 && (r - r2).abs() < 1e-9 && (s - s2).abs() < 1e-9,
                "{c} {r} {s}"
            );
        }
        // beyond the last slice: extrapolated slice index
        let [_, _, s] = g.voxel_from_patient(Vec3::new(10.0, 20.0, 50.0)).unwrap();
        assert!((s - 2.5).abs() < 1e-9);
    }

    #[test]
    fn mean_spacing_follows_the_normal() {
        let g = geometry(&[[0.0, 0.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 7.0]]);
        assert_eq!(g.mean_slice_spacing_mm(), Some(3.5));
    }

    #[test]
    fn stats_apply_rescale_and_offset() {
        let mut acc = StatsAccumulator::default();
        acc.add_slice(&[-32768, 0, 32767], 32768, Rescale::IDENTITY);
        let s = acc.finish().unwrap();
        assert_eq!((s.min, s.max), (0.0, 65535.0));
        let mut acc = StatsAccumulator::default();
        acc.add_slice(
            &[0, 10],
            0,
            Rescale {
                slope: -2.0,
                intercept: 1.0,
            },
        );
        let s = acc.finish().unwrap();
        assert_eq!((s.min, s.max, s.mean), (-19.0, 1.0, -9.0));
    }

    #[test]
    fn patient_identity_debug_is_redacted() {
        let p = PatientIdentity {
            name: "Doe^Jane".into(),
            ..Default::default()
        };
        assert!(!format!("{p:?}").contains("Doe"));
    }
}

/// A display window on modality values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Window {
    /// Window centre (level).
    pub center: f64,
    /// Window width (> 0).
    pub width: f64,
}

impl Window {
    /// CT soft tissue 400/40.
    pub const SOFT_TISSUE: Window = Window {
        center: 40.0,
        width: 400.0,
    };
    /// CT lung 1500/−600.
    pub const LUNG: Window = Window {
        center: -600.0,
        width: 1500.0,
    };
    /// CT bone 1800/400.
    pub const BONE: Window = Window {
        center: 400.0,
        width: 1800.0,
    };
    /// CT liver 150/90 (as OHIF has it).
    pub const LIVER: Window = Window {
        center: 90.0,
        width: 150.0,
    };
    /// CT brain 80/40.
    pub const BRAIN: Window = Window {
        center: 40.0,
        width: 80.0,
    };
}

/// Clamps a grey level to 0–255 and rounds it to a byte without a
/// saturating float-to-int conversion (which keeps the loop vectorised):
/// adding 1.5 · 2²³ puts the rounded integer in the low mantissa bits.
#[inline(always)]
pub fn grey_byte(grey: f32) -> u8 {
    const MAGIC: f32 = 12_582_912.0;
    ((grey.clamp(0.0, 255.0) + MAGIC).to_bits() & 0xFF) as u8
}

/// Maps one slice to 8-bit grey levels through `window` (linear, DICOM-style
/// clamping), inverting for MONOCHROME1. `out` must hold rows × columns bytes.
///
/// The map from stored value to grey is affine, so it is folded into one
/// multiply-add per pixel: about 0.1 ms for a 512² slice.
pub fn window_slice(volume: &Volume, slice: usize, window: Window, out: &mut [u8]) -> bool {
    let plane = volume.rows() * volume.columns();
    let Some(values) = volume
        .voxels
        .as_slice()
        .and_then(|v| v.get(slice * plane..(slice + 1) * plane))
    else {
        return false;
    };
    if out.len() != plane {
        return false;
    }
    let rescale = volume.slice_rescale(slice);
    let width = window.width.max(1e-6);
    let low = window.center - width / 2.0;
    // grey = (slope * (v + offset) + intercept - low) / width * 255
    let mut scale = (rescale.slope / width * 255.0) as f32;
    let mut bias = ((rescale.slope * f64::from(volume.stored_offset) + rescale.intercept - low)
        / width
        * 255.0) as f32;
    if volume.photometric == Photometric::Monochrome1 {
        scale = -scale;
        bias = 255.0 - bias;
    }
    // fixed-size chunks let the compiler keep 16 pixels in vector registers
    let mut out_chunks = out.chunks_exact_mut(16);
    let mut value_chunks = values.chunks_exact(16);
    for (o, v) in (&mut out_chunks).zip(&mut value_chunks) {
        for (o, &v) in o.iter_mut().zip(v) {
            *o = grey_byte(f32::from(v) * scale + bias);
        }
    }
    for (o, &v) in out_chunks
        .into_remainder()
        .iter_mut()
        .zip(value_chunks.remainder())
    {
        *o = grey_byte(f32::from(v) * scale + bias);
    }
    true
}
