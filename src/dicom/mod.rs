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
pub mod scan;
pub mod write;

pub use load::{LoadError, LoadOptions, LoadedSeries, load_stack};
pub use scan::{ScanResult, Skipped, StackPlan, scan};
