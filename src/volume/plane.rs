//! Planes through a volume: the acquired plane and the two orthogonal
//! reformats, their pixel grids, and the map between plane pixels and voxels.
//!
//! A plane pixel `(u, v)` has its centre at integer coordinates; `u` runs
//! left to right and `v` top to bottom on screen. Reformats are laid out in
//! radiological convention (patient right on screen left; anterior or
//! superior up), whatever plane the series was acquired in.

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
///
/// The acquired plane is shown as stored, as every PACS shows it. A
/// reformat is laid out in radiological convention whatever the acquisition
/// plane: an axial reformat has patient right on screen left and anterior
/// up, a coronal one right on the left and superior up, a sagittal one
/// anterior on the left and superior up. Which voxel axis runs along `u`
/// and `v`, and in which sense, follows from the volume's orientation and
/// slice order (see [`ScreenAxes`]).
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
    /// How plane pixels map onto voxel axes.
    axes: ScreenAxes,
}

/// The map from a plane's screen axes to voxel axes: `u` (and `v`) run
/// along voxel axis `u_axis` (`v_axis`) of `[column, row, slice]`, reversed
/// when `flip_u` (`flip_v`); `fixed` is the axis the plane holds at its
/// index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScreenAxes {
    u_axis: usize,
    v_axis: usize,
    fixed: usize,
    flip_u: bool,
    flip_v: bool,
}

/// Voxel axis numbers in `[column, row, slice]` order.
const COLUMN: usize = 0;
const ROW: usize = 1;
const SLICE: usize = 2;

/// How many planes of a family a volume has.
pub fn plane_count(volume: &Volume, plane: Plane) -> usize {
    match plane {
        Plane::Native => volume.slices(),
        Plane::FixedRow => volume.rows(),
        Plane::FixedColumn => volume.columns(),
    }
}

/// The patient directions (LPS) that should point to screen right and
/// screen down on a plane of normal `normal`, by radiological convention:
/// axial → (left, posterior), coronal → (left, inferior), sagittal →
/// (posterior, inferior).
fn radiological_screen_directions(normal: Vec3) -> (Vec3, Vec3) {
    let [x, y, z] = normal.0.map(f64::abs);
    let left = Vec3::new(1.0, 0.0, 0.0);
    let posterior = Vec3::new(0.0, 1.0, 0.0);
    let inferior = Vec3::new(0.0, 0.0, -1.0);
    if z >= x && z >= y {
        (left, posterior)
    } else if y >= x {
        (left, inferior)
    } else {
        (posterior, inferior)
    }
}

impl ScreenAxes {
    /// The layout of `plane` of a volume with geometry `g`.
    fn of(plane: Plane, g: &Geometry) -> ScreenAxes {
        let native = ScreenAxes {
            u_axis: COLUMN,
            v_axis: ROW,
            fixed: SLICE,
            flip_u: false,
            flip_v: false,
        };
        let (in_plane, fixed) = match plane {
            Plane::Native => return native,
            Plane::FixedRow => ([COLUMN, SLICE], ROW),
            Plane::FixedColumn => ([ROW, SLICE], COLUMN),
        };
        let o = g.orientation.unwrap_or(Orientation::AXIAL);
        // the direction in which the slice index grows: from the positions
        // when there are two, else the normal (slices sorted along it)
        let slice_direction = match g.slice_positions_mm.as_slice() {
            [first, .., last] => (*last - *first).normalized(),
            _ => None,
        }
        .or_else(|| o.normal().normalized())
        .unwrap_or(Vec3::new(0.0, 0.0, 1.0));
        let direction = |axis: usize| match axis {
            COLUMN => o.row,
            ROW => o.column,
            _ => slice_direction,
        };
        let (right, down) = radiological_screen_directions(direction(fixed));
        let [a, b] = in_plane;
        let score =
            |u: usize, v: usize| direction(u).dot(right).abs() + direction(v).dot(down).abs();
        let (u_axis, v_axis) = if score(b, a) > score(a, b) + 1e-9 {
            (b, a)
        } else {
            (a, b)
        };
        ScreenAxes {
            u_axis,
            v_axis,
            fixed,
            flip_u: direction(u_axis).dot(right) < 0.0,
            flip_v: direction(v_axis).dot(down) < 0.0,
        }
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
        let axes = ScreenAxes::of(plane, g);
        // size of one step along each voxel axis, and the number of steps
        let step_mm = [column_mm, row_mm, slice_mm];
        let count = [volume.columns(), volume.rows(), volume.slices()];
        Some(PlaneFrame {
            plane,
            index,
            width: count[axes.u_axis],
            height: count[axes.v_axis],
            pixel_size: [step_mm[axes.u_axis], step_mm[axes.v_axis]],
            axes,
        })
    }

    /// Voxel indices `[column, row, slice]` (fractional) of plane pixel `(u, v)`.
    pub fn voxel_from_plane(&self, u: f64, v: f64) -> [f64; 3] {
        let a = self.axes;
        let mut voxel = [0.0; 3];
        voxel[a.fixed] = self.index as f64;
        voxel[a.u_axis] = if a.flip_u {
            self.width as f64 - 1.0 - u
        } else {
            u
        };
        voxel[a.v_axis] = if a.flip_v {
            self.height as f64 - 1.0 - v
        } else {
            v
        };
        voxel
    }

    /// Plane pixel `(u, v)` and the signed distance from the plane in plane
    /// indices (`depth`) of voxel `[column, row, slice]`.
    pub fn plane_from_voxel(&self, voxel: [f64; 3]) -> (f64, f64, f64) {
        let a = self.axes;
        let (x, y) = (voxel[a.u_axis], voxel[a.v_axis]);
        let u = if a.flip_u {
            self.width as f64 - 1.0 - x
        } else {
            x
        };
        let v = if a.flip_v {
            self.height as f64 - 1.0 - y
        } else {
            y
        };
        (u, v, voxel[a.fixed] - self.index as f64)
    }

    /// The voxel axis (`0` column, `1` row, `2` slice) this plane holds
    /// fixed at its index.
    pub fn fixed_axis(&self) -> usize {
        self.axes.fixed
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
    // the grey map of each slice (its rescale may differ)
    let slice_map: Vec<(f32, f32)> = (0..volume.slices())
        .map(|slice| {
            let rescale = volume.slice_rescale(slice);
            let scale = (rescale.slope / width * 255.0) as f32;
            let bias = ((rescale.slope * f64::from(volume.stored_offset) + rescale.intercept - low)
                / width
                * 255.0) as f32;
            if invert {
                (-scale, 255.0 - bias)
            } else {
                (scale, bias)
            }
        })
        .collect();
    for (v, line) in out.chunks_mut(frame.width.max(1)).enumerate() {
        for (u, o) in line.iter_mut().enumerate() {
            let [c, r, s] = frame
                .voxel_from_plane(u as f64, v as f64)
                .map(|x| x as usize);
            let value = data.get((s * rows + r) * columns + c).copied().unwrap_or(0);
            let (scale, bias) = slice_map.get(s).copied().unwrap_or((0.0, 0.0));
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

    /// Patient directions of screen right and screen down on `frame`.
    fn screen_directions(v: &Volume, frame: &PlaneFrame) -> (Vec3, Vec3) {
        let m = MeasurementGeometry::of(v);
        let at = |u, w| m.point_from_plane(frame, u, w).unwrap();
        let origin = at(1.0, 1.0);
        (
            (at(2.0, 1.0) - origin).normalized().unwrap(),
            (at(1.0, 2.0) - origin).normalized().unwrap(),
        )
    }

    /// `volume(…)` acquired in another plane: rows along `row`, columns
    /// along `column`, slices stacked along `step`.
    fn acquired(row: Vec3, column: Vec3, step: Vec3) -> Volume {
        let mut v = volume(4, 3, 5);
        v.geometry.orientation = Some(Orientation { row, column });
        v.geometry.slice_positions_mm = (0..4).map(|i| step * (2.0 * i as f64)).collect();
        v
    }

    const LEFT: Vec3 = Vec3([1.0, 0.0, 0.0]);
    const POSTERIOR: Vec3 = Vec3([0.0, 1.0, 0.0]);
    const SUPERIOR: Vec3 = Vec3([0.0, 0.0, 1.0]);

    /// Radiological convention: axial = right on screen left, anterior up;
    /// coronal = right on the left, superior up; sagittal = anterior on the
    /// left, superior up.
    fn assert_radiological(v: &Volume) {
        for plane in [Plane::FixedRow, Plane::FixedColumn] {
            let frame = PlaneFrame::new(v, plane, 1).unwrap();
            let (right, down) = screen_directions(v, &frame);
            let expected = match plane.anatomical_name(v.geometry.orientation) {
                "Axial" => (LEFT, POSTERIOR),
                "Coronal" => (LEFT, SUPERIOR * -1.0),
                _ => (POSTERIOR, SUPERIOR * -1.0),
            };
            assert!(
                right.distance(expected.0) < 1e-9 && down.distance(expected.1) < 1e-9,
                "{plane:?} ({}): right {right:?}, down {down:?}",
                plane.anatomical_name(v.geometry.orientation)
            );
        }
    }

    #[test]
    fn reformats_of_a_sagittal_acquisition_are_radiological() {
        // rows run anterior → posterior, columns superior → inferior,
        // slices from patient left to right (and the other way)
        for step in [LEFT * -1.0, LEFT] {
            let v = acquired(POSTERIOR, SUPERIOR * -1.0, step);
            assert_radiological(&v);
        }
        let v = acquired(POSTERIOR, SUPERIOR * -1.0, LEFT * -1.0);
        let names: Vec<_> = Plane::ALL
            .map(|p| p.anatomical_name(v.geometry.orientation))
            .into();
        assert_eq!(names, ["Sagittal", "Axial", "Coronal"]);
        // the axial reformat of a sagittal stack puts slices across the screen
        let axial = PlaneFrame::new(&v, Plane::FixedRow, 1).unwrap();
        assert_eq!((axial.width, axial.height), (4, 5));
        assert_eq!(axial.pixel_size, [2.0, 0.8]);
    }

    #[test]
    fn reformats_of_coronal_and_axial_acquisitions_are_radiological() {
        // coronal: rows run right → left, columns superior → inferior,
        // slices anterior → posterior (and back)
        for step in [POSTERIOR, POSTERIOR * -1.0] {
            assert_radiological(&acquired(LEFT, SUPERIOR * -1.0, step));
        }
        // axial, feet first or head first
        for step in [SUPERIOR, SUPERIOR * -1.0] {
            assert_radiological(&acquired(LEFT, POSTERIOR, step));
        }
    }

    #[test]
    fn reformat_pixels_map_back_to_their_voxels() {
        let v = acquired(POSTERIOR, SUPERIOR * -1.0, LEFT * -1.0);
        for plane in Plane::ALL {
            let frame = PlaneFrame::new(&v, plane, 1).unwrap();
            let mut out = vec![0u8; frame.width * frame.height];
            let window = Window {
                center: 250.0,
                width: 500.0,
            };
            assert!(window_plane(&v, &frame, window, &mut out));
            for w in 0..frame.height {
                for u in 0..frame.width {
                    let voxel = frame.voxel_from_plane(u as f64, w as f64);
                    let (back_u, back_w, depth) = frame.plane_from_voxel(voxel);
                    assert_eq!((back_u, back_w, depth), (u as f64, w as f64, 0.0));
                    let [c, r, s] = voxel.map(|x| x as usize);
                    let value = (s * 100 + r * 10 + c) as f32;
                    assert_eq!(
                        out[w * frame.width + u],
                        super::super::grey_byte(value / 500.0 * 255.0)
                    );
                }
            }
        }
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
