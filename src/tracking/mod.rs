//! Lesion tracking: a [`Patient`] has timepoints (one per scan date; the
//! earliest is baseline), lesions (target / non-target / new, organ, lymph
//! node), measurements drawn on the images, and observations — what the
//! reader states for a lesion at a timepoint: measured by a drawn
//! measurement, a number entered or imported, or a status without drawing.
//!
//! Every change is an [`Edit`]; [`Patient::apply`] returns the inverse edit,
//! which is all undo/redo needs. [`to_recist`] is the only bridge into the
//! response engine, so the GUI, the CSV and the CLI give the same answer.

pub mod describe;

use serde::{Deserialize, Serialize};

use crate::measure::{Measurement, Shape};
use crate::recist::{Category, Date, LesionRecord, LesionStatus};
use crate::segment::{Mask, VoxelSize};

/// Identity of a stored measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MeasurementId(pub u64);

/// Why an edit could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackingError {
    /// No measurement with this id.
    #[error("no measurement #{0}")]
    NoMeasurement(u64),
    /// A measurement with this id exists already.
    #[error("measurement #{0} exists already")]
    DuplicateMeasurement(u64),
    /// No lesion with this id.
    #[error("no lesion {0}")]
    NoLesion(String),
    /// No timepoint on this date.
    #[error("no timepoint on {0}")]
    NoTimepoint(Date),
    /// A status that does not fit the lesion's category.
    #[error("status {status} is not valid for a {category} lesion")]
    StatusInvalid {
        /// The status.
        status: LesionStatus,
        /// The category.
        category: Category,
    },
    /// No segmentation of this lesion at that timepoint.
    #[error("no segmentation of lesion {0} at that timepoint")]
    NoSegmentation(String),
    /// A measurement that gives no diameter for a target.
    #[error("a target needs a length or bidirectional measurement, not an ROI")]
    NoDiameter,
    /// A signal needs a region (ellipse or freehand), not a line.
    #[error("T2 signal needs an ellipse or freehand region, not a line")]
    NotARegion,
    /// A signal whose own date or role differs from where it is set.
    #[error("the signal's timepoint or role does not match where it is set")]
    SignalMismatch,
}

/// One scan date of the patient.
#[derive(Debug, Clone, PartialEq)]
pub struct Timepoint {
    /// Scan date.
    pub date: Date,
    /// Visit label given by an imported table; `None`: derived from the date.
    pub visit: Option<String>,
}

/// A lesion followed over time.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesion {
    /// Stable id (`T1`, `NT1`, `N1`, `NL1`).
    pub id: String,
    /// Target, non-target or new.
    pub category: Category,
    /// Organ (`liver`, `lung`, `lymph node` …).
    pub organ: String,
    /// Lymph node (measured by short axis).
    pub lymph_node: bool,
}

/// What the reader states for a lesion at a timepoint.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Measured by a drawn measurement.
    Measured(MeasurementId),
    /// Diameters entered by hand or imported from a lesion table.
    Entered {
        /// Longest diameter in mm.
        long_axis_mm: Option<f64>,
        /// Short axis in mm.
        short_axis_mm: Option<f64>,
        /// Volume, T2 signal: carried from an imported table.
        extra: ExtraValues,
    },
    /// A status without drawing (absent, too small, not evaluable, present,
    /// unequivocal progression, equivocal).
    Stated(LesionStatus),
}

/// Values of a lesion-table row beyond the diameters (interchange §1),
/// carried through import and export unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ExtraValues {
    /// Segmented volume in ml.
    pub volume_ml: Option<f64>,
    /// Mean T2 signal of the lesion.
    pub t2_si: Option<f64>,
    /// Mean T2 signal of the reference tissue.
    pub t2_ref_si: Option<f64>,
}

/// A finding for one lesion at one timepoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// The lesion.
    pub lesion_id: String,
    /// The timepoint.
    pub date: Date,
    /// The finding.
    pub finding: Finding,
}

/// A measurement drawn on one of the patient's images.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMeasurement {
    /// Identity.
    pub id: MeasurementId,
    /// Timepoint of the image it was drawn on.
    pub date: Date,
    /// The measurement.
    pub measurement: Measurement,
}

/// What a T2 signal ROI measures (`recist-1.1.md` §11).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SignalRole {
    /// The lesion with this id.
    Lesion(String),
    /// The reference tissue (skeletal muscle) of the timepoint.
    Reference,
}

/// The region a T2 signal was measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalSource {
    /// An ellipse or freehand ROI measurement.
    Measurement(MeasurementId),
    /// The lesion's 3-D segmentation at the same timepoint (lesions only).
    Segmentation,
}

/// A T2-weighted signal measurement at one timepoint: which region, on which
/// series, and the mean signal intensity measured there when it was set (the
/// session measures it on the images and re-measures it whenever the region
/// changes, so exports work without the images).
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRoi {
    /// Timepoint.
    pub date: Date,
    /// Lesion or reference.
    pub role: SignalRole,
    /// The region it was measured in.
    pub source: SignalSource,
    /// SeriesInstanceUID of the T2-weighted series.
    pub series_uid: String,
    /// Mean signal intensity (modality units) inside the region.
    pub mean_si: f64,
    /// Pixels averaged.
    pub pixels: usize,
}

/// The 3-D segmentation of one lesion at one timepoint, on one series'
/// voxel grid. It carries the voxel size, so its volume is a pure function
/// of the entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// The lesion.
    pub lesion_id: String,
    /// The timepoint.
    pub date: Date,
    /// SeriesInstanceUID of the series the mask lies on.
    pub series_uid: String,
    /// The mask.
    pub mask: Mask,
    /// The voxel size of that series; `None` when its spacing is unknown.
    pub voxel_size: Option<VoxelSize>,
    /// A volume the reader adopted from an ellipsoid fitted to this mask
    /// (`segment::fit_ellipsoid`, accepted), in place of the voxel count.
    pub fitted_volume: Option<FittedVolume>,
}

/// A lesion volume from a model fitted to the mask, which the reader chose
/// to report instead of the mask's voxel count. It belongs to one mask: any
/// edit of the mask leaves it unused.
#[derive(Debug, Clone, PartialEq)]
pub struct FittedVolume {
    /// The volume, mL.
    pub volume_ml: f64,
    /// Its SD from the image noise, mL.
    pub sd_ml: f64,
    /// [`mask_fingerprint`] of the mask it was fitted to.
    pub mask_fingerprint: u64,
}

/// A fingerprint of a mask's content (FNV-1a over its byte form): the same
/// on every machine and build, so a stored [`FittedVolume`] can tell whether
/// it still belongs to the mask beside it.
pub fn mask_fingerprint(mask: &Mask) -> u64 {
    mask.to_bytes()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

impl Segmentation {
    /// The reported volume in mL: the adopted fitted volume, else the
    /// voxel count; `None` when the spacing is unknown.
    pub fn volume_ml(&self) -> Option<f64> {
        match self.adopted_fit() {
            Some(fit) => Some(fit.volume_ml),
            None => self.counted_volume_ml(),
        }
    }

    /// The mask's voxel count in mL; `None` when the spacing is unknown.
    pub fn counted_volume_ml(&self) -> Option<f64> {
        self.voxel_size.as_ref()?.volume_ml(&self.mask)
    }

    /// The fitted volume the reader adopted. A patient never holds one
    /// beside another mask than it was fitted to: [`Patient::apply`] drops
    /// it ([`Segmentation::without_stale_fit`]), so reading it costs nothing
    /// (the lesion panel reads it every frame).
    pub fn adopted_fit(&self) -> Option<&FittedVolume> {
        self.fitted_volume.as_ref()
    }

    /// This segmentation without a fitted volume that was fitted to another
    /// mask (its fingerprint differs): the voxel count is reported then.
    pub fn without_stale_fit(mut self) -> Segmentation {
        if self
            .fitted_volume
            .as_ref()
            .is_some_and(|fit| fit.mask_fingerprint != mask_fingerprint(&self.mask))
        {
            self.fitted_volume = None;
        }
        self
    }
}

/// One change to a patient. Applying it returns its inverse.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Store a measurement.
    AddMeasurement(StoredMeasurement),
    /// Delete a measurement (and the observations that use it).
    RemoveMeasurement(MeasurementId),
    /// Replace a measurement's shape.
    SetShape {
        /// Which.
        id: MeasurementId,
        /// The new shape.
        shape: Shape,
    },
    /// Add a lesion, or replace the one with the same id.
    PutLesion(Lesion),
    /// Delete a lesion and its observations.
    RemoveLesion(String),
    /// Set (or with `None` clear) the finding of a lesion at a timepoint.
    SetObservation {
        /// The lesion.
        lesion_id: String,
        /// The timepoint.
        date: Date,
        /// The finding.
        finding: Option<Finding>,
    },
    /// Add a timepoint, or replace the one with the same date.
    PutTimepoint(Timepoint),
    /// Delete a timepoint (only when nothing refers to it).
    RemoveTimepoint(Date),
    /// Set (or with `None` clear) a T2 signal ROI of a timepoint.
    SetSignal {
        /// The timepoint.
        date: Date,
        /// Lesion or reference.
        role: SignalRole,
        /// The ROI and its mean.
        signal: Option<SignalRoi>,
    },
    /// Set a lesion's segmentation at a timepoint (replacing the one there).
    PutSegmentation(Segmentation),
    /// Delete a lesion's segmentation at a timepoint.
    RemoveSegmentation {
        /// The lesion.
        lesion_id: String,
        /// The timepoint.
        date: Date,
    },
    /// Several edits as one step.
    Batch(Vec<Edit>),
}

/// The lesions, timepoints and measurements of one patient.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Patient {
    /// PatientID.
    pub id: String,
    /// Timepoints in date order.
    pub timepoints: Vec<Timepoint>,
    /// Lesions in creation order.
    pub lesions: Vec<Lesion>,
    /// Observations.
    pub observations: Vec<Observation>,
    /// Measurements.
    pub measurements: Vec<StoredMeasurement>,
    /// T2 signal ROIs (at most one per timepoint and role).
    pub signals: Vec<SignalRoi>,
    /// Segmentations (one per lesion per timepoint).
    pub segmentations: Vec<Segmentation>,
    next_measurement: u64,
}

impl Patient {
    /// An empty patient.
    pub fn new(id: &str) -> Patient {
        Patient {
            id: id.to_string(),
            ..Default::default()
        }
    }

    /// A fresh measurement id.
    pub fn next_measurement_id(&mut self) -> MeasurementId {
        self.next_measurement += 1;
        let used = self.measurements.iter().map(|m| m.id.0).max().unwrap_or(0);
        self.next_measurement = self.next_measurement.max(used + 1);
        MeasurementId(self.next_measurement)
    }

    /// The highest measurement id handed out so far (persisted by the
    /// project store, so a reopened patient never reuses an id).
    pub fn measurement_counter(&self) -> u64 {
        self.next_measurement
    }

    /// Raises the measurement counter to at least `counter`.
    pub fn raise_measurement_counter(&mut self, counter: u64) {
        self.next_measurement = self.next_measurement.max(counter);
    }

    /// The T2 signal ROI of a role at a timepoint.
    pub fn signal(&self, date: Date, role: &SignalRole) -> Option<&SignalRoi> {
        self.signals
            .iter()
            .find(|s| s.date == date && &s.role == role)
    }

    /// The edits that clear the signal ROIs matching `which`, restoring
    /// them on undo: the inverse half of a cascading removal.
    fn take_signals(&mut self, which: impl Fn(&SignalRoi) -> bool) -> Vec<Edit> {
        let (taken, kept): (Vec<SignalRoi>, Vec<SignalRoi>) = std::mem::take(&mut self.signals)
            .into_iter()
            .partition(|s| which(s));
        self.signals = kept;
        taken
            .into_iter()
            .map(|s| Edit::SetSignal {
                date: s.date,
                role: s.role.clone(),
                signal: Some(s),
            })
            .collect()
    }

    /// The baseline date (earliest timepoint).
    pub fn baseline_date(&self) -> Option<Date> {
        self.timepoints.first().map(|t| t.date)
    }

    /// The visit label of a date: the imported one, else `baseline` for the
    /// earliest date and `W<weeks>` after it.
    pub fn visit_label(&self, date: Date) -> String {
        if let Some(label) = self
            .timepoints
            .iter()
            .find(|t| t.date == date)
            .and_then(|t| t.visit.clone())
        {
            return label;
        }
        match self.baseline_date() {
            Some(base) if base == date => "baseline".to_string(),
            Some(base) => format!("W{}", (date.days_since(base) as f64 / 7.0).round() as i64),
            None => date.to_string(),
        }
    }

    /// The measurement with this id.
    pub fn measurement(&self, id: MeasurementId) -> Option<&StoredMeasurement> {
        self.measurements.iter().find(|m| m.id == id)
    }

    /// The lesion with this id.
    pub fn lesion(&self, id: &str) -> Option<&Lesion> {
        self.lesions.iter().find(|l| l.id == id)
    }

    /// The finding of a lesion at a date.
    pub fn finding(&self, lesion_id: &str, date: Date) -> Option<&Finding> {
        self.observations
            .iter()
            .find(|o| o.lesion_id == lesion_id && o.date == date)
            .map(|o| &o.finding)
    }

    /// The segmentation of a lesion at a date.
    pub fn segmentation(&self, lesion_id: &str, date: Date) -> Option<&Segmentation> {
        self.segmentations
            .iter()
            .find(|s| s.lesion_id == lesion_id && s.date == date)
    }

    /// The lesion a measurement is the finding of, if any.
    pub fn lesion_of_measurement(&self, id: MeasurementId) -> Option<&Lesion> {
        let observation = self
            .observations
            .iter()
            .find(|o| o.finding == Finding::Measured(id))?;
        self.lesion(&observation.lesion_id)
    }

    /// A new lesion id for a category: `T<n>` (targets), `N<n>` (nodal
    /// targets), `NT<n>` (non-targets), `NL<n>` (new lesions).
    pub fn next_lesion_id(&self, category: Category, lymph_node: bool) -> String {
        let prefix = match (category, lymph_node) {
            (Category::Target, false) => "T",
            (Category::Target, true) => "N",
            (Category::NonTarget, _) => "NT",
            (Category::New, _) => "NL",
        };
        (1..)
            .map(|n| format!("{prefix}{n}"))
            .find(|id| self.lesion(id).is_none())
            .unwrap_or_else(|| prefix.to_string())
    }

    /// Applies `edit`, returning the edit that undoes it. A failing batch
    /// leaves the patient unchanged.
    pub fn apply(&mut self, edit: Edit) -> Result<Edit, TrackingError> {
        match edit {
            Edit::AddMeasurement(m) => {
                if self.measurement(m.id).is_some() {
                    return Err(TrackingError::DuplicateMeasurement(m.id.0));
                }
                let id = m.id;
                self.next_measurement = self.next_measurement.max(id.0);
                self.measurements.push(m);
                Ok(Edit::RemoveMeasurement(id))
            }
            Edit::RemoveMeasurement(id) => {
                let at = self
                    .measurements
                    .iter()
                    .position(|m| m.id == id)
                    .ok_or(TrackingError::NoMeasurement(id.0))?;
                let removed = self.measurements.remove(at);
                let mut inverse = vec![Edit::AddMeasurement(removed)];
                let finding = Finding::Measured(id);
                for o in self.observations.iter().filter(|o| o.finding == finding) {
                    inverse.push(Edit::SetObservation {
                        lesion_id: o.lesion_id.clone(),
                        date: o.date,
                        finding: Some(o.finding.clone()),
                    });
                }
                self.observations.retain(|o| o.finding != finding);
                inverse.extend(self.take_signals(|s| s.source == SignalSource::Measurement(id)));
                Ok(Edit::Batch(inverse))
            }
            Edit::SetShape { id, shape } => {
                let m = self
                    .measurements
                    .iter_mut()
                    .find(|m| m.id == id)
                    .ok_or(TrackingError::NoMeasurement(id.0))?;
                let before = std::mem::replace(&mut m.measurement.shape, shape);
                Ok(Edit::SetShape { id, shape: before })
            }
            Edit::PutLesion(lesion) => {
                let id = lesion.id.clone();
                match self.lesions.iter_mut().find(|l| l.id == id) {
                    Some(existing) => {
                        let before = std::mem::replace(existing, lesion);
                        Ok(Edit::PutLesion(before))
                    }
                    None => {
                        self.lesions.push(lesion);
                        Ok(Edit::RemoveLesion(id))
                    }
                }
            }
            Edit::RemoveLesion(id) => {
                let at = self
                    .lesions
                    .iter()
                    .position(|l| l.id == id)
                    .ok_or_else(|| TrackingError::NoLesion(id.clone()))?;
                let removed = self.lesions.remove(at);
                let mut inverse = vec![Edit::PutLesion(removed)];
                for o in self.observations.iter().filter(|o| o.lesion_id == id) {
                    inverse.push(Edit::SetObservation {
                        lesion_id: id.clone(),
                        date: o.date,
                        finding: Some(o.finding.clone()),
                    });
                }
                self.observations.retain(|o| o.lesion_id != id);
                let role = SignalRole::Lesion(id.clone());
                let signals = self.take_signals(|s| s.role == role);
                for seg in self.segmentations.iter().filter(|g| g.lesion_id == id) {
                    inverse.push(Edit::PutSegmentation(seg.clone()));
                }
                self.segmentations.retain(|g| g.lesion_id != id);
                // Signals after the masks they may be measured in.
                inverse.extend(signals);
                Ok(Edit::Batch(inverse))
            }
            Edit::SetObservation {
                lesion_id,
                date,
                finding,
            } => {
                let lesion = self
                    .lesion(&lesion_id)
                    .ok_or_else(|| TrackingError::NoLesion(lesion_id.clone()))?;
                if !self.timepoints.iter().any(|t| t.date == date) {
                    return Err(TrackingError::NoTimepoint(date));
                }
                match &finding {
                    Some(Finding::Stated(status)) if !status.is_valid_for(lesion.category) => {
                        return Err(TrackingError::StatusInvalid {
                            status: *status,
                            category: lesion.category,
                        });
                    }
                    Some(Finding::Measured(id)) => {
                        let m = self
                            .measurement(*id)
                            .ok_or(TrackingError::NoMeasurement(id.0))?;
                        let is_roi =
                            matches!(m.measurement.shape, Shape::Ellipse(_) | Shape::Freehand(_));
                        if is_roi && lesion.category == Category::Target {
                            return Err(TrackingError::NoDiameter);
                        }
                    }
                    _ => {}
                }
                let before = self
                    .observations
                    .iter()
                    .position(|o| o.lesion_id == lesion_id && o.date == date)
                    .map(|at| self.observations.remove(at).finding);
                if let Some(finding) = finding {
                    self.observations.push(Observation {
                        lesion_id: lesion_id.clone(),
                        date,
                        finding,
                    });
                }
                Ok(Edit::SetObservation {
                    lesion_id,
                    date,
                    finding: before,
                })
            }
            Edit::PutTimepoint(timepoint) => {
                let date = timepoint.date;
                match self.timepoints.iter_mut().find(|t| t.date == date) {
                    Some(existing) => {
                        Ok(Edit::PutTimepoint(std::mem::replace(existing, timepoint)))
                    }
                    None => {
                        self.timepoints.push(timepoint);
                        self.timepoints.sort_by_key(|t| t.date);
                        Ok(Edit::RemoveTimepoint(date))
                    }
                }
            }
            Edit::RemoveTimepoint(date) => {
                let at = self
                    .timepoints
                    .iter()
                    .position(|t| t.date == date)
                    .ok_or(TrackingError::NoTimepoint(date))?;
                let removed = self.timepoints.remove(at);
                let mut inverse = vec![Edit::PutTimepoint(removed)];
                for o in self.observations.iter().filter(|o| o.date == date) {
                    inverse.push(Edit::SetObservation {
                        lesion_id: o.lesion_id.clone(),
                        date,
                        finding: Some(o.finding.clone()),
                    });
                }
                self.observations.retain(|o| o.date != date);
                let signals = self.take_signals(|s| s.date == date);
                for seg in self.segmentations.iter().filter(|g| g.date == date) {
                    inverse.push(Edit::PutSegmentation(seg.clone()));
                }
                self.segmentations.retain(|g| g.date != date);
                // Signals after the masks they may be measured in.
                inverse.extend(signals);
                Ok(Edit::Batch(inverse))
            }
            Edit::SetSignal { date, role, signal } => {
                if !self.timepoints.iter().any(|t| t.date == date) {
                    return Err(TrackingError::NoTimepoint(date));
                }
                if let SignalRole::Lesion(id) = &role
                    && self.lesion(id).is_none()
                {
                    return Err(TrackingError::NoLesion(id.clone()));
                }
                if let Some(signal) = &signal {
                    match (signal.source, &role) {
                        (SignalSource::Measurement(id), _) => {
                            let m = self
                                .measurement(id)
                                .ok_or(TrackingError::NoMeasurement(id.0))?;
                            if !matches!(
                                m.measurement.shape,
                                Shape::Ellipse(_) | Shape::Freehand(_)
                            ) {
                                return Err(TrackingError::NotARegion);
                            }
                        }
                        (SignalSource::Segmentation, SignalRole::Lesion(id)) => {
                            if !self
                                .segmentations
                                .iter()
                                .any(|g| &g.lesion_id == id && g.date == date)
                            {
                                return Err(TrackingError::NoSegmentation(id.clone()));
                            }
                        }
                        (SignalSource::Segmentation, SignalRole::Reference) => {
                            return Err(TrackingError::NotARegion);
                        }
                    }
                    if signal.date != date || signal.role != role {
                        return Err(TrackingError::SignalMismatch);
                    }
                }
                let before = self
                    .signals
                    .iter()
                    .position(|s| s.date == date && s.role == role)
                    .map(|at| self.signals.remove(at));
                if let Some(signal) = signal {
                    self.signals.push(signal);
                }
                Ok(Edit::SetSignal {
                    date,
                    role,
                    signal: before,
                })
            }
            Edit::PutSegmentation(segmentation) => {
                // checked once here, as the mask is stored, not on every read
                let segmentation = segmentation.without_stale_fit();
                if self.lesion(&segmentation.lesion_id).is_none() {
                    return Err(TrackingError::NoLesion(segmentation.lesion_id));
                }
                if !self.timepoints.iter().any(|t| t.date == segmentation.date) {
                    return Err(TrackingError::NoTimepoint(segmentation.date));
                }
                let (lesion_id, date) = (segmentation.lesion_id.clone(), segmentation.date);
                match self
                    .segmentations
                    .iter_mut()
                    .find(|g| g.lesion_id == lesion_id && g.date == date)
                {
                    Some(existing) => Ok(Edit::PutSegmentation(std::mem::replace(
                        existing,
                        segmentation,
                    ))),
                    None => {
                        self.segmentations.push(segmentation);
                        Ok(Edit::RemoveSegmentation { lesion_id, date })
                    }
                }
            }
            Edit::RemoveSegmentation { lesion_id, date } => {
                let at = self
                    .segmentations
                    .iter()
                    .position(|g| g.lesion_id == lesion_id && g.date == date)
                    .ok_or_else(|| TrackingError::NoSegmentation(lesion_id.clone()))?;
                let removed = self.segmentations.remove(at);
                let role = SignalRole::Lesion(lesion_id);
                let mut inverse = vec![Edit::PutSegmentation(removed)];
                inverse.extend(self.take_signals(|s| {
                    s.source == SignalSource::Segmentation && s.role == role && s.date == date
                }));
                Ok(if inverse.len() == 1 {
                    inverse.remove(0)
                } else {
                    Edit::Batch(inverse)
                })
            }
            Edit::Batch(edits) => {
                let mut inverses = Vec::with_capacity(edits.len());
                for edit in edits {
                    match self.apply(edit) {
                        Ok(inverse) => inverses.push(inverse),
                        Err(e) => {
                            for inverse in inverses.into_iter().rev() {
                                // Undoing what was just done cannot fail.
                                let _ = self.apply(inverse);
                            }
                            return Err(e);
                        }
                    }
                }
                inverses.reverse();
                Ok(Edit::Batch(inverses))
            }
        }
    }
}

/// Diameters of a measurement for RECIST: (long axis, short axis) in mm.
/// A single line on a lymph node is its short axis. `None` for ROIs and for
/// measurements without pixel spacing (no mm).
pub fn recist_diameters_mm(
    measurement: &Measurement,
    lymph_node: bool,
) -> Option<(Option<f64>, Option<f64>)> {
    if !measurement.spacing_known {
        return None;
    }
    // Recorded at 0.1 mm: the value the reader sees is the value the
    // engine sums, the CSV writes and every export carries.
    let tenth = |mm: f64| (mm * 10.0).round() / 10.0;
    match &measurement.shape {
        Shape::Length(l) => {
            let d = tenth(l.start.distance(l.end));
            Some(if lymph_node {
                (None, Some(d))
            } else {
                (Some(d), None)
            })
        }
        Shape::Bidirectional(b) => {
            Some((Some(tenth(b.long_length())), Some(tenth(b.short_length()))))
        }
        Shape::Ellipse(_) | Shape::Freehand(_) => None,
    }
}

/// Something [`to_recist`] had to decide for the reader.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingIssue {
    /// The lesion.
    pub lesion_id: String,
    /// The timepoint.
    pub date: Date,
    /// What happened.
    pub message: String,
}

/// The lesion records the engine assesses: one per observation, with the
/// diameters of measured lesions computed from their geometry.
pub fn to_recist(patient: &Patient) -> (Vec<LesionRecord>, Vec<TrackingIssue>) {
    let mut records = Vec::new();
    let mut issues = Vec::new();
    let patient_id: std::sync::Arc<str> = patient.id.as_str().into();
    for timepoint in &patient.timepoints {
        let visit: std::sync::Arc<str> = patient.visit_label(timepoint.date).into();
        for lesion in &patient.lesions {
            let Some(finding) = patient.finding(&lesion.id, timepoint.date) else {
                continue;
            };
            let mut extra = match finding {
                Finding::Entered { extra, .. } => *extra,
                _ => ExtraValues::default(),
            };
            signal_values(patient, lesion, timepoint.date, &mut extra, &mut issues);
            let (mut long_axis_mm, mut short_axis_mm, status) = match finding {
                Finding::Stated(status) => (None, None, *status),
                Finding::Entered {
                    long_axis_mm,
                    short_axis_mm,
                    ..
                } => (
                    *long_axis_mm,
                    *short_axis_mm,
                    default_status(lesion.category),
                ),
                Finding::Measured(id) => {
                    let diameters = patient
                        .measurement(*id)
                        .and_then(|m| recist_diameters_mm(&m.measurement, lesion.lymph_node));
                    match (diameters, lesion.category) {
                        (Some((long, short)), Category::Target) => {
                            (long, short, LesionStatus::Measured)
                        }
                        (_, Category::NonTarget | Category::New) => {
                            (None, None, LesionStatus::Present)
                        }
                        (None, Category::Target) => {
                            issues.push(TrackingIssue {
                                lesion_id: lesion.id.clone(),
                                date: timepoint.date,
                                message: "measurement has no diameter in mm (no pixel spacing); not evaluable".into(),
                            });
                            (None, None, LesionStatus::NotEvaluable)
                        }
                    }
                }
            };
            if lesion.category != Category::Target {
                long_axis_mm = None;
                short_axis_mm = None;
            }
            records.push(LesionRecord {
                patient_id: patient_id.clone(),
                visit: visit.clone(),
                date: timepoint.date,
                lesion_id: lesion.id.as_str().into(),
                category: lesion.category,
                organ: lesion.organ.as_str().into(),
                lymph_node: lesion.lymph_node,
                long_axis_mm,
                short_axis_mm,
                status,
                volume_ml: patient
                    .segmentation(&lesion.id, timepoint.date)
                    .and_then(Segmentation::volume_ml)
                    .or(extra.volume_ml),
                t2_si: extra.t2_si,
                t2_ref_si: extra.t2_ref_si,
            });
        }
    }
    (records, issues)
}

/// Fills `t2_si` and `t2_ref_si` from the timepoint's signal ROIs: measured
/// ROIs replace imported values; the reference must be on the same series as
/// the lesion ROI (§11), else the pair is left out with an issue.
fn signal_values(
    patient: &Patient,
    lesion: &Lesion,
    date: Date,
    extra: &mut ExtraValues,
    issues: &mut Vec<TrackingIssue>,
) {
    let Some(lesion_roi) = patient.signal(date, &SignalRole::Lesion(lesion.id.clone())) else {
        return;
    };
    extra.t2_si = Some(lesion_roi.mean_si);
    extra.t2_ref_si = None;
    match patient.signal(date, &SignalRole::Reference) {
        Some(reference) if reference.series_uid == lesion_roi.series_uid => {
            extra.t2_ref_si = Some(reference.mean_si);
        }
        Some(_) => issues.push(TrackingIssue {
            lesion_id: lesion.id.clone(),
            date,
            message: "T2 reference ROI is on another series than the lesion ROI; no ratio".into(),
        }),
        None => issues.push(TrackingIssue {
            lesion_id: lesion.id.clone(),
            date,
            message: "T2 lesion ROI without a muscle reference ROI at this visit; no ratio".into(),
        }),
    }
}

fn default_status(category: Category) -> LesionStatus {
    match category {
        Category::Target => LesionStatus::Measured,
        Category::NonTarget | Category::New => LesionStatus::Present,
    }
}

/// The edit that imports lesion-table records of `patient` (rows of other
/// patients are ignored, unless the table holds a single other patient,
/// whose rows are taken as this patient's): timepoints by date, lesions from
/// their first row, observations as entered diameters or statuses. Existing
/// lesions with the same id are replaced; their observations at imported
/// dates are overwritten.
pub fn import_edit(patient: &Patient, records: &[LesionRecord]) -> Edit {
    let ids: std::collections::BTreeSet<&str> =
        records.iter().map(|r| r.patient_id.as_ref()).collect();
    let take_all = ids.len() == 1 && !ids.contains(patient.id.as_str());
    let rows: Vec<&LesionRecord> = records
        .iter()
        .filter(|r| take_all || *r.patient_id == *patient.id)
        .collect();
    let mut edits = Vec::new();
    let mut dates: Vec<(Date, String)> =
        rows.iter().map(|r| (r.date, r.visit.to_string())).collect();
    dates.sort();
    dates.dedup_by_key(|d| d.0);
    for (date, visit) in dates {
        edits.push(Edit::PutTimepoint(Timepoint {
            date,
            visit: Some(visit),
        }));
    }
    let mut seen = std::collections::HashSet::new();
    let mut sorted = rows.clone();
    sorted.sort_by_key(|r| r.date);
    for r in &sorted {
        if seen.insert(r.lesion_id.to_string()) {
            edits.push(Edit::PutLesion(Lesion {
                id: r.lesion_id.to_string(),
                category: r.category,
                organ: r.organ.to_string(),
                lymph_node: r.lymph_node,
            }));
        }
    }
    for r in &sorted {
        let finding = match r.status {
            LesionStatus::Measured => Finding::Entered {
                long_axis_mm: r.long_axis_mm,
                short_axis_mm: r.short_axis_mm,
                extra: ExtraValues {
                    volume_ml: r.volume_ml,
                    t2_si: r.t2_si,
                    t2_ref_si: r.t2_ref_si,
                },
            },
            LesionStatus::Present if r.category != Category::Target => {
                Finding::Stated(LesionStatus::Present)
            }
            status => Finding::Stated(status),
        };
        edits.push(Edit::SetObservation {
            lesion_id: r.lesion_id.to_string(),
            date: r.date,
            finding: Some(finding),
        });
    }
    Edit::Batch(edits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::Vec3;
    use crate::measure::{ImageRef, Length};
    use crate::volume::plane::Plane;

    fn date(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    fn length_mm(mm: f64) -> Measurement {
        Measurement {
            shape: Shape::Length(Length {
                start: Vec3::ZERO,
                end: Vec3::new(mm, 0.0, 0.0),
            }),
            image: ImageRef {
                series_instance_uid: "1".into(),
                sop_instance_uid: None,
                plane: Plane::Native,
                index: 0,
            },
            spacing_known: true,
        }
    }

    fn patient() -> Patient {
        let mut p = Patient::new("P1");
        for d in ["2024-01-08", "2024-03-04"] {
            p.apply(Edit::PutTimepoint(Timepoint {
                date: date(d),
                visit: None,
            }))
            .unwrap();
        }
        p
    }

    #[test]
    fn visit_labels_are_derived_from_days() {
        let p = patient();
        assert_eq!(p.visit_label(date("2024-01-08")), "baseline");
        assert_eq!(p.visit_label(date("2024-03-04")), "W8");
    }

    #[test]
    fn every_edit_undoes_exactly() {
        let mut p = patient();
        let id = p.next_measurement_id();
        let steps = vec![
            Edit::AddMeasurement(StoredMeasurement {
                id,
                date: date("2024-01-08"),
                measurement: length_mm(25.0),
            }),
            Edit::PutLesion(Lesion {
                id: "T1".into(),
                category: Category::Target,
                organ: "lung".into(),
                lymph_node: false,
            }),
            Edit::SetObservation {
                lesion_id: "T1".into(),
                date: date("2024-01-08"),
                finding: Some(Finding::Measured(id)),
            },
            Edit::SetShape {
                id,
                shape: length_mm(30.0).shape,
            },
            Edit::RemoveMeasurement(id),
            Edit::RemoveLesion("T1".into()),
        ];
        let mut history = Vec::new();
        let mut states = vec![p.clone()];
        for edit in steps {
            history.push(p.apply(edit).unwrap());
            states.push(p.clone());
        }
        states.pop();
        while let Some(inverse) = history.pop() {
            p.apply(inverse).unwrap();
            let expected = states.pop().unwrap();
            assert_eq!(p.measurements, expected.measurements);
            assert_eq!(p.lesions, expected.lesions);
            assert_eq!(p.observations, expected.observations);
        }
    }

    #[test]
    fn a_failing_batch_changes_nothing() {
        let mut p = patient();
        let before = p.clone();
        let result = p.apply(Edit::Batch(vec![
            Edit::PutLesion(Lesion {
                id: "T1".into(),
                category: Category::Target,
                organ: "lung".into(),
                lymph_node: false,
            }),
            Edit::SetObservation {
                lesion_id: "T1".into(),
                date: date("2024-01-08"),
                finding: Some(Finding::Stated(LesionStatus::Equivocal)),
            },
        ]));
        assert!(matches!(result, Err(TrackingError::StatusInvalid { .. })));
        assert_eq!(p, before);
    }

    #[test]
    fn a_node_measured_by_one_line_reports_its_short_axis() {
        let mut p = patient();
        let id = p.next_measurement_id();
        p.apply(Edit::Batch(vec![
            Edit::AddMeasurement(StoredMeasurement {
                id,
                date: date("2024-01-08"),
                measurement: length_mm(17.0),
            }),
            Edit::PutLesion(Lesion {
                id: "N1".into(),
                category: Category::Target,
                organ: "lymph node".into(),
                lymph_node: true,
            }),
            Edit::SetObservation {
                lesion_id: "N1".into(),
                date: date("2024-01-08"),
                finding: Some(Finding::Measured(id)),
            },
            Edit::SetObservation {
                lesion_id: "N1".into(),
                date: date("2024-03-04"),
                finding: Some(Finding::Stated(LesionStatus::TooSmall)),
            },
        ]))
        .unwrap();
        let (records, issues) = to_recist(&p);
        assert!(issues.is_empty());
        assert_eq!(records.len(), 2);
        assert_eq!(
            (records[0].long_axis_mm, records[0].short_axis_mm),
            (None, Some(17.0))
        );
        assert_eq!(records[1].status, LesionStatus::TooSmall);
        assert_eq!(&*records[1].visit, "W8");
    }

    #[test]
    fn an_roi_cannot_measure_a_target() {
        let mut p = patient();
        let id = p.next_measurement_id();
        let mut roi = length_mm(1.0);
        roi.shape = Shape::Freehand(crate::measure::FreehandRoi { points: vec![] });
        p.apply(Edit::AddMeasurement(StoredMeasurement {
            id,
            date: date("2024-01-08"),
            measurement: roi,
        }))
        .unwrap();
        p.apply(Edit::PutLesion(Lesion {
            id: "T1".into(),
            category: Category::Target,
            organ: "liver".into(),
            lymph_node: false,
        }))
        .unwrap();
        let r = p.apply(Edit::SetObservation {
            lesion_id: "T1".into(),
            date: date("2024-01-08"),
            finding: Some(Finding::Measured(id)),
        });
        assert_eq!(r, Err(TrackingError::NoDiameter));
    }

    #[test]
    fn a_fitted_volume_is_reported_only_beside_the_mask_it_was_fitted_to() {
        let mut g = segmentation("T1", "2024-01-08", 4);
        let counted = g.counted_volume_ml().unwrap();
        assert_eq!(g.volume_ml(), Some(counted));
        g.fitted_volume = Some(FittedVolume {
            volume_ml: 0.5,
            sd_ml: 0.01,
            mask_fingerprint: mask_fingerprint(&g.mask),
        });
        assert_eq!(g.volume_ml(), Some(0.5));
        assert_eq!(g.counted_volume_ml(), Some(counted));
        let mut p = patient();
        p.apply(target("T1")).unwrap();
        p.apply(Edit::PutSegmentation(g.clone())).unwrap();
        let stored = p.segmentation("T1", date("2024-01-08")).unwrap();
        assert_eq!(stored.volume_ml(), Some(0.5));
        // stored beside an edited mask: the count again
        g.mask.paint_slice(2, 0..1, 0..1, true, |_, _| true);
        p.apply(Edit::PutSegmentation(g.clone())).unwrap();
        let stored = p.segmentation("T1", date("2024-01-08")).unwrap();
        assert!(stored.adopted_fit().is_none());
        assert_eq!(stored.volume_ml(), g.counted_volume_ml());
    }

    #[test]
    fn the_mask_fingerprint_is_the_same_in_every_build() {
        // stored in project files: a change would orphan every reported
        // fitted volume
        let g = segmentation("T1", "2024-01-08", 4);
        assert_eq!(mask_fingerprint(&g.mask), FINGERPRINT_OF_FOUR_VOXELS);
        assert_ne!(
            mask_fingerprint(&segmentation("T1", "2024-01-08", 5).mask),
            FINGERPRINT_OF_FOUR_VOXELS
        );
    }

    const FINGERPRINT_OF_FOUR_VOXELS: u64 = 11_405_547_457_623_708_876;

    fn segmentation(lesion_id: &str, d: &str, voxels: usize) -> Segmentation {
        let mut mask = Mask::empty([4, 10, 10]);
        mask.paint_slice(1, 0..voxels, 0..1, true, |_, _| true);
        Segmentation {
            lesion_id: lesion_id.into(),
            date: date(d),
            series_uid: "1".into(),
            mask,
            voxel_size: Some(VoxelSize {
                pixel_spacing_mm: [1.0, 1.0],
                slice_extent_mm: vec![5.0; 4],
            }),
            fitted_volume: None,
        }
    }

    fn target(id: &str) -> Edit {
        Edit::PutLesion(Lesion {
            id: id.into(),
            category: Category::Target,
            organ: "liver".into(),
            lymph_node: false,
        })
    }

    #[test]
    fn segmentation_edits_undo_exactly_and_follow_their_lesion() {
        let mut p = patient();
        p.apply(target("T1")).unwrap();
        let start = p.clone();
        let put = p
            .apply(Edit::PutSegmentation(segmentation("T1", "2024-01-08", 4)))
            .unwrap();
        assert_eq!(
            put,
            Edit::RemoveSegmentation {
                lesion_id: "T1".into(),
                date: date("2024-01-08")
            }
        );
        let after_first = p.clone();
        let replace = p
            .apply(Edit::PutSegmentation(segmentation("T1", "2024-01-08", 6)))
            .unwrap();
        assert_eq!(p.segmentations.len(), 1);
        p.apply(replace).unwrap();
        assert_eq!(p, after_first);
        // deleting the lesion deletes its segmentation; undo restores both
        let undo = p.apply(Edit::RemoveLesion("T1".into())).unwrap();
        assert!(p.segmentations.is_empty());
        p.apply(undo).unwrap();
        assert_eq!(p.segmentations, after_first.segmentations);
        p.apply(put).unwrap();
        assert_eq!(p, start);
        // no lesion, no segmentation
        assert!(matches!(
            p.apply(Edit::PutSegmentation(segmentation("T9", "2024-01-08", 1))),
            Err(TrackingError::NoLesion(_))
        ));
    }

    #[test]
    fn to_recist_reports_the_segmented_volume() {
        let mut p = patient();
        p.apply(Edit::Batch(vec![
            target("T1"),
            Edit::SetObservation {
                lesion_id: "T1".into(),
                date: date("2024-01-08"),
                finding: Some(Finding::Entered {
                    long_axis_mm: Some(20.0),
                    short_axis_mm: None,
                    extra: ExtraValues {
                        volume_ml: Some(9.0),
                        ..Default::default()
                    },
                }),
            },
            Edit::SetObservation {
                lesion_id: "T1".into(),
                date: date("2024-03-04"),
                finding: Some(Finding::Entered {
                    long_axis_mm: Some(20.0),
                    short_axis_mm: None,
                    extra: ExtraValues {
                        volume_ml: Some(9.0),
                        ..Default::default()
                    },
                }),
            },
            Edit::PutSegmentation(segmentation("T1", "2024-01-08", 4)),
        ]))
        .unwrap();
        let (records, _) = to_recist(&p);
        // 4 voxels of 1 × 1 × 5 mm = 0.02 mL from the mask; the entered value elsewhere
        assert_eq!(records[0].volume_ml, Some(0.02));
        assert_eq!(records[1].volume_ml, Some(9.0));
        let mut no_spacing = segmentation("T1", "2024-03-04", 2);
        no_spacing.voxel_size = None;
        assert_eq!(no_spacing.volume_ml(), None);
    }

    #[test]
    fn lesion_ids_follow_the_category() {
        let p = patient();
        assert_eq!(p.next_lesion_id(Category::Target, false), "T1");
        assert_eq!(p.next_lesion_id(Category::Target, true), "N1");
        assert_eq!(p.next_lesion_id(Category::NonTarget, false), "NT1");
        assert_eq!(p.next_lesion_id(Category::New, false), "NL1");
    }

    fn roi_measurement(series: &str) -> Measurement {
        let mut roi = length_mm(1.0);
        roi.shape = Shape::Freehand(crate::measure::FreehandRoi {
            points: vec![
                Vec3::ZERO,
                Vec3::new(1.0, 0.0, 0.0),
                Vec3::new(0.0, 1.0, 0.0),
            ],
        });
        roi.image.series_instance_uid = series.into();
        roi
    }

    /// A patient with target T1 measured at both visits (entered diameters,
    /// imported T2 values) and two ROI measurements on series "MR".
    fn patient_with_rois() -> (Patient, MeasurementId, MeasurementId) {
        let mut p = patient();
        let lesion_roi = p.next_measurement_id();
        let muscle_roi = p.next_measurement_id();
        let mut edits = vec![
            Edit::AddMeasurement(StoredMeasurement {
                id: lesion_roi,
                date: date("2024-01-08"),
                measurement: roi_measurement("MR"),
            }),
            Edit::AddMeasurement(StoredMeasurement {
                id: muscle_roi,
                date: date("2024-01-08"),
                measurement: roi_measurement("MR"),
            }),
            Edit::PutLesion(Lesion {
                id: "T1".into(),
                category: Category::Target,
                organ: "abdominal wall".into(),
                lymph_node: false,
            }),
        ];
        for d in ["2024-01-08", "2024-03-04"] {
            edits.push(Edit::SetObservation {
                lesion_id: "T1".into(),
                date: date(d),
                finding: Some(Finding::Entered {
                    long_axis_mm: Some(50.0),
                    short_axis_mm: None,
                    extra: ExtraValues {
                        volume_ml: None,
                        t2_si: Some(1.0),
                        t2_ref_si: Some(1.0),
                    },
                }),
            });
        }
        p.apply(Edit::Batch(edits)).unwrap();
        (p, lesion_roi, muscle_roi)
    }

    fn signal(role: SignalRole, measurement: MeasurementId, series: &str, mean: f64) -> Edit {
        Edit::SetSignal {
            date: date("2024-01-08"),
            role: role.clone(),
            signal: Some(SignalRoi {
                date: date("2024-01-08"),
                role,
                source: SignalSource::Measurement(measurement),
                series_uid: series.into(),
                mean_si: mean,
                pixels: 40,
            }),
        }
    }

    #[test]
    fn measured_signal_replaces_imported_values_in_the_records() {
        let (mut p, lesion_roi, muscle_roi) = patient_with_rois();
        p.apply(signal(
            SignalRole::Lesion("T1".into()),
            lesion_roi,
            "MR",
            700.0,
        ))
        .unwrap();
        p.apply(signal(SignalRole::Reference, muscle_roi, "MR", 200.0))
            .unwrap();
        let (records, issues) = to_recist(&p);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(
            (records[0].t2_si, records[0].t2_ref_si),
            (Some(700.0), Some(200.0))
        );
        // The other visit keeps its imported values.
        assert_eq!(
            (records[1].t2_si, records[1].t2_ref_si),
            (Some(1.0), Some(1.0))
        );
    }

    #[test]
    fn a_reference_on_another_series_gives_no_ratio() {
        let (mut p, lesion_roi, muscle_roi) = patient_with_rois();
        p.apply(signal(
            SignalRole::Lesion("T1".into()),
            lesion_roi,
            "MR",
            700.0,
        ))
        .unwrap();
        p.apply(signal(SignalRole::Reference, muscle_roi, "OTHER", 200.0))
            .unwrap();
        let (records, issues) = to_recist(&p);
        assert_eq!(
            (records[0].t2_si, records[0].t2_ref_si),
            (Some(700.0), None)
        );
        assert_eq!(issues.len(), 1);
        assert!(issues[0].message.contains("another series"));
    }

    #[test]
    fn a_lesion_roi_without_reference_is_reported() {
        let (mut p, lesion_roi, _) = patient_with_rois();
        p.apply(signal(
            SignalRole::Lesion("T1".into()),
            lesion_roi,
            "MR",
            700.0,
        ))
        .unwrap();
        let (records, issues) = to_recist(&p);
        assert_eq!(records[0].t2_ref_si, None);
        assert!(issues[0].message.contains("without a muscle reference"));
    }

    #[test]
    fn a_signal_needs_a_region_a_lesion_and_a_timepoint() {
        let (mut p, lesion_roi, _) = patient_with_rois();
        let line = p.next_measurement_id();
        p.apply(Edit::AddMeasurement(StoredMeasurement {
            id: line,
            date: date("2024-01-08"),
            measurement: length_mm(3.0),
        }))
        .unwrap();
        assert_eq!(
            p.apply(signal(SignalRole::Reference, line, "MR", 1.0)),
            Err(TrackingError::NotARegion)
        );
        assert_eq!(
            p.apply(signal(
                SignalRole::Lesion("T9".into()),
                lesion_roi,
                "MR",
                1.0
            )),
            Err(TrackingError::NoLesion("T9".into()))
        );
        let mut wrong_date = signal(SignalRole::Reference, lesion_roi, "MR", 1.0);
        if let Edit::SetSignal { date: d, .. } = &mut wrong_date {
            *d = date("2024-03-04");
        }
        assert_eq!(p.apply(wrong_date), Err(TrackingError::SignalMismatch));
    }

    #[test]
    fn removing_what_a_signal_uses_removes_it_and_undo_restores_it() {
        for removal in [
            Edit::RemoveMeasurement(MeasurementId(1)),
            Edit::RemoveLesion("T1".into()),
            Edit::RemoveTimepoint(date("2024-01-08")),
        ] {
            let (mut p, lesion_roi, muscle_roi) = patient_with_rois();
            assert_eq!(lesion_roi, MeasurementId(1));
            p.apply(signal(
                SignalRole::Lesion("T1".into()),
                lesion_roi,
                "MR",
                700.0,
            ))
            .unwrap();
            p.apply(signal(SignalRole::Reference, muscle_roi, "MR", 200.0))
                .unwrap();
            let before = p.clone();
            let inverse = p.apply(removal.clone()).unwrap();
            assert!(
                p.signal(date("2024-01-08"), &SignalRole::Lesion("T1".into()))
                    .is_none(),
                "{removal:?}"
            );
            p.apply(inverse).unwrap();
            let mut restored = p.signals.clone();
            let mut expected = before.signals.clone();
            restored.sort_by(|a, b| a.role.cmp(&b.role));
            expected.sort_by(|a, b| a.role.cmp(&b.role));
            assert_eq!(restored, expected, "{removal:?}");
        }
    }

    #[test]
    fn setting_a_signal_undoes_to_the_previous_one() {
        let (mut p, lesion_roi, _) = patient_with_rois();
        let role = SignalRole::Lesion("T1".into());
        p.apply(signal(role.clone(), lesion_roi, "MR", 700.0))
            .unwrap();
        let undo = p
            .apply(signal(role.clone(), lesion_roi, "MR", 650.0))
            .unwrap();
        assert_eq!(p.signal(date("2024-01-08"), &role).unwrap().mean_si, 650.0);
        p.apply(undo).unwrap();
        assert_eq!(p.signal(date("2024-01-08"), &role).unwrap().mean_si, 700.0);
        assert_eq!(p.signals.len(), 1);
    }
}
