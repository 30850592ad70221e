//! Follow-up data safety: which lesion a new measurement most likely
//! belongs to, what to ask before attaching it to another one, and which
//! lesions may still be created at a timepoint (RECIST 1.1 fixes targets and
//! non-targets at baseline; after it only new lesions appear).

use crate::geom::Vec3;
use crate::measure::Shape;
use crate::recist::{Category, Date};
use crate::tracking::{Finding, MeasurementId, Patient, recist_diameters_mm};

use super::Workspace;

/// How far (mm) a follow-up measurement may lie from the lesion's previous
/// position before attaching it asks for confirmation.
pub const ATTACH_DISTANCE_MM: f64 = 30.0;

/// How many times larger (or smaller) than the lesion's previous RECIST
/// value a follow-up value may be before attaching asks for confirmation.
pub const ATTACH_SIZE_RATIO: f64 = 2.0;

/// A reason to confirm before attaching a measurement to a lesion.
#[derive(Debug, Clone, PartialEq)]
pub enum AttachConcern {
    /// The measurement lies far from where the lesion was last measured.
    Far {
        /// Distance in mm (after the sync offset when frames differ).
        distance_mm: f64,
        /// The visit of the previous measurement.
        previous_visit: String,
    },
    /// The value is of another size class than the lesion's previous value.
    SizeClass {
        /// The new RECIST value (mm).
        value_mm: f64,
        /// The previous RECIST value (mm).
        previous_mm: f64,
        /// The visit of the previous value.
        previous_visit: String,
    },
}

impl std::fmt::Display for AttachConcern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttachConcern::Far {
                distance_mm,
                previous_visit,
            } => write!(
                f,
                "{distance_mm:.0} mm from where it was measured at {previous_visit} (more than {ATTACH_DISTANCE_MM:.0} mm)"
            ),
            AttachConcern::SizeClass {
                value_mm,
                previous_mm,
                previous_visit,
            } => write!(
                f,
                "{value_mm:.1} mm against {previous_mm:.1} mm at {previous_visit} (more than {ATTACH_SIZE_RATIO:.0}× apart)"
            ),
        }
    }
}

/// What may be made of an unattached measurement at its timepoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LesionChoice {
    /// Baseline: a target or a non-target.
    Baseline,
    /// After baseline: attach to a lesion, or record a new lesion.
    FollowUp,
}

impl LesionChoice {
    /// The categories a reader may create.
    pub fn categories(self) -> &'static [Category] {
        match self {
            LesionChoice::Baseline => &[Category::Target, Category::NonTarget],
            LesionChoice::FollowUp => &[Category::New],
        }
    }
}

/// The choice at `date` for `patient`: baseline is the earliest timepoint.
pub fn lesion_choice(patient: &Patient, date: Date) -> LesionChoice {
    match patient.baseline_date() {
        Some(baseline) if date > baseline => LesionChoice::FollowUp,
        _ => LesionChoice::Baseline,
    }
}

/// A lesion's last measured position and RECIST value before `date`.
struct Previous {
    centroid: Vec3,
    series_uid: String,
    value_mm: Option<f64>,
    visit: String,
}

fn previous_measurement(patient: &Patient, lesion_id: &str, date: Date) -> Option<Previous> {
    let lesion = patient.lesion(lesion_id)?;
    patient
        .observations
        .iter()
        .filter(|o| o.lesion_id == lesion_id && o.date != date)
        .filter_map(|o| match o.finding {
            Finding::Measured(id) => patient.measurement(id).map(|m| (o.date, m)),
            _ => None,
        })
        // the nearest visit before, else the nearest after
        .min_by_key(|(d, _)| (*d > date, (d.days_since(date)).abs()))
        .map(|(d, m)| Previous {
            centroid: m.measurement.shape.centroid(),
            series_uid: m.measurement.image.series_instance_uid.clone(),
            value_mm: recist_value_mm(&m.measurement, lesion.lymph_node),
            visit: patient.visit_label(d),
        })
}

/// The RECIST value of a measurement (short axis for nodes), 0.1 mm.
fn recist_value_mm(measurement: &crate::measure::Measurement, lymph_node: bool) -> Option<f64> {
    let (long, short) = recist_diameters_mm(measurement, lymph_node)?;
    if lymph_node { short } else { long.or(short) }
}

impl Workspace {
    /// The lesion a new measurement is attached to by default: the lesion
    /// selected in the table, else the lesion measured nearest to it in
    /// patient position (after the sync offset when the frames differ).
    /// ROIs never default to a target.
    pub fn attach_suggestion(&self, measurement: MeasurementId) -> Option<String> {
        let patient = self.current_patient()?;
        let stored = patient.measurement(measurement)?;
        let is_roi = matches!(
            stored.measurement.shape,
            Shape::Ellipse(_) | Shape::Freehand(_)
        );
        let allowed = |id: &str| {
            patient
                .lesion(id)
                .is_some_and(|l| !(is_roi && l.category == Category::Target))
        };
        if let Some(selected) = self.selected_lesion.as_deref()
            && allowed(selected)
        {
            return Some(selected.to_string());
        }
        let here = stored.measurement.shape.centroid();
        let series = &stored.measurement.image.series_instance_uid;
        patient
            .lesions
            .iter()
            .filter(|l| allowed(&l.id))
            .filter_map(|l| {
                let previous = previous_measurement(patient, &l.id, stored.date)?;
                let distance = self.distance_mm(series, here, &previous)?;
                Some((distance, l.id.clone()))
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| id)
    }

    /// What the reader should confirm before attaching `measurement` to
    /// `lesion_id` (empty: nothing to ask).
    pub fn attach_concerns(
        &self,
        measurement: MeasurementId,
        lesion_id: &str,
    ) -> Vec<AttachConcern> {
        let mut out = Vec::new();
        let Some(patient) = self.current_patient() else {
            return out;
        };
        let (Some(stored), Some(lesion)) =
            (patient.measurement(measurement), patient.lesion(lesion_id))
        else {
            return out;
        };
        let Some(previous) = previous_measurement(patient, lesion_id, stored.date) else {
            return out;
        };
        let here = stored.measurement.shape.centroid();
        if let Some(distance_mm) = self.distance_mm(
            &stored.measurement.image.series_instance_uid,
            here,
            &previous,
        ) && distance_mm > ATTACH_DISTANCE_MM
        {
            out.push(AttachConcern::Far {
                distance_mm,
                previous_visit: previous.visit.clone(),
            });
        }
        if let (Some(value_mm), Some(previous_mm)) = (
            recist_value_mm(&stored.measurement, lesion.lymph_node),
            previous.value_mm,
        ) && value_mm > 0.0
            && previous_mm > 0.0
            && (value_mm / previous_mm).max(previous_mm / value_mm) > ATTACH_SIZE_RATIO
        {
            out.push(AttachConcern::SizeClass {
                value_mm,
                previous_mm,
                previous_visit: previous.visit,
            });
        }
        out
    }

    /// Distance between a point on `series` and a previous measurement, in
    /// one frame of reference: directly when both series share it, else
    /// after the reader's sync offset along the slice normal; `None` when
    /// the two cannot be compared.
    fn distance_mm(&self, series: &str, here: Vec3, previous: &Previous) -> Option<f64> {
        let frame_of = |uid: &str| {
            self.series
                .iter()
                .find(|e| e.uid() == uid)
                .and_then(|e| e.volume().geometry.frame_of_reference_uid.clone())
        };
        if series == previous.series_uid {
            return Some(here.distance(previous.centroid));
        }
        let (a, b) = (frame_of(series), frame_of(&previous.series_uid));
        if a.is_some() && a == b {
            return Some(here.distance(previous.centroid));
        }
        let offset = self.link.offset_mm?;
        let normal = self
            .series
            .iter()
            .find(|e| e.uid() == series)
            .and_then(|e| e.geometry.plane_normal(crate::volume::plane::Plane::Native))?;
        // current − prior = offset along the normal
        Some(here.distance(previous.centroid + normal * offset))
    }
}
