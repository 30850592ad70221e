//! The DICOM layer on the real files of `../shared/dicom`: every case folder,
//! cross-checked against an independent reader (pydicom + pylibjpeg; the
//! reference numbers are in `tests/data/pydicom_reference.json`, made by
//! `scripts/crosscheck_pydicom.py`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use nadir::cli::inspect::{InspectArgs, inspect};
use nadir::dicom::{self, LoadOptions};
use nadir::interchange::inspect_json::InspectReport;
use nadir::volume::Photometric;

use support::shared_dicom as shared;

fn run(case: &str) -> InspectReport {
    let Some(root) = shared() else {
        return InspectReport::default();
    };
    inspect(&InspectArgs {
        dir: root.join(case),
        json: true,
        no_hash: false,
    })
    .unwrap()
}

fn only_hash(case: &str) -> String {
    let r = run(case);
    if shared().is_none() {
        return String::new();
    }
    assert_eq!(r.series.len(), 1, "{case}: {:?}", r.skipped);
    r.series[0].pixel_sha256.clone().unwrap()
}

/// Lossy JPEG: two correct decoders may differ by rounding in the inverse
/// DCT, so these are compared with pydicom by value within a tolerance, not
/// by hash. (pydicom decodes 12-bit JPEG with pylibjpeg's libjpeg, whose IDCT
/// rounds differently from the IJG code in dcmtk and libjpeg-turbo.)
const LOSSY_JPEG: &[&str] = &[
    "pylibjpeg-data/JPEGBaseline_1s_1f_u_08_08",
    "pydicom/JPGExtended",
    "pylibjpeg-data/RG2_JPLY_fixed",
];

/// 12-bit lossy JPEG (process 4) against dcmtk 3.6: `dcmdjpeg IN OUT`, then
/// `nadir inspect` of the uncompressed OUT (the native path, itself checked
/// against pydicom above) gives these fingerprints. Nadir decodes these
/// frames with libjpeg-turbo's 12-bit IJG code and must match bit for bit,
/// including the two files with non-conformant SOS parameters that pydicom
/// refuses and dcmtk decodes with a warning.
const DCMTK_12_BIT_LOSSY_JPEG: &[(&str, &str)] = &[
    (
        "pydicom/JPGExtended",
        "5a14dfd887a29ac84e9b77a76b38509438bd5a6fe42cbfac137b348ccdfaabca",
    ),
    (
        "pydicom/edge_JPEG-lossy_bad_SOS",
        "5a14dfd887a29ac84e9b77a76b38509438bd5a6fe42cbfac137b348ccdfaabca",
    ),
    (
        "pylibjpeg-data/RG2_JPLY_fixed",
        "69bf8a91b5fbd26646a4c80bbb226e6d42335793a7718ef86ed8ce6c20ada4dd",
    ),
    (
        "nema-wg04/MR4_JPLY",
        "fd2a34315a70b4626bd4bb9a1dcdb8b4ab2eeaf1ecebb0f121c6164eaa9fab29",
    ),
];

#[test]
fn twelve_bit_lossy_jpeg_matches_dcmtk_bit_for_bit() {
    if shared().is_none() {
        return;
    }
    for (case, want) in DCMTK_12_BIT_LOSSY_JPEG {
        assert_eq!(only_hash(case), *want, "{case}");
    }
}

#[test]
fn every_case_matches_pydicom() {
    let Some(root) = shared() else { return };
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("data/pydicom_reference.json")).unwrap();
    let mut mismatches = Vec::new();
    for (case, expected) in reference.as_object().unwrap() {
        let report = inspect(&InspectArgs {
            dir: root.join(case),
            json: true,
            no_hash: false,
        })
        .unwrap();
        for want in expected["series"].as_array().unwrap() {
            let hash = want["pixel_sha256"].as_str().unwrap();
            let lossy = LOSSY_JPEG.contains(&case.as_str());
            let Some(got) = report.series.iter().find(|s| {
                s.pixel_sha256.as_deref() == Some(hash)
                    || (lossy
                        && s.series_instance_uid == want["series_instance_uid"].as_str().unwrap())
            }) else {
                mismatches.push(format!("{case}: no series with pydicom's hash {hash}"));
                continue;
            };
            let tolerance = if lossy { 0.5 } else { 1e-9 };
            assert_eq!(
                got.slices as u64,
                want["slices"].as_u64().unwrap(),
                "{case}"
            );
            let uids: Vec<String> = want["instances_in_order"]
                .as_array()
                .unwrap()
                .iter()
                .map(|u| u.as_str().unwrap().to_string())
                .collect();
            assert_eq!(got.instances_in_order, uids, "{case}: slice order");
            for key in ["rescaled_min", "rescaled_max", "rescaled_mean"] {
                let w = want[key].as_f64().unwrap();
                let g = match key {
                    "rescaled_min" => got.rescaled_min,
                    "rescaled_max" => got.rescaled_max,
                    _ => got.rescaled_mean,
                }
                .unwrap();
                assert!(
                    (g - w).abs() <= tolerance * w.abs().max(1.0),
                    "{case}: {key} {g} vs pydicom {w}"
                );
            }
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn all_nine_transfer_syntaxes_decode_identically() {
    let cases = [
        "dcm_qa_ts/1_explicit_le",
        "dcm_qa_ts/2_implicit_le",
        "dcm_qa_ts/3_explicit_be",
        "dcm_qa_ts/4_rle",
        "dcm_qa_ts/5_jpeg_lossless_sv1_dcmtk",
        "dcm_qa_ts/6_jpeg_lossless_sv1_gdcm",
        "dcm_qa_ts/7_jpegls_lossless_gdcm",
        "dcm_qa_ts/8_jpegls_lossless_dcmtk",
        "dcm_qa_ts/9_j2k_lossless_gdcm",
    ];
    let hashes: Vec<String> = cases.iter().map(|c| only_hash(c)).collect();
    assert!(hashes.iter().all(|h| *h == hashes[0]), "{hashes:#?}");
}

#[test]
fn nema_ct_lossless_codecs_equal_uncompressed() {
    let reference = only_hash("nema-wg04/CT1_UNC");
    for codec in ["CT1_RLE", "CT1_JPLL", "CT1_JLSL", "CT1_J2KR"] {
        assert_eq!(
            only_hash(&format!("nema-wg04/{codec}")),
            reference,
            "{codec}"
        );
    }
    let mr = only_hash("nema-wg04/MR4_UNC");
    for codec in ["MR4_JLSL", "MR4_J2KR"] {
        assert_eq!(only_hash(&format!("nema-wg04/{codec}")), mr, "{codec}");
    }
}

#[test]
fn lossy_codecs_decode_close_to_the_original() {
    let Some(_) = shared() else { return };
    let unc = run("nema-wg04/CT1_UNC").series.remove(0);
    for codec in ["CT1_JLSN", "CT1_J2KI"] {
        let s = run(&format!("nema-wg04/{codec}")).series.remove(0);
        assert_eq!((s.rows, s.columns), (unc.rows, unc.columns));
        let diff = (s.rescaled_mean.unwrap() - unc.rescaled_mean.unwrap()).abs();
        assert!(diff < 5.0, "{codec}: mean differs by {diff} HU");
    }
}

#[test]
fn non_sv1_lossless_jpeg_equals_j2k_lossless() {
    assert_eq!(
        only_hash("pylibjpeg-data/JPEGLossless_1s_1f_u_16_12"),
        only_hash("pydicom-data/MR2_J2KR")
    );
}

#[test]
fn garbage_high_bits_are_masked_and_signed_values_extended() {
    let Some(_) = shared() else { return };
    let garbage = run("dcm_qa_12bit/unsigned_12bit_garbage_high_bits")
        .series
        .remove(0);
    assert!(garbage.rescaled_max.unwrap() <= 4095.0);
    let signed = run("dcm_qa_12bit/signed_12bit_garbage_high_bits")
        .series
        .remove(0);
    assert!(signed.rescaled_min.unwrap() >= -2048.0 && signed.rescaled_max.unwrap() <= 2047.0);
    assert!(signed.rescaled_min.unwrap() < 0.0);
}

#[test]
fn ct_series_is_sorted_along_the_normal_with_hu() {
    let Some(root) = shared() else { return };
    let scan = dicom::scan(&root.join("tcia-lung-pet-ct-dx/Lung_Dx-A0001_CT_chest_5mm")).unwrap();
    assert_eq!(scan.stacks.len(), 1);
    let loaded = dicom::load_stack(&scan.stacks[0], &LoadOptions::default()).unwrap();
    let v = &loaded.volume;
    assert_eq!((v.slices(), v.rows(), v.columns()), (64, 512, 512));
    assert_eq!(v.meta.modality, "CT");
    let z: Vec<f64> = v
        .geometry
        .slice_positions_mm
        .iter()
        .map(|p| p.z())
        .collect();
    assert!(
        z.windows(2).all(|w| (w[1] - w[0] - 5.0).abs() < 1e-3),
        "{z:?}"
    );
    assert!((v.geometry.mean_slice_spacing_mm().unwrap() - 5.0).abs() < 1e-6);
    // Air outside the body is about -1000 HU after the -1024 intercept.
    let air = v.value(32, 5, 5).unwrap();
    assert!(air < -900.0, "air {air}");
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
}

#[test]
fn images_are_numbered_by_instance_number_as_the_pacs_numbers_them() {
    let Some(root) = shared() else { return };
    let folder = root.join("tcia-lung-pet-ct-dx/Lung_Dx-A0001_CT_chest_5mm");
    let scan = dicom::scan(&folder).unwrap();
    let loaded = dicom::load_stack(&scan.stacks[0], &LoadOptions::default()).unwrap();
    let v = &loaded.volume;
    // file 1-18 is InstanceNumber 18; stored feet to head it is slice 46
    let uid_of_1_18 = dicom::scan::plan(&[folder.join("1-18.dcm")])
        .stacks
        .into_iter()
        .next()
        .and_then(|stack| dicom::load_stack(&stack, &LoadOptions::default()).ok())
        .and_then(|l| l.volume.instances_in_order.first().cloned())
        .expect("1-18.dcm loads on its own");
    let index = v
        .instances_in_order
        .iter()
        .position(|u| *u == uid_of_1_18)
        .unwrap();
    assert_eq!(v.image_number(index), 18, "slice {index}");
    assert_ne!(index, 17, "stored against its numbering");
    // next image (18 -> 19) is one slice the other way along the index
    assert_eq!(v.image_direction(), -1);
    assert_eq!(
        v.image_number((index as i64 + v.image_direction()) as usize),
        19
    );
}

#[test]
fn sagittal_series_order_follows_the_normal_not_instance_number() {
    let Some(root) = shared() else { return };
    let scan = dicom::scan(&root.join("dcm_qa_decubitus/HFS_t1_fl2d_sag")).unwrap();
    let plan = &scan.stacks[0];
    let normal = plan.slices[0].frame.orientation.unwrap().normal();
    let depth: Vec<f64> = plan
        .slices
        .iter()
        .map(|s| s.frame.position.unwrap().dot(normal))
        .collect();
    assert!(depth.windows(2).all(|w| w[1] > w[0]));
    let instance: Vec<i64> = plan
        .slices
        .iter()
        .map(|s| plan.files[s.file].instance_number.unwrap())
        .collect();
    assert!(instance.windows(2).all(|w| w[1] < w[0]), "{instance:?}");
}

#[test]
fn gantry_tilt_and_uneven_spacing_are_warned() {
    let r = run("dcm_qa_ct/GE_CT_head_gantry_tilt_variable_spacing");
    if shared().is_none() {
        return;
    }
    let s = &r.series[0];
    assert_eq!(s.slices, 28);
    assert!(
        s.warnings.iter().any(|w| w.contains("tilt")),
        "{:?}",
        s.warnings
    );
    assert!(
        s.warnings.iter().any(|w| w.contains("uneven")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn enhanced_mr_takes_geometry_from_functional_groups() {
    let r = run("dcm_qa_xa30/5_T1_enhanced_multiframe");
    if shared().is_none() {
        return;
    }
    let s = &r.series[0];
    assert_eq!((s.slices, s.rows, s.columns), (96, 128, 128));
    assert_eq!(s.instances_in_order.len(), 1);
    assert!(s.orientation.is_some() && s.origin_mm.is_some());
    assert!(s.slice_spacing_mm.unwrap() > 0.5);
    assert!(s.pixel_spacing_mm.is_some());
}

#[test]
fn enhanced_ct_rescale_comes_from_pixel_value_transformation() {
    let r = run("pydicom-data/eCT_Supplemental");
    if shared().is_none() {
        return;
    }
    let s = &r.series[0];
    assert_eq!(s.slices, 2);
    assert_eq!(s.rescaled_min, Some(-1024.0));
}

#[test]
fn enhanced_mr_without_geometry_loads_with_a_warning() {
    let r = run("pydicom-data/emri_small");
    if shared().is_none() {
        return;
    }
    let s = &r.series[0];
    assert_eq!(s.slices, 10);
    assert!(s.orientation.is_none());
    assert!(
        s.warnings.iter().any(|w| w.contains("geometry")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn monochrome1_is_flagged_for_inverted_display() {
    let Some(root) = shared() else { return };
    let scan = dicom::scan(&root.join("pydicom-data/RG3_J2KR")).unwrap();
    let loaded = dicom::load_stack(&scan.stacks[0], &LoadOptions::default()).unwrap();
    assert_eq!(loaded.volume.photometric, Photometric::Monochrome1);
}

#[test]
fn bad_input_is_all_skipped_with_reasons() {
    let r = run("pydicom/bad-input");
    if shared().is_none() {
        return;
    }
    assert!(r.series.is_empty(), "{:?}", r.series);
    assert_eq!(r.skipped.len(), 11);
    assert!(r.skipped.iter().all(|s| !s.reason.is_empty()));
    let reason = |name: &str| {
        r.skipped
            .iter()
            .find(|s| s.path.ends_with(name))
            .map(|s| s.reason.clone())
            .unwrap()
    };
    assert!(reason("README.txt").contains("not a readable DICOM"));
    assert!(reason("test-SR.dcm").contains("not an image"));
    assert!(
        reason("badVR.dcm").contains("NumberOfFrames"),
        "{}",
        reason("badVR.dcm")
    );
}

#[test]
fn dicomdir_tree_skips_indexes_and_files_without_pixels_and_splits_localisers() {
    let r = run("pydicom/dicomdirtests_scan_tree");
    if shared().is_none() {
        return;
    }
    let dicomdirs = r
        .skipped
        .iter()
        .filter(|s| s.reason.contains("DICOMDIR"))
        .count();
    assert_eq!(dicomdirs, 8, "{:#?}", r.skipped);
    let no_pixels = r
        .skipped
        .iter()
        .filter(|s| s.reason.starts_with("not an image"))
        .count();
    // 50 TINY_ALPHA objects carry neither Rows/Columns nor Pixel Data.
    assert_eq!(no_pixels, 50, "{no_pixels}");
    // Several stacks share one SeriesInstanceUID but not one orientation.
    let mut by_uid: std::collections::BTreeMap<&str, Vec<Option<[f64; 6]>>> = Default::default();
    for s in &r.series {
        by_uid
            .entry(&s.series_instance_uid)
            .or_default()
            .push(s.orientation);
    }
    assert!(
        by_uid
            .values()
            .any(|o| o.len() > 1 && o.windows(2).any(|w| w[0] != w[1])),
        "no split localiser: {by_uid:?}"
    );
}

/// The T2-weighted call (recist-1.1.md §11) on real MR headers: the NEMA
/// T2-weighted IR series (TE 64 ms, TR 4415 ms) and pydicom's spin echo
/// (TE 240 ms, TR 4000 ms) are T2-weighted; a T1 spin echo (TE 27 ms, TR
/// 350 ms), a BOLD EPI (TE 30 ms: T2*) and an enhanced T1 whose TE/TR live in
/// functional groups ("anat-T1w") are not.
#[test]
fn t2_weighting_of_real_mr_series() {
    let Some(root) = shared() else { return };
    for (case, expected) in [
        ("nema-wg04/MR4_UNC", true),
        ("pydicom/MR_small_implicit", true),
        ("pydicom-data/MR2_J2KR", false),
        ("dcm_qa_ts/1_explicit_le", false),
        ("dcm_qa_xa30/5_T1_enhanced_multiframe", false),
    ] {
        let plan = nadir::dicom::scan(&root.join(case)).unwrap();
        let stack = plan.stacks.first().expect(case);
        let loaded = nadir::dicom::load_stack(
            stack,
            &nadir::dicom::LoadOptions {
                hash: false,
                progress: None,
                cancel: None,
            },
        )
        .unwrap();
        let call = nadir::signal::t2_weighting(&loaded.volume.meta);
        assert_eq!(call.t2_weighted, expected, "{case}: {}", call.reason);
    }
}

/// The data set of a Part 10 file without its preamble and file meta group
/// (the group's length is its first element, (0002,0000) UL): the form
/// dcmtk reads as a "raw" data set, in the file's own transfer syntax.
fn without_file_meta(part10: &[u8]) -> Vec<u8> {
    assert_eq!(&part10[128..132], b"DICM");
    assert_eq!(&part10[132..138], b"\x02\x00\x00\x00UL");
    let group_length = u32::from_le_bytes(part10[140..144].try_into().unwrap()) as usize;
    part10[144 + group_length..].to_vec()
}

fn inspect_dir(dir: &std::path::Path) -> InspectReport {
    inspect(&InspectArgs {
        dir: dir.to_path_buf(),
        json: true,
        no_hash: false,
    })
    .unwrap()
}

/// A data set without preamble and file meta (implicit VR LE, as most such
/// files are, and explicit VR LE; single slices, a sorted 5-slice CT stack
/// and a 10-frame enhanced MR) is found by the scan and loads with the same
/// pixels, geometry and SOP Instance UIDs as the Part 10 original.
#[test]
fn data_sets_without_file_meta_load_like_the_original() {
    let Some(root) = shared() else { return };
    let cases: &[(&str, usize)] = &[
        ("tcia-lung-pet-ct-dx/Lung_Dx-A0001_CT_chest_5mm", 5), // IVRLE
        ("dcm_qa_ts/2_implicit_le", 1),                        // IVRLE
        ("dcm_qa_ts/1_explicit_le", 1),                        // EVRLE
        ("pydicom-data/emri_small", 1),                        // EVRLE, 10 frames
    ];
    for &(case, take) in cases {
        let mut files: Vec<_> = std::fs::read_dir(root.join(case))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let original = tempfile::tempdir().unwrap();
        let raw = tempfile::tempdir().unwrap();
        for (i, file) in files.iter().take(take).enumerate() {
            let bytes = std::fs::read(file).unwrap();
            std::fs::write(original.path().join(format!("{i}.dcm")), &bytes).unwrap();
            std::fs::write(raw.path().join(format!("{i}")), without_file_meta(&bytes)).unwrap();
        }
        let want = inspect_dir(original.path());
        let got = inspect_dir(raw.path());
        assert!(got.skipped.is_empty(), "{case}: {:?}", got.skipped);
        assert_eq!(got.series.len(), 1, "{case}");
        let (w, g) = (&want.series[0], &got.series[0]);
        assert_eq!(g.pixel_sha256, w.pixel_sha256, "{case}");
        assert!(g.pixel_sha256.is_some());
        assert_eq!(g.instances_in_order, w.instances_in_order, "{case}");
        assert_eq!(g.slices, w.slices, "{case}");
        assert_eq!(g.origin_mm, w.origin_mm, "{case}");
        assert_eq!(g.rescaled_min, w.rescaled_min, "{case}");
        assert!(!g.instances_in_order[0].is_empty(), "{case}");
    }
}

/// `pydicom/bad-input/no_meta.dcm` is a data set without meta that starts
/// one byte off: it stays skipped, as not DICOM, with dicom-rs's reason.
#[test]
fn a_data_set_without_meta_that_starts_off_is_still_skipped() {
    let Some(root) = shared() else { return };
    let scan = dicom::scan(&root.join("pydicom/bad-input/no_meta.dcm")).unwrap();
    assert!(scan.stacks.is_empty());
    assert_eq!(scan.skipped.len(), 1);
    assert_eq!(scan.skipped[0].kind, dicom::SkipReason::NotDicom);
}

/// Every file skipped under `case` (by the scan or while decoding), by file
/// name, with the plain kind of reason.
fn skip_kinds(case: &str) -> std::collections::BTreeMap<String, dicom::SkipReason> {
    let Some(root) = shared() else {
        return Default::default();
    };
    let scan = dicom::scan(&root.join(case)).unwrap();
    let mut skipped = scan.skipped.clone();
    for plan in &scan.stacks {
        match dicom::load_stack(plan, &LoadOptions::default()) {
            Ok(loaded) => skipped.extend(loaded.skipped),
            Err(dicom::LoadError::NothingDecoded(s)) => skipped.extend(s),
            Err(e) => panic!("{case}: {e}"),
        }
    }
    skipped
        .into_iter()
        .map(|s| {
            let name = s.path.file_name().unwrap().to_string_lossy().to_string();
            (name, s.kind)
        })
        .collect()
}

/// The plain reasons of the real broken files: each from typed facts where
/// the skip is made (first bytes, SOP class, I/O error kind, decoder).
#[test]
fn real_broken_files_get_plain_reasons() {
    use dicom::SkipReason::*;
    let kinds = skip_kinds("pydicom/bad-input");
    if shared().is_none() {
        return;
    }
    let plain = |name: &str| kinds.get(name).map(|k| k.to_string()).unwrap_or_default();
    assert_eq!(kinds.len(), 11, "{kinds:?}");
    assert_eq!(kinds["README.txt"], NotDicom);
    assert_eq!(kinds["zipMR.gz"], NotDicom);
    assert_eq!(kinds["no_meta.dcm"], NotDicom);
    assert_eq!(plain("rtplan.dcm"), "not an image: RT plan");
    assert_eq!(plain("test-SR.dcm"), "not an image: structured report");
    assert_eq!(plain("rtplan_truncated.dcm"), "truncated");
    assert_eq!(kinds["MR_truncated.dcm"], Truncated);
    assert_eq!(
        kinds["emri_small_jpeg_2k_lossless_too_short.dcm"],
        Truncated
    );
    assert_eq!(kinds["badVR.dcm"], DamagedHeader);
    assert_eq!(kinds["meta_missing_tsyntax.dcm"], DamagedHeader);
    assert_eq!(
        plain("JPEG2000-embedded-sequence-delimiter.dcm"),
        "damaged pixel data"
    );

    let tree = skip_kinds("pydicom/dicomdirtests_scan_tree");
    assert_eq!(
        tree["DICOMDIR-nooffset"].to_string(),
        "not an image: directory index (DICOMDIR)"
    );
    // CT objects without pixels are images without pixel data
    assert_eq!(tree["IM000000"], NoPixelData);
}
