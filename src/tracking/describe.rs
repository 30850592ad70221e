//! What an [`Edit`] touches and how to say it to a person: the dates it
//! changes (for timepoint locks / sign-off), a readable note per lesion for
//! the audit trail ("long axis 36.0 → 35.5 mm"), and the blinded
//! (de-identified) form of lesion records. Pure functions, no I/O.

use std::collections::BTreeSet;

use super::{Edit, Finding, Patient, SignalRole, SignalSource, recist_diameters_mm};
use crate::recist::{Date, LesionRecord};

/// One readable change for the audit trail: which lesion (if any), at which
/// timepoint (if any), and what happened, without the date in the text (the
/// date is shown separately, so a blinded view can show "day 56" instead).
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeNote {
    /// The lesion the change concerns, if any.
    pub lesion_id: Option<String>,
    /// The timepoint it concerns, if any.
    pub date: Option<Date>,
    /// What changed, e.g. `long axis 36.0 → 35.5 mm`.
    pub text: String,
}

/// The timepoint dates an edit changes when applied to `patient`: a
/// measurement's date, an observation's date, every date of a lesion whose
/// definition changes or which is removed, a timepoint added or removed.
/// A locked (signed-off) date in this set refuses the edit.
pub fn touched_dates(patient: &Patient, edit: &Edit) -> BTreeSet<Date> {
    let mut dates = BTreeSet::new();
    collect_dates(patient, edit, &mut dates);
    dates
}

fn collect_dates(patient: &Patient, edit: &Edit, dates: &mut BTreeSet<Date>) {
    let lesion_dates = |id: &str, dates: &mut BTreeSet<Date>| {
        dates.extend(
            patient
                .observations
                .iter()
                .filter(|o| o.lesion_id == id)
                .map(|o| o.date),
        );
        dates.extend(
            patient
                .segmentations
                .iter()
                .filter(|g| g.lesion_id == id)
                .map(|g| g.date),
        );
        dates.extend(
            patient
                .signals
                .iter()
                .filter(|s| s.role == SignalRole::Lesion(id.to_string()))
                .map(|s| s.date),
        );
    };
    match edit {
        Edit::AddMeasurement(m) => {
            dates.insert(m.date);
        }
        Edit::RemoveMeasurement(id) | Edit::SetShape { id, .. } => {
            if let Some(m) = patient.measurement(*id) {
                dates.insert(m.date);
            }
            dates.extend(
                patient
                    .observations
                    .iter()
                    .filter(|o| o.finding == Finding::Measured(*id))
                    .map(|o| o.date),
            );
        }
        Edit::PutLesion(lesion) => {
            if patient.lesion(&lesion.id).is_some_and(|l| l != lesion) {
                lesion_dates(&lesion.id, dates);
            }
        }
        Edit::RemoveLesion(id) => lesion_dates(id, dates),
        Edit::SetObservation { date, .. } => {
            dates.insert(*date);
        }
        Edit::PutTimepoint(t) => {
            dates.insert(t.date);
        }
        Edit::RemoveTimepoint(date) => {
            dates.insert(*date);
        }
        Edit::SetSignal { date, .. } | Edit::RemoveSegmentation { date, .. } => {
            dates.insert(*date);
        }
        Edit::PutSegmentation(g) => {
            dates.insert(g.date);
        }
        Edit::Batch(edits) => {
            for edit in edits {
                collect_dates(patient, edit, dates);
            }
        }
    }
}

/// Readable notes for an edit about to be applied to `before` (the patient
/// as it is before the edit). A batch gives the notes of its parts.
pub fn describe_edit(before: &Patient, edit: &Edit) -> Vec<ChangeNote> {
    let mut notes = Vec::new();
    let mut state = before.clone();
    describe_into(&mut state, edit, &mut notes);
    if notes.is_empty() {
        notes.push(ChangeNote {
            lesion_id: None,
            date: None,
            text: "no change".into(),
        });
    }
    notes
}

fn mm(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_string(), |v| format!("{v:.1}"))
}

fn finding_text(patient: &Patient, lymph_node: bool, finding: Option<&Finding>) -> String {
    match finding {
        None => "none".into(),
        Some(Finding::Stated(status)) => status.code().replace('_', " "),
        Some(Finding::Entered {
            long_axis_mm,
            short_axis_mm,
            extra,
        }) => {
            let mut text = format!(
                "entered long axis {} mm, short axis {} mm",
                mm(*long_axis_mm),
                mm(*short_axis_mm)
            );
            // Imported volume and T2 values are part of the finding: an edit
            // of only these must not read as "X → X".
            for (name, value) in [
                ("volume", extra.volume_ml.map(|v| format!("{v:.2} mL"))),
                ("T2 SI", extra.t2_si.map(|v| format!("{v:.1}"))),
                ("T2 ref SI", extra.t2_ref_si.map(|v| format!("{v:.1}"))),
            ] {
                if let Some(value) = value {
                    text.push_str(&format!(", {name} {value}"));
                }
            }
            text
        }
        Some(Finding::Measured(id)) => match patient
            .measurement(*id)
            .and_then(|m| recist_diameters_mm(&m.measurement, lymph_node))
        {
            Some((long, short)) => format!(
                "measured #{} (long axis {} mm, short axis {} mm)",
                id.0,
                mm(long),
                mm(short)
            ),
            None => format!("measured #{}", id.0),
        },
    }
}

fn describe_into(state: &mut Patient, edit: &Edit, notes: &mut Vec<ChangeNote>) {
    let lesion_of = |p: &Patient, id| p.lesion_of_measurement(id).cloned();
    match edit {
        Edit::Batch(edits) => {
            for e in edits {
                describe_into(state, e, notes);
            }
            return;
        }
        Edit::AddMeasurement(m) => notes.push(ChangeNote {
            lesion_id: None,
            date: Some(m.date),
            text: format!(
                "measurement #{} drawn on series {}",
                m.id.0, m.measurement.image.series_instance_uid
            ),
        }),
        Edit::RemoveMeasurement(id) => {
            let lesion = lesion_of(state, *id);
            notes.push(ChangeNote {
                lesion_id: lesion.map(|l| l.id),
                date: state.measurement(*id).map(|m| m.date),
                text: format!("measurement #{} deleted", id.0),
            });
        }
        Edit::SetShape { id, shape } => {
            let lesion = lesion_of(state, *id);
            let node = lesion.as_ref().is_some_and(|l| l.lymph_node);
            let before = state.measurement(*id).cloned();
            let text = match &before {
                Some(m) => {
                    let mut after = m.measurement.clone();
                    after.shape = shape.clone();
                    match (
                        recist_diameters_mm(&m.measurement, node),
                        recist_diameters_mm(&after, node),
                    ) {
                        (Some((l0, s0)), Some((l1, s1))) => {
                            let mut parts = Vec::new();
                            if l0.is_some() || l1.is_some() {
                                parts.push(format!("long axis {} → {} mm", mm(l0), mm(l1)));
                            }
                            if s0.is_some() || s1.is_some() {
                                parts.push(format!("short axis {} → {} mm", mm(s0), mm(s1)));
                            }
                            format!("measurement #{} edited: {}", id.0, parts.join(", "))
                        }
                        _ => format!("measurement #{} edited", id.0),
                    }
                }
                None => format!("measurement #{} edited", id.0),
            };
            notes.push(ChangeNote {
                lesion_id: lesion.map(|l| l.id),
                date: before.map(|m| m.date),
                text,
            });
        }
        Edit::PutLesion(lesion) => {
            let text = match state.lesion(&lesion.id) {
                None => format!(
                    "lesion created: {}, {}{}",
                    lesion.category.code(),
                    lesion.organ,
                    if lesion.lymph_node {
                        ", lymph node"
                    } else {
                        ""
                    }
                ),
                Some(old) => format!(
                    "lesion changed: {} {}{} → {} {}{}",
                    old.category.code(),
                    old.organ,
                    if old.lymph_node { " (node)" } else { "" },
                    lesion.category.code(),
                    lesion.organ,
                    if lesion.lymph_node { " (node)" } else { "" }
                ),
            };
            notes.push(ChangeNote {
                lesion_id: Some(lesion.id.clone()),
                date: None,
                text,
            });
        }
        Edit::RemoveLesion(id) => notes.push(ChangeNote {
            lesion_id: Some(id.clone()),
            date: None,
            text: "lesion deleted with its findings".into(),
        }),
        Edit::SetObservation {
            lesion_id,
            date,
            finding,
        } => {
            let node = state.lesion(lesion_id).is_some_and(|l| l.lymph_node);
            let before = finding_text(state, node, state.finding(lesion_id, *date));
            let after = finding_text(state, node, finding.as_ref());
            notes.push(ChangeNote {
                lesion_id: Some(lesion_id.clone()),
                date: Some(*date),
                text: format!("finding {before} → {after}"),
            });
        }
        Edit::PutTimepoint(t) => notes.push(ChangeNote {
            lesion_id: None,
            date: Some(t.date),
            text: match &t.visit {
                Some(v) => format!("timepoint set (visit {v})"),
                None => "timepoint set".into(),
            },
        }),
        Edit::RemoveTimepoint(date) => notes.push(ChangeNote {
            lesion_id: None,
            date: Some(*date),
            text: "timepoint removed".into(),
        }),
        Edit::SetSignal { date, role, signal } => {
            let (lesion_id, what) = match role {
                SignalRole::Lesion(id) => (Some(id.clone()), "lesion T2 signal ROI"),
                SignalRole::Reference => (None, "reference (muscle) T2 signal ROI"),
            };
            let text = match signal {
                None => format!("{what} cleared"),
                Some(s) => format!(
                    "{what}: mean {:.1} over {} pixels ({})",
                    s.mean_si,
                    s.pixels,
                    match s.source {
                        SignalSource::Measurement(id) => format!("measurement #{}", id.0),
                        SignalSource::Segmentation => "segmentation".to_string(),
                    }
                ),
            };
            notes.push(ChangeNote {
                lesion_id,
                date: Some(*date),
                text,
            });
        }
        Edit::PutSegmentation(g) => {
            let before = state
                .segmentations
                .iter()
                .find(|x| x.lesion_id == g.lesion_id && x.date == g.date)
                .and_then(|x| x.volume_ml());
            let after = g.volume_ml();
            let ml = |v: Option<f64>| v.map_or_else(|| "–".to_string(), |v| format!("{v:.2}"));
            notes.push(ChangeNote {
                lesion_id: Some(g.lesion_id.clone()),
                date: Some(g.date),
                text: format!(
                    "segmentation volume {} → {} ml ({} voxels{})",
                    ml(before),
                    ml(after),
                    g.mask.count(),
                    if g.adopted_fit().is_some() {
                        ", ellipsoid fit"
                    } else {
                        ""
                    }
                ),
            });
        }
        Edit::RemoveSegmentation { lesion_id, date } => notes.push(ChangeNote {
            lesion_id: Some(lesion_id.clone()),
            date: Some(*date),
            text: "segmentation deleted".into(),
        }),
    }
    // Later parts of a batch are described against the state they meet.
    let _ = state.apply(edit.clone());
}

/// The fixed date every patient's baseline moves to in blinded output.
pub fn blinded_epoch() -> Date {
    Date::from_days_since_epoch(10_957) // 2000-01-01
}

/// De-identifies lesion records: the patient id becomes `pseudonym(id)` and
/// every date of a patient is shifted by the same number of days so that
/// the patient's baseline (earliest date) falls on [`blinded_epoch`]
/// (2000-01-01). Intervals are exact, so the RECIST assessment of the
/// blinded records equals that of the originals.
pub fn blind_records(
    records: &[LesionRecord],
    pseudonym: impl Fn(&str) -> String,
) -> Vec<LesionRecord> {
    let mut baseline: std::collections::HashMap<&str, Date> = std::collections::HashMap::new();
    for r in records {
        let entry = baseline.entry(r.patient_id.as_ref()).or_insert(r.date);
        if r.date < *entry {
            *entry = r.date;
        }
    }
    let epoch = blinded_epoch();
    records
        .iter()
        .map(|r| {
            let base = baseline
                .get(r.patient_id.as_ref())
                .copied()
                .unwrap_or(r.date);
            let shift = r.date.days_since(base);
            let days = i64::from(epoch.days_since_epoch()) + shift;
            let mut out = r.clone();
            out.patient_id = pseudonym(&r.patient_id).into();
            out.date = Date::from_days_since_epoch(i32::try_from(days).unwrap_or(i32::MAX));
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geom::Vec3;
    use crate::measure::{ImageRef, Length, Measurement, Shape};
    use crate::recist::Category;
    use crate::tracking::{Lesion, MeasurementId, StoredMeasurement, Timepoint};
    use crate::volume::plane::Plane;

    fn date(s: &str) -> Date {
        Date::parse_iso(s).unwrap()
    }

    fn length(mm: f64) -> Shape {
        Shape::Length(Length {
            start: Vec3::ZERO,
            end: Vec3::new(mm, 0.0, 0.0),
        })
    }

    fn patient() -> Patient {
        let mut p = Patient::new("P1");
        let edits = vec![
            Edit::PutTimepoint(Timepoint {
                date: date("2024-01-08"),
                visit: None,
            }),
            Edit::PutTimepoint(Timepoint {
                date: date("2024-03-04"),
                visit: None,
            }),
            Edit::AddMeasurement(StoredMeasurement {
                id: MeasurementId(1),
                date: date("2024-03-04"),
                measurement: Measurement {
                    shape: length(36.0),
                    image: ImageRef {
                        series_instance_uid: "1.2".into(),
                        sop_instance_uid: None,
                        plane: Plane::Native,
                        index: 3,
                    },
                    spacing_known: true,
                },
            }),
            Edit::PutLesion(Lesion {
                id: "T2".into(),
                category: Category::Target,
                organ: "liver".into(),
                lymph_node: false,
            }),
            Edit::SetObservation {
                lesion_id: "T2".into(),
                date: date("2024-03-04"),
                finding: Some(Finding::Measured(MeasurementId(1))),
            },
        ];
        for e in edits {
            p.apply(e).unwrap();
        }
        p
    }

    #[test]
    fn a_shape_edit_reads_as_the_change_of_the_diameter() {
        let p = patient();
        let notes = describe_edit(
            &p,
            &Edit::SetShape {
                id: MeasurementId(1),
                shape: length(35.5),
            },
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].lesion_id.as_deref(), Some("T2"));
        assert_eq!(notes[0].date, Some(date("2024-03-04")));
        assert_eq!(
            notes[0].text,
            "measurement #1 edited: long axis 36.0 → 35.5 mm"
        );
    }

    #[test]
    fn an_edit_of_imported_t2_values_names_them() {
        let mut p = patient();
        let entered = |t2_si: f64| Finding::Entered {
            long_axis_mm: Some(36.0),
            short_axis_mm: None,
            extra: crate::tracking::ExtraValues {
                volume_ml: Some(15.0),
                t2_si: Some(t2_si),
                t2_ref_si: Some(220.0),
            },
        };
        p.apply(Edit::SetObservation {
            lesion_id: "T2".into(),
            date: date("2024-03-04"),
            finding: Some(entered(726.0)),
        })
        .unwrap();
        let notes = describe_edit(
            &p,
            &Edit::SetObservation {
                lesion_id: "T2".into(),
                date: date("2024-03-04"),
                finding: Some(entered(700.0)),
            },
        );
        assert!(notes[0].text.contains("T2 SI 726.0"), "{}", notes[0].text);
        assert!(notes[0].text.contains("T2 SI 700.0"), "{}", notes[0].text);
        assert!(
            notes[0].text.contains("volume 15.00 mL"),
            "{}",
            notes[0].text
        );
    }

    #[test]
    fn a_shape_edit_touches_the_measurement_date_only() {
        let p = patient();
        let edit = Edit::SetShape {
            id: MeasurementId(1),
            shape: length(30.0),
        };
        assert_eq!(
            touched_dates(&p, &edit).into_iter().collect::<Vec<_>>(),
            vec![date("2024-03-04")]
        );
    }

    #[test]
    fn changing_a_lesion_touches_every_date_it_has_a_finding_at() {
        let p = patient();
        let same = Edit::PutLesion(p.lesions[0].clone());
        assert!(touched_dates(&p, &same).is_empty());
        let mut changed = p.lesions[0].clone();
        changed.organ = "lung".into();
        assert_eq!(touched_dates(&p, &Edit::PutLesion(changed)).len(), 1);
        assert_eq!(touched_dates(&p, &Edit::RemoveLesion("T2".into())).len(), 1);
    }

    #[test]
    fn a_batch_touches_the_union_of_its_parts() {
        let p = patient();
        let edit = Edit::Batch(vec![
            Edit::SetObservation {
                lesion_id: "T2".into(),
                date: date("2024-01-08"),
                finding: None,
            },
            Edit::RemoveMeasurement(MeasurementId(1)),
        ]);
        assert_eq!(touched_dates(&p, &edit).len(), 2);
    }

    #[test]
    fn batch_notes_describe_each_part_against_the_state_it_meets() {
        let p = patient();
        let notes = describe_edit(
            &p,
            &Edit::Batch(vec![
                Edit::PutLesion(Lesion {
                    id: "T3".into(),
                    category: Category::Target,
                    organ: "lung".into(),
                    lymph_node: false,
                }),
                Edit::SetObservation {
                    lesion_id: "T3".into(),
                    date: date("2024-01-08"),
                    finding: Some(Finding::Stated(crate::recist::LesionStatus::TooSmall)),
                },
            ]),
        );
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].text, "lesion created: target, lung");
        assert_eq!(notes[1].text, "finding none → too small");
    }

    #[test]
    fn blinding_moves_each_baseline_to_the_epoch_keeping_intervals() {
        let make = |pid: &str, d: &str| LesionRecord {
            patient_id: pid.into(),
            visit: "v".into(),
            date: date(d),
            lesion_id: "T1".into(),
            category: Category::Target,
            organ: "lung".into(),
            lymph_node: false,
            long_axis_mm: Some(10.0),
            short_axis_mm: None,
            status: crate::recist::LesionStatus::Measured,
            volume_ml: None,
            t2_si: None,
            t2_ref_si: None,
        };
        let records = vec![
            make("A", "2024-03-04"),
            make("A", "2024-01-08"),
            make("B", "2023-06-01"),
        ];
        let blinded = blind_records(&records, |id| format!("Subject {id}"));
        assert_eq!(blinded[0].date, date("2000-02-26"));
        assert_eq!(blinded[1].date, date("2000-01-01"));
        assert_eq!(blinded[2].date, date("2000-01-01"));
        assert_eq!(&*blinded[0].patient_id, "Subject A");
    }
}
