use super::*;
use crate::geom::Vec3;
use crate::measure::{Bidirectional, EllipseRoi, FreehandRoi, Length};
use crate::tracking::describe::describe_edit;

fn date(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

fn image(index: usize) -> ImageRef {
    ImageRef {
        series_instance_uid: "1.2.3".into(),
        sop_instance_uid: Some(format!("1.2.3.{index}")),
        plane: Plane::Native,
        index,
    }
}

fn length(mm: f64) -> Measurement {
    Measurement {
        shape: Shape::Length(Length {
            start: Vec3::new(1.5, -2.25, 30.0),
            end: Vec3::new(1.5 + mm, -2.25, 30.0),
        }),
        image: image(4),
        spacing_known: true,
    }
}

fn shapes() -> Vec<Measurement> {
    let bidi = Bidirectional::new(
        [Vec3::new(0.0, 0.0, 0.0), Vec3::new(40.0, 0.0, 0.0)],
        [Vec3::new(20.0, -10.0, 0.0), Vec3::new(20.0, 10.0, 0.0)],
        Vec3::new(0.0, 0.0, 1.0),
    )
    .unwrap();
    vec![
        length(36.0),
        Measurement {
            shape: Shape::Bidirectional(bidi),
            image: ImageRef {
                plane: Plane::FixedRow,
                sop_instance_uid: None,
                ..image(7)
            },
            spacing_known: true,
        },
        Measurement {
            shape: Shape::Ellipse(EllipseRoi {
                center: Vec3::new(1.0, 2.0, 3.0),
                semi_axis_a: Vec3::new(5.0, 0.0, 0.0),
                semi_axis_b: Vec3::new(0.0, 3.0, 0.0),
            }),
            image: ImageRef {
                plane: Plane::FixedColumn,
                ..image(2)
            },
            spacing_known: false,
        },
        Measurement {
            shape: Shape::Freehand(FreehandRoi {
                points: vec![
                    Vec3::new(0.1, 0.2, 0.3),
                    Vec3::new(5.0, 0.0, 0.3),
                    Vec3::new(2.0, 4.0, 0.3),
                ],
            }),
            image: image(9),
            spacing_known: true,
        },
    ]
}

/// A patient using every entity and every finding kind.
fn rich_patient() -> Patient {
    let mut p = Patient::new("NADIR-SYN-001");
    let mut edits = vec![
        Edit::PutTimepoint(Timepoint {
            date: date("2024-01-08"),
            visit: Some("baseline".into()),
        }),
        Edit::PutTimepoint(Timepoint {
            date: date("2024-03-04"),
            visit: None,
        }),
    ];
    for (i, m) in shapes().into_iter().enumerate() {
        edits.push(Edit::AddMeasurement(StoredMeasurement {
            id: MeasurementId(i as u64 + 1),
            date: date("2024-01-08"),
            measurement: m,
        }));
    }
    edits.extend([
        Edit::PutLesion(Lesion {
            id: "T1".into(),
            category: Category::Target,
            organ: "lung".into(),
            lymph_node: false,
        }),
        Edit::PutLesion(Lesion {
            id: "N1".into(),
            category: Category::Target,
            organ: "lymph node".into(),
            lymph_node: true,
        }),
        Edit::PutLesion(Lesion {
            id: "NT1".into(),
            category: Category::NonTarget,
            organ: "liver".into(),
            lymph_node: false,
        }),
        Edit::SetObservation {
            lesion_id: "T1".into(),
            date: date("2024-01-08"),
            finding: Some(Finding::Measured(MeasurementId(1))),
        },
        Edit::SetObservation {
            lesion_id: "T1".into(),
            date: date("2024-03-04"),
            finding: Some(Finding::Entered {
                long_axis_mm: Some(31.25),
                short_axis_mm: None,
                extra: ExtraValues {
                    volume_ml: Some(12.5),
                    t2_si: Some(410.0),
                    t2_ref_si: Some(120.0),
                },
            }),
        },
        Edit::SetObservation {
            lesion_id: "N1".into(),
            date: date("2024-03-04"),
            finding: Some(Finding::Stated(LesionStatus::TooSmall)),
        },
        Edit::SetObservation {
            lesion_id: "NT1".into(),
            date: date("2024-01-08"),
            finding: Some(Finding::Stated(LesionStatus::Present)),
        },
    ]);
    // version 2: a segmentation of T1 and T2 signal ROIs (muscle reference
    // from the ellipse #3, lesion from the segmentation)
    let base = date("2024-01-08");
    let mask = crate::segment::Mask::from_fn([10, 32, 32], [2, 4, 4], [3, 10, 12], |[s, r, c]| {
        (s + r + c) % 3 != 0
    });
    // version 3: a volume adopted from an ellipsoid fit of that mask
    let fitted_volume = Some(crate::tracking::FittedVolume {
        volume_ml: 0.1234,
        sd_ml: 0.0056,
        mask_fingerprint: crate::tracking::mask_fingerprint(&mask),
    });
    edits.push(Edit::PutSegmentation(crate::tracking::Segmentation {
        lesion_id: "T1".into(),
        date: base,
        series_uid: "1.2.3".into(),
        mask,
        voxel_size: Some(crate::segment::VoxelSize {
            pixel_spacing_mm: [0.7, 0.8],
            slice_extent_mm: vec![2.5; 10],
        }),
        fitted_volume,
    }));
    for (role, source) in [
        (
            crate::tracking::SignalRole::Reference,
            crate::tracking::SignalSource::Measurement(MeasurementId(3)),
        ),
        (
            crate::tracking::SignalRole::Lesion("T1".into()),
            crate::tracking::SignalSource::Segmentation,
        ),
    ] {
        edits.push(Edit::SetSignal {
            date: base,
            role: role.clone(),
            signal: Some(crate::tracking::SignalRoi {
                date: base,
                role,
                source,
                series_uid: "1.2.3".into(),
                mean_si: 412.25,
                pixels: 321,
            }),
        });
    }
    for e in edits {
        p.apply(e).unwrap();
    }
    p
}

fn stored(p: &Patient) -> StoredPatient {
    StoredPatient {
        patient: p.clone(),
        pseudonym: "Subject 1".into(),
    }
}

fn same_patient(a: &Patient, b: &Patient) {
    assert_eq!(a.measurement_counter(), b.measurement_counter());
    assert_eq!(a.id, b.id);
    assert_eq!(a.timepoints, b.timepoints);
    assert_eq!(a.lesions, b.lesions);
    assert_eq!(a.measurements, b.measurements);
    assert_eq!(a.observations, b.observations);
    assert_eq!(a.segmentations, b.segmentations);
    assert_eq!(a.signals, b.signals);
}

fn new_project(dir: &tempfile::TempDir) -> (PathBuf, Project) {
    let path = dir.path().join("p.nadir");
    let project = Project::create(&path).unwrap();
    (path, project)
}

#[test]
fn every_entity_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut project) = new_project(&dir);
    let p = rich_patient();
    project.save_patient(&stored(&p), &[], "alice").unwrap();
    let series = SeriesRef {
        series_instance_uid: "1.2.3".into(),
        patient_key: p.id.clone(),
        folder: PathBuf::from("/data/scans"),
        pixel_sha256: Some("ab".repeat(32)),
        study_date: "20240108".into(),
        modality: "CT".into(),
        description: "Chest".into(),
    };
    project.put_series(&series).unwrap();
    project
        .set_lock(&p.id, date("2024-01-08"), true, "alice")
        .unwrap();
    let settings = Settings {
        blinded: true,
        reader: Some("Dr A".into()),
    };
    project.save_settings(&settings, "alice").unwrap();
    drop(project);
    let opened = Project::open(&path).unwrap();
    assert!(opened.problems.is_empty(), "{:?}", opened.problems);
    assert!(opened.project.read_only().is_none());
    let c = opened.contents;
    assert_eq!(c.patients.len(), 1);
    same_patient(&c.patients[0].patient, &p);
    assert_eq!(c.patients[0].pseudonym, "Subject 1");
    assert_eq!(c.series, vec![series]);
    assert_eq!(c.locks.len(), 1);
    assert_eq!(c.locks[0].date, date("2024-01-08"));
    assert_eq!(c.locks[0].locked_by, "alice");
    assert_eq!(c.settings, settings);
}

#[test]
fn every_edit_kind_round_trips_after_each_step() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut project) = new_project(&dir);
    let mut p = rich_patient();
    let steps = vec![
        Edit::SetShape {
            id: MeasurementId(1),
            shape: length(35.5).shape,
        },
        Edit::PutLesion(Lesion {
            id: "T1".into(),
            category: Category::Target,
            organ: "pleura".into(),
            lymph_node: false,
        }),
        Edit::SetObservation {
            lesion_id: "N1".into(),
            date: date("2024-03-04"),
            finding: None,
        },
        Edit::RemoveMeasurement(MeasurementId(1)),
        Edit::RemoveLesion("NT1".into()),
        Edit::PutTimepoint(Timepoint {
            date: date("2024-04-29"),
            visit: Some("W16".into()),
        }),
        Edit::RemoveTimepoint(date("2024-03-04")),
        Edit::Batch(vec![
            Edit::AddMeasurement(StoredMeasurement {
                id: MeasurementId(9),
                date: date("2024-04-29"),
                measurement: length(20.0),
            }),
            Edit::SetObservation {
                lesion_id: "T1".into(),
                date: date("2024-04-29"),
                finding: Some(Finding::Measured(MeasurementId(9))),
            },
        ]),
    ];
    for edit in steps {
        let notes = describe_edit(&p, &edit);
        let audit = AuditEntry::for_edit(&p.id, "edit", &notes, &edit);
        let inverse = p.apply(edit).unwrap();
        project.save_patient(&stored(&p), &audit, "bob").unwrap();
        let (c, problems) = project.load();
        assert!(problems.is_empty(), "{problems:?}");
        same_patient(&c.patients[0].patient, &p);
        // and the undo of it
        let mut undone = p.clone();
        undone.apply(inverse.clone()).unwrap();
        project.save_patient(&stored(&undone), &[], "bob").unwrap();
        let (c, _) = project.load();
        same_patient(&c.patients[0].patient, &undone);
        project.save_patient(&stored(&p), &[], "bob").unwrap();
    }
    drop(project);
    let opened = Project::open(&path).unwrap();
    same_patient(&opened.contents.patients[0].patient, &p);
    let audit = opened.project.audit(Some(&p.id), Some("T1")).unwrap();
    assert!(
        audit.iter().any(
            |a| a.description == "measurement #1 edited: long axis 36.0 → 35.5 mm"
                && a.date == Some(date("2024-01-08"))
                && a.reader == "bob"
        ),
        "{audit:#?}"
    );
    assert!(audit.iter().all(|a| a.lesion_id.as_deref() == Some("T1")));
    let json: serde_json::Value =
        serde_json::from_str(audit[0].edit_json.as_deref().unwrap()).unwrap();
    assert_eq!(json["kind"], "set_shape");
}

#[test]
fn a_new_file_is_the_current_schema_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (_, project) = new_project(&dir);
    assert_eq!(project.version().unwrap(), current_version());
    let mode: String = project
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = project
        .conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
}

#[test]
fn create_refuses_to_replace_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.nadir");
    std::fs::write(&path, b"keep me").unwrap();
    assert!(matches!(Project::create(&path), Err(StoreError::Exists(_))));
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
}

#[test]
fn an_older_file_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.nadir");
    {
        // a version-0 file: an empty Nadir database before any migration
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.execute_batch("CREATE TABLE placeholder (x)").unwrap();
    }
    let opened = Project::open(&path).unwrap();
    assert!(opened.problems.is_empty(), "{:?}", opened.problems);
    assert_eq!(opened.project.version().unwrap(), current_version());
    assert!(opened.project.read_only().is_none());
}

#[test]
fn the_audit_trail_is_append_only() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut project) = new_project(&dir);
    project
        .save_patient(&stored(&rich_patient()), &[], "a")
        .unwrap();
    project
        .set_lock("NADIR-SYN-001", date("2024-01-08"), true, "a")
        .unwrap();
    let update = project.execute_raw("UPDATE audit SET reader = 'mallory'");
    assert!(
        update
            .unwrap_err()
            .to_string()
            .contains("the audit trail is append-only")
    );
    let delete = project.execute_raw("DELETE FROM audit");
    assert!(delete.is_err());
    let rows = project.audit(None, None).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].reader, "a");
    assert_eq!(rows[0].action, "lock");
}

#[test]
fn unlocking_is_audited_and_blinding_changes_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut project) = new_project(&dir);
    project
        .save_patient(&stored(&rich_patient()), &[], "a")
        .unwrap();
    let d = date("2024-03-04");
    project.set_lock("NADIR-SYN-001", d, true, "a").unwrap();
    project.set_lock("NADIR-SYN-001", d, false, "b").unwrap();
    let s = Settings {
        blinded: true,
        reader: None,
    };
    project.save_settings(&s, "b").unwrap();
    project.save_settings(&s, "b").unwrap(); // unchanged: no row
    let rows = project.audit(None, None).unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["lock", "unlock", "setting"]);
    assert_eq!(rows[1].reader, "b");
    assert!(project.load().0.locks.is_empty());
}

#[test]
fn random_bytes_are_not_a_project_and_stay_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("noise.nadir");
    let bytes: Vec<u8> = (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&path, &bytes).unwrap();
    let e = Project::open(&path).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("noise.nadir"), "{text}");
    assert!(text.contains("not a Nadir project"), "{text}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn an_empty_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.nadir");
    std::fs::write(&path, b"").unwrap();
    let text = Project::open(&path).unwrap_err().to_string();
    assert!(text.contains("empty"), "{text}");
}

#[test]
fn another_sqlite_database_is_not_a_project() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.nadir");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let text = Project::open(&path).unwrap_err().to_string();
    assert!(text.contains("another application"), "{text}");
}

fn saved_project(dir: &tempfile::TempDir) -> PathBuf {
    let (path, mut project) = new_project(dir);
    project
        .save_patient(&stored(&rich_patient()), &[], "a")
        .unwrap();
    drop(project);
    path
}

#[test]
fn a_truncated_file_gives_a_clear_error_or_opens_read_only_and_is_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_project(&dir);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 4096 * 3);
    let cut = &bytes[..bytes.len() / 2];
    std::fs::write(&path, cut).unwrap();
    match Project::open(&path) {
        Err(e) => assert!(e.to_string().contains("p.nadir"), "{e}"),
        Ok(opened) => {
            assert!(!opened.problems.is_empty());
            assert!(opened.project.read_only().is_some());
            let mut project = opened.project;
            let w = project.save_patient(&stored(&rich_patient()), &[], "a");
            assert!(matches!(w, Err(StoreError::ReadOnly { .. })));
        }
    }
    assert_eq!(std::fs::read(&path).unwrap(), cut);
}

#[test]
fn a_missing_table_opens_read_only_with_what_can_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_project(&dir);
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE observations").unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let opened = Project::open(&path).unwrap();
    let problems = opened.problems.join("; ");
    assert!(problems.contains("observations"), "{problems}");
    assert!(opened.project.read_only().is_some());
    // lesions and measurements were still read
    let p = &opened.contents.patients[0].patient;
    assert_eq!(p.lesions.len(), 3);
    assert_eq!(p.measurements.len(), 4);
    assert!(p.observations.is_empty());
    drop(opened);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_newer_version_opens_read_only_and_the_file_stays_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = saved_project(&dir);
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", current_version() + 1)
            .unwrap();
        conn.execute_batch("CREATE TABLE future_things (x)")
            .unwrap();
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let opened = Project::open(&path).unwrap();
    let problems = opened.problems.join("; ");
    assert!(problems.contains("newer Nadir"), "{problems}");
    same_patient(&opened.contents.patients[0].patient, &rich_patient());
    let mut project = opened.project;
    let e = project
        .set_lock("NADIR-SYN-001", date("2024-01-08"), true, "a")
        .unwrap_err();
    assert!(e.to_string().contains("read-only"), "{e}");
    drop(project);
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn the_writer_saves_in_order_and_reports_each_write() {
    let dir = tempfile::tempdir().unwrap();
    let (path, project) = new_project(&dir);
    let mut writer = writer::Writer::start(project).unwrap();
    let mut p = rich_patient();
    for mm in [30.0, 31.0, 32.0] {
        p.apply(Edit::SetShape {
            id: MeasurementId(1),
            shape: length(mm).shape,
        })
        .unwrap();
        writer.send(
            "w",
            writer::WriteRequest::SavePatient {
                patient: stored(&p),
                audit: vec![],
            },
        );
    }
    let events = writer.flush(std::time::Duration::from_secs(10));
    assert_eq!(events.len(), 3);
    assert_eq!(writer.pending(), 0);
    drop(writer);
    let opened = Project::open(&path).unwrap();
    same_patient(&opened.contents.patients[0].patient, &p);
}

#[test]
fn a_failed_write_is_kept_and_retried_before_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (path, project) = new_project(&dir);
    // A trigger that refuses patients named X makes the first write fail.
    project
        .execute_raw(
            "CREATE TRIGGER refuse BEFORE INSERT ON patients WHEN NEW.patient_key = 'X'
             BEGIN SELECT RAISE(ABORT, 'disk says no'); END;",
        )
        .unwrap();
    let mut writer = writer::Writer::start(project).unwrap();
    writer.send(
        "w",
        writer::WriteRequest::SavePatient {
            patient: stored(&Patient::new("X")),
            audit: vec![],
        },
    );
    let events = writer.flush(std::time::Duration::from_secs(10));
    assert!(matches!(
        events.last(),
        Some(writer::WriteEvent::Failed { .. })
    ));
    assert_eq!(writer.pending(), 1);
    assert!(
        writer
            .last_error
            .as_deref()
            .unwrap()
            .contains("disk says no")
    );
    // a later change waits behind the failed one (order is kept)
    writer.send(
        "w",
        writer::WriteRequest::SavePatient {
            patient: stored(&Patient::new("Y")),
            audit: vec![],
        },
    );
    let events = writer.flush(std::time::Duration::from_secs(10));
    assert!(matches!(
        events.last(),
        Some(writer::WriteEvent::Failed { .. })
    ));
    assert_eq!(writer.pending(), 2);
    // the obstacle goes away; a retry writes both, in order
    Connection::open(&path)
        .unwrap()
        .execute_batch("DROP TRIGGER refuse")
        .unwrap();
    writer.retry();
    let events = writer.flush(std::time::Duration::from_secs(10));
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(writer.pending(), 0);
    assert!(writer.last_error.is_none());
    drop(writer);
    let opened = Project::open(&path).unwrap();
    let keys: Vec<&str> = opened
        .contents
        .patients
        .iter()
        .map(|p| p.patient.id.as_str())
        .collect();
    assert_eq!(keys, ["X", "Y"]);
}

#[test]
fn measurement_ids_are_not_reused_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let (path, mut project) = new_project(&dir);
    let mut p = rich_patient();
    let id = p.next_measurement_id(); // 5, then deleted
    p.apply(Edit::AddMeasurement(StoredMeasurement {
        id,
        date: date("2024-01-08"),
        measurement: length(10.0),
    }))
    .unwrap();
    p.apply(Edit::RemoveMeasurement(id)).unwrap();
    project.save_patient(&stored(&p), &[], "a").unwrap();
    drop(project);
    let mut reopened = Project::open(&path).unwrap().contents.patients[0]
        .patient
        .clone();
    assert!(reopened.next_measurement_id().0 > id.0);
}

#[test]
fn segmentations_and_signal_rois_round_trip_and_cascade() {
    let dir = tempfile::tempdir().unwrap();
    let (_, mut project) = new_project(&dir);
    let mut p = rich_patient();
    assert_eq!(p.segmentations.len(), 1);
    assert_eq!(p.signals.len(), 2);
    project.save_patient(&stored(&p), &[], "a").unwrap();
    same_patient(&project.load().0.patients[0].patient, &p);
    // removing the segmentation takes its signal with it
    let edit = Edit::RemoveSegmentation {
        lesion_id: "T1".into(),
        date: date("2024-01-08"),
    };
    let notes = describe_edit(&p, &edit);
    assert_eq!(notes[0].text, "segmentation deleted");
    p.apply(edit).unwrap();
    project.save_patient(&stored(&p), &[], "a").unwrap();
    let loaded = project.load().0.patients[0].patient.clone();
    same_patient(&loaded, &p);
    assert_eq!(loaded.signals.len(), 1);
}

#[test]
fn a_version_2_segmentation_is_read_as_it_is_and_migrated_without_a_fitted_volume() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.nadir");
    let mask = crate::segment::Mask::from_fn([4, 8, 8], [1, 2, 2], [2, 3, 3], |_| true);
    {
        // what version 2 wrote: migrations 1 and 2, a segmentation row
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.execute_batch(schema::MIGRATIONS[1]).unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO patients VALUES ('P1', 'Subject 1', 1, 0);
             INSERT INTO timepoints VALUES ('P1', '2024-01-08', NULL);
             INSERT INTO lesions VALUES ('P1', 'T1', 0, 'target', 'liver', 0);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO segmentations VALUES ('P1', 'T1', '2024-01-08', 0, '1.2.3', ?1,
             0.5, 0.5, '[5.0, 5.0, 5.0, 5.0]')",
            [mask.to_bytes()],
        )
        .unwrap();
    }
    let check = |p: &Patient| {
        let g = p.segmentation("T1", date("2024-01-08")).unwrap();
        assert_eq!(g.mask, mask);
        assert_eq!(g.fitted_volume, None);
        assert_eq!(g.volume_ml(), g.counted_volume_ml());
    };
    let before = std::fs::read(&path).unwrap();
    let read = Project::open_read_only(&path).unwrap();
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    check(&read.contents.patients[0].patient);
    drop(read);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let opened = Project::open(&path).unwrap();
    assert!(opened.problems.is_empty(), "{:?}", opened.problems);
    assert_eq!(opened.project.version().unwrap(), current_version());
    check(&opened.contents.patients[0].patient);
}

#[test]
fn a_version_1_file_is_migrated_to_the_current_version_keeping_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.nadir");
    {
        // exactly what the first release wrote: migration 1 only
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", schema::APPLICATION_ID)
            .unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO patients VALUES ('P1', 'Subject 1', 1, 0);
             INSERT INTO timepoints VALUES ('P1', '2024-01-08', NULL);
             INSERT INTO lesions VALUES ('P1', 'T1', 0, 'target', 'liver', 0);
             INSERT INTO observations (patient_key, lesion_id, date, position, kind, long_axis_mm)
                 VALUES ('P1', 'T1', '2024-01-08', 0, 'entered', 42.5);",
        )
        .unwrap();
    }
    // read-only (the CLI) reads the old layout as it is, and leaves it
    let before = std::fs::read(&path).unwrap();
    let read = Project::open_read_only(&path).unwrap();
    assert_eq!(read.contents.patients[0].patient.observations.len(), 1);
    assert!(read.problems.is_empty(), "{:?}", read.problems);
    drop(read);
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // opening to write migrates
    let opened = Project::open(&path).unwrap();
    assert!(opened.problems.is_empty(), "{:?}", opened.problems);
    assert_eq!(opened.project.version().unwrap(), current_version());
    let p = &opened.contents.patients[0].patient;
    assert_eq!(
        p.finding("T1", date("2024-01-08")),
        Some(&Finding::Entered {
            long_axis_mm: Some(42.5),
            short_axis_mm: None,
            extra: ExtraValues::default()
        })
    );
    assert!(p.segmentations.is_empty());
    // and the new tables work
    let mut project = opened.project;
    project
        .save_patient(&stored(&rich_patient()), &[], "a")
        .unwrap();
}
