//! Engine output: response categories, time-point and patient assessments.

use std::fmt;

use super::model::Date;

/// Target-lesion response at a time point (recist-1.1.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetResponse {
    /// Complete response: non-nodal targets gone, nodal targets < 10 mm SA.
    Cr,
    /// Partial response: sum at least 30 % below the baseline sum.
    Pr,
    /// Stable disease: neither PR nor PD.
    Sd,
    /// Progressive disease: +20 % and +5 mm over the nadir.
    Pd,
    /// Not evaluable: a target not assessed and the PD exception not met.
    Ne,
}

/// Non-target response at a time point (recist-1.1.md §4, E13).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NonTargetResponse {
    /// All non-target lesions absent.
    Cr,
    /// One or more non-target lesions persist.
    NonCrNonPd,
    /// Unequivocal progression of an existing non-target lesion.
    Pd,
    /// Not all non-target lesions evaluated.
    Ne,
}

/// Overall response at a time point and best overall response (Tables 1 and 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OverallResponse {
    /// Complete response.
    Cr,
    /// Partial response.
    Pr,
    /// Stable disease (patients with target lesions).
    Sd,
    /// Non-CR/non-PD (patients with non-target disease only, Table 2).
    NonCrNonPd,
    /// Progressive disease.
    Pd,
    /// Not evaluable.
    Ne,
}

impl TargetResponse {
    /// The interchange code (`CR`, `PR`, `SD`, `PD`, `NE`).
    pub fn code(self) -> &'static str {
        match self {
            TargetResponse::Cr => "CR",
            TargetResponse::Pr => "PR",
            TargetResponse::Sd => "SD",
            TargetResponse::Pd => "PD",
            TargetResponse::Ne => "NE",
        }
    }
}

impl NonTargetResponse {
    /// The interchange code (`CR`, `NonCR/NonPD`, `PD`, `NE`).
    pub fn code(self) -> &'static str {
        match self {
            NonTargetResponse::Cr => "CR",
            NonTargetResponse::NonCrNonPd => "NonCR/NonPD",
            NonTargetResponse::Pd => "PD",
            NonTargetResponse::Ne => "NE",
        }
    }
}

impl OverallResponse {
    /// The interchange code (`CR`, `PR`, `SD`, `NonCR/NonPD`, `PD`, `NE`).
    pub fn code(self) -> &'static str {
        match self {
            OverallResponse::Cr => "CR",
            OverallResponse::Pr => "PR",
            OverallResponse::Sd => "SD",
            OverallResponse::NonCrNonPd => "NonCR/NonPD",
            OverallResponse::Pd => "PD",
            OverallResponse::Ne => "NE",
        }
    }

    /// Whether this is an objective response (CR or PR).
    pub fn is_objective_response(self) -> bool {
        matches!(self, OverallResponse::Cr | OverallResponse::Pr)
    }
}

impl fmt::Display for TargetResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for NonTargetResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for OverallResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The assessment of one follow-up visit (interchange §2 `timepoints[]`).
#[derive(Clone, Debug, PartialEq)]
pub struct TimepointAssessment {
    /// Visit label.
    pub visit: String,
    /// Visit date (earliest date of its rows).
    pub date: Date,
    /// Whole days since the baseline date.
    pub days_from_baseline: i64,
    /// Each baseline target's contribution to the sum in mm (E2), parallel to
    /// [`PatientAssessment::target_ids`]; `None` = not assessed.
    pub target_values_mm: Vec<Option<f64>>,
    /// Sum of the target values; `None` if a target was not assessed or there are no targets.
    pub sum_mm: Option<f64>,
    /// Sum of the assessed target values (equals `sum_mm` when complete).
    pub assessed_sum_mm: Option<f64>,
    /// Smallest sum before this visit, baseline included (E4).
    pub nadir_mm: Option<f64>,
    /// (sum − baseline) / baseline × 100.
    pub change_from_baseline_pct: Option<f64>,
    /// (sum − nadir) / nadir × 100.
    pub change_from_nadir_pct: Option<f64>,
    /// Target response; `None` without target lesions.
    pub target_response: Option<TargetResponse>,
    /// Non-target response; `None` without non-target lesions.
    pub non_target_response: Option<NonTargetResponse>,
    /// Whether an (unequivocal or later-confirmed) new lesion is present (E6).
    pub new_lesions: bool,
    /// Ids of the new lesions counted at this visit.
    pub new_lesion_ids: Vec<String>,
    /// Ids of the non-targets in unequivocal progression.
    pub progressing_non_target_ids: Vec<String>,
    /// Overall response (Table 1 or Table 2).
    pub overall_response: OverallResponse,
    /// Sum of target volumes in ml, if every target has one (E14).
    pub volume_ml: Option<f64>,
    /// Change of `volume_ml` from the baseline total in %.
    pub volume_change_from_baseline_pct: Option<f64>,
    /// Mean of `t2_si / t2_ref_si` over the targets that have both (E14).
    pub t2_ratio: Option<f64>,
    /// Change of `t2_ratio` from the baseline mean in %.
    pub t2_ratio_change_from_baseline_pct: Option<f64>,
    /// Whether this time point is inside the best-response window (up to and
    /// including the first overall PD).
    pub counts_for_best_response: bool,
    /// One sentence saying why the overall response is what it is.
    pub explanation: String,
}

/// The assessment of one patient (interchange §2 `patients[]`).
#[derive(Clone, Debug, PartialEq)]
pub struct PatientAssessment {
    /// Patient identifier.
    pub patient_id: String,
    /// Label of the baseline visit; `None` only for a patient without records.
    pub baseline_visit: Option<String>,
    /// Date of the baseline visit.
    pub baseline_date: Option<Date>,
    /// Baseline target lesion ids, sorted.
    pub target_ids: Vec<String>,
    /// Baseline non-target lesion ids, sorted.
    pub non_target_ids: Vec<String>,
    /// Baseline sum of diameters; `None` without targets (E12).
    pub baseline_sum_mm: Option<f64>,
    /// Baseline total target volume (E14).
    pub baseline_volume_ml: Option<f64>,
    /// Baseline mean T2 ratio (E14).
    pub baseline_t2_ratio: Option<f64>,
    /// Follow-up visits in date order.
    pub timepoints: Vec<TimepointAssessment>,
    /// Best overall response (E9/E10).
    pub best_overall_response: OverallResponse,
    /// One sentence explaining the best overall response.
    pub best_overall_response_explanation: String,
    /// Smallest change from baseline up to and including the first PD (E11).
    pub best_change_from_baseline_pct: Option<f64>,
}

impl PatientAssessment {
    /// Whether the patient had target lesions at baseline (Table 1 vs Table 2).
    pub fn has_targets(&self) -> bool {
        !self.target_ids.is_empty()
    }
}
