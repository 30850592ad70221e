//! Region statistics: the pixels of the drawn plane whose centres fall inside
//! an ellipse or freehand outline; area from the exact geometry.

use serde::Serialize;

use super::{ImageContext, Measurement, Quantity, Shape, Unit};

/// Statistics of the modality values (HU for CT) inside a region.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RoiStats {
    /// Area of the outline (mm², or px² without spacing).
    pub area: Quantity,
    /// Pixels whose centre lies inside and on the image.
    pub pixels: usize,
    /// Mean value; `None` without pixels.
    pub mean: Option<f64>,
    /// Sample standard deviation; `None` with fewer than two pixels.
    pub sd: Option<f64>,
    /// Smallest value.
    pub min: Option<f64>,
    /// Largest value.
    pub max: Option<f64>,
}

/// Even-odd point-in-polygon test.
fn inside(polygon: &[(f64, f64)], u: f64, v: f64) -> bool {
    let mut result = false;
    let n = polygon.len();
    for i in 0..n {
        let (Some(&(ui, vi)), Some(&(uj, vj))) = (polygon.get(i), polygon.get((i + n - 1) % n))
        else {
            continue;
        };
        if (vi > v) != (vj > v) && u < (uj - ui) * (v - vi) / (vj - vi) + ui {
            result = !result;
        }
    }
    result
}

/// Statistics of an ellipse or freehand region; `None` for linear
/// measurements or when the image it was drawn on is not in `context`.
pub fn roi_stats(measurement: &Measurement, context: &ImageContext<'_>) -> Option<RoiStats> {
    let (outline, area) = match &measurement.shape {
        Shape::Ellipse(e) => (e.outline(96), e.area()),
        Shape::Freehand(f) => {
            let normal = context.geometry.plane_normal(measurement.image.plane)?;
            (f.points.clone(), f.area(normal))
        }
        Shape::Length(_) | Shape::Bidirectional(_) => return None,
    };
    let frame = context.frame(&measurement.image)?;
    let polygon: Vec<(f64, f64)> = outline
        .iter()
        .filter_map(|&p| context.geometry.plane_from_point(&frame, p))
        .map(|(u, v, _)| (u, v))
        .collect();
    if polygon.len() < 3 {
        return None;
    }
    let (mut u_min, mut u_max, mut v_min, mut v_max) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(u, v) in &polygon {
        u_min = u_min.min(u);
        u_max = u_max.max(u);
        v_min = v_min.min(v);
        v_max = v_max.max(v);
    }
    let (u_lo, u_hi) = (
        u_min.ceil().max(0.0),
        u_max.floor().min(frame.width as f64 - 1.0),
    );
    let (v_lo, v_hi) = (
        v_min.ceil().max(0.0),
        v_max.floor().min(frame.height as f64 - 1.0),
    );
    let (mut count, mut mean, mut m2) = (0usize, 0.0f64, 0.0f64);
    let (mut min, mut max) = (f64::MAX, f64::MIN);
    if u_hi >= u_lo && v_hi >= v_lo {
        for v in (v_lo as usize)..=(v_hi as usize) {
            for u in (u_lo as usize)..=(u_hi as usize) {
                let (uf, vf) = (u as f64, v as f64);
                if !inside(&polygon, uf, vf) {
                    continue;
                }
                let Some((s, r, c)) = frame.nearest_voxel(uf, vf) else {
                    continue;
                };
                let Some(value) = context.volume.value(s, r, c) else {
                    continue;
                };
                count += 1;
                let delta = value - mean;
                mean += delta / count as f64;
                m2 += delta * (value - mean);
                min = min.min(value);
                max = max.max(value);
            }
        }
    }
    let status = context.status(&measurement.image, &outline);
    let unit = if measurement.spacing_known {
        Unit::SquareMillimetre
    } else {
        Unit::SquarePixel
    };
    Some(RoiStats {
        area: Quantity {
            value: area,
            unit,
            status,
        },
        pixels: count,
        mean: (count > 0).then_some(mean),
        sd: (count > 1).then(|| (m2 / (count - 1) as f64).sqrt()),
        min: (count > 0).then_some(min),
        max: (count > 0).then_some(max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::Vec3;
    use crate::measure::QuantityStatus;
    use crate::measure::{EllipseRoi, FreehandRoi, ImageRef};
    use crate::volume::plane::tests::volume;
    use crate::volume::plane::{MeasurementGeometry, Plane};

    fn image() -> ImageRef {
        ImageRef {
            series_instance_uid: "1.2".into(),
            sop_instance_uid: None,
            plane: Plane::Native,
            index: 2,
        }
    }

    #[test]
    fn freehand_square_covers_its_pixels() {
        let v = volume(3, 10, 10);
        let g = MeasurementGeometry::of(&v);
        let ctx = ImageContext {
            volume: &v,
            geometry: &g,
        };
        let frame = ctx.frame(&image()).unwrap();
        // square from pixel (1.5, 1.5) to (3.5, 3.5): centres 2,3 × 2,3
        let corners = [(1.5, 1.5), (3.5, 1.5), (3.5, 3.5), (1.5, 3.5)];
        let points = corners
            .iter()
            .map(|&(u, w)| g.point_from_plane(&frame, u, w).unwrap())
            .collect();
        let m = Measurement {
            shape: Shape::Freehand(FreehandRoi { points }),
            image: image(),
            spacing_known: true,
        };
        let s = roi_stats(&m, &ctx).unwrap();
        assert_eq!(s.pixels, 4);
        // values 200 + 10 r + c for r, c in {2, 3}
        assert_eq!(
            (s.min, s.max, s.mean),
            (Some(222.0), Some(233.0), Some(227.5))
        );
        assert!((s.area.value - 2.0 * 0.8 * 2.0 * 0.5).abs() < 1e-9);
        assert_eq!(s.area.unit, Unit::SquareMillimetre);
        let expected_sd = (((222.0f64 - 227.5).powi(2)
            + (223.0f64 - 227.5).powi(2)
            + (232.0f64 - 227.5).powi(2)
            + (233.0f64 - 227.5).powi(2))
            / 3.0)
            .sqrt();
        assert!((s.sd.unwrap() - expected_sd).abs() < 1e-9);
    }

    #[test]
    fn ellipse_area_is_pi_a_b() {
        let v = volume(3, 10, 10);
        let g = MeasurementGeometry::of(&v);
        let ctx = ImageContext {
            volume: &v,
            geometry: &g,
        };
        let e = EllipseRoi {
            center: Vec3::new(4.0, 2.5, 4.0),
            semi_axis_a: Vec3::new(2.0, 0.0, 0.0),
            semi_axis_b: Vec3::new(0.0, 1.0, 0.0),
        };
        let m = Measurement {
            shape: Shape::Ellipse(e),
            image: image(),
            spacing_known: true,
        };
        let s = roi_stats(&m, &ctx).unwrap();
        assert!((s.area.value - std::f64::consts::PI * 2.0).abs() < 1e-9);
        assert!(s.pixels > 0);
        assert_eq!(s.area.status, QuantityStatus::Ok);
    }
}
