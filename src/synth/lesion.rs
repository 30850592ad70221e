//! Lesions of the phantom: ellipsoids with one in-plane rotation, their exact
//! RECIST quantities (longest diameter, short axis, volume), and the fraction
//! of a voxel they occupy (supersampled, for partial-volume edges).

/// An ellipsoid in anatomy coordinates (LPS millimetres), rotated about the
/// patient's z (head–foot) axis only, so its axial cross-sections are
/// ellipses with the same orientation on every slice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ellipsoid {
    /// Centre, LPS mm.
    pub centre_mm: [f64; 3],
    /// Semi-axes in mm: `[a, b, c]`, `a` along the rotated in-plane direction,
    /// `b` perpendicular to it in the axial plane, `c` along z.
    pub semi_axes_mm: [f64; 3],
    /// Angle of the `a` axis from the patient +x (left) axis towards +y
    /// (posterior), in degrees.
    pub rotation_deg: f64,
}

impl Ellipsoid {
    /// The ellipsoid scaled about its centre by per-axis factors.
    pub fn scaled(&self, factors: [f64; 3]) -> Self {
        Self {
            centre_mm: self.centre_mm,
            semi_axes_mm: [
                self.semi_axes_mm[0] * factors[0],
                self.semi_axes_mm[1] * factors[1],
                self.semi_axes_mm[2] * factors[2],
            ],
            rotation_deg: self.rotation_deg,
        }
    }

    /// Exact volume 4/3·π·a·b·c in millilitres.
    pub fn volume_ml(&self) -> f64 {
        let [a, b, c] = self.semi_axes_mm;
        4.0 / 3.0 * std::f64::consts::PI * a * b * c / 1000.0
    }

    /// Longest diameter on the axial plane through the centre, mm.
    pub fn long_axis_mm(&self) -> f64 {
        2.0 * self.semi_axes_mm[0].max(self.semi_axes_mm[1])
    }

    /// Longest diameter perpendicular to the long axis on the axial plane
    /// through the centre (the RECIST short axis), mm.
    pub fn short_axis_mm(&self) -> f64 {
        2.0 * self.semi_axes_mm[0].min(self.semi_axes_mm[1])
    }

    /// Half extents of the axis-aligned bounding box, mm.
    pub fn half_extent_mm(&self) -> [f64; 3] {
        let [a, b, c] = self.semi_axes_mm;
        let (sin, cos) = self.rotation_deg.to_radians().sin_cos();
        [
            (a * a * cos * cos + b * b * sin * sin).sqrt(),
            (a * a * sin * sin + b * b * cos * cos).sqrt(),
            c,
        ]
    }

    /// `sqrt` of the quadric form: < 1 inside, 1 on the surface, > 1 outside.
    /// As a norm of a linear map, it is Lipschitz with constant 1 / smallest
    /// semi-axis, which [`Ellipsoid::occupancy`] uses to skip supersampling.
    pub fn normalized_radius(&self, point_mm: [f64; 3]) -> f64 {
        let [a, b, c] = self.semi_axes_mm;
        if a <= 0.0 || b <= 0.0 || c <= 0.0 {
            return f64::INFINITY;
        }
        let (sin, cos) = self.rotation_deg.to_radians().sin_cos();
        let dx = point_mm[0] - self.centre_mm[0];
        let dy = point_mm[1] - self.centre_mm[1];
        let dz = point_mm[2] - self.centre_mm[2];
        let u = dx * cos + dy * sin;
        let v = -dx * sin + dy * cos;
        ((u / a).powi(2) + (v / b).powi(2) + (dz / c).powi(2)).sqrt()
    }

    /// Whether a point lies inside (or on) the ellipsoid.
    pub fn contains(&self, point_mm: [f64; 3]) -> bool {
        self.normalized_radius(point_mm) <= 1.0
    }

    /// Fraction of the box `centre ± half_size_mm` inside the ellipsoid, by
    /// `samples_xy² × samples_z` midpoint supersampling; exact 0 or 1 when the
    /// whole box is provably on one side.
    pub fn occupancy(
        &self,
        centre_mm: [f64; 3],
        half_size_mm: [f64; 3],
        samples_xy: usize,
        samples_z: usize,
    ) -> f64 {
        let extent = self.half_extent_mm();
        for axis in 0..3 {
            if (centre_mm[axis] - self.centre_mm[axis]).abs() > extent[axis] + half_size_mm[axis] {
                return 0.0;
            }
        }
        let min_axis = self
            .semi_axes_mm
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        if min_axis <= 0.0 {
            return 0.0;
        }
        let half_diagonal = half_size_mm.iter().map(|h| h * h).sum::<f64>().sqrt();
        let margin = half_diagonal / min_axis;
        let radius = self.normalized_radius(centre_mm);
        if radius - 1.0 > margin {
            return 0.0;
        }
        if 1.0 - radius > margin {
            return 1.0;
        }
        let n_xy = samples_xy.max(1);
        let n_z = samples_z.max(1);
        let mut inside = 0_usize;
        for iz in 0..n_z {
            let fz = (iz as f64 + 0.5) / n_z as f64 * 2.0 - 1.0;
            for iy in 0..n_xy {
                let fy = (iy as f64 + 0.5) / n_xy as f64 * 2.0 - 1.0;
                for ix in 0..n_xy {
                    let fx = (ix as f64 + 0.5) / n_xy as f64 * 2.0 - 1.0;
                    let point = [
                        centre_mm[0] + fx * half_size_mm[0],
                        centre_mm[1] + fy * half_size_mm[1],
                        centre_mm[2] + fz * half_size_mm[2],
                    ];
                    if self.contains(point) {
                        inside += 1;
                    }
                }
            }
        }
        inside as f64 / (n_xy * n_xy * n_z) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Ellipsoid {
        Ellipsoid {
            centre_mm: [10.0, -5.0, 20.0],
            semi_axes_mm: [12.0, 8.0, 6.0],
            rotation_deg: 30.0,
        }
    }

    #[test]
    fn diameters_are_twice_the_in_plane_semi_axes() {
        let e = sample();
        assert_eq!(e.long_axis_mm(), 24.0);
        assert_eq!(e.short_axis_mm(), 16.0);
    }

    #[test]
    fn long_axis_points_along_the_rotation() {
        let e = sample();
        let (sin, cos) = 30_f64.to_radians().sin_cos();
        let tip = [10.0 + 11.9 * cos, -5.0 + 11.9 * sin, 20.0];
        let beyond = [10.0 + 12.1 * cos, -5.0 + 12.1 * sin, 20.0];
        assert!(e.contains(tip));
        assert!(!e.contains(beyond));
    }

    #[test]
    fn volume_is_four_thirds_pi_abc() {
        let e = sample();
        let expected = 4.0 / 3.0 * std::f64::consts::PI * 12.0 * 8.0 * 6.0 / 1000.0;
        assert!((e.volume_ml() - expected).abs() < 1e-12);
    }

    #[test]
    fn occupancy_sums_to_volume() {
        let e = sample();
        let h = [0.75, 0.75, 2.5];
        let mut sum = 0.0;
        for iz in -6..=6 {
            for iy in -25..=25 {
                for ix in -25..=25 {
                    let centre = [
                        10.0 + ix as f64 * 1.5,
                        -5.0 + iy as f64 * 1.5,
                        20.0 + iz as f64 * 5.0,
                    ];
                    sum += e.occupancy(centre, h, 4, 8);
                }
            }
        }
        let volume_ml = sum * 1.5 * 1.5 * 5.0 / 1000.0;
        let error = (volume_ml - e.volume_ml()).abs() / e.volume_ml();
        assert!(error < 0.01, "relative error {error}");
    }

    #[test]
    fn degenerate_ellipsoid_is_empty() {
        let e = Ellipsoid {
            centre_mm: [0.0; 3],
            semi_axes_mm: [0.0, 1.0, 1.0],
            rotation_deg: 0.0,
        };
        assert!(!e.contains([0.0; 3]));
        assert_eq!(e.occupancy([0.0; 3], [1.0; 3], 2, 2), 0.0);
    }

    #[test]
    fn half_extent_of_rotated_ellipse_bounds_it() {
        let e = sample();
        let ext = e.half_extent_mm();
        for k in 0..360 {
            let t = (k as f64).to_radians();
            let (sin, cos) = 30_f64.to_radians().sin_cos();
            let u = 12.0 * t.cos();
            let v = 8.0 * t.sin();
            let x = u * cos - v * sin;
            let y = u * sin + v * cos;
            assert!(x.abs() <= ext[0] + 1e-9 && y.abs() <= ext[1] + 1e-9);
        }
    }
}
