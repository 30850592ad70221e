//! Segmentation in the workstation: masks outlined and lightly filled on
//! every pane of their series, the lesion panel's volume and mask actions,
//! and the exploratory volumetric response beside RECIST.

use std::sync::Arc;

use egui::{Color32, Rect, RichText, Stroke};

use super::viewport::ScreenMap;
use crate::recist::{Category, Date};
use crate::segment::{FitJob, fill_runs, mask_stats, outline, partial_volume_ml};
use crate::session::segmentation::{VOLUME_PD_PCT, VOLUME_PR_PCT, volumetric_rows};
use crate::session::{Command, SegmentGesture, Workspace};
use crate::tracking::{Lesion, Patient};

fn mask_colour(category: Option<Category>, selected: bool) -> Color32 {
    let base = match category {
        Some(Category::Target) | None => Color32::from_rgb(90, 220, 140),
        Some(Category::NonTarget) => Color32::from_rgb(190, 160, 240),
        Some(Category::New) => Color32::from_rgb(245, 130, 120),
    };
    if selected {
        base
    } else {
        base.gamma_multiply(0.7)
    }
}

/// Draws the masks of the pane's series: a light fill and the outline.
pub fn mask_overlay_ui(
    painter: &egui::Painter,
    workspace: &Workspace,
    pane: usize,
    map: &ScreenMap,
) {
    let Some(patient) = workspace.current_patient() else {
        return;
    };
    let frame = map.frame;
    // the box being dragged with the Segment tool
    if let Some(SegmentGesture::Grow {
        pane: gesture_pane,
        start,
        current,
        ..
    }) = &workspace.segment.gesture
        && *gesture_pane == pane
        && let Some(entry) = workspace.pane_series(pane)
    {
        let screen = |p| {
            entry
                .geometry
                .plane_from_point(&frame, p)
                .map(|(u, v, _)| map.screen_from_plane(u, v))
        };
        if let (Some(a), Some(b)) = (screen(*start), screen(*current)) {
            painter.rect_stroke(
                Rect::from_two_pos(a, b),
                0.0,
                Stroke::new(1.0, Color32::from_rgb(90, 220, 140)),
                egui::StrokeKind::Middle,
            );
        }
    }
    for (lesion_id, mask) in workspace.pane_masks(pane) {
        let selected = workspace.selected_lesion.as_deref() == Some(lesion_id.as_str());
        let colour = mask_colour(patient.lesion(&lesion_id).map(|l| l.category), selected);
        let fill = colour.gamma_multiply(if selected { 0.28 } else { 0.18 });
        for [v, first, last] in fill_runs(mask, &frame) {
            let a = map.screen_from_plane(first - 0.5, v - 0.5);
            let b = map.screen_from_plane(last + 0.5, v + 0.5);
            painter.rect_filled(Rect::from_two_pos(a, b), 0.0, fill);
        }
        let stroke = Stroke::new(if selected { 1.6 } else { 1.1 }, colour);
        for [p, q] in outline(mask, &frame) {
            painter.line_segment(
                [
                    map.screen_from_plane(p.0, p.1),
                    map.screen_from_plane(q.0, q.1),
                ],
                stroke,
            );
        }
    }
}

/// Volume text of a lesion at a date for the lesion table (`""` without one).
pub fn volume_cell(workspace: &Workspace, lesion_id: &str, date: Date) -> String {
    match workspace.segmentation_of(lesion_id, date) {
        Some(s) => match s.volume_ml() {
            Some(v) => format!(" · {v:.2} mL"),
            None => " · mask (no spacing)".into(),
        },
        None => String::new(),
    }
}

/// The lesion panel's segmentation part for the selected lesion at `date`:
/// volume and statistics, brush radius, interpolate / propose / delete.
pub fn segmentation_panel_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    patient: &Patient,
    lesion: &Lesion,
    date: Date,
    commands: &mut Vec<Command>,
) {
    ui.separator();
    let segmentation = patient.segmentation(&lesion.id, date);
    // the mask hashed once per frame for every figure kept under it
    let key = segmentation.map(mask_key);
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("3-D mask").strong());
        match segmentation {
            None => {
                ui.label(
                    RichText::new("none — Segment (G): click inside the lesion")
                        .weak()
                        .small(),
                );
            }
            Some(s) => {
                let adopted = s.adopted_fit();
                let volume = match (adopted, s.counted_volume_ml()) {
                    (Some(fit), _) => format!("{:.2} ± {:.2} mL (ellipsoid fit)", fit.volume_ml, fit.sd_ml),
                    (None, Some(v)) => format!("{v:.2} mL"),
                    (None, None) => "volume unknown (no spacing)".into(),
                };
                ui.label(RichText::new(volume).strong()).on_hover_text(
                    "The reported volume (the lesion table's volume_ml): the mask's voxel count, \
                     or the ellipsoid fit's when the reader chose to report it",
                );
                if adopted.is_some() {
                    if let Some(count) = s.counted_volume_ml() {
                        ui.label(RichText::new(format!("voxel count {count:.2} mL")).small().weak());
                    }
                    if ui
                        .small_button("Report the voxel count")
                        .on_hover_text("Report the mask's voxel count as this lesion's volume again")
                        .clicked()
                    {
                        commands.push(Command::ReportVoxelCount);
                    }
                }
                let entry = workspace.series.iter().find(|e| e.uid() == s.series_uid);
                if let Some(stats) = entry.and_then(|e| mask_stats(e.volume(), &s.mask).ok()) {
                    ui.label(format!(
                        "{} voxels · mean {:.0} · SD {:.0} · {:.0}…{:.0}",
                        stats.voxels, stats.mean, stats.sd, stats.min, stats.max
                    ));
                }
                let Some(key) = &key else { return };
                if let Some(estimate) = entry.and_then(|e| partial_volume_cached(ui, e, s, key)) {
                    ui.label(
                        RichText::new(format!("partial-volume estimate {estimate:.2} mL"))
                            .small()
                            .weak(),
                    )
                    .on_hover_text(
                        "Experimental: the mask's end slices (and the slice beyond each) counted by each voxel's \
                         partial-volume fraction where the contrast allows (src/segment/partial.rs). \
                         The volume above (voxel count) is what the lesion table exports. \
                         On the sample MR it is within 5 % of truth for 9 of 12 lesions (count: 3); \
                         on the CT 7 of 15 (count: 5).",
                    );
                }
                if let Some(entry) = entry {
                    ellipsoid_fit_ui(ui, entry, s, key, commands);
                }
            }
        }
    });
    ui.horizontal_wrapped(|ui| {
        let mut radius = workspace.segment.brush_radius_mm;
        let label = ui.label("Brush mm");
        if ui
            .add(
                egui::DragValue::new(&mut radius)
                    .range(0.5..=50.0)
                    .speed(0.1),
            )
            .labelled_by(label.id)
            .changed()
        {
            commands.push(Command::SetBrushRadius(radius));
        }
        let has = segmentation.is_some();
        // an accepted ellipsoid fit of this very mask, if one has landed
        let fit = segmentation.zip(key.as_ref()).and_then(|(s, key)| {
            let slot = remembered::<FitSlot>(ui, FIT_NAME, s, key)?;
            match slot.result()? {
                Ok(fit) if fit.accepted => Some(fit.clone()),
                _ => None,
            }
        });
        let hover = if fit.is_some() {
            "From the accepted ellipsoid fit: its section's long axis on the slice nearest its \
             centre, short axis perpendicular (free of the edge pixels' noise); attached to this \
             lesion (one undo step), handles editable"
        } else {
            "From the mask: long axis on the axial slice where it is longest, short axis \
             perpendicular (Fit ellipsoid first to propose from the fit); attached to this lesion \
             (one undo step), handles editable"
        };
        if ui
            .add_enabled(has, egui::Button::new("Propose diameters"))
            .on_hover_text(hover)
            .clicked()
        {
            commands.push(match fit {
                Some(fit) => Command::ProposeDiametersFromFit(Box::new(fit)),
                None => Command::ProposeDiameters,
            });
        }
        if ui
            .add_enabled(has, egui::Button::new("Interpolate"))
            .on_hover_text("Fill the slices between painted slices (shape-based)")
            .clicked()
        {
            commands.push(Command::InterpolateSegmentation);
        }
        if ui
            .add_enabled(has, egui::Button::new("Delete mask"))
            .clicked()
        {
            commands.push(Command::DeleteSegmentation);
        }
    });
}

/// The exploratory volumetric response beside RECIST.
pub fn volumetric_ui(ui: &mut egui::Ui, workspace: &Workspace) {
    let Some(result) = &workspace.assessment.result else {
        return;
    };
    let rows = volumetric_rows(result);
    if rows.iter().all(|r| r.volume_ml.is_none()) {
        return;
    }
    ui.add_space(4.0);
    ui.label(RichText::new("Volumetric (exploratory, not RECIST)").strong())
        .on_hover_text(format!(
            "Sum of target volumes (only when every target has one). Derived thresholds (recist-1.1.md §10): PR ≤ {VOLUME_PR_PCT:.0} % vs baseline, PD ≥ +{VOLUME_PD_PCT:.0} % vs nadir."
        ));
    let pct = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:+.1}"));
    egui::Grid::new("volumetric_table")
        .striped(true)
        .num_columns(5)
        .show(ui, |ui| {
            for h in ["Visit", "Volume mL", "vs BL %", "vs nadir %", "Vol."] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            for r in rows {
                ui.label(&r.visit);
                ui.label(r.volume_ml.map_or("—".into(), |v| format!("{v:.2}")));
                ui.label(pct(r.vs_baseline_pct));
                ui.label(pct(r.vs_nadir_pct));
                ui.label(r.category);
                ui.end_row();
            }
        });
}

/// A figure computed from a mask is kept in egui's memory (the panel is
/// drawn every frame) under this key: the series and a hash of the mask's
/// bytes, so it goes stale the moment the mask changes.
type MaskKey = (String, u64);

fn mask_key(segmentation: &crate::tracking::Segmentation) -> MaskKey {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    segmentation.mask.to_bytes().hash(&mut hasher);
    (segmentation.series_uid.clone(), hasher.finish())
}

fn mask_figure_id(name: &str, segmentation: &crate::tracking::Segmentation) -> egui::Id {
    egui::Id::unique((name, segmentation.lesion_id.as_str(), segmentation.date))
}

/// The figure `name` remembered for this very mask (`key`), if any.
fn remembered<T: Clone + Send + Sync + 'static>(
    ui: &egui::Ui,
    name: &str,
    segmentation: &crate::tracking::Segmentation,
    key: &MaskKey,
) -> Option<T> {
    let id = mask_figure_id(name, segmentation);
    ui.ctx()
        .data(|d| d.get_temp::<(MaskKey, T)>(id))
        .filter(|(cached, _)| cached == key)
        .map(|(_, value)| value)
}

fn remember<T: Clone + Send + Sync + 'static>(
    ui: &egui::Ui,
    name: &str,
    segmentation: &crate::tracking::Segmentation,
    key: &MaskKey,
    value: T,
) {
    let id = mask_figure_id(name, segmentation);
    ui.ctx()
        .data_mut(|d| d.insert_temp(id, (key.clone(), value)));
}

/// The partial-volume estimate of a mask (a few ms), computed once per mask.
fn partial_volume_cached(
    ui: &egui::Ui,
    entry: &crate::session::SeriesEntry,
    segmentation: &crate::tracking::Segmentation,
    key: &MaskKey,
) -> Option<f64> {
    if let Some(value) = remembered::<Option<f64>>(ui, "partial_volume", segmentation, key) {
        return value;
    }
    let value = segmentation
        .voxel_size
        .as_ref()
        .and_then(|size| partial_volume_ml(entry.volume(), &segmentation.mask, size).ok())
        .map(|p| p.volume_ml);
    remember(ui, "partial_volume", segmentation, key, value);
    value
}

/// An ellipsoid fit running on its own thread, or its result, kept in
/// egui's memory under the mask's key.
type FitSlot = Arc<FitJob>;

/// The name the ellipsoid fit is remembered under.
const FIT_NAME: &str = "ellipsoid_fit";

/// The ellipsoid fit of a mask: run when the reader asks for it (it takes
/// 14–370 ms on the sample lesions and seconds on a large real one, too long
/// for every brush stroke), on a background thread so the workstation keeps
/// drawing, and shown until the mask changes. A fit still running for a
/// mask the reader has since edited is cancelled.
fn ellipsoid_fit_ui(
    ui: &mut egui::Ui,
    entry: &crate::session::SeriesEntry,
    segmentation: &crate::tracking::Segmentation,
    key: &MaskKey,
    commands: &mut Vec<Command>,
) {
    const NAME: &str = FIT_NAME;
    const HELP: &str = "An ellipsoid of uniform level, seen through the \
        scanner's voxels and point spread, fitted to the image around the mask \
        (src/segment/fit.rs). ± is the SD from the image noise alone. Accepted when the edge \
        residuals look like noise. On the sample phantom it is within 5 % for 13 of 15 CT and 12 \
        of 12 MR lesions (voxel count: 5 and 3); the two misses are a 12–15 mm liver lesion at five \
        noise SDs of contrast, where the stated ± is 12 %. The lesion table exports the voxel count \
        unless you report the fit's volume (Report this volume).";
    cancel_stale_fit(ui, NAME, segmentation, key);
    let slot = remembered::<FitSlot>(ui, NAME, segmentation, key);
    let result = slot.as_ref().map(|slot| slot.result());
    match result {
        None => {
            if ui
                .small_button("Fit ellipsoid")
                .on_hover_text(HELP)
                .clicked()
            {
                let ctx = ui.ctx().clone();
                let slot = FitJob::start(
                    Arc::clone(&entry.loaded.volume),
                    segmentation.mask.clone(),
                    segmentation.voxel_size.clone(),
                    move || ctx.request_repaint(),
                );
                remember(ui, NAME, segmentation, key, slot);
            }
        }
        Some(None) => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(RichText::new("fitting an ellipsoid…").small().weak());
            });
        }
        Some(Some(Ok(fit))) => {
            let verdict = match &fit.rejection {
                None => "accepted".to_string(),
                Some(why) => format!("not accepted: {why}"),
            };
            ui.label(
                RichText::new(format!(
                    "ellipsoid fit {:.2} ± {:.2} mL · {:.1} × {:.1} mm axial · {verdict}",
                    fit.volume_ml, fit.volume_sd_ml, fit.axial_long_mm, fit.axial_short_mm
                ))
                .small()
                .weak(),
            )
            .on_hover_text(HELP);
            if fit.accepted
                && segmentation.adopted_fit().is_none()
                && ui
                    .small_button("Report this volume")
                    .on_hover_text(
                        "Report the fit's volume as this lesion's volume at this visit (the \
                         lesion table's volume_ml and the volumetric response) instead of the \
                         voxel count; one undo step, in the audit trail. Any edit of the mask \
                         goes back to the count.",
                    )
                    .clicked()
            {
                commands.push(Command::ReportFittedVolume(Box::new(fit.clone())));
            }
        }
        Some(Some(Err(error))) => {
            ui.label(
                RichText::new(format!("ellipsoid fit failed: {error}"))
                    .small()
                    .weak(),
            );
        }
    }
}

/// Cancel the fit remembered as `name` for this lesion and visit if it was
/// started for another mask than the one now keyed `key` (the reader has
/// edited it) and is still running, and forget it.
fn cancel_stale_fit(
    ui: &egui::Ui,
    name: &str,
    segmentation: &crate::tracking::Segmentation,
    key: &MaskKey,
) {
    let id = mask_figure_id(name, segmentation);
    let stale = ui
        .ctx()
        .data(|d| d.get_temp::<(MaskKey, FitSlot)>(id))
        .filter(|(cached, _)| cached != key);
    if let Some((_, job)) = stale {
        job.cancel();
        ui.ctx().data_mut(|d| d.remove::<(MaskKey, FitSlot)>(id));
    }
}
