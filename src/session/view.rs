//! How images are shown: panes, per-series view state (plane indices and
//! window), layouts, window presets, and linking two panes by patient position.

use crate::geom::Orientation;
use crate::volume::plane::{Plane, plane_count};
use crate::volume::{Volume, Window};

/// The per-series view state shared by every pane that shows the series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesView {
    /// Current index of each plane family ([`Plane::ALL`] order).
    pub index: [usize; 3],
    /// Display window.
    pub window: Window,
}

impl SeriesView {
    /// The starting view: middle of every plane, the modality's window.
    pub fn initial(volume: &Volume) -> SeriesView {
        SeriesView {
            index: Plane::ALL.map(|p| plane_count(volume, p) / 2),
            window: default_window(volume),
        }
    }

    /// The index of `plane`.
    pub fn index_of(&self, plane: Plane) -> usize {
        match plane {
            Plane::Native => self.index[0],
            Plane::FixedRow => self.index[1],
            Plane::FixedColumn => self.index[2],
        }
    }

    /// Sets the index of `plane`, clamped to the volume.
    pub fn set_index(&mut self, plane: Plane, index: usize, volume: &Volume) {
        let last = plane_count(volume, plane).saturating_sub(1);
        let slot = match plane {
            Plane::Native => &mut self.index[0],
            Plane::FixedRow => &mut self.index[1],
            Plane::FixedColumn => &mut self.index[2],
        };
        *slot = index.min(last);
    }

    /// Points every plane family through voxel `[column, row, slice]`
    /// (clamped): the crosshair of the reformat layout.
    pub fn set_voxel(&mut self, voxel: [usize; 3], volume: &Volume) {
        let [column, row, slice] = voxel;
        self.set_index(Plane::Native, slice, volume);
        self.set_index(Plane::FixedRow, row, volume);
        self.set_index(Plane::FixedColumn, column, volume);
    }

    /// Moves `plane` by `delta`, clamped.
    pub fn scroll(&mut self, plane: Plane, delta: i64, volume: &Volume) {
        let now = self.index_of(plane) as i64;
        self.set_index(plane, (now + delta).max(0) as usize, volume);
    }
}

/// One image area on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pane {
    /// Index into the workspace's series, if any is shown.
    pub series: Option<usize>,
    /// Which plane family it shows.
    pub plane: Plane,
    /// Magnification relative to "fit" (1 = fit).
    pub zoom: f32,
    /// Pan in screen points.
    pub pan: [f32; 2],
}

impl Pane {
    /// An empty pane on `plane`.
    pub const fn empty(plane: Plane) -> Pane {
        Pane {
            series: None,
            plane,
            zoom: 1.0,
            pan: [0.0, 0.0],
        }
    }
}

/// How the panes are arranged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One pane.
    Single,
    /// Native plane plus the two reformats of the same series.
    Reformats,
    /// A prior timepoint (left) and the current one (right), linked.
    Compare,
}

impl Layout {
    /// How many panes the layout shows.
    pub fn pane_count(self) -> usize {
        match self {
            Layout::Single => 1,
            Layout::Compare => 2,
            Layout::Reformats => 3,
        }
    }

    /// Menu name; the reformat layout is named by the planes it shows for a
    /// series of `orientation` ("Sagittal + axial + coronal" for a sagittal
    /// MR).
    pub fn name(self, orientation: Option<Orientation>) -> String {
        match self {
            Layout::Single => "Single".to_string(),
            Layout::Reformats => {
                let [native, row, column] = Plane::ALL.map(|p| p.anatomical_name(orientation));
                format!(
                    "{native} + {} + {}",
                    row.to_lowercase(),
                    column.to_lowercase()
                )
            }
            Layout::Compare => "Compare prior / current".to_string(),
        }
    }
}

/// Named window presets: CT presets plus the percentile window for any modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowPreset {
    /// CT soft tissue 400/40.
    SoftTissue,
    /// CT lung 1500/−600.
    Lung,
    /// CT bone 1800/400.
    Bone,
    /// CT liver 150/90.
    Liver,
    /// CT brain 80/40.
    Brain,
    /// The 1st–99th percentile of the series (MR and anything without HU).
    Auto,
}

impl WindowPreset {
    /// Every preset in menu order (keys 1–6).
    pub const ALL: [WindowPreset; 6] = [
        WindowPreset::SoftTissue,
        WindowPreset::Lung,
        WindowPreset::Bone,
        WindowPreset::Liver,
        WindowPreset::Brain,
        WindowPreset::Auto,
    ];

    /// Menu label.
    pub fn label(self) -> &'static str {
        match self {
            WindowPreset::SoftTissue => "Soft tissue 400/40",
            WindowPreset::Lung => "Lung 1500/−600",
            WindowPreset::Bone => "Bone 1800/400",
            WindowPreset::Liver => "Liver 150/90",
            WindowPreset::Brain => "Brain 80/40",
            WindowPreset::Auto => "Auto (1–99 % histogram)",
        }
    }

    /// The window for `volume`.
    pub fn window(self, volume: &Volume) -> Window {
        match self {
            WindowPreset::SoftTissue => Window::SOFT_TISSUE,
            WindowPreset::Lung => Window::LUNG,
            WindowPreset::Bone => Window::BONE,
            WindowPreset::Liver => Window::LIVER,
            WindowPreset::Brain => Window::BRAIN,
            WindowPreset::Auto => {
                percentile_window(volume, 0.01, 0.99).unwrap_or_else(|| default_window(volume))
            }
        }
    }
}

/// Position of native slice `slice` along the slice normal, in mm.
pub fn slice_position_mm(volume: &Volume, slice: usize) -> Option<f64> {
    let normal = volume.geometry.normal()?;
    volume
        .geometry
        .slice_positions_mm
        .get(slice)
        .map(|p| p.dot(normal))
}

/// The native slice of `volume` nearest to `position_mm` along its normal.
pub fn nearest_slice(volume: &Volume, position_mm: f64) -> Option<usize> {
    let normal = volume.geometry.normal()?;
    volume
        .geometry
        .slice_positions_mm
        .iter()
        .enumerate()
        .map(|(i, p)| (i, (p.dot(normal) - position_mm).abs()))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The window a series opens with: CT soft tissue; anything else: the 1st–99th percentile of a sample of
/// voxels (robust against hot spots), else the file's own window.
pub fn default_window(volume: &Volume) -> Window {
    if volume.meta.modality == "CT" {
        return Window::SOFT_TISSUE;
    }
    percentile_window(volume, 0.01, 0.99)
        .or_else(|| {
            volume
                .meta
                .default_window
                .map(|(center, width)| Window { center, width })
        })
        .unwrap_or(Window {
            center: 0.5,
            width: 1.0,
        })
}

/// The window spanning the `low`–`high` quantiles of modality values,
/// estimated from a regular sample of at most ~200,000 voxels.
pub fn percentile_window(volume: &Volume, low: f64, high: f64) -> Option<Window> {
    let plane = volume.rows() * volume.columns();
    let total = volume.voxels.len();
    if total == 0 || plane == 0 {
        return None;
    }
    let step = (total / 200_000).max(1);
    let data = volume.voxels.as_slice()?;
    let mut values: Vec<f64> = data
        .iter()
        .enumerate()
        .step_by(step)
        .map(|(i, &v)| {
            volume
                .slice_rescale(i / plane)
                .apply(f64::from(i32::from(v) + volume.stored_offset))
        })
        .collect();
    values.sort_by(f64::total_cmp);
    let at = |q: f64| {
        values
            .get(((values.len() - 1) as f64 * q).round() as usize)
            .copied()
    };
    let (lo, hi) = (at(low)?, at(high)?);
    let width = (hi - lo).max(1.0);
    Some(Window {
        center: lo + width / 2.0,
        width,
    })
}
