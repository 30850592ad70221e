//! Cox proportional hazards with one binary covariate (experimental arm = 1),
//! Efron's handling of ties (R `coxph(ties = "efron")`).
//!
//! With w = exp(βx), at each distinct event time with risk set R and tied event
//! set D (size d): S_k = Σ_R w x^k, D_k = Σ_D w x^k; for m = 0 … d−1, f = m/d,
//! s_k = S_k − f·D_k and
//! ℓ += β·Σ_D x − Σ_m log s₀, U += Σ_D x − Σ_m s₁/s₀, I += Σ_m (s₂/s₀ − (s₁/s₀)²).
//! Newton–Raphson from β = 0 with step halving while ℓ decreases (by more than
//! rounding noise), until the step is below 1e-10. Because x is 0/1, S₁ = S₂
//! and D₁ = D₂.

use super::Z_95;
use super::km::SurvivalTime;
use super::risk_sets::{EventTime, event_times};
use libm::erfc;

/// Convergence threshold on the Newton step |Δβ|.
const STEP_TOLERANCE: f64 = 1e-10;
/// Newton iterations before giving up (a handful are needed in practice).
const MAX_ITERATIONS: usize = 100;
/// Relative size of a decrease of ℓ that counts as rounding noise.
const LIKELIHOOD_NOISE: f64 = 1e-10;
/// Step halvings per iteration.
const MAX_HALVINGS: usize = 64;

/// The fitted hazard ratio of experimental vs reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoxEstimate {
    /// log hazard ratio β̂.
    pub beta: f64,
    /// Standard error 1/√I(β̂).
    pub se: f64,
    /// Hazard ratio exp(β̂).
    pub hr: f64,
    /// Lower 95% limit exp(β̂ − z·se).
    pub ci_lower: f64,
    /// Upper 95% limit exp(β̂ + z·se).
    pub ci_upper: f64,
    /// Wald statistic β̂/se.
    pub wald_z: f64,
    /// Two-sided Wald p-value erfc(|z|/√2).
    pub wald_p: f64,
    /// Log partial likelihood at β̂.
    pub log_likelihood: f64,
    /// Newton iterations used.
    pub iterations: usize,
}

/// Fits the model; `None` when the estimate does not exist (some
/// experimental event must happen while a reference patient is at risk, and
/// vice versa; e.g. not when one arm has no events) or does not converge.
pub fn cox_efron(reference: &[SurvivalTime], experimental: &[SurvivalTime]) -> Option<CoxEstimate> {
    let times = event_times(reference, experimental);
    let experimental_event_vs_reference = times.iter().any(|t| t.events[1] > 0 && t.at_risk[0] > 0);
    let reference_event_vs_experimental = times.iter().any(|t| t.events[0] > 0 && t.at_risk[1] > 0);
    if !(experimental_event_vs_reference && reference_event_vs_experimental) {
        return None;
    }

    let mut beta = 0.0_f64;
    let mut current = partial_likelihood(&times, beta);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < MAX_ITERATIONS {
        iterations += 1;
        if !(current.information > 0.0 && current.information.is_finite()) {
            return None;
        }
        let mut step = current.score / current.information;
        let mut accepted = false;
        // "ℓ decreases" means beyond rounding: near the optimum the true gain of a
        // Newton step (≈ I·Δβ²/2) is far below the rounding error of ℓ, and
        // halving on noise would stall β short of the root.
        let noise = LIKELIHOOD_NOISE * (1.0 + current.log_likelihood.abs());
        for _ in 0..MAX_HALVINGS {
            let candidate = partial_likelihood(&times, beta + step);
            if candidate.log_likelihood.is_finite()
                && candidate.log_likelihood >= current.log_likelihood - noise
            {
                beta += step;
                current = candidate;
                accepted = true;
                break;
            }
            step /= 2.0;
        }
        if !accepted || step.abs() < STEP_TOLERANCE {
            converged = true;
            break;
        }
    }
    if !converged || current.information.is_nan() || current.information <= 0.0 {
        return None;
    }
    let se = 1.0 / current.information.sqrt();
    let wald_z = beta / se;
    let estimate = CoxEstimate {
        beta,
        se,
        hr: beta.exp(),
        ci_lower: (beta - Z_95 * se).exp(),
        ci_upper: (beta + Z_95 * se).exp(),
        wald_z,
        wald_p: erfc(wald_z.abs() / std::f64::consts::SQRT_2),
        log_likelihood: current.log_likelihood,
        iterations,
    };
    let all_finite = [
        estimate.beta,
        estimate.se,
        estimate.hr,
        estimate.ci_lower,
        estimate.ci_upper,
        estimate.wald_z,
        estimate.wald_p,
    ]
    .iter()
    .all(|v| v.is_finite());
    all_finite.then_some(estimate)
}

/// ℓ(β), U(β), I(β) of the Efron partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LikelihoodPoint {
    log_likelihood: f64,
    score: f64,
    information: f64,
}

fn partial_likelihood(times: &[EventTime], beta: f64) -> LikelihoodPoint {
    let weight = beta.exp();
    let mut log_likelihood = 0.0_f64;
    let mut score = 0.0_f64;
    let mut information = 0.0_f64;
    for time in times {
        let n0 = time.at_risk[0] as f64;
        let n1 = time.at_risk[1] as f64;
        let d1 = time.events[1] as f64;
        let d = time.events[0] + time.events[1];
        let risk_s0 = n0 + n1 * weight;
        let risk_s1 = n1 * weight;
        let tied_d0 = time.events[0] as f64 + d1 * weight;
        let tied_d1 = d1 * weight;
        log_likelihood += beta * d1;
        score += d1;
        let d_f = d as f64;
        for m in 0..d {
            let fraction = m as f64 / d_f;
            let s0 = risk_s0 - fraction * tied_d0;
            let s1 = risk_s1 - fraction * tied_d1;
            let ratio = s1 / s0;
            log_likelihood -= s0.ln();
            score -= ratio;
            information += ratio - ratio * ratio;
        }
    }
    LikelihoodPoint {
        log_likelihood,
        score,
        information,
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
    fn one_arm_without_events_is_not_estimable() {
        let reference = obs(&[(1.0, true), (2.0, true), (3.0, false)]);
        let experimental = obs(&[(1.5, false), (4.0, false)]);
        assert_eq!(cox_efron(&reference, &experimental), None);
    }

    #[test]
    fn experimental_events_only_after_reference_left_is_not_estimable() {
        // Every experimental event happens when no reference patient is at risk.
        let reference = obs(&[(1.0, true), (2.0, false)]);
        let experimental = obs(&[(3.0, true), (4.0, true)]);
        assert_eq!(cox_efron(&reference, &experimental), None);
    }

    #[test]
    fn no_events_is_not_estimable() {
        assert_eq!(
            cox_efron(&obs(&[(1.0, false)]), &obs(&[(1.0, false)])),
            None
        );
    }

    #[test]
    fn symmetric_data_gives_hazard_ratio_one() {
        let arm = obs(&[(1.0, true), (2.0, true), (3.0, false)]);
        let fit = cox_efron(&arm, &arm).unwrap();
        assert!(fit.beta.abs() < 1e-12);
        assert!((fit.hr - 1.0).abs() < 1e-12);
        assert!((fit.wald_p - 1.0).abs() < 1e-12);
    }

    #[test]
    fn score_is_zero_at_the_estimate() {
        let reference = obs(&[
            (1.0, true),
            (2.0, true),
            (2.0, true),
            (4.0, false),
            (5.0, true),
        ]);
        let experimental = obs(&[(2.0, true), (3.0, false), (6.0, true), (7.0, false)]);
        let fit = cox_efron(&reference, &experimental).unwrap();
        let times = event_times(&reference, &experimental);
        let at = partial_likelihood(&times, fit.beta);
        assert!(at.score.abs() < 1e-12);
        assert!(fit.beta < 0.0);
        assert_eq!(fit.se, 1.0 / at.information.sqrt());
    }

    #[test]
    fn efron_ties_use_reduced_risk_sets() {
        // Two tied events, one per arm, two at risk in each arm, at β = 0:
        // Efron's second term uses s₀ = 4 − ½·2 = 3 (Breslow would use 4 again).
        let times = event_times(
            &obs(&[(1.0, true), (2.0, false)]),
            &obs(&[(1.0, true), (2.0, false)]),
        );
        let at = partial_likelihood(&times, 0.0);
        // m = 0: s1/s0 = 2/4; m = 1: (2 − 0.5)/(4 − 1) = 0.5.
        assert_eq!(at.information, 0.25 + 0.25);
        assert_eq!(at.log_likelihood, -(4.0_f64.ln() + 3.0_f64.ln()));
    }
}
