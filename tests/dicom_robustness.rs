//! Bad input never panics the loader: random bytes, truncated and corrupted
//! copies of real files all end as a loaded series or a skipped entry with a
//! reason that names the file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use nadir::cli::inspect::{InspectArgs, inspect};
use proptest::prelude::*;

/// A few real files of different encodings: the project's own sample CT and MR
/// slices, plus compressed files from `../shared/dicom` when present.
#[allow(clippy::single_element_loop)] // more seed folders may follow
fn seed_files() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut found = Vec::new();
    collect(&root.join("sample_scans/baseline_2024-01-08"), &mut found);
    found.sort();
    paths.extend(found.into_iter().step_by(17).take(3));
    for case in [
        "nema-wg04/CT1_RLE/CT1_RLE",
        "nema-wg04/CT1_JLSL/CT1_JLSL",
        "nema-wg04/CT1_J2KR/CT1_J2KR",
        "nema-wg04/CT1_JPLL/CT1_JPLL",
        "pydicom/image_dfl/image_dfl.dcm",
        "pydicom/MR_small_bigendian/MR_small_bigendian.dcm",
    ] {
        let p = root.join("../shared/dicom").join(case);
        if p.is_file() {
            paths.push(p);
        }
    }
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "dcm") {
            out.push(p);
        }
    }
}

/// Writes `bytes` as one file in a fresh folder and inspects the folder.
fn inspect_bytes(bytes: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("case.dcm");
    std::fs::write(&path, bytes).unwrap();
    let report = inspect(&InspectArgs {
        dir: dir.path().to_path_buf(),
        json: true,
        no_hash: false,
    })
    .expect("inspect never fails on a readable folder");
    let accounted = report.series.len() + report.skipped.len();
    assert_eq!(accounted, 1, "the file is either loaded or skipped");
    for s in &report.skipped {
        assert!(s.path.ends_with("case.dcm"));
        assert!(!s.reason.is_empty());
    }
}

#[test]
fn truncation_at_every_region_is_handled() {
    for file in seed_files() {
        let len = file.len();
        for cut in [
            0,
            1,
            4,
            128,
            132,
            140,
            200,
            400,
            1000,
            len / 2,
            len - 100,
            len - 2,
            len - 1,
        ] {
            if cut < len {
                inspect_bytes(&file[..cut]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_skipped(bytes in proptest::collection::vec(any::<u8>(), 0..4096), with_magic in any::<bool>()) {
        let mut data = bytes;
        if with_magic && data.len() > 132 {
            data[128..132].copy_from_slice(b"DICM");
        }
        inspect_bytes(&data);
    }

    #[test]
    fn corrupted_real_files_never_panic(
        which in 0usize..16,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let files = seed_files();
        let mut data = files[which % files.len()].clone();
        for (at, value) in flips {
            let i = at.index(data.len());
            data[i] = value;
        }
        if truncate {
            let n = cut.index(data.len());
            data.truncate(n);
        }
        inspect_bytes(&data);
    }
}

#[test]
fn files_beside_the_images_that_are_not_dicom_are_marked_so_and_only_they() {
    let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans");
    let scan = nadir::dicom::scan(&folder).unwrap();
    let mut names: Vec<String> = scan
        .skipped
        .iter()
        .filter(|s| s.not_dicom)
        .filter_map(|s| s.path.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect();
    names.sort();
    assert_eq!(names, ["README.md", "lesions.csv", "truth.json"]);
    assert!(
        scan.skipped.iter().all(|s| s.not_dicom),
        "{:?}",
        scan.skipped
    );
    // a damaged DICOM file stays a failure: DICM magic, nothing after it
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = vec![0u8; 128];
    bytes.extend_from_slice(b"DICM");
    std::fs::write(dir.path().join("cut.dcm"), bytes).unwrap();
    let scan = nadir::dicom::scan(dir.path()).unwrap();
    assert_eq!(scan.skipped.len(), 1);
    assert!(!scan.skipped[0].not_dicom);
}

/// The data set of a Part 10 file without preamble and file meta group.
fn without_file_meta(part10: &[u8]) -> Vec<u8> {
    assert_eq!(&part10[128..132], b"DICM");
    let group_length = u32::from_le_bytes(part10[140..144].try_into().unwrap()) as usize;
    part10[144 + group_length..].to_vec()
}

/// Data sets without file meta, damaged: cut anywhere, or with a length
/// that reaches past the end of the file, are skipped with a reason (the
/// length is caught before dicom-rs allocates for it).
#[test]
fn damaged_data_sets_without_meta_are_skipped() {
    let raw = without_file_meta(&seed_files()[0]);
    for cut in [8, 9, 30, 200, raw.len() / 2, raw.len() - 1] {
        inspect_bytes(&raw[..cut]);
    }
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let scan = nadir::dicom::scan(&path).unwrap();
        assert!(scan.stacks.is_empty(), "{name}");
        assert_eq!(scan.skipped.len(), 1, "{name}");
        scan.skipped[0].clone()
    };
    // implicit VR: (0008,0005) declares 2 GiB
    let mut huge = vec![8, 0, 5, 0, 0, 0, 0, 0x80];
    huge.extend_from_slice(b"ISO_IR 100");
    let s = write("huge_implicit", &huge);
    assert_eq!(s.kind, nadir::dicom::SkipReason::Truncated, "{}", s.reason);
    assert!(s.reason.contains("(0008,0005)"), "{}", s.reason);
    // explicit VR: a sequence of undefined length whose item holds an OB of 4 GiB
    let mut nested = vec![8, 0, 5, 0, b'C', b'S', 2, 0, b'I', b'R'];
    nested.extend_from_slice(&[8, 0, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    nested.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
    nested.extend_from_slice(&[9, 0, 0x10, 0x10, b'O', b'B', 0, 0, 0xFF, 0xFF, 0xFF, 0xFE]);
    nested.extend_from_slice(&[0; 16]);
    let s = write("huge_nested", &nested);
    assert_eq!(s.kind, nadir::dicom::SkipReason::Truncated, "{}", s.reason);
}
