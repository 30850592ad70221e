//! The `nadir assess --json` output (interchange §2): field names and order
//! exactly as documented, `null` where undefined, never NaN.

use serde::{Deserialize, Serialize};

use crate::recist::{
    NonTargetResponse, OverallResponse, PatientAssessment, TargetResponse, TimepointAssessment,
};

/// The `criteria` value.
pub const CRITERIA: &str = "RECIST 1.1";

/// A response code as written in JSON.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCode {
    /// Complete response.
    #[serde(rename = "CR")]
    Cr,
    /// Partial response.
    #[serde(rename = "PR")]
    Pr,
    /// Stable disease.
    #[serde(rename = "SD")]
    Sd,
    /// Non-CR/non-PD.
    #[serde(rename = "NonCR/NonPD")]
    NonCrNonPd,
    /// Progressive disease.
    #[serde(rename = "PD")]
    Pd,
    /// Not evaluable.
    #[serde(rename = "NE")]
    Ne,
}

impl From<OverallResponse> for ResponseCode {
    fn from(response: OverallResponse) -> Self {
        match response {
            OverallResponse::Cr => ResponseCode::Cr,
            OverallResponse::Pr => ResponseCode::Pr,
            OverallResponse::Sd => ResponseCode::Sd,
            OverallResponse::NonCrNonPd => ResponseCode::NonCrNonPd,
            OverallResponse::Pd => ResponseCode::Pd,
            OverallResponse::Ne => ResponseCode::Ne,
        }
    }
}

impl From<TargetResponse> for ResponseCode {
    fn from(response: TargetResponse) -> Self {
        match response {
            TargetResponse::Cr => ResponseCode::Cr,
            TargetResponse::Pr => ResponseCode::Pr,
            TargetResponse::Sd => ResponseCode::Sd,
            TargetResponse::Pd => ResponseCode::Pd,
            TargetResponse::Ne => ResponseCode::Ne,
        }
    }
}

impl From<NonTargetResponse> for ResponseCode {
    fn from(response: NonTargetResponse) -> Self {
        match response {
            NonTargetResponse::Cr => ResponseCode::Cr,
            NonTargetResponse::NonCrNonPd => ResponseCode::NonCrNonPd,
            NonTargetResponse::Pd => ResponseCode::Pd,
            NonTargetResponse::Ne => ResponseCode::Ne,
        }
    }
}

/// The whole `assess --json` document.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AssessOutput {
    /// Always [`CRITERIA`].
    pub criteria: String,
    /// One entry per patient, in `patient_id` order.
    pub patients: Vec<PatientOutput>,
}

/// One patient (`patients[]`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct PatientOutput {
    /// Patient identifier.
    pub patient_id: String,
    /// Baseline sum of diameters; null without targets.
    pub baseline_sum_mm: Option<f64>,
    /// Follow-up visits in date order.
    pub timepoints: Vec<TimepointOutput>,
    /// Best overall response.
    pub best_overall_response: ResponseCode,
    /// Smallest change from baseline up to and including the first PD.
    pub best_change_from_baseline_pct: Option<f64>,
}

/// One follow-up visit (`timepoints[]`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TimepointOutput {
    /// Visit label.
    pub visit: String,
    /// ISO date `YYYY-MM-DD`.
    pub date: String,
    /// Sum of diameters; null if incomplete or no targets.
    pub sum_mm: Option<f64>,
    /// Smallest sum before this visit, baseline included.
    pub nadir_mm: Option<f64>,
    /// Change of the sum from baseline in %.
    pub change_from_baseline_pct: Option<f64>,
    /// Change of the sum from the nadir in %.
    pub change_from_nadir_pct: Option<f64>,
    /// Target response; null without targets.
    pub target_response: Option<ResponseCode>,
    /// Non-target response; null without non-targets.
    pub non_target_response: Option<ResponseCode>,
    /// Whether a new lesion counts at this visit.
    pub new_lesions: bool,
    /// Overall response.
    pub overall_response: ResponseCode,
    /// Sum of target volumes in ml.
    pub volume_ml: Option<f64>,
    /// Change of the volume from baseline in %.
    pub volume_change_from_baseline_pct: Option<f64>,
    /// Mean T2 signal ratio over the targets.
    pub t2_ratio: Option<f64>,
    /// Change of the T2 ratio from baseline in %.
    pub t2_ratio_change_from_baseline_pct: Option<f64>,
    /// Why the overall response is what it is.
    pub explanation: String,
}

fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|value| value.is_finite())
}

impl From<&TimepointAssessment> for TimepointOutput {
    fn from(timepoint: &TimepointAssessment) -> Self {
        Self {
            visit: timepoint.visit.clone(),
            date: timepoint.date.to_string(),
            sum_mm: finite(timepoint.sum_mm),
            nadir_mm: finite(timepoint.nadir_mm),
            change_from_baseline_pct: finite(timepoint.change_from_baseline_pct),
            change_from_nadir_pct: finite(timepoint.change_from_nadir_pct),
            target_response: timepoint.target_response.map(ResponseCode::from),
            non_target_response: timepoint.non_target_response.map(ResponseCode::from),
            new_lesions: timepoint.new_lesions,
            overall_response: timepoint.overall_response.into(),
            volume_ml: finite(timepoint.volume_ml),
            volume_change_from_baseline_pct: finite(timepoint.volume_change_from_baseline_pct),
            t2_ratio: finite(timepoint.t2_ratio),
            t2_ratio_change_from_baseline_pct: finite(timepoint.t2_ratio_change_from_baseline_pct),
            explanation: timepoint.explanation.clone(),
        }
    }
}

impl From<&PatientAssessment> for PatientOutput {
    fn from(patient: &PatientAssessment) -> Self {
        Self {
            patient_id: patient.patient_id.clone(),
            baseline_sum_mm: finite(patient.baseline_sum_mm),
            timepoints: patient
                .timepoints
                .iter()
                .map(TimepointOutput::from)
                .collect(),
            best_overall_response: patient.best_overall_response.into(),
            best_change_from_baseline_pct: finite(patient.best_change_from_baseline_pct),
        }
    }
}

impl AssessOutput {
    /// The document for these assessments (kept in the given order).
    pub fn from_assessments(patients: &[PatientAssessment]) -> Self {
        Self {
            criteria: CRITERIA.to_string(),
            patients: patients.iter().map(PatientOutput::from).collect(),
        }
    }

    /// Pretty-printed JSON with a trailing newline.
    pub fn to_json_pretty(&self) -> Result<String, serde_json::Error> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recist::{AssessOptions, Category, Date, LesionRecord, LesionStatus, assess_all};

    fn target(visit: &str, day: i32, mm: f64) -> LesionRecord {
        LesionRecord {
            patient_id: "P001".into(),
            visit: visit.into(),
            date: Date::from_days_since_epoch(19_723 + day),
            lesion_id: "T1".into(),
            category: Category::Target,
            organ: "liver".into(),
            lymph_node: false,
            long_axis_mm: Some(mm),
            short_axis_mm: None,
            status: LesionStatus::Measured,
            volume_ml: None,
            t2_si: None,
            t2_ref_si: None,
        }
    }

    #[test]
    fn field_names_and_order_are_the_contract() {
        let (patients, _) = assess_all(
            &[target("BL", 0, 63.0), target("W8", 60, 40.0)],
            &AssessOptions::default(),
        );
        let json = AssessOutput::from_assessments(&patients)
            .to_json_pretty()
            .unwrap();
        let keys: Vec<&str> = json
            .lines()
            .filter_map(|line| line.trim().strip_prefix('"')?.split('"').next())
            .collect();
        assert_eq!(
            keys,
            vec![
                "criteria",
                "patients",
                "patient_id",
                "baseline_sum_mm",
                "timepoints",
                "visit",
                "date",
                "sum_mm",
                "nadir_mm",
                "change_from_baseline_pct",
                "change_from_nadir_pct",
                "target_response",
                "non_target_response",
                "new_lesions",
                "overall_response",
                "volume_ml",
                "volume_change_from_baseline_pct",
                "t2_ratio",
                "t2_ratio_change_from_baseline_pct",
                "explanation",
                "best_overall_response",
                "best_change_from_baseline_pct",
            ]
        );
        assert!(json.contains("\"non_target_response\": null"));
        assert!(json.contains("\"date\": \"2024-03-01\""));
        assert!(json.ends_with("}\n"));
    }

    #[test]
    fn response_codes_are_spelled_as_documented() {
        let codes = [
            (ResponseCode::Cr, "\"CR\""),
            (ResponseCode::Pr, "\"PR\""),
            (ResponseCode::Sd, "\"SD\""),
            (ResponseCode::NonCrNonPd, "\"NonCR/NonPD\""),
            (ResponseCode::Pd, "\"PD\""),
            (ResponseCode::Ne, "\"NE\""),
        ];
        for (code, text) in codes {
            assert_eq!(serde_json::to_string(&code).unwrap(), text);
        }
    }

    #[test]
    fn non_finite_numbers_become_null() {
        assert_eq!(finite(Some(f64::NAN)), None);
        assert_eq!(finite(Some(f64::INFINITY)), None);
        assert_eq!(finite(Some(1.5)), Some(1.5));
    }
}
