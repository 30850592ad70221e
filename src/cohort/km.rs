//! Kaplan–Meier PFS: table, landmark rates, median with its CI.
//!
//! Conventions of R's `survfit` (`conf.type = "log"`) and `quantile.survfit`,
//! as fixed in `cohort-statistics.md` §3–4: one row per distinct time (event or
//! censoring); a patient censored at t is at risk for events at t; S is the
//! running product of (n_risk − d)/n_risk in time order; `std_err` is the
//! Greenwood SE of log S; CI = S·exp(∓z·SE), upper capped at 1; median and its
//! CI by inverting S and the two bands at one half with tolerance √ε.

use super::Z_95;

/// Tolerance of the one-half comparisons: √(machine epsilon), as R's `quantile.survfit`.
pub const HALF_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// One patient's PFS observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalTime {
    /// Time from start to event or censoring, months.
    pub time_months: f64,
    /// `true` = event at `time_months`, `false` = censored then.
    pub event: bool,
}

/// One row of the Kaplan–Meier table (one distinct time).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmRow {
    /// The time, months.
    pub time_months: f64,
    /// Patients with time ≥ this time.
    pub n_risk: usize,
    /// Events at this time.
    pub n_event: usize,
    /// Censorings at this time.
    pub n_censor: usize,
    /// Survival estimate S(t) just after this time.
    pub surv: f64,
    /// Greenwood SE of log S; `None` once S = 0.
    pub std_err: Option<f64>,
    /// Lower 95% limit (log transform); `None` once S = 0.
    pub ci_lower: Option<f64>,
    /// Upper 95% limit (log transform, capped at 1); `None` once S = 0.
    pub ci_upper: Option<f64>,
}

/// Survival estimate at a landmark time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmark {
    /// The landmark, months.
    pub time_months: f64,
    /// S at the landmark; `None` after the last observed time.
    pub surv: Option<f64>,
    /// Greenwood SE of log S.
    pub std_err: Option<f64>,
    /// Lower 95% limit.
    pub ci_lower: Option<f64>,
    /// Upper 95% limit.
    pub ci_upper: Option<f64>,
}

/// Median survival with its 95% CI; `None` = not reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianEstimate {
    /// Median, months.
    pub estimate: Option<f64>,
    /// Lower limit, months.
    pub ci_lower: Option<f64>,
    /// Upper limit, months.
    pub ci_upper: Option<f64>,
}

/// A Kaplan–Meier fit of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct KaplanMeier {
    rows: Vec<KmRow>,
    n: usize,
    events: usize,
}

impl KaplanMeier {
    /// Fits the curve; the input order does not matter.
    pub fn fit(observations: &[SurvivalTime]) -> KaplanMeier {
        let mut sorted: Vec<SurvivalTime> = observations.to_vec();
        sorted.sort_by(|a, b| a.time_months.total_cmp(&b.time_months));
        let n = sorted.len();
        let mut rows = Vec::new();
        let mut n_risk = n;
        let mut surv = 1.0_f64;
        let mut greenwood = 0.0_f64;
        let mut reached_zero = false;
        let mut events = 0;
        let mut rest = sorted.as_slice();
        while let Some(first) = rest.first() {
            let time = first.time_months;
            // The first element always belongs to its group (even a NaN time).
            let group_len = 1 + rest
                .iter()
                .skip(1)
                .take_while(|obs| obs.time_months == time)
                .count();
            let (group, tail) = rest.split_at(group_len.min(rest.len()));
            rest = tail;
            let n_event = group.iter().filter(|obs| obs.event).count();
            let n_censor = group.len() - n_event;
            if n_event > 0 && n_risk > 0 {
                surv *= (n_risk - n_event) as f64 / n_risk as f64;
                if n_event < n_risk {
                    greenwood += n_event as f64 / (n_risk as f64 * (n_risk - n_event) as f64);
                } else {
                    reached_zero = true;
                }
            }
            let std_err = (!reached_zero).then(|| greenwood.sqrt());
            let (ci_lower, ci_upper) = match std_err {
                Some(se) if surv > 0.0 => (
                    Some(surv * (-Z_95 * se).exp()),
                    Some((surv * (Z_95 * se).exp()).min(1.0)),
                ),
                _ => (None, None),
            };
            rows.push(KmRow {
                time_months: time,
                n_risk,
                n_event,
                n_censor,
                surv,
                std_err,
                ci_lower,
                ci_upper,
            });
            events += n_event;
            n_risk = n_risk.saturating_sub(group.len());
        }
        KaplanMeier { rows, n, events }
    }

    /// The table, one row per distinct time, ascending.
    pub fn rows(&self) -> &[KmRow] {
        &self.rows
    }

    /// Number of patients.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Number of events.
    pub fn events(&self) -> usize {
        self.events
    }

    /// The last observed time (event or censoring); `None` without patients.
    pub fn last_time_months(&self) -> Option<f64> {
        self.rows.last().map(|row| row.time_months)
    }

    /// Patients still at risk at `time_months` (time ≥ it), for "numbers at risk".
    pub fn n_risk_at(&self, time_months: f64) -> usize {
        let index = self
            .rows
            .partition_point(|row| row.time_months < time_months);
        self.rows.get(index).map_or(0, |row| row.n_risk)
    }

    /// The curve at a landmark: the row with the largest time ≤ t; S = 1 before
    /// the first row; all `None` after the last observed time.
    pub fn landmark(&self, time_months: f64) -> Landmark {
        let undefined = Landmark {
            time_months,
            surv: None,
            std_err: None,
            ci_lower: None,
            ci_upper: None,
        };
        let Some(last) = self.last_time_months() else {
            return undefined;
        };
        if time_months.is_nan() || time_months > last {
            return undefined;
        }
        let index = self
            .rows
            .partition_point(|row| row.time_months <= time_months);
        match index.checked_sub(1).and_then(|i| self.rows.get(i)) {
            None => Landmark {
                time_months,
                surv: Some(1.0),
                std_err: Some(0.0),
                ci_lower: Some(1.0),
                ci_upper: Some(1.0),
            },
            Some(row) => Landmark {
                time_months,
                surv: Some(row.surv),
                std_err: row.std_err,
                ci_lower: row.ci_lower,
                ci_upper: row.ci_upper,
            },
        }
    }

    /// Median and its CI (band inversion, `cohort-statistics.md` §4).
    pub fn median(&self) -> MedianEstimate {
        let Some(last) = self.last_time_months() else {
            return MedianEstimate {
                estimate: None,
                ci_lower: None,
                ci_upper: None,
            };
        };
        let surv: Vec<(f64, Option<f64>)> = self
            .rows
            .iter()
            .map(|row| (row.time_months, Some(row.surv)))
            .collect();
        let lower: Vec<(f64, Option<f64>)> = self
            .rows
            .iter()
            .map(|row| (row.time_months, row.ci_lower))
            .collect();
        let upper: Vec<(f64, Option<f64>)> = self
            .rows
            .iter()
            .map(|row| (row.time_months, row.ci_upper))
            .collect();
        MedianEstimate {
            estimate: half_crossing(&surv, last),
            ci_lower: half_crossing(&lower, last),
            ci_upper: half_crossing(&upper, last),
        }
    }
}

/// Where a step curve (time, value; `None` = undefined there) crosses one half:
///
/// 1. a = first time with value ≤ 0.5 + tol; none → `None` (not reached);
/// 2. |C(a) − 0.5| ≥ tol → a;
/// 3. otherwise b = first later time with value < 0.5 − tol → (a + b)/2; no b →
///    (a + t_last)/2, or `None` when the curve is undefined at its last row.
///
/// Rows with an undefined value are skipped.
pub fn half_crossing(curve: &[(f64, Option<f64>)], t_last_months: f64) -> Option<f64> {
    let defined = |&(time, value): &(f64, Option<f64>)| value.map(|v| (time, v));
    let mut points = curve.iter().filter_map(defined);
    let (a_time, a_value) = points
        .by_ref()
        .find(|&(_, value)| value <= 0.5 + HALF_TOLERANCE)?;
    if (a_value - 0.5).abs() >= HALF_TOLERANCE {
        return Some(a_time);
    }
    if let Some((b_time, _)) = points.find(|&(_, value)| value < 0.5 - HALF_TOLERANCE) {
        return Some((a_time + b_time) / 2.0);
    }
    match curve.last() {
        Some((_, Some(_))) => Some((a_time + t_last_months) / 2.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(list: &[(f64, bool)]) -> Vec<SurvivalTime> {
        list.iter()
            .map(|&(time_months, event)| SurvivalTime { time_months, event })
            .collect()
    }

    #[test]
    fn one_row_per_distinct_time_ascending() {
        let km = KaplanMeier::fit(&obs(&[
            (3.0, true),
            (1.0, false),
            (3.0, false),
            (2.0, true),
        ]));
        let times: Vec<f64> = km.rows().iter().map(|r| r.time_months).collect();
        assert_eq!(times, vec![1.0, 2.0, 3.0]);
        assert_eq!(km.n(), 4);
        assert_eq!(km.events(), 2);
    }

    #[test]
    fn censored_at_event_time_is_still_at_risk() {
        let km = KaplanMeier::fit(&obs(&[(2.0, true), (2.0, false), (5.0, true)]));
        let row = km.rows()[0];
        assert_eq!((row.n_risk, row.n_event, row.n_censor), (3, 1, 1));
        assert_eq!(row.surv, 2.0 / 3.0);
    }

    #[test]
    fn events_at_time_zero_give_a_first_row_at_zero() {
        let km = KaplanMeier::fit(&obs(&[(0.0, true), (1.0, false)]));
        assert_eq!(km.rows()[0].time_months, 0.0);
        assert_eq!(km.rows()[0].surv, 0.5);
    }

    #[test]
    fn no_event_yet_gives_ci_one_one() {
        let km = KaplanMeier::fit(&obs(&[(1.0, false), (2.0, true)]));
        let row = km.rows()[0];
        assert_eq!(row.std_err, Some(0.0));
        assert_eq!((row.ci_lower, row.ci_upper), (Some(1.0), Some(1.0)));
    }

    #[test]
    fn all_die_gives_zero_with_null_se_and_ci() {
        let km = KaplanMeier::fit(&obs(&[(1.0, true), (2.0, true)]));
        let last = km.rows()[1];
        assert_eq!(last.surv, 0.0);
        assert_eq!(
            (last.std_err, last.ci_lower, last.ci_upper),
            (None, None, None)
        );
    }

    #[test]
    fn log_transform_ci_with_upper_cap() {
        let km = KaplanMeier::fit(&obs(&[
            (1.0, true),
            (2.0, false),
            (3.0, false),
            (4.0, false),
        ]));
        let row = km.rows()[0];
        let se = (1.0_f64 / (4.0 * 3.0)).sqrt();
        assert_eq!(row.std_err, Some(se));
        assert_eq!(row.ci_lower, Some(0.75 * (-Z_95 * se).exp()));
        assert_eq!(row.ci_upper, Some(1.0));
    }

    #[test]
    fn landmark_before_first_row_is_one() {
        let km = KaplanMeier::fit(&obs(&[(5.0, true), (9.0, false)]));
        let lm = km.landmark(2.0);
        assert_eq!(lm.surv, Some(1.0));
        assert_eq!((lm.ci_lower, lm.ci_upper), (Some(1.0), Some(1.0)));
    }

    #[test]
    fn landmark_is_right_continuous() {
        let km = KaplanMeier::fit(&obs(&[(5.0, true), (9.0, false)]));
        assert_eq!(km.landmark(5.0).surv, Some(0.5));
        assert_eq!(km.landmark(9.0).surv, Some(0.5));
    }

    #[test]
    fn landmark_after_last_time_is_null_even_at_zero() {
        let km = KaplanMeier::fit(&obs(&[(5.0, true), (9.0, true)]));
        assert_eq!(km.landmark(9.0).surv, Some(0.0));
        assert_eq!(km.landmark(9.5).surv, None);
        assert_eq!(km.landmark(f64::NAN).surv, None);
    }

    #[test]
    fn median_of_uncensored_data_is_sample_median() {
        let km = KaplanMeier::fit(&obs(&[(1.0, true), (2.0, true), (3.0, true), (4.0, true)]));
        assert_eq!(km.median().estimate, Some(2.5));
        let km = KaplanMeier::fit(&obs(&[(1.0, true), (2.0, true), (7.0, true)]));
        assert_eq!(km.median().estimate, Some(2.0));
    }

    #[test]
    fn median_not_reached_is_none() {
        let km = KaplanMeier::fit(&obs(&[(1.0, true), (2.0, false), (3.0, false)]));
        assert_eq!(km.median().estimate, None);
    }

    #[test]
    fn half_crossing_rule_two_first_value_below() {
        let curve = [(1.0, Some(0.8)), (2.0, Some(0.4)), (3.0, Some(0.1))];
        assert_eq!(half_crossing(&curve, 3.0), Some(2.0));
    }

    #[test]
    fn half_crossing_rule_three_flat_then_drop() {
        let curve = [
            (1.0, Some(0.5)),
            (2.0, Some(0.5)),
            (4.0, Some(0.2)),
            (6.0, Some(0.1)),
        ];
        assert_eq!(half_crossing(&curve, 6.0), Some(2.5));
    }

    #[test]
    fn half_crossing_within_tolerance_counts_as_half() {
        let curve = [(1.0, Some(0.5 + 1e-9)), (3.0, Some(0.25))];
        assert_eq!(half_crossing(&curve, 3.0), Some(2.0));
        let curve = [
            (1.0, Some(0.5 - 1e-9)),
            (3.0, Some(0.5 - 1e-9)),
            (5.0, Some(0.1)),
        ];
        assert_eq!(half_crossing(&curve, 5.0), Some(3.0));
    }

    #[test]
    fn half_crossing_curve_ending_on_half_uses_last_time() {
        let curve = [(1.0, Some(0.7)), (2.0, Some(0.5)), (8.0, Some(0.5))];
        assert_eq!(half_crossing(&curve, 8.0), Some(5.0));
    }

    #[test]
    fn half_crossing_band_null_at_end_gives_none() {
        let curve = [(1.0, Some(0.7)), (2.0, Some(0.5)), (8.0, None)];
        assert_eq!(half_crossing(&curve, 8.0), None);
    }

    #[test]
    fn half_crossing_skips_null_rows() {
        let curve = [(1.0, None), (2.0, Some(0.3))];
        assert_eq!(half_crossing(&curve, 2.0), Some(2.0));
        assert_eq!(half_crossing(&[(1.0, None)], 1.0), None);
    }

    #[test]
    fn numbers_at_risk() {
        let km = KaplanMeier::fit(&obs(&[(1.0, true), (2.0, false), (4.0, true)]));
        assert_eq!(km.n_risk_at(0.0), 3);
        assert_eq!(km.n_risk_at(1.0), 3);
        assert_eq!(km.n_risk_at(1.5), 2);
        assert_eq!(km.n_risk_at(4.0), 1);
        assert_eq!(km.n_risk_at(4.5), 0);
    }

    #[test]
    fn empty_input_has_no_rows() {
        let km = KaplanMeier::fit(&[]);
        assert!(km.rows().is_empty());
        assert_eq!(km.median().estimate, None);
        assert_eq!(km.landmark(1.0).surv, None);
    }

    #[test]
    fn nan_time_does_not_hang_or_panic() {
        let km = KaplanMeier::fit(&obs(&[(f64::NAN, true), (f64::NAN, false), (1.0, true)]));
        assert_eq!(km.rows().len(), 3);
    }
}
