//! Whole-cohort report for 10 000 patients (target: < 100 ms).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use nadir::cohort::{BestResponse, CohortOptions, PatientOutcome, cohort_report};
use nadir::interchange::cohort_json::cohort_json_string;
use std::hint::black_box;

/// Deterministic pseudo-random cohort (xorshift), two arms, times on a
/// 0.1-month grid (many ties), ~70% events.
fn synthetic_cohort(n: usize) -> Vec<PatientOutcome> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .map(|i| {
            let experimental = i % 2 == 1;
            let mean_months = if experimental { 11.0 } else { 6.0 };
            let event_time = -mean_months * (1.0 - uniform()).ln();
            let censor_time = 3.0 + 27.0 * uniform();
            let progressed = event_time <= censor_time;
            let pfs_months = (event_time.min(censor_time) * 10.0).floor() / 10.0;
            let u = uniform();
            let best_response = match u {
                u if u < 0.05 => BestResponse::Cr,
                u if u < 0.30 => BestResponse::Pr,
                u if u < 0.70 => BestResponse::Sd,
                u if u < 0.95 => BestResponse::Pd,
                _ => BestResponse::Ne,
            };
            PatientOutcome {
                patient_id: format!("P{i:05}"),
                arm: if experimental {
                    "experimental".into()
                } else {
                    "control".into()
                },
                best_response,
                best_change_pct: (best_response != BestResponse::Ne)
                    .then(|| (-100.0 + 180.0 * uniform()).round()),
                pfs_months,
                progressed,
                ttr_months: best_response
                    .is_objective_response()
                    .then(|| 1.5 + 4.0 * uniform()),
            }
        })
        .collect()
}

fn bench_cohort(c: &mut Criterion) {
    let outcomes = synthetic_cohort(10_000);
    let options = CohortOptions::default();
    c.bench_function("cohort_report 10k patients", |b| {
        b.iter(|| cohort_report(black_box(&outcomes), black_box(&options)).unwrap())
    });
    c.bench_function("cohort_report + JSON 10k patients", |b| {
        b.iter(|| {
            let report = cohort_report(black_box(&outcomes), black_box(&options)).unwrap();
            cohort_json_string(&report).unwrap()
        })
    });
}

criterion_group! {
    name = benches;
    // No HTML plots: the crate builds plotters with its `ab_glyph` font feature,
    // which leaves criterion's own plotters charts without a registered font.
    config = Criterion::default().without_plots();
    targets = bench_cohort
}
criterion_main!(benches);
