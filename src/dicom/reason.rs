//! Why a file is not used: a typed kind in plain language for the reader
//! ([`SkipReason`]) beside the technical text that `inspect` reports
//! ([`Unusable`]).
//!
//! The kind is chosen where the skip is made, from typed facts (an I/O error
//! kind, a SOP Class UID, a transfer syntax UID), never by reading error text.

use std::fmt;

/// What keeps a file out, as a reader would say it. [`Display`](fmt::Display)
/// gives a few plain words ("truncated", "not an image: RT plan"); the
/// technical detail stays in [`Unusable::detail`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// Not DICOM at all: no `DICM` magic and no data-set start (a CSV, a
    /// README, a zip beside the images).
    NotDicom,
    /// The file cannot be opened or read (permissions, I/O error).
    Unreadable,
    /// DICOM, but its header (file meta or data set before the pixels) is damaged.
    DamagedHeader,
    /// The file ends before the data it declares.
    Truncated,
    /// A DICOM object that is no image: a plan, a report, a presentation
    /// state…, named by [`non_image_sop_class`] when its SOP class is known.
    NotAnImage(Option<&'static str>),
    /// An image object without pixels (no Rows/Columns or no Pixel Data).
    NoPixelData,
    /// The pixels are compressed with a scheme Nadir has no decoder for.
    UnsupportedCompression(String),
    /// A colour image (Nadir reads greyscale CT/MR).
    Colour,
    /// A pixel layout Nadir does not read (bit depth, photometric interpretation).
    UnsupportedPixels,
    /// More voxels than Nadir loads at once.
    TooLarge,
    /// The pixel data is there but cannot be decoded.
    DamagedPixels,
    /// Loading stopped before this file was reached.
    Cancelled,
    /// A failure of Nadir itself, not of the file.
    Internal,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotDicom => f.write_str("not DICOM"),
            SkipReason::Unreadable => f.write_str("cannot be read"),
            SkipReason::DamagedHeader => f.write_str("damaged header"),
            SkipReason::Truncated => f.write_str("truncated"),
            SkipReason::NotAnImage(None) => f.write_str("not an image"),
            SkipReason::NotAnImage(Some(what)) => write!(f, "not an image: {what}"),
            SkipReason::NoPixelData => f.write_str("no pixel data"),
            SkipReason::UnsupportedCompression(name) => {
                write!(f, "compression not supported: {name}")
            }
            SkipReason::Colour => f.write_str("colour image"),
            SkipReason::UnsupportedPixels => f.write_str("unsupported pixel format"),
            SkipReason::TooLarge => f.write_str("too large to load"),
            SkipReason::DamagedPixels => f.write_str("damaged pixel data"),
            SkipReason::Cancelled => f.write_str("not loaded (cancelled)"),
            SkipReason::Internal => f.write_str("internal error"),
        }
    }
}

/// Why a file is not used: the plain [`SkipReason`] and the technical text
/// (the `reason` of `nadir inspect`). Displays as the technical text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Unusable {
    /// The kind, in plain language.
    pub reason: SkipReason,
    /// The technical detail.
    pub detail: String,
}

impl Unusable {
    /// A reason of kind `reason` with technical text `detail`.
    pub fn new(reason: SkipReason, detail: impl Into<String>) -> Unusable {
        Unusable {
            reason,
            detail: detail.into(),
        }
    }

    /// The same kind with the technical text rewritten (a prefix added, say).
    pub fn map_detail(self, f: impl FnOnce(String) -> String) -> Unusable {
        Unusable {
            reason: self.reason,
            detail: f(self.detail),
        }
    }
}

/// Common SOP classes that hold no image, by SOP Class UID (exact) or UID
/// prefix (a family ending in `.`), with a plain name. Exact entries come
/// before the family they belong to.
const NON_IMAGE_SOP_CLASSES: &[(&str, &str)] = &[
    ("1.2.840.10008.1.3.10", "directory index (DICOMDIR)"),
    ("1.2.840.10008.5.1.4.1.1.481.3", "RT structure set"),
    ("1.2.840.10008.5.1.4.1.1.481.5", "RT plan"),
    ("1.2.840.10008.5.1.4.1.1.481.8", "RT plan"),
    ("1.2.840.10008.5.1.4.1.1.481.4", "RT treatment record"),
    ("1.2.840.10008.5.1.4.1.1.481.6", "RT treatment record"),
    ("1.2.840.10008.5.1.4.1.1.481.7", "RT treatment record"),
    ("1.2.840.10008.5.1.4.1.1.88.59", "key object selection"),
    ("1.2.840.10008.5.1.4.1.1.88.", "structured report"),
    ("1.2.840.10008.5.1.4.1.1.11.", "presentation state"),
    ("1.2.840.10008.5.1.4.1.1.104.1", "PDF document"),
    ("1.2.840.10008.5.1.4.1.1.104.", "encapsulated document"),
    ("1.2.840.10008.5.1.4.1.1.66.1", "registration"),
    ("1.2.840.10008.5.1.4.1.1.66.3", "registration"),
    ("1.2.840.10008.5.1.4.1.1.66.2", "fiducials"),
    ("1.2.840.10008.5.1.4.1.1.66.5", "surface segmentation"),
    ("1.2.840.10008.5.1.4.1.1.66", "raw data"),
    ("1.2.840.10008.5.1.4.1.1.9.", "waveform"),
];

/// The plain name of a SOP class that holds no image (RT plan, structured
/// report, presentation state, …), or `None` for an image class or one not
/// in the table.
pub fn non_image_sop_class(sop_class_uid: &str) -> Option<&'static str> {
    let uid = sop_class_uid.trim_end_matches(['\0', ' ']);
    NON_IMAGE_SOP_CLASSES
        .iter()
        .find(|(key, _)| {
            if key.ends_with('.') {
                uid.starts_with(key)
            } else {
                uid == *key
            }
        })
        .map(|(_, name)| *name)
}

/// The plain name of the compression behind a transfer syntax UID ("JPEG
/// 2000", "JPEG-LS", …), or `None` for one not in the table.
pub fn compression_name(transfer_syntax_uid: &str) -> Option<&'static str> {
    let uid = transfer_syntax_uid.trim_end_matches(['\0', ' ']);
    let jpeg_process = uid
        .strip_prefix("1.2.840.10008.1.2.4.")
        .and_then(|n| n.parse::<u16>().ok());
    Some(match (uid, jpeg_process) {
        ("1.2.840.10008.1.2.5", _) => "RLE",
        ("1.2.840.10008.1.2.1.99", _) => "deflate",
        (_, Some(57 | 70)) => "lossless JPEG",
        (_, Some(50..=79)) => "JPEG",
        (_, Some(80 | 81)) => "JPEG-LS",
        (_, Some(90..=93)) => "JPEG 2000",
        (_, Some(94 | 95)) => "JPIP",
        (_, Some(100..=108)) => "video (MPEG/HEVC)",
        (_, Some(110..=112)) => "JPEG XL",
        (_, Some(201..=203)) => "High-Throughput JPEG 2000",
        _ => return None,
    })
}

/// Whether `e` or one of its sources is an I/O error for data that ended
/// too early: the typed sign of a truncated file.
pub fn ends_too_early(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(error) = next {
        if error
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof)
        {
            return true;
        }
        next = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_for_the_reader() {
        assert_eq!(SkipReason::Truncated.to_string(), "truncated");
        assert_eq!(
            SkipReason::NotAnImage(non_image_sop_class("1.2.840.10008.5.1.4.1.1.481.5"))
                .to_string(),
            "not an image: RT plan"
        );
        assert_eq!(SkipReason::NotAnImage(None).to_string(), "not an image");
        assert_eq!(
            SkipReason::UnsupportedCompression("JPEG 2000".into()).to_string(),
            "compression not supported: JPEG 2000"
        );
    }

    #[test]
    fn sop_class_table_names_families_and_exact_classes() {
        assert_eq!(
            non_image_sop_class("1.2.840.10008.5.1.4.1.1.88.22\0"),
            Some("structured report")
        );
        assert_eq!(
            non_image_sop_class("1.2.840.10008.5.1.4.1.1.88.59"),
            Some("key object selection")
        );
        assert_eq!(
            non_image_sop_class("1.2.840.10008.5.1.4.1.1.11.1"),
            Some("presentation state")
        );
        assert_eq!(
            non_image_sop_class("1.2.840.10008.5.1.4.1.1.66"),
            Some("raw data")
        );
        // CT Image Storage, and a class that merely starts like an entry
        assert_eq!(non_image_sop_class("1.2.840.10008.5.1.4.1.1.2"), None);
        assert_eq!(non_image_sop_class("1.2.840.10008.5.1.4.1.1.481.50"), None);
    }

    #[test]
    fn compression_names_by_transfer_syntax() {
        assert_eq!(
            compression_name("1.2.840.10008.1.2.4.91"),
            Some("JPEG 2000")
        );
        assert_eq!(compression_name("1.2.840.10008.1.2.4.80"), Some("JPEG-LS"));
        assert_eq!(
            compression_name("1.2.840.10008.1.2.4.70"),
            Some("lossless JPEG")
        );
        assert_eq!(compression_name("1.2.840.10008.1.2.4.51"), Some("JPEG"));
        assert_eq!(
            compression_name("1.2.840.10008.1.2.4.202"),
            Some("High-Throughput JPEG 2000")
        );
        assert_eq!(compression_name("1.2.840.10008.1.2.1"), None);
    }

    #[test]
    fn truncation_is_found_through_error_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let cut = Outer(std::io::ErrorKind::UnexpectedEof.into());
        assert!(ends_too_early(&cut));
        let denied = Outer(std::io::ErrorKind::PermissionDenied.into());
        assert!(!ends_too_early(&denied));
    }
}
