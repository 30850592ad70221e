//! The slice viewport: shows one slice at its true aspect, with stack scroll,
//! window/level, zoom and pan, and the reading overlay.

use egui::{Color32, Pos2, Rect, Sense, Vec2};

use crate::session::{Command, SeriesEntry};
use crate::volume::{Window, window_slice};

/// The texture of the slice on screen; re-uploaded only when the series,
/// slice or window changes.
#[derive(Default)]
pub struct SliceTexture {
    key: Option<(String, usize, u64, u64)>,
    handle: Option<egui::TextureHandle>,
    grey: Vec<u8>,
    /// How many times a texture was uploaded (for tests and benchmarks).
    pub uploads: u64,
}

impl SliceTexture {
    fn texture(&mut self, ctx: &egui::Context, entry: &SeriesEntry) -> Option<egui::TextureId> {
        let v = &entry.loaded.volume;
        let view = entry.view;
        let key = (
            v.meta.series_instance_uid.clone(),
            view.slice,
            view.window.center.to_bits(),
            view.window.width.to_bits(),
        );
        if self.key.as_ref() != Some(&key) || self.handle.is_none() {
            self.grey.resize(v.rows() * v.columns(), 0);
            if !window_slice(v, view.slice, view.window, &mut self.grey) {
                return None;
            }
            let image = egui::ColorImage::from_gray([v.columns(), v.rows()], &self.grey);
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

/// Physical size of the slice in mm (or pixels when spacing is unknown).
fn physical_size(entry: &SeriesEntry) -> Vec2 {
    let v = &entry.loaded.volume;
    let [row_mm, col_mm] = v.geometry.pixel_spacing_mm.unwrap_or([1.0, 1.0]);
    Vec2::new(
        (v.columns() as f64 * col_mm) as f32,
        (v.rows() as f64 * row_mm) as f32,
    )
}

/// Draws the viewport for `entry` and turns gestures into commands.
pub fn viewport_ui(
    ui: &mut egui::Ui,
    entry: &SeriesEntry,
    texture: &mut SliceTexture,
    commands: &mut Vec<Command>,
) {
    let v = &entry.loaded.volume;
    let view = entry.view;
    let available = ui.available_rect_before_wrap();
    let bar_width = 14.0;
    let image_area = Rect::from_min_max(
        available.min,
        Pos2::new(available.max.x - bar_width, available.max.y),
    );
    let response = ui.allocate_rect(image_area, Sense::click_and_drag());

    let size = physical_size(entry);
    let fit = (image_area.width() / size.x).min(image_area.height() / size.y);
    let scale = fit * view.zoom;
    let center = image_area.center() + Vec2::new(view.pan[0], view.pan[1]);
    let image_rect = Rect::from_center_size(center, size * scale);

    if let Some(id) = texture.texture(ui.ctx(), entry) {
        ui.painter_at(image_area).image(
            id,
            image_rect,
            Rect::from_min_max(Pos2::ZERO, Pos2::new(1.0, 1.0)),
            Color32::WHITE,
        );
    }
    overlay_ui(ui, image_area, entry, scale / fit);
    input_ui(ui, &response, entry, commands);
    scrollbar_ui(
        ui,
        Rect::from_min_max(
            Pos2::new(available.max.x - bar_width, available.min.y),
            available.max,
        ),
        view.slice,
        v.slices(),
        commands,
    );
}

fn input_ui(
    ui: &egui::Ui,
    response: &egui::Response,
    entry: &SeriesEntry,
    commands: &mut Vec<Command>,
) {
    let view = entry.view;
    if response.hovered() {
        let (scroll, zoom_modifier) = ui.input(|i| (i.smooth_scroll_delta.y, i.modifiers.command));
        if scroll != 0.0 {
            if zoom_modifier {
                commands.push(Command::Zoom(if scroll > 0.0 { 1.1 } else { 1.0 / 1.1 }));
            } else {
                commands.push(Command::Scroll(if scroll > 0.0 { -1 } else { 1 }));
            }
        }
    }
    if response.dragged_by(egui::PointerButton::Secondary) {
        // Right-drag: horizontal = width, vertical = level (the usual reading-room convention).
        let d = response.drag_delta();
        let w = view.window;
        let step = (w.width / 400.0).max(0.5);
        commands.push(Command::SetWindow(Window {
            center: w.center - f64::from(d.y) * step,
            width: (w.width + f64::from(d.x) * step * 2.0).max(1.0),
        }));
    }
    if response.dragged_by(egui::PointerButton::Middle)
        || (response.dragged_by(egui::PointerButton::Primary) && ui.input(|i| i.modifiers.shift))
    {
        let d = response.drag_delta();
        commands.push(Command::Pan([d.x, d.y]));
    }
    ui.input(|i| {
        use egui::Key;
        if i.key_pressed(Key::ArrowUp) {
            commands.push(Command::Scroll(-1));
        }
        if i.key_pressed(Key::ArrowDown) {
            commands.push(Command::Scroll(1));
        }
        if i.key_pressed(Key::PageUp) {
            commands.push(Command::Scroll(-10));
        }
        if i.key_pressed(Key::PageDown) {
            commands.push(Command::Scroll(10));
        }
        if i.key_pressed(Key::F) {
            commands.push(Command::ResetView);
        }
        for (key, (_, window)) in [Key::Num1, Key::Num2, Key::Num3, Key::Num4, Key::Num5]
            .into_iter()
            .zip(super::presets())
        {
            if i.key_pressed(key) {
                commands.push(Command::SetWindow(window));
            }
        }
    });
}

fn scrollbar_ui(
    ui: &mut egui::Ui,
    rect: Rect,
    slice: usize,
    slices: usize,
    commands: &mut Vec<Command>,
) {
    if slices < 2 {
        return;
    }
    let response = ui.allocate_rect(rect, Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 0.0, Color32::from_gray(30));
    let frac = slice as f32 / (slices - 1) as f32;
    let thumb_h = (rect.height() / slices as f32).max(12.0);
    let y = rect.min.y + frac * (rect.height() - thumb_h);
    painter.rect_filled(
        Rect::from_min_size(
            Pos2::new(rect.min.x + 2.0, y),
            Vec2::new(rect.width() - 4.0, thumb_h),
        ),
        3.0,
        Color32::from_gray(140),
    );
    if (response.dragged() || response.clicked())
        && let Some(p) = response.interact_pointer_pos()
    {
        let t = ((p.y - rect.min.y - thumb_h / 2.0) / (rect.height() - thumb_h)).clamp(0.0, 1.0);
        commands.push(Command::SetSlice((t * (slices - 1) as f32).round() as usize));
    }
}

fn overlay_ui(ui: &egui::Ui, area: Rect, entry: &SeriesEntry, zoom: f32) {
    let v = &entry.loaded.volume;
    let view = entry.view;
    let painter = ui.painter_at(area);
    let font = egui::FontId::proportional(14.0);
    let color = Color32::from_rgb(230, 220, 160);
    let margin = 8.0;
    let meta = &v.meta;
    let top_left = format!(
        "{}\nID {}\n{}",
        meta.patient.name.replace('^', " "),
        meta.patient.id,
        super::pretty_date(&meta.study_date)
    );
    let top_right = format!(
        "{} {}\n{}\n{}×{}",
        meta.modality,
        meta.series_number
            .map(|n| format!("#{n}"))
            .unwrap_or_default(),
        meta.series_description,
        v.columns(),
        v.rows()
    );
    let position = v
        .geometry
        .normal()
        .zip(v.geometry.slice_positions_mm.get(view.slice))
        .map(|(n, p)| format!("  pos {:.1} mm", p.dot(n)))
        .unwrap_or_default();
    let spacing = match v.geometry.pixel_spacing_mm {
        Some([r, c]) => format!("{c:.2}×{r:.2} mm px"),
        None => "no pixel spacing: px only".to_string(),
    };
    let bottom_left = format!(
        "Im {}/{}{}\n{}",
        view.slice + 1,
        v.slices(),
        position,
        spacing
    );
    let bottom_right = format!(
        "W {:.0} L {:.0}\nZoom {:.0}%",
        view.window.width,
        view.window.center,
        zoom * 100.0
    );
    let shadowed = |pos: Pos2, align: egui::Align2, text: String| {
        painter.text(
            pos + Vec2::splat(1.0),
            align,
            &text,
            font.clone(),
            Color32::BLACK,
        );
        painter.text(pos, align, text, font.clone(), color);
    };
    shadowed(
        area.left_top() + Vec2::splat(margin),
        egui::Align2::LEFT_TOP,
        top_left,
    );
    shadowed(
        area.right_top() + Vec2::new(-margin, margin),
        egui::Align2::RIGHT_TOP,
        top_right,
    );
    shadowed(
        area.left_bottom() + Vec2::new(margin, -margin),
        egui::Align2::LEFT_BOTTOM,
        bottom_left,
    );
    shadowed(
        area.right_bottom() + Vec2::new(-margin, -margin),
        egui::Align2::RIGHT_BOTTOM,
        bottom_right,
    );
}
