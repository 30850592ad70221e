//! Decode a planned stack into a [`Volume`]: slices decoded on every core
//! straight into the final buffer, the pixel fingerprint hashed on its own
//! thread right behind them, statistics gathered on the way.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ndarray::Array3;
use sha2::{Digest, Sha256};

use super::decode::{
    OpenedObject, check_encapsulated_end, contain_panics, decode_frame, internal, open_object,
};
use super::reason::{SkipReason, Unusable};
use super::scan::{Skipped, StackPlan};
use crate::volume::{Geometry, SeriesMeta, StatsAccumulator, ValueStats, Volume};

/// The most voxels one volume may have (4 GiB of 16-bit voxels).
const MAX_VOXELS_PER_VOLUME: u64 = 1 << 31;

/// What to compute while loading.
#[derive(Debug, Default)]
pub struct LoadOptions<'a> {
    /// Compute the `pixel_sha256` fingerprint (interchange §3).
    pub hash: bool,
    /// Incremented once per decoded (or failed) slice, for progress bars.
    pub progress: Option<&'a AtomicUsize>,
    /// Set to stop early; the load then fails with [`LoadError::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
}

/// A loaded stack with what was learnt while loading it.
#[derive(Debug, Clone)]
pub struct LoadedSeries {
    /// The volume.
    pub volume: std::sync::Arc<Volume>,
    /// Rescaled min / max / mean over all voxels.
    pub stats: Option<ValueStats>,
    /// SHA-256 (hex) over stored values as little-endian i32, slice order, row-major.
    pub pixel_sha256: Option<String>,
    /// Geometry and loading warnings.
    pub warnings: Vec<String>,
    /// Files of the stack that could not be decoded (the volume holds the others).
    pub skipped: Vec<Skipped>,
}

/// Why a stack produced no volume.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Every slice failed; the per-file reasons are attached.
    #[error("no slice of the series could be decoded")]
    NothingDecoded(Vec<Skipped>),
    /// The caller cancelled.
    #[error("loading was cancelled")]
    Cancelled,
    /// The stack has no slices.
    #[error("empty series")]
    Empty,
    /// More voxels than Nadir loads into memory at once.
    #[error("{slices} slices of {columns}x{rows} exceed the 2^31-voxel limit of one volume")]
    TooLarge {
        /// Slices in the stack.
        slices: usize,
        /// Rows per slice.
        rows: u16,
        /// Columns per slice.
        columns: u16,
    },
}

impl LoadError {
    /// The plain kind of reason for the files of a stack that gave no volume.
    pub fn skip_reason(&self) -> SkipReason {
        match self {
            LoadError::NothingDecoded(_) => SkipReason::DamagedPixels,
            LoadError::Cancelled => SkipReason::Cancelled,
            LoadError::Empty => SkipReason::NoPixelData,
            LoadError::TooLarge { .. } => SkipReason::TooLarge,
        }
    }
}

/// Decodes every slice of `plan` into a [`Volume`].
pub fn load_stack(plan: &StackPlan, options: &LoadOptions<'_>) -> Result<LoadedSeries, LoadError> {
    let first = plan.first_header().ok_or(LoadError::Empty)?;
    let format = first.format;
    let plane = format.pixels_per_frame();
    let n = plan.slices.len();
    if (n * plane) as u64 > MAX_VOXELS_PER_VOLUME {
        return Err(LoadError::TooLarge {
            slices: n,
            rows: format.rows,
            columns: format.columns,
        });
    }
    let mut buffer = crate::volume::buffer::zeroed_voxels(n * plane);

    // A multi-frame object is parsed once and shared by the workers.
    let shared_object: Option<OpenedObject> = if plan.files.len() == 1 && n > 1 {
        match open_object(&first.path).and_then(|o| check_encapsulated_end(&o, first).map(|()| o)) {
            Ok(o) => Some(o),
            Err(reason) => {
                return Err(LoadError::NothingDecoded(vec![Skipped::new(
                    first.path.clone(),
                    reason,
                )]));
            }
        }
    } else {
        None
    };

    let outcome = {
        let chunks: Vec<Mutex<Option<&mut [i16]>>> = buffer
            .chunks_mut(plane.max(1))
            .map(|c| Mutex::new(Some(c)))
            .collect();
        let finished: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
        let failures: Mutex<Vec<(usize, Unusable)>> = Mutex::new(Vec::new());
        let slice_stats: Mutex<Vec<Option<StatsAccumulator>>> = Mutex::new(vec![None; n]);
        let next = AtomicUsize::new(0);
        let offset = format.stored_offset();
        let cores = std::thread::available_parallelism().map_or(2, |p| p.get());
        // Uncompressed and RLE slices (Nadir's own decoder) cost little more
        // than their page faults, while SHA-256 over the whole volume is the
        // critical path: leave the hasher a core of its own (300 × 512²:
        // 242 → 208 ms uncompressed, 241 → 219 ms RLE on 2 cores). Codecs
        // keep every core: decoding dominates there.
        let cheap_decode = (first.encoding.native_little_endian
            || first.encoding.transfer_syntax_uid == "1.2.840.10008.1.2.5")
            && shared_object.is_none();
        let workers = if options.hash && cheap_decode {
            cores.saturating_sub(1).max(1)
        } else {
            cores
        }
        .min(n.max(1));

        let digest = {
            let (chunks, finished, failures, slice_stats, next) =
                (&chunks, &finished, &failures, &slice_stats, &next);
            let shared_object = shared_object.as_ref();
            std::thread::scope(|scope| {
                let hasher = options.hash.then(|| {
                    scope.spawn(move || {
                        hash_in_order(chunks, finished, failures, offset, plane, options.cancel)
                    })
                });
                let hasher_thread = hasher.as_ref().map(|h| h.thread().clone());
                for _ in 0..workers {
                    let hasher_thread = hasher_thread.clone();
                    scope.spawn(move || {
                        let mut scratch = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(slice) = plan.slices.get(i) else {
                                break;
                            };
                            if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                                break;
                            }
                            // A panic anywhere in decoding must not leave the
                            // hasher waiting for this slice: contain it.
                            let result = contain_panics(|| {
                                decode_slice(
                                    plan,
                                    i,
                                    slice.file,
                                    slice.frame.frame,
                                    shared_object,
                                    chunks,
                                    &mut scratch,
                                )
                            })
                            .unwrap_or_else(|crash| {
                                Err(Unusable::new(
                                    SkipReason::DamagedPixels,
                                    format!("decoding failed ({crash})"),
                                ))
                            });
                            match result {
                                Ok(()) => {
                                    let acc = chunk_stats(chunks, i, offset, slice.frame.rescale);
                                    if let Ok(mut s) = slice_stats.lock()
                                        && let Some(slot) = s.get_mut(i)
                                    {
                                        *slot = acc;
                                    }
                                }
                                Err(reason) => {
                                    if let Ok(mut f) = failures.lock() {
                                        f.push((i, reason));
                                    }
                                }
                            }
                            if let Some(flag) = finished.get(i) {
                                flag.store(true, Ordering::Release);
                            }
                            if let Some(p) = options.progress {
                                p.fetch_add(1, Ordering::Relaxed);
                            }
                            if let Some(t) = &hasher_thread {
                                t.unpark();
                            }
                        }
                        if let Some(t) = &hasher_thread {
                            t.unpark();
                        }
                    });
                }
                hasher.and_then(|h| h.join().ok()).flatten()
            })
        };
        (
            digest,
            failures.into_inner().unwrap_or_default(),
            slice_stats.into_inner().unwrap_or_default(),
        )
    };
    if options.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Err(LoadError::Cancelled);
    }
    let (mut digest, mut failures, slice_stats) = outcome;
    failures.sort_by_key(|(i, _)| *i);

    let mut skipped = Vec::new();
    let mut keep: Vec<usize> = (0..n).collect();
    if !failures.is_empty() {
        let failed: Vec<usize> = failures.iter().map(|(i, _)| *i).collect();
        for (i, reason) in failures {
            if let Some(path) = plan
                .slices
                .get(i)
                .and_then(|s| plan.files.get(s.file))
                .map(|h| h.path.clone())
                && !skipped.iter().any(|s: &Skipped| s.path == path)
            {
                skipped.push(Skipped::new(path, reason));
            }
        }
        keep.retain(|i| !failed.contains(i));
        if keep.is_empty() {
            return Err(LoadError::NothingDecoded(skipped));
        }
        // Close the gaps left by failed slices, in place.
        for (dst, &src) in keep.iter().enumerate() {
            if dst != src {
                buffer.copy_within(src * plane..(src + 1) * plane, dst * plane);
            }
        }
        buffer.truncate(keep.len() * plane);
        digest = options
            .hash
            .then(|| hash_buffer(&buffer, format.stored_offset()));
    }

    let mut stats = StatsAccumulator::default();
    for &i in &keep {
        if let Some(Some(acc)) = slice_stats.get(i) {
            stats.merge(acc);
        }
    }
    let kept_slices: Vec<_> = keep.iter().filter_map(|&i| plan.slices.get(i)).collect();
    let voxels = Array3::from_shape_vec(
        (
            kept_slices.len(),
            usize::from(format.rows),
            usize::from(format.columns),
        ),
        buffer,
    )
    .map_err(|_| LoadError::Empty)?;

    let mut warnings = plan.warnings.clone();
    if !skipped.is_empty() {
        warnings.push(format!(
            "{} file(s) of this series could not be decoded and were left out (see skipped)",
            skipped.len()
        ));
    }
    let geometry = Geometry {
        pixel_spacing_mm: first.pixel_spacing_mm,
        orientation: kept_slices.first().and_then(|s| s.frame.orientation),
        slice_positions_mm: if kept_slices.iter().all(|s| s.frame.position.is_some()) {
            kept_slices
                .iter()
                .filter_map(|s| s.frame.position)
                .collect()
        } else {
            Vec::new()
        },
        frame_of_reference_uid: first.frame_of_reference_uid.clone(),
    };
    if geometry.pixel_spacing_mm.is_none() {
        warnings.push("no PixelSpacing: distances can only be given in pixels".to_string());
    }
    let mut instances_in_order: Vec<String> = Vec::new();
    for s in &kept_slices {
        if let Some(h) = plan.files.get(s.file)
            && instances_in_order.last() != Some(&h.sop_instance_uid)
        {
            instances_in_order.push(h.sop_instance_uid.clone());
        }
    }
    // InstanceNumber per slice, only when each slice is its own numbered
    // file and the numbers are distinct (a multi-frame object's frames are
    // numbered in slice order instead).
    let mut instance_numbers: Vec<i64> = kept_slices
        .iter()
        .filter_map(|s| plan.files.get(s.file).and_then(|h| h.instance_number))
        .collect();
    let mut distinct = instance_numbers.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if instance_numbers.len() != kept_slices.len() || distinct.len() != instance_numbers.len() {
        instance_numbers.clear();
    }
    let volume = Volume {
        voxels,
        stored_offset: format.stored_offset(),
        rescale: kept_slices.iter().map(|s| s.frame.rescale).collect(),
        geometry,
        photometric: first.photometric,
        meta: SeriesMeta {
            series_instance_uid: first.series_instance_uid.clone(),
            study_instance_uid: first.study_instance_uid.clone(),
            modality: first.modality.clone(),
            series_description: first.series_description.clone(),
            series_number: first.series_number,
            study_date: first.study_date.clone(),
            study_time: first.study_time.clone(),
            slice_thickness_mm: first.slice_thickness_mm,
            echo_time_ms: first.echo_time_ms,
            repetition_time_ms: first.repetition_time_ms,
            magnetic_field_strength_t: first.magnetic_field_strength_t,
            manufacturer: first.manufacturer.clone(),
            model_name: first.model_name.clone(),
            default_window: first.default_window,
            patient: first.patient.clone(),
        },
        instances_in_order,
        instance_numbers,
    };
    Ok(LoadedSeries {
        volume: std::sync::Arc::new(volume),
        stats: stats.finish(),
        pixel_sha256: digest,
        warnings,
        skipped,
    })
}

/// Takes slice `i`'s chunk, decodes into it and puts it back.
fn decode_slice(
    plan: &StackPlan,
    i: usize,
    file: usize,
    frame: u32,
    shared_object: Option<&OpenedObject>,
    chunks: &[Mutex<Option<&mut [i16]>>],
    scratch: &mut Vec<u8>,
) -> Result<(), Unusable> {
    let header = plan
        .files
        .get(file)
        .ok_or_else(|| internal("missing file"))?;
    let slot = chunks.get(i).ok_or_else(|| internal("missing slice"))?;
    let mut guard = slot.lock().map_err(|_| internal("poisoned slice"))?;
    let dest = guard
        .as_deref_mut()
        .ok_or_else(|| internal("slice taken"))?;
    decode_frame(header, frame, shared_object, dest, scratch)
}

fn chunk_stats(
    chunks: &[Mutex<Option<&mut [i16]>>],
    i: usize,
    offset: i32,
    rescale: crate::volume::Rescale,
) -> Option<StatsAccumulator> {
    let guard = chunks.get(i)?.lock().ok()?;
    let values = guard.as_deref()?;
    let mut acc = StatsAccumulator::default();
    acc.add_slice(values, offset, rescale);
    Some(acc)
}

/// The hasher thread: hashes slices strictly in order as soon as each is
/// finished. Returns `None` if a slice failed (the caller re-hashes the
/// compacted buffer) or the load was cancelled.
fn hash_in_order(
    chunks: &[Mutex<Option<&mut [i16]>>],
    finished: &[AtomicBool],
    failures: &Mutex<Vec<(usize, Unusable)>>,
    offset: i32,
    plane: usize,
    cancel: Option<&AtomicBool>,
) -> Option<String> {
    let mut hasher = Sha256::new();
    let mut wide = vec![0i32; HASH_CHUNK.min(plane.max(1))];
    for (i, flag) in finished.iter().enumerate() {
        while !flag.load(Ordering::Acquire) {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return None;
            }
            std::thread::park_timeout(Duration::from_millis(5));
        }
        if failures.lock().ok()?.iter().any(|(f, _)| *f == i) {
            return None;
        }
        let guard = chunks.get(i)?.lock().ok()?;
        let values = guard.as_deref()?;
        for piece in values.chunks(wide.len()) {
            hasher.update(encode_i32_le(piece, offset, &mut wide));
        }
    }
    Some(hex(&hasher.finalize()))
}

/// Values widened and hashed at a time: 16 KiB of `i32`, so the widened
/// copy stays in the L1 cache between being written and being hashed (a
/// whole 1 MiB slice at a time spilled to L2/L3).
const HASH_CHUNK: usize = 4096;

/// Widens stored values to the fingerprint's little-endian i32 and returns
/// their bytes. Written as a plain widening loop into an `i32` buffer so that
/// it vectorises (a per-element byte copy was a third of the hash time).
fn encode_i32_le<'a>(values: &[i16], offset: i32, out: &'a mut [i32]) -> &'a [u8] {
    let n = values.len().min(out.len());
    let out = &mut out[..n];
    for (dst, &v) in out.iter_mut().zip(values) {
        *dst = (i32::from(v) + offset).to_le();
    }
    bytemuck::cast_slice(out)
}

/// The fingerprint of a whole buffer, single-threaded.
pub fn hash_buffer(values: &[i16], offset: i32) -> String {
    let mut hasher = Sha256::new();
    let mut wide = vec![0i32; HASH_CHUNK];
    for chunk in values.chunks(HASH_CHUNK) {
        hasher.update(encode_i32_le(chunk, offset, &mut wide));
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
