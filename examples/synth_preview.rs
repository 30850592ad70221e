//! Render PNG previews of the sample patient: for every lesion at every
//! visit, the CT slice through its centre (window 400/40) and the nearest MR
//! slice. Usage: `cargo run --release --example synth_preview -- OUT_DIR`.

use std::path::PathBuf;

use nadir::synth::{SynthSeries, sample_patient};

fn window(series: &SynthSeries, k: usize, center: f64, width: f64) -> image::GrayImage {
    let mut img = image::GrayImage::new(series.columns as u32, series.rows as u32);
    for r in 0..series.rows {
        for c in 0..series.columns {
            let v = series.rescaled(series.stored[[k, r, c]]);
            let t = ((v - (center - width / 2.0)) / width).clamp(0.0, 1.0);
            img.put_pixel(c as u32, r as u32, image::Luma([(t * 255.0).round() as u8]));
        }
    }
    img
}

fn main() -> anyhow::Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "preview".into()));
    std::fs::create_dir_all(&out)?;
    let patient = sample_patient();
    for lesion in &patient.truth.lesions {
        for (uid, instance, modality) in [
            (
                &lesion.ct_series_instance_uid,
                lesion.ct_instance_number,
                "ct",
            ),
            (
                &lesion.mr_series_instance_uid,
                lesion.mr_instance_number,
                "mr",
            ),
        ] {
            let Some(instance) = instance else { continue };
            let Some(series) = patient
                .series
                .iter()
                .find(|s| &s.series_instance_uid == uid)
            else {
                continue;
            };
            let Some(k) = series.instance_numbers.iter().position(|&n| n == instance) else {
                continue;
            };
            let (center, width) = (series.window_center, series.window_width);
            let img = window(series, k, center, width);
            let name = format!(
                "{}_{}_{}_i{:04}.png",
                lesion.visit, lesion.lesion_id, modality, instance
            );
            img.save(out.join(name))?;
            if modality == "ct" && lesion.lesion_id == "T1" {
                let lung = window(series, k, -600.0, 1500.0);
                lung.save(out.join(format!("{}_T1_ct_lung_i{:04}.png", lesion.visit, instance)))?;
            }
        }
    }
    Ok(())
}
