//! T2 signal in the session (`recist-1.1.md` §11): which loaded series are
//! T2-weighted (the program's call, which the reader can override), measuring
//! the mean signal of an ellipse or freehand ROI on such a series, recording
//! it as a lesion's ROI or the visit's muscle reference, re-measuring when the
//! region is edited, and the per-visit table and trends the panel shows.

use std::collections::BTreeMap;

use crate::measure::roi_stats;
use crate::recist::Date;
use crate::segment::mask_stats;
use crate::signal::{T2Weighting, change_pct, protocol_changes, signal_ratio, t2_weighting};
use crate::tracking::{
    Edit, MeasurementId, Patient, Segmentation, SignalRoi, SignalRole, SignalSource,
    StoredMeasurement,
};

use super::Workspace;

/// One lesion's T2 values at one visit.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionSignal {
    /// The lesion.
    pub lesion_id: String,
    /// Mean SI of the lesion ROI.
    pub lesion_si: Option<f64>,
    /// Lesion / reference ratio (same series only).
    pub ratio: Option<f64>,
    /// % change of the ratio from this lesion's baseline ratio.
    pub ratio_change_pct: Option<f64>,
}

/// The T2 values of one visit.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalVisit {
    /// Timepoint.
    pub date: Date,
    /// Visit label.
    pub visit: String,
    /// Days from baseline.
    pub day: i64,
    /// Mean SI of the muscle reference ROI.
    pub reference_si: Option<f64>,
    /// Per lesion, in lesion order (lesions with a ROI at some visit).
    pub lesions: Vec<LesionSignal>,
    /// Mean ratio over target lesions with a ratio (E14).
    pub mean_target_ratio: Option<f64>,
    /// % change of the mean target ratio from baseline.
    pub mean_target_ratio_change_pct: Option<f64>,
    /// SeriesInstanceUID the reference (else the first lesion ROI) was measured on.
    pub series_uid: Option<String>,
}

/// The T2 signal of the current patient: per-visit values and the
/// acquisition changes between visits.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SignalSummary {
    /// Visits with at least one signal ROI, in date order.
    pub visits: Vec<SignalVisit>,
    /// Acquisition changes between consecutive measured visits ("W8: TE 100 → 80 ms").
    pub protocol_warnings: Vec<String>,
}

impl Workspace {
    /// Whether series `series` is T2-weighted: the reader's override when set,
    /// else the program's call from TE/TR and description.
    pub fn t2_weighting(&self, series: usize) -> Option<T2Weighting> {
        let entry = self.series.get(series)?;
        let call = t2_weighting(&entry.volume().meta);
        Some(match self.t2_overrides.get(entry.uid()) {
            Some(&t2_weighted) => T2Weighting {
                t2_weighted,
                reason: format!(
                    "set by the reader ({}); program's call: {}",
                    if t2_weighted {
                        "T2-weighted"
                    } else {
                        "not T2-weighted"
                    },
                    call.reason
                ),
            },
            None => call,
        })
    }

    /// Sets (or with `None` removes) the reader's T2 override of a series.
    pub(super) fn set_t2_override(&mut self, series: usize, t2_weighted: Option<bool>) {
        let Some(uid) = self.series.get(series).map(|e| e.uid().to_string()) else {
            return;
        };
        match t2_weighted {
            Some(value) => self.t2_overrides.insert(uid, value),
            None => self.t2_overrides.remove(&uid),
        };
    }

    /// Measures the mean signal of an ROI measurement on its series: the
    /// series must be loaded and T2-weighted, the shape a region with pixels.
    fn measure_signal(&self, stored: &StoredMeasurement) -> Result<(String, f64, usize), String> {
        let uid = &stored.measurement.image.series_instance_uid;
        let entry = self.t2_series(uid)?;
        let stats = roi_stats(&stored.measurement, &entry.context())
            .ok_or("T2 signal needs an ellipse or freehand region on the image")?;
        match stats.mean {
            Some(mean) if stats.pixels > 0 => Ok((uid.clone(), mean, stats.pixels)),
            _ => Err("the region holds no pixel centre; draw it larger".into()),
        }
    }

    /// The loaded series `uid` if it is T2-weighted, else why not.
    fn t2_series(&self, uid: &str) -> Result<&super::SeriesEntry, String> {
        let index = self
            .series
            .iter()
            .position(|e| e.uid() == uid)
            .ok_or("the series it was drawn on is not loaded")?;
        let call = self.t2_weighting(index).ok_or("the series is not loaded")?;
        if !call.t2_weighted {
            return Err(format!(
                "T2 signal needs a T2-weighted series: {} (right-click the series to override)",
                call.reason
            ));
        }
        self.series
            .get(index)
            .ok_or_else(|| "the series is not loaded".into())
    }

    /// Measures the mean signal inside a lesion's segmentation on its
    /// (T2-weighted) series.
    fn measure_mask_signal(
        &self,
        segmentation: &Segmentation,
    ) -> Result<(String, f64, usize), String> {
        let entry = self.t2_series(&segmentation.series_uid)?;
        let stats = mask_stats(entry.volume(), &segmentation.mask).map_err(|e| e.to_string())?;
        if stats.voxels == 0 {
            return Err("the mask is empty".into());
        }
        Ok((segmentation.series_uid.clone(), stats.mean, stats.voxels))
    }

    /// Records lesion `lesion_id`'s segmentation at `date` (on a T2-weighted
    /// series) as its T2 ROI: one undo step.
    pub(super) fn assign_segmentation_signal(&mut self, lesion_id: &str, date: Date) {
        let Some(segmentation) = self
            .current_patient()
            .and_then(|p| {
                p.segmentations
                    .iter()
                    .find(|g| g.lesion_id == lesion_id && g.date == date)
            })
            .cloned()
        else {
            self.messages
                .push(format!("{lesion_id} has no segmentation at {date}"));
            return;
        };
        match self.measure_mask_signal(&segmentation) {
            Ok((series_uid, mean_si, pixels)) => {
                let role = SignalRole::Lesion(lesion_id.to_string());
                self.edit(Edit::SetSignal {
                    date,
                    role: role.clone(),
                    signal: Some(SignalRoi {
                        date,
                        role,
                        source: SignalSource::Segmentation,
                        series_uid,
                        mean_si,
                        pixels,
                    }),
                });
            }
            Err(message) => self.messages.push(message),
        }
    }

    /// Records measurement `measurement` (an ROI on a T2-weighted series) as
    /// the T2 ROI of `role` at its timepoint: one undo step.
    pub(super) fn assign_signal(&mut self, measurement: MeasurementId, role: SignalRole) {
        let Some(stored) = self
            .current_patient()
            .and_then(|p| p.measurement(measurement))
            .cloned()
        else {
            self.messages
                .push(format!("no measurement #{}", measurement.0));
            return;
        };
        match self.measure_signal(&stored) {
            Ok((series_uid, mean_si, pixels)) => self.edit(Edit::SetSignal {
                date: stored.date,
                role: role.clone(),
                signal: Some(SignalRoi {
                    date: stored.date,
                    role,
                    source: SignalSource::Measurement(measurement),
                    series_uid,
                    mean_si,
                    pixels,
                }),
            }),
            Err(message) => self.messages.push(message),
        }
    }

    /// `edit`, plus re-measured signals for every signal ROI whose shape it
    /// changes, as one step: the stored means always match the regions.
    pub(super) fn with_signal_updates(&self, patient: &Patient, edit: Edit) -> Edit {
        let mut changed: Vec<(MeasurementId, &crate::measure::Shape)> = Vec::new();
        let mut masks: Vec<&Segmentation> = Vec::new();
        collect_region_changes(&edit, &mut changed, &mut masks);
        let mut updates = Vec::new();
        for segmentation in masks {
            let role = SignalRole::Lesion(segmentation.lesion_id.clone());
            let Some(signal) = patient.signal(segmentation.date, &role) else {
                continue;
            };
            if signal.source != SignalSource::Segmentation {
                continue;
            }
            let mut updated = signal.clone();
            if let Ok((series_uid, mean_si, pixels)) = self.measure_mask_signal(segmentation) {
                updated.series_uid = series_uid;
                updated.mean_si = mean_si;
                updated.pixels = pixels;
            }
            updates.push(Edit::SetSignal {
                date: signal.date,
                role,
                signal: Some(updated),
            });
        }
        for (id, shape) in changed {
            for signal in patient
                .signals
                .iter()
                .filter(|s| s.source == SignalSource::Measurement(id))
            {
                let Some(mut stored) = patient.measurement(id).cloned() else {
                    continue;
                };
                stored.measurement.shape = shape.clone();
                let mut updated = signal.clone();
                if let Ok((_, mean_si, pixels)) = self.measure_signal(&stored) {
                    updated.mean_si = mean_si;
                    updated.pixels = pixels;
                }
                updates.push(Edit::SetSignal {
                    date: signal.date,
                    role: signal.role.clone(),
                    signal: Some(updated),
                });
            }
        }
        if updates.is_empty() {
            edit
        } else {
            let mut batch = vec![edit];
            batch.extend(updates);
            Edit::Batch(batch)
        }
    }

    /// The T2 values of the current patient by visit, with ratios, trends
    /// and acquisition changes; `None` without any signal ROI.
    pub fn signal_summary(&self) -> Option<SignalSummary> {
        let patient = self.current_patient()?;
        if patient.signals.is_empty() {
            return None;
        }
        let baseline = patient.baseline_date()?;
        let lesion_ids: Vec<String> = patient
            .lesions
            .iter()
            .filter(|l| {
                patient
                    .signals
                    .iter()
                    .any(|s| s.role == SignalRole::Lesion(l.id.clone()))
            })
            .map(|l| l.id.clone())
            .collect();
        let mut first_ratio: BTreeMap<String, f64> = BTreeMap::new();
        let mut baseline_mean: Option<f64> = None;
        let mut visits = Vec::new();
        for timepoint in &patient.timepoints {
            let date = timepoint.date;
            if !patient.signals.iter().any(|s| s.date == date) {
                continue;
            }
            let reference = patient.signal(date, &SignalRole::Reference);
            let mut lesions = Vec::new();
            let mut target_ratios = Vec::new();
            for id in &lesion_ids {
                let roi = patient.signal(date, &SignalRole::Lesion(id.clone()));
                let ratio = match (roi, reference) {
                    (Some(roi), Some(reference)) if roi.series_uid == reference.series_uid => {
                        signal_ratio(roi.mean_si, reference.mean_si)
                    }
                    _ => None,
                };
                if date == baseline
                    && let Some(ratio) = ratio
                {
                    first_ratio.insert(id.clone(), ratio);
                }
                let is_target = patient
                    .lesion(id)
                    .is_some_and(|l| l.category == crate::recist::Category::Target);
                if is_target && let Some(ratio) = ratio {
                    target_ratios.push(ratio);
                }
                lesions.push(LesionSignal {
                    lesion_id: id.clone(),
                    lesion_si: roi.map(|r| r.mean_si),
                    ratio,
                    ratio_change_pct: change_pct(first_ratio.get(id).copied(), ratio),
                });
            }
            let mean_target_ratio = (!target_ratios.is_empty())
                .then(|| target_ratios.iter().sum::<f64>() / target_ratios.len() as f64);
            if date == baseline {
                baseline_mean = mean_target_ratio;
            }
            let series_uid = reference.map(|r| r.series_uid.clone()).or_else(|| {
                patient
                    .signals
                    .iter()
                    .find(|s| s.date == date)
                    .map(|s| s.series_uid.clone())
            });
            visits.push(SignalVisit {
                date,
                visit: patient.visit_label(date),
                day: i64::from(date.days_since_epoch()) - i64::from(baseline.days_since_epoch()),
                reference_si: reference.map(|r| r.mean_si),
                lesions,
                mean_target_ratio,
                mean_target_ratio_change_pct: change_pct(baseline_mean, mean_target_ratio),
                series_uid,
            });
        }
        let mut protocol_warnings = Vec::new();
        for pair in visits.windows(2) {
            let [before, after] = pair else { continue };
            let meta = |uid: &Option<String>| {
                uid.as_ref().and_then(|uid| {
                    self.series
                        .iter()
                        .find(|e| e.uid() == uid)
                        .map(|e| &e.volume().meta)
                })
            };
            if let (Some(a), Some(b)) = (meta(&before.series_uid), meta(&after.series_uid)) {
                let changes = protocol_changes(a, b);
                if !changes.is_empty() {
                    protocol_warnings.push(format!(
                        "{} vs {}: {} — signal intensities may not be comparable",
                        after.visit,
                        before.visit,
                        changes.join(", ")
                    ));
                }
            }
        }
        Some(SignalSummary {
            visits,
            protocol_warnings,
        })
    }
}

/// The ROI shapes and masks an edit replaces (signals measured in them are re-measured).
fn collect_region_changes<'a>(
    edit: &'a Edit,
    shapes: &mut Vec<(MeasurementId, &'a crate::measure::Shape)>,
    masks: &mut Vec<&'a Segmentation>,
) {
    match edit {
        Edit::SetShape { id, shape } => shapes.push((*id, shape)),
        Edit::PutSegmentation(segmentation) => masks.push(segmentation),
        Edit::Batch(edits) => edits
            .iter()
            .for_each(|e| collect_region_changes(e, shapes, masks)),
        _ => {}
    }
}
