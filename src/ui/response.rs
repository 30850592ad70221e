//! The response panel: per timepoint the sum of diameters, change from
//! baseline and from the nadir, target / non-target / new / overall response
//! with the engine's explanation, and the best overall response — the same
//! engine and the same numbers as `nadir assess`, live as findings change.

use egui::{Color32, RichText};

use crate::recist::{AssessOptions, OverallResponse};
use crate::session::{Command, Workspace};

fn response_colour(r: OverallResponse) -> Color32 {
    match r {
        OverallResponse::Cr | OverallResponse::Pr => Color32::from_rgb(130, 210, 140),
        OverallResponse::Sd | OverallResponse::NonCrNonPd => Color32::from_rgb(220, 210, 140),
        OverallResponse::Pd => Color32::from_rgb(240, 120, 110),
        OverallResponse::Ne => Color32::from_gray(160),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:+.1}")).unwrap_or_else(|| "—".into())
}

fn mm(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into())
}

/// The response panel.
pub fn response_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    ui.heading("Response (RECIST 1.1)");
    let Some(result) = &workspace.assessment.result else {
        ui.label(RichText::new("No findings yet.").weak());
        return;
    };
    egui::Grid::new("response_table")
        .striped(true)
        .num_columns(8)
        .show(ui, |ui| {
            for h in [
                "Visit",
                "Sum mm",
                "vs BL %",
                "vs nadir %",
                "Target",
                "Non-target",
                "New",
                "Overall",
            ] {
                ui.label(RichText::new(h).strong());
            }
            ui.end_row();
            if let Some(visit) = &result.baseline_visit {
                ui.label(visit);
                ui.label(mm(result.baseline_sum_mm));
                for _ in 0..6 {
                    ui.label("");
                }
                ui.end_row();
            }
            for t in &result.timepoints {
                ui.label(&t.visit)
                    .on_hover_text(if workspace.project.blinded {
                        format!("day {}", t.days_from_baseline)
                    } else {
                        format!("{} · day {}", t.date, t.days_from_baseline)
                    });
                ui.label(mm(t.sum_mm));
                ui.label(pct(t.change_from_baseline_pct));
                ui.label(pct(t.change_from_nadir_pct))
                    .on_hover_text(format!("nadir {} mm", mm(t.nadir_mm)));
                ui.label(t.target_response.map(|r| r.code()).unwrap_or("—"));
                ui.label(t.non_target_response.map(|r| r.code()).unwrap_or("—"));
                ui.label(if t.new_lesions { "yes" } else { "no" });
                ui.label(
                    RichText::new(t.overall_response.code())
                        .strong()
                        .color(response_colour(t.overall_response)),
                )
                .on_hover_text(workspace.blind_text(&t.explanation));
                ui.end_row();
            }
        });
    for t in &result.timepoints {
        ui.label(
            RichText::new(format!(
                "{}: {}",
                t.visit,
                workspace.blind_text(&t.explanation)
            ))
            .small(),
        );
    }
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.label(RichText::new("Best overall response").strong());
        ui.label(
            RichText::new(result.best_overall_response.code())
                .strong()
                .size(18.0)
                .color(response_colour(result.best_overall_response)),
        );
        if let Some(best) = result.best_change_from_baseline_pct {
            ui.label(format!("(best change {best:+.1}%)"));
        }
    });
    ui.label(
        RichText::new(workspace.blind_text(&result.best_overall_response_explanation)).small(),
    );
    super::segmentation::volumetric_ui(ui, workspace);
    let mut options: AssessOptions = workspace.assess_options;
    ui.horizontal(|ui| {
        let mut changed = ui
            .checkbox(&mut options.confirm, "Confirm CR/PR (≥ 28 days)")
            .changed();
        let label = ui.label("min SD days");
        changed |= ui
            .add(egui::DragValue::new(&mut options.min_sd_days).range(0..=365))
            .labelled_by(label.id)
            .changed();
        if changed {
            commands.push(Command::SetAssessOptions(options));
        }
    });
    let general: Vec<String> = workspace
        .assessment
        .warnings
        .iter()
        .filter(|w| w.lesion_id.is_none())
        .map(|w| workspace.blind_text(&w.to_string()))
        .collect();
    for w in general {
        ui.colored_label(Color32::from_rgb(240, 180, 110), format!("⚠ {w}"));
    }
}
