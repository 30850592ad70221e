//! DICOM in: the only module that names dicom-rs.
//!
//! Loading is two passes: [`scan`](fn@scan) reads every file's header in parallel,
//! groups files into series and splits them into stacks sorted along the slice
//! normal; [`load`] decodes one stack into a [`crate::volume::Volume`].
//! Files that cannot be used are reported as [`Skipped`] with a reason and
//! never abort a scan.

pub mod decode;
pub mod header;
pub mod jpeg12;
pub mod load;
pub mod open;
pub mod reason;
pub mod scan;
pub mod write;

pub use load::{LoadError, LoadOptions, LoadedSeries, load_stack};
pub use reason::{SkipReason, Unusable};
pub use scan::{ScanResult, Skipped, StackPlan, scan};

/// Whether a file could be DICOM: it has the `DICM` magic after its 128-byte
/// preamble, or it starts like a file meta group or a data set without file
/// meta (see [`open::sniff`], as dcmtk reads them). A file that is
/// neither (a CSV, a README, a JSON beside the images) is not an unreadable
/// image but no image at all, and the workstation ignores it instead of
/// counting it as a failure. Reads at most 132 bytes.
pub fn could_be_dicom(path: &std::path::Path) -> bool {
    match open::read_head(path) {
        Ok(head) => open::sniff(&head) != open::Sniff::Other,
        Err(_) => true, // unreadable: let the loader's reason stand
    }
}

#[cfg(test)]
mod could_be_dicom_tests {
    use super::could_be_dicom;

    #[test]
    fn text_files_are_not_dicom_and_dicom_files_are() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
            path
        };
        assert!(!could_be_dicom(&write(
            "lesions.csv",
            b"patient_id,visit,date\nP1,baseline,2024-01-01\n"
        )));
        assert!(!could_be_dicom(&write("truth.json", b"{\"a\": 1}")));
        assert!(!could_be_dicom(&write("empty", b"")));
        let mut part10 = vec![0u8; 128];
        part10.extend_from_slice(b"DICM");
        part10.extend_from_slice(&[2, 0, 0, 0]);
        assert!(could_be_dicom(&write("a.dcm", &part10)));
        // no preamble: (0008,0005) Specific Character Set, implicit VR LE
        assert!(could_be_dicom(&write(
            "raw",
            &[8, 0, 5, 0, 10, 0, 0, 0, b'I', b'S']
        )));
    }
}
