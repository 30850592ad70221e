//! Opening a file through dicom-rs, for the header pass and for decoding:
//! Part 10 files, files whose file meta group dicom-rs rejects, and data sets
//! stored without preamble and file meta (as dcmtk reads them).
//!
//! A failure comes back as [`Unusable`]: the technical text, and the plain
//! kind decided here from typed facts (what the first bytes look like, the
//! dicom-rs error variant, an I/O error kind).

use std::io::{BufReader, Read};
use std::path::Path;

use dicom_core::VR;
use dicom_dictionary_std::{tags, uids};
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::file::ReadPreamble;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::{
    DefaultDicomObject, DicomCollectorOptions, InMemDicomObject, OpenFileOptions, ReadError,
};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::decode::contain_panics;
use super::header::error_chain;
use super::reason::{SkipReason, Unusable, ends_too_early};

/// How much of a file to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Everything before Pixel Data (the header pass).
    Header,
    /// The whole object, pixels included (decoding).
    Whole,
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// `DICM` after a 128-byte preamble: a Part 10 file.
    Part10,
    /// A file meta group (group 0x0002) with no preamble in front.
    MetaWithoutPreamble,
    /// A data set without preamble and file meta, starting with a group
    /// 0x0008 element, in the transfer syntax given by its UID.
    DataSetWithoutMeta(&'static str),
    /// None of these: not DICOM.
    Other,
}

/// Bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 132;

/// Tells a Part 10 file, a meta group without preamble and a data set
/// without file meta apart by the first [`SNIFF_BYTES`] bytes.
///
/// A data set without meta starts with a little-endian tag of group 0x0008
/// (Identifying, which every composite object has first). Its transfer
/// syntax is explicit VR little endian when bytes 4..6 are a valid VR, else
/// implicit VR little endian (there bytes 4..8 are a 32-bit length, whose
/// low bytes are no pair of capital letters for any plausible first
/// element). Big-endian and deflated data sets without meta are not read.
pub fn sniff(head: &[u8]) -> Sniff {
    if head.get(128..132) == Some(b"DICM".as_slice()) {
        return Sniff::Part10;
    }
    let (Some(&[g0, g1]), Some(&[v0, v1])) = (head.get(0..2), head.get(4..6)) else {
        return Sniff::Other;
    };
    if head.len() < 8 {
        return Sniff::Other;
    }
    match u16::from_le_bytes([g0, g1]) {
        0x0002 => Sniff::MetaWithoutPreamble,
        0x0008 if VR::from_binary([v0, v1]).is_some() => {
            Sniff::DataSetWithoutMeta(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        }
        0x0008 => Sniff::DataSetWithoutMeta(uids::IMPLICIT_VR_LITTLE_ENDIAN),
        _ => Sniff::Other,
    }
}

/// Reads the first [`SNIFF_BYTES`] bytes of `path` (fewer for a short file).
pub fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(head)
}

/// Why [`open`] gave no object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenFailure {
    /// dicom-rs refused the file; the detail is its error text, to which the
    /// caller adds its own prefix.
    Refused(Unusable),
    /// dicom-rs panicked on damaged data (contained); the panic message.
    Crashed(String),
}

/// Opens `path` up to `extent`: as a Part 10 file; failing that, with a
/// leniently read meta group ([`open_with_lenient_meta`]) or as a data set
/// without file meta ([`open_without_meta`]), as its first bytes suggest.
pub fn open(path: &Path, extent: Extent) -> Result<DefaultDicomObject, OpenFailure> {
    let options = match extent {
        Extent::Header => OpenFileOptions::new().read_until(tags::PIXEL_DATA),
        Extent::Whole => OpenFileOptions::new(),
    };
    let error = match contain_panics(|| options.open_file(path)) {
        Ok(Ok(obj)) => return Ok(obj),
        Ok(Err(e)) => e,
        Err(crash) => return Err(OpenFailure::Crashed(crash)),
    };
    let refused = |reason| {
        Err(OpenFailure::Refused(Unusable::new(
            reason,
            error_chain(&error),
        )))
    };
    let Ok(head) = read_head(path) else {
        return refused(SkipReason::Unreadable);
    };
    match sniff(&head) {
        Sniff::Other => refused(SkipReason::NotDicom),
        Sniff::DataSetWithoutMeta(ts_uid) => open_without_meta(path, ts_uid, extent),
        Sniff::Part10 if is_meta_group_error(&error) => {
            open_with_lenient_meta(path).map_err(|_| OpenFailure::Refused(classify(&error)))
        }
        Sniff::Part10 | Sniff::MetaWithoutPreamble => Err(OpenFailure::Refused(classify(&error))),
    }
}

/// The kind of a dicom-rs read failure of a file that looks like DICOM.
fn classify(error: &ReadError) -> Unusable {
    let reason = match error {
        _ if ends_too_early(error) => SkipReason::Truncated,
        ReadError::OpenFile { .. } => SkipReason::Unreadable,
        _ => SkipReason::DamagedHeader,
    };
    Unusable::new(reason, error_chain(error))
}

/// Whether dicom-rs failed on the file meta group itself (not on the magic
/// code before it).
fn is_meta_group_error(e: &ReadError) -> bool {
    use dicom_object::meta::Error as MetaError;
    matches!(
        e,
        ReadError::ParseMetaDataSet { source, .. }
            if !matches!(source, MetaError::NotDicom { .. } | MetaError::ReadMagicCode { .. })
    )
}

/// Opens a data set stored without preamble and file meta, in the transfer
/// syntax `ts_uid` (from [`sniff`]). The file meta table is made up from the
/// data set: its SOP Class and SOP Instance UIDs, (0008,0016) and (0008,0018).
pub fn open_without_meta(
    path: &Path,
    ts_uid: &'static str,
    extent: Extent,
) -> Result<DefaultDicomObject, OpenFailure> {
    let explicit_vr = ts_uid == uids::EXPLICIT_VR_LITTLE_ENDIAN;
    check_lengths(path, explicit_vr).map_err(OpenFailure::Refused)?;
    let read = || -> Result<InMemDicomObject, Unusable> {
        let mut collector = DicomCollectorOptions::new()
            .read_preamble(ReadPreamble::Never)
            .expected_ts(ts_uid)
            .open_file(path)
            .map_err(|e| Unusable::new(SkipReason::Unreadable, error_chain(&e)))?;
        let mut dataset = InMemDicomObject::new_empty();
        match extent {
            Extent::Header => collector.read_dataset_up_to_pixeldata(&mut dataset),
            Extent::Whole => collector.read_dataset_to_end(&mut dataset),
        }
        .map_err(|e| {
            let why = format!("data set without file meta: {}", error_chain(&e));
            if ends_too_early(&e) {
                Unusable::new(SkipReason::Truncated, why)
            } else {
                Unusable::new(SkipReason::DamagedHeader, why)
            }
        })?;
        Ok(dataset)
    };
    let dataset = contain_panics(read)
        .map_err(OpenFailure::Crashed)?
        .map_err(OpenFailure::Refused)?;
    dataset
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(ts_uid))
        .map_err(|e| {
            OpenFailure::Refused(Unusable::new(
                SkipReason::DamagedHeader,
                format!("data set without file meta: {}", error_chain(&e)),
            ))
        })
}

/// Value representations whose explicit-VR header has a 4-byte length.
fn long_length_form(vr: [u8; 2]) -> bool {
    matches!(
        &vr,
        b"OB"
            | b"OW"
            | b"OF"
            | b"SQ"
            | b"UT"
            | b"UN"
            | b"UC"
            | b"UR"
            | b"OD"
            | b"OL"
            | b"OV"
            | b"SV"
            | b"UV"
    )
}

/// Walks the element headers of a little-endian data set without file meta
/// and checks that no defined length reaches past the end of the file.
///
/// dicom-rs allocates (and zero-fills) a value's declared length before
/// reading it, so a damaged length in a file that has no meta group to
/// vouch for it could cost gigabytes; this walk reads only headers. It
/// descends into sequences and items (a defined-length value that starts
/// with an item tag is a sequence in implicit VR, where the VR is not
/// written). What the walk cannot follow is left to dicom-rs.
fn check_lengths(path: &Path, explicit_vr: bool) -> Result<(), Unusable> {
    use std::io::{Seek, SeekFrom};
    let unreadable = |e: std::io::Error| Unusable::new(SkipReason::Unreadable, e.to_string());
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    let mut reader = BufReader::new(file);
    let mut at = 0u64;
    const ITEM: [u8; 4] = [0xFE, 0xFF, 0x00, 0xE0];
    loop {
        let mut head = [0u8; 8];
        if at + 8 > size || reader.read_exact(&mut head).is_err() {
            return Ok(()); // the end, or a cut dicom-rs reports
        }
        at += 8;
        let group = u16::from_le_bytes([head[0], head[1]]);
        let element = u16::from_le_bytes([head[2], head[3]]);
        let vr = [head[4], head[5]];
        let len = if group == 0xFFFE {
            // items and delimiters always have a 4-byte length, no VR
            u32::from_le_bytes([head[4], head[5], head[6], head[7]])
        } else if !explicit_vr {
            u32::from_le_bytes([head[4], head[5], head[6], head[7]])
        } else if long_length_form(vr) {
            let mut long = [0u8; 4];
            if reader.read_exact(&mut long).is_err() {
                return Ok(());
            }
            at += 4;
            u32::from_le_bytes(long)
        } else {
            u32::from(u16::from_le_bytes([head[6], head[7]]))
        };
        if len == u32::MAX || (group == 0xFFFE && element == 0xE000) {
            continue; // undefined length, or an item: walk its content
        }
        let len = u64::from(len);
        if len > size - at {
            return Err(Unusable::new(
                SkipReason::Truncated,
                format!(
                    "data set without file meta: element ({group:04X},{element:04X}) declares \
                     {len} bytes at byte {at} of a {size}-byte file"
                ),
            ));
        }
        let mut peek = [0u8; 4];
        if len >= 8 && reader.read_exact(&mut peek).is_ok() {
            if peek == ITEM {
                // a sequence: step back onto its first item and walk it
                reader.seek_relative(-4).map_err(unreadable)?;
                continue;
            }
            reader.seek_relative(len as i64 - 4).map_err(unreadable)?;
        } else {
            reader.seek(SeekFrom::Start(at + len)).map_err(unreadable)?;
        }
        at += len;
    }
}

/// Opens a file whose file meta group dicom-rs rejects (a value longer than
/// the standard allows, as some vendors write): the group is walked by hand
/// for the three UIDs that matter, and the data set after it is read normally.
///
/// Only explicit VR little endian meta groups (the only kind the standard
/// allows) and non-deflated data sets are handled; anything else keeps the
/// original error.
pub fn open_with_lenient_meta(path: &Path) -> Result<DefaultDicomObject, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    if bytes.get(128..132) != Some(b"DICM".as_slice()) {
        return Err("no DICM magic".into());
    }
    let mut at = 132usize;
    let (mut ts_uid, mut sop_class, mut sop_instance) =
        (String::new(), String::new(), String::new());
    while let Some(head) = bytes.get(at..at + 8) {
        let group = u16::from_le_bytes([head[0], head[1]]);
        if group != 0x0002 {
            break;
        }
        let element = u16::from_le_bytes([head[2], head[3]]);
        let vr = [head[4], head[5]];
        let (len, value_at) = if long_length_form(vr) {
            let l = bytes.get(at + 8..at + 12).ok_or("meta group cut short")?;
            (
                u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize,
                at + 12,
            )
        } else {
            (usize::from(u16::from_le_bytes([head[6], head[7]])), at + 8)
        };
        let value = bytes
            .get(value_at..value_at + len)
            .ok_or("meta group cut short")?;
        let text = String::from_utf8_lossy(value)
            .trim_matches(|c: char| c.is_whitespace() || c == '\0')
            .to_string();
        match element {
            0x0002 => sop_class = text,
            0x0003 => sop_instance = text,
            0x0010 => ts_uid = text,
            _ => {}
        }
        at = value_at + len;
    }
    let ts = TransferSyntaxRegistry
        .get(&ts_uid)
        .ok_or_else(|| format!("unknown transfer syntax {ts_uid:?}"))?;
    if !matches!(
        ts.codec(),
        dicom_encoding::transfer_syntax::Codec::None
            | dicom_encoding::transfer_syntax::Codec::EncapsulatedPixelData(..)
    ) {
        return Err("deflated data set with a damaged meta group".into());
    }
    let data = bytes.get(at..).ok_or("no data set")?;
    let dataset = contain_panics(|| InMemDicomObject::read_dataset_with_ts(data, ts))
        .map_err(|crash| format!("damaged data set ({crash})"))?
        .map_err(|e| error_chain(&e))?;
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(ts_uid)
        .media_storage_sop_class_uid(sop_class)
        .media_storage_sop_instance_uid(sop_instance)
        .build()
        .map_err(|e| error_chain(&e))?;
    Ok(dataset.with_exact_meta(meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bytes_tell_the_kind_of_file() {
        let mut part10 = vec![0u8; 128];
        part10.extend_from_slice(b"DICM");
        assert_eq!(sniff(&part10), Sniff::Part10);
        // (0008,0005) CS, explicit VR LE
        assert_eq!(
            sniff(&[8, 0, 5, 0, b'C', b'S', 10, 0, b'I', b'S']),
            Sniff::DataSetWithoutMeta(uids::EXPLICIT_VR_LITTLE_ENDIAN)
        );
        // (0008,0005), implicit VR LE: a 32-bit length follows the tag
        assert_eq!(
            sniff(&[8, 0, 5, 0, 10, 0, 0, 0, b'I', b'S']),
            Sniff::DataSetWithoutMeta(uids::IMPLICIT_VR_LITTLE_ENDIAN)
        );
        assert_eq!(
            sniff(&[2, 0, 0, 0, b'U', b'L', 4, 0]),
            Sniff::MetaWithoutPreamble
        );
        assert_eq!(sniff(b"patient_id,visit\n"), Sniff::Other);
        assert_eq!(sniff(&[8, 0, 5]), Sniff::Other);
        assert_eq!(sniff(b""), Sniff::Other);
    }
}
