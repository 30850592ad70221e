//! Planes through a volume: the acquired plane and the two orthogonal
//! reformats, their pixel grids, and the map between plane pixels and voxels.
//!
//! A plane pixel `(u, v)` has its centre at integer coordinates; `u` runs
//! left to right and `v` top to bottom on screen. Reformats put the superior
//! end of the stack at the top when the orientation says where that is.

use serde::{Deserialize, Serialize};

use super::{Geometry, Photometric, Volume, Window};
use crate::geom::{Orientation, Vec3};

/// Which family of planes through the volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Plane {
    /// The acquired slices (usually axial).
    Native,
    /// Fixed row index: `u` = column, `v` = slice (coronal for an axial stack).
    FixedRow,
    /// Fixed column index: `u` = row, `v` = slice (sagittal for an axial stack).
    FixedColumn,
}

impl Plane {
    /// All three planes, native first.
    pub const ALL: [Plane; 3] = [Plane::Native, Plane::FixedRow, Plane::FixedColumn];

    /// The anatomical name of this plane for a volume of the given
    /// orientation (`Axial`, `Coronal`, `Sagittal`), by the plane normal's
    /// dominant patient axis; `Oblique` without orientation.
    pub fn anatomical_name(self, orientation: Option<Orientation>) -> &'static str {
        let Some(o) = orientation else {
            return match self {
                Plane::Native => "Native",
                Plane::FixedRow | Plane::FixedColumn => "Reformat",
            };
        };
        let normal = match self {
            Plane::Native => o.normal(),
            Plane::FixedRow => o.column,
            Plane::FixedColumn => o.row,
        };
        let [x, y, z] = normal.0.map(f64::abs);
        if z >= x && z >= y {
            "Axial"
        } else if y >= x {
            "Coronal"
        } else {
            "Sagittal"
        }
    }
}

/// One plane through a volume: its pixel grid and its map to voxel indices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneFrame {
    /// The plane family.
    pub plane: Plane,
    /// The index of the plane in its family (slice, row or column index).
    pub index: usize,
    /// Pixels along `u`.
    pub width: usize,
    /// Pixels along `v`.
    pub height: usize,
    /// Pixel size `[u, v]` in mm (or 1 px when the spacing is unknown).
    pub pixel_size: [f64; 2],
    /// Whether `v` runs against the slice index (superior at the top).
    flip_v: bool,
    /// Slices of the volume.
    slices: usize,
}

/// How many planes of a family a volume has.
pub fn plane_count(volume: &Volume, plane: Plane) -> usize {
    match plane {
        Plane::Native => volume.slices(),
        Plane::FixedRow => volume.rows(),
        Plane::FixedColumn => volume.columns(),
    }
}

impl PlaneFrame {
    /// The frame of plane `index` of `plane`; `None` when the index is outside
    /// the volume or the volume is empty.
    pub fn new(volume: &Volume, plane: Plane, index: usize) -> Option<PlaneFrame> {
        if index >= plane_count(volume, plane) || volume.voxels.is_empty() {
            return None;
        }
        let g = &volume.geometry;
        let [row_mm, column_mm] = g.pixel_spacing_mm.unwrap_or([1.0, 1.0]);
        let slice_mm = g
            .mean_slice_spacing_mm()
            .map(f64::abs)
            .or(volume.meta.slice_thickness_mm)
            .filter(|s| *s > 0.0 && s.is_finite())
            .unwrap_or(1.0);
        let slice_mm = if g.pixel_spacing_mm.is_some() {
            slice_mm
        } else {
            1.0
        };
        // Slices sorted along the normal: if the normal points up (superior,
        // +z in LPS), the last slice is the top one.
        let flip_v = g.normal().is_none_or(|n| n.z() >= 0.0);
        let (width, height, pixel_size) = match plane {
            Plane::Native => (volume.columns(), volume.rows(), [column_mm, row_mm]),
            Plane::FixedRow => (volume.columns(), volume.slices(), [column_mm, slice_mm]),
            Plane::FixedColumn => (volume.rows(), volume.slices(), [row_mm, slice_mm]),
        };
        Some(PlaneFrame {
            plane,
            index,
            width,
            height,
            pixel_size,
            flip_v,
            slices: volume.slices(),
        })
    }

    fn slice_from_v(&self, v: f64) -> f64 {
        if self.flip_v {
            self.slices as f64 - 1.0 - v
        } else {
            v
        }
    }

    /// Voxel indices `[column, row, slice]` (fractional) of plane pixel `(u, v)`.
    pub fn voxel_from_plane(&self, u: f64, v: f64) -> [f64; 3] {
        let index = self.index as f64;
        match self.plane {
            Plane::Native => [u, v, index],
            Plane::FixedRow => [u, index, self.slice_from_v(v)],
            Plane::FixedColumn => [index, u, self.slice_from_v(v)],
        }
    }

    /// Plane pixel `(u, v)` and the signed distance from the plane in plane
    /// indices (`depth`) of voxel `[column, row, slice]`.
    pub fn plane_from_voxel(&self, voxel: [f64; 3]) -> (f64, f64, f64) {
        let [column, row, slice] = voxel;
        let index = self.index as f64;
        match self.plane {
            Plane::Native => (column, row, slice - index),
            Plane::FixedRow => (column, self.slice_from_v(slice), row - index),
            Plane::FixedColumn => (row, self.slice_from_v(slice), column - index),
        }
    }

    /// Whether plane pixel `(u, v)` lies on the image (pixel edges included).
    pub fn contains(&self, u: f64, v: f64) -> bool {
        u >= -0.5 && v >= -0.5 && u <= self.width as f64 - 0.5 && v <= self.height as f64 - 0.5
    }

    /// The voxel `(slice, row, column)` nearest to plane pixel `(u, v)`.
    pub fn nearest_voxel(&self, u: f64, v: f64) -> Option<(usize, usize, usize)> {
        if !self.contains(u, v) {
            return None;
        }
        let [c, r, s] = self
            .voxel_from_plane(u, v)
            .map(|x| x.round().max(0.0) as usize);
        Some((s, r, c))
    }
}

/// A geometry usable for measuring: the volume's own when it is complete,
/// else a stand-in in which one unit is one pixel (`spacing_known` false) or,
/// with spacing but no position, an axial stack at the slice thickness.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasurementGeometry {
    /// A geometry with spacing, orientation and every slice position.
    pub geometry: Geometry,
    /// Whether distances in this geometry are millimetres.
    pub spacing_known: bool,
}

impl MeasurementGeometry {
    /// The measuring geometry of `volume`.
    pub fn of(volume: &Volume) -> MeasurementGeometry {
        let g = &volume.geometry;
        let complete = g.pixel_spacing_mm.is_some()
            && g.orientation.is_some()
            && g.slice_positions_mm.len() == volume.slices();
        if complete {
            return MeasurementGeometry {
                geometry: g.clone(),
                spacing_known: true,
            };
        }
        let spacing_known = g.pixel_spacing_mm.is_some();
        let step = if spacing_known {
            volume
                .meta
                .slice_thickness_mm
                .filter(|t| *t > 0.0)
                .unwrap_or(1.0)
        } else {
            1.0
        };
        MeasurementGeometry {
            geometry: Geometry {
                pixel_spacing_mm: Some(g.pixel_spacing_mm.unwrap_or([1.0, 1.0])),
                orientation: Some(Orientation::AXIAL),
                slice_positions_mm: (0..volume.slices())
                    .map(|i| Vec3::new(0.0, 0.0, i as f64 * step))
                    .collect(),
                frame_of_reference_uid: g.frame_of_reference_uid.clone(),
            },
            spacing_known,
        }
    }

    /// Point (mm, or px without spacing) of plane pixel `(u, v)`.
    pub fn point_from_plane(&self, frame: &PlaneFrame, u: f64, v: f64) -> Option<Vec3> {
        let [c, r, s] = frame.voxel_from_plane(u, v);
        self.geometry.patient_from_voxel(c, r, s)
    }

    /// Plane pixel `(u, v, depth)` of a point.
    pub fn plane_from_point(&self, frame: &PlaneFrame, point: Vec3) -> Option<(f64, f64, f64)> {
        let voxel = self.geometry.voxel_from_patient(point)?;
        Some(frame.plane_from_voxel(voxel))
    }

    /// Unit normal of a plane, in measuring space.
    pub fn plane_normal(&self, plane: Plane) -> Option<Vec3> {
        let o = self.geometry.orientation?;
        match plane {
            Plane::Native => o.normal().normalized(),
            Plane::FixedRow => Some(o.column),
            Plane::FixedColumn => Some(o.row),
        }
    }
}

/// Windows plane `frame` of `volume` into 8-bit grey (row-major, `width ×
/// height` bytes in `out`), inverting for MONOCHROME1; nearest-neighbour.
/// Returns false if `out` has the wrong size or the plane is not in the volume.
pub fn window_plane(volume: &Volume, frame: &PlaneFrame, window: Window, out: &mut [u8]) -> bool {
    if frame.plane == Plane::Native {
        return super::window_slice(volume, frame.index, window, out);
    }
    if out.len() != frame.width * frame.height {
        return false;
    }
    let width = window.width.max(1e-6);
    let low = window.center - width / 2.0;
    let invert = volume.photometric == Photometric::Monochrome1;
    let (rows, columns) = (volume.rows(), volume.columns());
    let Some(data) = volume.voxels.as_slice() else {
        return false;
    };
    for (v, line) in out.chunks_mut(frame.width.max(1)).enumerate() {
        let slice = frame.slice_from_v(v as f64).round().max(0.0) as usize;
        let rescale = volume.slice_rescale(slice);
        let mut scale = (rescale.slope / width * 255.0) as f32;
        let mut bias = ((rescale.slope * f64::from(volume.stored_offset) + rescale.intercept - low)
            / width
            * 255.0) as f32;
        if invert {
            scale = -scale;
            bias = 255.0 - bias;
        }
        let base = slice * rows * columns;
        for (u, o) in line.iter_mut().enumerate() {
            let at = match frame.plane {
                Plane::FixedRow => base + frame.index * columns + u,
                Plane::FixedColumn => base + u * columns + frame.index,
                Plane::Native => base + v * columns + u,
            };
            let value = data.get(at).copied().unwrap_or(0);
            *o = super::grey_byte(f32::from(value) * scale + bias);
        }
    }
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::volume::{Rescale, SeriesMeta};
    use ndarray::Array3;

    /// A small axial test volume: voxel = 100·slice + 10·row + column.
    pub(crate) fn volume(slices: usize, rows: usize, columns: usize) -> Volume {
        let voxels = Array3::from_shape_fn((slices, rows, columns), |(s, r, c)| {
            (s * 100 + r * 10 + c) as i16
        });
        Volume {
            voxels,
            stored_offset: 0,
            rescale: vec![Rescale::IDENTITY; slices],
            geometry: Geometry {
                pixel_spacing_mm: Some([0.5, 0.8]),
                orientation: Some(Orientation::AXIAL),
                slice_positions_mm: (0..slices)
                    .map(|i| Vec3::new(0.0, 0.0, 2.0 * i as f64))
                    .collect(),
                frame_of_reference_uid: None,
            },
            photometric: Photometric::Monochrome2,
            meta: SeriesMeta::default(),
            instances_in_order: Vec::new(),
            instance_numbers: Vec::new(),
        }
    }

    #[test]
    fn reformat_puts_superior_at_the_top() {
        let v = volume(4, 3, 5);
        let f = PlaneFrame::new(&v, Plane::FixedRow, 1).unwrap();
        assert_eq!((f.width, f.height), (5, 4));
        assert_eq!(f.pixel_size, [0.8, 2.0]);
        // v = 0 is the last (most superior) slice.
        assert_eq!(f.voxel_from_plane(2.0, 0.0), [2.0, 1.0, 3.0]);
        assert_eq!(f.plane_from_voxel([2.0, 1.0, 3.0]), (2.0, 0.0, 0.0));
        let mut out = vec![0u8; 20];
        assert!(window_plane(
            &v,
            &f,
            Window {
                center: 200.0,
                width: 400.0
            },
            &mut out
        ));
        // top-left pixel = voxel (slice 3, row 1, column 0) = 310 -> grey 255*(310)/400
        assert_eq!(out[0], (310.0f32 / 400.0 * 255.0).round() as u8);
    }

    #[test]
    fn anatomical_names_follow_the_orientation() {
        let o = Some(Orientation::AXIAL);
        assert_eq!(Plane::Native.anatomical_name(o), "Axial");
        assert_eq!(Plane::FixedRow.anatomical_name(o), "Coronal");
        assert_eq!(Plane::FixedColumn.anatomical_name(o), "Sagittal");
    }

    #[test]
    fn measurement_geometry_round_trips_points() {
        let v = volume(4, 3, 5);
        let m = MeasurementGeometry::of(&v);
        assert!(m.spacing_known);
        let f = PlaneFrame::new(&v, Plane::FixedColumn, 2).unwrap();
        let p = m.point_from_plane(&f, 1.0, 1.0).unwrap();
        assert_eq!(p, Vec3::new(1.6, 0.5, 4.0));
        let (u, w, depth) = m.plane_from_point(&f, p).unwrap();
        assert!((u - 1.0).abs() < 1e-9 && (w - 1.0).abs() < 1e-9 && depth.abs() < 1e-9);
    }

    #[test]
    fn missing_spacing_measures_in_pixels() {
        let mut v = volume(2, 3, 3);
        v.geometry = Geometry::default();
        let m = MeasurementGeometry::of(&v);
        assert!(!m.spacing_known);
        assert_eq!(
            m.geometry.patient_from_voxel(2.0, 1.0, 1.0),
            Some(Vec3::new(2.0, 1.0, 1.0))
        );
    }
}
