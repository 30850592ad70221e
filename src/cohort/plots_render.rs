//! Renders the cohort plots (waterfall, swimmer, spider, Kaplan–Meier) to PNG
//! and SVG bytes with `plotters`; the caller writes the files (`--plots DIR`).
//!
//! The data come from [`super::series`] (the same series the GUI draws). Text
//! in the PNGs is rasterised by plotters' `ab_glyph` feature with DejaVu Sans,
//! bundled as `assets/fonts/DejaVuSans.ttf` (free licence, see
//! `assets/fonts/DejaVuSans-LICENSE.txt`), so no system font is needed; the
//! SVGs name the generic `sans-serif` family. No file or clock access here.

use super::km::KaplanMeier;
use super::series::{
    KmSteps, PROGRESSION_THRESHOLD_PCT, RESPONSE_THRESHOLD_PCT, SpiderSeries, SwimmerLane,
    WaterfallBar, arm_rgb, km_steps, numbers_at_risk, palette,
    response_label as series_response_label, response_rgb, spider_lines, swimmer_lanes,
    time_ticks_months, waterfall_bars, waterfall_bars_by_arm,
};
use super::{BestResponse, CohortReport, PatientOutcome};
use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};
use std::sync::OnceLock;

/// The font rasterised into the PNGs.
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// Font family name the plots use (registered for `ab_glyph`).
const FONT: &str = "sans-serif";
/// Plotted values are clamped to ±this (keeps axis arithmetic finite).
const PLOT_LIMIT: f64 = 1e9;
/// Arms drawn as separate panels up to this number; more are pooled.
const MAX_PANELS: usize = 4;
/// Lanes / lines labelled with patient ids up to this number.
const MAX_LABELLED_LANES: usize = 60;

/// One rendered plot.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedPlot {
    /// File stem: `waterfall`, `swimmer`, `spider` or `km`.
    pub name: &'static str,
    /// PNG bytes.
    pub png: Vec<u8>,
    /// SVG document.
    pub svg: String,
}

/// What the plots are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct PlotInput<'a> {
    /// The patients.
    pub outcomes: &'a [PatientOutcome],
    /// The computed report (KM fits, comparison).
    pub report: &'a CohortReport,
    /// % change over time per patient (input path b only); no spider plot without.
    pub spider: Option<&'a [SpiderSeries]>,
}

/// Why a plot could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// The bundled font could not be registered.
    #[error("cannot load the plot font")]
    Font,
    /// plotters reported a drawing error.
    #[error("cannot draw the {plot} plot: {message}")]
    Drawing {
        /// The plot.
        plot: &'static str,
        /// plotters' message.
        message: String,
    },
    /// PNG encoding failed.
    #[error("cannot encode the {plot} plot as PNG: {message}")]
    Png {
        /// The plot.
        plot: &'static str,
        /// The encoder's message.
        message: String,
    },
}

/// Renders every plot that applies: waterfall, swimmer, spider (only with
/// spider series) and km.
pub fn render_cohort_plots(input: &PlotInput<'_>) -> Result<Vec<RenderedPlot>, PlotError> {
    let mut plots = vec![
        render(&WaterfallFigure::new(input.outcomes))?,
        render(&SwimmerFigure::new(input.outcomes))?,
    ];
    if let Some(spider) = input.spider {
        plots.push(render(&SpiderFigure::new(spider))?);
    }
    plots.push(render(&KmFigure::new(input.report))?);
    Ok(plots)
}

/// Renders the waterfall plot alone.
pub fn render_waterfall(outcomes: &[PatientOutcome]) -> Result<RenderedPlot, PlotError> {
    render(&WaterfallFigure::new(outcomes))
}

/// Renders the swimmer plot alone.
pub fn render_swimmer(outcomes: &[PatientOutcome]) -> Result<RenderedPlot, PlotError> {
    render(&SwimmerFigure::new(outcomes))
}

/// Renders the spider plot alone.
pub fn render_spider(series: &[SpiderSeries]) -> Result<RenderedPlot, PlotError> {
    render(&SpiderFigure::new(series))
}

/// Renders the Kaplan–Meier plot alone.
pub fn render_km(report: &CohortReport) -> Result<RenderedPlot, PlotError> {
    render(&KmFigure::new(report))
}

// ---------------------------------------------------------------------------
// plumbing

/// A figure that can draw itself on any plotters backend.
trait Figure {
    const NAME: &'static str;
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

fn render<F: Figure>(figure: &F) -> Result<RenderedPlot, PlotError> {
    ensure_font()?;
    let (width, height) = figure.size();
    let mut pixels = vec![0_u8; width as usize * height as usize * 3];
    {
        let backend =
            BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, (width, height))
                .map_err(|error| drawing_error(F::NAME, error))?;
        let root = backend.into_drawing_area();
        figure.draw(&root)?;
        root.present()
            .map_err(|error| drawing_error(F::NAME, error))?;
    }
    let mut png = Vec::new();
    {
        use image::ImageEncoder;
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)
            .map_err(|error| PlotError::Png {
                plot: F::NAME,
                message: error.to_string(),
            })?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        figure.draw(&root)?;
        root.present()
            .map_err(|error| drawing_error(F::NAME, error))?;
    }
    Ok(RenderedPlot {
        name: F::NAME,
        png,
        svg,
    })
}

fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok { Ok(()) } else { Err(PlotError::Font) }
}

fn drawing_error(plot: &'static str, error: impl std::fmt::Debug) -> PlotError {
    PlotError::Drawing {
        plot,
        message: format!("{error:?}"),
    }
}

/// Maps any plotters error of figure `F` to [`PlotError`].
macro_rules! draw_err {
    ($expr:expr) => {
        $expr.map_err(|error| drawing_error(Self::NAME, error))
    };
}

// ---------------------------------------------------------------------------
// colours and text

/// Okabe–Ito colour-blind-safe palette.
/// (The colours themselves live in [`super::series::palette`].)
const GREY: RGBColor = RGBColor(150, 150, 150);
const DARK: RGBColor = RGBColor(40, 40, 40);

fn rgb([r, g, b]: [u8; 3]) -> RGBColor {
    RGBColor(r, g, b)
}

fn response_colour(response: BestResponse) -> RGBColor {
    rgb(response_rgb(response))
}

fn response_label(response: BestResponse) -> &'static str {
    series_response_label(response)
}

fn arm_colour(index: usize) -> RGBColor {
    rgb(arm_rgb(index))
}

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&DARK)
}

fn title_style() -> TextStyle<'static> {
    (FONT, 26).into_font().color(&BLACK)
}

/// Padded value range that always includes `must_include`.
fn padded_range(
    values: impl Iterator<Item = f64>,
    must_include: &[f64],
    pad_fraction: f64,
) -> (f64, f64) {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for value in values.chain(must_include.iter().copied()) {
        if value.is_finite() {
            let value = value.clamp(-PLOT_LIMIT, PLOT_LIMIT);
            low = low.min(value);
            high = high.max(value);
        }
    }
    if !(low.is_finite() && high.is_finite()) {
        return (0.0, 1.0);
    }
    let pad = ((high - low) * pad_fraction).max(1e-9);
    (low - pad, high + pad)
}

/// Clamps a coordinate into the axis range: plotters overflows (and panics in
/// debug builds) on coordinates far outside the chart.
fn clamp_axis(value: f64, low: f64, high: f64) -> f64 {
    if value.is_nan() {
        low
    } else {
        value.clamp(low, high)
    }
}

/// A tick value without a needless ".0".
fn trim_tick(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

// ---------------------------------------------------------------------------
// waterfall

struct WaterfallFigure {
    panels: Vec<(String, Vec<WaterfallBar>)>,
}

impl WaterfallFigure {
    fn new(outcomes: &[PatientOutcome]) -> Self {
        let by_arm = waterfall_bars_by_arm(outcomes);
        let panels = if by_arm.len() <= MAX_PANELS {
            by_arm
        } else {
            vec![("All arms".to_string(), waterfall_bars(outcomes))]
        };
        WaterfallFigure { panels }
    }
}

impl Figure for WaterfallFigure {
    const NAME: &'static str = "waterfall";

    fn size(&self) -> (u32, u32) {
        (1200, 120 + 380 * self.panels.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_err!(root.fill(&WHITE))?;
        let body = draw_err!(root.titled(
            "Best percentage change from baseline in the sum of target lesion diameters",
            title_style()
        ))?;
        let (y_low, y_high) = padded_range(
            self.panels
                .iter()
                .flat_map(|(_, bars)| bars.iter().map(|b| b.change_pct)),
            &[-100.0, 30.0],
            0.04,
        );
        let areas = body.split_evenly((self.panels.len().max(1), 1));
        for ((arm, bars), area) in self.panels.iter().zip(areas.iter()) {
            let caption = if self.panels.len() > 1 || arm != "All arms" {
                format!(
                    "{arm}: {} with a measurable change",
                    plural(bars.len(), "patient")
                )
            } else {
                arm.clone()
            };
            let n = bars.len().max(1) as f64;
            let mut chart = draw_err!(
                ChartBuilder::on(area)
                    .caption(caption, text_style(20))
                    .margin(12)
                    .margin_right(30)
                    .x_label_area_size(36)
                    .y_label_area_size(80)
                    .build_cartesian_2d(-0.5..n - 0.5, y_low..y_high)
            )?;
            draw_err!(
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .disable_x_axis()
                    .light_line_style(WHITE)
                    .bold_line_style(RGBColor(225, 225, 225))
                    .y_desc("Best change from baseline (%)")
                    .x_desc("Patients, ordered by best change")
                    .axis_desc_style(text_style(17))
                    .label_style(text_style(15))
                    .y_label_formatter(&|v| format!("{v:.0}"))
                    .draw()
            )?;
            // Bars, one series per response category (for the legend).
            let bar_width = if bars.len() > 200 { 0.5 } else { 0.4 };
            for response in BestResponse::ALL {
                let colour = response_colour(response);
                let category: Vec<(usize, f64)> = bars
                    .iter()
                    .enumerate()
                    .filter(|(_, bar)| bar.best_response == response)
                    .map(|(index, bar)| (index, clamp_axis(bar.change_pct, y_low, y_high)))
                    .collect();
                if category.is_empty() {
                    continue;
                }
                draw_err!(chart.draw_series(category.iter().map(|&(index, change)| {
                    let x = index as f64;
                    Rectangle::new(
                        [(x - bar_width, 0.0), (x + bar_width, change)],
                        colour.filled(),
                    )
                })))?
                .label(response_label(response))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 7), (x + 16, y + 7)], colour.filled())
                });
            }
            draw_err!(chart.draw_series(LineSeries::new(
                [(-0.5, 0.0), (n - 0.5, 0.0)],
                BLACK.stroke_width(1)
            )))?;
            // Threshold labels where the bars leave room: +20% above the line at the
            // right end (shrinking tumours), −30% below it at the left end (growing).
            for (threshold, label, x, anchor, offset) in [
                (
                    PROGRESSION_THRESHOLD_PCT,
                    "+20% (PD)",
                    n - 0.5,
                    Pos::new(HPos::Right, VPos::Bottom),
                    (-6, -3),
                ),
                (
                    RESPONSE_THRESHOLD_PCT,
                    "\u{2212}30% (PR)",
                    -0.5,
                    Pos::new(HPos::Left, VPos::Top),
                    (6, 3),
                ),
            ] {
                draw_err!(chart.draw_series(DashedLineSeries::new(
                    [(-0.5, threshold), (n - 0.5, threshold)],
                    8,
                    5,
                    DARK.stroke_width(1)
                )))?;
                draw_err!(chart.draw_series(std::iter::once(
                    EmptyElement::at((x, threshold))
                        + Text::new(label, offset, text_style(14).pos(anchor))
                )))?;
            }
            draw_err!(
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::LowerLeft)
                    .background_style(WHITE.mix(0.9))
                    .border_style(RGBColor(180, 180, 180))
                    .label_font(text_style(15))
                    .draw()
            )?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// swimmer

struct SwimmerFigure {
    panels: Vec<(String, Vec<SwimmerLane>)>,
    max_months: f64,
}

impl SwimmerFigure {
    fn new(outcomes: &[PatientOutcome]) -> Self {
        let lanes = swimmer_lanes(outcomes);
        let max_months = lanes
            .iter()
            .map(|lane| lane.end_months)
            .filter(|months| months.is_finite())
            .fold(0.0_f64, f64::max)
            .min(PLOT_LIMIT);
        let mut panels: Vec<(String, Vec<SwimmerLane>)> = Vec::new();
        for lane in lanes {
            match panels.last_mut() {
                Some((arm, group)) if *arm == lane.arm => group.push(lane),
                _ => panels.push((lane.arm.clone(), vec![lane])),
            }
        }
        if panels.len() > MAX_PANELS {
            let all = panels.into_iter().flat_map(|(_, lanes)| lanes).collect();
            panels = vec![("All arms".to_string(), all)];
        }
        SwimmerFigure { panels, max_months }
    }

    fn lane_count(&self) -> usize {
        self.panels.iter().map(|(_, lanes)| lanes.len()).sum()
    }

    fn lane_height(&self) -> u32 {
        match self.lane_count() {
            0..=30 => 24,
            31..=60 => 16,
            61..=200 => 5,
            _ => 2,
        }
    }
}

impl Figure for SwimmerFigure {
    const NAME: &'static str = "swimmer";

    fn size(&self) -> (u32, u32) {
        let lanes = self.lane_count() as u32;
        let panels = self.panels.len().max(1) as u32;
        let height = 170 + panels * 90 + lanes * self.lane_height();
        (1200, height.clamp(400, 4000))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_err!(root.fill(&WHITE))?;
        let body =
            draw_err!(root.titled("Time on study and response (swimmer plot)", title_style()))?;
        let (body, legend_area) = body.split_vertically(body.dim_in_pixel().1.saturating_sub(50));
        let x_high = (self.max_months * 1.06).max(1.0);
        let total_lanes = self.lane_count().max(1) as f64;
        let available = body.dim_in_pixel().1 as f64;
        let fixed_per_panel = 90.0;
        let lane_pixels =
            ((available - fixed_per_panel * self.panels.len() as f64) / total_lanes).max(0.01);
        let mut breakpoints = Vec::new();
        let mut y = 0.0;
        for (_, lanes) in self.panels.iter().take(self.panels.len().saturating_sub(1)) {
            y += fixed_per_panel + lanes.len() as f64 * lane_pixels;
            breakpoints.push(y.round() as i32);
        }
        let areas = body.split_by_breakpoints::<i32, i32, _, _>([], breakpoints);
        let label_lanes = self.lane_count() <= MAX_LABELLED_LANES;
        for ((arm, lanes), area) in self.panels.iter().zip(areas.iter()) {
            let n = lanes.len();
            let ids: Vec<String> = lanes
                .iter()
                .rev()
                .map(|lane| lane.patient_id.clone())
                .collect();
            let mut chart = draw_err!(
                ChartBuilder::on(area)
                    .caption(format!("{arm} ({})", plural(n, "patient")), text_style(18))
                    .margin(10)
                    .margin_right(30)
                    .x_label_area_size(40)
                    .y_label_area_size(if label_lanes { 90 } else { 40 })
                    .build_cartesian_2d(0.0..x_high, (0..n).into_segmented())
            )?;
            let id_of = |value: &SegmentValue<usize>| match value {
                SegmentValue::CenterOf(index) if label_lanes => {
                    ids.get(*index).cloned().unwrap_or_default()
                }
                _ => String::new(),
            };
            draw_err!(
                chart
                    .configure_mesh()
                    .disable_y_mesh()
                    .light_line_style(WHITE)
                    .bold_line_style(RGBColor(230, 230, 230))
                    .y_labels(if label_lanes { n.max(1) } else { 1 })
                    .y_label_formatter(&id_of)
                    .x_label_formatter(&|v| trim_tick(*v))
                    .x_desc("Months since start")
                    .axis_desc_style(text_style(16))
                    .label_style(text_style(if n > 40 { 11 } else { 14 }))
                    .draw()
            )?;
            let lane_px = (lane_pixels * 0.22).round() as i32;
            // Lanes, index 0 at the top.
            let segment = |index: usize| n.saturating_sub(1).saturating_sub(index);
            for response in BestResponse::ALL {
                let colour = response_colour(response);
                let members: Vec<(usize, f64)> = lanes
                    .iter()
                    .enumerate()
                    .filter(|(_, lane)| lane.best_response == response)
                    .map(|(index, lane)| (segment(index), clamp_axis(lane.end_months, 0.0, x_high)))
                    .collect();
                if members.is_empty() {
                    continue;
                }
                draw_err!(chart.draw_series(members.iter().map(|&(seg, end)| {
                    let mut bar = Rectangle::new(
                        [
                            (0.0, SegmentValue::Exact(seg)),
                            (end, SegmentValue::Exact(seg + 1)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(lane_px.max(0) as u32, lane_px.max(0) as u32, 0, 0);
                    bar
                })))?
                .label(response_label(response))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 16, y + 6)], colour.filled())
                });
            }
            let marker = ((lane_pixels * 0.35).round() as i32).clamp(2, 8);
            let onsets: Vec<(f64, usize)> = lanes
                .iter()
                .enumerate()
                .filter_map(|(index, lane)| {
                    Some((
                        clamp_axis(lane.response_onset_months?, 0.0, x_high),
                        segment(index),
                    ))
                })
                .collect();
            draw_err!(chart.draw_series(onsets.iter().map(|&(months, seg)| {
                EmptyElement::at((months, SegmentValue::CenterOf(seg)))
                    + TriangleMarker::new((0, 0), marker, BLACK.filled())
            })))?;
            let progressions: Vec<(f64, usize)> = lanes
                .iter()
                .enumerate()
                .filter_map(|(index, lane)| {
                    Some((
                        clamp_axis(lane.progression_months?, 0.0, x_high),
                        segment(index),
                    ))
                })
                .collect();
            draw_err!(chart.draw_series(progressions.iter().map(|&(months, seg)| {
                EmptyElement::at((months, SegmentValue::CenterOf(seg)))
                    + Cross::new((0, 0), marker, rgb(palette::VERMILLION).stroke_width(3))
            })))?;
            let ongoing: Vec<(f64, usize)> = lanes
                .iter()
                .enumerate()
                .filter(|(_, lane)| lane.ongoing)
                .map(|(index, lane)| (clamp_axis(lane.end_months, 0.0, x_high), segment(index)))
                .collect();
            draw_err!(chart.draw_series(ongoing.iter().map(|&(months, seg)| {
                EmptyElement::at((months, SegmentValue::CenterOf(seg)))
                    + Polygon::new(
                        vec![(2, -marker), (2 + 2 * marker, 0), (2, marker)],
                        DARK.filled(),
                    )
            })))?;
        }
        draw_swimmer_legend(&legend_area, &self.panels)
            .map_err(|error| drawing_error(Self::NAME, error))
    }
}

/// The legend row under the swimmer panels: colours and markers.
fn draw_swimmer_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panels: &[(String, Vec<SwimmerLane>)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let present: Vec<BestResponse> = BestResponse::ALL
        .into_iter()
        .filter(|response| {
            panels
                .iter()
                .any(|(_, lanes)| lanes.iter().any(|lane| lane.best_response == *response))
        })
        .collect();
    let style = text_style(15).pos(Pos::new(HPos::Left, VPos::Center));
    let y = 22;
    let mut x = 100;
    for response in present {
        area.draw(&Rectangle::new(
            [(x, y - 7), (x + 18, y + 7)],
            response_colour(response).filled(),
        ))?;
        area.draw(&Text::new(
            response_label(response),
            (x + 24, y),
            style.clone(),
        ))?;
        x += 40 + 9 * response_label(response).len() as i32;
    }
    x += 30;
    area.draw(&(EmptyElement::at((x + 8, y)) + TriangleMarker::new((0, 0), 7, BLACK.filled())))?;
    area.draw(&Text::new("Response onset", (x + 22, y), style.clone()))?;
    x += 160;
    area.draw(
        &(EmptyElement::at((x + 8, y))
            + Cross::new((0, 0), 6, rgb(palette::VERMILLION).stroke_width(3))),
    )?;
    area.draw(&Text::new(
        "Progression or death",
        (x + 22, y),
        style.clone(),
    ))?;
    x += 205;
    area.draw(&Polygon::new(
        vec![(x, y - 7), (x + 14, y), (x, y + 7)],
        DARK.filled(),
    ))?;
    area.draw(&Text::new("Ongoing (censored)", (x + 22, y), style))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// spider

struct SpiderFigure {
    lines: Vec<SpiderSeries>,
}

impl SpiderFigure {
    fn new(series: &[SpiderSeries]) -> Self {
        SpiderFigure {
            lines: spider_lines(series),
        }
    }
}

impl Figure for SpiderFigure {
    const NAME: &'static str = "spider";

    fn size(&self) -> (u32, u32) {
        (1200, 750)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_err!(root.fill(&WHITE))?;
        let body = draw_err!(root.titled(
            "Change from baseline in the sum of target lesion diameters over time",
            title_style()
        ))?;
        let points = || self.lines.iter().flat_map(|line| line.points.iter());
        let x_high = points()
            .map(|p| p.months)
            .fold(0.0_f64, f64::max)
            .clamp(1.0, PLOT_LIMIT)
            * 1.03;
        let (y_low, y_high) = padded_range(points().map(|p| p.change_pct), &[-100.0, 30.0], 0.04);
        let mut chart = draw_err!(
            ChartBuilder::on(&body)
                .margin(12)
                .margin_right(30)
                .x_label_area_size(50)
                .y_label_area_size(80)
                .build_cartesian_2d(0.0..x_high, y_low..y_high)
        )?;
        draw_err!(
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .bold_line_style(RGBColor(230, 230, 230))
                .x_label_formatter(&|v| trim_tick(*v))
                .x_desc("Months since start")
                .y_desc("Change from baseline (%)")
                .axis_desc_style(text_style(17))
                .label_style(text_style(15))
                .y_label_formatter(&|v| format!("{v:.0}"))
                .draw()
        )?;
        for response in BestResponse::ALL {
            let colour = response_colour(response);
            let members: Vec<&SpiderSeries> = self
                .lines
                .iter()
                .filter(|line| line.best_response == response)
                .collect();
            if members.is_empty() {
                continue;
            }
            let mut labelled = false;
            for line in members {
                let coords: Vec<(f64, f64)> = line
                    .points
                    .iter()
                    .map(|p| {
                        (
                            clamp_axis(p.months, 0.0, x_high),
                            clamp_axis(p.change_pct, y_low, y_high),
                        )
                    })
                    .collect();
                let series = draw_err!(chart.draw_series(LineSeries::new(
                    coords.iter().copied(),
                    colour.stroke_width(2)
                )))?;
                if !labelled {
                    series
                        .label(response_label(response))
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                        });
                    labelled = true;
                }
                draw_err!(chart.draw_series(coords.iter().map(|&c| Circle::new(
                    c,
                    3,
                    colour.filled()
                ))))?;
            }
        }
        for (threshold, label) in [
            (PROGRESSION_THRESHOLD_PCT, "+20% (PD)"),
            (RESPONSE_THRESHOLD_PCT, "\u{2212}30% (PR)"),
        ] {
            draw_err!(chart.draw_series(DashedLineSeries::new(
                [(0.0, threshold), (x_high, threshold)],
                8,
                5,
                DARK.stroke_width(1)
            )))?;
            draw_err!(chart.draw_series(std::iter::once(Text::new(
                label,
                (x_high * 0.005, threshold),
                text_style(14).pos(Pos::new(HPos::Left, VPos::Bottom))
            ))))?;
        }
        draw_err!(chart.draw_series(LineSeries::new(
            [(0.0, 0.0), (x_high, 0.0)],
            BLACK.stroke_width(1)
        )))?;
        draw_err!(
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(180, 180, 180))
                .label_font(text_style(15))
                .draw()
        )?;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Kaplan–Meier

struct KmArm {
    name: String,
    steps: KmSteps,
    at_risk: Vec<usize>,
    median_text: String,
}

struct KmFigure {
    arms: Vec<KmArm>,
    ticks: Vec<f64>,
    comparison_text: Option<String>,
}

impl KmFigure {
    fn new(report: &CohortReport) -> Self {
        let max_time = report
            .arms
            .iter()
            .filter_map(|arm| arm.pfs.km.last_time_months())
            .filter(|months| months.is_finite())
            .fold(0.0_f64, f64::max)
            .min(PLOT_LIMIT);
        let ticks = time_ticks_months(max_time);
        let arms = report
            .arms
            .iter()
            .map(|arm| {
                let km: &KaplanMeier = &arm.pfs.km;
                let median = arm.pfs.median;
                let median_text = match median.estimate {
                    None => "median not reached".to_string(),
                    Some(m) => format!(
                        "median {m:.1} months (95% CI {} to {})",
                        median
                            .ci_lower
                            .map_or("NR".to_string(), |v| format!("{v:.1}")),
                        median
                            .ci_upper
                            .map_or("NR".to_string(), |v| format!("{v:.1}"))
                    ),
                };
                KmArm {
                    name: arm.arm.clone(),
                    steps: km_steps(km),
                    at_risk: numbers_at_risk(km, &ticks),
                    median_text,
                }
            })
            .collect();
        let comparison_text = report.comparison.as_ref().map(|comparison| {
            let p = |p: Option<f64>| match p {
                None => "n/a".to_string(),
                Some(p) if p < 0.001 => "< 0.001".to_string(),
                Some(p) => format!("= {p:.3}"),
            };
            let hr = match &comparison.cox {
                Some(cox) => format!(
                    "HR {} vs {}: {:.2} (95% CI {:.2} to {:.2})",
                    comparison.experimental_arm,
                    comparison.reference_arm,
                    cox.hr,
                    cox.ci_lower,
                    cox.ci_upper
                ),
                None => "HR not estimable".to_string(),
            };
            format!("{hr}; log-rank p {}", p(comparison.logrank.p))
        });
        KmFigure {
            arms,
            ticks,
            comparison_text,
        }
    }
}

impl Figure for KmFigure {
    const NAME: &'static str = "km";

    fn size(&self) -> (u32, u32) {
        (1200, 760 + 30 * self.arms.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        draw_err!(root.fill(&WHITE))?;
        let body = draw_err!(root.titled(
            "Progression-free survival (Kaplan\u{2013}Meier, 95% CI)",
            title_style()
        ))?;
        let table_height = 60 + 30 * self.arms.len() as u32;
        let (plot_area, table_area) =
            body.split_vertically(body.dim_in_pixel().1.saturating_sub(table_height));
        let x_high = self
            .ticks
            .last()
            .copied()
            .filter(|t| *t > 0.0)
            .unwrap_or(1.0);
        let mut builder = ChartBuilder::on(&plot_area);
        if let Some(text) = &self.comparison_text {
            builder.caption(text, text_style(17));
        }
        let mut chart = draw_err!(
            builder
                .margin(12)
                .margin_right(40)
                .x_label_area_size(50)
                .y_label_area_size(120)
                .build_cartesian_2d(0.0..x_high, 0.0..1.02)
        )?;
        // The x ticks are drawn by hand: plotters only picks 1-2-5 steps, and the
        // numbers at risk must sit under month ticks (3, 6, 12, ...).
        draw_err!(
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .bold_line_style(RGBColor(230, 230, 230))
                .disable_x_mesh()
                .x_labels(0)
                .y_labels(6)
                .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
                .x_desc("Months since start")
                .y_desc("Progression-free survival")
                .axis_desc_style(text_style(17))
                .label_style(text_style(15))
                .draw()
        )?;
        let grid = RGBColor(230, 230, 230);
        draw_err!(
            chart.draw_series(
                self.ticks
                    .iter()
                    .map(|&t| PathElement::new(vec![(t, 0.0), (t, 1.02)], grid.stroke_width(1)))
            )
        )?;
        let (_, axis_y) = chart.backend_coord(&(0.0, 0.0));
        for &tick in &self.ticks {
            let (x, _) = chart.backend_coord(&(tick, 0.0));
            draw_err!(root.draw(&PathElement::new(
                vec![(x, axis_y), (x, axis_y + 6)],
                DARK.stroke_width(1)
            )))?;
            draw_err!(root.draw(&Text::new(
                trim_tick(tick),
                (x, axis_y + 10),
                text_style(15).pos(Pos::new(HPos::Center, VPos::Top))
            )))?;
        }
        for (index, arm) in self.arms.iter().enumerate() {
            let colour = arm_colour(index);
            // CI band: the upper staircase, then the lower one backwards.
            if arm.steps.ci_upper.len() > 1 && arm.steps.ci_lower.len() > 1 {
                let band: Vec<(f64, f64)> = arm
                    .steps
                    .ci_upper
                    .iter()
                    .chain(arm.steps.ci_lower.iter().rev())
                    .map(|p| (clamp_axis(p[0], 0.0, x_high), p[1]))
                    .collect();
                draw_err!(chart.draw_series(std::iter::once(Polygon::new(
                    band,
                    colour.mix(0.15).filled()
                ))))?;
            }
            let curve: Vec<(f64, f64)> = arm
                .steps
                .surv
                .iter()
                .map(|p| (clamp_axis(p[0], 0.0, x_high), p[1]))
                .collect();
            draw_err!(chart.draw_series(LineSeries::new(curve, colour.stroke_width(3))))?
                .label(format!("{}: {}", arm.name, arm.median_text))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3))
                });
            draw_err!(chart.draw_series(arm.steps.censor_marks.iter().map(|p| {
                EmptyElement::at((clamp_axis(p[0], 0.0, x_high), p[1]))
                    + PathElement::new(vec![(0, -6), (0, 6)], colour.stroke_width(2))
                    + PathElement::new(vec![(-4, 0), (4, 0)], colour.stroke_width(2))
            })))?;
        }
        draw_err!(chart.draw_series(DashedLineSeries::new(
            [(0.0, 0.5), (x_high, 0.5)],
            6,
            6,
            GREY.stroke_width(1)
        )))?;
        draw_err!(
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerLeft)
                .background_style(WHITE.mix(0.9))
                .border_style(RGBColor(180, 180, 180))
                .label_font(text_style(16))
                .draw()
        )?;

        // Numbers at risk, aligned with the x ticks of the chart.
        let heading = text_style(16).pos(Pos::new(HPos::Left, VPos::Center));
        let (table_x, table_y) = table_area.get_base_pixel();
        let (root_x, root_y) = root.get_base_pixel();
        let offset_y = table_y - root_y;
        let offset_x = table_x - root_x;
        draw_err!(root.draw(&Text::new(
            "Number at risk",
            (offset_x + 20, offset_y + 20),
            heading
        )))?;
        for (index, arm) in self.arms.iter().enumerate() {
            let row_y = offset_y + 52 + 30 * index as i32;
            let colour = arm_colour(index);
            let name_style = (FONT, 15)
                .into_font()
                .color(&colour)
                .pos(Pos::new(HPos::Right, VPos::Center));
            let mut label = arm.name.clone();
            if label.chars().count() > 18 {
                label = label.chars().take(17).collect::<String>() + "\u{2026}";
            }
            let first_tick_x = chart.backend_coord(&(0.0, 0.0)).0;
            draw_err!(root.draw(&Text::new(label, (first_tick_x - 30, row_y), name_style)))?;
            for (tick, count) in self.ticks.iter().zip(arm.at_risk.iter()) {
                let (x, _) = chart.backend_coord(&(*tick, 0.0));
                let style = text_style(15).pos(Pos::new(HPos::Center, VPos::Center));
                draw_err!(root.draw(&Text::new(count.to_string(), (x, row_y), style)))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::series::SpiderPoint;
    use crate::cohort::{CohortOptions, cohort_report};

    fn outcomes() -> Vec<PatientOutcome> {
        (0..12)
            .map(|i| PatientOutcome {
                patient_id: format!("P{i:02}"),
                arm: if i % 2 == 0 { "A".into() } else { "B".into() },
                best_response: BestResponse::ALL[i % 6],
                best_change_pct: (i % 5 != 0).then_some(-80.0 + 12.0 * i as f64),
                pfs_months: 1.0 + i as f64,
                progressed: i % 3 != 0,
                ttr_months: Some(0.5),
            })
            .collect()
    }

    #[test]
    fn renders_all_plots_as_png_and_svg() {
        let outcomes = outcomes();
        let report = cohort_report(&outcomes, &CohortOptions::default()).unwrap();
        let spider = vec![SpiderSeries {
            patient_id: "P01".into(),
            arm: "B".into(),
            best_response: BestResponse::Pr,
            points: vec![
                SpiderPoint {
                    months: 0.0,
                    change_pct: 0.0,
                },
                SpiderPoint {
                    months: 2.0,
                    change_pct: -35.0,
                },
            ],
        }];
        let plots = render_cohort_plots(&PlotInput {
            outcomes: &outcomes,
            report: &report,
            spider: Some(&spider),
        })
        .unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.name).collect();
        assert_eq!(names, vec!["waterfall", "swimmer", "spider", "km"]);
        for plot in &plots {
            assert!(plot.png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", plot.name);
            assert!(plot.svg.starts_with("<svg"), "{}", plot.name);
        }
    }

    #[test]
    fn extreme_and_invalid_values_do_not_panic() {
        let mut outcomes = outcomes();
        outcomes[0].pfs_months = 1e300;
        outcomes[1].best_change_pct = Some(1e12);
        outcomes[2].best_change_pct = Some(-1e300);
        outcomes[3].ttr_months = Some(1e200);
        let report = cohort_report(&outcomes, &CohortOptions::default()).unwrap();
        render_cohort_plots(&PlotInput {
            outcomes: &outcomes,
            report: &report,
            spider: None,
        })
        .unwrap();
        // The renderers are public: unvalidated NaN / infinite values must not panic either.
        outcomes[4].best_change_pct = Some(f64::NAN);
        outcomes[5].pfs_months = f64::INFINITY;
        outcomes[6].pfs_months = f64::NAN;
        assert!(render_waterfall(&outcomes).is_ok());
        assert!(render_swimmer(&outcomes).is_ok());
        let spider = vec![SpiderSeries {
            patient_id: "P".into(),
            arm: "A".into(),
            best_response: BestResponse::Sd,
            points: vec![SpiderPoint {
                months: f64::INFINITY,
                change_pct: 1.0,
            }],
        }];
        assert!(render_spider(&spider).is_ok());
        assert!(render_spider(&[]).is_ok());
        assert!(render_waterfall(&[]).is_ok());
        assert!(render_swimmer(&[]).is_ok());
    }

    #[test]
    fn no_spider_without_series_and_single_patient_is_fine() {
        let outcomes = vec![PatientOutcome {
            patient_id: "X".into(),
            arm: "A".into(),
            best_response: BestResponse::Ne,
            best_change_pct: None,
            pfs_months: 0.0,
            progressed: false,
            ttr_months: None,
        }];
        let report = cohort_report(&outcomes, &CohortOptions::default()).unwrap();
        let plots = render_cohort_plots(&PlotInput {
            outcomes: &outcomes,
            report: &report,
            spider: None,
        })
        .unwrap();
        let names: Vec<&str> = plots.iter().map(|p| p.name).collect();
        assert_eq!(names, vec!["waterfall", "swimmer", "km"]);
    }
}
