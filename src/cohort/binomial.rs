//! Response rates with the Clopper–Pearson exact 95% interval (R `binom.test`).
//!
//! lower = B⁻¹(0.025; x, n−x+1), upper = B⁻¹(0.975; x+1, n−x), with lower = 0
//! when x = 0 and upper = 1 when x = n. The beta quantile is found by bisection
//! on the regularized incomplete beta of `statrs` (accurate to ~1e-11 relative
//! up to n = 10 000 against R's `qbeta`; statrs' own `inv_beta_reg` is only good
//! to ~5e-9 there). The four one-parameter cases have closed forms and use them.

use statrs::function::beta::checked_beta_reg;

/// Lower tail probability of the 95% interval.
const ALPHA_HALF: f64 = 0.025;

/// A proportion x/n with its exact 95% interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateEstimate {
    /// Number of patients with the outcome.
    pub x: usize,
    /// Number of patients.
    pub n: usize,
    /// x / n.
    pub rate: f64,
    /// Clopper–Pearson lower limit.
    pub ci_lower: f64,
    /// Clopper–Pearson upper limit.
    pub ci_upper: f64,
}

/// x/n with the Clopper–Pearson 95% interval; `None` when n = 0 or x > n.
pub fn rate_estimate(x: usize, n: usize) -> Option<RateEstimate> {
    let (ci_lower, ci_upper) = clopper_pearson(x, n)?;
    Some(RateEstimate {
        x,
        n,
        rate: x as f64 / n as f64,
        ci_lower,
        ci_upper,
    })
}

/// The Clopper–Pearson 95% interval for x successes in n trials;
/// `None` when n = 0 or x > n.
pub fn clopper_pearson(x: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 || x > n {
        return None;
    }
    let xf = x as f64;
    let nf = n as f64;
    let lower = match x {
        0 => 0.0,
        // B(1, n): 1 − (1 − p)^n = α  ⇒  p = 1 − (1 − α)^(1/n)
        1 => -((-ALPHA_HALF).ln_1p() / nf).exp_m1(),
        // B(n, 1): p^n = α
        _ if x == n => (ALPHA_HALF.ln() / nf).exp(),
        _ => beta_quantile(ALPHA_HALF, xf, nf - xf + 1.0)?,
    };
    let upper = match n - x {
        0 => 1.0,
        // B(1, n): 1 − (1 − p)^n = 1 − α  ⇒  p = 1 − α^(1/n)
        _ if x == 0 => -(ALPHA_HALF.ln() / nf).exp_m1(),
        // B(n, 1): p^n = 1 − α
        1 => ((-ALPHA_HALF).ln_1p() / nf).exp(),
        _ => beta_quantile(1.0 - ALPHA_HALF, xf + 1.0, nf - xf)?,
    };
    Some((lower, upper))
}

/// B⁻¹(p; a, b): the p-quantile of the Beta(a, b) distribution, by bisection
/// on the regularized incomplete beta until the bracket is one ulp wide (or
/// 1e-16 relative). `None` for invalid parameters.
pub fn beta_quantile(p: f64, a: f64, b: f64) -> Option<f64> {
    if !(a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite() && (0.0..=1.0).contains(&p)) {
        return None;
    }
    if p == 0.0 {
        return Some(0.0);
    }
    if p == 1.0 {
        return Some(1.0);
    }
    let mut low = 0.0_f64;
    let mut high = 1.0_f64;
    // 1100 halvings reach the smallest subnormal; the relative stop ends far earlier.
    for _ in 0..1100 {
        let mid = 0.5 * (low + high);
        if mid <= low || mid >= high || high - low <= 1e-16 * high {
            break;
        }
        let cdf = checked_beta_reg(a, b, mid).ok()?;
        if cdf < p {
            low = mid;
        } else {
            high = mid;
        }
    }
    Some(0.5 * (low + high))
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn zero_successes_gives_lower_zero() {
        let (lower, upper) = clopper_pearson(0, 10).unwrap();
        assert_eq!(lower, 0.0);
        // R: binom.test(0, 10)$conf.int
        assert!(close(upper, 0.30849710781876083, 1e-12));
    }

    #[test]
    fn all_successes_gives_upper_one() {
        let (lower, upper) = clopper_pearson(10, 10).unwrap();
        assert_eq!(upper, 1.0);
        assert!(close(lower, 0.69150289218123917, 1e-12));
    }

    #[test]
    fn one_of_one_and_zero_of_one() {
        let (lower, upper) = clopper_pearson(1, 1).unwrap();
        assert!(close(lower, 0.025, 1e-14));
        assert_eq!(upper, 1.0);
        let (lower, upper) = clopper_pearson(0, 1).unwrap();
        assert_eq!(lower, 0.0);
        assert!(close(upper, 0.975, 1e-15));
    }

    #[test]
    fn general_case_matches_r_qbeta() {
        // R: qbeta(0.025, 16, 34), qbeta(0.975, 17, 33)
        let (lower, upper) = clopper_pearson(16, 49).unwrap();
        assert!(close(lower, 0.19948533804610194, 1e-12));
        assert!(close(upper, 0.47540070549031954, 1e-12));
    }

    #[test]
    fn invalid_counts_give_none() {
        assert_eq!(clopper_pearson(0, 0), None);
        assert_eq!(clopper_pearson(3, 2), None);
        assert_eq!(rate_estimate(1, 0), None);
    }

    #[test]
    fn rate_is_x_over_n() {
        let estimate = rate_estimate(7, 13).unwrap();
        assert_eq!(estimate.rate, 7.0 / 13.0);
        assert_eq!((estimate.x, estimate.n), (7, 13));
    }

    #[test]
    fn beta_quantile_rejects_bad_parameters() {
        assert_eq!(beta_quantile(0.5, 0.0, 1.0), None);
        assert_eq!(beta_quantile(1.5, 1.0, 1.0), None);
        assert_eq!(beta_quantile(f64::NAN, 1.0, 1.0), None);
        assert_eq!(beta_quantile(0.0, 2.0, 3.0), Some(0.0));
        assert_eq!(beta_quantile(1.0, 2.0, 3.0), Some(1.0));
    }

    #[test]
    fn beta_quantile_of_uniform_is_identity() {
        let q = beta_quantile(0.3, 1.0, 1.0).unwrap();
        assert!(close(q, 0.3, 1e-14));
    }
}
