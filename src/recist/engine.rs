//! The per-patient engine: visits (E1), target values (E2), sums and nadir (E3,
//! E4), target / non-target / new-lesion / overall responses (§3–§6, E5, E6,
//! E12, E13), volume and T2 ratio (E14).

use std::collections::BTreeMap;

use super::baseline::conformance_warnings;
use super::bor::best_overall_response;
use super::explain::{Facts, NewLesionFact, explain_timepoint};
use super::model::{Category, Date, LesionRecord, LesionStatus};
use super::response::{
    NonTargetResponse, OverallResponse, PatientAssessment, TargetResponse, TimepointAssessment,
};
use super::warning::{Warning, WarningKind};
use super::{
    AssessOptions, CR_NODE_SHORT_AXIS_MM, PD_MIN_INCREASE_MM, PD_MIN_RATIO, PR_MAX_RATIO,
    THRESHOLD_TOLERANCE, TOO_SMALL_MM,
};

/// One visit of one patient: its label, date and rows (sorted by lesion id,
/// one row per lesion).
struct Visit<'a> {
    label: &'a str,
    date: Date,
    rows: Vec<&'a LesionRecord>,
}

impl<'a> Visit<'a> {
    fn row(&self, lesion_id: &str) -> Option<&'a LesionRecord> {
        // Records read from one table share their id strings: try identity first.
        if let Some(row) = self
            .rows
            .iter()
            .find(|row| same_allocation(&row.lesion_id, lesion_id))
        {
            return Some(row);
        }
        self.rows
            .binary_search_by(|row| row.lesion_id.as_ref().cmp(lesion_id))
            .ok()
            .and_then(|index| self.rows.get(index))
            .copied()
    }

    fn row_of(&self, lesion_id: &str, category: Category) -> Option<&'a LesionRecord> {
        self.row(lesion_id).filter(|row| row.category == category)
    }
}

/// Whether two strings are the same memory (shared `Arc<str>` text).
fn same_allocation(a: &str, b: &str) -> bool {
    std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()
}

/// String equality with an identity fast path for shared text.
pub(crate) fn same_text(a: &str, b: &str) -> bool {
    same_allocation(a, b) || a == b
}

/// Collects warnings for one patient.
struct Warnings<'p> {
    patient_id: &'p str,
    list: Vec<Warning>,
}

impl Warnings<'_> {
    fn push(&mut self, visit: Option<&str>, lesion_id: Option<&str>, kind: WarningKind) {
        self.list.push(Warning {
            patient_id: self.patient_id.to_string(),
            visit: visit.map(str::to_string),
            lesion_id: lesion_id.map(str::to_string),
            kind,
        });
    }
}

/// A usable number: finite and not negative. Anything else is reported and dropped.
fn checked_number(
    value: Option<f64>,
    field: &'static str,
    record: &LesionRecord,
    warnings: &mut Warnings<'_>,
) -> Option<f64> {
    let value = value?;
    if value.is_finite() && value >= 0.0 {
        Some(value)
    } else {
        warnings.push(
            Some(&record.visit),
            Some(&record.lesion_id),
            WarningKind::InvalidNumber { field },
        );
        None
    }
}

/// The value a target row contributes to the sum (E2); `None` = not assessed.
fn target_value_mm(
    record: &LesionRecord,
    lymph_node: bool,
    warnings: &mut Warnings<'_>,
) -> Option<f64> {
    match record.status {
        LesionStatus::Measured => {
            let (axis_mm, axis) = if lymph_node {
                (record.short_axis_mm, "short_axis_mm")
            } else {
                (record.long_axis_mm, "long_axis_mm")
            };
            if axis_mm.is_none() {
                warnings.push(
                    Some(&record.visit),
                    Some(&record.lesion_id),
                    WarningKind::MeasuredTargetWithoutAxis { axis },
                );
                return None;
            }
            checked_number(axis_mm, axis, record, warnings)
        }
        LesionStatus::Absent => Some(0.0),
        LesionStatus::TooSmall => Some(TOO_SMALL_MM),
        LesionStatus::NotEvaluable => None,
        status => {
            warnings.push(
                Some(&record.visit),
                Some(&record.lesion_id),
                WarningKind::StatusInvalidForCategory {
                    status,
                    category: Category::Target,
                },
            );
            None
        }
    }
}

/// (value − reference) / reference × 100; `None` when either is missing or the
/// reference is 0 (E8).
pub(crate) fn percent_change(value: Option<f64>, reference: Option<f64>) -> Option<f64> {
    let (value, reference) = (value?, reference?);
    if reference == 0.0 {
        return None;
    }
    let pct = (value - reference) / reference * 100.0;
    pct.is_finite().then_some(pct)
}

/// The PD rule against the nadir (§3, E3): ≥ +20 % and ≥ +5 mm, inclusive.
pub(crate) fn meets_pd(sum_mm: f64, nadir_mm: f64) -> bool {
    sum_mm >= PD_MIN_RATIO * nadir_mm - THRESHOLD_TOLERANCE
        && sum_mm - nadir_mm >= PD_MIN_INCREASE_MM - THRESHOLD_TOLERANCE
}

/// The PR rule against baseline (§3, E3): ≤ 70 % of baseline, inclusive.
pub(crate) fn meets_pr(sum_mm: f64, baseline_sum_mm: f64) -> bool {
    sum_mm <= PR_MAX_RATIO * baseline_sum_mm + THRESHOLD_TOLERANCE
}

/// The target response of a visit (E4, E5): NE/incomplete → CR → PD → PR → SD.
///
/// `values` are the per-target contributions with the lesion's node flag.
pub(crate) fn target_response(
    values: &[(bool, Option<f64>)],
    baseline_sum_mm: Option<f64>,
    nadir_mm: Option<f64>,
) -> TargetResponse {
    let assessed_sum_mm: f64 = values.iter().filter_map(|(_, value)| *value).sum();
    let complete = values.iter().all(|(_, value)| value.is_some());
    let (Some(baseline_sum_mm), Some(nadir_mm)) = (baseline_sum_mm, nadir_mm) else {
        return TargetResponse::Ne;
    };
    if !complete {
        return if meets_pd(assessed_sum_mm, nadir_mm) {
            TargetResponse::Pd
        } else {
            TargetResponse::Ne
        };
    }
    let is_cr = values.iter().all(|(lymph_node, value)| match value {
        Some(value_mm) if *lymph_node => *value_mm < CR_NODE_SHORT_AXIS_MM,
        Some(value_mm) => *value_mm <= 0.0,
        None => false,
    });
    if is_cr {
        TargetResponse::Cr
    } else if meets_pd(assessed_sum_mm, nadir_mm) {
        TargetResponse::Pd
    } else if meets_pr(assessed_sum_mm, baseline_sum_mm) {
        TargetResponse::Pr
    } else {
        TargetResponse::Sd
    }
}

/// Overall response, Table 1 (patients with targets).
pub(crate) fn overall_with_targets(
    target: TargetResponse,
    non_target: Option<NonTargetResponse>,
    new_lesions: bool,
) -> OverallResponse {
    if target == TargetResponse::Pd || non_target == Some(NonTargetResponse::Pd) || new_lesions {
        return OverallResponse::Pd;
    }
    match target {
        TargetResponse::Ne => OverallResponse::Ne,
        TargetResponse::Cr => match non_target {
            None | Some(NonTargetResponse::Cr) => OverallResponse::Cr,
            _ => OverallResponse::Pr,
        },
        TargetResponse::Pr => OverallResponse::Pr,
        TargetResponse::Sd => OverallResponse::Sd,
        TargetResponse::Pd => OverallResponse::Pd,
    }
}

/// Overall response, Table 2 (non-target disease only); `None` non-target
/// response means no disease at baseline at all (NE unless new lesions).
pub(crate) fn overall_without_targets(
    non_target: Option<NonTargetResponse>,
    new_lesions: bool,
) -> OverallResponse {
    if new_lesions || non_target == Some(NonTargetResponse::Pd) {
        return OverallResponse::Pd;
    }
    match non_target {
        Some(NonTargetResponse::Cr) => OverallResponse::Cr,
        Some(NonTargetResponse::NonCrNonPd) => OverallResponse::NonCrNonPd,
        Some(NonTargetResponse::Pd) => OverallResponse::Pd,
        Some(NonTargetResponse::Ne) | None => OverallResponse::Ne,
    }
}

/// Total target volume if every target row has one (E14).
fn volume_total_ml<'a>(
    rows: impl Iterator<Item = Option<&'a LesionRecord>>,
    warnings: &mut Warnings<'_>,
) -> Option<f64> {
    let mut total = 0.0;
    let mut complete = true;
    for row in rows {
        match row.and_then(|row| checked_number(row.volume_ml, "volume_ml", row, warnings)) {
            Some(volume_ml) => total += volume_ml,
            None => complete = false,
        }
    }
    complete.then_some(total)
}

/// Mean T2 ratio over the target rows that have both intensities > 0 (E14).
fn t2_ratio_mean<'a>(
    rows: impl Iterator<Item = Option<&'a LesionRecord>>,
    warnings: &mut Warnings<'_>,
) -> Option<f64> {
    let mut total = 0.0;
    let mut count = 0u32;
    for row in rows.flatten() {
        let t2_si = checked_number(row.t2_si, "t2_si", row, warnings);
        let t2_ref_si = checked_number(row.t2_ref_si, "t2_ref_si", row, warnings);
        if let (Some(t2_si), Some(t2_ref_si)) = (t2_si, t2_ref_si)
            && t2_si > 0.0
            && t2_ref_si > 0.0
        {
            total += t2_si / t2_ref_si;
            count += 1;
        }
    }
    (count > 0).then(|| total / f64::from(count))
}

/// Groups one patient's rows into visits in date order (E1) and drops duplicates.
fn group_visits<'a>(rows: &[&'a LesionRecord], warnings: &mut Warnings<'_>) -> Vec<Visit<'a>> {
    // (visit, latest row date); consecutive rows of one visit cost one comparison.
    let mut visits: Vec<(Visit<'a>, Date)> = Vec::new();
    let mut last = 0;
    for &row in rows {
        let index = if visits
            .get(last)
            .is_some_and(|(visit, _)| same_text(visit.label, &row.visit))
        {
            last
        } else if let Some(index) = visits
            .iter()
            .position(|(visit, _)| same_text(visit.label, &row.visit))
        {
            index
        } else {
            visits.push((
                Visit {
                    label: &row.visit,
                    date: row.date,
                    rows: Vec::with_capacity(rows.len() / 4 + 1),
                },
                row.date,
            ));
            visits.len() - 1
        };
        last = index;
        if let Some((visit, latest)) = visits.get_mut(index) {
            visit.date = visit.date.min(row.date);
            *latest = (*latest).max(row.date);
            visit.rows.push(row);
        }
    }
    visits.sort_by(|(a, _), (b, _)| a.date.cmp(&b.date).then_with(|| a.label.cmp(b.label)));
    for (visit, latest) in &mut visits {
        visit.rows.sort_by(|a, b| a.lesion_id.cmp(&b.lesion_id));
        let label = visit.label;
        visit.rows.dedup_by(|later, earlier| {
            let duplicate = later.lesion_id == earlier.lesion_id;
            if duplicate {
                warnings.push(
                    Some(label),
                    Some(&later.lesion_id),
                    WarningKind::DuplicateRow,
                );
            }
            duplicate
        });
        if *latest != visit.date {
            warnings.push(
                Some(label),
                None,
                WarningKind::VisitDatesDiffer {
                    earliest: visit.date,
                    latest: *latest,
                },
            );
        }
    }
    for pair in visits.windows(2) {
        if let [(earlier, _), (later, _)] = pair
            && earlier.date == later.date
        {
            warnings.push(
                Some(later.label),
                None,
                WarningKind::VisitsShareDate {
                    other_visit: earlier.label.to_string(),
                    date: later.date,
                },
            );
        }
    }
    visits.into_iter().map(|(visit, _)| visit).collect()
}

/// Assesses one patient's rows (all with `patient_id`).
pub(crate) fn assess_rows(
    patient_id: &str,
    rows: &[&LesionRecord],
    options: &AssessOptions,
) -> (PatientAssessment, Vec<Warning>) {
    let mut warnings = Warnings {
        patient_id,
        list: Vec::new(),
    };
    let visits = group_visits(rows, &mut warnings);
    let Some((baseline, follow_ups)) = visits.split_first() else {
        let (best, best_explanation, _) = best_overall_response(&[], false, options);
        return (
            PatientAssessment {
                patient_id: patient_id.to_string(),
                baseline_visit: None,
                baseline_date: None,
                target_ids: Vec::new(),
                non_target_ids: Vec::new(),
                baseline_sum_mm: None,
                baseline_volume_ml: None,
                baseline_t2_ratio: None,
                timepoints: Vec::new(),
                best_overall_response: best,
                best_overall_response_explanation: best_explanation,
                best_change_from_baseline_pct: None,
            },
            warnings.list,
        );
    };

    // Baseline (E1, E2, §1).
    let targets: Vec<&LesionRecord> = baseline
        .rows
        .iter()
        .copied()
        .filter(|row| row.category == Category::Target)
        .collect();
    let non_targets: Vec<&LesionRecord> = baseline
        .rows
        .iter()
        .copied()
        .filter(|row| row.category == Category::NonTarget)
        .collect();
    for row in &baseline.rows {
        if row.category == Category::New {
            warnings.push(
                Some(baseline.label),
                Some(&row.lesion_id),
                WarningKind::NewLesionAtBaseline,
            );
        }
    }
    warnings
        .list
        .extend(conformance_warnings(patient_id, baseline.label, &targets));
    let mut baseline_values: Vec<Option<f64>> = Vec::with_capacity(targets.len());
    for target in &targets {
        let value = target_value_mm(target, target.lymph_node, &mut warnings);
        if target.status != LesionStatus::Measured || value.is_none() {
            warnings.push(
                Some(baseline.label),
                Some(&target.lesion_id),
                WarningKind::BaselineTargetNotMeasured {
                    status: target.status,
                },
            );
        }
        baseline_values.push(value);
    }
    for non_target in &non_targets {
        if non_target.status != LesionStatus::Present {
            warnings.push(
                Some(baseline.label),
                Some(&non_target.lesion_id),
                WarningKind::BaselineNonTargetNotPresent {
                    status: non_target.status,
                },
            );
        }
    }
    let has_targets = !targets.is_empty();
    let has_non_targets = !non_targets.is_empty();
    if !has_targets && !has_non_targets {
        warnings.push(Some(baseline.label), None, WarningKind::NoBaselineDisease);
    }
    let baseline_sum_mm: Option<f64> = if has_targets {
        baseline_values.iter().copied().sum()
    } else {
        None
    };
    let baseline_volume_ml = if has_targets {
        volume_total_ml(targets.iter().map(|row| Some(*row)), &mut warnings)
    } else {
        None
    };
    let baseline_t2_ratio = t2_ratio_mean(targets.iter().map(|row| Some(*row)), &mut warnings);
    let unmeasured_baseline_ids: Vec<&str> = targets
        .iter()
        .zip(&baseline_values)
        .filter(|(_, value)| value.is_none())
        .map(|(row, _)| row.lesion_id.as_ref())
        .collect();

    // New lesions: the last follow-up index at which each new lesion is present (E6).
    let mut last_present_at: BTreeMap<&str, usize> = BTreeMap::new();
    for (index, visit) in follow_ups.iter().enumerate() {
        for row in &visit.rows {
            if row.category == Category::New && row.status == LesionStatus::Present {
                last_present_at.insert(&row.lesion_id, index);
            }
        }
    }

    let mut nadir_mm = baseline_sum_mm;
    let mut timepoints = Vec::with_capacity(follow_ups.len());
    for (index, visit) in follow_ups.iter().enumerate() {
        // Rows that belong to no baseline set (E1) and invalid new-lesion statuses.
        for row in &visit.rows {
            let in_set = match row.category {
                Category::Target => targets.iter().any(|t| t.lesion_id == row.lesion_id),
                Category::NonTarget => non_targets.iter().any(|n| n.lesion_id == row.lesion_id),
                Category::New => {
                    if !row.status.is_valid_for(Category::New) {
                        warnings.push(
                            Some(visit.label),
                            Some(&row.lesion_id),
                            WarningKind::StatusInvalidForCategory {
                                status: row.status,
                                category: Category::New,
                            },
                        );
                    }
                    true
                }
            };
            if !in_set {
                warnings.push(
                    Some(visit.label),
                    Some(&row.lesion_id),
                    WarningKind::NotInBaselineSet {
                        category: row.category,
                    },
                );
            }
        }

        // Targets (E2, E4, E5).
        let mut target_values_mm = Vec::with_capacity(targets.len());
        let mut flagged_values = Vec::with_capacity(targets.len());
        for target in &targets {
            let value_mm = match visit.row_of(&target.lesion_id, Category::Target) {
                Some(row) => target_value_mm(row, target.lymph_node, &mut warnings),
                None => {
                    warnings.push(
                        Some(visit.label),
                        Some(&target.lesion_id),
                        WarningKind::MissingRow {
                            category: Category::Target,
                        },
                    );
                    None
                }
            };
            flagged_values.push((target.lymph_node, value_mm));
            target_values_mm.push(value_mm);
        }
        let complete = flagged_values.iter().all(|(_, value)| value.is_some());
        let assessed_sum_mm: Option<f64> =
            has_targets.then(|| flagged_values.iter().filter_map(|(_, value)| *value).sum());
        let sum_mm = if complete { assessed_sum_mm } else { None };
        let target_response =
            has_targets.then(|| target_response(&flagged_values, baseline_sum_mm, nadir_mm));

        // Non-targets (E13).
        let mut progressing: Vec<&str> = Vec::new();
        let mut unevaluated: Vec<&str> = Vec::new();
        let mut persisting: Vec<&str> = Vec::new();
        for non_target in &non_targets {
            let id = non_target.lesion_id.as_ref();
            match visit.row_of(id, Category::NonTarget) {
                None => {
                    warnings.push(
                        Some(visit.label),
                        Some(id),
                        WarningKind::MissingRow {
                            category: Category::NonTarget,
                        },
                    );
                    unevaluated.push(id);
                }
                Some(row) => match row.status {
                    LesionStatus::UnequivocalProgression => progressing.push(id),
                    LesionStatus::NotEvaluable => unevaluated.push(id),
                    LesionStatus::Present => persisting.push(id),
                    LesionStatus::Absent => {}
                    status => {
                        warnings.push(
                            Some(visit.label),
                            Some(id),
                            WarningKind::StatusInvalidForCategory {
                                status,
                                category: Category::NonTarget,
                            },
                        );
                        unevaluated.push(id);
                    }
                },
            }
        }
        let non_target_response = has_non_targets.then_some(if !progressing.is_empty() {
            NonTargetResponse::Pd
        } else if !unevaluated.is_empty() {
            NonTargetResponse::Ne
        } else if persisting.is_empty() {
            NonTargetResponse::Cr
        } else {
            NonTargetResponse::NonCrNonPd
        });

        // New lesions (E6).
        let mut new_lesion_facts: Vec<NewLesionFact<'_>> = Vec::new();
        for row in &visit.rows {
            if row.category != Category::New {
                continue;
            }
            match row.status {
                LesionStatus::Present => new_lesion_facts.push(NewLesionFact {
                    lesion_id: &row.lesion_id,
                    confirmed_at: None,
                }),
                LesionStatus::Equivocal => {
                    if let Some(&later) = last_present_at.get(row.lesion_id.as_ref())
                        && later > index
                    {
                        new_lesion_facts.push(NewLesionFact {
                            lesion_id: &row.lesion_id,
                            confirmed_at: follow_ups.get(later).map(|visit| visit.label),
                        });
                    }
                }
                _ => {}
            }
        }
        let new_lesions = !new_lesion_facts.is_empty();

        let overall_response = match target_response {
            Some(target) => overall_with_targets(target, non_target_response, new_lesions),
            None => overall_without_targets(non_target_response, new_lesions),
        };

        // Volume and T2 (E14).
        let volume_ml = if has_targets {
            volume_total_ml(
                targets
                    .iter()
                    .map(|t| visit.row_of(&t.lesion_id, Category::Target)),
                &mut warnings,
            )
        } else {
            None
        };
        let t2_ratio = t2_ratio_mean(
            targets
                .iter()
                .map(|t| visit.row_of(&t.lesion_id, Category::Target)),
            &mut warnings,
        );

        let change_from_baseline_pct = percent_change(sum_mm, baseline_sum_mm);
        let change_from_nadir_pct = percent_change(sum_mm, nadir_mm);
        let unassessed_ids: Vec<&str> = targets
            .iter()
            .zip(&target_values_mm)
            .filter(|(_, value)| value.is_none())
            .map(|(target, _)| target.lesion_id.as_ref())
            .collect();
        let facts = Facts {
            has_non_targets,
            target_response,
            sum_mm,
            assessed_sum_mm,
            baseline_sum_mm,
            nadir_mm,
            change_from_baseline_pct,
            change_from_nadir_pct,
            unmeasured_baseline_ids: &unmeasured_baseline_ids,
            unassessed_target_ids: &unassessed_ids,
            progressing_non_target_ids: &progressing,
            unevaluated_non_target_ids: &unevaluated,
            persisting_non_target_ids: &persisting,
            new_lesions: &new_lesion_facts,
            overall_response,
        };
        let explanation = explain_timepoint(&facts);
        let new_lesion_ids = new_lesion_facts
            .iter()
            .map(|fact| fact.lesion_id.to_string())
            .collect();

        timepoints.push(TimepointAssessment {
            visit: visit.label.to_string(),
            date: visit.date,
            days_from_baseline: visit.date.days_since(baseline.date),
            target_values_mm,
            sum_mm,
            assessed_sum_mm,
            nadir_mm,
            change_from_baseline_pct,
            change_from_nadir_pct,
            target_response,
            non_target_response,
            new_lesions,
            new_lesion_ids,
            progressing_non_target_ids: progressing.iter().map(|id| id.to_string()).collect(),
            overall_response,
            volume_ml,
            volume_change_from_baseline_pct: percent_change(volume_ml, baseline_volume_ml),
            t2_ratio,
            t2_ratio_change_from_baseline_pct: percent_change(t2_ratio, baseline_t2_ratio),
            counts_for_best_response: true,
            explanation,
        });

        // Only complete follow-up sums can become the nadir (E4).
        if let (Some(sum), Some(nadir)) = (sum_mm, nadir_mm) {
            nadir_mm = Some(nadir.min(sum));
        }
    }

    let (best_overall_response, best_overall_response_explanation, window_len) =
        best_overall_response(&timepoints, has_targets, options);
    for (index, timepoint) in timepoints.iter_mut().enumerate() {
        timepoint.counts_for_best_response = index < window_len;
    }
    let best_change_from_baseline_pct = timepoints
        .iter()
        .take(window_len)
        .filter_map(|timepoint| timepoint.change_from_baseline_pct)
        .reduce(f64::min);

    (
        PatientAssessment {
            patient_id: patient_id.to_string(),
            baseline_visit: Some(baseline.label.to_string()),
            baseline_date: Some(baseline.date),
            target_ids: targets
                .iter()
                .map(|row| row.lesion_id.to_string())
                .collect(),
            non_target_ids: non_targets
                .iter()
                .map(|row| row.lesion_id.to_string())
                .collect(),
            baseline_sum_mm,
            baseline_volume_ml,
            baseline_t2_ratio,
            timepoints,
            best_overall_response,
            best_overall_response_explanation,
            best_change_from_baseline_pct,
        },
        warnings.list,
    )
}
