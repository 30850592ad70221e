//! The look: dark, calm, readable at a reading-room distance.

/// DejaVu Sans (bundled, also used by the exported plots): the fallback for
/// symbols egui's default font lacks (⚠ ✕ Δ ≥ → …), which would otherwise be
/// drawn as empty boxes.
const FALLBACK_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Installs the fallback font once per context (safe to call every frame).
pub fn ensure_fonts(ctx: &egui::Context) {
    let id = egui::Id::unique("nadir_fallback_font_installed");
    if ctx.data(|d| d.get_temp::<bool>(id)).unwrap_or(false) {
        return;
    }
    ctx.data_mut(|d| d.insert_temp(id, true));
    let families = [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
        .into_iter()
        .map(|family| egui::epaint::text::InsertFontFamily {
            family,
            priority: egui::epaint::text::FontPriority::Lowest,
        })
        .collect();
    ctx.add_font(egui::epaint::text::FontInsert {
        name: "DejaVuSans".into(),
        data: egui::FontData::from_static(FALLBACK_FONT),
        families,
    });
}

/// Applies Nadir's visuals and text sizes to the context.
pub fn apply(ctx: &egui::Context) {
    ensure_fonts(ctx);
    ctx.set_visuals(egui::Visuals::dark());
    ctx.all_styles_mut(|style| {
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        for (text_style, size) in [
            (egui::TextStyle::Body, 15.0),
            (egui::TextStyle::Button, 15.0),
            (egui::TextStyle::Heading, 18.0),
            (egui::TextStyle::Small, 12.0),
            (egui::TextStyle::Monospace, 14.0),
        ] {
            if let Some(font) = style.text_styles.get_mut(&text_style) {
                font.size = size;
            }
        }
    });
}
