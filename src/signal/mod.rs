//! T2-weighted signal intensity (`recist-1.1.md` §11): which MR series are
//! T2-weighted, which acquisition changes between visits make signal
//! intensities hard to compare, and the per-lesion and per-patient trends of
//! the lesion-to-muscle ratio as % change from baseline.
//!
//! Pure functions over [`SeriesMeta`] and numbers; the session measures the
//! ROI means on the images and the tracking layer stores them.

use crate::volume::SeriesMeta;

/// Echo time from which a spin-echo series counts as T2-weighted (ms).
/// T1-weighted and proton-density sequences use TE ≲ 30–40 ms; T2-weighted
/// fast spin echo uses TE ≈ 80–120 ms.
pub const T2_MIN_ECHO_TIME_MS: f64 = 60.0;

/// Repetition time from which a series counts as T2-weighted (ms): long TR
/// removes T1 weighting; T1-weighted spin echo uses TR ≲ 800 ms.
pub const T2_MIN_REPETITION_TIME_MS: f64 = 1500.0;

/// Relative change of TE or TR between visits that is reported (10 %).
pub const TIMING_CHANGE_FRACTION: f64 = 0.10;

/// Whether a series is T2-weighted, and why the program thinks so.
#[derive(Debug, Clone, PartialEq)]
pub struct T2Weighting {
    /// The program's call.
    pub t2_weighted: bool,
    /// One sentence: the evidence (TE/TR, description, modality).
    pub reason: String,
}

/// What the series description says about the weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DescribedAs {
    T2,
    OtherWeighting,
    Silent,
}

/// Lower-case alphanumeric tokens of a description (`"T2_TSE-AX fs"` →
/// `["t2", "tse", "ax", "fs"]`); `t2w`, `t2*` style tokens stay whole.
fn tokens(description: &str) -> Vec<String> {
    description
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '*'))
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn described_as(description: &str) -> DescribedAs {
    let tokens = tokens(description);
    let has = |names: &[&str]| tokens.iter().any(|t| names.contains(&t.as_str()));
    // T2* (gradient echo) and diffusion are not T2-weighted spin echo.
    if has(&[
        "t2*", "t2star", "swi", "dwi", "adc", "trace", "t1", "t1w", "pd", "pdw",
    ]) {
        DescribedAs::OtherWeighting
    } else if has(&["t2", "t2w", "t2wi", "haste", "ssfse"])
        || description.to_ascii_lowercase().contains("t2-weighted")
        || description.to_ascii_lowercase().contains("t2 weighted")
    {
        DescribedAs::T2
    } else {
        DescribedAs::Silent
    }
}

/// Calls a series T2-weighted or not from its modality, TE/TR and
/// description. TE/TR decide when both are present (TE ≥ 60 ms and
/// TR ≥ 1500 ms), the description otherwise; a description that contradicts
/// the timing is named in the reason. The reader can override the call.
pub fn t2_weighting(meta: &SeriesMeta) -> T2Weighting {
    let call = |t2_weighted: bool, reason: String| T2Weighting {
        t2_weighted,
        reason,
    };
    if meta.modality != "MR" {
        let modality = if meta.modality.is_empty() {
            "unknown"
        } else {
            meta.modality.as_str()
        };
        return call(false, format!("modality {modality} is not MR"));
    }
    let described = described_as(&meta.series_description);
    let description = if meta.series_description.is_empty() {
        String::new()
    } else {
        format!(" (description \"{}\")", meta.series_description)
    };
    match (meta.echo_time_ms, meta.repetition_time_ms) {
        (Some(te), Some(tr)) => {
            let timing_t2 = te >= T2_MIN_ECHO_TIME_MS && tr >= T2_MIN_REPETITION_TIME_MS;
            let timing = format!("TE {te:.0} ms, TR {tr:.0} ms");
            let conflict = match (timing_t2, described) {
                (true, DescribedAs::OtherWeighting) => {
                    "; the description suggests another weighting"
                }
                (false, DescribedAs::T2) => "; the description says T2",
                _ => "",
            };
            let verdict = if timing_t2 {
                "T2-weighted"
            } else {
                "not T2-weighted"
            };
            call(
                timing_t2,
                format!(
                    "{verdict}: {timing} (T2 needs TE ≥ {T2_MIN_ECHO_TIME_MS:.0} ms and TR ≥ {T2_MIN_REPETITION_TIME_MS:.0} ms){conflict}{description}"
                ),
            )
        }
        _ => match described {
            DescribedAs::T2 => call(
                true,
                format!("T2-weighted by description, TE/TR missing{description}"),
            ),
            DescribedAs::OtherWeighting => call(
                false,
                format!("not T2-weighted by description, TE/TR missing{description}"),
            ),
            DescribedAs::Silent => call(
                false,
                format!(
                    "unknown weighting: TE/TR missing and the description does not say{description}"
                ),
            ),
        },
    }
}

/// The acquisition differences between two series that make their signal
/// intensities hard to compare (`recist-1.1.md` §11: flag sequence changes
/// between visits): TE or TR changed by more than 10 %, field strength,
/// manufacturer or model changed, or a different sequence description.
/// Empty when nothing relevant changed.
pub fn protocol_changes(before: &SeriesMeta, after: &SeriesMeta) -> Vec<String> {
    let mut changes = Vec::new();
    let mut timing = |name: &str, a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if (b - a).abs() > TIMING_CHANGE_FRACTION * a.abs().max(b.abs()) => {
            changes.push(format!("{name} {a:.0} → {b:.0} ms"));
        }
        (Some(a), None) => changes.push(format!("{name} {a:.0} ms → not recorded")),
        (None, Some(b)) => changes.push(format!("{name} not recorded → {b:.0} ms")),
        _ => {}
    };
    timing("TE", before.echo_time_ms, after.echo_time_ms);
    timing("TR", before.repetition_time_ms, after.repetition_time_ms);
    match (
        before.magnetic_field_strength_t,
        after.magnetic_field_strength_t,
    ) {
        (Some(a), Some(b)) if (a - b).abs() > 0.05 => {
            changes.push(format!("field strength {a:.1} T → {b:.1} T"));
        }
        _ => {}
    }
    let mut text = |name: &str, a: &str, b: &str| {
        if !a.trim().eq_ignore_ascii_case(b.trim()) {
            changes.push(format!("{name} \"{}\" → \"{}\"", a.trim(), b.trim()));
        }
    };
    text("scanner", &before.manufacturer, &after.manufacturer);
    text("model", &before.model_name, &after.model_name);
    text(
        "sequence",
        &before.series_description,
        &after.series_description,
    );
    changes
}

/// Lesion-to-reference signal ratio; `None` unless both means are positive
/// (SI is in arbitrary, non-negative units; a zero reference has no ratio).
pub fn signal_ratio(lesion_si: f64, reference_si: f64) -> Option<f64> {
    (lesion_si.is_finite() && reference_si.is_finite() && lesion_si > 0.0 && reference_si > 0.0)
        .then(|| lesion_si / reference_si)
}

/// % change of `value` from `baseline`; `None` when the baseline is zero or
/// either is missing.
pub fn change_pct(baseline: Option<f64>, value: Option<f64>) -> Option<f64> {
    let (baseline, value) = (baseline?, value?);
    (baseline != 0.0 && baseline.is_finite() && value.is_finite())
        .then(|| (value - baseline) / baseline * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mr(description: &str, te: Option<f64>, tr: Option<f64>) -> SeriesMeta {
        SeriesMeta {
            modality: "MR".into(),
            series_description: description.into(),
            echo_time_ms: te,
            repetition_time_ms: tr,
            magnetic_field_strength_t: Some(1.5),
            manufacturer: "SIEMENS".into(),
            model_name: "Avanto".into(),
            ..Default::default()
        }
    }

    #[test]
    fn long_te_and_long_tr_is_t2_weighted() {
        let call = t2_weighting(&mr("AX TSE", Some(100.0), Some(4000.0)));
        assert!(call.t2_weighted, "{}", call.reason);
        assert!(call.reason.contains("TE 100 ms"));
    }

    #[test]
    fn thresholds_are_inclusive_and_both_needed() {
        assert!(t2_weighting(&mr("", Some(60.0), Some(1500.0))).t2_weighted);
        assert!(!t2_weighting(&mr("", Some(59.0), Some(4000.0))).t2_weighted);
        assert!(!t2_weighting(&mr("", Some(100.0), Some(1499.0))).t2_weighted);
    }

    #[test]
    fn t1_and_proton_density_timing_is_not_t2() {
        assert!(!t2_weighting(&mr("T1 SE", Some(12.0), Some(550.0))).t2_weighted);
        // Proton density: long TR, short TE.
        assert!(!t2_weighting(&mr("PD FS", Some(30.0), Some(3000.0))).t2_weighted);
    }

    #[test]
    fn timing_wins_over_the_description_and_the_conflict_is_named() {
        let call = t2_weighting(&mr("T2 TSE", Some(15.0), Some(500.0)));
        assert!(!call.t2_weighted);
        assert!(
            call.reason.contains("description says T2"),
            "{}",
            call.reason
        );
        let call = t2_weighting(&mr("t1_vibe", Some(90.0), Some(3000.0)));
        assert!(call.t2_weighted);
        assert!(call.reason.contains("another weighting"), "{}", call.reason);
    }

    #[test]
    fn description_decides_without_timing() {
        assert!(t2_weighting(&mr("T2_TSE_AX fs", None, None)).t2_weighted);
        assert!(t2_weighting(&mr("Axial T2-weighted", None, Some(3000.0))).t2_weighted);
        assert!(!t2_weighting(&mr("T2* GRE", None, None)).t2_weighted);
        assert!(!t2_weighting(&mr("ep2d_diff DWI", None, None)).t2_weighted);
        let silent = t2_weighting(&mr("AX 5mm", None, None));
        assert!(!silent.t2_weighted);
        assert!(silent.reason.contains("unknown"));
        // "t2" inside another word is not a T2 token.
        assert!(!t2_weighting(&mr("st2x", None, None)).t2_weighted);
    }

    #[test]
    fn ct_is_never_t2_weighted() {
        let ct = SeriesMeta {
            modality: "CT".into(),
            series_description: "T2 lookalike".into(),
            echo_time_ms: Some(100.0),
            repetition_time_ms: Some(4000.0),
            ..Default::default()
        };
        let call = t2_weighting(&ct);
        assert!(!call.t2_weighted);
        assert!(call.reason.contains("CT"));
    }

    #[test]
    fn identical_protocols_report_nothing() {
        let a = mr("T2 TSE AX", Some(100.0), Some(4000.0));
        assert!(protocol_changes(&a, &a).is_empty());
        // Within 10 % and case/space differences are not changes.
        let mut b = a.clone();
        b.echo_time_ms = Some(105.0);
        b.repetition_time_ms = Some(3700.0);
        b.manufacturer = "Siemens ".into();
        assert!(
            protocol_changes(&a, &b).is_empty(),
            "{:?}",
            protocol_changes(&a, &b)
        );
    }

    #[test]
    fn each_relevant_change_is_reported() {
        let a = mr("T2 TSE AX", Some(100.0), Some(4000.0));
        let mut b = a.clone();
        b.echo_time_ms = Some(80.0);
        assert_eq!(protocol_changes(&a, &b), vec!["TE 100 → 80 ms"]);
        let mut b = a.clone();
        b.repetition_time_ms = Some(2500.0);
        assert_eq!(protocol_changes(&a, &b), vec!["TR 4000 → 2500 ms"]);
        let mut b = a.clone();
        b.magnetic_field_strength_t = Some(3.0);
        assert_eq!(
            protocol_changes(&a, &b),
            vec!["field strength 1.5 T → 3.0 T"]
        );
        let mut b = a.clone();
        b.manufacturer = "GE MEDICAL SYSTEMS".into();
        assert_eq!(protocol_changes(&a, &b).len(), 1);
        let mut b = a.clone();
        b.model_name = "Skyra".into();
        assert_eq!(
            protocol_changes(&a, &b),
            vec!["model \"Avanto\" → \"Skyra\""]
        );
        let mut b = a.clone();
        b.series_description = "T2 HASTE AX".into();
        assert_eq!(protocol_changes(&a, &b).len(), 1);
        let mut b = a.clone();
        b.echo_time_ms = None;
        assert_eq!(protocol_changes(&a, &b), vec!["TE 100 ms → not recorded"]);
    }

    #[test]
    fn ratio_needs_positive_means() {
        assert_eq!(signal_ratio(700.0, 200.0), Some(3.5));
        assert_eq!(signal_ratio(700.0, 0.0), None);
        assert_eq!(signal_ratio(0.0, 200.0), None);
        assert_eq!(signal_ratio(f64::NAN, 200.0), None);
    }

    #[test]
    fn change_from_baseline() {
        let change = change_pct(Some(3.0), Some(2.4)).unwrap();
        assert!((change + 20.0).abs() < 1e-9, "{change}");
        assert_eq!(change_pct(Some(0.0), Some(2.4)), None);
        assert_eq!(change_pct(None, Some(2.4)), None);
        assert_eq!(change_pct(Some(2.0), None), None);
    }
}
