//! Trial statistics for a cohort of one or more arms (issue 7).
//!
//! Pure computation, no I/O: per-patient outcomes in ([`PatientOutcome`]), a
//! [`CohortReport`] out. Every formula and convention is fixed by
//! `shared/docs/cohort-statistics.md` and follows R's `binom.test`, `survfit`
//! (log-transform CI), `quantile.survfit`, `survdiff` and `coxph` (Efron ties):
//!
//! - [`binomial`]: ORR/DCR with the Clopper–Pearson exact interval,
//! - [`summary`]: response counts, best % change, waterfall order, time to response,
//! - [`km`]: Kaplan–Meier table, landmark rates, median with its CI,
//! - [`logrank`] and [`cox`]: the two-arm comparison,
//! - [`series`]: plot data (waterfall bars, swimmer lanes, spider lines, KM steps)
//!   shared by the GUI (egui_plot) and [`plots_render`] (PNG/SVG for `--plots`),
//! - [`dates`]: PFS/TTR in months from day numbers (input path b, lesion table).
//!
//! Results do not depend on the row order of the input, except that arms are
//! listed (and the default reference arm chosen) in order of first appearance.

pub mod binomial;
pub mod cox;
pub mod dates;
pub mod km;
pub mod logrank;
pub mod plots_render;
mod report;
mod risk_sets;
pub mod series;
pub mod summary;

pub use report::{ArmReport, CohortReport, Comparison, OverallReport, PfsSummary, cohort_report};

use std::fmt;

/// z = Φ⁻¹(0.975), the normal quantile of every 95% interval.
pub const Z_95: f64 = 1.959963984540054;

/// Months per day: months = days / 30.4375 (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Landmark times used when none are given (months).
pub const DEFAULT_LANDMARKS_MONTHS: [f64; 2] = [12.0, 24.0];

/// Best overall response of a patient (RECIST 1.1 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BestResponse {
    /// Complete response.
    Cr,
    /// Partial response.
    Pr,
    /// Stable disease.
    Sd,
    /// Non-CR/non-PD (non-target disease only): counts as SD for DCR, not for ORR.
    NonCrNonPd,
    /// Progressive disease.
    Pd,
    /// Not evaluable.
    Ne,
}

impl BestResponse {
    /// All codes, best first.
    pub const ALL: [BestResponse; 6] = [
        BestResponse::Cr,
        BestResponse::Pr,
        BestResponse::Sd,
        BestResponse::NonCrNonPd,
        BestResponse::Pd,
        BestResponse::Ne,
    ];

    /// The interchange code (`CR`, `PR`, `SD`, `NonCR/NonPD`, `PD`, `NE`).
    pub fn code(self) -> &'static str {
        match self {
            BestResponse::Cr => "CR",
            BestResponse::Pr => "PR",
            BestResponse::Sd => "SD",
            BestResponse::NonCrNonPd => "NonCR/NonPD",
            BestResponse::Pd => "PD",
            BestResponse::Ne => "NE",
        }
    }

    /// Parses an interchange code; case-insensitive, surrounding spaces ignored.
    pub fn from_code(code: &str) -> Option<BestResponse> {
        let code = code.trim();
        BestResponse::ALL
            .into_iter()
            .find(|response| response.code().eq_ignore_ascii_case(code))
    }

    /// CR or PR: counts for the objective response rate.
    pub fn is_objective_response(self) -> bool {
        matches!(self, BestResponse::Cr | BestResponse::Pr)
    }

    /// CR, PR, SD or NonCR/NonPD: counts for the disease control rate.
    pub fn is_disease_control(self) -> bool {
        matches!(
            self,
            BestResponse::Cr | BestResponse::Pr | BestResponse::Sd | BestResponse::NonCrNonPd
        )
    }
}

impl fmt::Display for BestResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One patient's trial outcome: the record both input paths build (a: the
/// per-patient CSV, b: the RECIST engine + patient dates).
#[derive(Debug, Clone, PartialEq)]
pub struct PatientOutcome {
    /// Unique patient identifier.
    pub patient_id: String,
    /// Treatment arm label.
    pub arm: String,
    /// Best overall response.
    pub best_response: BestResponse,
    /// Best % change of the target sum from baseline; `None` when not measurable.
    pub best_change_pct: Option<f64>,
    /// Time from start to PFS event or censoring, months (≥ 0).
    pub pfs_months: f64,
    /// `true`: PFS event (progression or death) at `pfs_months`; `false`: censored.
    pub progressed: bool,
    /// Time to first objective response (CR/PR), months; `None` for non-responders.
    pub ttr_months: Option<f64>,
}

/// Options of a cohort analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortOptions {
    /// Reference arm of the comparison; default: the first arm (first appearance).
    pub reference_arm: Option<String>,
    /// Experimental arm; default: the first arm that is not the reference.
    pub experimental_arm: Option<String>,
    /// Landmark times for PFS rates, months, reported in this order.
    pub landmarks_months: Vec<f64>,
}

impl Default for CohortOptions {
    fn default() -> Self {
        CohortOptions {
            reference_arm: None,
            experimental_arm: None,
            landmarks_months: DEFAULT_LANDMARKS_MONTHS.to_vec(),
        }
    }
}

/// Why a cohort cannot be analysed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CohortError {
    /// No patients at all.
    #[error("the cohort has no patients")]
    NoPatients,
    /// A patient id is empty.
    #[error("a patient has an empty patient_id")]
    EmptyPatientId,
    /// A patient id occurs twice.
    #[error("patient_id {0:?} occurs more than once")]
    DuplicatePatient(String),
    /// A patient has an empty arm label.
    #[error("patient {0:?} has an empty arm")]
    EmptyArm(String),
    /// A numeric field is negative, NaN or infinite.
    #[error("patient {patient_id:?}: {field} = {value} is not a finite number{requirement}")]
    InvalidValue {
        /// The patient.
        patient_id: String,
        /// The field name (`pfs_months`, `best_change_pct`, `ttr_months`).
        field: &'static str,
        /// The offending value.
        value: f64,
        /// Extra requirement text (e.g. " ≥ 0").
        requirement: &'static str,
    },
    /// A landmark time is negative, NaN or infinite.
    #[error("landmark {0} is not a finite number of months ≥ 0")]
    InvalidLandmark(f64),
    /// A named arm does not occur in the data.
    #[error("arm {name:?} does not occur in the data (arms: {available})")]
    UnknownArm {
        /// The requested arm.
        name: String,
        /// The arms present, comma-separated.
        available: String,
    },
    /// Reference and experimental arm are the same.
    #[error("reference and experimental arm are both {0:?}")]
    SameArm(String),
}
