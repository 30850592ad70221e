//! Pass 2 of loading: decode one frame's pixels into its place in the volume
//! buffer, as stored values (masked to BitsStored, sign-extended, shifted by
//! the volume's stored offset).
//!
//! Native little-endian files take a fast path: the Pixel Data element is
//! located at the end of the file and read straight into the destination.
//! Everything else (encapsulated codecs, big endian, deflated, odd layouts)
//! goes through dicom-rs.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use dicom_core::value::{PrimitiveValue, Value};
use dicom_dictionary_std::tags;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::DefaultDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::header::{ImageHeader, PixelFormat, error_chain, unsupported_compression};
use super::jpeg12;
use super::open::{Extent, OpenFailure, open};
use super::reason::{SkipReason, Unusable};

/// Turns raw samples into stored values that fit an `i16`.
#[derive(Debug, Clone, Copy)]
pub struct Normalizer {
    mask: u16,
    bits_stored: u16,
    signed: bool,
    flip_sign_bit: bool,
}

impl Normalizer {
    /// The normaliser for a pixel format.
    pub fn new(format: &PixelFormat) -> Self {
        let bits_stored = format.bits_stored.clamp(1, 16);
        Normalizer {
            mask: if bits_stored >= 16 {
                u16::MAX
            } else {
                (1u16 << bits_stored) - 1
            },
            bits_stored,
            signed: format.signed,
            flip_sign_bit: format.stored_offset() != 0,
        }
    }

    /// One raw sample (as read, unused high bits possibly set) to `stored − offset`.
    #[inline]
    pub fn apply(self, raw: u16) -> i16 {
        let v = raw & self.mask;
        if self.signed {
            let shift = 16 - self.bits_stored;
            ((v << shift) as i16) >> shift
        } else if self.flip_sign_bit {
            (v ^ 0x8000) as i16
        } else {
            v as i16
        }
    }
}

/// A whole file opened through dicom-rs, for frames that cannot be read directly.
pub type OpenedObject = DefaultDicomObject;

/// Opens a whole file (pixel data included) through dicom-rs. The header
/// was read before, so a damage found now is damage to the pixel data.
pub fn open_object(path: &Path) -> Result<OpenedObject, Unusable> {
    open(path, Extent::Whole).map_err(|failure| match failure {
        OpenFailure::Refused(why) => Unusable {
            reason: match why.reason {
                SkipReason::DamagedHeader => SkipReason::DamagedPixels,
                other => other,
            },
            detail: format!("cannot read pixel data: {}", why.detail),
        },
        OpenFailure::Crashed(crash) => Unusable::new(
            SkipReason::DamagedPixels,
            format!("cannot read pixel data: damaged file ({crash})"),
        ),
    })
}

/// Decodes frame `frame` of `header`'s file into `dest` (one slice).
///
/// `object` is the already opened file for multi-frame objects (so that it is
/// parsed once); `scratch` is a reusable buffer.
pub fn decode_frame(
    header: &ImageHeader,
    frame: u32,
    object: Option<&OpenedObject>,
    dest: &mut [i16],
    scratch: &mut Vec<u8>,
) -> Result<(), Unusable> {
    let format = header.format;
    if dest.len() != format.pixels_per_frame() {
        return Err(internal("destination does not match the frame size"));
    }
    let normalizer = Normalizer::new(&format);
    if object.is_none()
        && header.encoding.native_little_endian
        && header.frames.len() == 1
        && read_native_tail(header, dest)?
    {
        for v in dest.iter_mut() {
            *v = normalizer.apply(u16::from_le(*v as u16));
        }
        return Ok(());
    }
    let owned;
    let object = match object {
        Some(o) => o,
        None => {
            owned = open_object(&header.path)?;
            check_encapsulated_end(&owned, header)?;
            &owned
        }
    };
    decode_from_object(object, header, frame, dest, scratch, normalizer)
}

/// A file cut off inside encapsulated Pixel Data can still hold every
/// fragment; what is lost is the sequence delimiter (and anything after it).
/// Such a file is damaged, so it is skipped rather than half-trusted.
pub fn check_encapsulated_end(object: &OpenedObject, header: &ImageHeader) -> Result<(), Unusable> {
    let encapsulated = object
        .get(tags::PIXEL_DATA)
        .is_some_and(|e| matches!(e.value(), Value::PixelSequence(_)));
    if encapsulated && !tail_has_sequence_delimiter(&header.path) {
        return Err(Unusable::new(
            SkipReason::Truncated,
            "file is cut short: the encapsulated Pixel Data has no sequence delimiter",
        ));
    }
    Ok(())
}

/// Looks for the (FFFE,E0DD) sequence delimitation item in the last 64 KiB.
fn tail_has_sequence_delimiter(path: &Path) -> bool {
    const TAIL: u64 = 64 * 1024;
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(TAIL);
    let mut tail = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut tail).is_err() {
        return false;
    }
    const DELIMITER_LE: [u8; 8] = [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0];
    const DELIMITER_BE: [u8; 8] = [0xFF, 0xFE, 0xE0, 0xDD, 0, 0, 0, 0];
    tail.windows(8)
        .any(|w| w == DELIMITER_LE || w == DELIMITER_BE)
}

/// Fast path: if the file ends with a native Pixel Data element of exactly the
/// expected size, read it straight into `dest`. Returns `Ok(false)` when the
/// layout is not the simple one (the caller falls back to dicom-rs).
fn read_native_tail(header: &ImageHeader, dest: &mut [i16]) -> Result<bool, Unusable> {
    let format = header.format;
    let value_len = format.bytes_per_frame() as u64;
    let mut file = File::open(&header.path)
        .map_err(|e| Unusable::new(SkipReason::Unreadable, format!("cannot open: {e}")))?;
    let file_len = file
        .metadata()
        .map_err(|e| Unusable::new(SkipReason::Unreadable, format!("cannot stat: {e}")))?
        .len();
    let header_len: u64 = if header.encoding.explicit_vr { 12 } else { 8 };
    for padded_len in [value_len, value_len + 1] {
        let Some(start) = file_len.checked_sub(padded_len + header_len) else {
            continue;
        };
        let mut element = [0u8; 12];
        let element = &mut element[..header_len as usize];
        if file.seek(SeekFrom::Start(start)).is_err() || file.read_exact(element).is_err() {
            return Ok(false);
        }
        if element.get(..4) != Some(&[0xE0, 0x7F, 0x10, 0x00]) {
            continue;
        }
        let declared = if header.encoding.explicit_vr {
            if !matches!(element.get(4..8), Some(b"OW\0\0") | Some(b"OB\0\0")) {
                continue;
            }
            element.get(8..12)
        } else {
            element.get(4..8)
        }
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes);
        if declared != Some(padded_len as u32) {
            continue;
        }
        return match format.bits_allocated {
            16 => {
                let bytes: &mut [u8] = bytemuck::cast_slice_mut(dest);
                file.read_exact(bytes).map_err(|e| {
                    Unusable::new(SkipReason::Truncated, format!("pixel data cut short: {e}"))
                })?;
                Ok(true)
            }
            _ => {
                let mut bytes = vec![0u8; dest.len()];
                file.read_exact(&mut bytes).map_err(|e| {
                    Unusable::new(SkipReason::Truncated, format!("pixel data cut short: {e}"))
                })?;
                for (d, b) in dest.iter_mut().zip(bytes) {
                    *d = i16::from(b).to_le();
                }
                Ok(true)
            }
        };
    }
    Ok(false)
}

fn decode_from_object(
    object: &OpenedObject,
    header: &ImageHeader,
    frame: u32,
    dest: &mut [i16],
    scratch: &mut Vec<u8>,
    normalizer: Normalizer,
) -> Result<(), Unusable> {
    let format = header.format;
    let element = object
        .get(tags::PIXEL_DATA)
        .ok_or_else(|| Unusable::new(SkipReason::NoPixelData, "no Pixel Data element"))?;
    let frame_pixels = format.pixels_per_frame();
    let start = frame as usize * frame_pixels;
    match element.value() {
        Value::Primitive(PrimitiveValue::U16(words)) => {
            let words = words
                .get(start..start + frame_pixels)
                .ok_or_else(|| truncated(words.len() * 2, (start + frame_pixels) * 2))?;
            for (d, &w) in dest.iter_mut().zip(words) {
                *d = normalizer.apply(w);
            }
            Ok(())
        }
        Value::Primitive(PrimitiveValue::I16(words)) => {
            let words = words
                .get(start..start + frame_pixels)
                .ok_or_else(|| truncated(words.len() * 2, (start + frame_pixels) * 2))?;
            for (d, &w) in dest.iter_mut().zip(words) {
                *d = normalizer.apply(w as u16);
            }
            Ok(())
        }
        Value::Primitive(p) => {
            let bytes = p.to_bytes();
            let big_endian = TransferSyntaxRegistry
                .get(&header.encoding.transfer_syntax_uid)
                .is_some_and(|ts| matches!(ts.endianness(), dicom_encoding::Endianness::Big));
            copy_samples(&bytes, frame as usize, format, big_endian, dest, normalizer)
        }
        Value::PixelSequence(sequence)
            if header.encoding.transfer_syntax_uid == RLE_LOSSLESS
                && sequence.fragments().len() == header.frames.len() =>
        {
            // The standard puts each RLE frame in exactly one fragment.
            let fragment = sequence.fragments().get(frame as usize).ok_or_else(|| {
                Unusable::new(
                    SkipReason::DamagedPixels,
                    format!("RLE frame {} is missing", frame + 1),
                )
            })?;
            decode_rle_frame(fragment, format, dest, scratch, normalizer).map_err(|why| {
                damaged_pixels(format!(
                    "RLE Lossless frame {} could not be decoded: {why}",
                    frame + 1
                ))
            })
        }
        Value::PixelSequence(sequence)
            if JPEG_DCT.contains(&header.encoding.transfer_syntax_uid.as_str()) =>
        {
            let codestream = frame_codestream(
                sequence.fragments(),
                sequence.offset_table(),
                frame as usize,
                header.frames.len(),
            );
            match codestream {
                Some(codestream) if jpeg12::sample_precision(&codestream) == Some(12) => {
                    decode_jpeg12(&codestream, format, dest, normalizer).map_err(|why| {
                        damaged_pixels(format!(
                            "{} frame {} could not be decoded: {why}",
                            header.encoding.transfer_syntax_name,
                            frame + 1
                        ))
                    })
                }
                _ => decode_with_registry(object, header, frame, dest, scratch, normalizer),
            }
        }
        Value::PixelSequence(_) => {
            decode_with_registry(object, header, frame, dest, scratch, normalizer)
        }
        Value::Sequence(_) => Err(damaged_pixels("Pixel Data is a sequence, not pixels")),
    }
}

/// JPEG baseline (process 1) and extended (processes 2 & 4): 12-bit frames
/// of these go to [`jpeg12`], 8-bit ones to dicom-rs.
const JPEG_DCT: [&str; 2] = ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"];

/// The codestream of frame `frame`: one fragment per frame, all fragments of
/// a single frame, or the fragments between two Basic Offset Table entries.
fn frame_codestream<'a>(
    fragments: &'a [Vec<u8>],
    offset_table: &[u32],
    frame: usize,
    frames: usize,
) -> Option<std::borrow::Cow<'a, [u8]>> {
    use std::borrow::Cow;
    if fragments.len() == frames {
        return fragments.get(frame).map(|f| Cow::Borrowed(f.as_slice()));
    }
    if frames == 1 {
        return Some(Cow::Owned(fragments.concat()));
    }
    // Offsets are from the first fragment's item tag; each item adds 8 bytes.
    let start = usize::try_from(*offset_table.get(frame)?).ok()?;
    let end = offset_table
        .get(frame + 1)
        .and_then(|&o| usize::try_from(o).ok())
        .unwrap_or(usize::MAX);
    let mut at = 0usize;
    let mut out = Vec::new();
    for fragment in fragments {
        if at >= start && at < end {
            out.extend_from_slice(fragment);
        }
        at += 8 + fragment.len();
    }
    (!out.is_empty()).then_some(Cow::Owned(out))
}

/// Decodes a 12-bit lossy JPEG frame into `dest`.
fn decode_jpeg12(
    codestream: &[u8],
    format: PixelFormat,
    dest: &mut [i16],
    normalizer: Normalizer,
) -> Result<(), String> {
    let decoded = jpeg12::decode(codestream)?;
    if decoded.width != usize::from(format.columns) || decoded.height != usize::from(format.rows) {
        return Err(format!(
            "the JPEG frame is {} × {}, the header says {} × {}",
            decoded.width, decoded.height, format.columns, format.rows
        ));
    }
    if decoded.samples.len() != dest.len() {
        return Err("the JPEG frame has the wrong number of samples".into());
    }
    for (d, &v) in dest.iter_mut().zip(&decoded.samples) {
        *d = normalizer.apply(v as u16);
    }
    Ok(())
}

/// Any other encapsulated frame: dicom-rs's decoder for the transfer syntax,
/// run inside [`contain_panics`].
fn decode_with_registry(
    object: &OpenedObject,
    header: &ImageHeader,
    frame: u32,
    dest: &mut [i16],
    scratch: &mut Vec<u8>,
    normalizer: Normalizer,
) -> Result<(), Unusable> {
    let format = header.format;
    let ts_uid = &header.encoding.transfer_syntax_uid;
    let ts = TransferSyntaxRegistry.get(ts_uid).ok_or_else(|| {
        Unusable::new(
            unsupported_compression(ts_uid, "unknown transfer syntax"),
            "unknown transfer syntax",
        )
    })?;
    let reader = ts.pixel_data_reader().ok_or_else(|| {
        Unusable::new(
            unsupported_compression(ts_uid, &header.encoding.transfer_syntax_name),
            format!("no decoder for {}", header.encoding.transfer_syntax_name),
        )
    })?;
    scratch.clear();
    let decoded = contain_panics(|| reader.decode_frame(object, frame, scratch));
    let failure = match decoded {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(error_chain(&e)),
        Err(crash) => Some(format!("the decoder failed on damaged data ({crash})")),
    };
    if let Some(why) = failure {
        return Err(damaged_pixels(format!(
            "{} frame {} could not be decoded: {why}",
            header.encoding.transfer_syntax_name,
            frame + 1,
        )));
    }
    copy_samples(scratch, 0, format, false, dest, normalizer)
}

thread_local! {
    /// Set while this thread runs a third-party decoder inside [`contain_panics`].
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, turning a panic into an error message.
///
/// Some codecs index into damaged data without checking it (a truncated RLE
/// fragment, for one). A bad file must become a skipped entry, never a crash,
/// so decoder calls run here; the panic message is kept for the skip reason
/// and not printed, while panics anywhere else are reported as usual.
pub fn contain_panics<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_DECODER.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    IN_DECODER.with(|flag| flag.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_DECODER.with(|flag| flag.set(false));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string())
    })
}

/// RLE Lossless transfer syntax UID.
const RLE_LOSSLESS: &str = "1.2.840.10008.1.2.5";

/// Decodes one DICOM RLE frame (PS3.5 Annex G): a 64-byte header of segment
/// offsets, then one PackBits segment per byte plane, most significant first.
///
/// Nadir decodes RLE itself because the generic decoder unpacks byte by byte
/// through `Read` calls, which made RLE the slowest syntax to load.
fn decode_rle_frame(
    fragment: &[u8],
    format: PixelFormat,
    dest: &mut [i16],
    scratch: &mut Vec<u8>,
    normalizer: Normalizer,
) -> Result<(), String> {
    let word = |at: usize| {
        fragment
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(|b| u32::from_le_bytes(b) as usize)
    };
    let segments = word(0).ok_or("RLE header cut short")?;
    let planes = usize::from(format.bits_allocated / 8);
    if segments != planes {
        return Err(format!(
            "{segments} RLE segments for {planes} byte plane(s)"
        ));
    }
    let pixels = dest.len();
    scratch.clear();
    scratch.resize(pixels * planes, 0);
    for plane in 0..planes {
        let start = word(4 + 4 * plane).ok_or("RLE header cut short")?;
        let end = if plane + 1 < segments {
            word(8 + 4 * plane).ok_or("RLE header cut short")?
        } else {
            fragment.len()
        };
        let segment = fragment
            .get(start..end.max(start))
            .ok_or("RLE segment offset beyond the fragment")?;
        let out = scratch
            .get_mut(plane * pixels..(plane + 1) * pixels)
            .ok_or("internal: RLE plane")?;
        unpack_bits(segment, out)?;
    }
    let (high, low) = scratch.split_at(if planes == 2 { pixels } else { 0 });
    if planes == 2 {
        for ((d, &h), &l) in dest.iter_mut().zip(high).zip(low) {
            *d = normalizer.apply(u16::from_be_bytes([h, l]));
        }
    } else {
        for (d, &b) in dest.iter_mut().zip(low) {
            *d = normalizer.apply(u16::from(b));
        }
    }
    Ok(())
}

/// PackBits: a header byte n ≥ 0 copies the next n + 1 bytes; −127 ≤ n ≤ −1
/// repeats the next byte 1 − n times; −128 does nothing. Fills `out` exactly.
fn unpack_bits(src: &[u8], out: &mut [u8]) -> Result<(), String> {
    let (mut i, mut o) = (0usize, 0usize);
    while o < out.len() {
        let Some(&h) = src.get(i) else {
            return Err(format!("RLE segment ends after {o} of {} bytes", out.len()));
        };
        i += 1;
        let h = h as i8;
        if h >= 0 {
            let n = (h as usize + 1).min(out.len() - o);
            let literal = src.get(i..i + n).ok_or("RLE literal run cut short")?;
            out.get_mut(o..o + n)
                .ok_or("internal: RLE output")?
                .copy_from_slice(literal);
            i += h as usize + 1;
            o += n;
        } else if h != -128 {
            let n = ((1 - isize::from(h)) as usize).min(out.len() - o);
            let &value = src.get(i).ok_or("RLE repeat run cut short")?;
            out.get_mut(o..o + n)
                .ok_or("internal: RLE output")?
                .fill(value);
            i += 1;
            o += n;
        }
    }
    Ok(())
}

fn truncated(have: usize, need: usize) -> Unusable {
    Unusable::new(
        SkipReason::Truncated,
        format!("pixel data cut short ({have} of {need} bytes)"),
    )
}

fn damaged_pixels(detail: impl Into<String>) -> Unusable {
    Unusable::new(SkipReason::DamagedPixels, detail)
}

/// A failure of Nadir itself, not of the file.
pub fn internal(what: &str) -> Unusable {
    Unusable::new(SkipReason::Internal, format!("internal: {what}"))
}

/// Copies frame `frame` of native sample bytes into `dest`.
fn copy_samples(
    bytes: &[u8],
    frame: usize,
    format: PixelFormat,
    big_endian: bool,
    dest: &mut [i16],
    normalizer: Normalizer,
) -> Result<(), Unusable> {
    let frame_bytes = format.bytes_per_frame();
    let start = frame * frame_bytes;
    let samples = bytes
        .get(start..start + frame_bytes)
        .ok_or_else(|| truncated(bytes.len(), start + frame_bytes))?;
    if format.bits_allocated == 16 {
        for (d, pair) in dest.iter_mut().zip(samples.chunks_exact(2)) {
            let raw = [pair[0], pair[1]];
            let w = if big_endian {
                u16::from_be_bytes(raw)
            } else {
                u16::from_le_bytes(raw)
            };
            *d = normalizer.apply(w);
        }
    } else {
        for (d, &b) in dest.iter_mut().zip(samples) {
            *d = normalizer.apply(u16::from(b));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(bits_stored: u16, signed: bool) -> PixelFormat {
        PixelFormat {
            rows: 1,
            columns: 1,
            bits_allocated: 16,
            bits_stored,
            signed,
        }
    }

    #[test]
    fn packbits_literal_repeat_and_noop_runs() {
        // literal of 3, repeat 0xAA four times (-3), no-op (-128), literal of 1
        let src = [2u8, 1, 2, 3, 0xFD, 0xAA, 0x80, 0, 9];
        let mut out = [0u8; 8];
        unpack_bits(&src, &mut out).unwrap();
        assert_eq!(out, [1, 2, 3, 0xAA, 0xAA, 0xAA, 0xAA, 9]);
        let mut long = [0u8; 9];
        assert!(
            unpack_bits(&src, &mut long).is_err(),
            "too short a segment is an error"
        );
    }

    #[test]
    fn rle_frame_combines_high_and_low_planes() {
        let mut fragment = vec![0u8; 64];
        fragment[0] = 2; // two segments
        fragment[4] = 64; // high plane at 64
        fragment[8] = 68; // low plane at 68
        fragment.extend_from_slice(&[0xFF, 0x01, 0x00, 0x00]); // high: repeat 0x01 twice, pad
        fragment.extend_from_slice(&[1, 0x02, 0x03]); // low: literal 02 03
        let mut dest = [0i16; 2];
        let format = PixelFormat {
            rows: 1,
            columns: 2,
            bits_allocated: 16,
            bits_stored: 16,
            signed: true,
        };
        decode_rle_frame(
            &fragment,
            format,
            &mut dest,
            &mut Vec::new(),
            Normalizer::new(&format),
        )
        .unwrap();
        assert_eq!(dest, [0x0102, 0x0103]);
    }

    #[test]
    fn unused_high_bits_are_masked() {
        let n = Normalizer::new(&format(12, false));
        assert_eq!(n.apply(0xF0F0), 0x0F0);
        assert_eq!(n.apply(0x0FFF), 4095);
    }

    #[test]
    fn signed_values_are_sign_extended_from_bits_stored() {
        let n = Normalizer::new(&format(12, true));
        assert_eq!(n.apply(0x0800), -2048);
        assert_eq!(n.apply(0xFFFF), -1);
        assert_eq!(n.apply(0xF7FF), 2047);
    }

    #[test]
    fn unsigned_16_bit_is_shifted_to_fit() {
        let n = Normalizer::new(&format(16, false));
        assert_eq!(n.apply(0), -32768);
        assert_eq!(n.apply(65535), 32767);
    }
}
