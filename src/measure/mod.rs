//! Measurements as data: geometry in patient space (LPS mm) plus a reference
//! to the image they were drawn on. Zoom, pan and reformat never change them.
//!
//! Values (length, area, mean …) are never stored: pure functions derive them
//! from the geometry and the image, each as a [`Quantity`] with a unit and a
//! status, so a value without pixel spacing is shown in px with a visible
//! label ([`QuantityStatus::NoSpacing`]), never silently in mm.
//!
//! - [`Length`]: a line between two points.
//! - [`Bidirectional`]: long axis + perpendicular short axis; the constructor
//!   enforces long ≥ short and perpendicularity, and handle moves keep them.
//! - [`EllipseRoi`], [`FreehandRoi`]: regions with mean, SD, min, max, area.

mod roi;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::geom::Vec3;
use crate::volume::Volume;
use crate::volume::plane::{MeasurementGeometry, Plane, PlaneFrame};

pub use roi::{RoiStats, roi_stats};

/// Cosine tolerance for "perpendicular" (about 0.06°).
pub const PERPENDICULAR_TOLERANCE: f64 = 1e-3;

/// Why a measurement could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    /// The two axes of a bidirectional measurement are not perpendicular.
    #[error("the short axis is not perpendicular to the long axis (cos = {cosine:.4})")]
    NotPerpendicular {
        /// Cosine of the angle between the axes.
        cosine: f64,
    },
    /// The short axis is longer than the long axis.
    #[error("the short axis ({short:.1}) is longer than the long axis ({long:.1})")]
    ShortLongerThanLong {
        /// Long-axis length.
        long: f64,
        /// Short-axis length.
        short: f64,
    },
    /// Points coincide or are not finite.
    #[error("degenerate geometry (coincident or non-finite points)")]
    Degenerate,
}

/// The image a measurement was drawn on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImageRef {
    /// SeriesInstanceUID.
    pub series_instance_uid: String,
    /// SOPInstanceUID of the slice (native plane only).
    pub sop_instance_uid: Option<String>,
    /// Plane family the measurement was drawn in.
    pub plane: Plane,
    /// Index of the plane in its family.
    pub index: usize,
}

/// A straight line between two points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Length {
    /// First end.
    pub start: Vec3,
    /// Second end.
    pub end: Vec3,
}

/// Long axis plus a perpendicular short axis, both in one image plane.
///
/// Stored as four points; built only through [`Bidirectional::new`] and the
/// editing methods, which keep long ≥ short and the axes perpendicular.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bidirectional {
    long: [Vec3; 2],
    short: [Vec3; 2],
    normal: Vec3,
}

/// An ellipse in an image plane: centre and two perpendicular semi-axes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EllipseRoi {
    /// Centre.
    pub center: Vec3,
    /// First semi-axis (vector from the centre to the rim).
    pub semi_axis_a: Vec3,
    /// Second semi-axis, perpendicular to the first.
    pub semi_axis_b: Vec3,
}

/// A closed polygon drawn freehand in an image plane.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FreehandRoi {
    /// Vertices in drawing order (closed implicitly).
    pub points: Vec<Vec3>,
}

/// The geometry of a measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    /// A line.
    Length(Length),
    /// Long and short axis.
    Bidirectional(Bidirectional),
    /// Elliptical region.
    Ellipse(EllipseRoi),
    /// Freehand region.
    Freehand(FreehandRoi),
}

/// A measurement: geometry, the image it was drawn on, and whether its
/// coordinates are millimetres (false: pixels, the image had no spacing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Geometry in patient space (mm) or, without spacing, pixel space.
    pub shape: Shape,
    /// Where it was drawn.
    pub image: ImageRef,
    /// Whether coordinates are millimetres.
    pub spacing_known: bool,
}

impl Bidirectional {
    /// Builds a bidirectional measurement in the plane with unit `normal`;
    /// fails unless the axes are perpendicular (within
    /// [`PERPENDICULAR_TOLERANCE`]) and long ≥ short.
    pub fn new(
        long: [Vec3; 2],
        short: [Vec3; 2],
        normal: Vec3,
    ) -> Result<Bidirectional, MeasureError> {
        let normal = normal.normalized().ok_or(MeasureError::Degenerate)?;
        let long_vector = long[1] - long[0];
        let short_vector = short[1] - short[0];
        let (l, s) = (long_vector.norm(), short_vector.norm());
        if !(l > 1e-9 && l.is_finite() && s.is_finite()) {
            return Err(MeasureError::Degenerate);
        }
        if s > 1e-9 {
            let cosine = long_vector.dot(short_vector) / (l * s);
            if cosine.abs() > PERPENDICULAR_TOLERANCE {
                return Err(MeasureError::NotPerpendicular { cosine });
            }
        }
        if s > l + 1e-9 {
            return Err(MeasureError::ShortLongerThanLong { long: l, short: s });
        }
        Ok(Bidirectional {
            long,
            short,
            normal,
        })
    }

    /// A new measurement from a drawn long axis: the short axis crosses it at
    /// its midpoint, perpendicular, half as long.
    pub fn from_long_axis(
        start: Vec3,
        end: Vec3,
        normal: Vec3,
    ) -> Result<Bidirectional, MeasureError> {
        let normal = normal.normalized().ok_or(MeasureError::Degenerate)?;
        let long_vector = end - start;
        let perpendicular = normal
            .cross(long_vector)
            .normalized()
            .ok_or(MeasureError::Degenerate)?;
        let mid = start + long_vector * 0.5;
        let half = long_vector.norm() / 4.0;
        Bidirectional::new(
            [start, end],
            [mid - perpendicular * half, mid + perpendicular * half],
            normal,
        )
    }

    /// The long axis end points.
    pub fn long_axis(&self) -> [Vec3; 2] {
        self.long
    }

    /// The short axis end points.
    pub fn short_axis(&self) -> [Vec3; 2] {
        self.short
    }

    /// The plane normal.
    pub fn normal(&self) -> Vec3 {
        self.normal
    }

    /// Long-axis length (mm or px).
    pub fn long_length(&self) -> f64 {
        self.long[0].distance(self.long[1])
    }

    /// Short-axis length (mm or px).
    pub fn short_length(&self) -> f64 {
        self.short[0].distance(self.short[1])
    }

    /// Cosine of the angle between the axes (0 = perpendicular).
    pub fn axes_cosine(&self) -> f64 {
        let (a, b) = (self.long[1] - self.long[0], self.short[1] - self.short[0]);
        let n = a.norm() * b.norm();
        if n > 0.0 { a.dot(b) / n } else { 0.0 }
    }

    /// Short-axis geometry relative to the long axis: (fraction along the
    /// long axis where it crosses, signed distance of each end along the
    /// perpendicular).
    fn short_parameters(&self) -> Option<(f64, f64, f64, Vec3)> {
        let long_vector = self.long[1] - self.long[0];
        let length_squared = long_vector.dot(long_vector);
        let perpendicular = self.normal.cross(long_vector).normalized()?;
        let mid = self.short[0] + (self.short[1] - self.short[0]) * 0.5;
        let t = (mid - self.long[0]).dot(long_vector) / length_squared;
        let crossing = self.long[0] + long_vector * t;
        let d0 = (self.short[0] - crossing).dot(perpendicular);
        let d1 = (self.short[1] - crossing).dot(perpendicular);
        Some((t, d0, d1, perpendicular))
    }

    fn rebuild(long: [Vec3; 2], t: f64, d0: f64, d1: f64, normal: Vec3) -> Option<Bidirectional> {
        let long_vector = long[1] - long[0];
        let long_length = long_vector.norm();
        let perpendicular = normal.cross(long_vector).normalized()?;
        let crossing = long[0] + long_vector * t.clamp(0.0, 1.0);
        let (mut d0, mut d1) = (d0.min(0.0), d1.max(0.0));
        let span = d1 - d0;
        if span > long_length {
            let k = long_length / span;
            d0 *= k;
            d1 *= k;
        }
        Bidirectional::new(
            long,
            [crossing + perpendicular * d0, crossing + perpendicular * d1],
            normal,
        )
        .ok()
    }

    /// The handles in order: long start, long end, short start, short end.
    pub fn handles(&self) -> [Vec3; 4] {
        [self.long[0], self.long[1], self.short[0], self.short[1]]
    }

    /// The measurement with handle `handle` (see [`Bidirectional::handles`])
    /// moved to `to` (projected into the plane). Moving a long-axis end
    /// rotates and stretches the long axis and carries the short axis along;
    /// moving a short-axis end slides the short axis along the long axis and
    /// sets that end's distance. The short axis is shortened if it would
    /// exceed the long axis. Returns `self` unchanged for a degenerate move.
    pub fn with_handle_moved(&self, handle: usize, to: Vec3) -> Bidirectional {
        let Some((t, d0, d1, perpendicular)) = self.short_parameters() else {
            return *self;
        };
        let to = to - self.normal * (to - self.long[0]).dot(self.normal);
        let moved = match handle {
            0 | 1 => {
                let mut long = self.long;
                if let Some(end) = long.get_mut(handle) {
                    *end = to;
                }
                Bidirectional::rebuild(long, t, d0, d1, self.normal)
            }
            2 | 3 => {
                let long_vector = self.long[1] - self.long[0];
                let new_t = (to - self.long[0]).dot(long_vector) / long_vector.dot(long_vector);
                let crossing = self.long[0] + long_vector * new_t.clamp(0.0, 1.0);
                let d = (to - crossing).dot(perpendicular);
                let (d0, d1) = if handle == 2 { (d, d1) } else { (d0, d) };
                Bidirectional::rebuild(self.long, new_t, d0, d1, self.normal)
            }
            _ => None,
        };
        moved.unwrap_or(*self)
    }
}

impl EllipseRoi {
    /// The ellipse inscribed in the in-plane rectangle with opposite corners
    /// `a` and `b`, whose sides run along the unit plane directions `u`, `v`.
    pub fn from_corners(a: Vec3, b: Vec3, u: Vec3, v: Vec3) -> EllipseRoi {
        let center = a + (b - a) * 0.5;
        let d = b - a;
        EllipseRoi {
            center,
            semi_axis_a: u * (d.dot(u) / 2.0).abs(),
            semi_axis_b: v * (d.dot(v) / 2.0).abs(),
        }
    }

    /// Handles: the four ends of the axes (+a, −a, +b, −b).
    pub fn handles(&self) -> [Vec3; 4] {
        [
            self.center + self.semi_axis_a,
            self.center - self.semi_axis_a,
            self.center + self.semi_axis_b,
            self.center - self.semi_axis_b,
        ]
    }

    /// The ellipse with an axis end moved: that semi-axis takes the distance
    /// of `to` from the centre along its direction (symmetric about the centre).
    pub fn with_handle_moved(&self, handle: usize, to: Vec3) -> EllipseRoi {
        let mut out = *self;
        let axis = if handle < 2 {
            self.semi_axis_a
        } else {
            self.semi_axis_b
        };
        let direction = axis.normalized().or_else(|| {
            // a collapsed axis: take the direction perpendicular to the other
            let other = if handle < 2 {
                self.semi_axis_b
            } else {
                self.semi_axis_a
            };
            other.normalized().map(|o| Vec3::new(-o.y(), o.x(), o.z()))
        });
        let Some(direction) = direction else {
            return out;
        };
        let new_axis = direction * (to - self.center).dot(direction).abs();
        if handle < 2 {
            out.semi_axis_a = new_axis;
        } else if handle < 4 {
            out.semi_axis_b = new_axis;
        }
        out
    }

    /// Area (π a b), in mm² or px².
    pub fn area(&self) -> f64 {
        std::f64::consts::PI * self.semi_axis_a.norm() * self.semi_axis_b.norm()
    }

    /// Outline points (for drawing and rasterising), `n` of them.
    pub fn outline(&self, n: usize) -> Vec<Vec3> {
        (0..n)
            .map(|i| {
                let angle = i as f64 / n as f64 * std::f64::consts::TAU;
                self.center + self.semi_axis_a * angle.cos() + self.semi_axis_b * angle.sin()
            })
            .collect()
    }
}

impl FreehandRoi {
    /// Polygon area by the shoelace formula in the plane with unit `normal`.
    pub fn area(&self, normal: Vec3) -> f64 {
        let n = self.points.len();
        if n < 3 {
            return 0.0;
        }
        let mut cross_sum = Vec3::ZERO;
        for (i, &p) in self.points.iter().enumerate() {
            let q = self.points.get((i + 1) % n).copied().unwrap_or(p);
            cross_sum = cross_sum + p.cross(q);
        }
        (cross_sum.dot(normal) / 2.0).abs()
    }
}

impl Shape {
    /// Editable handles of the shape (none for a freehand outline).
    pub fn handles(&self) -> Vec<Vec3> {
        match self {
            Shape::Length(l) => vec![l.start, l.end],
            Shape::Bidirectional(b) => b.handles().to_vec(),
            Shape::Ellipse(e) => e.handles().to_vec(),
            Shape::Freehand(_) => Vec::new(),
        }
    }

    /// The shape with handle `handle` moved to `to`.
    pub fn with_handle_moved(&self, handle: usize, to: Vec3) -> Shape {
        match self {
            Shape::Length(l) => {
                let mut l = *l;
                if handle == 0 {
                    l.start = to;
                } else {
                    l.end = to;
                }
                Shape::Length(l)
            }
            Shape::Bidirectional(b) => Shape::Bidirectional(b.with_handle_moved(handle, to)),
            Shape::Ellipse(e) => Shape::Ellipse(e.with_handle_moved(handle, to)),
            Shape::Freehand(f) => Shape::Freehand(f.clone()),
        }
    }

    /// The shape moved by `delta`.
    pub fn translated(&self, delta: Vec3) -> Shape {
        match self {
            Shape::Length(l) => Shape::Length(Length {
                start: l.start + delta,
                end: l.end + delta,
            }),
            Shape::Bidirectional(b) => Shape::Bidirectional(Bidirectional {
                long: b.long.map(|p| p + delta),
                short: b.short.map(|p| p + delta),
                normal: b.normal,
            }),
            Shape::Ellipse(e) => Shape::Ellipse(EllipseRoi {
                center: e.center + delta,
                ..*e
            }),
            Shape::Freehand(f) => Shape::Freehand(FreehandRoi {
                points: f.points.iter().map(|&p| p + delta).collect(),
            }),
        }
    }

    /// Every point that defines the shape (ends, outline vertices).
    pub fn points(&self) -> Vec<Vec3> {
        match self {
            Shape::Length(l) => vec![l.start, l.end],
            Shape::Bidirectional(b) => b.handles().to_vec(),
            Shape::Ellipse(e) => e.outline(32),
            Shape::Freehand(f) => f.points.clone(),
        }
    }

    /// The centre of the shape's points (where a label or a jump goes).
    pub fn centroid(&self) -> Vec3 {
        let points = self.points();
        let n = points.len().max(1) as f64;
        points.iter().fold(Vec3::ZERO, |acc, &p| acc + p) * (1.0 / n)
    }

    /// A short name of the kind (`Length`, `Bidirectional`, `Ellipse`, `Freehand`).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Shape::Length(_) => "Length",
            Shape::Bidirectional(_) => "Bidirectional",
            Shape::Ellipse(_) => "Ellipse ROI",
            Shape::Freehand(_) => "Freehand ROI",
        }
    }
}

/// The unit of a [`Quantity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Millimetres.
    Millimetre,
    /// Image pixels (no spacing).
    Pixel,
    /// Square millimetres.
    SquareMillimetre,
    /// Square pixels (no spacing).
    SquarePixel,
}

impl Unit {
    /// The symbol shown after a value.
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Millimetre => "mm",
            Unit::Pixel => "px",
            Unit::SquareMillimetre => "mm²",
            Unit::SquarePixel => "px²",
        }
    }
}

/// Whether a quantity can be trusted as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuantityStatus {
    /// Computed from real spacing on the image.
    Ok,
    /// Part of the measurement lies outside the image.
    OutsideImage,
    /// The image has no pixel spacing: the value is in pixels.
    NoSpacing,
}

/// A derived value with its unit and status.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// The number.
    pub value: f64,
    /// Its unit.
    pub unit: Unit,
    /// Whether it can be trusted.
    pub status: QuantityStatus,
}

impl Quantity {
    /// The value in mm when it is a trustworthy length in mm.
    pub fn millimetres(&self) -> Option<f64> {
        (self.unit == Unit::Millimetre && self.status == QuantityStatus::Ok).then_some(self.value)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} {}", self.value, self.unit.symbol())?;
        match self.status {
            QuantityStatus::Ok => Ok(()),
            QuantityStatus::OutsideImage => f.write_str(" (outside image)"),
            QuantityStatus::NoSpacing => f.write_str(" (no spacing)"),
        }
    }
}

/// The image a measurement is evaluated on.
#[derive(Debug, Clone, Copy)]
pub struct ImageContext<'a> {
    /// The volume.
    pub volume: &'a Volume,
    /// Its measuring geometry.
    pub geometry: &'a MeasurementGeometry,
}

impl ImageContext<'_> {
    /// The frame the measurement was drawn in.
    pub fn frame(&self, image: &ImageRef) -> Option<PlaneFrame> {
        PlaneFrame::new(self.volume, image.plane, image.index)
    }

    /// The status of a value computed from `points` drawn on `image`.
    pub fn status(&self, image: &ImageRef, points: &[Vec3]) -> QuantityStatus {
        if !self.geometry.spacing_known {
            return QuantityStatus::NoSpacing;
        }
        let Some(frame) = self.frame(image) else {
            return QuantityStatus::OutsideImage;
        };
        let inside = points.iter().all(|&p| {
            self.geometry
                .plane_from_point(&frame, p)
                .is_some_and(|(u, v, _)| frame.contains(u, v))
        });
        if inside {
            QuantityStatus::Ok
        } else {
            QuantityStatus::OutsideImage
        }
    }
}

fn length_unit(spacing_known: bool) -> Unit {
    if spacing_known {
        Unit::Millimetre
    } else {
        Unit::Pixel
    }
}

/// The length of a segment of `measurement`'s image.
pub fn segment_length(
    a: Vec3,
    b: Vec3,
    measurement: &Measurement,
    context: &ImageContext<'_>,
) -> Quantity {
    Quantity {
        value: a.distance(b),
        unit: length_unit(measurement.spacing_known),
        status: context.status(&measurement.image, &[a, b]),
    }
}

/// The diameters of a linear measurement: (long, short). A [`Length`] has
/// only a long value; ROIs have none.
pub fn diameters(
    measurement: &Measurement,
    context: &ImageContext<'_>,
) -> Option<(Quantity, Option<Quantity>)> {
    match &measurement.shape {
        Shape::Length(l) => Some((segment_length(l.start, l.end, measurement, context), None)),
        Shape::Bidirectional(b) => {
            let [l0, l1] = b.long_axis();
            let [s0, s1] = b.short_axis();
            Some((
                segment_length(l0, l1, measurement, context),
                Some(segment_length(s0, s1, measurement, context)),
            ))
        }
        Shape::Ellipse(_) | Shape::Freehand(_) => None,
    }
}

/// The text shown next to a measurement on the image, e.g. `25.0 mm`,
/// `25.0 × 18.0 mm`, or `314 mm² · 45.2 ± 3.1 HU [40, 50]`.
pub fn label(measurement: &Measurement, context: &ImageContext<'_>) -> String {
    let suffix = |q: &Quantity| match q.status {
        QuantityStatus::Ok => "",
        QuantityStatus::OutsideImage => " (outside image)",
        QuantityStatus::NoSpacing => " (no spacing: px)",
    };
    match diameters(measurement, context) {
        Some((long, None)) => format!("{:.1} {}{}", long.value, long.unit.symbol(), suffix(&long)),
        Some((long, Some(short))) => format!(
            "{:.1} × {:.1} {}{}",
            long.value,
            short.value,
            long.unit.symbol(),
            suffix(&long)
        ),
        None => match roi_stats(measurement, context) {
            Some(stats) => {
                let unit = if context.volume.meta.modality == "CT" {
                    " HU"
                } else {
                    ""
                };
                match (stats.mean, stats.sd, stats.min, stats.max) {
                    (Some(mean), Some(sd), Some(min), Some(max)) => format!(
                        "{:.0} {}{} · {mean:.1} ± {sd:.1}{unit} [{min:.0}, {max:.0}]",
                        stats.area.value,
                        stats.area.unit.symbol(),
                        suffix(&stats.area)
                    ),
                    _ => format!(
                        "{:.0} {}{}",
                        stats.area.value,
                        stats.area.unit.symbol(),
                        suffix(&stats.area)
                    ),
                }
            }
            None => String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::plane::tests::volume;

    const Z: Vec3 = Vec3([0.0, 0.0, 1.0]);

    fn image() -> ImageRef {
        ImageRef {
            series_instance_uid: "1.2".into(),
            sop_instance_uid: None,
            plane: Plane::Native,
            index: 1,
        }
    }

    #[test]
    fn bidirectional_rejects_oblique_axes() {
        let long = [Vec3::new(0.0, 0.0, 0.0), Vec3::new(10.0, 0.0, 0.0)];
        let short = [Vec3::new(5.0, -2.0, 0.0), Vec3::new(5.5, 2.0, 0.0)];
        assert!(matches!(
            Bidirectional::new(long, short, Z),
            Err(MeasureError::NotPerpendicular { .. })
        ));
    }

    #[test]
    fn bidirectional_rejects_short_longer_than_long() {
        let long = [Vec3::new(0.0, 0.0, 0.0), Vec3::new(4.0, 0.0, 0.0)];
        let short = [Vec3::new(2.0, -3.0, 0.0), Vec3::new(2.0, 3.0, 0.0)];
        assert!(matches!(
            Bidirectional::new(long, short, Z),
            Err(MeasureError::ShortLongerThanLong { .. })
        ));
    }

    #[test]
    fn moving_a_long_handle_keeps_the_short_axis_perpendicular() {
        let b =
            Bidirectional::from_long_axis(Vec3::new(0.0, 0.0, 0.0), Vec3::new(20.0, 0.0, 0.0), Z)
                .unwrap();
        assert!((b.short_length() - 10.0).abs() < 1e-9);
        let moved = b.with_handle_moved(1, Vec3::new(10.0, 17.0, 3.0));
        assert!(moved.axes_cosine().abs() < 1e-9);
        // the moved end is projected into the plane
        assert_eq!(moved.long_axis()[1], Vec3::new(10.0, 17.0, 0.0));
        assert!((moved.short_length() - 10.0).abs() < 1e-9);
    }

    #[test]
    fn moving_a_short_handle_keeps_it_perpendicular_and_not_longer() {
        let b =
            Bidirectional::from_long_axis(Vec3::new(0.0, 0.0, 0.0), Vec3::new(20.0, 0.0, 0.0), Z)
                .unwrap();
        let moved = b.with_handle_moved(3, Vec3::new(14.0, 8.0, 0.0));
        assert!(moved.axes_cosine().abs() < 1e-9);
        let [s0, s1] = moved.short_axis();
        assert!((s1.x() - 14.0).abs() < 1e-9 && (s0.x() - 14.0).abs() < 1e-9);
        let huge = b.with_handle_moved(3, Vec3::new(10.0, 400.0, 0.0));
        assert!(huge.short_length() <= huge.long_length() + 1e-9);
    }

    #[test]
    fn length_is_in_mm_with_spacing() {
        let v = volume(3, 10, 10);
        let g = MeasurementGeometry::of(&v);
        let ctx = ImageContext {
            volume: &v,
            geometry: &g,
        };
        let frame = ctx.frame(&image()).unwrap();
        let a = g.point_from_plane(&frame, 1.0, 1.0).unwrap();
        let b = g.point_from_plane(&frame, 4.0, 5.0).unwrap();
        let m = Measurement {
            shape: Shape::Length(Length { start: a, end: b }),
            image: image(),
            spacing_known: g.spacing_known,
        };
        let (q, _) = diameters(&m, &ctx).unwrap();
        // 3 columns × 0.8 mm, 4 rows × 0.5 mm
        assert!((q.value - (2.4f64.powi(2) + 2.0f64.powi(2)).sqrt()).abs() < 1e-9);
        assert_eq!((q.unit, q.status), (Unit::Millimetre, QuantityStatus::Ok));
    }

    #[test]
    fn length_outside_the_image_is_flagged() {
        let v = volume(3, 10, 10);
        let g = MeasurementGeometry::of(&v);
        let ctx = ImageContext {
            volume: &v,
            geometry: &g,
        };
        let frame = ctx.frame(&image()).unwrap();
        let a = g.point_from_plane(&frame, 1.0, 1.0).unwrap();
        let b = g.point_from_plane(&frame, 40.0, 5.0).unwrap();
        let m = Measurement {
            shape: Shape::Length(Length { start: a, end: b }),
            image: image(),
            spacing_known: true,
        };
        assert_eq!(
            diameters(&m, &ctx).unwrap().0.status,
            QuantityStatus::OutsideImage
        );
    }

    #[test]
    fn length_without_spacing_is_in_px() {
        let mut v = volume(3, 10, 10);
        v.geometry = crate::volume::Geometry::default();
        let g = MeasurementGeometry::of(&v);
        let ctx = ImageContext {
            volume: &v,
            geometry: &g,
        };
        let m = Measurement {
            shape: Shape::Length(Length {
                start: Vec3::new(0.0, 0.0, 1.0),
                end: Vec3::new(3.0, 4.0, 1.0),
            }),
            image: image(),
            spacing_known: g.spacing_known,
        };
        let (q, _) = diameters(&m, &ctx).unwrap();
        assert_eq!(
            (q.value, q.unit, q.status),
            (5.0, Unit::Pixel, QuantityStatus::NoSpacing)
        );
        assert!(label(&m, &ctx).contains("px"));
        assert_eq!(q.millimetres(), None);
    }

    #[test]
    fn freehand_area_is_the_polygon_area() {
        let f = FreehandRoi {
            points: vec![
                Vec3::new(0.0, 0.0, 5.0),
                Vec3::new(4.0, 0.0, 5.0),
                Vec3::new(4.0, 3.0, 5.0),
                Vec3::new(0.0, 3.0, 5.0),
            ],
        };
        assert!((f.area(Z) - 12.0).abs() < 1e-9);
    }

    #[test]
    fn ellipse_handles_resize_one_axis() {
        let e = EllipseRoi::from_corners(
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(10.0, 4.0, 0.0),
            Vec3::new(1.0, 0.0, 0.0),
            Vec3::new(0.0, 1.0, 0.0),
        );
        assert_eq!(e.center, Vec3::new(5.0, 2.0, 0.0));
        let r = e.with_handle_moved(0, Vec3::new(12.0, 9.0, 0.0));
        assert_eq!(r.semi_axis_a, Vec3::new(7.0, 0.0, 0.0));
        assert_eq!(r.semi_axis_b, e.semi_axis_b);
    }
}
