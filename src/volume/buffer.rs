//! The voxel buffer of a volume, backed by transparent huge pages where the
//! kernel offers them.
//!
//! A 300-slice 512² CT is 157 MB of `i16`. Filling a fresh allocation of that
//! size takes 38 000 page faults of 4 KiB each; on this project's reference
//! machine they were half of an uncompressed load without the fingerprint
//! (110 ms of kernel time in a 103 ms wall-clock load on two cores). Linux
//! kernels set to `transparent_hugepage=madvise` (Debian's and Ubuntu's
//! default) give 2 MiB pages only to memory that asks for them, so the
//! buffer asks: 512 times fewer faults, and the same load measured 65 ms
//! (`scripts/bench_inspect.sh`, "nadir inspect --no-hash").
//!
//! This module holds the crate's second and last `unsafe` block: one
//! `madvise` call, which is advice only. It never changes the contents or
//! the validity of memory, and the range it names lies inside the buffer
//! just allocated and owned here.
#![allow(unsafe_code)]

/// Buffers smaller than this are left alone (a huge page is 2 MiB; below a
/// few of them the advice buys nothing).
const HUGE_PAGE_THRESHOLD_BYTES: usize = 8 << 20;

/// A zero-filled buffer of `len` voxels. On Linux, when it is at least
/// 8 MiB (`HUGE_PAGE_THRESHOLD_BYTES`), its 2 MiB-aligned interior is advised to
/// use transparent huge pages before any of it is touched. Elsewhere, or if
/// the kernel declines, it is an ordinary `vec![0; len]`.
pub fn zeroed_voxels(len: usize) -> Vec<i16> {
    let buffer = vec![0i16; len];
    advise_huge_pages(&buffer);
    buffer
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(buffer: &[i16]) {
    const HUGE_PAGE: usize = 2 << 20;
    let bytes = std::mem::size_of_val(buffer);
    if bytes < HUGE_PAGE_THRESHOLD_BYTES {
        return;
    }
    let start = buffer.as_ptr() as usize;
    let end = start + bytes;
    let aligned_start = start.next_multiple_of(HUGE_PAGE);
    let aligned_end = end - end % HUGE_PAGE;
    if aligned_end <= aligned_start {
        return;
    }
    // SAFETY: `madvise` with MADV_HUGEPAGE is advisory: it changes neither
    // the contents nor the accessibility of the pages, only how the kernel
    // backs them on the next fault. The range [aligned_start, aligned_end)
    // lies within `buffer`, which is a live allocation owned by the caller
    // (start and length are multiples of the page size, as madvise
    // requires). A failure (EINVAL on kernels without THP) is ignored: the
    // buffer then simply uses ordinary pages.
    let _ = unsafe {
        libc::madvise(
            aligned_start as *mut libc::c_void,
            aligned_end - aligned_start,
            libc::MADV_HUGEPAGE,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_buffer: &[i16]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_and_large_buffers_are_zeroed_and_sized() {
        for len in [0, 1, 1000, 20 << 20] {
            let buffer = zeroed_voxels(len);
            assert_eq!(buffer.len(), len);
            assert!(buffer.iter().all(|&v| v == 0));
        }
    }

    #[test]
    fn a_large_buffer_is_writable_throughout() {
        let mut buffer = zeroed_voxels(12 << 20);
        for (i, v) in buffer.iter_mut().enumerate().step_by(4096) {
            *v = (i % 30_000) as i16;
        }
        assert_eq!(buffer[4096], 4096);
        assert_eq!(buffer[0], 0);
    }
}
