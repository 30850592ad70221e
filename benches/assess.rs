//! Benchmark of `nadir assess` without the output: CSV parsing plus the
//! engine for 10,000 patients × 10 visits × 8 lesions (800,000 rows),
//! generated deterministically in memory. Target: under 1 s (release).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nadir::interchange::lesion_table::parse_lesion_table;
use nadir::recist::{AssessOptions, Date, assess_all};

/// A deterministic lesion table: per visit 5 targets (T5 a node) and 3
/// non-targets; diameters drift, with occasional absent / too small / not
/// evaluable statuses, progression and new lesions replacing a non-target row.
fn generate_csv(patients: usize, visits: usize) -> String {
    let mut state: u64 = 0x5EED;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    let mut csv = String::with_capacity(patients * visits * 8 * 80);
    csv.push_str("patient_id,visit,date,lesion_id,category,organ,lymph_node,long_axis_mm,short_axis_mm,status,volume_ml\n");
    let organs = ["liver", "lung", "kidney", "bone", "lymph node"];
    for p in 0..patients {
        let patient = format!("P{p:05}");
        let mut sizes: Vec<f64> = (0..5)
            .map(|_| 15.0 + f64::from(next() % 400) / 10.0)
            .collect();
        let start = 19_000 + i32::try_from(p % 700).unwrap();
        for v in 0..visits {
            let visit = if v == 0 {
                "BL".to_string()
            } else {
                format!("W{}", 8 * v)
            };
            let date = Date::from_days_since_epoch(start + i32::try_from(56 * v).unwrap());
            for (t, size) in sizes.iter_mut().enumerate() {
                if v > 0 {
                    *size = (*size * (0.8 + f64::from(next() % 45) / 100.0)).max(0.0);
                }
                let roll = next() % 100;
                let node = t == 4;
                let value = format!("{:.1}", *size);
                let (long, short, status) = match roll {
                    0 if v > 0 => (String::new(), String::new(), "not_evaluable"),
                    1 if v > 0 => (String::new(), String::new(), "too_small"),
                    2 if v > 0 => (String::new(), String::new(), "absent"),
                    _ if node => (String::new(), value, ""),
                    _ => (value, String::new(), ""),
                };
                let volume = f64::from(next() % 5000) / 10.0;
                let _ = writeln!(
                    csv,
                    "{patient},{visit},{date},T{},target,{},{},{long},{short},{status},{volume}",
                    t + 1,
                    organs[t],
                    if node { "true" } else { "false" },
                );
            }
            for n in 1..=3 {
                let roll = next() % 100;
                let (id, category, status) = match roll {
                    0..=1 if v > 0 => (format!("N{n}"), "new", "present"),
                    2..=3 if v > 0 => (format!("N{n}"), "new", "equivocal"),
                    4 if v > 0 => (format!("NT{n}"), "non_target", "unequivocal_progression"),
                    5..=6 if v > 0 => (format!("NT{n}"), "non_target", "not_evaluable"),
                    7..=20 if v > 0 => (format!("NT{n}"), "non_target", "absent"),
                    _ => (format!("NT{n}"), "non_target", "present"),
                };
                let _ = writeln!(
                    csv,
                    "{patient},{visit},{date},{id},{category},peritoneum,false,,,{status},"
                );
            }
        }
    }
    csv
}

fn bench_assess(c: &mut Criterion) {
    let csv = generate_csv(10_000, 10);
    let options = AssessOptions::default();
    let table = parse_lesion_table(csv.as_bytes(), "bench.csv").unwrap();
    assert_eq!(table.records.len(), 800_000);

    let mut group = c.benchmark_group("assess_10k_patients_10_visits_8_lesions");
    group.sample_size(10);
    group.throughput(Throughput::Elements(800_000));
    group.bench_function("parse_and_assess", |b| {
        b.iter(|| {
            let table = parse_lesion_table(black_box(csv.as_bytes()), "bench.csv").unwrap();
            black_box(assess_all(&table.records, &options))
        });
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| parse_lesion_table(black_box(csv.as_bytes()), "bench.csv").unwrap());
    });
    group.bench_function("assess_only", |b| {
        b.iter(|| black_box(assess_all(black_box(&table.records), &options)));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Plots off: plotters is built with `ab_glyph` (for Nadir's own charts),
    // which has no system font for criterion's HTML charts.
    config = Criterion::default().without_plots();
    targets = bench_assess
}
criterion_main!(benches);
