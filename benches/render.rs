//! Render-prep benchmarks: window/level of one 512² CT slice into 8-bit grey
//! (target ≤ 0.1 ms), a 512-wide coronal reformat, and the time from opening
//! `sample_scans` to the first decoded series (the first image; target < 1 s).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use nadir::session::{LoadEvent, LoadJob};
use nadir::volume::plane::{Plane, PlaneFrame, window_plane};
use nadir::volume::{Volume, Window, window_slice};

fn ct(slices: usize) -> Volume {
    let mut state: u32 = 12345;
    let voxels = ndarray::Array3::from_shape_fn((slices, 512, 512), |_| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 20) as i16
    });
    Volume::axial_hu(voxels, [0.7, 0.7], 0.0, 1.0)
}

fn window_level(c: &mut Criterion) {
    let volume = ct(4);
    let mut out = vec![0u8; 512 * 512];
    c.bench_function("window_slice 512x512", |b| {
        b.iter(|| window_slice(black_box(&volume), 1, Window::SOFT_TISSUE, &mut out))
    });
    let tall = ct(200);
    let frame = PlaneFrame::new(&tall, Plane::FixedRow, 256).unwrap();
    let mut coronal = vec![0u8; frame.width * frame.height];
    c.bench_function("window_plane coronal 512x200", |b| {
        b.iter(|| window_plane(black_box(&tall), &frame, Window::SOFT_TISSUE, &mut coronal))
    });
}

fn first_image(c: &mut Criterion) {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_scans");
    if !folder.is_dir() {
        return;
    }
    let mut group = c.benchmark_group("open");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("sample_scans first series", |b| {
        b.iter(|| {
            let mut job = LoadJob::start(&folder).unwrap();
            loop {
                if job
                    .poll()
                    .into_iter()
                    .any(|e| matches!(e, LoadEvent::Loaded(_)))
                {
                    job.cancel();
                    break;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = window_level, first_image
}
criterion_main!(benches);
