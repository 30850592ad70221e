//! Segmentation in the session: the Segment (seed click or box), Brush and
//! Eraser gestures on a pane, interpolation, deletion and the "propose
//! diameters" action. Each gesture becomes one [`Edit`] — one undo step.
//!
//! A segmentation belongs to the selected lesion at the timepoint of the
//! pane's series; with no lesion selected the reader is told so.

use super::Workspace;
use crate::geom::Vec3;
use crate::measure::{ImageRef, Measurement, Shape};
use crate::recist::Date;
use crate::segment::{
    EllipsoidFit, GrowBox, GrowParams, Mask, VoxelSize, brush, grow, interpolate_gaps,
    propose_bidirectional, propose_from_ellipsoid,
};
use crate::tools::Tool;
use crate::tracking::{
    Edit, Finding, FittedVolume, Segmentation, StoredMeasurement, mask_fingerprint,
};
use crate::volume::plane::Plane;

/// A segmentation gesture in progress.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentGesture {
    /// Segment tool: a click seeds, a drag draws the box to grow in.
    Grow {
        /// Pane.
        pane: usize,
        /// Press point.
        start: Vec3,
        /// Pointer now.
        current: Vec3,
        /// Smallest drag that counts as a box.
        min_extent: f64,
    },
    /// Brush or eraser stroke on one native slice.
    Paint {
        /// Pane.
        pane: usize,
        /// Eraser (true) or brush.
        erase: bool,
        /// The segmentation as it will be stored when the stroke ends.
        working: Segmentation,
        /// The native slice.
        slice: usize,
    },
}

/// Segmentation state of the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentState {
    /// The gesture in progress.
    pub gesture: Option<SegmentGesture>,
    /// Brush and eraser radius, mm.
    pub brush_radius_mm: f64,
}

impl Default for SegmentState {
    fn default() -> Self {
        SegmentState {
            gesture: None,
            brush_radius_mm: 4.0,
        }
    }
}

impl Tool {
    /// Whether this tool edits segmentations (Segment, Brush, Eraser).
    pub fn segments(self) -> bool {
        matches!(self, Tool::Segment | Tool::Brush | Tool::Eraser)
    }
}

impl Workspace {
    /// The lesion and date a gesture on `pane` segments; a message when there is none.
    fn segment_target(&mut self, pane: usize) -> Option<(String, Date)> {
        let date = self.pane_series(pane).and_then(|e| e.date);
        let Some(lesion) = self.selected_lesion.clone() else {
            self.messages.push(
                "Select a lesion in the lesion panel (or make one) before segmenting.".into(),
            );
            return None;
        };
        let Some(date) = date else {
            self.messages
                .push("This series has no study date: no timepoint to segment at.".into());
            return None;
        };
        Some((lesion, date))
    }

    /// Voxel `[slice, row, column]` (rounded) of a patient point on a pane's series.
    fn voxel_on_pane(&self, pane: usize, at: Vec3) -> Option<[usize; 3]> {
        let entry = self.pane_series(pane)?;
        let [c, r, s] = entry.geometry.geometry.voxel_from_patient(at)?;
        let v = entry.volume();
        let inside = |x: f64, n: usize| x > -0.5 && x < n as f64 - 0.5;
        (inside(s, v.slices()) && inside(r, v.rows()) && inside(c, v.columns()))
            .then(|| [s.round() as usize, r.round() as usize, c.round() as usize])
    }

    /// The segmentation of a lesion at a date on the current patient.
    pub fn segmentation_of(&self, lesion_id: &str, date: Date) -> Option<&Segmentation> {
        self.current_patient()?.segmentation(lesion_id, date)
    }

    /// Masks to draw on a pane: `(lesion id, mask)` of the segmentations on
    /// the pane's series, the stroke in progress replacing its stored mask.
    pub fn pane_masks(&self, pane: usize) -> Vec<(String, &Mask)> {
        let (Some(entry), Some(patient)) = (self.pane_series(pane), self.current_patient()) else {
            return Vec::new();
        };
        let uid = entry.uid();
        let painting = match &self.segment.gesture {
            Some(SegmentGesture::Paint { working, .. }) => Some(working),
            _ => None,
        };
        let mut out: Vec<(String, &Mask)> = patient
            .segmentations
            .iter()
            .filter(|s| s.series_uid == uid)
            .filter(|s| painting.is_none_or(|w| !(w.lesion_id == s.lesion_id && w.date == s.date)))
            .map(|s| (s.lesion_id.clone(), &s.mask))
            .collect();
        if let Some(w) = painting
            && w.series_uid == uid
        {
            out.push((w.lesion_id.clone(), &w.mask));
        }
        out
    }

    /// Starts, continues or ends a segmentation gesture (the active tool
    /// is Segment, Brush or Eraser).
    pub(super) fn segment_pointer(&mut self, pane: usize, event: super::PointerEvent) {
        use super::PointerEvent;
        match event {
            PointerEvent::Press { at, plane, .. } => {
                self.segment.gesture = None;
                self.gesture_pane = None;
                let Some((lesion_id, date)) = self.segment_target(pane) else {
                    return;
                };
                match self.tools.active {
                    Tool::Segment => {
                        self.segment.gesture = Some(SegmentGesture::Grow {
                            pane,
                            start: at,
                            current: at,
                            min_extent: plane.min_extent,
                        });
                    }
                    Tool::Brush | Tool::Eraser => {
                        if self.panes.get(pane).map(|p| p.plane) != Some(Plane::Native) {
                            self.messages
                                .push("Brush and eraser work on the axial (native) pane.".into());
                            return;
                        }
                        let Some(entry) = self.pane_series(pane) else {
                            return;
                        };
                        let volume = entry.volume();
                        let grid = [volume.slices(), volume.rows(), volume.columns()];
                        let uid = entry.uid().to_string();
                        let slice = entry.view.index_of(Plane::Native);
                        let voxel_size = VoxelSize::of(volume).ok();
                        let mask = self
                            .segmentation_of(&lesion_id, date)
                            .filter(|s| s.series_uid == uid)
                            .map_or_else(|| Mask::empty(grid), |s| s.mask.clone());
                        self.segment.gesture = Some(SegmentGesture::Paint {
                            pane,
                            erase: self.tools.active == Tool::Eraser,
                            working: Segmentation {
                                lesion_id,
                                date,
                                series_uid: uid,
                                mask,
                                voxel_size,
                                fitted_volume: None,
                            },
                            slice,
                        });
                        self.paint_at(at);
                    }
                    _ => return,
                }
                self.gesture_pane = Some(pane);
            }
            PointerEvent::Drag(at) => {
                if self.gesture_pane != Some(pane) {
                    return;
                }
                match &mut self.segment.gesture {
                    Some(SegmentGesture::Grow { current, .. }) => *current = at,
                    Some(SegmentGesture::Paint { .. }) => self.paint_at(at),
                    None => {}
                }
            }
            PointerEvent::Release(at) => {
                if self.gesture_pane != Some(pane) {
                    return;
                }
                self.gesture_pane = None;
                match self.segment.gesture.take() {
                    Some(SegmentGesture::Grow {
                        pane,
                        start,
                        min_extent,
                        ..
                    }) => {
                        let boxed = (start.distance(at) >= min_extent).then_some((start, at));
                        let seed = boxed.map_or(start, |(a, b)| (a + b) * 0.5);
                        self.grow_at(pane, seed, boxed);
                    }
                    Some(SegmentGesture::Paint { working, .. }) => {
                        self.store_segmentation(working);
                    }
                    None => {}
                }
            }
        }
    }

    fn paint_at(&mut self, at: Vec3) {
        let radius = self.segment.brush_radius_mm;
        let Some(SegmentGesture::Paint { pane, slice, .. }) = &self.segment.gesture else {
            return;
        };
        let (pane, slice) = (*pane, *slice);
        let Some(entry) = self.pane_series(pane) else {
            return;
        };
        let Some([c, r, _]) = entry.geometry.geometry.voxel_from_patient(at) else {
            return;
        };
        let spacing = entry
            .volume()
            .geometry
            .pixel_spacing_mm
            .unwrap_or([1.0, 1.0]);
        if let Some(SegmentGesture::Paint { working, erase, .. }) = &mut self.segment.gesture {
            brush(&mut working.mask, slice, [r, c], radius, spacing, !*erase);
        }
    }

    /// Grows a region from `seed` (patient point) on a pane's series for the
    /// selected lesion, inside the box with corners `boxed` if given; one
    /// undo step.
    pub fn grow_at(&mut self, pane: usize, seed: Vec3, boxed: Option<(Vec3, Vec3)>) {
        let Some((lesion_id, date)) = self.segment_target(pane) else {
            return;
        };
        let Some(voxel) = self.voxel_on_pane(pane, seed) else {
            self.messages.push("The seed is outside the image.".into());
            return;
        };
        let Some(entry) = self.pane_series(pane) else {
            return;
        };
        let bounds = boxed.and_then(|(a, b)| {
            let g = &entry.geometry.geometry;
            let [c0, r0, s0] = g.voxel_from_patient(a)?;
            let [c1, r1, s1] = g.voxel_from_patient(b)?;
            let range = |x: f64, y: f64| {
                x.min(y).round().max(0.0) as usize..x.max(y).round().max(0.0) as usize + 1
            };
            let plane = self.panes.get(pane)?.plane;
            Some(GrowBox {
                rows: if plane == Plane::FixedRow {
                    0..usize::MAX
                } else {
                    range(r0, r1)
                },
                columns: if plane == Plane::FixedColumn {
                    0..usize::MAX
                } else {
                    range(c0, c1)
                },
                slices: (plane != Plane::Native).then(|| range(s0, s1)),
            })
        });
        let volume = entry.volume();
        let params = GrowParams {
            bounds,
            ..GrowParams::default()
        };
        match grow(volume, voxel, &params) {
            Ok(grown) => {
                let segmentation = Segmentation {
                    lesion_id,
                    date,
                    series_uid: entry.uid().to_string(),
                    mask: grown.mask,
                    voxel_size: VoxelSize::of(volume).ok(),
                    fitted_volume: None,
                };
                if grown.hit_limit {
                    self.messages.push(
                        "The region reached the search limit: it may have leaked. Drag a box around the lesion with the Segment tool, or erase the excess."
                            .into(),
                    );
                } else {
                    // say what was grown, so an earlier warning does not
                    // stand in the status bar beside a good mask
                    let voxels = segmentation.mask.count();
                    let volume = segmentation
                        .voxel_size
                        .as_ref()
                        .and_then(|size| size.volume_ml(&segmentation.mask))
                        .map_or(String::new(), |ml| format!("{ml:.2} mL, "));
                    self.messages.push(format!(
                        "{} at {}: grown, {volume}{voxels} voxels.",
                        segmentation.lesion_id, segmentation.date
                    ));
                }
                if segmentation.voxel_size.is_none() {
                    self.messages.push(
                        "No pixel or slice spacing: the volume cannot be given in mL.".into(),
                    );
                }
                self.store_segmentation(segmentation);
            }
            Err(e) => self.messages.push(e.to_string()),
        }
    }

    /// Stores a segmentation as one undo step (an empty mask deletes it).
    fn store_segmentation(&mut self, segmentation: Segmentation) {
        let existing = self
            .segmentation_of(&segmentation.lesion_id, segmentation.date)
            .cloned();
        if existing.as_ref() == Some(&segmentation) {
            return;
        }
        if segmentation.mask.is_empty() {
            if existing.is_some() {
                self.edit(Edit::RemoveSegmentation {
                    lesion_id: segmentation.lesion_id,
                    date: segmentation.date,
                });
            }
            return;
        }
        self.edit(Edit::PutSegmentation(segmentation));
    }

    /// The selected lesion's segmentation at the active pane's timepoint.
    fn selected_segmentation(&mut self) -> Option<Segmentation> {
        let lesion = self.selected_lesion.clone();
        let date = self.current_date();
        let found = lesion
            .as_deref()
            .zip(date)
            .and_then(|(l, d)| self.segmentation_of(l, d).cloned());
        if found.is_none() {
            self.messages.push(
                "No segmentation of the selected lesion at this timepoint (grow one with the Segment tool, G)."
                    .into(),
            );
        }
        found
    }

    /// Interpolates the selected lesion's mask between its painted slices.
    pub(super) fn interpolate_segmentation(&mut self) {
        let Some(mut segmentation) = self.selected_segmentation() else {
            return;
        };
        let spacing = segmentation
            .voxel_size
            .as_ref()
            .map_or([1.0, 1.0], |v| v.pixel_spacing_mm);
        let filled = interpolate_gaps(&mut segmentation.mask, spacing);
        // a volume fitted to the mask before does not describe the new one
        segmentation.fitted_volume = None;
        if filled == 0 {
            self.messages
                .push("Nothing to interpolate: paint two slices with a gap between them.".into());
            return;
        }
        self.store_segmentation(segmentation);
    }

    /// Reports the selected lesion's volume at this timepoint from `fit`
    /// (an accepted ellipsoid fit of its mask as it is now), or with
    /// `None` from the voxel count again; one undo step, in the audit trail.
    pub(super) fn report_fitted_volume(&mut self, fit: Option<&EllipsoidFit>) {
        let Some(mut segmentation) = self.selected_segmentation() else {
            return;
        };
        let what = format!("{} at {}", segmentation.lesion_id, segmentation.date);
        let ml = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.2} mL"));
        match fit {
            Some(fit) => {
                if !fit.accepted {
                    self.messages.push(format!(
                        "{what}: the ellipsoid fit is not accepted ({}); the volume stays the voxel count.",
                        fit.rejection.as_deref().unwrap_or("no reason given")
                    ));
                    return;
                }
                // a fit of another mask (the count it saw differs)
                let counted = segmentation.counted_volume_ml();
                if counted.is_none_or(|c| (c - fit.voxel_count_ml).abs() > 1e-9) {
                    self.messages.push(format!(
                        "{what}: the mask has changed since the fit; fit it again."
                    ));
                    return;
                }
                segmentation.fitted_volume = Some(FittedVolume {
                    volume_ml: fit.volume_ml,
                    sd_ml: fit.volume_sd_ml,
                    mask_fingerprint: mask_fingerprint(&segmentation.mask),
                });
                self.messages.push(format!(
                    "{what}: volume {:.2} ± {:.2} mL from the ellipsoid fit (voxel count {}).",
                    fit.volume_ml,
                    fit.volume_sd_ml,
                    ml(counted)
                ));
            }
            None => {
                segmentation.fitted_volume = None;
                self.messages.push(format!(
                    "{what}: volume {} from the voxel count.",
                    ml(segmentation.counted_volume_ml())
                ));
            }
        }
        self.store_segmentation(segmentation);
    }

    /// Deletes the selected lesion's mask at the active pane's timepoint.
    pub(super) fn delete_segmentation(&mut self) {
        if let Some(s) = self.selected_segmentation() {
            self.edit(Edit::RemoveSegmentation {
                lesion_id: s.lesion_id,
                date: s.date,
            });
        }
    }

    /// Creates the bidirectional measurement proposed from the selected
    /// lesion's mask — from `fit`, an ellipsoid fitted to that mask, when
    /// the fit is accepted — and makes it the lesion's finding (one undo
    /// step); the panes go to its slice and it is selected for editing.
    pub(super) fn propose_diameters(&mut self, fit: Option<&EllipsoidFit>) {
        let Some(segmentation) = self.selected_segmentation() else {
            return;
        };
        let Some(index) = self
            .series
            .iter()
            .position(|e| e.uid() == segmentation.series_uid)
        else {
            self.messages
                .push("The series of this segmentation is not loaded.".into());
            return;
        };
        let entry = &self.series[index];
        // the accepted fit's section where it is largest, free of the edge
        // pixels' noise; else the mask's extreme pixels
        let from_fit = fit
            .filter(|f| f.accepted)
            .and_then(|f| propose_from_ellipsoid(f, &entry.geometry.geometry).ok());
        let source = if from_fit.is_some() {
            "the ellipsoid fit"
        } else {
            "the mask"
        };
        let proposal = match from_fit.map_or_else(
            || propose_bidirectional(&segmentation.mask, &entry.geometry.geometry),
            Ok,
        ) {
            Ok(p) => p,
            Err(e) => {
                self.messages.push(e.to_string());
                return;
            }
        };
        let measurement = Measurement {
            shape: Shape::Bidirectional(proposal.bidirectional),
            image: ImageRef {
                series_instance_uid: segmentation.series_uid.clone(),
                sop_instance_uid: entry
                    .volume()
                    .instances_in_order
                    .get(proposal.slice)
                    .cloned(),
                plane: Plane::Native,
                index: proposal.slice,
            },
            spacing_known: entry.geometry.spacing_known,
        };
        let Some(key) = self.current_patient_key() else {
            return;
        };
        let Some(patient) = self.patients.get_mut(&key) else {
            return;
        };
        let id = patient.next_measurement_id();
        self.edit(Edit::Batch(vec![
            Edit::AddMeasurement(StoredMeasurement {
                id,
                date: segmentation.date,
                measurement,
            }),
            Edit::SetObservation {
                lesion_id: segmentation.lesion_id.clone(),
                date: segmentation.date,
                finding: Some(Finding::Measured(id)),
            },
        ]));
        if self
            .current_patient()
            .is_some_and(|p| p.measurement(id).is_some())
        {
            self.tools.selected = Some(id);
            for pane in 0..self.layout.pane_count() {
                if self.panes[pane].series == Some(index) && self.panes[pane].plane == Plane::Native
                {
                    self.apply(super::Command::SetSlice {
                        pane,
                        index: proposal.slice,
                    });
                }
            }
            self.messages.push(format!(
                "Proposed {:.1} × {:.1} mm from {source}; drag the handles to edit.",
                proposal.long_mm, proposal.short_mm
            ));
        }
    }

    /// Brings each pane not yet `moved` to the centre of the lesion's mask
    /// on the pane's series, if there is one.
    pub(super) fn go_to_masks(&mut self, lesion_id: &str, moved: &mut [bool; 3]) {
        for pane in 0..self.layout.pane_count() {
            if moved.get(pane).copied().unwrap_or(true) {
                continue;
            }
            let Some(uid) = self.pane_series(pane).map(|e| e.uid().to_string()) else {
                continue;
            };
            let centre = self.current_patient().and_then(|p| {
                let seg = p
                    .segmentations
                    .iter()
                    .find(|s| s.lesion_id == lesion_id && s.series_uid == uid)?;
                let (origin, size) = seg.mask.bounds();
                (!seg.mask.is_empty()).then(|| [0, 1, 2].map(|a| origin[a] + size[a] / 2))
            });
            let Some([s, r, c]) = centre else {
                continue;
            };
            if let Some(entry) = self
                .panes
                .get(pane)
                .and_then(|p| p.series)
                .and_then(|i| self.series.get_mut(i))
            {
                entry.view.set_index(Plane::Native, s, &entry.loaded.volume);
                entry
                    .view
                    .set_index(Plane::FixedRow, r, &entry.loaded.volume);
                entry
                    .view
                    .set_index(Plane::FixedColumn, c, &entry.loaded.volume);
                if let Some(m) = moved.get_mut(pane) {
                    *m = true;
                }
            }
        }
    }

    /// Volume (mL) of a lesion's segmentation at a date, if any and known.
    pub fn segmentation_volume_ml(&self, lesion_id: &str, date: Date) -> Option<f64> {
        self.segmentation_of(lesion_id, date)?.volume_ml()
    }
}

/// Exploratory volumetric response of one visit (recist-1.1.md §10): the
/// RECIST diameter thresholds cubed — not RECIST.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumetricRow {
    /// Visit label.
    pub visit: String,
    /// Sum of target volumes (mL), when every target has one.
    pub volume_ml: Option<f64>,
    /// Change from the baseline sum, %.
    pub vs_baseline_pct: Option<f64>,
    /// Change from the smallest earlier sum (baseline included), %.
    pub vs_nadir_pct: Option<f64>,
    /// `PR` (≤ −65 % vs baseline), `PD` (≥ +73 % vs nadir), `SD`, or `—`.
    pub category: &'static str,
}

/// PR threshold on the volume sum versus baseline, % ((1 − 0.30)³ − 1).
pub const VOLUME_PR_PCT: f64 = -65.0;
/// PD threshold on the volume sum versus nadir, % (1.20³ − 1).
pub const VOLUME_PD_PCT: f64 = 73.0;

/// The volumetric rows of an assessment: baseline first, then each visit.
pub fn volumetric_rows(result: &crate::recist::PatientAssessment) -> Vec<VolumetricRow> {
    let pct = |v: f64, of: f64| (of > 0.0).then(|| 100.0 * (v / of - 1.0));
    let baseline = result.baseline_volume_ml;
    let mut rows = vec![VolumetricRow {
        visit: result
            .baseline_visit
            .clone()
            .unwrap_or_else(|| "baseline".into()),
        volume_ml: baseline,
        vs_baseline_pct: None,
        vs_nadir_pct: None,
        category: "—",
    }];
    let mut nadir = baseline;
    for t in &result.timepoints {
        let vs_baseline = t.volume_ml.zip(baseline).and_then(|(v, b)| pct(v, b));
        let vs_nadir = t.volume_ml.zip(nadir).and_then(|(v, n)| pct(v, n));
        let category = match (t.volume_ml, vs_baseline, vs_nadir) {
            (None, ..) => "—",
            (_, _, Some(n)) if n >= VOLUME_PD_PCT => "PD",
            (_, Some(b), _) if b <= VOLUME_PR_PCT => "PR",
            (_, Some(_), _) => "SD",
            _ => "—",
        };
        rows.push(VolumetricRow {
            visit: t.visit.clone(),
            volume_ml: t.volume_ml,
            vs_baseline_pct: vs_baseline,
            vs_nadir_pct: vs_nadir,
            category,
        });
        if let Some(v) = t.volume_ml {
            nadir = Some(nadir.map_or(v, |n: f64| n.min(v)));
        }
    }
    rows
}
