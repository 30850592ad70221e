//! Baseline: which visit it is (E1), organ grouping, and conformance warnings (§1).

use std::collections::BTreeMap;

use super::model::{Date, LesionRecord};
use super::warning::{Warning, WarningKind};

/// Maximum number of target lesions in total (§4.2).
pub const MAX_TARGETS: usize = 5;
/// Maximum number of target lesions per organ (§4.2).
pub const MAX_TARGETS_PER_ORGAN: usize = 2;
/// Minimum longest diameter of a measurable non-nodal lesion in mm (§3.1.1).
pub const MIN_NON_NODAL_LONG_AXIS_MM: f64 = 10.0;
/// Minimum short axis of a measurable (target) lymph node in mm (§3.1.1).
pub const MIN_NODAL_SHORT_AXIS_MM: f64 = 15.0;

/// The baseline visit of one patient's records: the visit holding the earliest
/// date; if several visits hold that date, the smallest label (E1). `None`
/// for no records.
pub fn baseline_visit<'a>(
    records: impl IntoIterator<Item = &'a LesionRecord>,
) -> Option<(&'a str, Date)> {
    records
        .into_iter()
        .min_by(|a, b| {
            a.date.cmp(&b.date).then_with(|| {
                if std::sync::Arc::ptr_eq(&a.visit, &b.visit) {
                    std::cmp::Ordering::Equal
                } else {
                    a.visit.cmp(&b.visit)
                }
            })
        })
        .map(|record| (record.visit.as_ref(), record.date))
}

/// The organ a target counts against for the "2 per organ" rule.
///
/// Case-insensitive; all lymph nodes are one organ (`lymph node`); laterality
/// words are dropped and paired organs are folded into one name (left lung,
/// right lung, lungs → `lung`; kidneys, adrenal glands, breasts, ovaries, ...).
pub fn organ_key(organ: &str, lymph_node: bool) -> String {
    let lower = organ.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|token| !token.is_empty())
        .collect();
    let is_nodal = |token: &&str| {
        matches!(
            *token,
            "lymph" | "node" | "nodes" | "nodal" | "ln" | "lymphnode" | "lymphnodes"
        )
    };
    if lymph_node || tokens.iter().any(is_nodal) {
        return "lymph node".to_string();
    }
    let words: Vec<&str> = tokens
        .into_iter()
        .filter(|token| {
            !matches!(
                *token,
                "left"
                    | "right"
                    | "l"
                    | "r"
                    | "lt"
                    | "rt"
                    | "bilateral"
                    | "both"
                    | "gland"
                    | "glands"
            )
        })
        .map(|token| match token {
            "lungs" | "pulmonary" => "lung",
            "kidneys" | "renal" => "kidney",
            "adrenals" | "suprarenal" => "adrenal",
            "breasts" => "breast",
            "ovaries" | "ovarian" => "ovary",
            "testes" | "testicle" | "testicles" => "testis",
            "eyes" => "eye",
            "pleurae" | "pleural" => "pleura",
            other => other,
        })
        .collect();
    if words.is_empty() {
        lower.trim().to_string()
    } else {
        words.join(" ")
    }
}

/// Conformance warnings for the baseline targets (sorted by lesion id): size
/// minimums, at most 5 targets, at most 2 per organ. The targets are still used.
pub(crate) fn conformance_warnings(
    patient_id: &str,
    visit: &str,
    targets: &[&LesionRecord],
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let warn = |lesion_id: Option<&str>, kind: WarningKind| Warning {
        patient_id: patient_id.to_string(),
        visit: Some(visit.to_string()),
        lesion_id: lesion_id.map(str::to_string),
        kind,
    };
    for target in targets {
        let record = *target;
        if record.lymph_node {
            if let Some(short_axis_mm) = record.short_axis_mm
                && short_axis_mm < MIN_NODAL_SHORT_AXIS_MM
            {
                warnings.push(warn(
                    Some(&record.lesion_id),
                    WarningKind::NodalTargetBelow15Mm { short_axis_mm },
                ));
            }
        } else if let Some(long_axis_mm) = record.long_axis_mm
            && long_axis_mm < MIN_NON_NODAL_LONG_AXIS_MM
        {
            warnings.push(warn(
                Some(&record.lesion_id),
                WarningKind::NonNodalTargetBelow10Mm { long_axis_mm },
            ));
        }
    }
    if targets.len() > MAX_TARGETS {
        warnings.push(warn(
            None,
            WarningKind::MoreThanFiveTargets {
                count: targets.len(),
            },
        ));
    }
    let mut per_organ: BTreeMap<String, usize> = BTreeMap::new();
    for target in targets {
        *per_organ
            .entry(organ_key(&target.organ, target.lymph_node))
            .or_default() += 1;
    }
    for (organ, count) in per_organ {
        if count > MAX_TARGETS_PER_ORGAN {
            warnings.push(warn(
                None,
                WarningKind::MoreThanTwoTargetsInOrgan { organ, count },
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recist::model::{Category, LesionStatus};

    fn target(id: &str, organ: &str, lymph_node: bool, mm: f64) -> LesionRecord {
        LesionRecord {
            patient_id: "P".into(),
            visit: "BL".into(),
            date: Date::from_days_since_epoch(0),
            lesion_id: id.into(),
            category: Category::Target,
            organ: organ.into(),
            lymph_node,
            long_axis_mm: (!lymph_node).then_some(mm),
            short_axis_mm: lymph_node.then_some(mm),
            status: LesionStatus::Measured,
            volume_ml: None,
            t2_si: None,
            t2_ref_si: None,
        }
    }

    fn warnings_for(records: &[LesionRecord]) -> Vec<WarningKind> {
        let targets: Vec<&LesionRecord> = records.iter().collect();
        conformance_warnings("P", "BL", &targets)
            .into_iter()
            .map(|w| w.kind)
            .collect()
    }

    #[test]
    fn paired_organs_are_one_organ() {
        for name in [
            "lung",
            "Lungs",
            "left lung",
            "RIGHT LUNG",
            "Lung, right",
            "pulmonary",
        ] {
            assert_eq!(organ_key(name, false), "lung", "{name}");
        }
        for name in ["kidney", "Kidneys", "left kidney", "right kidney"] {
            assert_eq!(organ_key(name, false), "kidney", "{name}");
        }
        for name in [
            "adrenal",
            "adrenals",
            "Left adrenal gland",
            "right adrenal glands",
        ] {
            assert_eq!(organ_key(name, false), "adrenal", "{name}");
        }
        for name in ["breast", "breasts", "left breast"] {
            assert_eq!(organ_key(name, false), "breast", "{name}");
        }
        for name in ["ovary", "ovaries", "right ovary"] {
            assert_eq!(organ_key(name, false), "ovary", "{name}");
        }
        assert_eq!(organ_key("  Liver ", false), "liver");
        assert_eq!(organ_key("abdominal wall", false), "abdominal wall");
    }

    #[test]
    fn all_lymph_nodes_are_one_organ() {
        assert_eq!(organ_key("mediastinum", true), "lymph node");
        assert_eq!(organ_key("Axillary lymph node", false), "lymph node");
        assert_eq!(organ_key("para-aortic nodes", false), "lymph node");
    }

    #[test]
    fn small_non_nodal_target_warns() {
        let kinds = warnings_for(&[target("T1", "liver", false, 9.9)]);
        assert_eq!(
            kinds,
            vec![WarningKind::NonNodalTargetBelow10Mm { long_axis_mm: 9.9 }]
        );
        assert!(warnings_for(&[target("T1", "liver", false, 10.0)]).is_empty());
    }

    #[test]
    fn small_nodal_target_warns() {
        let kinds = warnings_for(&[target("T1", "neck", true, 14.0)]);
        assert_eq!(
            kinds,
            vec![WarningKind::NodalTargetBelow15Mm {
                short_axis_mm: 14.0
            }]
        );
        assert!(warnings_for(&[target("T1", "neck", true, 15.0)]).is_empty());
    }

    #[test]
    fn more_than_five_targets_warns() {
        let organs = ["liver", "lung", "bone", "spleen", "peritoneum", "muscle"];
        let records: Vec<LesionRecord> = organs
            .iter()
            .enumerate()
            .map(|(i, organ)| target(&format!("T{i}"), organ, false, 20.0))
            .collect();
        assert_eq!(
            warnings_for(&records),
            vec![WarningKind::MoreThanFiveTargets { count: 6 }]
        );
        assert!(warnings_for(&records[..5]).is_empty());
    }

    #[test]
    fn more_than_two_per_organ_warns_for_paired_organs_and_nodes() {
        let lungs = [
            target("T1", "left lung", false, 20.0),
            target("T2", "Right lung", false, 20.0),
            target("T3", "lungs", false, 20.0),
        ];
        assert_eq!(
            warnings_for(&lungs),
            vec![WarningKind::MoreThanTwoTargetsInOrgan {
                organ: "lung".into(),
                count: 3
            }]
        );
        let nodes = [
            target("T1", "neck", true, 20.0),
            target("T2", "axilla", true, 20.0),
            target("T3", "mediastinum", true, 20.0),
        ];
        assert_eq!(
            warnings_for(&nodes),
            vec![WarningKind::MoreThanTwoTargetsInOrgan {
                organ: "lymph node".into(),
                count: 3
            }]
        );
        assert!(warnings_for(&lungs[..2]).is_empty());
    }

    #[test]
    fn baseline_is_the_earliest_date_whatever_the_label() {
        let mut a = target("T1", "liver", false, 20.0);
        a.visit = "baseline".into();
        a.date = Date::from_days_since_epoch(10);
        let mut b = a.clone();
        b.visit = "screening".into();
        b.date = Date::from_days_since_epoch(5);
        assert_eq!(
            baseline_visit([&a, &b]),
            Some(("screening", Date::from_days_since_epoch(5)))
        );
        assert_eq!(baseline_visit([]), None);
    }
}
