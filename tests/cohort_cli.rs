//! `nadir cohort` end to end through `cli::cohort::run`: the JSON contract of
//! interchange §4, options, the readable table, bad input and `--plots`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clap::Parser;
use nadir::cli::cohort::{CohortArgs, run};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::path::PathBuf;

#[derive(Parser, Debug)]
struct Cli {
    #[command(flatten)]
    args: CohortArgs,
}

fn data(file: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cohort")
        .join(file)
        .display()
        .to_string()
}

/// Runs `nadir cohort ARGS`: (result, stdout, stderr).
fn cohort(args: &[&str]) -> (anyhow::Result<()>, String, String) {
    let mut argv = vec!["cohort"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = run(&cli.args, &mut out, &mut err);
    (
        result,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn json(args: &[&str]) -> serde_json::Value {
    let (result, out, _) = cohort(args);
    result.unwrap();
    serde_json::from_str(&out).unwrap()
}

/// The key structure of a JSON document, in document order:
/// objects `{key:shape,...}`, arrays `[shape of the first element]`, scalars `_`.
struct Shape(String);

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ShapeVisitor;
        impl<'de> Visitor<'de> for ShapeVisitor {
            type Value = Shape;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
                let mut parts = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: Shape = map.next_value()?;
                    parts.push(if value.0 == "_" {
                        key
                    } else {
                        format!("{key}:{}", value.0)
                    });
                }
                Ok(Shape(format!("{{{}}}", parts.join(","))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
                let first: Option<Shape> = seq.next_element()?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Shape(format!("[{}]", first.map_or(String::new(), |s| s.0))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape("_".into()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape("_".into()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape("_".into()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape("_".into()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
                Ok(Shape("_".into()))
            }
            fn visit_unit<E>(self) -> Result<Shape, E> {
                Ok(Shape("_".into()))
            }
        }
        deserializer.deserialize_any(ShapeVisitor)
    }
}

const COUNTS: &str = "response_counts:{CR,PR,SD,PD,NE}";
const RATE: &str = "{x,n,rate,ci_lower,ci_upper}";

fn arm_shape() -> String {
    format!(
        "{{n,{COUNTS},orr:{RATE},dcr:{RATE},best_change:{{n,mean,median,min,max}},waterfall_order:[],\
         time_to_response:{{n,median,q1,q3}},pfs:{{n,events,\
         km_table:[{{time,n_risk,n_event,n_censor,surv,std_err,ci_lower,ci_upper}}],\
         landmarks:[{{time,surv,std_err,ci_lower,ci_upper}}],median:{{estimate,ci_lower,ci_upper}}}}}}"
    )
}

#[test]
fn json_has_the_documented_fields_in_order() {
    let (result, out, _) = cohort(&[&data("two_arm_ties.csv"), "--json"]);
    result.unwrap();
    let shape: Shape = serde_json::from_str(&out).unwrap();
    // waterfall_order holds strings: its first element is a scalar.
    let arm = arm_shape().replace("waterfall_order:[]", "waterfall_order:[_]");
    let expected = format!(
        "{{arms:{{control:{arm},drug:{arm}}},overall:{{n,{COUNTS},orr:{RATE},dcr:{RATE}}},\
         comparison:{{reference_arm,experimental_arm,logrank:{{observed:{{control,drug}},\
         expected:{{control,drug}},variance,chisq,df,p}},\
         cox:{{beta,se,hr,ci_lower,ci_upper,wald_z,wald_p}}}}}}"
    );
    assert_eq!(shape.0, expected);
}

#[test]
fn json_values_for_the_tied_cohort() {
    let value = json(&[&data("two_arm_ties.csv"), "--json"]);
    let control = &value["arms"]["control"];
    assert_eq!(control["n"], 12);
    assert_eq!(control["response_counts"]["PD"], 3);
    assert_eq!(control["orr"]["x"], 3);
    assert_eq!(control["pfs"]["events"], 8);
    assert_eq!(control["pfs"]["km_table"][0]["time"], 0.0);
    assert_eq!(control["pfs"]["km_table"][0]["n_event"], 2);
    assert!(control["pfs"]["median"]["ci_upper"].is_null());
    assert!(control["pfs"]["landmarks"][1]["surv"].is_null()); // 24 months > last time 14
    assert_eq!(control["waterfall_order"][0], "C12");
    // NonCR/NonPD counts as SD (for DCR, not ORR).
    let drug = &value["arms"]["drug"];
    assert_eq!(drug["response_counts"]["SD"], 6);
    assert_eq!(drug["dcr"]["x"], 13);
    assert_eq!(drug["orr"]["x"], 7);
    assert_eq!(value["overall"]["n"], 26);
    assert_eq!(value["comparison"]["logrank"]["df"], 1);
    assert_eq!(value["comparison"]["logrank"]["observed"]["control"], 8.0);
    assert!(value["comparison"]["cox"]["hr"].as_f64().unwrap() < 1.0);
}

#[test]
fn single_arm_has_null_comparison() {
    let value = json(&[&data("half_end.csv"), "--json"]);
    assert!(value["comparison"].is_null());
    // The curve ends on one half: median (2 + 5) / 2.
    assert_eq!(value["arms"]["A"]["pfs"]["median"]["estimate"], 3.5);
}

#[test]
fn arm_without_events_gives_null_cox_but_a_logrank_test() {
    let value = json(&[&data("all_censored_arm.csv"), "--json"]);
    let comparison = &value["comparison"];
    for key in [
        "beta", "se", "hr", "ci_lower", "ci_upper", "wald_z", "wald_p",
    ] {
        assert!(comparison["cox"][key].is_null(), "{key}");
    }
    assert!(comparison["logrank"]["p"].as_f64().is_some());
    assert!(value["arms"]["new"]["pfs"]["median"]["estimate"].is_null());
}

#[test]
fn reference_and_experimental_arms_can_be_named() {
    let default = json(&[&data("two_arm_ties.csv"), "--json"]);
    let swapped = json(&[
        &data("two_arm_ties.csv"),
        "--json",
        "--reference-arm",
        "drug",
        "--experimental-arm",
        "control",
    ]);
    assert_eq!(swapped["comparison"]["reference_arm"], "drug");
    let hr = default["comparison"]["cox"]["hr"].as_f64().unwrap();
    let hr_swapped = swapped["comparison"]["cox"]["hr"].as_f64().unwrap();
    assert!((hr * hr_swapped - 1.0).abs() < 1e-12);
    let p = default["comparison"]["logrank"]["chisq"].as_f64().unwrap();
    let p_swapped = swapped["comparison"]["logrank"]["chisq"].as_f64().unwrap();
    assert!((p - p_swapped).abs() < 1e-12);
}

#[test]
fn three_arms_compare_the_chosen_pair() {
    let value = json(&[&data("three_arms.csv"), "--json"]);
    assert_eq!(value["comparison"]["reference_arm"], "low");
    assert_eq!(value["comparison"]["experimental_arm"], "mid");
    let value = json(&[
        &data("three_arms.csv"),
        "--json",
        "--experimental-arm",
        "high",
    ]);
    assert_eq!(value["comparison"]["reference_arm"], "low");
    assert_eq!(value["comparison"]["experimental_arm"], "high");
    let value = json(&[&data("three_arms.csv"), "--json", "--reference-arm", "high"]);
    assert_eq!(value["comparison"]["experimental_arm"], "low");
}

#[test]
fn unknown_or_identical_arms_are_errors() {
    let (result, out, _) = cohort(&[&data("two_arm_ties.csv"), "--reference-arm", "placebo"]);
    let message = format!("{:#}", result.unwrap_err());
    assert!(
        message.contains("\"placebo\"") && message.contains("\"control\""),
        "{message}"
    );
    assert!(out.is_empty());
    let (result, _, _) = cohort(&[
        &data("two_arm_ties.csv"),
        "--reference-arm",
        "drug",
        "--experimental-arm",
        "drug",
    ]);
    assert!(result.is_err());
}

#[test]
fn landmarks_option() {
    let value = json(&[&data("two_arm_ties.csv"), "--json", "--landmarks", "6,0.5"]);
    let landmarks = &value["arms"]["control"]["pfs"]["landmarks"];
    assert_eq!(landmarks.as_array().unwrap().len(), 2);
    assert_eq!(landmarks[0]["time"], 6.0);
    assert_eq!(landmarks[1]["time"], 0.5);
    let (result, _, _) = cohort(&[&data("two_arm_ties.csv"), "--landmarks=-3"]);
    assert!(result.is_err());
}

#[test]
fn readable_table_without_json() {
    let (result, out, _) = cohort(&[&data("two_arm_ties.csv")]);
    result.unwrap();
    assert!(out.contains("Arm control (n = 12)"), "{out}");
    assert!(
        out.contains("ORR                3/12 = 25.0% (95% CI 5.5% to 57.2%)"),
        "{out}"
    );
    assert!(out.contains("drug vs control (reference)"), "{out}");
    assert!(
        out.contains("Cox hazard ratio   0.387 (95% CI 0.133 to 1.127)"),
        "{out}"
    );
}

/// Bad input: the error names the file, the physical line and the column,
/// and nothing is printed.
#[test]
fn bad_input_names_file_line_and_column() {
    let cases = [
        (
            "bad_number.csv",
            "line 4, column \"pfs_months\": \"3.O\" is not a number ≥ 0",
        ),
        (
            "bad_duplicate.csv",
            "line 6, column \"patient_id\": patient \"P2\" already appears on line 3",
        ),
        (
            "bad_missing_column.csv",
            "line 1: missing required column \"progressed\"",
        ),
        (
            "bad_progressed.csv",
            "line 4, column \"progressed\": \"progressed\" is not true/false",
        ),
        (
            "bad_response.csv",
            "line 3, column \"best_response\": \"iCPD\" is not one of",
        ),
    ];
    for (file, expected) in cases {
        let (result, out, _) = cohort(&[&data(file), "--json"]);
        let message = format!("{:#}", result.unwrap_err());
        assert!(message.contains(&data(file)), "{file}: {message}");
        assert!(message.contains(expected), "{file}: {message}");
        assert!(out.is_empty(), "{file}: printed {out}");
    }
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let (result, _, _) = cohort(&["/nonexistent/patients.csv"]);
    let message = format!("{:#}", result.unwrap_err());
    assert!(message.contains("/nonexistent/patients.csv"), "{message}");
}

#[test]
fn plots_are_written_as_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let plots = dir.path().join("plots");
    let plots_arg = plots.display().to_string();
    let (result, out, err) = cohort(&[&data("two_arm_ties.csv"), "--json", "--plots", &plots_arg]);
    result.unwrap();
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    for name in ["waterfall", "swimmer", "km"] {
        let png = std::fs::read(plots.join(format!("{name}.png"))).unwrap();
        let image = image::load_from_memory(&png).unwrap();
        assert_eq!(image.width(), 1200, "{name}");
        let svg = std::fs::read_to_string(plots.join(format!("{name}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
        assert!(err.contains(&format!("{name}.png")));
    }
    // The spider plot needs per-visit data (input b only).
    assert!(!plots.join("spider.png").exists());
}

#[test]
fn warnings_for_unknown_columns_go_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("extra.csv");
    std::fs::write(
        &path,
        "patient_id,arm,best_response,pfs_months,progressed,site\nP1,A,SD,2,no,liver\n",
    )
    .unwrap();
    let (result, out, err) = cohort(&[&path.display().to_string(), "--json"]);
    result.unwrap();
    assert!(err.contains("unknown column \"site\""), "{err}");
    assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
}
