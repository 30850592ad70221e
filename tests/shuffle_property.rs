//! Property: shuffling the rows of a lesion table never changes the output of
//! `nadir assess` (neither the JSON nor the readable report), with or without
//! confirmation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nadir::cli::assess::render_report;
use nadir::interchange::assess_json::AssessOutput;
use nadir::interchange::lesion_table::parse_lesion_table;
use nadir::recist::{AssessOptions, Date, assess_all};
use proptest::prelude::*;

/// SplitMix64: a tiny deterministic generator driven by the proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A diameter with one decimal.
    fn mm(&mut self, max_tenths: u64) -> String {
        let tenths = self.below(max_tenths);
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

const HEADER: &str = "patient_id,visit,date,lesion_id,category,organ,lymph_node,long_axis_mm,short_axis_mm,status,volume_ml,t2_si,t2_ref_si,note";

/// A random but valid cohort: rows in generation order (without header).
fn cohort(seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut rows = Vec::new();
    let labels = ["BL", "W8", "C2", "FU", "X", "W16", "scr"];
    let patient_count = 1 + rng.below(4);
    for p in 0..patient_count {
        let patient = format!("P{}", [1, 2, 10, 7, 33][usize::try_from(p).unwrap()]);
        let visit_count = 1 + rng.below(6) as usize;
        let mut day = 0u64;
        let targets = rng.below(5);
        let non_targets = rng.below(3);
        let nodes: Vec<bool> = (0..targets).map(|_| rng.chance(30)).collect();
        for (v, label) in labels.iter().take(visit_count).enumerate() {
            if v > 0 {
                // Gap 0 gives two visits on one date (ordered by label).
                day += [0, 14, 28, 30, 42, 56, 84][rng.below(7) as usize];
            }
            let date = |rng: &mut Rng| {
                // Sometimes one row of a visit is a day late (visit date = earliest).
                let late = u64::from(v > 0 && rng.chance(5));
                let d = i32::try_from(day + late).unwrap();
                Date::from_days_since_epoch(19_723 + d).to_string()
            };
            for (t, node) in nodes.iter().enumerate() {
                let id = format!("T{}", t + 1);
                let organ = ["liver", "left lung", "Lungs", "bone"][rng.below(4) as usize];
                let lymph = if *node { "true" } else { "" };
                let volume = if rng.chance(70) {
                    rng.mm(500)
                } else {
                    String::new()
                };
                let (t2, t2_ref) = if rng.chance(60) {
                    (rng.mm(5000), rng.mm(2000))
                } else {
                    (String::new(), String::new())
                };
                let (long, short, status) = if v == 0 {
                    let value = rng.mm(800);
                    if *node {
                        (String::new(), value, "")
                    } else {
                        (value, String::new(), "measured")
                    }
                } else {
                    match rng.below(10) {
                        0 => continue, // missing row
                        1 => (String::new(), String::new(), "absent"),
                        2 => (String::new(), String::new(), "too_small"),
                        3 => (String::new(), String::new(), "not_evaluable"),
                        _ => {
                            let value = rng.mm(900);
                            if *node {
                                (rng.mm(900), value, "")
                            } else {
                                (value, String::new(), "")
                            }
                        }
                    }
                };
                let date = date(&mut rng);
                rows.push(format!(
                    "{patient},{label},{date},{id},target,{organ},{lymph},{long},{short},{status},{volume},{t2},{t2_ref},x"
                ));
            }
            for n in 0..non_targets {
                let status = if v == 0 {
                    "present"
                } else {
                    match rng.below(8) {
                        0 => continue,
                        1 => "absent",
                        2 => "unequivocal_progression",
                        3 => "not_evaluable",
                        4 => "",
                        _ => "present",
                    }
                };
                let date = date(&mut rng);
                rows.push(format!(
                    "{patient},{label},{date},NT{},non_target,bone,,,,{status},,,,",
                    n + 1
                ));
            }
            if v > 0 && rng.chance(30) {
                let status = ["present", "equivocal", ""][rng.below(3) as usize];
                let date = date(&mut rng);
                rows.push(format!(
                    "{patient},{label},{date},N{},new,lung,,,,{status},,,,",
                    1 + rng.below(2)
                ));
            }
        }
    }
    // Two new rows with one id at one visit would be a duplicate: drop repeats.
    let mut seen = std::collections::HashSet::new();
    rows.retain(|row| {
        let key: Vec<&str> = row.split(',').take(4).collect();
        let key = format!("{}|{}|{}", key[0], key[1], key[3]);
        seen.insert(key)
    });
    rows
}

fn outputs(rows: &[String], options: &AssessOptions) -> (String, String, usize) {
    let text = format!("{HEADER}\n{}\n", rows.join("\n"));
    let table = parse_lesion_table(text.as_bytes(), "cohort.csv").expect("valid table");
    let (patients, warnings) = assess_all(&table.records, options);
    let json = AssessOutput::from_assessments(&patients)
        .to_json_pretty()
        .unwrap();
    let report = render_report("cohort.csv", &patients, options);
    (json, report, warnings.len())
}

fn shuffled(rows: &[String], seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    let mut rows = rows.to_vec();
    for i in (1..rows.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        rows.swap(i, j);
    }
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn shuffling_rows_never_changes_the_output(
        seed in any::<u64>(),
        shuffle_seed in any::<u64>(),
        confirm in any::<bool>(),
        min_sd_days in 0i64..90,
    ) {
        let rows = cohort(seed);
        let options = AssessOptions { confirm, min_sd_days };
        let original = outputs(&rows, &options);
        let permuted = outputs(&shuffled(&rows, shuffle_seed), &options);
        prop_assert_eq!(&original.0, &permuted.0);
        prop_assert_eq!(&original.1, &permuted.1);
        prop_assert_eq!(original.2, permuted.2);
        let reversed: Vec<String> = rows.iter().rev().cloned().collect();
        prop_assert_eq!(&original.0, &outputs(&reversed, &options).0);
    }
}

#[test]
fn generator_covers_the_interesting_cases() {
    let mut overall = std::collections::BTreeSet::new();
    for seed in 0..300 {
        let (json, _, _) = outputs(&cohort(seed), &AssessOptions::default());
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        for patient in value["patients"].as_array().unwrap() {
            for tp in patient["timepoints"].as_array().unwrap() {
                overall.insert(tp["overall_response"].as_str().unwrap().to_string());
            }
        }
    }
    for code in ["CR", "PR", "SD", "PD", "NE", "NonCR/NonPD"] {
        assert!(
            overall.contains(code),
            "{code} never generated: {overall:?}"
        );
    }
}
