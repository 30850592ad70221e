//! The measuring tools as state machines, free of egui: the view turns
//! pointer events into patient-space points and feeds them here; a finished
//! gesture comes out as one [`ToolOutcome`] (one gesture = one undo step).
//!
//! Pressing on a handle of an existing measurement edits that handle; on its
//! outline, moves it; elsewhere, the active tool starts a new measurement.
//! Esc ([`ToolState::cancel`]) abandons the gesture and leaves the data as it was.

use crate::geom::Vec3;
use crate::measure::{
    Bidirectional, EllipseRoi, FreehandRoi, ImageRef, Length, Measurement, Shape,
};
use crate::tracking::MeasurementId;

/// The tools of the tool bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tool {
    /// Stack scroll, window/level and pan with the left button; edit existing measurements.
    Navigate,
    /// Zoom by dragging: up magnifies, down reduces, about the press point.
    Zoom,
    /// A line.
    Length,
    /// Long axis plus perpendicular short axis.
    Bidirectional,
    /// Elliptical ROI.
    Ellipse,
    /// Freehand ROI.
    Freehand,
    /// 3-D segmentation: click a seed (or drag a box) to grow the selected lesion's mask.
    Segment,
    /// Paint the selected lesion's mask on the slice.
    Brush,
    /// Erase from the selected lesion's mask on the slice.
    Eraser,
}

impl Tool {
    /// Every tool, in tool-bar order.
    pub const ALL: [Tool; 9] = [
        Tool::Navigate,
        Tool::Zoom,
        Tool::Length,
        Tool::Bidirectional,
        Tool::Ellipse,
        Tool::Freehand,
        Tool::Segment,
        Tool::Brush,
        Tool::Eraser,
    ];

    /// Tool-bar name.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Navigate => "Navigate",
            Tool::Zoom => "Zoom",
            Tool::Length => "Length",
            Tool::Bidirectional => "Bidirectional",
            Tool::Ellipse => "Ellipse ROI",
            Tool::Freehand => "Freehand ROI",
            Tool::Segment => "Segment",
            Tool::Brush => "Brush",
            Tool::Eraser => "Eraser",
        }
    }

    /// The keyboard shortcut (a letter key).
    pub fn shortcut(self) -> char {
        match self {
            Tool::Navigate => 'V',
            Tool::Zoom => 'M',
            Tool::Length => 'L',
            Tool::Bidirectional => 'B',
            Tool::Ellipse => 'E',
            Tool::Freehand => 'D',
            Tool::Segment => 'G',
            Tool::Brush => 'P',
            Tool::Eraser => 'X',
        }
    }

    /// What the tool does, for its tooltip (shortcut included).
    pub fn tooltip(self) -> String {
        let what = match self {
            Tool::Navigate => {
                "Left-drag: window/level. Drag a handle to edit, the outline to move."
            }
            Tool::Zoom => {
                "Drag up to magnify, down to reduce, about where you pressed. Ctrl+wheel and +/- zoom with any tool; 0 fits."
            }
            Tool::Length => "Drag from one end to the other.",
            Tool::Bidirectional => {
                "Drag the long axis; then drag the short-axis ends (they stay perpendicular). Lymph nodes: the short axis is the RECIST value."
            }
            Tool::Ellipse => "Drag a box around the region: area, mean, SD, min, max.",
            Tool::Freehand => "Draw the outline with the button held: area, mean, SD, min, max.",
            Tool::Segment => {
                "Click inside the selected lesion to grow its 3-D mask; drag a box first to keep the growth inside it."
            }
            Tool::Brush => {
                "Paint the selected lesion's mask on this slice (radius in the lesion panel)."
            }
            Tool::Eraser => "Erase from the selected lesion's mask on this slice.",
        };
        format!(
            "{} ({})\n{what}\nEsc cancels, Del deletes the selection, Ctrl+Z undoes.",
            self.name(),
            self.shortcut()
        )
    }

    /// Whether this tool draws new measurements.
    pub fn draws(self) -> bool {
        !matches!(self, Tool::Navigate | Tool::Zoom)
    }
}

/// The plane a gesture happens in, as the view knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaneContext {
    /// Image reference of new measurements.
    pub image: ImageRef,
    /// Whether coordinates are millimetres.
    pub spacing_known: bool,
    /// Unit normal of the plane.
    pub normal: Vec3,
    /// Unit direction of increasing `u` (screen right).
    pub u_direction: Vec3,
    /// Unit direction of increasing `v` (screen down).
    pub v_direction: Vec3,
    /// The smallest extent that counts as a drawn measurement (a few screen
    /// pixels in space units); smaller gestures are clicks, not measurements.
    pub min_extent: f64,
}

/// What a press landed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// The measurement.
    pub id: MeasurementId,
    /// The handle index, or `None` for the outline (move).
    pub handle: Option<usize>,
}

/// The gesture in progress.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Gesture {
    /// Nothing happening.
    #[default]
    Idle,
    /// Drawing a new measurement.
    Drawing {
        /// The tool.
        tool: Tool,
        /// The plane.
        plane: PlaneContext,
        /// Where the press was.
        start: Vec3,
        /// The pointer now.
        current: Vec3,
        /// Freehand outline so far.
        trail: Vec<Vec3>,
    },
    /// Dragging a handle or the whole of an existing measurement.
    Editing {
        /// The measurement.
        id: MeasurementId,
        /// The handle, or `None` to move the whole.
        handle: Option<usize>,
        /// Where the press was.
        grab: Vec3,
        /// The shape before the gesture.
        original: Shape,
        /// The shape now.
        current: Shape,
    },
}

/// The result of a finished gesture.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    /// Nothing to record.
    Nothing,
    /// A new measurement.
    Created(Measurement),
    /// An existing measurement changed.
    Edited {
        /// Which.
        id: MeasurementId,
        /// Its shape before.
        before: Shape,
        /// Its shape after.
        after: Shape,
    },
}

/// The active tool, the selection and the gesture in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolState {
    /// The tool of new gestures.
    pub active: Tool,
    /// The gesture in progress.
    pub gesture: Gesture,
    /// The selected measurement (Del deletes it).
    pub selected: Option<MeasurementId>,
    /// The handle of the selected measurement last grabbed: the arrow keys
    /// nudge it (cleared when the selection changes or on Esc).
    pub active_handle: Option<usize>,
}

impl Default for ToolState {
    fn default() -> Self {
        ToolState {
            active: Tool::Navigate,
            gesture: Gesture::Idle,
            selected: None,
            active_handle: None,
        }
    }
}

impl ToolState {
    /// Whether a gesture is in progress.
    pub fn is_busy(&self) -> bool {
        self.gesture != Gesture::Idle
    }

    /// Primary button pressed at `at`. `hit` is what lies under the pointer
    /// (see [`hit_test`]); `shape_of` looks up existing shapes. Returns
    /// whether the tools took the press (false: the view may use it, e.g. for
    /// window/level).
    pub fn press(
        &mut self,
        at: Vec3,
        plane: &PlaneContext,
        hit: Option<Hit>,
        shape_of: impl Fn(MeasurementId) -> Option<Shape>,
    ) -> bool {
        if let Some(hit) = hit
            && let Some(shape) = shape_of(hit.id)
        {
            self.selected = Some(hit.id);
            self.active_handle = hit.handle;
            self.gesture = Gesture::Editing {
                id: hit.id,
                handle: hit.handle,
                grab: at,
                original: shape.clone(),
                current: shape,
            };
            return true;
        }
        if !self.active.draws() {
            self.selected = None;
            self.active_handle = None;
            return false;
        }
        self.gesture = Gesture::Drawing {
            tool: self.active,
            plane: plane.clone(),
            start: at,
            current: at,
            trail: vec![at],
        };
        true
    }

    /// The pointer moved to `at` with the button held.
    pub fn drag(&mut self, at: Vec3) {
        match &mut self.gesture {
            Gesture::Idle => {}
            Gesture::Drawing {
                current,
                trail,
                plane,
                ..
            } => {
                *current = at;
                if trail
                    .last()
                    .is_none_or(|last| last.distance(at) >= plane.min_extent / 3.0)
                {
                    trail.push(at);
                }
            }
            Gesture::Editing {
                handle,
                grab,
                original,
                current,
                ..
            } => {
                *current = match handle {
                    Some(h) => original.with_handle_moved(*h, at),
                    None => original.translated(at - *grab),
                };
            }
        }
    }

    /// The button was released at `at`: the gesture ends.
    pub fn release(&mut self, at: Vec3) -> ToolOutcome {
        self.drag(at);
        let gesture = std::mem::take(&mut self.gesture);
        match gesture {
            Gesture::Idle => ToolOutcome::Nothing,
            Gesture::Drawing {
                tool,
                plane,
                start,
                current,
                trail,
            } => match drawn_shape(tool, &plane, start, current, &trail) {
                Some(shape) => ToolOutcome::Created(Measurement {
                    shape,
                    image: plane.image,
                    spacing_known: plane.spacing_known,
                }),
                None => ToolOutcome::Nothing,
            },
            Gesture::Editing {
                id,
                original,
                current,
                ..
            } => {
                if original == current {
                    ToolOutcome::Nothing
                } else {
                    ToolOutcome::Edited {
                        id,
                        before: original,
                        after: current,
                    }
                }
            }
        }
    }

    /// Esc: abandons the gesture in progress (nothing is recorded). Returns
    /// whether there was one; if not, the selection is cleared.
    pub fn cancel(&mut self) -> bool {
        let busy = self.is_busy();
        self.gesture = Gesture::Idle;
        if !busy {
            self.selected = None;
            self.active_handle = None;
        }
        busy
    }

    /// The shape to draw for the gesture in progress: `(Some(id), shape)`
    /// replaces an existing measurement while it is edited, `(None, shape)`
    /// is a measurement being drawn.
    pub fn preview(&self) -> Option<(Option<MeasurementId>, Shape, Option<&PlaneContext>)> {
        match &self.gesture {
            Gesture::Idle => None,
            Gesture::Drawing {
                tool,
                plane,
                start,
                current,
                trail,
            } => {
                let shape = drawn_shape(*tool, plane, *start, *current, trail).or_else(|| {
                    (*tool == Tool::Freehand && trail.len() >= 2).then(|| {
                        Shape::Freehand(FreehandRoi {
                            points: trail.clone(),
                        })
                    })
                })?;
                Some((None, shape, Some(plane)))
            }
            Gesture::Editing { id, current, .. } => Some((Some(*id), current.clone(), None)),
        }
    }
}

/// The shape a drawing gesture makes, `None` when it is too small to be one.
fn drawn_shape(
    tool: Tool,
    plane: &PlaneContext,
    start: Vec3,
    current: Vec3,
    trail: &[Vec3],
) -> Option<Shape> {
    let extent = start.distance(current);
    match tool {
        Tool::Navigate | Tool::Zoom | Tool::Segment | Tool::Brush | Tool::Eraser => None,
        Tool::Length => (extent >= plane.min_extent).then_some(Shape::Length(Length {
            start,
            end: current,
        })),
        Tool::Bidirectional => {
            if extent < plane.min_extent {
                return None;
            }
            Bidirectional::from_long_axis(start, current, plane.normal)
                .ok()
                .map(Shape::Bidirectional)
        }
        Tool::Ellipse => {
            let d = current - start;
            let small = d.dot(plane.u_direction).abs() < plane.min_extent
                || d.dot(plane.v_direction).abs() < plane.min_extent;
            (!small).then(|| {
                Shape::Ellipse(EllipseRoi::from_corners(
                    start,
                    current,
                    plane.u_direction,
                    plane.v_direction,
                ))
            })
        }
        Tool::Freehand => {
            let roi = FreehandRoi {
                points: trail.to_vec(),
            };
            (trail.len() >= 3 && roi.area(plane.normal) >= plane.min_extent * plane.min_extent)
                .then_some(Shape::Freehand(roi))
        }
    }
}

/// Distance from point `p` to segment `a`–`b`.
pub fn distance_to_segment(p: Vec3, a: Vec3, b: Vec3) -> f64 {
    let ab = b - a;
    let length_squared = ab.dot(ab);
    if length_squared <= 0.0 {
        return p.distance(a);
    }
    let t = ((p - a).dot(ab) / length_squared).clamp(0.0, 1.0);
    p.distance(a + ab * t)
}

/// What lies under `at` among `shapes` (those shown in the view), within
/// `tolerance` (space units): a handle first, then an outline; the last
/// drawn wins.
pub fn hit_test<'a>(
    shapes: impl IntoIterator<Item = (MeasurementId, &'a Shape)>,
    at: Vec3,
    tolerance: f64,
) -> Option<Hit> {
    let shapes: Vec<(MeasurementId, &Shape)> = shapes.into_iter().collect();
    for (id, shape) in shapes.iter().rev() {
        let handles = shape.handles();
        let nearest = handles
            .iter()
            .enumerate()
            .map(|(i, h)| (i, h.distance(at)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, d)) = nearest
            && d <= tolerance
        {
            return Some(Hit {
                id: *id,
                handle: Some(i),
            });
        }
    }
    for (id, shape) in shapes.iter().rev() {
        let segments: Vec<(Vec3, Vec3)> = match shape {
            Shape::Length(l) => vec![(l.start, l.end)],
            Shape::Bidirectional(b) => {
                let ([l0, l1], [s0, s1]) = (b.long_axis(), b.short_axis());
                vec![(l0, l1), (s0, s1)]
            }
            Shape::Ellipse(_) | Shape::Freehand(_) => {
                let points = shape.points();
                let n = points.len();
                (0..n)
                    .filter_map(|i| Some((*points.get(i)?, *points.get((i + 1) % n)?)))
                    .collect()
            }
        };
        if segments
            .iter()
            .any(|&(a, b)| distance_to_segment(at, a, b) <= tolerance)
        {
            return Some(Hit {
                id: *id,
                handle: None,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volume::plane::Plane;

    #[test]
    fn tool_shortcuts_are_unique_and_free() {
        let keys: Vec<char> = Tool::ALL.iter().map(|t| t.shortcut()).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{keys:?}");
        // F fits the view, Y syncs the compare panes
        assert!(!keys.contains(&'F') && !keys.contains(&'Y'));
        // the segmentation tools draw no measurement
        for tool in [Tool::Segment, Tool::Brush, Tool::Eraser] {
            let p = plane();
            let a = crate::geom::Vec3::ZERO;
            let b = crate::geom::Vec3::new(10.0, 10.0, 0.0);
            assert_eq!(drawn_shape(tool, &p, a, b, &[a, b]), None);
        }
    }

    fn plane() -> PlaneContext {
        PlaneContext {
            image: ImageRef {
                series_instance_uid: "1".into(),
                sop_instance_uid: None,
                plane: Plane::Native,
                index: 0,
            },
            spacing_known: true,
            normal: Vec3::new(0.0, 0.0, 1.0),
            u_direction: Vec3::new(1.0, 0.0, 0.0),
            v_direction: Vec3::new(0.0, 1.0, 0.0),
            min_extent: 1.0,
        }
    }

    fn none(_: MeasurementId) -> Option<Shape> {
        None
    }

    #[test]
    fn a_drag_with_the_length_tool_creates_a_length() {
        let mut tools = ToolState {
            active: Tool::Length,
            ..Default::default()
        };
        assert!(tools.press(Vec3::new(0.0, 0.0, 0.0), &plane(), None, none));
        tools.drag(Vec3::new(3.0, 0.0, 0.0));
        let outcome = tools.release(Vec3::new(3.0, 4.0, 0.0));
        let ToolOutcome::Created(m) = outcome else {
            panic!("{outcome:?}")
        };
        let Shape::Length(l) = m.shape else { panic!() };
        assert_eq!(l.start.distance(l.end), 5.0);
        assert!(!tools.is_busy());
    }

    #[test]
    fn a_click_is_not_a_measurement() {
        let mut tools = ToolState {
            active: Tool::Bidirectional,
            ..Default::default()
        };
        tools.press(Vec3::new(0.0, 0.0, 0.0), &plane(), None, none);
        assert_eq!(
            tools.release(Vec3::new(0.2, 0.0, 0.0)),
            ToolOutcome::Nothing
        );
    }

    #[test]
    fn escape_cancels_drawing() {
        let mut tools = ToolState {
            active: Tool::Ellipse,
            ..Default::default()
        };
        tools.press(Vec3::new(0.0, 0.0, 0.0), &plane(), None, none);
        tools.drag(Vec3::new(5.0, 5.0, 0.0));
        assert!(tools.preview().is_some());
        assert!(tools.cancel());
        assert_eq!(
            tools.release(Vec3::new(5.0, 5.0, 0.0)),
            ToolOutcome::Nothing
        );
    }

    #[test]
    fn dragging_a_handle_edits_and_outline_moves() {
        let id = MeasurementId(7);
        let shape = Shape::Length(Length {
            start: Vec3::new(0.0, 0.0, 0.0),
            end: Vec3::new(10.0, 0.0, 0.0),
        });
        let lookup = |i: MeasurementId| (i == id).then(|| shape.clone());
        let hit = hit_test([(id, &shape)], Vec3::new(10.2, 0.0, 0.0), 1.0);
        assert_eq!(
            hit,
            Some(Hit {
                id,
                handle: Some(1)
            })
        );
        let mut tools = ToolState::default();
        tools.press(Vec3::new(10.2, 0.0, 0.0), &plane(), hit, lookup);
        let outcome = tools.release(Vec3::new(20.0, 0.0, 0.0));
        let ToolOutcome::Edited {
            after: Shape::Length(l),
            ..
        } = outcome
        else {
            panic!()
        };
        assert_eq!(l.end, Vec3::new(20.0, 0.0, 0.0));
        // the middle of the line moves the whole
        let hit = hit_test([(id, &shape)], Vec3::new(5.0, 0.5, 0.0), 1.0);
        assert_eq!(hit, Some(Hit { id, handle: None }));
        tools.press(Vec3::new(5.0, 0.5, 0.0), &plane(), hit, lookup);
        let ToolOutcome::Edited { after, .. } = tools.release(Vec3::new(5.0, 2.5, 0.0)) else {
            panic!()
        };
        assert_eq!(after.points()[0], Vec3::new(0.0, 2.0, 0.0));
    }

    #[test]
    fn navigate_tool_leaves_empty_space_to_the_view() {
        let mut tools = ToolState::default();
        assert!(!tools.press(Vec3::ZERO, &plane(), None, none));
        assert!(!tools.is_busy());
    }

    #[test]
    fn every_tool_has_a_distinct_shortcut_in_its_tooltip() {
        let keys: std::collections::HashSet<char> =
            Tool::ALL.iter().map(|t| t.shortcut()).collect();
        assert_eq!(keys.len(), Tool::ALL.len());
        for t in Tool::ALL {
            assert!(t.tooltip().contains(&format!("({})", t.shortcut())));
        }
    }
}
