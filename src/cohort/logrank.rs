//! Unstratified two-arm log-rank test (R `survdiff`, rho = 0).
//!
//! At each distinct event time: n = n₀ + n₁ at risk, d events, d₁ in the
//! experimental arm. E₁ = Σ d·n₁/n, O₁ = Σ d₁,
//! V = Σ d·(n₁/n)·(n₀/n)·(n − d)/(n − 1) (skipped when n = 1),
//! χ² = (O₁ − E₁)²/V on 1 df, p = erfc(√(χ²/2)).

use super::km::SurvivalTime;
use super::risk_sets::event_times;
use libm::erfc;

/// The log-rank test of experimental vs reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRankTest {
    /// Observed events, reference arm.
    pub observed_reference: f64,
    /// Observed events, experimental arm.
    pub observed_experimental: f64,
    /// Expected events under H₀, reference arm (Σd − E₁).
    pub expected_reference: f64,
    /// Expected events under H₀, experimental arm.
    pub expected_experimental: f64,
    /// Variance of O₁ − E₁.
    pub variance: f64,
    /// χ² statistic; `None` without events or with V = 0.
    pub chisq: Option<f64>,
    /// Degrees of freedom (always 1).
    pub df: u32,
    /// P(χ²₁ > χ²); `None` with `chisq`.
    pub p: Option<f64>,
}

/// Runs the test; input order does not matter.
pub fn log_rank(reference: &[SurvivalTime], experimental: &[SurvivalTime]) -> LogRankTest {
    let mut observed = [0.0_f64; 2];
    let mut expected_experimental = 0.0_f64;
    let mut total_events = 0.0_f64;
    let mut variance = 0.0_f64;
    for time in event_times(reference, experimental) {
        let n0 = time.at_risk[0] as f64;
        let n1 = time.at_risk[1] as f64;
        let n = n0 + n1;
        let d0 = time.events[0] as f64;
        let d1 = time.events[1] as f64;
        let d = d0 + d1;
        if n <= 0.0 {
            continue;
        }
        observed[0] += d0;
        observed[1] += d1;
        total_events += d;
        expected_experimental += d * n1 / n;
        if n > 1.0 {
            variance += d * (n1 / n) * (n0 / n) * (n - d) / (n - 1.0);
        }
    }
    let chisq = (total_events > 0.0 && variance > 0.0)
        .then(|| (observed[1] - expected_experimental).powi(2) / variance)
        .filter(|chisq| chisq.is_finite());
    LogRankTest {
        observed_reference: observed[0],
        observed_experimental: observed[1],
        expected_reference: total_events - expected_experimental,
        expected_experimental,
        variance,
        chisq,
        df: 1,
        p: chisq.map(|chisq| erfc((chisq / 2.0).sqrt())),
    }
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn obs(list: &[(f64, bool)]) -> Vec<SurvivalTime> {
        list.iter()
            .map(|&(time_months, event)| SurvivalTime { time_months, event })
            .collect()
    }

    #[test]
    fn hand_computed_single_event_time() {
        // One event at t=1 among 2 + 2 at risk, in the experimental arm.
        let test = log_rank(
            &obs(&[(1.0, false), (2.0, false)]),
            &obs(&[(1.0, true), (2.0, false)]),
        );
        assert_eq!(test.observed_experimental, 1.0);
        assert_eq!(test.expected_experimental, 0.5);
        assert_eq!(test.expected_reference, 0.5);
        assert_eq!(test.variance, 0.25);
        assert_eq!(test.chisq, Some(1.0));
        let p = test.p.unwrap();
        assert!((p - 0.31731050786291415).abs() < 1e-15, "{p:e}");
    }

    #[test]
    fn no_events_gives_null_statistic() {
        let test = log_rank(&obs(&[(1.0, false)]), &obs(&[(2.0, false)]));
        assert_eq!(test.chisq, None);
        assert_eq!(test.p, None);
        assert_eq!(test.df, 1);
        assert_eq!(test.observed_reference + test.observed_experimental, 0.0);
    }

    #[test]
    fn single_patient_at_risk_contributes_no_variance() {
        // Only event: one patient at risk (n = 1) -> V = 0 -> null.
        let test = log_rank(&obs(&[(1.0, false)]), &obs(&[(2.0, true)]));
        assert_eq!(test.variance, 0.0);
        assert_eq!(test.chisq, None);
        assert_eq!(test.expected_experimental, 1.0);
    }

    #[test]
    fn order_does_not_matter() {
        let a = obs(&[(3.0, true), (1.0, true), (2.0, false), (2.0, true)]);
        let b = obs(&[(2.0, true), (5.0, false), (1.0, true)]);
        let mut a_rev = a.clone();
        a_rev.reverse();
        let mut b_rev = b.clone();
        b_rev.reverse();
        assert_eq!(log_rank(&a, &b), log_rank(&a_rev, &b_rev));
    }
}
