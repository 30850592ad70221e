//! The Cohort view's headless state: a cohort imported from a per-patient
//! results CSV (interchange §4a), from a lesion table + patient table (§4b) or
//! built from this session's tracked lesions, with its report
//! ([`cohort_report`], the same numbers as `nadir cohort`) and the plot data
//! series of [`crate::cohort::series`], computed once per import so the UI
//! only draws.
//!
//! Reading a big lesion table can take longer than a frame, so files above
//! [`BACKGROUND_MIN_BYTES`] are read on a named background thread
//! ([`CohortJob`]); the UI polls it. An import either replaces the cohort
//! completely or leaves the previous one and sets an error naming file, line
//! and column: nothing is half-imported.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::cohort::series::{
    KmSteps, SpiderSeries, SwimmerLane, WaterfallBar, km_ci_band, km_steps, numbers_at_risk,
    spider_lines, swimmer_lanes, time_ticks_months, waterfall_bars_by_arm,
};
use crate::cohort::{CohortOptions, CohortReport, PatientOutcome, cohort_report};
use crate::interchange::cohort_lesions::{lesion_cohort, outcomes_from_lesions};
use crate::interchange::lesion_table::LesionTable;
use crate::interchange::patient_table::{
    PatientDatesRow, PatientDatesTable, read_patient_outcomes_file,
};
use crate::recist::AssessOptions;
use crate::tracking::{Patient, to_recist};

/// Input files of at least this many bytes (together) are read on a
/// background thread; smaller ones parse in well under a frame.
pub const BACKGROUND_MIN_BYTES: u64 = 256 * 1024;

/// The arm of a cohort built from this session's lesions.
pub const SESSION_ARM: &str = "all";

/// What the central area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Central {
    /// The reading workspace: browser, panes, lesions and response.
    #[default]
    Reading,
    /// The Cohort view: trial statistics and plots.
    Cohort,
}

impl Central {
    /// The tab label.
    pub fn label(self) -> &'static str {
        match self {
            Central::Reading => "Reading",
            Central::Cohort => "Cohort",
        }
    }
}

/// Where a cohort came from.
#[derive(Debug, Clone, PartialEq)]
pub enum CohortSource {
    /// A per-patient results CSV (interchange §4a).
    Results(PathBuf),
    /// A lesion table and a patient table (interchange §4b).
    Lesions {
        /// The lesion table (interchange §1).
        lesions: PathBuf,
        /// The patient table (`patient_id`, `arm`, `start_date`, …).
        patients: PathBuf,
    },
    /// This session's tracked lesions: one arm [`SESSION_ARM`], start date =
    /// baseline date, no death dates.
    Session,
}

impl CohortSource {
    /// A one-line description for the view's header.
    pub fn describe(&self) -> String {
        match self {
            CohortSource::Results(path) => format!("per-patient results {}", file_name(path)),
            CohortSource::Lesions { lesions, patients } => format!(
                "lesion table {} + patient table {}",
                file_name(lesions),
                file_name(patients)
            ),
            CohortSource::Session => "this session's tracked lesions".to_string(),
        }
    }

    fn total_bytes(&self) -> u64 {
        let size = |path: &Path| std::fs::metadata(path).map_or(0, |m| m.len());
        match self {
            CohortSource::Results(path) => size(path),
            CohortSource::Lesions { lesions, patients } => size(lesions) + size(patients),
            CohortSource::Session => 0,
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// Kaplan–Meier plot data of one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct KmCurve {
    /// Arm label.
    pub arm: String,
    /// Staircase of S(t), CI limits and censor marks.
    pub steps: KmSteps,
    /// CI band on shared x coordinates `(months, lower, upper)`.
    pub band: Vec<[f64; 3]>,
    /// Numbers at risk at [`CohortPlots::km_ticks_months`].
    pub at_risk: Vec<usize>,
}

/// The plot data series, computed once per import.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohortPlots {
    /// Waterfall bars per arm (arms in order of first appearance).
    pub waterfall: Vec<(String, Vec<WaterfallBar>)>,
    /// Swimmer lanes (arm by arm, longest first).
    pub swimmer: Vec<SwimmerLane>,
    /// Time ticks of the swimmer plot, months.
    pub swimmer_ticks_months: Vec<f64>,
    /// Spider lines; `None` without lesion data.
    pub spider: Option<Vec<SpiderSeries>>,
    /// Kaplan–Meier curves per arm.
    pub km: Vec<KmCurve>,
    /// Time ticks of the KM plot and its numbers-at-risk row, months.
    pub km_ticks_months: Vec<f64>,
}

/// An imported cohort with its report and plot data.
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    /// Where it came from.
    pub source: CohortSource,
    /// One record per patient.
    pub outcomes: Vec<PatientOutcome>,
    /// The statistics (same as `nadir cohort`).
    pub report: CohortReport,
    /// The plot data.
    pub plots: CohortPlots,
    /// Non-fatal remarks of the readers and the engine.
    pub warnings: Vec<String>,
}

impl Cohort {
    /// The cohort as a blinded reader sees it: every patient ID replaced by
    /// "Subject N" (N by sorted ID, stable for one cohort) in the outcomes,
    /// the plot series and the warnings. Statistics do not depend on IDs.
    pub fn blinded(&self) -> Cohort {
        let mut ids: Vec<String> = self.outcomes.iter().map(|o| o.patient_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let labels: std::collections::BTreeMap<String, String> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), format!("Subject {}", i + 1)))
            .collect();
        let label = |id: &str| {
            labels
                .get(id)
                .cloned()
                .unwrap_or_else(|| "Subject ?".to_string())
        };
        let mut out = self.clone();
        for o in &mut out.outcomes {
            o.patient_id = label(&o.patient_id);
        }
        for (_, bars) in &mut out.plots.waterfall {
            for bar in bars {
                bar.patient_id = label(&bar.patient_id);
            }
        }
        for lane in &mut out.plots.swimmer {
            lane.patient_id = label(&lane.patient_id);
        }
        for line in out.plots.spider.iter_mut().flatten() {
            line.patient_id = label(&line.patient_id);
        }
        // Longest IDs first, so "P1" never rewrites part of "P10".
        let mut by_length: Vec<(&String, &String)> = labels.iter().collect();
        by_length.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        for warning in &mut out.warnings {
            for (id, subject) in &by_length {
                if !id.is_empty() && warning.contains(id.as_str()) {
                    *warning = warning.replace(id.as_str(), subject);
                }
            }
        }
        out
    }

    /// Computes the report and the plot data of `outcomes` (default options:
    /// first arm = reference, landmarks 12 and 24 months).
    pub fn build(
        source: CohortSource,
        outcomes: Vec<PatientOutcome>,
        spider: Option<Vec<SpiderSeries>>,
        warnings: Vec<String>,
    ) -> Result<Cohort, String> {
        let report = cohort_report(&outcomes, &CohortOptions::default())
            .map_err(|e| format!("{}: {e}", source.describe()))?;
        let max_months = report
            .arms
            .iter()
            .filter_map(|arm| arm.pfs.km.last_time_months())
            .fold(0.0_f64, f64::max);
        let km_ticks_months = time_ticks_months(max_months);
        let km = report
            .arms
            .iter()
            .map(|arm| KmCurve {
                arm: arm.arm.clone(),
                steps: km_steps(&arm.pfs.km),
                band: km_ci_band(&arm.pfs.km),
                at_risk: numbers_at_risk(&arm.pfs.km, &km_ticks_months),
            })
            .collect();
        let swimmer = swimmer_lanes(&outcomes);
        let swimmer_ticks_months = time_ticks_months(
            swimmer
                .iter()
                .map(|lane| lane.end_months)
                .filter(|months| months.is_finite())
                .fold(0.0_f64, f64::max),
        );
        let plots = CohortPlots {
            waterfall: waterfall_bars_by_arm(&outcomes),
            swimmer,
            swimmer_ticks_months,
            spider: spider.map(|series| spider_lines(&series)),
            km,
            km_ticks_months,
        };
        Ok(Cohort {
            source,
            outcomes,
            report,
            plots,
            warnings,
        })
    }

    /// Reads a file source (results CSV or lesion + patient tables) and
    /// builds the cohort; `assess` applies to lesion tables. Errors name the
    /// file, line and column.
    pub fn load(source: CohortSource, assess: &AssessOptions) -> Result<Cohort, String> {
        match &source {
            CohortSource::Results(path) => {
                let table = read_patient_outcomes_file(path).map_err(|e| e.to_string())?;
                Cohort::build(source, table.outcomes, None, table.warnings)
            }
            CohortSource::Lesions { lesions, patients } => {
                let min_sd_days = u32::try_from(assess.min_sd_days.max(0)).unwrap_or(u32::MAX);
                let cohort = outcomes_from_lesions(lesions, patients, assess.confirm, min_sd_days)
                    .map_err(|e| format!("{e:#}"))?;
                Cohort::build(
                    source,
                    cohort.outcomes,
                    Some(cohort.spider),
                    cohort.warnings,
                )
            }
            CohortSource::Session => Err("a session cohort is built from the session".into()),
        }
    }

    /// Builds a cohort from the tracked lesions of `patients` (each with any
    /// lesion record): one arm [`SESSION_ARM`], start date = the patient's
    /// baseline date, PFS censored at the last adequate assessment unless PD
    /// (no death dates: a real trial needs a patient table).
    pub fn from_session(
        patients: &BTreeMap<String, Patient>,
        assess: &AssessOptions,
    ) -> Result<Cohort, String> {
        const NAME: &str = "this session";
        let mut table = LesionTable {
            records: Vec::new(),
            lines: Vec::new(),
            warnings: Vec::new(),
        };
        let mut dates = PatientDatesTable {
            patients: Vec::new(),
            warnings: Vec::new(),
        };
        for patient in patients.values() {
            let (records, _) = to_recist(patient);
            let Some(start_date) = records.iter().map(|r| r.date).min() else {
                continue;
            };
            dates.patients.push(PatientDatesRow {
                patient_id: patient.id.clone(),
                arm: SESSION_ARM.to_string(),
                start_date,
                death_date: None,
                last_contact_date: None,
                line: 0,
            });
            table.lines.extend(std::iter::repeat_n(0, records.len()));
            table.records.extend(records);
        }
        if dates.patients.is_empty() {
            return Err(
                "this session has no tracked lesions yet: measure lesions (or import a lesion \
                 table) in the reading workspace first"
                    .into(),
            );
        }
        let cohort =
            lesion_cohort(&table, NAME, &dates, NAME, assess).map_err(|e| format!("{e:#}"))?;
        Cohort::build(
            CohortSource::Session,
            cohort.outcomes,
            Some(cohort.spider),
            cohort.warnings,
        )
    }
}

/// A cohort being read on a named background thread.
#[derive(Debug)]
pub struct CohortJob {
    /// What is being read.
    pub source: CohortSource,
    result: Receiver<Result<Cohort, String>>,
}

impl CohortJob {
    /// Starts reading `source` in the background.
    pub fn start(source: CohortSource, assess: AssessOptions) -> std::io::Result<CohortJob> {
        let (tx, rx) = channel();
        let job_source = source.clone();
        std::thread::Builder::new()
            .name("nadir-cohort".into())
            .spawn(move || {
                let _ = tx.send(Cohort::load(job_source, &assess));
            })?;
        Ok(CohortJob { source, result: rx })
    }

    /// The result once it is there (never blocks).
    pub fn poll(&self) -> Option<Result<Cohort, String>> {
        match self.result.try_recv() {
            Ok(result) => Some(result),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err(format!(
                "{}: reading stopped unexpectedly",
                self.source.describe()
            ))),
        }
    }

    /// Blocks until the result is there (tests, shutdown).
    pub fn wait(&self) -> Result<Cohort, String> {
        self.result.recv().unwrap_or_else(|_| {
            Err(format!(
                "{}: reading stopped unexpectedly",
                self.source.describe()
            ))
        })
    }
}

/// The Cohort view's state.
#[derive(Debug, Default)]
pub struct CohortState {
    /// The cohort shown (kept when an import fails).
    pub cohort: Option<Cohort>,
    /// The last import's error, naming file, line and column.
    pub error: Option<String>,
    /// An import running in the background.
    pub job: Option<CohortJob>,
    /// `cohort` as a blinded reader sees it, made once per import (not per frame).
    blinded: Option<Cohort>,
}

impl CohortState {
    /// Starts an import of a file source: synchronously when small, else on
    /// a background thread.
    pub fn import(&mut self, source: CohortSource, assess: &AssessOptions) {
        self.job = None;
        if source.total_bytes() < BACKGROUND_MIN_BYTES {
            self.finish(Cohort::load(source, assess));
            return;
        }
        match CohortJob::start(source.clone(), *assess) {
            Ok(job) => self.job = Some(job),
            Err(e) => self.error = Some(format!("{}: {e}", source.describe())),
        }
    }

    /// Takes a finished result: replaces the cohort, or keeps it and records
    /// the error.
    pub fn finish(&mut self, result: Result<Cohort, String>) {
        match result {
            Ok(cohort) => {
                self.blinded = Some(cohort.blinded());
                self.cohort = Some(cohort);
                self.error = None;
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The cohort to show: with patient IDs replaced by "Subject N" when
    /// the reading is blinded.
    pub fn shown(&self, blinded: bool) -> Option<&Cohort> {
        if blinded {
            self.blinded.as_ref()
        } else {
            self.cohort.as_ref()
        }
    }

    /// Takes the background result if it has arrived; `true` while still busy.
    pub fn poll(&mut self) -> bool {
        let Some(job) = &self.job else {
            return false;
        };
        match job.poll() {
            Some(result) => {
                self.job = None;
                self.finish(result);
                false
            }
            None => true,
        }
    }

    /// Blocks until a background import has finished.
    pub fn wait(&mut self) {
        if let Some(job) = self.job.take() {
            self.finish(job.wait());
        }
    }
}

#[cfg(test)]
mod blinding_tests {
    use super::*;
    use crate::cohort::BestResponse;

    fn outcome(id: &str, best: BestResponse, change: f64) -> PatientOutcome {
        PatientOutcome {
            patient_id: id.into(),
            arm: "drug".into(),
            best_response: best,
            best_change_pct: Some(change),
            pfs_months: 6.0,
            progressed: best == BestResponse::Pd,
            ttr_months: None,
        }
    }

    #[test]
    fn a_blinded_cohort_names_no_patient_and_keeps_every_number() {
        let outcomes = vec![
            outcome("P1", BestResponse::Pd, 25.0),
            outcome("P10", BestResponse::Sd, -10.0),
            outcome("P2", BestResponse::Pr, -40.0),
        ];
        let cohort = Cohort::build(
            CohortSource::Session,
            outcomes,
            None,
            vec![
                "P10: no baseline sum".into(),
                "P1 and P2 share a date".into(),
            ],
        )
        .unwrap();
        let blinded = cohort.blinded();
        assert_eq!(blinded.report, cohort.report);
        let ids: Vec<&str> = blinded
            .outcomes
            .iter()
            .map(|o| o.patient_id.as_str())
            .collect();
        assert_eq!(ids, ["Subject 1", "Subject 2", "Subject 3"]);
        let plot_ids: Vec<String> = blinded
            .plots
            .waterfall
            .iter()
            .flat_map(|(_, bars)| bars.iter().map(|b| b.patient_id.clone()))
            .chain(blinded.plots.swimmer.iter().map(|l| l.patient_id.clone()))
            .collect();
        assert!(!plot_ids.is_empty());
        assert!(
            plot_ids.iter().all(|id| id.starts_with("Subject ")),
            "{plot_ids:?}"
        );
        // Sorted IDs: P1 → 1, P10 → 2, P2 → 3; "P1" does not rewrite "P10".
        assert_eq!(blinded.warnings[0], "Subject 2: no baseline sum");
        assert_eq!(blinded.warnings[1], "Subject 1 and Subject 3 share a date");
    }

    #[test]
    fn the_state_shows_the_blinded_copy_made_at_import() {
        let mut state = CohortState::default();
        let cohort = Cohort::build(
            CohortSource::Session,
            vec![outcome("P7", BestResponse::Sd, -5.0)],
            None,
            Vec::new(),
        );
        state.finish(cohort);
        assert_eq!(state.shown(false).unwrap().outcomes[0].patient_id, "P7");
        assert_eq!(
            state.shown(true).unwrap().outcomes[0].patient_id,
            "Subject 1"
        );
    }
}
