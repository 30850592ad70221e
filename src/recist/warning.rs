//! Warnings as data: conformance problems and ignored input, never printed here.

use std::fmt;

use super::model::{Category, Date, LesionStatus};

/// Something the reader should look at; the assessment is still computed.
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// Patient concerned.
    pub patient_id: String,
    /// Visit concerned, if any.
    pub visit: Option<String>,
    /// Lesion concerned, if any.
    pub lesion_id: Option<String>,
    /// What is wrong.
    pub kind: WarningKind,
}

/// The kinds of engine warnings.
#[derive(Clone, Debug, PartialEq)]
pub enum WarningKind {
    /// Baseline non-nodal target with a longest diameter below 10 mm (§3.1).
    NonNodalTargetBelow10Mm {
        /// The baseline longest diameter.
        long_axis_mm: f64,
    },
    /// Baseline nodal target with a short axis below 15 mm (§3.1).
    NodalTargetBelow15Mm {
        /// The baseline short axis.
        short_axis_mm: f64,
    },
    /// More than 5 targets at baseline (§4.2).
    MoreThanFiveTargets {
        /// Number of baseline targets.
        count: usize,
    },
    /// More than 2 targets in one organ at baseline (§4.2).
    MoreThanTwoTargetsInOrgan {
        /// Normalised organ name (`lymph node`, `lung`, ...).
        organ: String,
        /// Number of targets in that organ.
        count: usize,
    },
    /// A baseline target without a usable measurement; the baseline sum is
    /// computed with E2 values if possible, else undefined.
    BaselineTargetNotMeasured {
        /// The status given at baseline.
        status: LesionStatus,
    },
    /// A baseline non-target whose status is not `present`.
    BaselineNonTargetNotPresent {
        /// The status given at baseline.
        status: LesionStatus,
    },
    /// A `measured` target lacking the axis it needs; treated as not assessed.
    MeasuredTargetWithoutAxis {
        /// The missing column (`long_axis_mm` or `short_axis_mm`).
        axis: &'static str,
    },
    /// A negative or non-finite number; treated as missing.
    InvalidNumber {
        /// The field holding it.
        field: &'static str,
    },
    /// A status that is not valid for the lesion's category.
    StatusInvalidForCategory {
        /// The status given.
        status: LesionStatus,
        /// The category of the row.
        category: Category,
    },
    /// A follow-up target/non-target row for an id not in that baseline set (E1).
    NotInBaselineSet {
        /// The row's category.
        category: Category,
    },
    /// A baseline target or non-target has no row at a follow-up visit (E2, E13).
    MissingRow {
        /// The lesion's baseline category.
        category: Category,
    },
    /// The rows of one visit carry different dates; the earliest is used (E1).
    VisitDatesDiffer {
        /// Earliest date (used).
        earliest: Date,
        /// Latest date.
        latest: Date,
    },
    /// Two visits share a date; they are ordered by label.
    VisitsShareDate {
        /// The other visit.
        other_visit: String,
        /// The shared date.
        date: Date,
    },
    /// A `new` row at the baseline visit; ignored.
    NewLesionAtBaseline,
    /// Two rows for the same patient, visit and lesion; the first is used.
    DuplicateRow,
    /// A record of another patient was passed to `assess_patient`; ignored.
    OtherPatient {
        /// That record's patient id.
        other_patient_id: String,
    },
    /// No target and no non-target lesion at baseline.
    NoBaselineDisease,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "patient {}", self.patient_id)?;
        if let Some(visit) = &self.visit {
            write!(f, ", visit {visit}")?;
        }
        if let Some(lesion_id) = &self.lesion_id {
            write!(f, ", lesion {lesion_id}")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            WarningKind::NonNodalTargetBelow10Mm { long_axis_mm } => write!(
                f,
                "non-nodal baseline target of {long_axis_mm} mm is below the 10 mm measurability minimum"
            ),
            WarningKind::NodalTargetBelow15Mm { short_axis_mm } => write!(
                f,
                "nodal baseline target of {short_axis_mm} mm short axis is below 15 mm (not a measurable node)"
            ),
            WarningKind::MoreThanFiveTargets { count } => {
                write!(f, "{count} target lesions at baseline (at most 5 allowed)")
            }
            WarningKind::MoreThanTwoTargetsInOrgan { organ, count } => write!(
                f,
                "{count} target lesions in organ '{organ}' at baseline (at most 2 per organ)"
            ),
            WarningKind::BaselineTargetNotMeasured { status } => write!(
                f,
                "baseline target has status {status} without a usable measurement (a baseline target must be measured)"
            ),
            WarningKind::BaselineNonTargetNotPresent { status } => {
                write!(f, "baseline non-target has status {status}")
            }
            WarningKind::MeasuredTargetWithoutAxis { axis } => {
                write!(f, "measured target has no {axis}; treated as not assessed")
            }
            WarningKind::InvalidNumber { field } => {
                write!(f, "{field} is negative or not finite; treated as missing")
            }
            WarningKind::StatusInvalidForCategory { status, category } => write!(
                f,
                "status {status} is not valid for a {category} lesion; treated as not evaluable"
            ),
            WarningKind::NotInBaselineSet { category } => write!(
                f,
                "{category} row for a lesion that is not a baseline {category}; row ignored"
            ),
            WarningKind::MissingRow { category } => write!(
                f,
                "baseline {category} has no row at this visit; counted as not assessed"
            ),
            WarningKind::VisitDatesDiffer { earliest, latest } => write!(
                f,
                "rows of this visit have dates from {earliest} to {latest}; using {earliest}"
            ),
            WarningKind::VisitsShareDate { other_visit, date } => write!(
                f,
                "visit shares the date {date} with visit {other_visit}; ordered by label"
            ),
            WarningKind::NewLesionAtBaseline => {
                f.write_str("new lesion row at the baseline visit; row ignored")
            }
            WarningKind::DuplicateRow => {
                f.write_str("duplicate row for this visit and lesion; the first is used")
            }
            WarningKind::OtherPatient { other_patient_id } => {
                write!(f, "record of patient {other_patient_id} ignored")
            }
            WarningKind::NoBaselineDisease => {
                f.write_str("no target or non-target lesion at baseline; time points are NE")
            }
        }
    }
}
