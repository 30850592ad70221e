//! Segmentation at the session level, without egui: the Segment, Brush and
//! Eraser gestures, interpolation, deletion and "propose diameters", each
//! one undo step, and the volume reaching the lesion table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use nadir::measure::Shape;
use nadir::recist::{Category, Date};
use nadir::session::{Command, PointerEvent, Workspace};
use nadir::tools::Tool;
use nadir::tracking::{Edit, Finding, Lesion};

fn workspace() -> Workspace {
    let mut ws = Workspace::default();
    ws.add_series(support::series(
        "ct-bl",
        "20240108",
        "for-1",
        64,
        [0.5, 0.5],
        0.0,
        10,
    ));
    ws
}

fn baseline() -> Date {
    Date::parse_iso("2024-01-08").unwrap()
}

fn add_lesion(ws: &mut Workspace, id: &str) {
    ws.edit(Edit::PutLesion(Lesion {
        id: id.into(),
        category: Category::Target,
        organ: "liver".into(),
        lymph_node: false,
    }));
    ws.apply(Command::SelectLesion(id.into()));
}

/// A gesture with the active tool on pane 0 through plane pixels `points`.
fn gesture(ws: &mut Workspace, points: &[(f64, f64)]) {
    let plane = ws.plane_context(0, 0.5).unwrap();
    let at: Vec<_> = points
        .iter()
        .map(|(u, v)| ws.point_on_pane(0, *u, *v).unwrap())
        .collect();
    ws.apply(Command::Pointer {
        pane: 0,
        event: PointerEvent::Press {
            at: at[0],
            plane,
            hit: None,
        },
    });
    for p in &at[1..] {
        ws.apply(Command::Pointer {
            pane: 0,
            event: PointerEvent::Drag(*p),
        });
    }
    ws.apply(Command::Pointer {
        pane: 0,
        event: PointerEvent::Release(*at.last().unwrap()),
    });
}

/// The disc of the support series: pixels with (r − 32)² + (c − 32)² < (64/6)².
fn disc_pixels() -> usize {
    let mut n = 0;
    for r in 0..64 {
        for c in 0..64 {
            let (dr, dc) = (r as f64 - 32.0, c as f64 - 32.0);
            if dr * dr + dc * dc < (64.0f64 / 6.0).powi(2) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn segmenting_needs_a_selected_lesion() {
    let mut ws = workspace();
    ws.apply(Command::SelectTool(Tool::Segment));
    gesture(&mut ws, &[(32.0, 32.0)]);
    assert!(ws.current_patient().unwrap().segmentations.is_empty());
    assert!(ws.messages.last().unwrap().contains("Select a lesion"));
    assert!(!ws.history.can_undo());
}

#[test]
fn a_seed_click_grows_the_lesion_and_undo_redo_are_exact() {
    let mut ws = workspace();
    add_lesion(&mut ws, "T1");
    ws.apply(Command::SelectTool(Tool::Segment));
    gesture(&mut ws, &[(32.0, 32.0)]);
    let seg = ws.segmentation_of("T1", baseline()).unwrap().clone();
    // the disc (a cylinder through the stack) on the slices within twice
    // its radius (5.3 mm) of the seed slice: 3 each side of slice 5
    assert_eq!(seg.mask.slices(), (2..=8).collect::<Vec<_>>());
    assert_eq!(seg.mask.count(), disc_pixels() * 7);
    assert!(ws.messages.last().unwrap().contains("search limit"));
    let expected_ml = (disc_pixels() * 7) as f64 * 0.25 * 5.0 / 1000.0;
    assert!((seg.volume_ml().unwrap() - expected_ml).abs() < 1e-9);
    // the lesion table carries the volume
    ws.apply(Command::SetFinding {
        lesion_id: "T1".into(),
        date: baseline(),
        finding: Some(Finding::Entered {
            long_axis_mm: Some(10.0),
            short_axis_mm: None,
            extra: Default::default(),
        }),
    });
    let csv = ws.lesion_table_csv().unwrap();
    assert!(csv.contains(&format!("{expected_ml}")), "{csv}");
    ws.apply(Command::Undo); // the finding
    ws.apply(Command::Undo); // the growth
    assert!(ws.segmentation_of("T1", baseline()).is_none());
    ws.apply(Command::Redo);
    assert_eq!(ws.segmentation_of("T1", baseline()), Some(&seg));
    // selecting the lesion brings the pane to its mask
    ws.apply(Command::SetSlice { pane: 0, index: 0 });
    ws.apply(Command::SelectLesion("T1".into()));
    assert_eq!(
        ws.series[0]
            .view
            .index_of(nadir::volume::plane::Plane::Native),
        5
    );
}

#[test]
fn brush_and_eraser_strokes_are_one_undo_step_each() {
    let mut ws = workspace();
    add_lesion(&mut ws, "T1");
    ws.apply(Command::SetBrushRadius(2.0));
    ws.apply(Command::SelectTool(Tool::Brush));
    gesture(&mut ws, &[(5.0, 5.0), (10.0, 5.0), (15.0, 5.0)]);
    let painted = ws.segmentation_of("T1", baseline()).unwrap().clone();
    let slice = ws.series[0]
        .view
        .index_of(nadir::volume::plane::Plane::Native);
    assert_eq!(painted.mask.slices(), vec![slice]);
    // a 4 mm wide stroke from column 5 to 15 (0.5 mm pixels): columns 1..=19
    assert!(painted.mask.contains([slice, 5, 1]) && painted.mask.contains([slice, 5, 19]));
    assert!(!painted.mask.contains([slice, 5, 20]) && !painted.mask.contains([slice, 10, 10]));
    ws.apply(Command::SelectTool(Tool::Eraser));
    gesture(&mut ws, &[(10.0, 5.0)]);
    let erased = ws.segmentation_of("T1", baseline()).unwrap().clone();
    assert!(!erased.mask.contains([slice, 5, 10]) && erased.mask.contains([slice, 5, 2]));
    ws.apply(Command::Undo);
    assert_eq!(ws.segmentation_of("T1", baseline()), Some(&painted));
    ws.apply(Command::Undo);
    assert!(ws.segmentation_of("T1", baseline()).is_none());
}

#[test]
fn interpolation_fills_the_slices_between_two_painted_ones() {
    let mut ws = workspace();
    add_lesion(&mut ws, "T1");
    ws.apply(Command::SetBrushRadius(3.0));
    ws.apply(Command::SelectTool(Tool::Brush));
    ws.apply(Command::SetSlice { pane: 0, index: 2 });
    gesture(&mut ws, &[(32.0, 32.0)]);
    ws.apply(Command::SetSlice { pane: 0, index: 6 });
    gesture(&mut ws, &[(32.0, 32.0)]);
    ws.apply(Command::InterpolateSegmentation);
    let seg = ws.segmentation_of("T1", baseline()).unwrap();
    assert_eq!(seg.mask.slices(), vec![2, 3, 4, 5, 6]);
    ws.apply(Command::Undo);
    assert_eq!(
        ws.segmentation_of("T1", baseline()).unwrap().mask.slices(),
        vec![2, 6]
    );
    ws.apply(Command::Redo);
    ws.apply(Command::DeleteSegmentation);
    assert!(ws.segmentation_of("T1", baseline()).is_none());
    ws.apply(Command::Undo);
    assert!(ws.segmentation_of("T1", baseline()).is_some());
}

#[test]
fn proposed_diameters_measure_the_mask_and_attach_to_the_lesion() {
    let mut ws = workspace();
    add_lesion(&mut ws, "T1");
    ws.apply(Command::SelectTool(Tool::Segment));
    gesture(&mut ws, &[(32.0, 32.0)]);
    ws.apply(Command::ProposeDiameters);
    let patient = ws.current_patient().unwrap();
    let Some(Finding::Measured(id)) = patient.finding("T1", baseline()) else {
        panic!("no measured finding: {:?}", ws.messages);
    };
    let m = patient.measurement(*id).unwrap();
    let Shape::Bidirectional(b) = &m.measurement.shape else {
        panic!("not bidirectional");
    };
    // the disc's diameter is 2 · 64/6 pixels of 0.5 mm = 10.67 mm: both axes within a pixel
    let diameter = 64.0 / 6.0;
    assert!(
        (b.long_length() - diameter).abs() <= 0.5,
        "{}",
        b.long_length()
    );
    assert!(
        (b.short_length() - diameter).abs() <= 0.5,
        "{}",
        b.short_length()
    );
    assert_eq!(ws.tools.selected, Some(*id));
    // one undo step removes measurement and finding together
    ws.apply(Command::Undo);
    let patient = ws.current_patient().unwrap();
    assert!(patient.finding("T1", baseline()).is_none());
    assert!(patient.measurements.is_empty());
    assert!(ws.segmentation_of("T1", baseline()).is_some());
}

/// A workspace with T1 grown from a click on the disc, its mask, and the
/// ellipsoid fit of that mask.
fn grown_and_fitted() -> (
    Workspace,
    nadir::tracking::Segmentation,
    nadir::segment::EllipsoidFit,
) {
    let mut ws = workspace();
    add_lesion(&mut ws, "T1");
    ws.apply(Command::SelectTool(Tool::Segment));
    gesture(&mut ws, &[(32.0, 32.0)]);
    let seg = ws.segmentation_of("T1", baseline()).unwrap().clone();
    let fit = nadir::segment::fit_ellipsoid(
        ws.series[0].volume(),
        &seg.mask,
        seg.voxel_size.as_ref().unwrap(),
    )
    .unwrap();
    (ws, seg, fit)
}

#[test]
fn an_accepted_fit_proposes_the_diameters_and_a_rejected_one_leaves_it_to_the_mask() {
    use nadir::segment::{propose_bidirectional, propose_from_ellipsoid};
    let (mut ws, seg, mut fit) = grown_and_fitted();
    let geometry = ws.series[0].geometry.geometry.clone();
    let long_of = |ws: &Workspace| {
        let patient = ws.current_patient().unwrap();
        let Some(Finding::Measured(id)) = patient.finding("T1", baseline()) else {
            panic!("no measured finding: {:?}", ws.messages);
        };
        let Shape::Bidirectional(b) = &patient.measurement(*id).unwrap().measurement.shape else {
            panic!("not bidirectional");
        };
        b.long_length()
    };
    fit.accepted = true;
    ws.apply(Command::ProposeDiametersFromFit(Box::new(fit.clone())));
    let expected = propose_from_ellipsoid(&fit, &geometry).unwrap().long_mm;
    assert!((long_of(&ws) - expected).abs() < 1e-9);
    assert!(
        ws.messages
            .last()
            .unwrap()
            .contains("from the ellipsoid fit")
    );
    ws.apply(Command::Undo);
    fit.accepted = false;
    ws.apply(Command::ProposeDiametersFromFit(Box::new(fit)));
    let from_mask = propose_bidirectional(&seg.mask, &geometry).unwrap().long_mm;
    assert!((long_of(&ws) - from_mask).abs() < 1e-9);
    assert!(ws.messages.last().unwrap().contains("from the mask"));
    // (the two proposals differ, so the test tells which was used)
    assert!(
        (from_mask - expected).abs() > 1e-3,
        "{from_mask} {expected}"
    );
}

#[test]
fn the_reader_reports_an_accepted_fits_volume_until_the_mask_changes() {
    let (mut ws, seg, mut fit) = grown_and_fitted();
    // (a finding, so the lesion table has T1's row)
    ws.apply(Command::ProposeDiameters);
    let counted = seg.counted_volume_ml().unwrap();
    // an unaccepted fit is refused
    fit.accepted = false;
    fit.rejection = Some("the edge does not follow an ellipsoid".into());
    ws.apply(Command::ReportFittedVolume(Box::new(fit.clone())));
    assert!(ws.messages.last().unwrap().contains("not accepted"));
    assert_eq!(ws.segmentation_volume_ml("T1", baseline()), Some(counted));
    // an accepted one is the reported volume: in the panel, the lesion
    // table and the volumetric response, one undo step
    fit.accepted = true;
    fit.rejection = None;
    fit.volume_ml = counted * 1.25;
    ws.apply(Command::ReportFittedVolume(Box::new(fit.clone())));
    assert!(
        ws.messages
            .last()
            .unwrap()
            .contains("from the ellipsoid fit"),
        "{:?}",
        ws.messages
    );
    assert_eq!(
        ws.segmentation_volume_ml("T1", baseline()),
        Some(counted * 1.25)
    );
    let csv = ws.lesion_table_csv().unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "volume_ml").unwrap();
    let row: Vec<&str> = lines.next().expect("T1's row").split(',').collect();
    let exported: f64 = row[column].parse().unwrap();
    assert!((exported - counted * 1.25).abs() < 1e-3, "{csv}");
    ws.apply(Command::Undo);
    assert_eq!(ws.segmentation_volume_ml("T1", baseline()), Some(counted));
    ws.apply(Command::Redo);
    assert_eq!(
        ws.segmentation_volume_ml("T1", baseline()),
        Some(counted * 1.25)
    );
    // back to the count on request
    ws.apply(Command::ReportVoxelCount);
    assert_eq!(ws.segmentation_volume_ml("T1", baseline()), Some(counted));
    ws.apply(Command::ReportFittedVolume(Box::new(fit.clone())));
    // any edit of the mask goes back to the count
    ws.apply(Command::SetBrushRadius(1.0));
    ws.apply(Command::SelectTool(Tool::Eraser));
    gesture(&mut ws, &[(32.0, 32.0)]);
    let edited = ws.segmentation_of("T1", baseline()).unwrap().clone();
    assert!(edited.mask.count() < seg.mask.count());
    assert_eq!(edited.fitted_volume, None);
    assert_eq!(
        ws.segmentation_volume_ml("T1", baseline()),
        edited.counted_volume_ml()
    );
    // and a fit of the mask before the edit is refused
    ws.apply(Command::ReportFittedVolume(Box::new(fit)));
    assert!(
        ws.messages
            .last()
            .unwrap()
            .contains("has changed since the fit")
    );
    assert_eq!(
        ws.segmentation_volume_ml("T1", baseline()),
        edited.counted_volume_ml()
    );
}

#[test]
fn volumetric_response_uses_the_derived_thresholds() {
    use nadir::interchange::lesion_table::parse_lesion_table;
    use nadir::recist::{AssessOptions, assess_patient};
    use nadir::session::segmentation::volumetric_rows;
    let csv = "patient_id,visit,date,lesion_id,category,organ,lymph_node,long_axis_mm,short_axis_mm,status,volume_ml,t2_si,t2_ref_si
P,baseline,2024-01-08,T1,target,liver,false,40,,measured,100,,
P,W8,2024-03-04,T1,target,liver,false,30,,measured,34,,
P,W16,2024-04-29,T1,target,liver,false,30,,measured,36,,
P,W24,2024-06-24,T1,target,liver,false,35,,measured,59,,
";
    let table = parse_lesion_table(csv.as_bytes(), "t.csv").unwrap();
    let (result, _) = assess_patient(&table.records, &AssessOptions::default());
    let rows = volumetric_rows(&result);
    let cats: Vec<&str> = rows.iter().map(|r| r.category).collect();
    // −66 % vs baseline: PR; −64 %: SD (not ≤ −65); 59 vs nadir 34 = +73.5 %: PD
    assert_eq!(cats, vec!["—", "PR", "SD", "PD"]);
    assert!((rows[3].vs_nadir_pct.unwrap() - 100.0 * (59.0 / 34.0 - 1.0)).abs() < 1e-9);
    assert!((rows[2].vs_baseline_pct.unwrap() + 64.0).abs() < 1e-9);
}

#[test]
fn a_dragged_box_confines_the_growth() {
    let mut ws = workspace();
    add_lesion(&mut ws, "T1");
    ws.apply(Command::SelectTool(Tool::Segment));
    // a box smaller than the disc: the growth stays inside rows and columns 28..=36
    gesture(&mut ws, &[(28.0, 28.0), (32.0, 32.0), (36.0, 36.0)]);
    let seg = ws.segmentation_of("T1", baseline()).unwrap();
    let (origin, size) = seg.mask.bounds();
    assert_eq!((origin[1], origin[2]), (28, 28));
    assert_eq!((size[1], size[2]), (9, 9));
    // the box grows from its centre, through the slices like a click would
    assert!(seg.mask.contains([5, 32, 32]));
}
