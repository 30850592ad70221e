//! One image pane: the slice (or reformat) at its true aspect, measurements
//! with their labels and handles, the reading overlay, a slice scrollbar,
//! and the gestures (scroll, window/level, zoom, pan, measuring) turned into
//! [`Command`]s.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Vec2};

use crate::geom::Vec3;
use crate::measure::{Shape, label};
use crate::recist::Category;
use crate::session::{Command, Layout, PointerEvent, SeriesEntry, Workspace, slice_position_mm};
use crate::tools::hit_test;
use crate::volume::Window;
use crate::volume::plane::{Plane, PlaneFrame, plane_count, window_plane};

/// The texture of one pane; re-uploaded only when the series, plane, index
/// or window changes.
#[derive(Default)]
pub struct SliceTexture {
    key: Option<(String, Plane, usize, u64, u64)>,
    handle: Option<egui::TextureHandle>,
    grey: Vec<u8>,
    /// How many times a texture was uploaded (for tests and benchmarks).
    pub uploads: u64,
    /// Where the image was last drawn (for tests and screen-space lookups).
    pub last_map: Option<ScreenMap>,
    /// Trackpad scrolling not yet a whole image (in images).
    pub wheel_accumulated: f32,
    /// The pane's image area on screen when last drawn (for layout tests).
    pub last_pane_rect: Option<Rect>,
    /// Whether the magnifier was drawn in the last frame.
    pub loupe_shown: bool,
}

impl SliceTexture {
    fn texture(
        &mut self,
        ctx: &egui::Context,
        entry: &SeriesEntry,
        frame: &PlaneFrame,
    ) -> Option<egui::TextureId> {
        let window = entry.view.window;
        let key = (
            entry.uid().to_string(),
            frame.plane,
            frame.index,
            window.center.to_bits(),
            window.width.to_bits(),
        );
        if self.key.as_ref() != Some(&key) || self.handle.is_none() {
            self.grey.resize(frame.width * frame.height, 0);
            if !window_plane(entry.volume(), frame, window, &mut self.grey) {
                return None;
            }
            let image = egui::ColorImage::from_gray([frame.width, frame.height], &self.grey);
            match &mut self.handle {
                Some(h) => h.set(image, egui::TextureOptions::LINEAR),
                None => {
                    self.handle =
                        Some(ctx.load_texture("slice", image, egui::TextureOptions::LINEAR))
                }
            }
            self.uploads += 1;
            self.key = Some(key);
        }
        self.handle.as_ref().map(|h| h.id())
    }
}

/// Where a plane sits on screen: maps plane pixels, screen points and
/// patient-space points into each other.
#[derive(Debug, Clone, Copy)]
pub struct ScreenMap {
    /// The image rectangle on screen.
    pub image_rect: Rect,
    /// Screen points per mm (per px without spacing).
    pub points_per_unit: f32,
    /// The plane.
    pub frame: PlaneFrame,
}

impl ScreenMap {
    /// The map for a pane of `area` showing `frame` at `zoom` and `pan`.
    pub fn new(area: Rect, frame: PlaneFrame, zoom: f32, pan: [f32; 2]) -> ScreenMap {
        let size = Vec2::new(
            (frame.width as f64 * frame.pixel_size[0]) as f32,
            (frame.height as f64 * frame.pixel_size[1]) as f32,
        );
        let fit = (area.width() / size.x.max(1e-3)).min(area.height() / size.y.max(1e-3));
        let scale = fit * zoom;
        let center = area.center() + Vec2::new(pan[0], pan[1]);
        ScreenMap {
            image_rect: Rect::from_center_size(center, size * scale),
            points_per_unit: scale,
            frame,
        }
    }

    /// Plane pixel `(u, v)` under a screen point.
    pub fn plane_from_screen(&self, p: Pos2) -> (f64, f64) {
        let du = self.frame.pixel_size[0] as f32 * self.points_per_unit;
        let dv = self.frame.pixel_size[1] as f32 * self.points_per_unit;
        (
            f64::from((p.x - self.image_rect.min.x) / du - 0.5),
            f64::from((p.y - self.image_rect.min.y) / dv - 0.5),
        )
    }

    /// Screen point of plane pixel `(u, v)`.
    pub fn screen_from_plane(&self, u: f64, v: f64) -> Pos2 {
        let du = self.frame.pixel_size[0] as f32 * self.points_per_unit;
        let dv = self.frame.pixel_size[1] as f32 * self.points_per_unit;
        Pos2::new(
            self.image_rect.min.x + (u as f32 + 0.5) * du,
            self.image_rect.min.y + (v as f32 + 0.5) * dv,
        )
    }
}

/// Colour of a measurement by the category of its lesion.
fn lesion_colour(category: Option<Category>, selected: bool) -> Color32 {
    let base = match category {
        None => Color32::from_rgb(240, 210, 110),
        Some(Category::Target) => Color32::from_rgb(110, 200, 240),
        Some(Category::NonTarget) => Color32::from_rgb(190, 160, 240),
        Some(Category::New) => Color32::from_rgb(245, 130, 120),
    };
    if selected {
        Color32::WHITE.lerp_to_gamma(base, 0.35)
    } else {
        base
    }
}

/// Anatomical letter (L/R, P/A, S/I) a direction points to.
fn direction_letter(d: Vec3) -> &'static str {
    let [x, y, z] = d.0;
    let (ax, ay, az) = (x.abs(), y.abs(), z.abs());
    if ax >= ay && ax >= az {
        if x > 0.0 { "L" } else { "R" }
    } else if ay >= az {
        if y > 0.0 { "P" } else { "A" }
    } else if z > 0.0 {
        "S"
    } else {
        "I"
    }
}

/// The pane: image, overlay, measurements and input.
pub fn pane_ui(
    ui: &mut egui::Ui,
    available: Rect,
    workspace: &Workspace,
    pane: usize,
    texture: &mut SliceTexture,
    commands: &mut Vec<Command>,
) {
    let (Some(entry), Some(p)) = (workspace.pane_series(pane), workspace.panes.get(pane)) else {
        ui.allocate_rect(available, Sense::hover());
        return;
    };
    let Some(frame) = entry.frame(p.plane) else {
        ui.allocate_rect(available, Sense::hover());
        return;
    };
    let bar_width = 14.0;
    let image_area = Rect::from_min_max(
        available.min,
        Pos2::new(available.max.x - bar_width, available.max.y),
    );
    let response = ui.allocate_rect(image_area, Sense::click_and_drag());
    let map = ScreenMap::new(image_area, frame, p.zoom, p.pan);
    texture.last_map = Some(map);
    texture.last_pane_rect = Some(image_area);
    let painter = ui.painter_at(image_area);
    painter.rect_filled(image_area, 0.0, Color32::BLACK);
    if let Some(id) = texture.texture(ui.ctx(), entry, &frame) {
        painter.image(
            id,
            map.image_rect,
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
    }
    if workspace.layout == Layout::Reformats {
        reference_lines_ui(&painter, entry, &map);
    }
    super::segmentation::mask_overlay_ui(&painter, workspace, pane, &map);
    measurements_ui(&painter, workspace, pane, entry, &map);
    overlay_ui(ui, image_area, workspace, pane, entry, &map);
    if workspace.active_pane == pane && workspace.layout != Layout::Single {
        painter.rect_stroke(
            image_area.shrink(1.0),
            0.0,
            Stroke::new(2.0, Color32::from_rgb(70, 110, 150)),
            egui::StrokeKind::Inside,
        );
    }
    let loupe_key = ui.input(|i| i.key_down(egui::Key::Z) && i.modifiers.is_none())
        && !ui.ctx().egui_wants_keyboard_input();
    let dragging_handle = workspace.gesture_pane == Some(pane)
        && matches!(
            workspace.tools.gesture,
            crate::tools::Gesture::Editing {
                handle: Some(_),
                ..
            }
        );
    texture.loupe_shown = false;
    if (loupe_key || dragging_handle)
        && let Some(pointer) = response
            .hover_pos()
            .or(ui.input(|i| i.pointer.latest_pos()))
        && image_area.contains(pointer)
    {
        loupe_ui(
            ui, image_area, pointer, workspace, pane, entry, &frame, &map, texture,
        );
    }
    input_ui(
        ui,
        &response,
        workspace,
        pane,
        entry,
        &map,
        &mut texture.wheel_accumulated,
        commands,
    );
    let count = plane_count(entry.volume(), p.plane);
    let bar = Rect::from_min_max(
        Pos2::new(available.max.x - bar_width, available.min.y),
        available.max,
    );
    scrollbar_ui(ui, bar, pane, frame.index, count, commands);
}

fn point_at(entry: &SeriesEntry, map: &ScreenMap, screen: Pos2) -> Option<Vec3> {
    let (u, v) = map.plane_from_screen(screen);
    entry.geometry.point_from_plane(&map.frame, u, v)
}

fn screen_at(entry: &SeriesEntry, map: &ScreenMap, point: Vec3) -> Option<Pos2> {
    let (u, v, _) = entry.geometry.plane_from_point(&map.frame, point)?;
    Some(map.screen_from_plane(u, v))
}

/// Zoom factor per screen point dragged with the Zoom tool (×2 per 70 pt).
const ZOOM_PER_DRAG_POINT: f32 = 1.01;

/// Magnification of the loupe over the pane's own scale.
const LOUPE_ZOOM: f32 = 3.0;
/// Side of the loupe (screen points).
const LOUPE_SIZE: f32 = 180.0;

/// The magnifier: the image and measurements around the pointer at
/// [`LOUPE_ZOOM`] times the pane's scale, in a square beside the pointer
/// (never under it), with a crosshair at the pointer's pixel. Shown while
/// a handle is dragged and while Z is held.
#[allow(clippy::too_many_arguments)]
fn loupe_ui(
    ui: &egui::Ui,
    area: Rect,
    pointer: Pos2,
    workspace: &Workspace,
    pane: usize,
    entry: &SeriesEntry,
    frame: &PlaneFrame,
    map: &ScreenMap,
    texture: &mut SliceTexture,
) {
    let size = Vec2::splat(LOUPE_SIZE);
    // up and to the right of the pointer, flipped where the pane ends
    let mut min = pointer + Vec2::new(40.0, -40.0 - LOUPE_SIZE);
    if min.x + size.x > area.max.x {
        min.x = pointer.x - 40.0 - size.x;
    }
    if min.y < area.min.y {
        min.y = pointer.y + 40.0;
    }
    let rect = Rect::from_min_size(min, size).intersect(area);
    let centre = rect.center();
    let magnified = |p: Pos2| centre + (p - pointer) * LOUPE_ZOOM;
    let loupe_map = ScreenMap {
        image_rect: Rect::from_min_max(
            magnified(map.image_rect.min),
            magnified(map.image_rect.max),
        ),
        points_per_unit: map.points_per_unit * LOUPE_ZOOM,
        frame: *frame,
    };
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::BLACK);
    if let Some(id) = texture.texture(ui.ctx(), entry, frame) {
        painter.image(
            id,
            loupe_map.image_rect,
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
    }
    measurements_ui(&painter, workspace, pane, entry, &loupe_map);
    let cross = Stroke::new(1.0, Color32::from_rgba_unmultiplied(255, 220, 120, 160));
    painter.line_segment(
        [centre - Vec2::new(8.0, 0.0), centre + Vec2::new(8.0, 0.0)],
        cross,
    );
    painter.line_segment(
        [centre - Vec2::new(0.0, 8.0), centre + Vec2::new(0.0, 8.0)],
        cross,
    );
    painter.rect_stroke(
        rect,
        0.0,
        Stroke::new(1.5, Color32::from_gray(200)),
        egui::StrokeKind::Inside,
    );
    texture.loupe_shown = true;
}

/// Screen points of trackpad (pixel-unit) scrolling per slice.
const POINTS_PER_SLICE: f32 = 40.0;
/// Zoom per wheel notch with Ctrl (and per `+`/`-` key).
const ZOOM_PER_NOTCH: f32 = 1.2;
/// Screen points of trackpad Ctrl-scrolling per zoom step of [`ZOOM_PER_NOTCH`].
const POINTS_PER_ZOOM_STEP: f32 = 50.0;

/// Turns the raw wheel and pinch events of this frame into image steps and
/// zooms of `pane`: a line-unit notch is exactly one image whatever the
/// frame rate, pixel-unit (trackpad) scrolling accumulates to whole images
/// in `accumulated`, Ctrl/Cmd + wheel and pinch zoom about the pointer.
/// Reads the platform's events, not egui's smoothed scroll.
#[allow(clippy::too_many_arguments)]
fn wheel_ui(
    events: &[egui::Event],
    pointer: Option<Pos2>,
    area: Rect,
    pane: usize,
    wheel_reversed: bool,
    accumulated: &mut f32,
    commands: &mut Vec<Command>,
) {
    let anchor = pointer
        .map(|p| p - area.center())
        .map_or([0.0, 0.0], |d| [d.x, d.y]);
    let mut images = 0.0f32;
    let mut zoom_steps = 0.0f32;
    let mut pinch = 1.0f32;
    for event in events {
        match event {
            egui::Event::MouseWheel {
                unit,
                delta,
                modifiers,
                ..
            } => {
                // egui: positive y moves content down, i.e. wheel *up*
                let (lines, points_per) = match unit {
                    egui::MouseWheelUnit::Line => (delta.y, None),
                    egui::MouseWheelUnit::Page => (delta.y * 10.0, None),
                    egui::MouseWheelUnit::Point => (0.0, Some(delta.y)),
                };
                if modifiers.command || modifiers.ctrl {
                    zoom_steps += lines + points_per.map_or(0.0, |p| p / POINTS_PER_ZOOM_STEP);
                } else {
                    let down = -(lines + points_per.map_or(0.0, |p| p / POINTS_PER_SLICE));
                    images += if wheel_reversed { -down } else { down };
                }
            }
            egui::Event::Zoom(factor) => pinch *= factor,
            _ => {}
        }
    }
    if images != 0.0 {
        *accumulated += images;
        let whole = accumulated.trunc();
        if whole != 0.0 {
            *accumulated -= whole;
            commands.push(Command::StepImage {
                pane,
                images: whole as i64,
            });
        }
    }
    let factor = ZOOM_PER_NOTCH.powf(zoom_steps) * pinch;
    if (factor - 1.0).abs() > 1e-6 {
        commands.push(Command::ZoomAt {
            pane,
            factor,
            anchor,
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn input_ui(
    ui: &egui::Ui,
    response: &egui::Response,
    workspace: &Workspace,
    pane: usize,
    entry: &SeriesEntry,
    map: &ScreenMap,
    wheel_accumulated: &mut f32,
    commands: &mut Vec<Command>,
) {
    if response.contains_pointer() {
        ui.input(|i| {
            wheel_ui(
                &i.events,
                i.pointer.latest_pos(),
                response.rect,
                pane,
                workspace.wheel_reversed,
                wheel_accumulated,
                commands,
            )
        });
    }
    let (shift, press_origin, latest, pressed, released, down) = ui.input(|i| {
        (
            i.modifiers.shift,
            i.pointer.press_origin(),
            i.pointer.latest_pos(),
            i.pointer.primary_pressed(),
            i.pointer.primary_released(),
            i.pointer.primary_down(),
        )
    });
    if response.clicked() || response.drag_started() || response.secondary_clicked() {
        commands.push(Command::ActivatePane(pane));
    }
    let tolerance = f64::from(8.0 / map.points_per_unit);
    let shapes = workspace.pane_measurements(pane);
    let hit_at = |screen: Pos2| {
        let point = point_at(entry, map, screen)?;
        hit_test(shapes.iter().map(|(id, s)| (*id, s)), point, tolerance)
    };
    // hover feedback: a pointing hand over handles and outlines
    if let Some(hover) = response.hover_pos()
        && !workspace.tools.is_busy()
        && let Some(hit) = hit_at(hover)
    {
        ui.ctx().set_cursor_icon(if hit.handle.is_some() {
            egui::CursorIcon::Crosshair
        } else {
            egui::CursorIcon::Move
        });
    }
    if response.clicked() && workspace.tools.active.segments() {
        // a click of Segment seeds; of Brush / Eraser, paints one dab
        if let (Some(at), Some(plane)) = (
            response
                .interact_pointer_pos()
                .and_then(|p| point_at(entry, map, p)),
            workspace.plane_context(pane, f64::from(4.0 / map.points_per_unit)),
        ) {
            commands.push(Command::Pointer {
                pane,
                event: PointerEvent::Press {
                    at,
                    plane,
                    hit: None,
                },
            });
            commands.push(Command::Pointer {
                pane,
                event: PointerEvent::Release(at),
            });
        }
    } else if response.clicked() {
        let at = response.interact_pointer_pos();
        let hit = at.and_then(hit_at);
        commands.push(Command::SelectMeasurement(hit.map(|h| h.id)));
        // in the reformats, a click beside any measurement sets the crosshair
        if hit.is_none()
            && workspace.layout == Layout::Reformats
            && workspace.tools.active == crate::tools::Tool::Navigate
            && let Some((s, r, c)) = at.and_then(|p| {
                let (u, v) = map.plane_from_screen(p);
                map.frame.nearest_voxel(u, v)
            })
        {
            commands.push(Command::Crosshair {
                pane,
                voxel: [c, r, s],
            });
        }
    }
    let primary = egui::PointerButton::Primary;
    // A press on a handle takes it at once: no drag threshold, so a 2 px
    // correction of a caliper end moves it 2 px.
    let mut took_handle = false;
    if pressed
        && !shift
        && workspace.gesture_pane.is_none()
        && !workspace.tools.active.segments()
        && let Some(origin) = press_origin.filter(|p| response.rect.contains(*p))
        && let Some(hit) = hit_at(origin).filter(|h| h.handle.is_some())
        && let (Some(at), Some(plane)) = (
            point_at(entry, map, origin),
            workspace.plane_context(pane, f64::from(4.0 / map.points_per_unit)),
        )
    {
        commands.push(Command::ActivatePane(pane));
        commands.push(Command::Pointer {
            pane,
            event: PointerEvent::Press {
                at,
                plane,
                hit: Some(hit),
            },
        });
        took_handle = true;
    }
    if workspace.gesture_pane == Some(pane) && !response.dragged_by(primary) {
        // below egui's drag threshold: follow the pointer, release on release
        if down && !pressed {
            if let Some(now) = latest.and_then(|l| point_at(entry, map, l)) {
                commands.push(Command::Pointer {
                    pane,
                    event: PointerEvent::Drag(now),
                });
            }
        } else if released && !response.drag_stopped_by(primary) {
            match latest.and_then(|l| point_at(entry, map, l)) {
                Some(now) => commands.push(Command::Pointer {
                    pane,
                    event: PointerEvent::Release(now),
                }),
                None => commands.push(Command::Cancel),
            }
        }
    }
    let panning =
        response.dragged_by(egui::PointerButton::Middle) || (response.dragged_by(primary) && shift);
    if panning {
        let d = response.drag_delta();
        commands.push(Command::Pan {
            pane,
            delta: [d.x, d.y],
        });
    }
    let mut window_drag = response.dragged_by(egui::PointerButton::Secondary);
    if response.drag_started_by(primary)
        && !shift
        && !took_handle
        && workspace.gesture_pane.is_none()
    {
        let origin = press_origin.unwrap_or_default();
        let hit = hit_at(origin);
        let tool_takes = hit.is_some() || workspace.tools.active.draws();
        if tool_takes
            && let (Some(at), Some(plane)) = (
                point_at(entry, map, origin),
                workspace.plane_context(pane, f64::from(4.0 / map.points_per_unit)),
            )
        {
            commands.push(Command::Pointer {
                pane,
                event: PointerEvent::Press { at, plane, hit },
            });
            if let Some(now) = latest.and_then(|l| point_at(entry, map, l)) {
                commands.push(Command::Pointer {
                    pane,
                    event: PointerEvent::Drag(now),
                });
            }
        }
    } else if response.dragged_by(primary) && !shift {
        if workspace.gesture_pane == Some(pane) {
            if let Some(now) = latest.and_then(|l| point_at(entry, map, l)) {
                commands.push(Command::Pointer {
                    pane,
                    event: PointerEvent::Drag(now),
                });
            }
        } else if workspace.tools.active == crate::tools::Tool::Zoom {
            // about the press point: drag up magnifies
            let anchor = press_origin.unwrap_or(response.rect.center()) - response.rect.center();
            commands.push(Command::ZoomAt {
                pane,
                factor: ZOOM_PER_DRAG_POINT.powf(-response.drag_delta().y),
                anchor: [anchor.x, anchor.y],
            });
        } else if !workspace.tools.active.draws() {
            window_drag = true;
        }
    }
    if response.drag_stopped_by(primary) && workspace.gesture_pane == Some(pane) {
        if let Some(now) = latest.and_then(|l| point_at(entry, map, l)) {
            commands.push(Command::Pointer {
                pane,
                event: PointerEvent::Release(now),
            });
        } else {
            commands.push(Command::Cancel);
        }
    }
    if window_drag {
        // horizontal = width, vertical = level (the usual reading-room convention)
        let d = response.drag_delta();
        let w = entry.view.window;
        let step = (w.width / 400.0).max(0.5);
        commands.push(Command::SetWindow {
            pane,
            window: Window {
                center: w.center - f64::from(d.y) * step,
                width: (w.width + f64::from(d.x) * step * 2.0).max(1.0),
            },
        });
    }
}

fn measurements_ui(
    painter: &egui::Painter,
    workspace: &Workspace,
    pane: usize,
    entry: &SeriesEntry,
    map: &ScreenMap,
) {
    let Some(patient) = workspace.current_patient() else {
        return;
    };
    let context = entry.context();
    let mut shapes = workspace.pane_measurements(pane);
    let mut preview_plane = None;
    if let Some((None, shape, Some(plane))) = workspace.tools.preview()
        && workspace.gesture_pane == Some(pane)
    {
        preview_plane = Some(plane.clone());
        shapes.push((crate::tracking::MeasurementId(0), shape));
    }
    let font = egui::FontId::proportional(14.0);
    for (id, shape) in &shapes {
        let is_preview = id.0 == 0;
        let selected = workspace.tools.selected == Some(*id) || is_preview;
        let lesion = patient.lesion_of_measurement(*id);
        let colour = lesion_colour(lesion.map(|l| l.category), selected);
        let stroke = Stroke::new(if selected { 2.0 } else { 1.5 }, colour);
        let to_screen = |p: Vec3| screen_at(entry, map, p);
        match shape {
            Shape::Length(l) => {
                if let (Some(a), Some(b)) = (to_screen(l.start), to_screen(l.end)) {
                    painter.line_segment([a, b], stroke);
                }
            }
            Shape::Bidirectional(b) => {
                let [l0, l1] = b.long_axis();
                let [s0, s1] = b.short_axis();
                if let (Some(a), Some(c)) = (to_screen(l0), to_screen(l1)) {
                    painter.line_segment([a, c], stroke);
                }
                if let (Some(a), Some(c)) = (to_screen(s0), to_screen(s1)) {
                    painter.line_segment(
                        [a, c],
                        Stroke::new(stroke.width, colour.gamma_multiply(0.85)),
                    );
                }
            }
            Shape::Ellipse(_) | Shape::Freehand(_) => {
                let mut points: Vec<Pos2> =
                    shape.points().into_iter().filter_map(to_screen).collect();
                let closed = !(is_preview && matches!(shape, Shape::Freehand(_)));
                if closed && let Some(first) = points.first().copied() {
                    points.push(first);
                }
                painter.add(egui::Shape::line(points, stroke));
            }
        }
        if selected && !is_preview {
            for h in shape.handles() {
                if let Some(p) = to_screen(h) {
                    // small and hollow: the edge under it stays visible
                    painter.circle_stroke(p, 3.5, Stroke::new(1.5, Color32::BLACK));
                    painter.circle_stroke(p, 3.0, Stroke::new(1.2, colour));
                }
            }
        }
        // the label: lesion name and value, beside the measurement
        let measurement = match (is_preview, patient.measurement(*id)) {
            (false, Some(m)) => {
                let mut m = m.measurement.clone();
                m.shape = shape.clone();
                Some(m)
            }
            _ => preview_plane
                .as_ref()
                .map(|plane| crate::measure::Measurement {
                    shape: shape.clone(),
                    image: plane.image.clone(),
                    spacing_known: plane.spacing_known,
                }),
        };
        let Some(measurement) = measurement else {
            continue;
        };
        let value = label(&measurement, &context);
        let text = match lesion {
            Some(l) => format!("{} · {value}", l.id),
            None => value,
        };
        let anchor = shape
            .points()
            .into_iter()
            .filter_map(to_screen)
            .max_by(|a, b| a.x.total_cmp(&b.x))
            .unwrap_or(map.image_rect.center());
        let pos = anchor + Vec2::new(10.0, -8.0);
        painter.text(
            pos + Vec2::splat(1.0),
            egui::Align2::LEFT_BOTTOM,
            &text,
            font.clone(),
            Color32::BLACK,
        );
        painter.text(pos, egui::Align2::LEFT_BOTTOM, text, font.clone(), colour);
    }
}

/// Where the other two planes of the reformat layout cut this one: a line
/// per plane family other than the pane's, through the family's current
/// index (the crosshair).
fn reference_lines_ui(painter: &egui::Painter, entry: &SeriesEntry, map: &ScreenMap) {
    let stroke = Stroke::new(1.0, Color32::from_rgba_unmultiplied(90, 160, 220, 110));
    let frame = &map.frame;
    let volume = entry.volume();
    let extent = [volume.columns(), volume.rows(), volume.slices()].map(|n| n as f64 - 0.5);
    let fixed = frame.fixed_axis();
    // voxel axis [column, row, slice] held by each plane family
    for (plane, axis) in [
        (Plane::FixedColumn, 0),
        (Plane::FixedRow, 1),
        (Plane::Native, 2),
    ] {
        if axis == fixed {
            continue;
        }
        let along = 3 - axis - fixed;
        let mut from = [0.0; 3];
        from[fixed] = frame.index as f64;
        from[axis] = entry.view.index_of(plane) as f64;
        from[along] = -0.5;
        let mut to = from;
        to[along] = extent[along];
        let ends = [from, to].map(|voxel| {
            let (u, v, _) = frame.plane_from_voxel(voxel);
            map.screen_from_plane(u, v)
        });
        painter.line_segment(ends, stroke);
    }
}

fn scrollbar_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    pane: usize,
    index: usize,
    count: usize,
    commands: &mut Vec<Command>,
) {
    let response = ui.allocate_rect(rect, Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(24));
    if count < 2 {
        return;
    }
    let frac = index as f32 / (count - 1) as f32;
    let thumb_h = (rect.height() / count as f32).max(14.0);
    let y = rect.min.y + frac * (rect.height() - thumb_h);
    painter.rect_filled(
        Rect::from_min_size(
            Pos2::new(rect.min.x + 3.0, y),
            Vec2::new(rect.width() - 6.0, thumb_h),
        ),
        3.0,
        Color32::from_gray(if response.hovered() { 170 } else { 120 }),
    );
    if (response.dragged() || response.clicked())
        && let Some(p) = response.interact_pointer_pos()
    {
        let t = ((p.y - rect.min.y - thumb_h / 2.0) / (rect.height() - thumb_h)).clamp(0.0, 1.0);
        commands.push(Command::SetSlice {
            pane,
            index: (t * (count - 1) as f32).round() as usize,
        });
    }
}

fn overlay_ui(
    ui: &egui::Ui,
    area: Rect,
    workspace: &Workspace,
    pane: usize,
    entry: &SeriesEntry,
    map: &ScreenMap,
) {
    let v = entry.volume();
    let view = entry.view;
    let frame = &map.frame;
    let painter = ui.painter_at(area);
    let font = egui::FontId::proportional(14.0);
    let colour = Color32::from_rgb(225, 215, 170);
    let margin = 8.0;
    let meta = &v.meta;
    let visit = match (workspace.patients.get(&entry.patient_key()), entry.date) {
        (Some(p), Some(d)) => format!("  ({})", p.visit_label(d)),
        _ => String::new(),
    };
    let narrow = area.width() < 560.0;
    let blinded = workspace.project.blinded;
    let name = if blinded {
        workspace.patient_label(&entry.patient_key())
    } else {
        meta.patient.name.replace('^', " ")
    };
    let date = super::series_date_text(workspace, entry);
    let series_number = meta
        .series_number
        .map(|n| format!("#{n}"))
        .unwrap_or_default();
    let plane_name = frame.plane.anatomical_name(v.geometry.orientation);
    let (top_left, top_right) = if narrow {
        (
            format!("{name}\n{date}{visit}"),
            format!("{} {series_number}\n{plane_name}", meta.modality),
        )
    } else {
        (
            if blinded {
                format!("{name}\n{date}{visit}")
            } else {
                format!("{name}\nID {}\n{date}{visit}", meta.patient.id)
            },
            format!(
                "{} {series_number}\n{}\n{plane_name}  {}×{}",
                meta.modality,
                workspace.blind_text(&meta.series_description),
                frame.width,
                frame.height
            ),
        )
    };
    let count = plane_count(v, frame.plane);
    let position = match frame.plane {
        Plane::Native => slice_position_mm(v, frame.index).map(|z| format!("  {z:.1} mm")),
        Plane::FixedRow | Plane::FixedColumn => entry
            .geometry
            .point_from_plane(frame, 0.0, 0.0)
            .zip(entry.geometry.plane_normal(frame.plane))
            .filter(|_| entry.geometry.spacing_known)
            .map(|(p, n)| format!("  {:.1} mm", p.dot(n))),
    }
    .unwrap_or_default();
    let spacing = if entry.geometry.spacing_known {
        format!("{:.2} × {:.2} mm", frame.pixel_size[0], frame.pixel_size[1])
    } else {
        "NO PIXEL SPACING: values in px".to_string()
    };
    let thickness = meta
        .slice_thickness_mm
        .filter(|_| frame.plane == Plane::Native)
        .map(|t| format!("  thk {t:.1} mm"))
        .unwrap_or_default();
    // images are numbered as the PACS and the CRF number them: by InstanceNumber
    let number = match frame.plane {
        Plane::Native => v.image_number(frame.index),
        Plane::FixedRow | Plane::FixedColumn => frame.index as i64 + 1,
    };
    let bottom_left = format!(
        "Im {}/{}{}\n{}{}",
        number, count, position, spacing, thickness
    );
    let zoom = map.points_per_unit * frame.pixel_size[0] as f32;
    let bottom_right = format!(
        "W {:.0}  L {:.0}\nZoom {:.0}%{}",
        view.window.width,
        view.window.center,
        zoom * 100.0,
        if v.photometric == crate::volume::Photometric::Monochrome1 {
            "  MONO1"
        } else {
            ""
        }
    );
    let shadowed = |pos: Pos2, align: egui::Align2, text: String, colour: Color32| {
        painter.text(
            pos + Vec2::splat(1.0),
            align,
            &text,
            font.clone(),
            Color32::BLACK,
        );
        painter.text(pos, align, text, font.clone(), colour);
    };
    shadowed(
        area.left_top() + Vec2::splat(margin),
        egui::Align2::LEFT_TOP,
        top_left,
        colour,
    );
    shadowed(
        area.right_top() + Vec2::new(-margin, margin),
        egui::Align2::RIGHT_TOP,
        top_right,
        colour,
    );
    let bottom_colour = if entry.geometry.spacing_known {
        colour
    } else {
        Color32::from_rgb(255, 140, 100)
    };
    shadowed(
        area.left_bottom() + Vec2::new(margin, -margin),
        egui::Align2::LEFT_BOTTOM,
        bottom_left,
        bottom_colour,
    );
    shadowed(
        area.right_bottom() + Vec2::new(-margin, -margin),
        egui::Align2::RIGHT_BOTTOM,
        bottom_right,
        colour,
    );
    // orientation letters at the middle of each edge of the image
    let g = &entry.geometry;
    if v.geometry.orientation.is_some()
        && let (Some(o), Some(right), Some(down)) = (
            g.point_from_plane(frame, 0.0, 0.0),
            g.point_from_plane(frame, 1.0, 0.0),
            g.point_from_plane(frame, 0.0, 1.0),
        )
    {
        let (u_dir, v_dir) = (right - o, down - o);
        let rect = map.image_rect.intersect(area);
        let letter_colour = Color32::from_rgb(160, 190, 220);
        shadowed(
            Pos2::new(rect.max.x - margin, rect.center().y),
            egui::Align2::RIGHT_CENTER,
            direction_letter(u_dir).into(),
            letter_colour,
        );
        shadowed(
            Pos2::new(rect.min.x + margin, rect.center().y),
            egui::Align2::LEFT_CENTER,
            direction_letter(u_dir * -1.0).into(),
            letter_colour,
        );
        shadowed(
            Pos2::new(rect.center().x, rect.min.y + margin),
            egui::Align2::CENTER_TOP,
            direction_letter(v_dir * -1.0).into(),
            letter_colour,
        );
        shadowed(
            Pos2::new(rect.center().x, rect.max.y - margin),
            egui::Align2::CENTER_BOTTOM,
            direction_letter(v_dir).into(),
            letter_colour,
        );
    }
    let _ = pane;
}
