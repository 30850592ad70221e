//! Pure geometry: points and directions in the DICOM patient coordinate system
//! (LPS, millimetres), and the small amount of vector algebra the rest of Nadir needs.
//!
//! Names follow the convention `target_from_source` for transforms
//! (e.g. `patient_from_voxel`), so that composition reads right to left.

use serde::{Deserialize, Serialize};

/// A point or direction in patient space (LPS, mm) or any other 3-D frame.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Vec3(pub [f64; 3]);

impl Vec3 {
    /// The zero vector.
    pub const ZERO: Vec3 = Vec3([0.0; 3]);

    /// Builds a vector from its three components.
    pub const fn new(x: f64, y: f64, z: f64) -> Self {
        Vec3([x, y, z])
    }

    /// The x (L) component.
    pub fn x(self) -> f64 {
        self.0[0]
    }

    /// The y (P) component.
    pub fn y(self) -> f64 {
        self.0[1]
    }

    /// The z (S) component.
    pub fn z(self) -> f64 {
        self.0[2]
    }

    /// Dot product.
    pub fn dot(self, o: Vec3) -> f64 {
        self.0[0] * o.0[0] + self.0[1] * o.0[1] + self.0[2] * o.0[2]
    }

    /// Cross product `self × o`.
    pub fn cross(self, o: Vec3) -> Vec3 {
        let [a1, a2, a3] = self.0;
        let [b1, b2, b3] = o.0;
        Vec3([a2 * b3 - a3 * b2, a3 * b1 - a1 * b3, a1 * b2 - a2 * b1])
    }

    /// Euclidean length.
    pub fn norm(self) -> f64 {
        self.dot(self).sqrt()
    }

    /// Unit vector in the same direction, or `None` for a (near) zero vector.
    pub fn normalized(self) -> Option<Vec3> {
        let n = self.norm();
        (n > 1e-12 && n.is_finite()).then(|| self * (1.0 / n))
    }

    /// Distance between two points.
    pub fn distance(self, o: Vec3) -> f64 {
        (self - o).norm()
    }

    /// All components are finite numbers.
    pub fn is_finite(self) -> bool {
        self.0.iter().all(|c| c.is_finite())
    }
}

impl std::ops::Add for Vec3 {
    type Output = Vec3;
    fn add(self, o: Vec3) -> Vec3 {
        Vec3([self.0[0] + o.0[0], self.0[1] + o.0[1], self.0[2] + o.0[2]])
    }
}

impl std::ops::Sub for Vec3 {
    type Output = Vec3;
    fn sub(self, o: Vec3) -> Vec3 {
        Vec3([self.0[0] - o.0[0], self.0[1] - o.0[1], self.0[2] - o.0[2]])
    }
}

impl std::ops::Mul<f64> for Vec3 {
    type Output = Vec3;
    fn mul(self, s: f64) -> Vec3 {
        Vec3([self.0[0] * s, self.0[1] * s, self.0[2] * s])
    }
}

/// Direction cosines of an image plane: the DICOM ImageOrientationPatient pair.
///
/// `row` is the direction in which the column index increases along a row
/// (first triplet of IOP); `column` the direction in which the row index
/// increases down a column (second triplet).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Orientation {
    /// Direction of increasing column index (IOP[0..3]).
    pub row: Vec3,
    /// Direction of increasing row index (IOP[3..6]).
    pub column: Vec3,
}

impl Orientation {
    /// The standard axial orientation (1,0,0,0,1,0).
    pub const AXIAL: Orientation = Orientation {
        row: Vec3([1.0, 0.0, 0.0]),
        column: Vec3([0.0, 1.0, 0.0]),
    };

    /// Builds an orientation from the six IOP values, normalising both
    /// directions; `None` when they are degenerate or far from perpendicular.
    pub fn from_iop(iop: [f64; 6]) -> Option<Orientation> {
        let row = Vec3([iop[0], iop[1], iop[2]]).normalized()?;
        let column = Vec3([iop[3], iop[4], iop[5]]).normalized()?;
        (row.dot(column).abs() < 1e-2).then_some(Orientation { row, column })
    }

    /// The six IOP values.
    pub fn to_iop(self) -> [f64; 6] {
        let [a, b, c] = self.row.0;
        let [d, e, f] = self.column.0;
        [a, b, c, d, e, f]
    }

    /// The slice normal `row × column` (the direction slices are sorted along,
    /// as ITK and dcm2niix do).
    pub fn normal(self) -> Vec3 {
        self.row.cross(self.column)
    }

    /// Whether two orientations describe the same plane direction within
    /// `tolerance` (compared component-wise on the direction cosines).
    pub fn approx_eq(self, o: Orientation, tolerance: f64) -> bool {
        self.to_iop()
            .iter()
            .zip(o.to_iop().iter())
            .all(|(a, b)| (a - b).abs() <= tolerance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axial_normal_points_superior() {
        assert_eq!(Orientation::AXIAL.normal(), Vec3::new(0.0, 0.0, 1.0));
    }

    #[test]
    fn sagittal_normal_points_to_minus_x() {
        // Typical sagittal IOP 0,1,0,0,0,-1: normal = (0,1,0) x (0,0,-1) = (-1,0,0).
        let o = Orientation::from_iop([0.0, 1.0, 0.0, 0.0, 0.0, -1.0]).unwrap();
        assert_eq!(o.normal(), Vec3::new(-1.0, 0.0, 0.0));
    }

    #[test]
    fn degenerate_orientation_is_rejected() {
        assert!(Orientation::from_iop([0.0; 6]).is_none());
        assert!(Orientation::from_iop([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]).is_none());
    }
}
