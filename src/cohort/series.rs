//! Plot data series, independent of any drawing library: waterfall bars,
//! swimmer lanes, spider lines, Kaplan–Meier step coordinates and numbers at
//! risk. The GUI draws them with egui_plot, `plots_render` with plotters.

use super::km::KaplanMeier;
use super::summary::waterfall_order;
use super::{BestResponse, PatientOutcome};
use std::collections::HashMap;

/// RECIST partial-response threshold line of the waterfall/spider plots (%).
pub const RESPONSE_THRESHOLD_PCT: f64 = -30.0;
/// RECIST progression threshold line of the waterfall/spider plots (%).
pub const PROGRESSION_THRESHOLD_PCT: f64 = 20.0;

/// One waterfall bar.
#[derive(Debug, Clone, PartialEq)]
pub struct WaterfallBar {
    /// Patient id.
    pub patient_id: String,
    /// Arm label.
    pub arm: String,
    /// Best response (bar colour).
    pub best_response: BestResponse,
    /// Best % change from baseline (bar height).
    pub change_pct: f64,
}

/// Waterfall bars of the given patients in waterfall order (descending change,
/// ties by id; patients without a value left out).
pub fn waterfall_bars<'a>(
    patients: impl IntoIterator<Item = &'a PatientOutcome>,
) -> Vec<WaterfallBar> {
    waterfall_order(patients)
        .into_iter()
        .filter_map(|patient| {
            Some(WaterfallBar {
                patient_id: patient.patient_id.clone(),
                arm: patient.arm.clone(),
                best_response: patient.best_response,
                change_pct: patient.best_change_pct?,
            })
        })
        .collect()
}

/// Waterfall bars per arm (arms in order of first appearance).
pub fn waterfall_bars_by_arm(outcomes: &[PatientOutcome]) -> Vec<(String, Vec<WaterfallBar>)> {
    arms_in_order(outcomes)
        .into_iter()
        .map(|arm| {
            let bars = waterfall_bars(outcomes.iter().filter(|p| p.arm == arm));
            (arm.to_string(), bars)
        })
        .collect()
}

/// One swimmer lane (one patient).
#[derive(Debug, Clone, PartialEq)]
pub struct SwimmerLane {
    /// Patient id.
    pub patient_id: String,
    /// Arm label.
    pub arm: String,
    /// Best response (lane colour).
    pub best_response: BestResponse,
    /// End of the lane: PFS event or censoring time, months.
    pub end_months: f64,
    /// Onset of the first objective response (responders only), months.
    pub response_onset_months: Option<f64>,
    /// Progression or death, months; `None` when censored.
    pub progression_months: Option<f64>,
    /// Censored without event: follow-up ongoing (arrow).
    pub ongoing: bool,
}

/// Swimmer lanes: arms in order of first appearance, within an arm the longest
/// lane first, ties by id.
pub fn swimmer_lanes(outcomes: &[PatientOutcome]) -> Vec<SwimmerLane> {
    let arm_rank = arm_ranks(outcomes);
    let mut lanes: Vec<SwimmerLane> = outcomes
        .iter()
        .map(|patient| SwimmerLane {
            patient_id: patient.patient_id.clone(),
            arm: patient.arm.clone(),
            best_response: patient.best_response,
            end_months: patient.pfs_months,
            response_onset_months: patient
                .ttr_months
                .filter(|_| patient.best_response.is_objective_response()),
            progression_months: patient.progressed.then_some(patient.pfs_months),
            ongoing: !patient.progressed,
        })
        .collect();
    lanes.sort_by(|a, b| {
        let rank_a = arm_rank.get(a.arm.as_str()).copied().unwrap_or(usize::MAX);
        let rank_b = arm_rank.get(b.arm.as_str()).copied().unwrap_or(usize::MAX);
        rank_a
            .cmp(&rank_b)
            .then_with(|| b.end_months.total_cmp(&a.end_months))
            .then_with(|| a.patient_id.cmp(&b.patient_id))
    });
    lanes
}

/// One point of a spider line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpiderPoint {
    /// Time from start, months.
    pub months: f64,
    /// % change of the target sum from baseline.
    pub change_pct: f64,
}

/// One patient's % change over time (input path b only).
#[derive(Debug, Clone, PartialEq)]
pub struct SpiderSeries {
    /// Patient id.
    pub patient_id: String,
    /// Arm label.
    pub arm: String,
    /// Best response (line colour).
    pub best_response: BestResponse,
    /// Points (baseline (0, 0) included by the caller).
    pub points: Vec<SpiderPoint>,
}

/// Normalises spider series: non-finite points dropped, points in time order,
/// series without points dropped, series sorted by arm (first appearance) then id.
pub fn spider_lines(series: &[SpiderSeries]) -> Vec<SpiderSeries> {
    let mut arm_rank: HashMap<&str, usize> = HashMap::new();
    for line in series {
        let next = arm_rank.len();
        arm_rank.entry(line.arm.as_str()).or_insert(next);
    }
    let mut lines: Vec<SpiderSeries> = series
        .iter()
        .map(|line| {
            let mut points: Vec<SpiderPoint> = line
                .points
                .iter()
                .copied()
                .filter(|p| p.months.is_finite() && p.change_pct.is_finite())
                .collect();
            points.sort_by(|a, b| a.months.total_cmp(&b.months));
            SpiderSeries {
                points,
                ..line.clone()
            }
        })
        .filter(|line| !line.points.is_empty())
        .collect();
    lines.sort_by(|a, b| {
        let rank_a = arm_rank.get(a.arm.as_str()).copied().unwrap_or(usize::MAX);
        let rank_b = arm_rank.get(b.arm.as_str()).copied().unwrap_or(usize::MAX);
        rank_a
            .cmp(&rank_b)
            .then_with(|| a.patient_id.cmp(&b.patient_id))
    });
    lines
}

/// Step-function coordinates of a Kaplan–Meier curve, ready for a line plot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KmSteps {
    /// S(t) as a staircase from (0, 1) to the last observed time.
    pub surv: Vec<[f64; 2]>,
    /// Lower CI band as a staircase; ends where the band becomes undefined.
    pub ci_lower: Vec<[f64; 2]>,
    /// Upper CI band as a staircase; ends where the band becomes undefined.
    pub ci_upper: Vec<[f64; 2]>,
    /// Censoring marks (time, S) at times with censorings.
    pub censor_marks: Vec<[f64; 2]>,
}

/// Builds the staircase coordinates of a fitted curve.
pub fn km_steps(km: &KaplanMeier) -> KmSteps {
    let rows = km.rows();
    let Some(last_time) = km.last_time_months() else {
        return KmSteps::default();
    };
    let start = rows.first().map_or(0.0, |row| row.time_months.min(0.0));
    let surv = staircase(
        start,
        last_time,
        rows.iter().map(|r| (r.time_months, Some(r.surv))),
    );
    let ci_lower = staircase(
        start,
        last_time,
        rows.iter().map(|r| (r.time_months, r.ci_lower)),
    );
    let ci_upper = staircase(
        start,
        last_time,
        rows.iter().map(|r| (r.time_months, r.ci_upper)),
    );
    let censor_marks = rows
        .iter()
        .filter(|row| row.n_censor > 0)
        .map(|row| [row.time_months, row.surv])
        .collect();
    KmSteps {
        surv,
        ci_lower,
        ci_upper,
        censor_marks,
    }
}

/// Right-continuous staircase from (start, 1); stops at the first undefined value.
fn staircase(
    start: f64,
    last_time: f64,
    values: impl Iterator<Item = (f64, Option<f64>)>,
) -> Vec<[f64; 2]> {
    let mut points = vec![[start, 1.0]];
    let mut previous = 1.0;
    for (time, value) in values {
        match value {
            None => {
                points.push([time, previous]);
                return points;
            }
            Some(value) if value != previous => {
                points.push([time, previous]);
                points.push([time, value]);
                previous = value;
            }
            Some(_) => {}
        }
    }
    if points.last().is_some_and(|point| point[0] < last_time) {
        points.push([last_time, previous]);
    }
    points
}

/// A Kaplan–Meier 95% CI band on shared x coordinates (for a filled area):
/// `(months, lower, upper)` as a staircase from (start, 1, 1), ending where
/// either limit becomes undefined (S = 0) or at the last observed time.
pub fn km_ci_band(km: &KaplanMeier) -> Vec<[f64; 3]> {
    let rows = km.rows();
    let Some(last_time) = km.last_time_months() else {
        return Vec::new();
    };
    let start = rows.first().map_or(0.0, |row| row.time_months.min(0.0));
    let mut band = vec![[start, 1.0, 1.0]];
    let (mut lower, mut upper) = (1.0, 1.0);
    for row in rows {
        let (Some(next_lower), Some(next_upper)) = (row.ci_lower, row.ci_upper) else {
            band.push([row.time_months, lower, upper]);
            return band;
        };
        if next_lower != lower || next_upper != upper {
            band.push([row.time_months, lower, upper]);
            band.push([row.time_months, next_lower, next_upper]);
            lower = next_lower;
            upper = next_upper;
        }
    }
    if band.last().is_some_and(|point| point[0] < last_time) {
        band.push([last_time, lower, upper]);
    }
    band
}

/// Numbers at risk (time ≥ tick) at each tick.
pub fn numbers_at_risk(km: &KaplanMeier, ticks_months: &[f64]) -> Vec<usize> {
    ticks_months.iter().map(|&t| km.n_risk_at(t)).collect()
}

/// Evenly spaced time ticks from 0 covering `max_months`, with a step of
/// 1, 2, 3, 6, 12 or 24 months (or a multiple of 12) giving at most ~10 ticks.
pub fn time_ticks_months(max_months: f64) -> Vec<f64> {
    if !(max_months.is_finite() && max_months > 0.0) {
        return vec![0.0];
    }
    let step = [1.0, 2.0, 3.0, 6.0, 12.0, 24.0]
        .into_iter()
        .find(|step| max_months / step <= 10.0)
        .unwrap_or_else(|| 12.0 * (max_months / 120.0).ceil());
    let count = (max_months / step).ceil() as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

/// Okabe–Ito colour-blind-safe palette (sRGB), shared by the PNG/SVG
/// renderer and the GUI so both colour a response or an arm alike.
pub mod palette {
    /// Blue (CR; first arm).
    pub const BLUE: [u8; 3] = [0, 114, 178];
    /// Sky blue (PR; sixth arm).
    pub const SKY: [u8; 3] = [86, 180, 233];
    /// Orange (SD; fifth arm).
    pub const ORANGE: [u8; 3] = [230, 159, 0];
    /// Vermillion (PD; second arm).
    pub const VERMILLION: [u8; 3] = [213, 94, 0];
    /// Bluish green (third arm).
    pub const GREEN: [u8; 3] = [0, 158, 115];
    /// Reddish purple (NonCR/NonPD; fourth arm).
    pub const PURPLE: [u8; 3] = [204, 121, 167];
    /// Grey (NE, reference lines).
    pub const GREY: [u8; 3] = [150, 150, 150];
    /// Arm colours in order of first appearance (cycled).
    pub const ARMS: [[u8; 3]; 6] = [BLUE, VERMILLION, GREEN, PURPLE, ORANGE, SKY];
}

/// The colour of a best response (waterfall bars, swimmer lanes, spider lines).
pub fn response_rgb(response: BestResponse) -> [u8; 3] {
    match response {
        BestResponse::Cr => palette::BLUE,
        BestResponse::Pr => palette::SKY,
        BestResponse::Sd => palette::ORANGE,
        BestResponse::NonCrNonPd => palette::PURPLE,
        BestResponse::Pd => palette::VERMILLION,
        BestResponse::Ne => palette::GREY,
    }
}

/// The legend label of a best response (`Non-CR/Non-PD` spelled out).
pub fn response_label(response: BestResponse) -> &'static str {
    match response {
        BestResponse::NonCrNonPd => "Non-CR/Non-PD",
        other => other.code(),
    }
}

/// The colour of the arm at `index` (order of first appearance).
pub fn arm_rgb(index: usize) -> [u8; 3] {
    palette::ARMS
        .get(index % palette::ARMS.len())
        .copied()
        .unwrap_or(palette::BLUE)
}

fn arms_in_order(outcomes: &[PatientOutcome]) -> Vec<&str> {
    let mut arms: Vec<&str> = Vec::new();
    for outcome in outcomes {
        if !arms.contains(&outcome.arm.as_str()) {
            arms.push(outcome.arm.as_str());
        }
    }
    arms
}

fn arm_ranks(outcomes: &[PatientOutcome]) -> HashMap<&str, usize> {
    let mut ranks = HashMap::new();
    for outcome in outcomes {
        let next = ranks.len();
        ranks.entry(outcome.arm.as_str()).or_insert(next);
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::km::SurvivalTime;

    fn patient(
        id: &str,
        arm: &str,
        change: Option<f64>,
        pfs: f64,
        progressed: bool,
    ) -> PatientOutcome {
        PatientOutcome {
            patient_id: id.to_string(),
            arm: arm.to_string(),
            best_response: BestResponse::Pr,
            best_change_pct: change,
            pfs_months: pfs,
            progressed,
            ttr_months: Some(1.0),
        }
    }

    #[test]
    fn waterfall_bars_follow_waterfall_order_per_arm() {
        let outcomes = [
            patient("1", "B", Some(-10.0), 1.0, true),
            patient("2", "A", Some(-50.0), 1.0, true),
            patient("3", "A", Some(20.0), 1.0, true),
            patient("4", "A", None, 1.0, true),
        ];
        let by_arm = waterfall_bars_by_arm(&outcomes);
        assert_eq!(by_arm.len(), 2);
        assert_eq!(by_arm[0].0, "B");
        let a: Vec<f64> = by_arm[1].1.iter().map(|b| b.change_pct).collect();
        assert_eq!(a, vec![20.0, -50.0]);
    }

    #[test]
    fn swimmer_lanes_mark_progression_and_ongoing() {
        let outcomes = [
            patient("1", "A", None, 3.0, true),
            patient("2", "A", None, 8.0, false),
        ];
        let lanes = swimmer_lanes(&outcomes);
        assert_eq!(lanes[0].patient_id, "2");
        assert!(lanes[0].ongoing);
        assert_eq!(lanes[0].progression_months, None);
        assert_eq!(lanes[1].progression_months, Some(3.0));
        assert_eq!(lanes[1].response_onset_months, Some(1.0));
    }

    #[test]
    fn spider_lines_sorted_and_cleaned() {
        let series = [SpiderSeries {
            patient_id: "1".into(),
            arm: "A".into(),
            best_response: BestResponse::Sd,
            points: vec![
                SpiderPoint {
                    months: 2.0,
                    change_pct: -5.0,
                },
                SpiderPoint {
                    months: 0.0,
                    change_pct: 0.0,
                },
                SpiderPoint {
                    months: f64::NAN,
                    change_pct: 1.0,
                },
            ],
        }];
        let lines = spider_lines(&series);
        assert_eq!(lines[0].points.len(), 2);
        assert_eq!(lines[0].points[0].months, 0.0);
    }

    #[test]
    fn km_staircase_drops_at_event_times() {
        let km = KaplanMeier::fit(&[
            SurvivalTime {
                time_months: 1.0,
                event: true,
            },
            SurvivalTime {
                time_months: 2.0,
                event: false,
            },
            SurvivalTime {
                time_months: 3.0,
                event: true,
            },
        ]);
        let steps = km_steps(&km);
        let expected_surv = vec![
            [0.0, 1.0],
            [1.0, 1.0],
            [1.0, 2.0 / 3.0],
            [3.0, 2.0 / 3.0],
            [3.0, 0.0],
        ];
        assert_eq!(steps.surv, expected_surv);
        assert_eq!(steps.censor_marks, vec![[2.0, 2.0 / 3.0]]);
        // The bands stop (at the previous level) where S = 0 makes them undefined.
        let lower_at_1 = km.rows()[0].ci_lower.unwrap();
        assert_eq!(steps.ci_lower.last(), Some(&[3.0, lower_at_1]));
        assert_eq!(numbers_at_risk(&km, &[0.0, 1.5, 4.0]), vec![3, 2, 0]);
    }

    #[test]
    fn km_band_shares_x_and_stops_where_undefined() {
        let km = KaplanMeier::fit(&[
            SurvivalTime {
                time_months: 1.0,
                event: true,
            },
            SurvivalTime {
                time_months: 2.0,
                event: false,
            },
            SurvivalTime {
                time_months: 3.0,
                event: true,
            },
        ]);
        let band = km_ci_band(&km);
        let first = &km.rows()[0];
        assert_eq!(band[0], [0.0, 1.0, 1.0]);
        assert_eq!(band[1], [1.0, 1.0, 1.0]);
        assert_eq!(
            band[2],
            [1.0, first.ci_lower.unwrap(), first.ci_upper.unwrap()]
        );
        // S = 0 at 3 months: the band ends there at the previous limits.
        assert_eq!(
            band.last(),
            Some(&[3.0, first.ci_lower.unwrap(), first.ci_upper.unwrap()])
        );
        assert!(band.iter().all(|p| p[1] <= p[2]));
    }

    #[test]
    fn responses_and_arms_have_distinct_colours() {
        let colours: std::collections::HashSet<[u8; 3]> =
            BestResponse::ALL.into_iter().map(response_rgb).collect();
        assert_eq!(colours.len(), BestResponse::ALL.len());
        assert_ne!(arm_rgb(0), arm_rgb(1));
        assert_eq!(arm_rgb(0), arm_rgb(6));
        assert_eq!(response_label(BestResponse::NonCrNonPd), "Non-CR/Non-PD");
    }

    #[test]
    fn ticks_cover_the_range() {
        assert_eq!(
            time_ticks_months(7.0),
            vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
        );
        assert_eq!(
            time_ticks_months(25.0),
            vec![0.0, 3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 21.0, 24.0, 27.0]
        );
        assert_eq!(time_ticks_months(0.0), vec![0.0]);
        assert_eq!(time_ticks_months(500.0).last(), Some(&540.0));
    }
}
