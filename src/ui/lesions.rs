//! The lesion panel: the selected measurement (values, make it a lesion or
//! attach it to one), the lesion × timepoint table, and the selected
//! lesion's findings set without drawing, with baseline warnings inline.

use egui::{Color32, RichText};

use crate::measure::{Shape, diameters, label, roi_stats};
use crate::recist::{Category, Date, LesionStatus};
use crate::session::{Command, Workspace};
use crate::session::{LesionChoice, lesion_choice};
use crate::tracking::{Finding, Lesion, MeasurementId, Patient, recist_diameters_mm};

/// Organs offered in the organ box (free text is allowed too).
pub const ORGANS: [&str; 12] = [
    "liver",
    "lung",
    "lymph node",
    "kidney",
    "adrenal",
    "pancreas",
    "spleen",
    "bone",
    "peritoneum",
    "abdominal wall",
    "pleura",
    "brain",
];

/// Fields of the "make lesion" form. They start afresh for every newly
/// selected measurement, so nothing chosen for one lesion carries over to
/// the next measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct LesionForm {
    /// The measurement these fields are for.
    pub for_measurement: Option<MeasurementId>,
    /// Category of the new lesion.
    pub category: Category,
    /// Organ: empty until the reader chooses one (no default organ).
    pub organ: String,
    /// Lymph node.
    pub lymph_node: bool,
    /// The lesion to attach to.
    pub attach_to: Option<String>,
    /// An attach waiting for the reader's confirmation, with its reasons.
    pub confirm: Option<(String, Vec<String>)>,
}

impl Default for LesionForm {
    fn default() -> Self {
        LesionForm {
            for_measurement: None,
            category: Category::Target,
            organ: String::new(),
            lymph_node: false,
            attach_to: None,
            confirm: None,
        }
    }
}

const WARN: Color32 = Color32::from_rgb(240, 180, 110);

fn category_name(c: Category) -> &'static str {
    match c {
        Category::Target => "Target",
        Category::NonTarget => "Non-target",
        Category::New => "New",
    }
}

fn status_name(s: LesionStatus) -> &'static str {
    match s {
        LesionStatus::Measured => "measured",
        LesionStatus::Absent => "absent",
        LesionStatus::TooSmall => "too small",
        LesionStatus::NotEvaluable => "not evaluable",
        LesionStatus::Present => "present",
        LesionStatus::UnequivocalProgression => "unequivocal progression",
        LesionStatus::Equivocal => "equivocal",
    }
}

/// The text of a finding in the table: the RECIST value in mm (short axis
/// for nodes), `*` when entered or imported rather than drawn, or the status.
pub fn finding_text(patient: &Patient, lesion: &Lesion, finding: Option<&Finding>) -> String {
    let value = |long: Option<f64>, short: Option<f64>| {
        let v = if lesion.lymph_node {
            short
        } else {
            long.or(short)
        };
        v.map(|v| format!("{v:.1}")).unwrap_or_else(|| "?".into())
    };
    match finding {
        None => "—".into(),
        Some(Finding::Measured(id)) => match patient.measurement(*id) {
            Some(m) => match recist_diameters_mm(&m.measurement, lesion.lymph_node) {
                Some((long, short)) if lesion.category == Category::Target => value(long, short),
                Some(_) | None if lesion.category != Category::Target => "present".into(),
                _ => "px?".into(),
            },
            None => "?".into(),
        },
        Some(Finding::Entered {
            long_axis_mm,
            short_axis_mm,
            ..
        }) => format!("{}*", value(*long_axis_mm, *short_axis_mm)),
        Some(Finding::Stated(s)) => status_name(*s).into(),
    }
}

/// The lesion panel.
pub fn lesions_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    form: &mut LesionForm,
    commands: &mut Vec<Command>,
) {
    let Some(patient) = workspace.current_patient() else {
        ui.label("No patient loaded.");
        return;
    };
    measurement_ui(ui, workspace, patient, form, commands);
    super::signal::assign_signal_ui(ui, workspace, patient, commands);
    ui.add_space(6.0);
    ui.heading("Lesions");
    if patient.lesions.is_empty() {
        ui.label(
            RichText::new("Measure a lesion (L or B), then make it a lesion here — or File > Import lesion table.").weak(),
        );
    }
    lesion_table_ui(ui, workspace, patient, commands);
    if let Some(lesion) = workspace
        .selected_lesion
        .as_deref()
        .and_then(|id| patient.lesion(id))
    {
        ui.add_space(6.0);
        lesion_detail_ui(ui, workspace, patient, lesion, commands);
    }
}

fn measurement_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    patient: &Patient,
    form: &mut LesionForm,
    commands: &mut Vec<Command>,
) {
    let Some(id) = workspace.tools.selected else {
        return;
    };
    let Some(stored) = patient.measurement(id) else {
        return;
    };
    let m = &stored.measurement;
    let entry = workspace
        .series
        .iter()
        .find(|e| e.uid() == m.image.series_instance_uid);
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.label(RichText::new(m.shape.kind_name()).strong());
            ui.label(format!("· {}", patient.visit_label(stored.date)));
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Delete").on_hover_text("Delete this measurement (Del)").clicked() {
                    commands.push(Command::DeleteSelected);
                }
            });
        });
        if let Some(entry) = entry {
            let context = entry.context();
            match diameters(m, &context) {
                Some((long, Some(short))) => {
                    ui.label(format!("Long axis {long}"));
                    ui.label(format!("Short axis {short}"));
                }
                Some((long, None)) => {
                    ui.label(format!("Length {long}"));
                }
                None => {
                    if let Some(stats) = roi_stats(m, &context) {
                        ui.label(format!("Area {}", stats.area));
                        if let (Some(mean), Some(min), Some(max)) = (stats.mean, stats.min, stats.max) {
                            ui.label(format!(
                                "Mean {mean:.1} · SD {} · min {min:.0} · max {max:.0} ({} px)",
                                stats.sd.map(|s| format!("{s:.1}")).unwrap_or_else(|| "—".into()),
                                stats.pixels
                            ));
                        }
                    } else {
                        ui.label(label(m, &context));
                    }
                }
            }
            if !m.spacing_known {
                ui.colored_label(WARN, "This image has no pixel spacing: values are in px and cannot be a RECIST diameter.");
            }
        }
        if let Some(lesion) = patient.lesion_of_measurement(id) {
            ui.label(format!(
                "Lesion {} ({}, {}{}) at {}",
                lesion.id,
                category_name(lesion.category),
                lesion.organ,
                if lesion.lymph_node { ", node: short axis counts" } else { "" },
                patient.visit_label(stored.date)
            ));
            return;
        }
        let is_roi = matches!(m.shape, Shape::Ellipse(_) | Shape::Freehand(_));
        if form.for_measurement != Some(id) {
            *form = LesionForm {
                for_measurement: Some(id),
                attach_to: workspace.attach_suggestion(id),
                ..LesionForm::default()
            };
        }
        let choice = lesion_choice(patient, stored.date);
        let candidates: Vec<&Lesion> = patient
            .lesions
            .iter()
            .filter(|l| !(is_roi && l.category == Category::Target))
            .collect();
        ui.separator();
        // After baseline the default is to attach: RECIST 1.1 fixes the
        // targets and non-targets at baseline.
        if choice == LesionChoice::FollowUp && !candidates.is_empty() {
            attach_ui(ui, workspace, patient, id, stored.date, &candidates, form, commands);
            ui.separator();
        }
        make_lesion_ui(ui, patient, id, choice, is_roi, form, commands);
        if choice == LesionChoice::Baseline && !candidates.is_empty() {
            ui.separator();
            attach_ui(ui, workspace, patient, id, stored.date, &candidates, form, commands);
        }
    });
}

/// "Make a lesion" (baseline: target or non-target) or "New lesion" (after
/// baseline), with the organ the reader must choose.
fn make_lesion_ui(
    ui: &mut egui::Ui,
    patient: &Patient,
    id: MeasurementId,
    choice: LesionChoice,
    is_roi: bool,
    form: &mut LesionForm,
    commands: &mut Vec<Command>,
) {
    let allowed: Vec<Category> = choice
        .categories()
        .iter()
        .copied()
        .filter(|c| !(is_roi && *c == Category::Target))
        .collect();
    if !allowed.contains(&form.category)
        && let Some(first) = allowed.first()
    {
        form.category = *first;
    }
    match choice {
        LesionChoice::Baseline => {
            ui.label(RichText::new("Make a lesion").strong());
            ui.horizontal(|ui| {
                for c in [Category::Target, Category::NonTarget] {
                    ui.add_enabled_ui(allowed.contains(&c), |ui| {
                        ui.radio_value(&mut form.category, c, category_name(c))
                    });
                }
            });
        }
        LesionChoice::FollowUp => {
            ui.label(RichText::new("Or record a new lesion").strong())
                .on_hover_text("After baseline RECIST 1.1 adds no targets or non-targets: a lesion not seen before is a new lesion.");
        }
    }
    ui.horizontal(|ui| {
        let organ_label = ui.label("Organ");
        let shown = if form.organ.is_empty() {
            "choose…".to_string()
        } else {
            form.organ.clone()
        };
        egui::ComboBox::new("organ", "")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for organ in ORGANS {
                    ui.selectable_value(&mut form.organ, organ.to_string(), organ);
                }
            })
            .response
            .labelled_by(organ_label.id);
        ui.add(
            egui::TextEdit::singleline(&mut form.organ)
                .hint_text("or type")
                .desired_width(110.0),
        )
        .labelled_by(organ_label.id);
    });
    let was_node = form.lymph_node;
    if form.organ == "lymph node" {
        form.lymph_node = true;
    }
    ui.checkbox(
        &mut form.lymph_node,
        "Lymph node (short axis is the RECIST value)",
    );
    if form.lymph_node && !was_node && form.organ.trim().is_empty() {
        form.organ = "lymph node".into();
    }
    let next_id = patient.next_lesion_id(form.category, form.lymph_node);
    let organ_chosen = !form.organ.trim().is_empty();
    let button = ui
        .add_enabled(
            organ_chosen,
            egui::Button::new(format!("Make {next_id} ({})", category_name(form.category))),
        )
        .on_disabled_hover_text("Choose the organ first");
    if button.clicked() {
        commands.push(Command::MakeLesion {
            measurement: id,
            category: form.category,
            organ: form.organ.trim().to_string(),
            lymph_node: form.lymph_node,
        });
    }
}

/// "Attach to" a lesion, with a confirmation when the measurement is far
/// from the lesion's previous position or of another size class.
#[allow(clippy::too_many_arguments)]
fn attach_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    patient: &Patient,
    id: MeasurementId,
    date: Date,
    candidates: &[&Lesion],
    form: &mut LesionForm,
    commands: &mut Vec<Command>,
) {
    if form
        .attach_to
        .as_deref()
        .is_some_and(|a| !candidates.iter().any(|l| l.id == a))
    {
        form.attach_to = None;
    }
    ui.horizontal(|ui| {
        let attach_label = ui.label(RichText::new("Attach to").strong());
        egui::ComboBox::new("attach", "")
            .selected_text(form.attach_to.clone().unwrap_or_else(|| "choose…".into()))
            .show_ui(ui, |ui| {
                for l in candidates {
                    if ui
                        .selectable_value(
                            &mut form.attach_to,
                            Some(l.id.clone()),
                            format!("{} · {} · {}", l.id, category_name(l.category), l.organ),
                        )
                        .clicked()
                    {
                        form.confirm = None;
                    }
                }
            })
            .response
            .labelled_by(attach_label.id);
        if let Some(target) = form.attach_to.clone()
            && ui
                .button(format!("Attach at {}", patient.visit_label(date)))
                .clicked()
        {
            let concerns = workspace.attach_concerns(id, &target);
            if concerns.is_empty() {
                commands.push(Command::AttachToLesion {
                    measurement: id,
                    lesion_id: target,
                });
            } else {
                form.confirm = Some((target, concerns.iter().map(ToString::to_string).collect()));
            }
        }
    });
    if let Some((target, reasons)) = form.confirm.clone() {
        egui::Frame::group(ui.style()).show(ui, |ui| {
            ui.colored_label(WARN, format!("⚠ Is this {target}? This measurement is"));
            for r in &reasons {
                ui.colored_label(WARN, format!("  • {r}"));
            }
            ui.horizontal(|ui| {
                if ui.button(format!("Attach to {target} anyway")).clicked() {
                    commands.push(Command::AttachToLesion {
                        measurement: id,
                        lesion_id: target.clone(),
                    });
                    form.confirm = None;
                }
                if ui.button("Cancel").clicked() {
                    form.confirm = None;
                }
            });
        });
    }
}

fn lesion_warnings(workspace: &Workspace, lesion_id: &str) -> Vec<String> {
    let mut out: Vec<String> = workspace
        .assessment
        .warnings
        .iter()
        .filter(|w| w.lesion_id.as_deref() == Some(lesion_id))
        .map(|w| {
            let text = workspace.blind_text(&w.to_string());
            // drop the "patient …, visit …, lesion …: " prefix, keep the visit
            let visit = w
                .visit
                .as_deref()
                .map(|v| format!("{v}: "))
                .unwrap_or_default();
            format!(
                "{visit}{}",
                text.split_once(": ").map(|(_, t)| t).unwrap_or(&text)
            )
        })
        .collect();
    out.extend(
        workspace
            .assessment
            .issues
            .iter()
            .filter(|i| i.lesion_id == lesion_id)
            .map(|i| {
                let key = workspace.current_patient_key().unwrap_or_default();
                format!("{}: {}", workspace.date_label(&key, i.date), i.message)
            }),
    );
    out
}

fn lesion_table_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    patient: &Patient,
    commands: &mut Vec<Command>,
) {
    if patient.lesions.is_empty() {
        return;
    }
    let current = workspace.current_date();
    egui::Grid::new("lesion_table")
        .striped(true)
        .num_columns(3 + patient.timepoints.len())
        .show(ui, |ui| {
            ui.label(RichText::new("Lesion").strong());
            ui.label(RichText::new("Organ").strong());
            let key = workspace.current_patient_key().unwrap_or_default();
            for t in &patient.timepoints {
                let text = RichText::new(patient.visit_label(t.date)).strong();
                // signed-off timepoints in green (see Sign-off below the table)
                let text = if workspace.project.is_locked(&key, t.date) {
                    text.color(Color32::from_rgb(150, 200, 150))
                } else {
                    text
                };
                ui.label(if Some(t.date) == current {
                    text.underline()
                } else {
                    text
                });
            }
            ui.label("");
            ui.end_row();
            for lesion in &patient.lesions {
                let selected = workspace.selected_lesion.as_deref() == Some(lesion.id.as_str());
                let colour = match lesion.category {
                    Category::Target => Color32::from_rgb(110, 200, 240),
                    Category::NonTarget => Color32::from_rgb(190, 160, 240),
                    Category::New => Color32::from_rgb(245, 130, 120),
                };
                if ui
                    .selectable_label(selected, RichText::new(&lesion.id).color(colour).strong())
                    .on_hover_text(format!(
                        "{} — click to show it in every pane",
                        category_name(lesion.category)
                    ))
                    .clicked()
                {
                    commands.push(Command::SelectLesion(lesion.id.clone()));
                }
                ui.label(if lesion.lymph_node {
                    format!("{} (SA)", lesion.organ)
                } else {
                    lesion.organ.clone()
                });
                for t in &patient.timepoints {
                    ui.label(format!(
                        "{}{}",
                        finding_text(patient, lesion, patient.finding(&lesion.id, t.date)),
                        super::segmentation::volume_cell(workspace, &lesion.id, t.date)
                    ));
                }
                let warnings = lesion_warnings(workspace, &lesion.id);
                if warnings.is_empty() {
                    ui.label("");
                } else {
                    ui.colored_label(WARN, "⚠")
                        .on_hover_text(warnings.join("\n"));
                }
                ui.end_row();
            }
        });
    ui.label(
        RichText::new("mm; * entered/imported, not drawn; (SA) nodes by short axis")
            .weak()
            .small(),
    );
}

fn lesion_detail_ui(
    ui: &mut egui::Ui,
    workspace: &Workspace,
    patient: &Patient,
    lesion: &Lesion,
    commands: &mut Vec<Command>,
) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        ui.horizontal(|ui| {
            ui.label(RichText::new(format!("Lesion {}", lesion.id)).strong());
            let mut edited = lesion.clone();
            egui::ComboBox::new("lesion_category", "")
                .selected_text(category_name(edited.category))
                .show_ui(ui, |ui| {
                    for c in [Category::Target, Category::NonTarget, Category::New] {
                        ui.selectable_value(&mut edited.category, c, category_name(c));
                    }
                })
                .response
                .accessible_name("Category");
            egui::ComboBox::new("lesion_organ", "")
                .selected_text(edited.organ.clone())
                .show_ui(ui, |ui| {
                    for organ in ORGANS {
                        ui.selectable_value(&mut edited.organ, organ.to_string(), organ);
                    }
                })
                .response
                .accessible_name("Organ");
            ui.checkbox(&mut edited.lymph_node, "node");
            if edited != *lesion {
                commands.push(Command::UpdateLesion(edited));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button("Remove")
                    .on_hover_text("Remove the lesion and all its findings (undoable)")
                    .clicked()
                {
                    commands.push(Command::RemoveLesion(lesion.id.clone()));
                }
                if ui
                    .button("Audit…")
                    .on_hover_text("Who changed this lesion, what and when (project audit trail)")
                    .clicked()
                {
                    commands.push(Command::ShowAudit(Some(lesion.id.clone())));
                }
            });
        });
        for w in lesion_warnings(workspace, &lesion.id) {
            ui.colored_label(WARN, format!("⚠ {w}"));
        }
        let Some(date) = workspace.current_date() else {
            return;
        };
        finding_buttons_ui(ui, patient, lesion, date, commands);
        super::segmentation::segmentation_panel_ui(ui, workspace, patient, lesion, date, commands);
    });
}

fn finding_buttons_ui(
    ui: &mut egui::Ui,
    patient: &Patient,
    lesion: &Lesion,
    date: Date,
    commands: &mut Vec<Command>,
) {
    let current = patient.finding(&lesion.id, date);
    ui.label(format!(
        "At {}: {}",
        patient.visit_label(date),
        finding_text(patient, lesion, current)
    ));
    ui.horizontal_wrapped(|ui| {
        for &status in LesionStatus::valid_for(lesion.category) {
            if status == LesionStatus::Measured {
                continue;
            }
            let selected = current == Some(&Finding::Stated(status));
            if ui.selectable_label(selected, status_name(status)).clicked() {
                commands.push(Command::SetFinding {
                    lesion_id: lesion.id.clone(),
                    date,
                    finding: Some(Finding::Stated(status)),
                });
            }
        }
        if current.is_some() && ui.button("clear").clicked() {
            commands.push(Command::SetFinding {
                lesion_id: lesion.id.clone(),
                date,
                finding: None,
            });
        }
    });
    if lesion.category == Category::Target {
        ui.label(
            RichText::new("To measure it here: draw with L or B, then attach to this lesion.")
                .weak()
                .small(),
        );
    }
}
