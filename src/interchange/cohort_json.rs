//! The JSON output of `nadir cohort --json` (interchange §4): field names and
//! order exactly as documented; floats unrounded; `null` where undefined
//! (never NaN or Inf); `comparison` is `null` for a single arm.

use crate::cohort::binomial::RateEstimate;
use crate::cohort::cox::CoxEstimate;
use crate::cohort::km::{KmRow, Landmark, MedianEstimate};
use crate::cohort::logrank::LogRankTest;
use crate::cohort::summary::{BestChangeSummary, ResponseCounts, TimeToResponse};
use crate::cohort::{ArmReport, CohortReport, Comparison, OverallReport, PfsSummary};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The whole document.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortJson {
    /// Per arm, keyed by arm label, in order of first appearance.
    pub arms: OrderedMap<ArmJson>,
    /// All arms pooled.
    pub overall: OverallJson,
    /// Experimental vs reference; `null` for one arm.
    pub comparison: Option<ComparisonJson>,
}

/// A JSON object whose keys keep insertion order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderedMap<V>(pub Vec<(String, V)>);

impl<V: Serialize> Serialize for OrderedMap<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// One arm.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ArmJson {
    /// Patients.
    pub n: usize,
    /// Patients per best response.
    pub response_counts: ResponseCountsJson,
    /// Objective response rate.
    pub orr: RateJson,
    /// Disease control rate.
    pub dcr: RateJson,
    /// Best % change summary.
    pub best_change: BestChangeJson,
    /// Patient ids in waterfall order.
    pub waterfall_order: Vec<String>,
    /// Time to response.
    pub time_to_response: TimeToResponseJson,
    /// PFS.
    pub pfs: PfsJson,
}

/// `{"CR": …, "PR": …, "SD": …, "PD": …, "NE": …}`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ResponseCountsJson {
    /// Complete responses.
    #[serde(rename = "CR")]
    pub cr: usize,
    /// Partial responses.
    #[serde(rename = "PR")]
    pub pr: usize,
    /// Stable disease (NonCR/NonPD included).
    #[serde(rename = "SD")]
    pub sd: usize,
    /// Progressive disease.
    #[serde(rename = "PD")]
    pub pd: usize,
    /// Not evaluable.
    #[serde(rename = "NE")]
    pub ne: usize,
}

/// A rate with its exact CI.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RateJson {
    /// Patients with the outcome.
    pub x: usize,
    /// Patients.
    pub n: usize,
    /// x / n.
    pub rate: Option<f64>,
    /// Clopper–Pearson lower limit.
    pub ci_lower: Option<f64>,
    /// Clopper–Pearson upper limit.
    pub ci_upper: Option<f64>,
}

/// Best % change summary.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BestChangeJson {
    /// Patients with a value.
    pub n: usize,
    /// Mean.
    pub mean: Option<f64>,
    /// Median.
    pub median: Option<f64>,
    /// Minimum.
    pub min: Option<f64>,
    /// Maximum.
    pub max: Option<f64>,
}

/// Time to response.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TimeToResponseJson {
    /// Responders with a time.
    pub n: usize,
    /// Median, months.
    pub median: Option<f64>,
    /// First quartile (type 7), months.
    pub q1: Option<f64>,
    /// Third quartile (type 7), months.
    pub q3: Option<f64>,
}

/// PFS of one arm.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PfsJson {
    /// Patients.
    pub n: usize,
    /// Events.
    pub events: usize,
    /// Kaplan–Meier table.
    pub km_table: Vec<KmRowJson>,
    /// Landmark rates.
    pub landmarks: Vec<LandmarkJson>,
    /// Median PFS.
    pub median: MedianJson,
}

/// One Kaplan–Meier row.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct KmRowJson {
    /// Time, months.
    pub time: Option<f64>,
    /// At risk.
    pub n_risk: usize,
    /// Events.
    pub n_event: usize,
    /// Censorings.
    pub n_censor: usize,
    /// S(t).
    pub surv: Option<f64>,
    /// SE of log S.
    pub std_err: Option<f64>,
    /// Lower 95% limit.
    pub ci_lower: Option<f64>,
    /// Upper 95% limit.
    pub ci_upper: Option<f64>,
}

/// One landmark.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct LandmarkJson {
    /// Landmark, months.
    pub time: Option<f64>,
    /// S at the landmark.
    pub surv: Option<f64>,
    /// SE of log S.
    pub std_err: Option<f64>,
    /// Lower 95% limit.
    pub ci_lower: Option<f64>,
    /// Upper 95% limit.
    pub ci_upper: Option<f64>,
}

/// Median with CI.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MedianJson {
    /// Median, months; `null` = not reached.
    pub estimate: Option<f64>,
    /// Lower limit.
    pub ci_lower: Option<f64>,
    /// Upper limit; `null` = not reached.
    pub ci_upper: Option<f64>,
}

/// All arms pooled.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OverallJson {
    /// Patients.
    pub n: usize,
    /// Patients per best response.
    pub response_counts: ResponseCountsJson,
    /// Objective response rate.
    pub orr: RateJson,
    /// Disease control rate.
    pub dcr: RateJson,
}

/// The two-arm comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComparisonJson {
    /// Reference arm.
    pub reference_arm: String,
    /// Experimental arm.
    pub experimental_arm: String,
    /// Log-rank test.
    pub logrank: LogRankJson,
    /// Cox hazard ratio (all fields `null` when not estimable).
    pub cox: CoxJson,
}

/// Log-rank test.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogRankJson {
    /// Observed events per arm (reference first).
    pub observed: OrderedMap<Option<f64>>,
    /// Expected events per arm (reference first).
    pub expected: OrderedMap<Option<f64>>,
    /// Variance of O − E.
    pub variance: Option<f64>,
    /// χ².
    pub chisq: Option<f64>,
    /// Degrees of freedom.
    pub df: u32,
    /// p-value.
    pub p: Option<f64>,
}

/// Cox model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CoxJson {
    /// log HR.
    pub beta: Option<f64>,
    /// SE of log HR.
    pub se: Option<f64>,
    /// Hazard ratio.
    pub hr: Option<f64>,
    /// Lower 95% limit of the HR.
    pub ci_lower: Option<f64>,
    /// Upper 95% limit of the HR.
    pub ci_upper: Option<f64>,
    /// Wald z.
    pub wald_z: Option<f64>,
    /// Wald p.
    pub wald_p: Option<f64>,
}

/// Serialises a report as pretty-printed JSON.
pub fn cohort_json_string(report: &CohortReport) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(&CohortJson::from(report))
}

/// `Some(v)` for finite v, else `None` (JSON `null`).
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

fn finite_opt(value: Option<f64>) -> Option<f64> {
    value.and_then(finite)
}

impl From<&CohortReport> for CohortJson {
    fn from(report: &CohortReport) -> Self {
        CohortJson {
            arms: OrderedMap(
                report
                    .arms
                    .iter()
                    .map(|arm| (arm.arm.clone(), ArmJson::from(arm)))
                    .collect(),
            ),
            overall: OverallJson::from(&report.overall),
            comparison: report.comparison.as_ref().map(ComparisonJson::from),
        }
    }
}

impl From<&ArmReport> for ArmJson {
    fn from(arm: &ArmReport) -> Self {
        ArmJson {
            n: arm.n,
            response_counts: arm.response_counts.into(),
            orr: arm.orr.into(),
            dcr: arm.dcr.into(),
            best_change: arm.best_change.into(),
            waterfall_order: arm.waterfall_order.clone(),
            time_to_response: arm.time_to_response.into(),
            pfs: PfsJson::from(&arm.pfs),
        }
    }
}

impl From<ResponseCounts> for ResponseCountsJson {
    fn from(counts: ResponseCounts) -> Self {
        ResponseCountsJson {
            cr: counts.cr,
            pr: counts.pr,
            sd: counts.sd,
            pd: counts.pd,
            ne: counts.ne,
        }
    }
}

impl From<RateEstimate> for RateJson {
    fn from(rate: RateEstimate) -> Self {
        RateJson {
            x: rate.x,
            n: rate.n,
            rate: finite(rate.rate),
            ci_lower: finite(rate.ci_lower),
            ci_upper: finite(rate.ci_upper),
        }
    }
}

impl From<BestChangeSummary> for BestChangeJson {
    fn from(summary: BestChangeSummary) -> Self {
        BestChangeJson {
            n: summary.n,
            mean: finite_opt(summary.mean),
            median: finite_opt(summary.median),
            min: finite_opt(summary.min),
            max: finite_opt(summary.max),
        }
    }
}

impl From<TimeToResponse> for TimeToResponseJson {
    fn from(ttr: TimeToResponse) -> Self {
        TimeToResponseJson {
            n: ttr.n,
            median: finite_opt(ttr.median),
            q1: finite_opt(ttr.q1),
            q3: finite_opt(ttr.q3),
        }
    }
}

impl From<&PfsSummary> for PfsJson {
    fn from(pfs: &PfsSummary) -> Self {
        PfsJson {
            n: pfs.km.n(),
            events: pfs.km.events(),
            km_table: pfs.km.rows().iter().copied().map(KmRowJson::from).collect(),
            landmarks: pfs
                .landmarks
                .iter()
                .copied()
                .map(LandmarkJson::from)
                .collect(),
            median: pfs.median.into(),
        }
    }
}

impl From<KmRow> for KmRowJson {
    fn from(row: KmRow) -> Self {
        KmRowJson {
            time: finite(row.time_months),
            n_risk: row.n_risk,
            n_event: row.n_event,
            n_censor: row.n_censor,
            surv: finite(row.surv),
            std_err: finite_opt(row.std_err),
            ci_lower: finite_opt(row.ci_lower),
            ci_upper: finite_opt(row.ci_upper),
        }
    }
}

impl From<Landmark> for LandmarkJson {
    fn from(landmark: Landmark) -> Self {
        LandmarkJson {
            time: finite(landmark.time_months),
            surv: finite_opt(landmark.surv),
            std_err: finite_opt(landmark.std_err),
            ci_lower: finite_opt(landmark.ci_lower),
            ci_upper: finite_opt(landmark.ci_upper),
        }
    }
}

impl From<MedianEstimate> for MedianJson {
    fn from(median: MedianEstimate) -> Self {
        MedianJson {
            estimate: finite_opt(median.estimate),
            ci_lower: finite_opt(median.ci_lower),
            ci_upper: finite_opt(median.ci_upper),
        }
    }
}

impl From<&OverallReport> for OverallJson {
    fn from(overall: &OverallReport) -> Self {
        OverallJson {
            n: overall.n,
            response_counts: overall.response_counts.into(),
            orr: overall.orr.into(),
            dcr: overall.dcr.into(),
        }
    }
}

impl From<&Comparison> for ComparisonJson {
    fn from(comparison: &Comparison) -> Self {
        let reference = comparison.reference_arm.clone();
        let experimental = comparison.experimental_arm.clone();
        let test: &LogRankTest = &comparison.logrank;
        ComparisonJson {
            reference_arm: reference.clone(),
            experimental_arm: experimental.clone(),
            logrank: LogRankJson {
                observed: OrderedMap(vec![
                    (reference.clone(), finite(test.observed_reference)),
                    (experimental.clone(), finite(test.observed_experimental)),
                ]),
                expected: OrderedMap(vec![
                    (reference, finite(test.expected_reference)),
                    (experimental, finite(test.expected_experimental)),
                ]),
                variance: finite(test.variance),
                chisq: finite_opt(test.chisq),
                df: test.df,
                p: finite_opt(test.p),
            },
            cox: CoxJson::from(comparison.cox.as_ref()),
        }
    }
}

impl From<Option<&CoxEstimate>> for CoxJson {
    fn from(cox: Option<&CoxEstimate>) -> Self {
        CoxJson {
            beta: cox.and_then(|c| finite(c.beta)),
            se: cox.and_then(|c| finite(c.se)),
            hr: cox.and_then(|c| finite(c.hr)),
            ci_lower: cox.and_then(|c| finite(c.ci_lower)),
            ci_upper: cox.and_then(|c| finite(c.ci_upper)),
            wald_z: cox.and_then(|c| finite(c.wald_z)),
            wald_p: cox.and_then(|c| finite(c.wald_p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::{BestResponse, CohortOptions, PatientOutcome, cohort_report};

    fn outcome(id: &str, arm: &str, pfs: f64, progressed: bool) -> PatientOutcome {
        PatientOutcome {
            patient_id: id.into(),
            arm: arm.into(),
            best_response: BestResponse::Sd,
            best_change_pct: None,
            pfs_months: pfs,
            progressed,
            ttr_months: None,
        }
    }

    #[test]
    fn single_arm_has_null_comparison_and_documented_key_order() {
        let report = cohort_report(
            &[outcome("1", "A", 1.0, true), outcome("2", "A", 2.0, false)],
            &CohortOptions::default(),
        )
        .unwrap();
        let text = cohort_json_string(&report).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(value["comparison"].is_null());
        let order = ["\"arms\"", "\"overall\"", "\"comparison\""];
        let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        let arm_keys = [
            "\"n\"",
            "\"response_counts\"",
            "\"orr\"",
            "\"dcr\"",
            "\"best_change\"",
            "\"waterfall_order\"",
            "\"time_to_response\"",
            "\"pfs\"",
        ];
        let positions: Vec<usize> = arm_keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        // Undefined values are null (no best change values here).
        assert!(value["arms"]["A"]["best_change"]["mean"].is_null());
        assert!(!text.contains("NaN") && !text.contains("inf"));
    }

    #[test]
    fn cox_not_estimable_gives_all_null_fields() {
        let cox = CoxJson::from(None);
        let text = serde_json::to_string(&cox).unwrap();
        assert_eq!(
            text,
            r#"{"beta":null,"se":null,"hr":null,"ci_lower":null,"ci_upper":null,"wald_z":null,"wald_p":null}"#
        );
    }

    #[test]
    fn arms_keep_first_appearance_order() {
        let report = cohort_report(
            &[
                outcome("1", "zeta", 1.0, true),
                outcome("2", "alpha", 2.0, true),
                outcome("3", "zeta", 3.0, false),
            ],
            &CohortOptions::default(),
        )
        .unwrap();
        let text = cohort_json_string(&report).unwrap();
        assert!(text.find("\"zeta\"").unwrap() < text.find("\"alpha\"").unwrap());
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["comparison"]["reference_arm"], "zeta");
        let json = CohortJson::from(&report);
        let observed = serde_json::to_string(&json.comparison.unwrap().logrank.observed).unwrap();
        assert_eq!(observed, r#"{"zeta":1.0,"alpha":1.0}"#);
    }
}
