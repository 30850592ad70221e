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
use dicom_object::{DefaultDicomObject, OpenFileOptions};
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::header::{ImageHeader, PixelFormat, SkipReason, error_chain};

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

/// Opens a whole file (pixel data included) through dicom-rs.
pub fn open_object(path: &Path) -> Result<OpenedObject, SkipReason> {
    OpenFileOptions::new()
        .open_file(path)
        .map_err(|e| SkipReason(format!("cannot read pixel data: {}", error_chain(&e))))
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
) -> Result<(), SkipReason> {
    let format = header.format;
    if dest.len() != format.pixels_per_frame() {
        return Err(SkipReason(
            "internal: destination does not match the frame size".into(),
        ));
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
            &owned
        }
    };
    decode_from_object(object, header, frame, dest, scratch, normalizer)
}

/// Fast path: if the file ends with a native Pixel Data element of exactly the
/// expected size, read it straight into `dest`. Returns `Ok(false)` when the
/// layout is not the simple one (the caller falls back to dicom-rs).
fn read_native_tail(header: &ImageHeader, dest: &mut [i16]) -> Result<bool, SkipReason> {
    let format = header.format;
    let value_len = format.bytes_per_frame() as u64;
    let mut file = File::open(&header.path).map_err(|e| SkipReason(format!("cannot open: {e}")))?;
    let file_len = file
        .metadata()
        .map_err(|e| SkipReason(format!("cannot stat: {e}")))?
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
                file.read_exact(bytes)
                    .map_err(|e| SkipReason(format!("pixel data cut short: {e}")))?;
                Ok(true)
            }
            _ => {
                let mut bytes = vec![0u8; dest.len()];
                file.read_exact(&mut bytes)
                    .map_err(|e| SkipReason(format!("pixel data cut short: {e}")))?;
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
) -> Result<(), SkipReason> {
    let format = header.format;
    let element = object
        .element_opt(tags::PIXEL_DATA)
        .ok()
        .flatten()
        .ok_or_else(|| SkipReason("no Pixel Data element".into()))?;
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
        Value::PixelSequence(_) => {
            let ts = TransferSyntaxRegistry
                .get(&header.encoding.transfer_syntax_uid)
                .ok_or_else(|| SkipReason("unknown transfer syntax".into()))?;
            let reader = ts.pixel_data_reader().ok_or_else(|| {
                SkipReason(format!(
                    "no decoder for {}",
                    header.encoding.transfer_syntax_name
                ))
            })?;
            scratch.clear();
            reader.decode_frame(object, frame, scratch).map_err(|e| {
                SkipReason(format!(
                    "{} frame {} could not be decoded: {}",
                    header.encoding.transfer_syntax_name,
                    frame + 1,
                    error_chain(&e)
                ))
            })?;
            copy_samples(scratch, 0, format, false, dest, normalizer)
        }
        Value::Sequence(_) => Err(SkipReason("Pixel Data is a sequence, not pixels".into())),
    }
}

fn truncated(have: usize, need: usize) -> SkipReason {
    SkipReason(format!("pixel data cut short ({have} of {need} bytes)"))
}

/// Copies frame `frame` of native sample bytes into `dest`.
fn copy_samples(
    bytes: &[u8],
    frame: usize,
    format: PixelFormat,
    big_endian: bool,
    dest: &mut [i16],
    normalizer: Normalizer,
) -> Result<(), SkipReason> {
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
