//! Best overall response (§4.4.3, §4.6, Table 3; E9, E10).

use super::response::{OverallResponse, TimepointAssessment};
use super::{AssessOptions, CONFIRMATION_MIN_DAYS};

/// The number of time points in the best-response window: up to and including
/// the first overall PD.
pub(crate) fn window_len(points: &[TimepointAssessment]) -> usize {
    points
        .iter()
        .position(|point| point.overall_response == OverallResponse::Pd)
        .map_or(points.len(), |index| index + 1)
}

/// Finds a first point in `starts` confirmed ≥ 28 days later by a point in
/// `confirms`, with only `between` responses in between (E9). Returns the two.
fn confirmed_pair<'a>(
    points: &'a [TimepointAssessment],
    starts: &[OverallResponse],
    confirms: &[OverallResponse],
    between: &[OverallResponse],
) -> Option<(&'a TimepointAssessment, &'a TimepointAssessment)> {
    for (index, first) in points.iter().enumerate() {
        if !starts.contains(&first.overall_response) {
            continue;
        }
        for later in points.iter().skip(index + 1) {
            if confirms.contains(&later.overall_response)
                && later.date.days_since(first.date) >= CONFIRMATION_MIN_DAYS
            {
                return Some((first, later));
            }
            if !between.contains(&later.overall_response) {
                break;
            }
        }
    }
    None
}

/// Best overall response, its explanation, and the window length.
pub(crate) fn best_overall_response(
    points: &[TimepointAssessment],
    has_targets: bool,
    options: &AssessOptions,
) -> (OverallResponse, String, usize) {
    use OverallResponse::{Ne, NonCrNonPd, Sd};
    let window_len = window_len(points);
    let window = points.get(..window_len).unwrap_or(points);
    let stable = if has_targets { Sd } else { NonCrNonPd };
    let suffix = match points.get(window_len) {
        Some(_) => {
            let first_pd = window.last().map_or("", |point| point.visit.as_ref());
            format!(" (visits after the first PD at {first_pd} do not count)")
        }
        None => String::new(),
    };
    if window.is_empty() {
        return (Ne, "NE: no follow-up assessment".to_string(), 0);
    }
    let (best, reason) = if options.confirm {
        confirmed_best(window, stable, options)
    } else {
        unconfirmed_best(window, stable, options)
    };
    (best, format!("{reason}{suffix}"), window_len)
}

fn unconfirmed_best(
    window: &[TimepointAssessment],
    stable: OverallResponse,
    options: &AssessOptions,
) -> (OverallResponse, String) {
    for objective in [OverallResponse::Cr, OverallResponse::Pr] {
        if let Some(point) = window.iter().find(|p| p.overall_response == objective) {
            return (
                objective,
                format!("{objective}: first {objective} at {}", point.visit),
            );
        }
    }
    if let Some(point) = window
        .iter()
        .find(|p| p.overall_response == stable && p.days_from_baseline >= options.min_sd_days)
    {
        return (
            stable,
            format!(
                "{stable}: first {stable} at {}, day {} ({stable} counts from day {})",
                point.visit, point.days_from_baseline, options.min_sd_days
            ),
        );
    }
    fallback(window, &[stable], options)
}

fn confirmed_best(
    window: &[TimepointAssessment],
    stable: OverallResponse,
    options: &AssessOptions,
) -> (OverallResponse, String) {
    use OverallResponse::{Cr, Ne, NonCrNonPd, Pr, Sd};
    if let Some((first, later)) = confirmed_pair(window, &[Cr], &[Cr], &[Cr, Ne]) {
        return (
            Cr,
            format!(
                "CR: CR at {} confirmed by CR at {}, {} days later",
                first.visit,
                later.visit,
                later.date.days_since(first.date)
            ),
        );
    }
    if let Some((first, later)) = confirmed_pair(window, &[Cr, Pr], &[Cr, Pr], &[Cr, Pr, Ne]) {
        return (
            Pr,
            format!(
                "PR: {} at {} confirmed by {} at {}, {} days later",
                first.overall_response,
                first.visit,
                later.overall_response,
                later.visit,
                later.date.days_since(first.date)
            ),
        );
    }
    let counts_as_stable = [Cr, Pr, Sd, NonCrNonPd];
    if let Some(point) = window.iter().find(|p| {
        counts_as_stable.contains(&p.overall_response)
            && p.days_from_baseline >= options.min_sd_days
    }) {
        let what = if point.overall_response.is_objective_response() {
            format!("unconfirmed {}", point.overall_response)
        } else {
            point.overall_response.to_string()
        };
        return (
            stable,
            format!(
                "{stable}: {what} at {}, day {} ({stable} counts from day {})",
                point.visit, point.days_from_baseline, options.min_sd_days
            ),
        );
    }
    fallback(window, &counts_as_stable, options)
}

/// PD if a PD occurred, else NE; says why nothing better counted.
fn fallback(
    window: &[TimepointAssessment],
    stable_like: &[OverallResponse],
    options: &AssessOptions,
) -> (OverallResponse, String) {
    let early = window
        .iter()
        .find(|p| stable_like.contains(&p.overall_response))
        .map(|p| {
            format!(
                "; {} at {} (day {}) is before the minimum {} days",
                p.overall_response, p.visit, p.days_from_baseline, options.min_sd_days
            )
        })
        .unwrap_or_default();
    match window
        .iter()
        .find(|p| p.overall_response == OverallResponse::Pd)
    {
        Some(point) => (
            OverallResponse::Pd,
            format!("PD: PD at {}{early}", point.visit),
        ),
        None => (
            OverallResponse::Ne,
            format!("NE: no evaluable response{early}"),
        ),
    }
}
