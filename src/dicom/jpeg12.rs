//! 12-bit lossy JPEG (ISO 10918 DCT process 4, DICOM "JPEG Extended",
//! 1.2.840.10008.1.2.4.51) through libjpeg-turbo's TurboJPEG 3 API.
//!
//! The pure-Rust JPEG decoder dicom-rs uses has no 12-bit DCT path, so these
//! frames go to libjpeg-turbo (built from source by `turbojpeg-sys`). Its
//! 12-bit code is the IJG library's, the same dcmtk's `dcmdjpeg` uses, and the
//! values are bit-identical to dcmtk's on every 12-bit case in the shared
//! data. Like dcmtk and gdcm, and unlike pydicom, it decodes files whose SOS
//! segment has non-conformant parameters, reporting a warning.
//!
//! This module and `volume::buffer` (one `madvise`) are the only ones with
//! `unsafe` code: here, four FFI calls, each with the invariant it relies on
//! written next to it. Everything else (marker parsing, sizes, error
//! mapping) is safe Rust.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::os::raw::c_int;

use turbojpeg_sys as tj;

/// A decoded single-component 12-bit frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded12 {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Samples, row-major, each 0..=4095.
    pub samples: Vec<i16>,
    /// A warning the decoder reported while still producing the image
    /// (e.g. non-conformant SOS parameters, trailing padding).
    pub warning: Option<String>,
}

/// The sample precision of a JPEG codestream: the `P` field of its first
/// start-of-frame marker; `None` when no SOF is found before the image data.
pub fn sample_precision(codestream: &[u8]) -> Option<u8> {
    if codestream.get(0..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut at = 2usize;
    loop {
        // Skip fill bytes before a marker.
        while codestream.get(at) == Some(&0xFF) && codestream.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        if codestream.get(at)? != &0xFF {
            return None;
        }
        let marker = *codestream.get(at + 1)?;
        let length = usize::from(u16::from_be_bytes([
            *codestream.get(at + 2)?,
            *codestream.get(at + 3)?,
        ]));
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            return codestream.get(at + 4).copied();
        }
        if marker == 0xDA || length < 2 {
            return None; // image data before any SOF
        }
        at += 2 + length;
    }
}

/// Owns a TurboJPEG instance and destroys it on drop.
struct Instance(tj::tjhandle);

impl Instance {
    fn decompressor() -> Result<Instance, String> {
        // SAFETY: tj3Init has no preconditions; it returns null on failure,
        // which is checked before the handle is ever used.
        let handle = unsafe { tj::tj3Init(tj::TJINIT_TJINIT_DECOMPRESS as c_int) };
        if handle.is_null() {
            Err("libjpeg-turbo could not create a decompressor".into())
        } else {
            Ok(Instance(handle))
        }
    }

    fn get(&self, parameter: tj::TJPARAM) -> c_int {
        // SAFETY: self.0 is a live handle from tj3Init (non-null, destroyed
        // only in Drop); tj3Get only reads a parameter.
        unsafe { tj::tj3Get(self.0, parameter as c_int) }
    }

    /// The last error message of this instance.
    fn error(&self) -> String {
        // SAFETY: self.0 is live; tj3GetErrorStr returns a pointer to a
        // NUL-terminated buffer inside the instance, valid until the next
        // call on it; it is copied out at once.
        unsafe {
            let message = tj::tj3GetErrorStr(self.0);
            if message.is_null() {
                "unknown libjpeg-turbo error".into()
            } else {
                CStr::from_ptr(message).to_string_lossy().into_owned()
            }
        }
    }

    fn error_is_fatal(&self) -> bool {
        // SAFETY: self.0 is live; tj3GetErrorCode only reads the instance.
        let code = unsafe { tj::tj3GetErrorCode(self.0) };
        code == tj::TJERR_TJERR_FATAL as c_int
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: self.0 came from tj3Init and is destroyed exactly once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

/// Largest frame accepted (samples): guards the output allocation against
/// absurd header sizes in damaged files.
const MAX_SAMPLES: usize = 1 << 28;

/// Decodes a single-component 12-bit lossy JPEG codestream.
pub fn decode(codestream: &[u8]) -> Result<Decoded12, String> {
    let instance = Instance::decompressor()?;
    // SAFETY: the pointer and length describe the live `codestream` slice,
    // which libjpeg-turbo only reads during the call.
    let header =
        unsafe { tj::tj3DecompressHeader(instance.0, codestream.as_ptr(), codestream.len() as _) };
    if header < 0 {
        return Err(format!("JPEG header: {}", instance.error()));
    }
    let width = usize::try_from(instance.get(tj::TJPARAM_TJPARAM_JPEGWIDTH)).unwrap_or(0);
    let height = usize::try_from(instance.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT)).unwrap_or(0);
    let precision = instance.get(tj::TJPARAM_TJPARAM_PRECISION);
    let colorspace = instance.get(tj::TJPARAM_TJPARAM_COLORSPACE);
    if precision != 12 {
        return Err(format!("{precision}-bit JPEG, not 12-bit"));
    }
    if colorspace != tj::TJCS_TJCS_GRAY as c_int {
        return Err("only single-component (greyscale) 12-bit JPEG is supported".into());
    }
    let samples = width.saturating_mul(height);
    if width == 0 || height == 0 || samples > MAX_SAMPLES {
        return Err(format!("JPEG frame size {width} × {height} is not usable"));
    }
    let mut out = vec![0i16; samples];
    // SAFETY: `out` holds exactly width × height samples, which is what a
    // greyscale (1 sample per pixel) decode with pitch 0 (= width) writes for
    // the header just read; the input slice is live and only read.
    let status = unsafe {
        tj::tj3Decompress12(
            instance.0,
            codestream.as_ptr(),
            codestream.len() as _,
            out.as_mut_ptr(),
            0,
            tj::TJPF_TJPF_GRAY as c_int,
        )
    };
    let warning = if status < 0 {
        let message = instance.error();
        if instance.error_is_fatal() {
            return Err(message);
        }
        Some(message)
    } else {
        None
    };
    Ok(Decoded12 {
        width,
        height,
        samples: out,
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_is_read_from_the_first_sof() {
        // SOI, APP0 (length 4), SOF1 with P = 12.
        let stream = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB, 0xFF, 0xC1, 0x00, 0x0B, 12, 0, 1,
        ];
        assert_eq!(sample_precision(&stream), Some(12));
        let baseline = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x0B, 8];
        assert_eq!(sample_precision(&baseline), Some(8));
    }

    #[test]
    fn no_precision_without_soi_or_before_the_scan() {
        assert_eq!(sample_precision(&[0x00, 0x01, 0x02]), None);
        assert_eq!(
            sample_precision(&[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02]),
            None
        );
        assert_eq!(sample_precision(&[0xFF, 0xD8, 0xFF]), None);
        // A zero length must not loop forever.
        assert_eq!(
            sample_precision(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00]),
            None
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_crash() {
        assert!(decode(&[]).is_err());
        assert!(decode(&[0xFF, 0xD8, 0xFF, 0xC1, 0x00]).is_err());
        let random: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(decode(&random).is_err());
    }
}
