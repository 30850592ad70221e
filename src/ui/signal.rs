//! The T2 signal panel (`recist-1.1.md` §11): buttons that record the
//! selected ROI as a lesion's T2 ROI or the visit's muscle reference, the
//! per-visit table of mean SI and lesion/muscle ratios with % change from
//! baseline, a trend chart, and warnings when the acquisition changed.

use egui::{Color32, RichText};
use egui_plot::{Corner, HLine, Legend, Line, MarkerShape, Plot, Points};

use crate::measure::Shape;
use crate::session::{Command, Workspace};
use crate::tracking::{Patient, SignalRole};

const WARN: Color32 = Color32::from_rgb(240, 180, 110);

fn number(v: Option<f64>, decimals: usize) -> String {
    v.map(|v| format!("{v:.decimals$}"))
        .unwrap_or_else(|| "—".into())
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.1}%")).unwrap_or_else(|| "—".into())
}

/// For a selected ellipse or freehand ROI: record it as the selected lesion's
/// T2 ROI or as the muscle reference of its visit.
pub fn assign_signal_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    patient: &Patient,
    commands: &mut Vec<Command>,
) {
    let Some(id) = workspace.tools.selected else {
        return;
    };
    let Some(stored) = patient.measurement(id) else {
        return;
    };
    if !matches!(
        stored.measurement.shape,
        Shape::Ellipse(_) | Shape::Freehand(_)
    ) {
        return;
    }
    let series = workspace
        .series
        .iter()
        .position(|e| e.uid() == stored.measurement.image.series_instance_uid);
    let Some(call) = series.and_then(|s| workspace.t2_weighting(s)) else {
        return;
    };
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.label(RichText::new("T2 signal").strong());
            let tag = if call.t2_weighted {
                RichText::new("T2-weighted series").color(Color32::from_rgb(130, 210, 140))
            } else {
                RichText::new("not a T2-weighted series").color(WARN)
            };
            ui.label(tag).on_hover_text(&call.reason);
        });
        ui.add_enabled_ui(call.t2_weighted, |ui| {
            ui.horizontal_wrapped(|ui| {
                let visit = patient.visit_label(stored.date);
                match workspace.selected_lesion.as_deref() {
                    Some(lesion) => {
                        if ui
                            .button(format!("Lesion ROI of {lesion} at {visit}"))
                            .on_hover_text("Mean SI of this region is the lesion's T2 signal (t2_si)")
                            .clicked()
                        {
                            commands.push(Command::AssignSignal {
                                measurement: id,
                                role: SignalRole::Lesion(lesion.to_string()),
                            });
                        }
                    }
                    None => {
                        ui.label(RichText::new("Select a lesion to record a lesion ROI.").weak());
                    }
                }
                if ui
                    .button(format!("Muscle reference at {visit}"))
                    .on_hover_text(
                        "Mean SI of this region is the reference tissue (t2_ref_si): skeletal muscle on the same series",
                    )
                    .clicked()
                {
                    commands.push(Command::AssignSignal {
                        measurement: id,
                        role: SignalRole::Reference,
                    });
                }
            });
        });
        if !call.t2_weighted {
            ui.label(
                RichText::new("Right-click the series in the browser to override the call.")
                    .small()
                    .weak(),
            );
        }
    });
}

/// When the selected lesion has a mask at the current timepoint on a
/// T2-weighted series: a button that makes the mask its T2 ROI.
fn mask_signal_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    let (Some(patient), Some(lesion_id), Some(date)) = (
        workspace.current_patient(),
        workspace.selected_lesion.as_deref(),
        workspace.current_date(),
    ) else {
        return;
    };
    let Some(segmentation) = patient
        .segmentations
        .iter()
        .find(|g| g.lesion_id == lesion_id && g.date == date)
    else {
        return;
    };
    let on_t2 = workspace
        .series
        .iter()
        .position(|e| e.uid() == segmentation.series_uid)
        .and_then(|i| workspace.t2_weighting(i))
        .is_some_and(|call| call.t2_weighted);
    if !on_t2 {
        return;
    }
    let used = patient
        .signal(date, &SignalRole::Lesion(lesion_id.to_string()))
        .is_some_and(|s| s.source == crate::tracking::SignalSource::Segmentation);
    let label = format!(
        "Use {lesion_id}'s mask at {} as its T2 ROI",
        patient.visit_label(date)
    );
    if ui
        .add_enabled(!used, egui::Button::new(label))
        .on_hover_text("Mean SI over the 3-D segmentation (re-measured when the mask changes)")
        .on_disabled_hover_text("The mask is this lesion's T2 ROI at this visit")
        .clicked()
    {
        commands.push(Command::AssignSegmentationSignal {
            lesion_id: lesion_id.to_string(),
            date,
        });
    }
}

/// The per-visit T2 table, trend chart and acquisition warnings.
pub fn signal_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    ui.heading("T2 signal (lesion / muscle)");
    mask_signal_ui(ui, workspace, commands);
    let Some(summary) = workspace.signal_summary() else {
        ui.label(
            RichText::new(
                "No T2 ROIs yet. On a T2-weighted MR series draw an ellipse or freehand ROI in the lesion and one in skeletal muscle, then record them from the measurement box.",
            )
            .weak(),
        );
        return;
    };
    let lesion_ids: Vec<String> = summary
        .visits
        .first()
        .map(|v| v.lesions.iter().map(|l| l.lesion_id.clone()).collect())
        .unwrap_or_default();
    egui::Grid::new("signal_table")
        .striped(true)
        .show(ui, |ui| {
            ui.label(RichText::new("Visit").strong());
            ui.label(RichText::new("Muscle SI").strong());
            for id in &lesion_ids {
                ui.label(RichText::new(format!("{id} SI · ratio · Δ")).strong());
            }
            ui.label(RichText::new("Mean target ratio · Δ").strong());
            ui.end_row();
            for visit in &summary.visits {
                ui.label(&visit.visit)
                    .on_hover_text(if workspace.project.blinded {
                        format!("day {}", visit.day)
                    } else {
                        format!("{} · day {}", visit.date, visit.day)
                    });
                ui.horizontal(|ui| {
                    ui.label(number(visit.reference_si, 1));
                    if visit.reference_si.is_some()
                        && ui
                            .small_button("✕")
                            .on_hover_text("Clear the muscle reference")
                            .clicked()
                    {
                        commands.push(Command::ClearSignal {
                            date: visit.date,
                            role: SignalRole::Reference,
                        });
                    }
                });
                for lesion in &visit.lesions {
                    ui.horizontal(|ui| {
                        ui.label(format!(
                            "{} · {} · {}",
                            number(lesion.lesion_si, 1),
                            number(lesion.ratio, 2),
                            pct(lesion.ratio_change_pct)
                        ));
                        if lesion.lesion_si.is_some()
                            && ui
                                .small_button("✕")
                                .on_hover_text(format!("Clear the T2 ROI of {}", lesion.lesion_id))
                                .clicked()
                        {
                            commands.push(Command::ClearSignal {
                                date: visit.date,
                                role: SignalRole::Lesion(lesion.lesion_id.clone()),
                            });
                        }
                    });
                }
                ui.label(format!(
                    "{} · {}",
                    number(visit.mean_target_ratio, 2),
                    pct(visit.mean_target_ratio_change_pct)
                ));
                ui.end_row();
            }
        });
    for warning in &summary.protocol_warnings {
        ui.colored_label(WARN, workspace.blind_text(&format!("⚠ {warning}")));
    }
    if summary.visits.len() >= 2 {
        trend_plot_ui(ui, &summary, &lesion_ids);
    }
    ui.label(
        RichText::new(
            "Continuous biomarker, no response categories: SI is in arbitrary units; the muscle ratio only partly normalises scanner and coil.",
        )
        .small()
        .weak(),
    );
}

fn trend_plot_ui(
    ui: &mut egui::Ui,
    summary: &crate::session::SignalSummary,
    lesion_ids: &[String],
) {
    let palette = [
        Color32::from_rgb(110, 170, 240),
        Color32::from_rgb(240, 160, 90),
        Color32::from_rgb(170, 130, 230),
        Color32::from_rgb(120, 210, 200),
        Color32::from_rgb(230, 120, 170),
    ];
    let width = ui.available_width().min(460.0);
    let lowest = summary
        .visits
        .iter()
        .flat_map(|v| {
            v.lesions
                .iter()
                .filter_map(|l| l.ratio_change_pct)
                .chain(v.mean_target_ratio_change_pct)
        })
        .fold(-35.0_f64, f64::min);
    Plot::new("t2_trend")
        .width(width)
        .height(180.0)
        .legend(
            Legend::default()
                .text_style(egui::TextStyle::Small)
                .position(Corner::LeftBottom)
                .follow_insertion_order(true)
                .background_alpha(0.85),
        )
        .x_axis_label("Days from baseline")
        .y_axis_label("T2 ratio change (%)")
        .include_y(5.0)
        .include_y(lowest - 8.0)
        .include_x(0.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            plot_ui.hline(
                HLine::new("", 0.0)
                    .color(Color32::from_gray(120))
                    .width(1.0),
            );
            for (i, id) in lesion_ids.iter().enumerate() {
                let colour = palette
                    .get(i % palette.len())
                    .copied()
                    .unwrap_or(Color32::GRAY);
                let points: Vec<[f64; 2]> = summary
                    .visits
                    .iter()
                    .filter_map(|v| {
                        let lesion = v.lesions.iter().find(|l| &l.lesion_id == id)?;
                        Some([v.day as f64, lesion.ratio_change_pct?])
                    })
                    .collect();
                plot_ui.line(
                    Line::new(id.clone(), points.clone())
                        .color(colour)
                        .width(1.5)
                        .allow_band(false),
                );
                plot_ui.points(
                    Points::new(id.clone(), points)
                        .color(colour)
                        .shape(MarkerShape::Circle)
                        .radius(3.0),
                );
            }
            let mean: Vec<[f64; 2]> = summary
                .visits
                .iter()
                .filter_map(|v| Some([v.day as f64, v.mean_target_ratio_change_pct?]))
                .collect();
            plot_ui.line(
                Line::new("Patient (mean of targets)", mean)
                    .color(Color32::WHITE)
                    .width(2.5)
                    .allow_band(false),
            );
        });
}

/// " · T2" after a series that counts as T2-weighted (by the program or the reader).
pub fn t2_tag(workspace: &Workspace, series: usize) -> &'static str {
    match workspace.t2_weighting(series) {
        Some(call) if call.t2_weighted => " · T2",
        _ => "",
    }
}

/// Right-click menu of a series in the browser: override the T2-weighted call.
pub fn t2_override_menu(
    response: &egui::Response,
    workspace: &Workspace,
    series: usize,
    commands: &mut Vec<Command>,
) {
    let Some(call) = workspace.t2_weighting(series) else {
        return;
    };
    let overridden = workspace
        .series
        .get(series)
        .is_some_and(|e| workspace.t2_overrides.contains_key(e.uid()));
    response.context_menu(|ui| {
        ui.label(RichText::new(&call.reason).small());
        ui.separator();
        for (label, value) in [
            ("Treat as T2-weighted", Some(true)),
            ("Treat as not T2-weighted", Some(false)),
        ] {
            if ui.button(label).clicked() {
                commands.push(Command::SetT2Override {
                    series,
                    t2_weighted: value,
                });
                ui.close();
            }
        }
        if overridden && ui.button("Use the program's call").clicked() {
            commands.push(Command::SetT2Override {
                series,
                t2_weighted: None,
            });
            ui.close();
        }
    });
}
