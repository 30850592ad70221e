//! Per-arm descriptive summaries: response counts, best % change, waterfall
//! order and time to response (`cohort-statistics.md` §1–2, interchange §4).

use super::{BestResponse, PatientOutcome};
use std::cmp::Ordering;

/// Patients per best response. NonCR/NonPD is counted under SD (it counts as
/// SD for the DCR and the contract has no separate key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseCounts {
    /// Complete responses.
    pub cr: usize,
    /// Partial responses.
    pub pr: usize,
    /// Stable disease (including NonCR/NonPD).
    pub sd: usize,
    /// Progressive disease.
    pub pd: usize,
    /// Not evaluable.
    pub ne: usize,
}

impl ResponseCounts {
    /// Counts the best responses of the given patients.
    pub fn count<'a>(patients: impl IntoIterator<Item = &'a PatientOutcome>) -> ResponseCounts {
        let mut counts = ResponseCounts::default();
        for patient in patients {
            match patient.best_response {
                BestResponse::Cr => counts.cr += 1,
                BestResponse::Pr => counts.pr += 1,
                BestResponse::Sd | BestResponse::NonCrNonPd => counts.sd += 1,
                BestResponse::Pd => counts.pd += 1,
                BestResponse::Ne => counts.ne += 1,
            }
        }
        counts
    }

    /// All patients counted.
    pub fn total(&self) -> usize {
        self.cr + self.pr + self.sd + self.pd + self.ne
    }

    /// CR + PR: the ORR numerator.
    pub fn objective_responses(&self) -> usize {
        self.cr + self.pr
    }

    /// CR + PR + SD (incl. NonCR/NonPD): the DCR numerator.
    pub fn disease_control(&self) -> usize {
        self.cr + self.pr + self.sd
    }
}

/// Summary of best % change over the patients that have one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestChangeSummary {
    /// Patients with a value.
    pub n: usize,
    /// Mean; `None` when n = 0.
    pub mean: Option<f64>,
    /// Median (mean of the two middle values for even n); `None` when n = 0.
    pub median: Option<f64>,
    /// Minimum (largest shrinkage); `None` when n = 0.
    pub min: Option<f64>,
    /// Maximum (largest growth); `None` when n = 0.
    pub max: Option<f64>,
}

/// Summarises the best % changes (missing values left out). The values are
/// summed in ascending order, so the mean does not depend on row order.
pub fn best_change_summary<'a>(
    patients: impl IntoIterator<Item = &'a PatientOutcome>,
) -> BestChangeSummary {
    let mut values: Vec<f64> = patients
        .into_iter()
        .filter_map(|patient| patient.best_change_pct)
        .collect();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
    BestChangeSummary {
        n,
        mean,
        median: sorted_median(&values),
        min: values.first().copied(),
        max: values.last().copied(),
    }
}

/// Median of sorted values: the middle one, or the mean of the two middle ones.
fn sorted_median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let upper = sorted.get(n / 2).copied()?;
    if n % 2 == 1 {
        Some(upper)
    } else {
        let lower = sorted.get(n / 2 - 1).copied()?;
        Some((lower + upper) / 2.0)
    }
}

/// Waterfall order: descending best change (largest growth first), ties by
/// `patient_id` ascending; patients without a value left out.
pub fn waterfall_order<'a>(
    patients: impl IntoIterator<Item = &'a PatientOutcome>,
) -> Vec<&'a PatientOutcome> {
    let mut with_value: Vec<&PatientOutcome> = patients
        .into_iter()
        .filter(|patient| patient.best_change_pct.is_some())
        .collect();
    with_value.sort_by(|a, b| waterfall_cmp(a, b));
    with_value
}

fn waterfall_cmp(a: &PatientOutcome, b: &PatientOutcome) -> Ordering {
    let change_a = a.best_change_pct.unwrap_or(f64::NEG_INFINITY);
    let change_b = b.best_change_pct.unwrap_or(f64::NEG_INFINITY);
    change_b
        .total_cmp(&change_a)
        .then_with(|| a.patient_id.cmp(&b.patient_id))
}

/// Time to response over responders: median and quartiles (R type 7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeToResponse {
    /// Responders (CR/PR) with a time to response.
    pub n: usize,
    /// Median, months.
    pub median: Option<f64>,
    /// First quartile, months.
    pub q1: Option<f64>,
    /// Third quartile, months.
    pub q3: Option<f64>,
}

/// Time to response over the patients whose best response is CR or PR and
/// who have a `ttr_months` value.
pub fn time_to_response<'a>(
    patients: impl IntoIterator<Item = &'a PatientOutcome>,
) -> TimeToResponse {
    let mut values: Vec<f64> = patients
        .into_iter()
        .filter(|patient| patient.best_response.is_objective_response())
        .filter_map(|patient| patient.ttr_months)
        .collect();
    values.sort_by(f64::total_cmp);
    TimeToResponse {
        n: values.len(),
        median: quantile_type7(&values, 0.5),
        q1: quantile_type7(&values, 0.25),
        q3: quantile_type7(&values, 0.75),
    }
}

/// Sample quantile of sorted values with linear interpolation (R `quantile`
/// type 7): h = (n − 1)p, Q = (1 − γ)·x₍⌊h⌋₎ + γ·x₍⌈h⌉₎ with γ = h − ⌊h⌋ (the
/// interpolation is skipped when the two order statistics are equal, as in R).
pub fn quantile_type7(sorted: &[f64], probability: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=1.0).contains(&probability) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * probability;
    let low_index = h.floor();
    let gamma = h - low_index;
    let low = sorted.get(low_index as usize).copied()?;
    let high = sorted.get(h.ceil() as usize).copied()?;
    if gamma > 0.0 && high != low {
        Some((1.0 - gamma) * low + gamma * high)
    } else {
        Some(low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(
        id: &str,
        response: BestResponse,
        change: Option<f64>,
        ttr: Option<f64>,
    ) -> PatientOutcome {
        PatientOutcome {
            patient_id: id.to_string(),
            arm: "A".to_string(),
            best_response: response,
            best_change_pct: change,
            pfs_months: 1.0,
            progressed: false,
            ttr_months: ttr,
        }
    }

    #[test]
    fn counts_fold_noncr_nonpd_into_sd() {
        let patients = [
            patient("1", BestResponse::Cr, None, None),
            patient("2", BestResponse::NonCrNonPd, None, None),
            patient("3", BestResponse::Ne, None, None),
            patient("4", BestResponse::Pd, None, None),
        ];
        let counts = ResponseCounts::count(&patients);
        assert_eq!(
            counts,
            ResponseCounts {
                cr: 1,
                pr: 0,
                sd: 1,
                pd: 1,
                ne: 1
            }
        );
        assert_eq!(counts.objective_responses(), 1);
        assert_eq!(counts.disease_control(), 2);
        assert_eq!(counts.total(), 4);
    }

    #[test]
    fn best_change_skips_missing_and_averages_middle_pair() {
        let patients = [
            patient("1", BestResponse::Pr, Some(-40.0), None),
            patient("2", BestResponse::Sd, Some(10.0), None),
            patient("3", BestResponse::Ne, None, None),
            patient("4", BestResponse::Sd, Some(-10.0), None),
            patient("5", BestResponse::Pd, Some(30.0), None),
        ];
        let summary = best_change_summary(&patients);
        assert_eq!(summary.n, 4);
        assert_eq!(summary.mean, Some(-2.5));
        assert_eq!(summary.median, Some(0.0));
        assert_eq!(summary.min, Some(-40.0));
        assert_eq!(summary.max, Some(30.0));
    }

    #[test]
    fn best_change_without_values_is_null() {
        let summary = best_change_summary(&[patient("1", BestResponse::Ne, None, None)]);
        assert_eq!(summary.n, 0);
        assert_eq!(
            (summary.mean, summary.median, summary.min, summary.max),
            (None, None, None, None)
        );
    }

    #[test]
    fn waterfall_descending_ties_by_id_missing_left_out() {
        let patients = [
            patient("B", BestResponse::Sd, Some(5.0), None),
            patient("C", BestResponse::Pr, Some(-50.0), None),
            patient("A", BestResponse::Sd, Some(5.0), None),
            patient("D", BestResponse::Ne, None, None),
            patient("E", BestResponse::Pd, Some(40.0), None),
        ];
        let order: Vec<&str> = waterfall_order(&patients)
            .iter()
            .map(|p| p.patient_id.as_str())
            .collect();
        assert_eq!(order, vec!["E", "A", "B", "C"]);
    }

    #[test]
    fn time_to_response_only_over_responders() {
        let patients = [
            patient("1", BestResponse::Pr, None, Some(2.0)),
            patient("2", BestResponse::Cr, None, Some(4.0)),
            patient("3", BestResponse::Sd, None, Some(1.0)),
            patient("4", BestResponse::Pr, None, Some(3.0)),
            patient("5", BestResponse::Pr, None, None),
        ];
        let ttr = time_to_response(&patients);
        assert_eq!(ttr.n, 3);
        assert_eq!(ttr.median, Some(3.0));
        assert_eq!(ttr.q1, Some(2.5));
        assert_eq!(ttr.q3, Some(3.5));
    }

    #[test]
    fn quantile_type7_matches_r() {
        // R: quantile(c(1.8, 2.0, 3.9), c(.25, .75), type = 7) = 1.9, 2.95
        let sorted = [1.8, 2.0, 3.9];
        assert_eq!(quantile_type7(&sorted, 0.25), Some(0.5 * 1.8 + 0.5 * 2.0));
        assert_eq!(quantile_type7(&sorted, 0.75), Some(0.5 * 2.0 + 0.5 * 3.9));
        assert_eq!(quantile_type7(&[7.0], 0.25), Some(7.0));
        assert_eq!(quantile_type7(&[], 0.5), None);
        assert_eq!(quantile_type7(&[1.0, 2.0], 1.5), None);
    }
}
