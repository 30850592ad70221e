//! Unit tests of the engine, one per rule clause of `recist-1.1.md` (§ and E
//! numbers in the test names' comments), plus one per bug that other
//! implementations ship (`bug_*`).

use super::engine::{overall_with_targets, overall_without_targets, target_response};
use super::*;

// ---------------------------------------------------------------- builders

const BASE_DAY: i32 = 19_723; // 2024-01-01

fn date(day: i32) -> Date {
    Date::from_days_since_epoch(BASE_DAY + day)
}

fn record(
    visit: &str,
    day: i32,
    id: &str,
    category: Category,
    status: LesionStatus,
) -> LesionRecord {
    LesionRecord {
        patient_id: "P1".into(),
        visit: visit.into(),
        date: date(day),
        lesion_id: id.into(),
        category,
        organ: if category == Category::Target {
            "liver".into()
        } else {
            "".into()
        },
        lymph_node: false,
        long_axis_mm: None,
        short_axis_mm: None,
        status,
        volume_ml: None,
        t2_si: None,
        t2_ref_si: None,
    }
}

/// Measured non-nodal target (long axis).
fn tgt(visit: &str, day: i32, id: &str, long_axis_mm: f64) -> LesionRecord {
    LesionRecord {
        long_axis_mm: Some(long_axis_mm),
        ..record(visit, day, id, Category::Target, LesionStatus::Measured)
    }
}

/// Measured nodal target (short axis).
fn node(visit: &str, day: i32, id: &str, short_axis_mm: f64) -> LesionRecord {
    LesionRecord {
        organ: "lymph node".into(),
        lymph_node: true,
        short_axis_mm: Some(short_axis_mm),
        ..record(visit, day, id, Category::Target, LesionStatus::Measured)
    }
}

/// Target with a non-measured status.
fn tgt_status(visit: &str, day: i32, id: &str, status: LesionStatus) -> LesionRecord {
    record(visit, day, id, Category::Target, status)
}

fn non_target(visit: &str, day: i32, id: &str, status: LesionStatus) -> LesionRecord {
    record(visit, day, id, Category::NonTarget, status)
}

fn new_lesion(visit: &str, day: i32, id: &str, status: LesionStatus) -> LesionRecord {
    record(visit, day, id, Category::New, status)
}

fn assess(records: &[LesionRecord]) -> PatientAssessment {
    assess_patient(records, &AssessOptions::default()).0
}

fn assess_opts(records: &[LesionRecord], confirm: bool, min_sd_days: i64) -> PatientAssessment {
    assess_patient(
        records,
        &AssessOptions {
            confirm,
            min_sd_days,
        },
    )
    .0
}

fn warnings(records: &[LesionRecord]) -> Vec<WarningKind> {
    assess_patient(records, &AssessOptions::default())
        .1
        .into_iter()
        .map(|warning| warning.kind)
        .collect()
}

fn at<'a>(assessment: &'a PatientAssessment, visit: &str) -> &'a TimepointAssessment {
    assessment
        .timepoints
        .iter()
        .find(|tp| tp.visit == visit)
        .unwrap_or_else(|| panic!("no time point {visit}"))
}

fn overall(assessment: &PatientAssessment) -> Vec<OverallResponse> {
    assessment
        .timepoints
        .iter()
        .map(|tp| tp.overall_response)
        .collect()
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// One target of `baseline_mm`, followed by the given (day, mm) visits.
fn single_target_course(baseline_mm: f64, visits: &[(i32, f64)]) -> Vec<LesionRecord> {
    let mut records = vec![tgt("BL", 0, "T1", baseline_mm)];
    for (index, (day, mm)) in visits.iter().enumerate() {
        records.push(tgt(&format!("V{}", index + 1), *day, "T1", *mm));
    }
    records
}

/// A patient whose overall responses at the given days are exactly the given
/// ones, in any sequence: baseline node T1 of 12 mm SA and non-target NT1.
/// CR = T1 9 mm + NT1 absent; PR = T1 9 mm (target CR) + NT1 present;
/// SD = T1 10 mm; PD = a new lesion; NE = T1 not evaluable. The nadir never
/// drops below 9 mm, so 10 mm never becomes PD.
fn course(responses: &[(i32, OverallResponse)]) -> Vec<LesionRecord> {
    let mut records = vec![
        node("BL", 0, "T1", 12.0),
        non_target("BL", 0, "NT1", Present),
    ];
    for (index, (day, response)) in responses.iter().enumerate() {
        let visit = format!("V{}", index + 1);
        let (target, non_target_status) = match response {
            OverallResponse::Cr => (node(&visit, *day, "T1", 9.0), Absent),
            OverallResponse::Pr => (node(&visit, *day, "T1", 9.0), Present),
            OverallResponse::Sd | OverallResponse::Pd => (node(&visit, *day, "T1", 10.0), Present),
            _ => (tgt_status(&visit, *day, "T1", NotEvaluable), Present),
        };
        records.push(target);
        records.push(non_target(&visit, *day, "NT1", non_target_status));
        if *response == OverallResponse::Pd {
            records.push(new_lesion(&visit, *day, &format!("N{index}"), Present));
        }
    }
    records
}

#[test]
fn course_builder_gives_the_requested_responses() {
    let wanted = [
        (56, O::Sd),
        (112, O::Cr),
        (168, O::Sd),
        (224, O::Pr),
        (280, O::Ne),
        (336, O::Sd),
        (392, O::Pd),
        (448, O::Cr),
    ];
    let a = assess(&course(&wanted));
    let expected: Vec<OverallResponse> = wanted.iter().map(|(_, r)| *r).collect();
    assert_eq!(overall(&a), expected);
}

use LesionStatus::{
    Absent, Equivocal, Measured, NotEvaluable, Present, TooSmall, UnequivocalProgression,
};
use OverallResponse as O;
use TargetResponse as T;

// ------------------------------------------------------- §2 / E2 target values

#[test]
fn e2_measured_uses_long_axis_for_non_nodes_and_ignores_short_axis() {
    let mut baseline = tgt("BL", 0, "T1", 40.0);
    baseline.short_axis_mm = Some(25.0);
    let a = assess(&[baseline, tgt("W8", 56, "T1", 30.0)]);
    assert_eq!(a.baseline_sum_mm, Some(40.0));
    assert_eq!(at(&a, "W8").sum_mm, Some(30.0));
}

#[test]
fn e2_measured_uses_short_axis_for_nodes_and_ignores_long_axis() {
    let mut baseline = node("BL", 0, "T1", 20.0);
    baseline.long_axis_mm = Some(35.0);
    let mut follow_up = node("W8", 56, "T1", 16.0);
    follow_up.long_axis_mm = Some(30.0);
    let a = assess(&[baseline, follow_up]);
    assert_eq!(a.baseline_sum_mm, Some(20.0));
    assert_eq!(at(&a, "W8").sum_mm, Some(16.0));
}

#[test]
fn e1_lymph_node_flag_is_taken_from_the_baseline_row() {
    // The follow-up row says lymph_node = false but gives a short axis only.
    let mut follow_up = node("W8", 56, "T1", 12.0);
    follow_up.lymph_node = false;
    let a = assess(&[node("BL", 0, "T1", 20.0), follow_up]);
    assert_eq!(at(&a, "W8").sum_mm, Some(12.0));
}

#[test]
fn e2_absent_counts_zero() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        tgt("BL", 0, "T2", 20.0),
        tgt_status("W8", 56, "T1", Absent),
        tgt("W8", 56, "T2", 15.0),
    ]);
    assert_eq!(at(&a, "W8").sum_mm, Some(15.0));
}

#[test]
fn e2_too_small_counts_five_mm_also_for_nodes() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        node("BL", 0, "T2", 20.0),
        tgt_status("W8", 56, "T1", TooSmall),
        tgt_status("W8", 56, "T2", TooSmall),
    ]);
    let w8 = at(&a, "W8");
    assert_eq!(w8.sum_mm, Some(10.0));
    // A non-nodal "too small" lesion is still present: not CR.
    assert_eq!(w8.target_response, Some(T::Pr));
}

#[test]
fn e2_a_number_below_five_mm_is_used_as_given() {
    let a = assess(&[tgt("BL", 0, "T1", 30.0), tgt("W8", 56, "T1", 3.0)]);
    assert_eq!(at(&a, "W8").sum_mm, Some(3.0));
}

#[test]
fn e2_not_evaluable_target_makes_the_visit_incomplete() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        tgt("BL", 0, "T2", 20.0),
        tgt("W8", 56, "T1", 30.0),
        tgt_status("W8", 56, "T2", NotEvaluable),
    ]);
    let w8 = at(&a, "W8");
    assert_eq!(w8.target_response, Some(T::Ne));
    assert_eq!(w8.overall_response, O::Ne);
    assert_eq!(
        w8.explanation,
        "NE: T2 not assessed and the assessed sum does not show PD"
    );
}

#[test]
fn e2_missing_row_for_a_baseline_target_is_not_assessed_with_a_warning() {
    let records = [
        tgt("BL", 0, "T1", 30.0),
        tgt("BL", 0, "T2", 20.0),
        tgt("W8", 56, "T1", 30.0),
    ];
    let a = assess(&records);
    assert_eq!(at(&a, "W8").target_response, Some(T::Ne));
    assert!(warnings(&records).contains(&WarningKind::MissingRow {
        category: Category::Target
    }));
}

// ------------------------------------------------------------ §3 target response

#[test]
fn s3_cr_when_every_non_nodal_target_has_disappeared() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        tgt("BL", 0, "T2", 20.0),
        tgt_status("W8", 56, "T1", Absent),
        tgt("W8", 56, "T2", 0.0),
    ]);
    let w8 = at(&a, "W8");
    assert_eq!(w8.target_response, Some(T::Cr));
    assert_eq!(w8.overall_response, O::Cr);
    assert_eq!(w8.sum_mm, Some(0.0));
    assert_eq!(
        w8.explanation,
        "CR: all targets resolved (sum 0.0 mm), no non-target lesions, no new lesions"
    );
}

#[test]
fn s3_cr_when_nodes_are_below_ten_mm_with_a_non_zero_sum() {
    let a = assess(&[
        node("BL", 0, "T1", 22.0),
        node("BL", 0, "T2", 18.0),
        tgt("BL", 0, "T3", 30.0),
        node("W8", 56, "T1", 9.0),
        node("W8", 56, "T2", 6.5),
        tgt_status("W8", 56, "T3", Absent),
    ]);
    let w8 = at(&a, "W8");
    assert_eq!(w8.target_response, Some(T::Cr));
    assert_eq!(w8.sum_mm, Some(15.5));
    assert!(close(
        w8.change_from_baseline_pct,
        (15.5 - 70.0) / 70.0 * 100.0
    ));
}

#[test]
fn s3_a_node_of_exactly_ten_mm_is_not_cr() {
    let a = assess(&[node("BL", 0, "T1", 40.0), node("W8", 56, "T1", 10.0)]);
    assert_eq!(at(&a, "W8").target_response, Some(T::Pr));
}

#[test]
fn s3_pr_at_exactly_minus_thirty_percent() {
    let a = assess(&single_target_course(50.0, &[(56, 35.0)]));
    let v1 = at(&a, "V1");
    assert_eq!(v1.target_response, Some(T::Pr));
    assert!(close(v1.change_from_baseline_pct, -30.0));
    let a = assess(&single_target_course(50.0, &[(56, 35.1)]));
    assert_eq!(at(&a, "V1").target_response, Some(T::Sd));
}

#[test]
fn e3_pr_threshold_tolerates_decimal_input() {
    // 0.7 × (23.3 + 19.4) = 29.89 exactly in decimal, not in binary.
    let a = assess(&[
        tgt("BL", 0, "T1", 23.3),
        tgt("BL", 0, "T2", 19.4),
        tgt("W8", 56, "T1", 16.31),
        tgt("W8", 56, "T2", 13.58),
    ]);
    assert_eq!(at(&a, "W8").target_response, Some(T::Pr));
}

#[test]
fn s3_pd_at_exactly_plus_twenty_percent_and_five_mm() {
    let a = assess(&single_target_course(25.0, &[(56, 30.0)]));
    let v1 = at(&a, "V1");
    assert_eq!(v1.target_response, Some(T::Pd));
    assert_eq!(
        v1.explanation,
        "PD: sum 30.0 mm is +20.0% and +5.0 mm over the nadir 25.0 mm"
    );
}

#[test]
fn s3_plus_twenty_percent_with_four_mm_is_not_pd() {
    let a = assess(&single_target_course(20.0, &[(56, 24.0)]));
    let v1 = at(&a, "V1");
    assert_eq!(v1.target_response, Some(T::Sd));
    assert_eq!(
        v1.explanation,
        "SD: sum 24.0 mm is +20.0% over the nadir 20.0 mm but only +4.0 mm (PD needs +5 mm)"
    );
}

#[test]
fn s3_five_mm_below_twenty_percent_is_not_pd() {
    let a = assess(&single_target_course(50.0, &[(56, 59.0)]));
    assert_eq!(at(&a, "V1").target_response, Some(T::Sd));
}

#[test]
fn e3_pd_threshold_tolerates_decimal_input() {
    // 17.1 + 13.4 = 30.5 → 21.4 + 15.2 = 36.6 is exactly +20 % and +6.1 mm.
    let a = assess(&[
        tgt("BL", 0, "T1", 17.1),
        tgt("BL", 0, "T2", 13.4),
        tgt("W8", 56, "T1", 21.4),
        tgt("W8", 56, "T2", 15.2),
    ]);
    let (naive_sum, naive_limit) = (std::hint::black_box(21.4) + 15.2, 1.2 * (17.1 + 13.4));
    assert!(naive_sum < naive_limit, "naive floating point misses it");
    assert_eq!(at(&a, "W8").target_response, Some(T::Pd));
}

#[test]
fn s3_sd_when_neither_pr_nor_pd() {
    let a = assess(&single_target_course(50.0, &[(56, 45.0)]));
    let v1 = at(&a, "V1");
    assert_eq!(v1.target_response, Some(T::Sd));
    assert_eq!(
        v1.explanation,
        "SD: sum 45.0 mm is -10.0% from baseline 50.0 mm and -5.0 mm (-10.0%) from the nadir 50.0 mm"
    );
}

#[test]
fn s3_nadir_includes_baseline() {
    let a = assess(&single_target_course(50.0, &[(56, 60.0)]));
    let v1 = at(&a, "V1");
    assert_eq!(v1.nadir_mm, Some(50.0));
    assert_eq!(v1.target_response, Some(T::Pd));
}

#[test]
fn s3_nadir_is_the_smallest_earlier_sum() {
    let a = assess(&single_target_course(
        100.0,
        &[(56, 80.0), (112, 60.0), (168, 70.0)],
    ));
    let nadirs: Vec<Option<f64>> = a.timepoints.iter().map(|tp| tp.nadir_mm).collect();
    assert_eq!(nadirs, vec![Some(100.0), Some(80.0), Some(60.0)]);
    assert!(close(
        at(&a, "V3").change_from_nadir_pct,
        70.0 / 60.0 * 100.0 - 100.0
    ));
}

#[test]
fn e4_incomplete_visit_sums_are_null_and_nadir_still_reported() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        tgt("BL", 0, "T2", 20.0),
        tgt("W8", 56, "T1", 10.0),
        tgt_status("W8", 56, "T2", NotEvaluable),
    ]);
    let w8 = at(&a, "W8");
    assert_eq!(w8.sum_mm, None);
    assert_eq!(w8.change_from_baseline_pct, None);
    assert_eq!(w8.change_from_nadir_pct, None);
    assert_eq!(w8.nadir_mm, Some(50.0));
    assert_eq!(w8.assessed_sum_mm, Some(10.0));
}

#[test]
fn e4_guideline_example_incomplete_visit_already_pd() {
    // Baseline 50 mm over 3 lesions; 2 assessed summing to 80 mm → PD.
    let a = assess(&[
        tgt("BL", 0, "T1", 20.0),
        tgt("BL", 0, "T2", 20.0),
        tgt("BL", 0, "T3", 10.0),
        tgt("W8", 56, "T1", 40.0),
        tgt("W8", 56, "T2", 40.0),
        tgt_status("W8", 56, "T3", NotEvaluable),
    ]);
    let w8 = at(&a, "W8");
    assert_eq!(w8.target_response, Some(T::Pd));
    assert_eq!(w8.overall_response, O::Pd);
    assert_eq!(w8.sum_mm, None);
    assert_eq!(
        w8.explanation,
        "PD: T3 not assessed, but the assessed sum 80.0 mm is already +60.0% and +30.0 mm over the nadir 50.0 mm"
    );
}

#[test]
fn e4_an_incomplete_visit_never_becomes_the_nadir() {
    let a = assess(&[
        tgt("BL", 0, "T1", 60.0),
        tgt("BL", 0, "T2", 40.0),
        tgt("W8", 56, "T1", 30.0),
        tgt_status("W8", 56, "T2", NotEvaluable),
        tgt("W16", 112, "T1", 25.0),
        tgt("W16", 112, "T2", 15.0),
    ]);
    assert_eq!(at(&a, "W16").nadir_mm, Some(100.0));
    assert_eq!(at(&a, "W16").target_response, Some(T::Pr));
}

#[test]
fn e5_cr_is_decided_before_pd_for_growing_normal_nodes() {
    // Node 20 → 2 (CR, nadir 2) → 8: +300 % and +6 mm over the nadir, still CR.
    let a = assess(&[
        node("BL", 0, "T1", 20.0),
        node("W8", 56, "T1", 2.0),
        node("W16", 112, "T1", 8.0),
    ]);
    assert_eq!(at(&a, "W16").nadir_mm, Some(2.0));
    assert_eq!(at(&a, "W16").target_response, Some(T::Cr));
}

#[test]
fn e5_reappearance_after_zero_nadir_is_pd_from_five_mm() {
    let base = [tgt("BL", 0, "T1", 20.0), tgt_status("W8", 56, "T1", Absent)];
    let with = |follow_up: LesionRecord| {
        let mut records = base.to_vec();
        records.push(follow_up);
        assess(&records)
    };
    let returned = with(tgt("W16", 112, "T1", 5.0));
    let w16 = at(&returned, "W16");
    assert_eq!(w16.target_response, Some(T::Pd));
    assert_eq!(w16.change_from_nadir_pct, None, "nadir 0 → no percentage");
    assert_eq!(
        w16.explanation,
        "PD: sum 5.0 mm is +5.0 mm over the nadir 0.0 mm"
    );
    let too_small = with(tgt_status("W16", 112, "T1", TooSmall));
    assert_eq!(at(&too_small, "W16").target_response, Some(T::Pd));
    let tiny = with(tgt("W16", 112, "T1", 3.0));
    assert_eq!(at(&tiny, "W16").target_response, Some(T::Pr));
}

#[test]
fn e5_time_point_responses_follow_the_definitions_when_a_pr_drifts() {
    let a = assess(&single_target_course(100.0, &[(56, 65.0), (112, 72.0)]));
    assert_eq!(overall(&a), vec![O::Pr, O::Sd]);
    assert_eq!(a.best_overall_response, O::Pr);
}

// -------------------------------------------------------- §4 / E13 non-targets

fn with_non_targets(statuses: &[(&str, Option<LesionStatus>)]) -> TimepointAssessment {
    let mut records = vec![tgt("BL", 0, "T1", 50.0), tgt("W8", 56, "T1", 45.0)];
    for (id, status) in statuses {
        records.push(non_target("BL", 0, id, Present));
        if let Some(status) = status {
            records.push(non_target("W8", 56, id, *status));
        }
    }
    at(&assess(&records), "W8").clone()
}

#[test]
fn e13_non_target_pd_on_unequivocal_progression_even_if_others_unevaluated() {
    let w8 = with_non_targets(&[
        ("NT1", Some(UnequivocalProgression)),
        ("NT2", Some(NotEvaluable)),
    ]);
    assert_eq!(w8.non_target_response, Some(NonTargetResponse::Pd));
    assert_eq!(w8.overall_response, O::Pd);
    assert_eq!(
        w8.explanation,
        "PD: unequivocal progression of non-target NT1"
    );
}

#[test]
fn e13_non_target_ne_when_one_is_not_evaluable_or_has_no_row() {
    let w8 = with_non_targets(&[("NT1", Some(Present)), ("NT2", Some(NotEvaluable))]);
    assert_eq!(w8.non_target_response, Some(NonTargetResponse::Ne));
    let w8 = with_non_targets(&[("NT1", Some(Absent)), ("NT2", None)]);
    assert_eq!(w8.non_target_response, Some(NonTargetResponse::Ne));
}

#[test]
fn e13_non_target_cr_when_all_absent() {
    let w8 = with_non_targets(&[("NT1", Some(Absent)), ("NT2", Some(Absent))]);
    assert_eq!(w8.non_target_response, Some(NonTargetResponse::Cr));
}

#[test]
fn e13_non_target_non_cr_non_pd_when_one_persists() {
    let w8 = with_non_targets(&[("NT1", Some(Absent)), ("NT2", Some(Present))]);
    assert_eq!(w8.non_target_response, Some(NonTargetResponse::NonCrNonPd));
}

#[test]
fn e13_no_non_targets_at_baseline_is_null() {
    let w8 = with_non_targets(&[]);
    assert_eq!(w8.non_target_response, None);
}

// -------------------------------------------------------- §5 / E6 new lesions

#[test]
fn e6_unequivocal_new_lesion_is_pd() {
    let a = assess(&[
        tgt("BL", 0, "T1", 50.0),
        tgt("W8", 56, "T1", 20.0),
        new_lesion("W8", 56, "N1", Present),
    ]);
    let w8 = at(&a, "W8");
    assert!(w8.new_lesions);
    assert_eq!(w8.target_response, Some(T::Pr));
    assert_eq!(w8.overall_response, O::Pd);
    assert_eq!(w8.explanation, "PD: new lesion N1");
}

#[test]
fn e6_equivocal_new_lesion_alone_is_not_pd() {
    let a = assess(&[
        tgt("BL", 0, "T1", 50.0),
        tgt("W8", 56, "T1", 45.0),
        new_lesion("W8", 56, "N1", Equivocal),
    ]);
    assert!(!at(&a, "W8").new_lesions);
    assert_eq!(at(&a, "W8").overall_response, O::Sd);
}

#[test]
fn e6_equivocal_new_lesion_confirmed_later_back_dates_pd() {
    let a = assess(&[
        tgt("BL", 0, "T1", 50.0),
        tgt("W8", 56, "T1", 45.0),
        new_lesion("W8", 56, "N1", Equivocal),
        tgt("W16", 112, "T1", 44.0),
        new_lesion("W16", 112, "N1", Equivocal),
        tgt("W24", 168, "T1", 44.0),
        new_lesion("W24", 168, "N1", Present),
    ]);
    assert_eq!(overall(&a), vec![O::Pd, O::Pd, O::Pd]);
    assert!(at(&a, "W8").new_lesions);
    assert_eq!(
        at(&a, "W8").explanation,
        "PD: new lesion N1 (equivocal here, confirmed at W24)"
    );
    // The first PD is W8, so BOR is PD and later visits do not count.
    assert_eq!(a.best_overall_response, O::Pd);
    assert_eq!(
        a.timepoints
            .iter()
            .map(|tp| tp.counts_for_best_response)
            .collect::<Vec<_>>(),
        vec![true, false, false]
    );
}

#[test]
fn e6_equivocal_after_the_lesion_was_present_does_not_count_by_itself() {
    let a = assess(&[
        tgt("BL", 0, "T1", 50.0),
        tgt("W8", 56, "T1", 45.0),
        new_lesion("W8", 56, "N1", Present),
        tgt("W16", 112, "T1", 44.0),
        new_lesion("W16", 112, "N1", Equivocal),
    ]);
    assert!(at(&a, "W8").new_lesions);
    assert!(!at(&a, "W16").new_lesions);
}

// ------------------------------------------------- §6 Table 1 and Table 2

#[test]
fn table1_every_row() {
    use NonTargetResponse as N;
    let cases = [
        (T::Cr, Some(N::Cr), false, O::Cr),
        (T::Cr, None, false, O::Cr),
        (T::Cr, Some(N::NonCrNonPd), false, O::Pr),
        (T::Cr, Some(N::Ne), false, O::Pr),
        (T::Pr, Some(N::NonCrNonPd), false, O::Pr),
        (T::Pr, Some(N::Ne), false, O::Pr),
        (T::Pr, None, false, O::Pr),
        (T::Pr, Some(N::Cr), false, O::Pr),
        (T::Sd, Some(N::NonCrNonPd), false, O::Sd),
        (T::Sd, Some(N::Ne), false, O::Sd),
        (T::Sd, None, false, O::Sd),
        (T::Ne, Some(N::NonCrNonPd), false, O::Ne),
        (T::Ne, Some(N::Ne), false, O::Ne),
        (T::Ne, None, false, O::Ne),
        (T::Pd, Some(N::Cr), false, O::Pd),
        (T::Pd, None, true, O::Pd),
        (T::Cr, Some(N::Pd), false, O::Pd),
        (T::Ne, Some(N::Pd), false, O::Pd),
        (T::Cr, Some(N::Cr), true, O::Pd),
        (T::Ne, None, true, O::Pd),
    ];
    for (target, non_target, new, expected) in cases {
        assert_eq!(
            overall_with_targets(target, non_target, new),
            expected,
            "{target:?} {non_target:?} {new}"
        );
    }
}

#[test]
fn table2_every_row() {
    use NonTargetResponse as N;
    assert_eq!(overall_without_targets(Some(N::Cr), false), O::Cr);
    assert_eq!(
        overall_without_targets(Some(N::NonCrNonPd), false),
        O::NonCrNonPd
    );
    assert_eq!(overall_without_targets(Some(N::Ne), false), O::Ne);
    assert_eq!(overall_without_targets(Some(N::Pd), false), O::Pd);
    assert_eq!(overall_without_targets(Some(N::NonCrNonPd), true), O::Pd);
    assert_eq!(overall_without_targets(Some(N::Cr), true), O::Pd);
}

#[test]
fn table1_target_cr_with_one_non_target_present_and_one_unevaluated_is_pr() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        non_target("BL", 0, "NT1", Present),
        non_target("BL", 0, "NT2", Present),
        tgt_status("W8", 56, "T1", Absent),
        non_target("W8", 56, "NT1", Present),
        non_target("W8", 56, "NT2", NotEvaluable),
    ]);
    assert_eq!(
        at(&a, "W8").non_target_response,
        Some(NonTargetResponse::Ne)
    );
    assert_eq!(at(&a, "W8").overall_response, O::Pr);
    assert_eq!(
        at(&a, "W8").explanation,
        "PR: targets in complete response but non-target NT1 still present and non-target NT2 not evaluated"
    );
}

#[test]
fn table1_target_cr_with_non_target_ne_is_pr_end_to_end() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        non_target("BL", 0, "NT1", Present),
        tgt_status("W8", 56, "T1", Absent),
        non_target("W8", 56, "NT1", NotEvaluable),
    ]);
    assert_eq!(at(&a, "W8").overall_response, O::Pr);
    assert_eq!(
        at(&a, "W8").explanation,
        "PR: targets in complete response but non-target NT1 not evaluated"
    );
}

#[test]
fn e12_non_target_only_patient_follows_table2() {
    let a = assess(&[
        non_target("BL", 0, "NT1", Present),
        non_target("BL", 0, "NT2", Present),
        non_target("W8", 56, "NT1", Present),
        non_target("W8", 56, "NT2", Absent),
        non_target("W16", 112, "NT1", Absent),
        non_target("W16", 112, "NT2", Absent),
        non_target("W24", 168, "NT1", NotEvaluable),
        non_target("W24", 168, "NT2", Absent),
    ]);
    assert_eq!(a.baseline_sum_mm, None);
    assert_eq!(overall(&a), vec![O::NonCrNonPd, O::Cr, O::Ne]);
    for tp in &a.timepoints {
        assert_eq!(tp.target_response, None);
        assert_eq!(tp.sum_mm, None);
        assert_eq!(tp.nadir_mm, None);
        assert_eq!(tp.change_from_baseline_pct, None);
        assert_eq!(tp.change_from_nadir_pct, None);
        assert_eq!(tp.volume_ml, None);
    }
    assert_eq!(
        at(&a, "W8").explanation,
        "NonCR/NonPD: non-target NT1 still present, no new lesions"
    );
    assert_eq!(a.best_overall_response, O::Cr);
}

#[test]
fn e12_non_target_only_best_response_is_non_cr_non_pd() {
    let a = assess(&[
        non_target("BL", 0, "NT1", Present),
        non_target("W8", 56, "NT1", Present),
    ]);
    assert_eq!(a.best_overall_response, O::NonCrNonPd);
    assert_eq!(a.best_change_from_baseline_pct, None);
}

#[test]
fn table2_new_lesion_in_non_target_only_patient_is_pd() {
    let a = assess(&[
        non_target("BL", 0, "NT1", Present),
        non_target("W8", 56, "NT1", Present),
        new_lesion("W8", 56, "N1", Present),
    ]);
    assert_eq!(overall(&a), vec![O::Pd]);
}

// ------------------------------------------------------- §7 / E10 BOR, no confirmation

#[test]
fn e10_best_of_cr_pr_sd_pd_ne() {
    let a = assess(&course(&[
        (56, O::Sd),
        (112, O::Pr),
        (168, O::Cr),
        (224, O::Pr),
    ]));
    assert_eq!(a.best_overall_response, O::Cr);
    let a = assess(&course(&[(56, O::Sd), (112, O::Pr), (168, O::Sd)]));
    assert_eq!(a.best_overall_response, O::Pr);
    assert_eq!(a.best_overall_response_explanation, "PR: first PR at V2");
}

#[test]
fn e10_sd_counts_from_min_sd_days_inclusive() {
    let a = assess(&course(&[(42, O::Sd)]));
    assert_eq!(a.best_overall_response, O::Sd);
    let a = assess(&course(&[(41, O::Sd)]));
    assert_eq!(a.best_overall_response, O::Ne);
}

#[test]
fn e10_min_sd_days_option() {
    let records = course(&[(56, O::Sd)]);
    assert_eq!(
        assess_opts(&records, false, 56).best_overall_response,
        O::Sd
    );
    assert_eq!(
        assess_opts(&records, false, 57).best_overall_response,
        O::Ne
    );
}

#[test]
fn s7_early_sd_then_pd_is_pd() {
    let a = assess(&course(&[(28, O::Sd), (84, O::Pd)]));
    assert_eq!(a.best_overall_response, O::Pd);
    assert_eq!(
        a.best_overall_response_explanation,
        "PD: PD at V2; SD at V1 (day 28) is before the minimum 42 days"
    );
}

#[test]
fn s7_early_sd_then_lost_is_ne() {
    let a = assess(&course(&[(28, O::Sd), (84, O::Ne)]));
    assert_eq!(a.best_overall_response, O::Ne);
}

#[test]
fn e10_no_follow_up_gives_no_time_points_and_ne() {
    let a = assess(&[tgt("BL", 0, "T1", 50.0)]);
    assert!(a.timepoints.is_empty());
    assert_eq!(a.best_overall_response, O::Ne);
    assert_eq!(a.best_change_from_baseline_pct, None);
}

#[test]
fn e11_best_change_is_the_smallest_up_to_the_first_pd() {
    let a = assess(&single_target_course(
        100.0,
        &[(56, 80.0), (112, 70.0), (168, 90.0), (224, 40.0)],
    ));
    // 70 → 90 is +28.6 % and +20 mm over the nadir: PD at day 168.
    assert_eq!(overall(&a), vec![O::Sd, O::Pr, O::Pd, O::Pr]);
    assert!(close(a.best_change_from_baseline_pct, -30.0));
    assert_eq!(a.best_overall_response, O::Pr);
}

#[test]
fn e11_best_change_is_null_without_any_complete_sum() {
    let a = assess(&[
        tgt("BL", 0, "T1", 50.0),
        tgt_status("W8", 56, "T1", NotEvaluable),
    ]);
    assert_eq!(a.best_change_from_baseline_pct, None);
}

// ---------------------------------------------------- §7 / E9 BOR with confirmation

fn confirmed(responses: &[(i32, OverallResponse)]) -> OverallResponse {
    assess_opts(&course(responses), true, 42).best_overall_response
}

#[test]
fn e9_cr_then_cr_28_days_later_is_cr() {
    assert_eq!(confirmed(&[(56, O::Cr), (84, O::Cr)]), O::Cr);
}

#[test]
fn e9_cr_then_cr_27_days_later_is_not_confirmed() {
    assert_eq!(confirmed(&[(56, O::Cr), (83, O::Cr)]), O::Sd);
}

#[test]
fn e9_cr_ne_cr_is_cr() {
    assert_eq!(confirmed(&[(56, O::Cr), (70, O::Ne), (112, O::Cr)]), O::Cr);
}

#[test]
fn e9_cr_then_pr_is_pr() {
    assert_eq!(confirmed(&[(56, O::Cr), (112, O::Pr)]), O::Pr);
}

#[test]
fn e9_pr_then_cr_is_pr() {
    assert_eq!(confirmed(&[(56, O::Pr), (112, O::Cr)]), O::Pr);
}

#[test]
fn e9_pr_then_pr_is_pr() {
    let a = assess_opts(&course(&[(56, O::Pr), (112, O::Pr)]), true, 42);
    assert_eq!(a.best_overall_response, O::Pr);
    assert_eq!(
        a.best_overall_response_explanation,
        "PR: PR at V1 confirmed by PR at V2, 56 days later"
    );
}

#[test]
fn e9_ne_neither_confirms_nor_breaks() {
    assert_eq!(confirmed(&[(56, O::Pr), (84, O::Ne), (112, O::Pr)]), O::Pr);
    assert_eq!(confirmed(&[(56, O::Pr), (112, O::Ne)]), O::Sd);
}

#[test]
fn e9_sd_between_breaks_the_confirmation() {
    assert_eq!(confirmed(&[(56, O::Pr), (84, O::Sd), (112, O::Pr)]), O::Sd);
}

#[test]
fn table3_cr_then_sd_is_sd_if_duration_met() {
    assert_eq!(confirmed(&[(56, O::Cr), (112, O::Sd)]), O::Sd);
}

#[test]
fn table3_cr_or_pr_then_pd_is_sd_if_duration_met_else_pd() {
    assert_eq!(confirmed(&[(56, O::Cr), (112, O::Pd)]), O::Sd);
    assert_eq!(confirmed(&[(56, O::Pr), (112, O::Pd)]), O::Sd);
    assert_eq!(confirmed(&[(28, O::Pr), (56, O::Pd)]), O::Pd);
}

#[test]
fn table3_cr_or_pr_then_ne_is_sd_if_duration_met_else_ne() {
    assert_eq!(confirmed(&[(56, O::Cr), (112, O::Ne)]), O::Sd);
    assert_eq!(confirmed(&[(28, O::Pr), (112, O::Ne)]), O::Ne);
}

#[test]
fn table3_pr_then_sd_is_sd() {
    assert_eq!(confirmed(&[(56, O::Pr), (112, O::Sd)]), O::Sd);
}

#[test]
fn table3_ne_then_ne_is_ne() {
    assert_eq!(confirmed(&[(56, O::Ne), (112, O::Ne)]), O::Ne);
}

#[test]
fn e9_confirmation_window_stops_at_the_first_pd() {
    assert_eq!(confirmed(&[(56, O::Pr), (112, O::Pd), (168, O::Pr)]), O::Sd);
}

#[test]
fn e9_unconfirmed_cr_in_non_target_only_patient_is_non_cr_non_pd() {
    let records = [
        non_target("BL", 0, "NT1", Present),
        non_target("W8", 56, "NT1", Absent),
    ];
    let a = assess_opts(&records, true, 42);
    assert_eq!(a.best_overall_response, O::NonCrNonPd);
    assert_eq!(assess(&records).best_overall_response, O::Cr);
}

// ------------------------------------------------------------------ E1 visits

#[test]
fn e1_baseline_is_the_earliest_date_and_follow_ups_are_in_date_order() {
    let a = assess(&[
        tgt("W16", 112, "T1", 30.0),
        tgt("baseline", 10, "T1", 50.0),
        tgt("A-screening", 0, "T1", 60.0),
        tgt("W8", 56, "T1", 40.0),
    ]);
    assert_eq!(a.baseline_visit.as_deref(), Some("A-screening"));
    assert_eq!(a.baseline_sum_mm, Some(60.0));
    let visits: Vec<&str> = a.timepoints.iter().map(|tp| tp.visit.as_str()).collect();
    assert_eq!(visits, vec!["baseline", "W8", "W16"]);
    assert_eq!(at(&a, "W16").days_from_baseline, 112);
}

#[test]
fn e1_visit_date_is_the_earliest_of_its_rows() {
    let records = [
        tgt("BL", 0, "T1", 50.0),
        tgt("BL", 0, "T2", 50.0),
        tgt("W8", 58, "T1", 40.0),
        tgt("W8", 56, "T2", 40.0),
    ];
    let a = assess(&records);
    assert_eq!(at(&a, "W8").date, date(56));
    assert!(warnings(&records).contains(&WarningKind::VisitDatesDiffer {
        earliest: date(56),
        latest: date(58)
    }));
}

#[test]
fn e1_follow_up_row_outside_the_baseline_set_is_ignored_with_a_warning() {
    let records = [
        tgt("BL", 0, "T1", 50.0),
        non_target("BL", 0, "NT1", Present),
        tgt("W8", 56, "T1", 40.0),
        tgt("W8", 56, "T9", 400.0),
        non_target("W8", 56, "NT1", Present),
        non_target("W8", 56, "NT9", UnequivocalProgression),
    ];
    let a = assess(&records);
    let w8 = at(&a, "W8");
    assert_eq!(w8.sum_mm, Some(40.0));
    assert_eq!(w8.overall_response, O::Sd);
    let kinds = warnings(&records);
    assert!(kinds.contains(&WarningKind::NotInBaselineSet {
        category: Category::Target
    }));
    assert!(kinds.contains(&WarningKind::NotInBaselineSet {
        category: Category::NonTarget
    }));
}

#[test]
fn e1_new_row_at_baseline_is_ignored_with_a_warning() {
    let records = [
        tgt("BL", 0, "T1", 50.0),
        new_lesion("BL", 0, "N1", Present),
        tgt("W8", 56, "T1", 45.0),
    ];
    assert_eq!(assess(&records).timepoints.len(), 1);
    assert!(warnings(&records).contains(&WarningKind::NewLesionAtBaseline));
}

#[test]
fn e1_visits_on_one_date_are_ordered_by_label_with_a_warning() {
    let records = [
        tgt("BL", 0, "T1", 50.0),
        tgt("W8b", 56, "T1", 40.0),
        tgt("W8a", 56, "T1", 45.0),
    ];
    let a = assess(&records);
    let visits: Vec<&str> = a.timepoints.iter().map(|tp| tp.visit.as_str()).collect();
    assert_eq!(visits, vec!["W8a", "W8b"]);
    assert!(warnings(&records).contains(&WarningKind::VisitsShareDate {
        other_visit: "W8a".into(),
        date: date(56)
    }));
}

#[test]
fn e7_split_and_coalesced_lesions_are_only_summed() {
    // Coalescence: the mass LD on T1, T2 recorded absent.
    let a = assess(&[
        tgt("BL", 0, "T1", 20.0),
        tgt("BL", 0, "T2", 20.0),
        tgt("W8", 56, "T1", 35.0),
        tgt_status("W8", 56, "T2", Absent),
    ]);
    assert_eq!(at(&a, "W8").sum_mm, Some(35.0));
    assert_eq!(at(&a, "W8").target_response, Some(T::Sd));
}

// ------------------------------------------------------------------ E8 / E14

#[test]
fn e8_percentages_are_null_for_a_zero_reference() {
    let a = assess(&single_target_course(0.0, &[(56, 0.0)]));
    let v1 = at(&a, "V1");
    assert_eq!(v1.change_from_baseline_pct, None);
    assert_eq!(v1.change_from_nadir_pct, None);
}

#[test]
fn e14_volume_is_the_sum_when_every_target_has_one() {
    let with_volume = |mut r: LesionRecord, volume_ml: Option<f64>| {
        r.volume_ml = volume_ml;
        r
    };
    let a = assess(&[
        with_volume(tgt("BL", 0, "T1", 50.0), Some(20.0)),
        with_volume(tgt("BL", 0, "T2", 30.0), Some(5.0)),
        with_volume(tgt("W8", 56, "T1", 40.0), Some(8.0)),
        with_volume(tgt_status("W8", 56, "T2", Absent), Some(0.0)),
        with_volume(tgt("W16", 112, "T1", 40.0), Some(8.0)),
        with_volume(tgt("W16", 112, "T2", 20.0), None),
    ]);
    assert_eq!(a.baseline_volume_ml, Some(25.0));
    assert_eq!(at(&a, "W8").volume_ml, Some(8.0));
    assert!(close(at(&a, "W8").volume_change_from_baseline_pct, -68.0));
    assert_eq!(at(&a, "W16").volume_ml, None);
    assert_eq!(at(&a, "W16").volume_change_from_baseline_pct, None);
}

#[test]
fn e14_t2_ratio_is_the_mean_over_targets_with_both_intensities() {
    let with_t2 = |mut r: LesionRecord, si: Option<f64>, reference: Option<f64>| {
        r.t2_si = si;
        r.t2_ref_si = reference;
        r
    };
    let a = assess(&[
        with_t2(tgt("BL", 0, "T1", 50.0), Some(400.0), Some(100.0)),
        with_t2(tgt("BL", 0, "T2", 30.0), Some(200.0), Some(100.0)),
        with_t2(tgt("W8", 56, "T1", 40.0), Some(300.0), Some(100.0)),
        with_t2(tgt("W8", 56, "T2", 30.0), Some(200.0), None),
        with_t2(tgt("W16", 112, "T1", 40.0), None, Some(100.0)),
        with_t2(tgt("W16", 112, "T2", 30.0), Some(100.0), Some(0.0)),
    ]);
    assert_eq!(a.baseline_t2_ratio, Some(3.0));
    assert_eq!(at(&a, "W8").t2_ratio, Some(3.0));
    assert!(close(at(&a, "W8").t2_ratio_change_from_baseline_pct, 0.0));
    assert_eq!(at(&a, "W16").t2_ratio, None);
    assert_eq!(at(&a, "W16").t2_ratio_change_from_baseline_pct, None);
}

#[test]
fn e14_volume_and_t2_never_change_a_category() {
    let mut records = single_target_course(50.0, &[(56, 45.0)]);
    for (r, volume) in records.iter_mut().zip([10.0, 100.0]) {
        r.volume_ml = Some(volume);
    }
    assert_eq!(assess(&records).timepoints[0].overall_response, O::Sd);
}

// ---------------------------------------------------------- §1 baseline warnings

#[test]
fn s1_baseline_conformance_warnings_and_computation_goes_on() {
    let mut records = vec![
        tgt("BL", 0, "T1", 8.0),
        node("BL", 0, "T2", 12.0),
        tgt("W8", 56, "T1", 8.0),
        node("W8", 56, "T2", 12.0),
    ];
    for (i, organ) in ["left lung", "Right Lung", "lungs", "liver"]
        .iter()
        .enumerate()
    {
        let mut r = tgt("BL", 0, &format!("T{}", i + 3), 20.0);
        r.organ = (*organ).into();
        records.push(r.clone());
        r.visit = "W8".into();
        r.date = date(56);
        records.push(r);
    }
    let kinds = warnings(&records);
    assert!(kinds.contains(&WarningKind::NonNodalTargetBelow10Mm { long_axis_mm: 8.0 }));
    assert!(kinds.contains(&WarningKind::NodalTargetBelow15Mm {
        short_axis_mm: 12.0
    }));
    assert!(kinds.contains(&WarningKind::MoreThanFiveTargets { count: 6 }));
    assert!(kinds.contains(&WarningKind::MoreThanTwoTargetsInOrgan {
        organ: "lung".into(),
        count: 3
    }));
    let a = assess(&records);
    assert_eq!(a.baseline_sum_mm, Some(100.0));
    assert_eq!(at(&a, "W8").overall_response, O::Sd);
}

#[test]
fn s1_baseline_target_not_measured_warns_and_leaves_targets_ne() {
    let records = [
        tgt("BL", 0, "T1", 30.0),
        tgt_status("BL", 0, "T2", NotEvaluable),
        tgt("W8", 56, "T1", 20.0),
        tgt("W8", 56, "T2", 20.0),
    ];
    let a = assess(&records);
    assert_eq!(a.baseline_sum_mm, None);
    assert_eq!(at(&a, "W8").overall_response, O::Ne);
    assert_eq!(
        at(&a, "W8").explanation,
        "NE: no baseline sum (T2 not measured at baseline)"
    );
    assert!(
        warnings(&records).contains(&WarningKind::BaselineTargetNotMeasured {
            status: NotEvaluable
        })
    );
}

// ------------------------------------------------------------- robustness (no panic)

#[test]
fn invalid_numbers_and_statuses_do_not_panic_and_give_ne() {
    let mut nan = tgt("W8", 56, "T1", f64::NAN);
    nan.volume_ml = Some(f64::INFINITY);
    let records = [
        tgt("BL", 0, "T1", 30.0),
        non_target("BL", 0, "NT1", Present),
        nan,
        non_target("W8", 56, "NT1", Measured),
        tgt_status("W16", 112, "T1", Present),
        new_lesion("W16", 112, "N1", Absent),
    ];
    let (a, w) = assess_patient(&records, &AssessOptions::default());
    assert_eq!(overall(&a), vec![O::Ne, O::Ne]);
    assert!(!w.is_empty());
    for tp in &a.timepoints {
        for value in [tp.sum_mm, tp.volume_ml, tp.change_from_baseline_pct] {
            assert!(value.is_none_or(f64::is_finite));
        }
    }
}

#[test]
fn no_baseline_disease_is_ne_unless_new_lesions() {
    let records = [
        new_lesion("BL", 0, "N0", Present),
        new_lesion("W8", 56, "N1", Equivocal),
        new_lesion("W16", 112, "N2", Present),
    ];
    let a = assess(&records);
    assert_eq!(overall(&a), vec![O::Ne, O::Pd]);
    assert_eq!(
        at(&a, "W8").explanation,
        "NE: no target or non-target lesions at baseline"
    );
    assert!(warnings(&records).contains(&WarningKind::NoBaselineDisease));
}

#[test]
fn empty_input_is_ne_without_time_points() {
    let (a, w) = assess_patient(&[], &AssessOptions::default());
    assert!(a.timepoints.is_empty());
    assert_eq!(a.best_overall_response, O::Ne);
    assert!(w.is_empty());
}

#[test]
fn assess_all_orders_patients_by_id_and_assess_patient_ignores_others() {
    let mut records = single_target_course(50.0, &[(56, 45.0)]);
    let mut other = records.clone();
    for r in &mut other {
        r.patient_id = "P0".into();
    }
    records.extend(other);
    let (all, _) = assess_all(&records, &AssessOptions::default());
    let ids: Vec<&str> = all.iter().map(|a| a.patient_id.as_str()).collect();
    assert_eq!(ids, vec!["P0", "P1"]);
    let (one, warnings) = assess_patient(&records, &AssessOptions::default());
    assert_eq!(one.patient_id, "P1");
    assert_eq!(warnings.len(), 2);
}

#[test]
fn target_response_function_order_is_ne_cr_pd_pr_sd() {
    assert_eq!(
        target_response(&[(false, None)], Some(10.0), Some(10.0)),
        T::Ne
    );
    assert_eq!(
        target_response(&[(true, Some(9.0))], Some(20.0), Some(3.0)),
        T::Cr
    );
    assert_eq!(
        target_response(&[(false, Some(6.0))], Some(20.0), Some(0.0)),
        T::Pd
    );
    assert_eq!(
        target_response(&[(false, Some(14.0))], Some(20.0), Some(14.0)),
        T::Pr
    );
    assert_eq!(
        target_response(&[(false, Some(15.0))], Some(20.0), Some(14.0)),
        T::Sd
    );
}

// ------------------------------------------------- bugs other implementations ship

#[test]
fn bug_pd_without_the_five_mm_rule() {
    // Nadir 10 → 14: +40 % but only +4 mm. Not PD.
    let a = assess(&single_target_course(10.0, &[(56, 14.0)]));
    assert_eq!(at(&a, "V1").target_response, Some(T::Sd));
}

#[test]
fn bug_pr_judged_against_nadir() {
    // 100 → 60 (PR) → 45: −25 % from the nadir but −55 % from baseline: PR.
    let a = assess(&single_target_course(100.0, &[(56, 60.0), (112, 45.0)]));
    assert_eq!(at(&a, "V2").target_response, Some(T::Pr));
    assert_eq!(
        at(&a, "V2").explanation,
        "PR: sum 45.0 mm is -55.0% from baseline 100.0 mm"
    );
}

#[test]
fn bug_pr_checked_before_pd() {
    // 100 → 50 (PR) → 61: −39 % from baseline, but +22 % and +11 mm over the nadir: PD.
    let a = assess(&single_target_course(100.0, &[(56, 50.0), (112, 61.0)]));
    assert_eq!(at(&a, "V2").target_response, Some(T::Pd));
}

#[test]
fn bug_cr_requiring_a_zero_sum() {
    let a = assess(&[node("BL", 0, "T1", 25.0), node("W8", 56, "T1", 7.0)]);
    assert_eq!(at(&a, "W8").target_response, Some(T::Cr));
    assert_eq!(at(&a, "W8").overall_response, O::Cr);
    assert_eq!(
        at(&a, "W8").explanation,
        "CR: all targets resolved (nodes < 10 mm short axis, sum 7.0 mm), no non-target lesions, no new lesions"
    );
}

#[test]
fn bug_target_cr_with_non_target_non_cr_non_pd_giving_sd_instead_of_pr() {
    let a = assess(&[
        tgt("BL", 0, "T1", 30.0),
        non_target("BL", 0, "NT1", Present),
        tgt_status("W8", 56, "T1", Absent),
        non_target("W8", 56, "NT1", Present),
    ]);
    assert_eq!(at(&a, "W8").overall_response, O::Pr);
    assert_eq!(
        at(&a, "W8").explanation,
        "PR: targets in complete response but non-target NT1 still present"
    );
    assert_eq!(a.best_overall_response, O::Pr);
}

#[test]
fn bug_confirmation_that_demands_the_identical_category() {
    assert_eq!(confirmed(&[(56, O::Cr), (112, O::Pr)]), O::Pr);
    assert_eq!(confirmed(&[(56, O::Pr), (112, O::Cr)]), O::Pr);
}

#[test]
fn bug_bor_counting_visits_after_pd() {
    // 100 → 130 (PD) → 60 (PR after the PD) → 50: BOR PD, best change +30 %.
    let a = assess(&single_target_course(
        100.0,
        &[(56, 130.0), (112, 60.0), (168, 50.0)],
    ));
    assert_eq!(overall(&a), vec![O::Pd, O::Pr, O::Pr]);
    assert_eq!(a.best_overall_response, O::Pd);
    assert!(close(a.best_change_from_baseline_pct, 30.0));
    assert_eq!(
        a.best_overall_response_explanation,
        "PD: PD at V1 (visits after the first PD at V1 do not count)"
    );
}

#[test]
fn bug_nadir_lagging_or_defaulting_to_baseline() {
    // 100 → 80 → 96: +20 % and +16 mm over the nadir 80 (the previous visit).
    let a = assess(&single_target_course(100.0, &[(56, 80.0), (112, 96.0)]));
    assert_eq!(at(&a, "V2").nadir_mm, Some(80.0));
    assert_eq!(at(&a, "V2").target_response, Some(T::Pd));
    assert_eq!(
        at(&a, "V2").explanation,
        "PD: sum 96.0 mm is +20.0% and +16.0 mm over the nadir 80.0 mm"
    );
}
