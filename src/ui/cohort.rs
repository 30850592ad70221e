//! The Cohort view: per-arm trial statistics (the report of `nadir cohort`)
//! and four plots drawn with egui_plot from the data series the session
//! computed once per import (waterfall, swimmer, spider, Kaplan–Meier). The
//! colours are the Okabe–Ito palette of the PNG renderer. Nothing here
//! computes a statistic; the buttons only emit [`Command`]s.

use egui::{Color32, RichText};
use egui_plot::{
    Arrows, AxisHints, Bar, BarChart, Corner, FilledArea, GridMark, HLine, Legend, Line, LineStyle,
    MarkerShape, Plot, PlotPoint, Points, Text,
};

use crate::cohort::BestResponse;
use crate::cohort::binomial::RateEstimate;
use crate::cohort::series::{
    PROGRESSION_THRESHOLD_PCT, RESPONSE_THRESHOLD_PCT, arm_rgb, palette, response_label,
    response_rgb,
};
use crate::cohort::{ArmReport, CohortReport};
use crate::session::cohort::{Cohort, CohortPlots, CohortSource};
use crate::session::{Command, Workspace};

/// Space between the plots, points.
const GAP: f32 = 10.0;
/// Lanes up to this number get their patient id on the swimmer's y axis.
const MAX_LABELLED_LANES: usize = 30;

fn colour([r, g, b]: [u8; 3]) -> Color32 {
    Color32::from_rgb(r, g, b)
}

fn reference_line_colour() -> Color32 {
    colour(palette::GREY)
}

/// Asks for a per-patient results CSV (interchange §4a).
pub fn pick_results_command() -> Option<Command> {
    rfd::FileDialog::new()
        .set_title("Per-patient results CSV (patient_id, arm, best_response, …)")
        .add_filter("CSV", &["csv"])
        .pick_file()
        .map(Command::ImportCohortResults)
}

/// Asks for a lesion table, then for its patient table (interchange §4b).
pub fn pick_lesion_tables_command() -> Option<Command> {
    let lesions = rfd::FileDialog::new()
        .set_title("1/2: lesion table CSV (as for nadir assess)")
        .add_filter("CSV", &["csv"])
        .pick_file()?;
    let mut dialog = rfd::FileDialog::new()
        .set_title("2/2: patient table CSV (patient_id, arm, start_date, …)")
        .add_filter("CSV", &["csv"]);
    if let Some(dir) = lesions.parent() {
        dialog = dialog.set_directory(dir);
    }
    let patients = dialog.pick_file()?;
    Some(Command::ImportCohortLesions { lesions, patients })
}

/// The import buttons (also in the File menu).
fn import_buttons_ui(ui: &mut egui::Ui, commands: &mut Vec<Command>) {
    if ui
        .button("Import results CSV…")
        .on_hover_text("One row per patient: patient_id, arm, best_response, best_change_pct, pfs_months, progressed, ttr_months")
        .clicked()
        && let Some(command) = pick_results_command()
    {
        commands.push(command);
    }
    if ui
        .button("Import lesion table + patient table…")
        .on_hover_text("The lesion table of nadir assess and a patient table: patient_id, arm, start_date, death_date, last_contact_date")
        .clicked()
        && let Some(command) = pick_lesion_tables_command()
    {
        commands.push(command);
    }
    if ui
        .button("Use this session's lesions")
        .on_hover_text("One arm \"all\"; start date = baseline date")
        .clicked()
    {
        commands.push(Command::CohortFromSession);
    }
}

/// The whole Cohort view (central area).
pub fn cohort_ui(ui: &mut egui::Ui, workspace: &Workspace, commands: &mut Vec<Command>) {
    let state = &workspace.cohort;
    ui.horizontal_wrapped(|ui| {
        ui.heading("Cohort");
        if let Some(cohort) = &state.cohort {
            ui.label(
                RichText::new(format!(
                    "{} patients · {}",
                    cohort.outcomes.len(),
                    cohort.source.describe()
                ))
                .strong(),
            );
        }
        ui.separator();
        import_buttons_ui(ui, commands);
    });
    if let Some(job) = &state.job {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("Reading {} …", job.source.describe()));
        });
    }
    if let Some(error) = &state.error {
        egui::Frame::new()
            .fill(Color32::from_rgb(70, 24, 20))
            .inner_margin(egui::Margin::symmetric(8, 6))
            .corner_radius(4.0)
            .show(ui, |ui| {
                ui.set_width(ui.available_width());
                ui.colored_label(
                    Color32::from_rgb(255, 190, 170),
                    RichText::new(format!("Import failed: {error}")).strong(),
                );
                if state.cohort.is_some() {
                    ui.label("Nothing was imported; the previous cohort is still shown.");
                }
            });
    }
    let Some(cohort) = state.shown(workspace.project.blinded) else {
        ui.add_space(40.0);
        ui.vertical_centered(|ui| {
            ui.label(
                RichText::new(
                    "No cohort yet. Import a per-patient results CSV, a lesion table with its \
                     patient table (File menu or the buttons above), or use this session's lesions.",
                )
                .color(Color32::GRAY)
                .size(17.0),
            );
        });
        return;
    };
    ui.add_space(4.0);
    egui::Panel::left("cohort_statistics")
        .resizable(true)
        .default_size(440.0)
        .min_size(320.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| statistics_ui(ui, cohort));
        });
    egui::CentralPanel::no_frame()
        .frame(egui::Frame::new().inner_margin(egui::Margin::symmetric(10, 0)))
        .show(ui, |ui| plots_ui(ui, cohort));
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn rate_text(rate: &RateEstimate) -> String {
    format!(
        "{}/{} = {} ({:.1}–{:.1})",
        rate.x,
        rate.n,
        percent(rate.rate),
        rate.ci_lower * 100.0,
        rate.ci_upper * 100.0
    )
}

fn months(value: Option<f64>) -> String {
    value.map_or_else(|| "NR".to_string(), |v| format!("{v:.1}"))
}

fn signed_pct(value: Option<f64>) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:+.1}%"))
}

/// "p = 0.134", "p < 0.001" or "p —".
fn p_value(p: Option<f64>) -> String {
    match p {
        None => "p —".to_string(),
        Some(p) if p < 0.001 => "p < 0.001".to_string(),
        Some(p) => format!("p = {p:.3}"),
    }
}

/// The rows of the statistics table for one arm.
fn arm_cells(arm: &ArmReport) -> Vec<String> {
    let counts = &arm.response_counts;
    let change = &arm.best_change;
    let median = &arm.pfs.median;
    let mut cells = vec![
        arm.n.to_string(),
        format!(
            "{} / {} / {} / {} / {}",
            counts.cr, counts.pr, counts.sd, counts.pd, counts.ne
        ),
        rate_text(&arm.orr),
        rate_text(&arm.dcr),
        match change.median {
            Some(_) => format!(
                "{} ({} to {})",
                signed_pct(change.median),
                signed_pct(change.min),
                signed_pct(change.max)
            ),
            None => "—".to_string(),
        },
        match arm.time_to_response.median {
            Some(m) => format!("{m:.1} mo (n {})", arm.time_to_response.n),
            None => "—".to_string(),
        },
        format!("{} of {}", arm.pfs.km.events(), arm.pfs.km.n()),
        format!(
            "{} mo ({}–{})",
            months(median.estimate),
            months(median.ci_lower),
            months(median.ci_upper)
        ),
    ];
    for landmark in &arm.pfs.landmarks {
        cells.push(
            match (landmark.surv, landmark.ci_lower, landmark.ci_upper) {
                (Some(s), Some(lo), Some(hi)) => {
                    format!("{} ({:.1}–{:.1})", percent(s), lo * 100.0, hi * 100.0)
                }
                (Some(s), _, _) => percent(s),
                _ => "—".to_string(),
            },
        );
    }
    cells
}

fn row_names(report: &CohortReport) -> Vec<String> {
    let mut names: Vec<String> = [
        "Patients",
        "CR / PR / SD / PD / NE",
        "ORR (95% CI)",
        "DCR (95% CI)",
        "Best change, median (range)",
        "Time to response, median",
        "PFS events",
        "Median PFS (95% CI)",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    if let Some(arm) = report.arms.first() {
        for landmark in &arm.pfs.landmarks {
            names.push(format!("PFS at {} mo (95% CI)", landmark.time_months));
        }
    }
    names
}

/// Per-arm table (arms as columns), the comparison and the warnings.
fn statistics_ui(ui: &mut egui::Ui, cohort: &Cohort) {
    let report = &cohort.report;
    ui.heading("Statistics per arm");
    let columns: Vec<Vec<String>> = report.arms.iter().map(arm_cells).collect();
    egui::Grid::new("cohort_statistics_table")
        .striped(true)
        .num_columns(report.arms.len() + 1)
        .min_col_width(60.0)
        .show(ui, |ui| {
            ui.label("");
            for (index, arm) in report.arms.iter().enumerate() {
                ui.label(
                    RichText::new(&arm.arm)
                        .strong()
                        .color(colour(arm_rgb(index))),
                );
            }
            ui.end_row();
            for (row, name) in row_names(report).iter().enumerate() {
                ui.label(RichText::new(name).strong());
                for column in &columns {
                    ui.label(column.get(row).map_or("", String::as_str));
                }
                ui.end_row();
            }
        });
    if report.arms.len() > 1 {
        let overall = &report.overall;
        ui.label(format!(
            "All arms: n {} · ORR {} · DCR {}",
            overall.n,
            rate_text(&overall.orr),
            rate_text(&overall.dcr)
        ));
    }
    ui.add_space(8.0);
    if let Some(comparison) = &report.comparison {
        ui.heading(format!(
            "{} vs {}",
            comparison.experimental_arm, comparison.reference_arm
        ));
        let logrank = &comparison.logrank;
        ui.label(format!(
            "Log-rank: χ² {}, {}",
            logrank
                .chisq
                .map_or_else(|| "—".to_string(), |c| format!("{c:.2}")),
            p_value(logrank.p)
        ));
        match &comparison.cox {
            Some(cox) => ui.label(format!(
                "Cox HR {:.3} (95% CI {:.3}–{:.3}), Wald {}",
                cox.hr,
                cox.ci_lower,
                cox.ci_upper,
                p_value(Some(cox.wald_p))
            )),
            None => ui.label("Cox HR: not estimable"),
        };
        if report.arms.len() > 2 {
            ui.label(
                RichText::new("More than two arms: the comparison uses the first two.").weak(),
            );
        }
    }
    ui.add_space(8.0);
    ui.label(
        RichText::new(
            "ORR = CR + PR, DCR = CR + PR + SD (Non-CR/Non-PD counts as SD), exact \
             Clopper–Pearson 95% CI; PFS by Kaplan–Meier (log-transform CI, as R survfit), NR = not reached.",
        )
        .small()
        .weak(),
    );
    if cohort.source == CohortSource::Session {
        ui.add_space(4.0);
        ui.colored_label(
            Color32::from_rgb(240, 180, 110),
            "Built from this session's lesions: arm \"all\", start date = baseline date, no \
             death dates. PFS is only indicative; a real trial needs a patient table \
             (Import lesion table + patient table).",
        );
    }
    if !cohort.warnings.is_empty() {
        ui.add_space(4.0);
        egui::CollapsingHeader::new(format!("{} warning(s)", cohort.warnings.len()))
            .id_salt("cohort_warnings")
            .show(ui, |ui| {
                for warning in cohort.warnings.iter().take(200) {
                    ui.label(RichText::new(warning).small());
                }
            });
    }
}

/// The four plots in a 2 × 2 grid.
fn plots_ui(ui: &mut egui::Ui, cohort: &Cohort) {
    let plots = &cohort.plots;
    let available = ui.available_size();
    let width = ((available.x - GAP) / 2.0).max(200.0);
    let title_height = 26.0;
    let height = ((available.y - GAP) / 2.0 - title_height).max(150.0);
    let km_title = match &cohort.report.comparison {
        Some(c) => {
            let hr = c.cox.as_ref().map_or_else(String::new, |cox| {
                format!(
                    " · HR {:.2} ({:.2}–{:.2})",
                    cox.hr, cox.ci_lower, cox.ci_upper
                )
            });
            format!(
                "PFS (Kaplan–Meier, 95% CI){hr} · log-rank {}",
                p_value(c.logrank.p)
            )
        }
        None => "Progression-free survival (Kaplan–Meier, 95% CI)".to_string(),
    };
    ui.horizontal_top(|ui| {
        plot_box_ui(ui, "Waterfall: best change from baseline", width, |ui| {
            waterfall_plot_ui(ui, plots, width, height)
        });
        plot_box_ui(ui, "Swimmer: time on study", width, |ui| {
            swimmer_plot_ui(ui, plots, width, height)
        });
    });
    ui.add_space(GAP - 6.0);
    ui.horizontal_top(|ui| {
        plot_box_ui(ui, "Spider: change over time", width, |ui| {
            spider_plot_ui(ui, plots, width, height)
        });
        plot_box_ui(ui, &km_title, width, |ui| {
            km_plot_ui(ui, cohort, width, height)
        });
    });
}

fn plot_box_ui(ui: &mut egui::Ui, title: &str, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    ui.vertical(|ui| {
        ui.set_width(width);
        ui.add(egui::Label::new(RichText::new(title).strong()).truncate());
        add(ui);
    });
}

fn legend() -> Legend {
    Legend::default()
        .text_style(egui::TextStyle::Small)
        .position(Corner::RightTop)
        .follow_insertion_order(true)
        .background_alpha(0.85)
}

fn threshold_lines() -> [HLine; 2] {
    [
        HLine::new(
            format!("PR threshold {RESPONSE_THRESHOLD_PCT:+.0}%"),
            RESPONSE_THRESHOLD_PCT,
        )
        .color(reference_line_colour())
        .style(LineStyle::dashed_loose()),
        HLine::new(
            format!("PD threshold {PROGRESSION_THRESHOLD_PCT:+.0}%"),
            PROGRESSION_THRESHOLD_PCT,
        )
        .color(reference_line_colour())
        .style(LineStyle::dashed_dense()),
    ]
}

fn waterfall_plot_ui(ui: &mut egui::Ui, plots: &CohortPlots, width: f32, height: f32) {
    // Arms side by side, two empty slots between them.
    let mut x = 0.0;
    let mut placed: Vec<(f64, &crate::cohort::series::WaterfallBar)> = Vec::new();
    let mut arm_labels: Vec<(f64, String)> = Vec::new();
    for (arm, bars) in &plots.waterfall {
        let first = x;
        for bar in bars {
            placed.push((x, bar));
            x += 1.0;
        }
        arm_labels.push(((first + x - 1.0) / 2.0, format!("{arm} (n {})", bars.len())));
        x += 2.0;
    }
    let top = placed
        .iter()
        .map(|(_, bar)| bar.change_pct)
        .fold(PROGRESSION_THRESHOLD_PCT, f64::max);
    let several_arms = plots.waterfall.len() > 1;
    Plot::new("cohort_waterfall")
        .width(width)
        .height(height)
        .legend(legend().position(Corner::LeftBottom))
        .x_axis_label("Patients, by best change")
        .y_axis_label("Best change from baseline (%)")
        .x_axis_formatter(|_, _| String::new())
        .include_x(-1.0)
        .include_y(top * 1.15 + 5.0)
        .include_y(RESPONSE_THRESHOLD_PCT - 15.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            for response in BestResponse::ALL {
                let bars: Vec<Bar> = placed
                    .iter()
                    .filter(|(_, bar)| bar.best_response == response)
                    .map(|(x, bar)| {
                        Bar::new(*x, bar.change_pct)
                            .width(0.8)
                            .name(&bar.patient_id)
                            .fill(colour(response_rgb(response)))
                    })
                    .collect();
                if !bars.is_empty() {
                    plot_ui.bar_chart(
                        BarChart::new(response_label(response), bars)
                            .color(colour(response_rgb(response))),
                    );
                }
            }
            for line in threshold_lines() {
                plot_ui.hline(line);
            }
            if several_arms {
                for (x, label) in arm_labels {
                    plot_ui.text(
                        Text::new("", PlotPoint::new(x, top * 1.1 + 4.0), label)
                            .color(Color32::LIGHT_GRAY),
                    );
                }
            }
        });
}

fn swimmer_plot_ui(ui: &mut egui::Ui, plots: &CohortPlots, width: f32, height: f32) {
    let lanes = &plots.swimmer;
    // Top to bottom, a gap of two lanes between arms.
    let mut y = 0.0;
    let mut rows: Vec<f64> = Vec::with_capacity(lanes.len());
    let mut arm_labels: Vec<(f64, String)> = Vec::new();
    for (index, lane) in lanes.iter().enumerate() {
        let new_arm = index == 0 || lanes.get(index - 1).is_some_and(|p| p.arm != lane.arm);
        if new_arm {
            if index > 0 {
                y -= 2.0;
            }
            let n = lanes.iter().filter(|l| l.arm == lane.arm).count();
            arm_labels.push((y + 0.9, format!("{} (n {n})", lane.arm)));
        }
        rows.push(y);
        y -= 1.0;
    }
    let max_months = lanes
        .iter()
        .map(|lane| lane.end_months)
        .fold(1.0_f64, f64::max);
    let radius = (height / (lanes.len().max(1) as f32 + 4.0) * 0.35).clamp(1.5, 5.0);
    let labelled = lanes.len() <= MAX_LABELLED_LANES;
    let ids: Vec<(f64, &str)> = rows
        .iter()
        .zip(lanes)
        .map(|(y, lane)| (*y, lane.patient_id.as_str()))
        .collect();
    let marks: Vec<GridMark> = rows
        .iter()
        .map(|&value| GridMark {
            value,
            step_size: 1.0,
        })
        .collect();
    let several_arms = arm_labels.len() > 1;
    let x_marks = tick_marks(&plots.swimmer_ticks_months);
    let mut plot = Plot::new("cohort_swimmer")
        .x_grid_spacer(move |_| x_marks.clone())
        .width(width)
        .height(height)
        .legend(legend().position(Corner::RightBottom))
        .custom_x_axes(vec![months_axis()])
        .y_axis_label(if labelled { "" } else { "Patients" })
        .include_x(0.0)
        .include_x(max_months * 1.5)
        .include_y(1.5)
        .allow_scroll(false);
    if labelled {
        plot = plot
            .y_grid_spacer(move |_| marks.clone())
            .y_axis_formatter(move |mark, _| {
                ids.iter()
                    .find(|(y, _)| (*y - mark.value).abs() < 1e-6)
                    .map_or_else(String::new, |(_, id)| (*id).to_string())
            });
    } else {
        plot = plot.y_axis_formatter(|_, _| String::new());
    }
    plot.show(ui, |plot_ui| {
        for response in BestResponse::ALL {
            let bars: Vec<Bar> = lanes
                .iter()
                .zip(&rows)
                .filter(|(lane, _)| lane.best_response == response)
                .map(|(lane, y)| {
                    Bar::new(*y, lane.end_months)
                        .width(0.7)
                        .name(&lane.patient_id)
                        .fill(colour(response_rgb(response)))
                })
                .collect();
            if !bars.is_empty() {
                plot_ui.bar_chart(
                    BarChart::new(response_label(response), bars)
                        .color(colour(response_rgb(response)))
                        .horizontal(),
                );
            }
        }
        let onsets: Vec<[f64; 2]> = lanes
            .iter()
            .zip(&rows)
            .filter_map(|(lane, y)| Some([lane.response_onset_months?, *y]))
            .collect();
        if !onsets.is_empty() {
            plot_ui.points(
                Points::new("Response onset", onsets)
                    .shape(MarkerShape::Up)
                    .filled(true)
                    .radius(radius * 1.2)
                    .color(Color32::WHITE),
            );
        }
        let progressions: Vec<[f64; 2]> = lanes
            .iter()
            .zip(&rows)
            .filter_map(|(lane, y)| Some([lane.progression_months?, *y]))
            .collect();
        if !progressions.is_empty() {
            plot_ui.points(
                Points::new("Progression or death", progressions)
                    .shape(MarkerShape::Cross)
                    .radius(radius * 1.2)
                    .color(Color32::from_rgb(255, 220, 200)),
            );
        }
        let arrow = max_months * 0.05;
        let (origins, tips): (Vec<[f64; 2]>, Vec<[f64; 2]>) = lanes
            .iter()
            .zip(&rows)
            .filter(|(lane, _)| lane.ongoing)
            .map(|(lane, y)| ([lane.end_months, *y], [lane.end_months + arrow, *y]))
            .unzip();
        if !origins.is_empty() {
            plot_ui.arrows(
                Arrows::new("Ongoing (censored)", origins, tips)
                    .tip_length(radius * 2.0)
                    .color(Color32::LIGHT_GRAY),
            );
        }
        if several_arms {
            for (y, label) in arm_labels {
                plot_ui.text(
                    Text::new("", PlotPoint::new(0.0, y), label)
                        .anchor(egui::Align2::LEFT_BOTTOM)
                        .color(Color32::LIGHT_GRAY),
                );
            }
        }
    });
}

fn spider_plot_ui(ui: &mut egui::Ui, plots: &CohortPlots, width: f32, height: f32) {
    let Some(lines) = &plots.spider else {
        ui.allocate_ui(egui::vec2(width, height), |ui| {
            ui.set_min_size(egui::vec2(width, height));
            ui.centered_and_justified(|ui| {
                ui.label(
                    RichText::new(
                        "The spider plot needs the change over time: import a lesion table \
                         with its patient table, or use this session's lesions.",
                    )
                    .color(Color32::GRAY),
                );
            });
        });
        return;
    };
    Plot::new("cohort_spider")
        .width(width)
        .height(height)
        .legend(legend())
        .x_axis_label("Months since start")
        .y_axis_label("Change in target sum from baseline (%)")
        .include_x(0.0)
        .include_y(PROGRESSION_THRESHOLD_PCT + 10.0)
        .include_y(RESPONSE_THRESHOLD_PCT - 10.0)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            // One legend entry per best response: lines share their response's name.
            for response in BestResponse::ALL {
                for line in lines.iter().filter(|l| l.best_response == response) {
                    let points: Vec<[f64; 2]> = line
                        .points
                        .iter()
                        .map(|p| [p.months, p.change_pct])
                        .collect();
                    plot_ui.line(
                        Line::new(response_label(response), points)
                            .color(colour(response_rgb(response)))
                            .width(1.8)
                            .allow_band(false)
                            .id(("spider", &line.patient_id)),
                    );
                }
            }
            for line in threshold_lines() {
                plot_ui.hline(line);
            }
        });
}

/// The months axis of the swimmer and KM plots: every tick labelled (the
/// ticks are few and evenly spaced, and the numbers at risk sit under them).
fn months_axis() -> AxisHints<'static> {
    AxisHints::new_x()
        .label("Months since start")
        .label_spacing(16.0..=20.0)
}

/// Grid marks at evenly spaced ticks (the step of the first two).
fn tick_marks(ticks: &[f64]) -> Vec<GridMark> {
    let step = match ticks {
        [first, second, ..] => second - first,
        _ => 1.0,
    };
    ticks
        .iter()
        .map(|&value| GridMark {
            value,
            step_size: step,
        })
        .collect()
}

fn km_plot_ui(ui: &mut egui::Ui, cohort: &Cohort, width: f32, height: f32) {
    const ROW: f64 = 0.075;
    let plots = &cohort.plots;
    let ticks = plots.km_ticks_months.clone();
    let x_marks = tick_marks(&ticks);
    let y_marks: Vec<GridMark> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .into_iter()
        .map(|value| GridMark {
            value,
            step_size: 0.25,
        })
        .collect();
    let last_row = -ROW * (plots.km.len() as f64 + 1.0);
    let x_high = ticks.last().copied().unwrap_or(1.0);
    Plot::new("cohort_km")
        .width(width)
        .height(height)
        .legend(legend())
        .custom_x_axes(vec![months_axis()])
        .y_axis_label("Progression-free survival")
        .x_grid_spacer(move |_| x_marks.clone())
        .y_grid_spacer(move |_| y_marks.clone())
        .y_axis_formatter(|mark, _| {
            if mark.value >= 0.0 {
                format!("{:.0}%", mark.value * 100.0)
            } else {
                String::new()
            }
        })
        .include_x(0.0)
        .include_x(x_high)
        .include_y(1.02)
        .include_y(last_row - ROW * 0.6)
        .allow_scroll(false)
        .show(ui, |plot_ui| {
            for (index, curve) in plots.km.iter().enumerate() {
                let arm_colour = colour(arm_rgb(index));
                if curve.band.len() > 1 {
                    let xs: Vec<f64> = curve.band.iter().map(|p| p[0]).collect();
                    let lower: Vec<f64> = curve.band.iter().map(|p| p[1]).collect();
                    let upper: Vec<f64> = curve.band.iter().map(|p| p[2]).collect();
                    plot_ui.add(
                        FilledArea::new("", &xs, &lower, &upper)
                            .fill_color(arm_colour.gamma_multiply(0.22))
                            .allow_hover(false),
                    );
                }
            }
            plot_ui.hline(
                HLine::new("", 0.5)
                    .color(reference_line_colour())
                    .style(LineStyle::dashed_loose()),
            );
            for (index, curve) in plots.km.iter().enumerate() {
                let arm_colour = colour(arm_rgb(index));
                let name = match cohort.report.arms.get(index) {
                    Some(arm) => format!(
                        "{}: median {} mo",
                        curve.arm,
                        months(arm.pfs.median.estimate)
                    ),
                    None => curve.arm.clone(),
                };
                plot_ui.line(
                    Line::new(name.clone(), curve.steps.surv.clone())
                        .color(arm_colour)
                        .width(2.5)
                        .allow_band(false),
                );
                if !curve.steps.censor_marks.is_empty() {
                    plot_ui.points(
                        Points::new(name, curve.steps.censor_marks.clone())
                            .shape(MarkerShape::Plus)
                            .radius(4.0)
                            .color(arm_colour),
                    );
                }
            }
            // Numbers at risk under the month ticks, one row per arm.
            plot_ui.text(
                Text::new(
                    "",
                    PlotPoint::new(0.0, -ROW * 0.55),
                    RichText::new("Number at risk").strong(),
                )
                .anchor(egui::Align2::LEFT_CENTER)
                .color(Color32::LIGHT_GRAY),
            );
            for (index, curve) in plots.km.iter().enumerate() {
                let y = -ROW * (index as f64 + 1.4);
                for (tick, count) in ticks.iter().zip(&curve.at_risk) {
                    plot_ui.text(
                        Text::new("", PlotPoint::new(*tick, y), count.to_string())
                            .color(colour(arm_rgb(index))),
                    );
                }
            }
        });
}
