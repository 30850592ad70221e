//! The phantom's anatomy: a function from a point in anatomy coordinates
//! (LPS millimetres: +x patient left, +y posterior, +z head) to a tissue, and
//! each tissue's CT attenuation and T2-weighted MR signal.
//!
//! Levels (z, mm): lung apices ≈ +175, heart +2…+98, diaphragm domes +18
//! (right) and +8 (left), liver down to −145, kidneys −58…−168, iliac crests
//! below −180, bladder below −240. Everything is analytic (ellipses,
//! superellipses, capsules and jittered grids), so it costs no memory and the
//! same point always gives the same tissue.

use super::noise::{SplitMix64, hash_ints, unit_from_hash};

/// Tissue classes of the phantom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tissue {
    /// Air outside the body (and in airways).
    Air,
    /// Aerated lung parenchyma.
    Lung,
    /// Subcutaneous, visceral and mediastinal fat.
    Fat,
    /// Skin.
    Skin,
    /// Skeletal muscle (also diaphragm, oesophagus).
    Muscle,
    /// Liver parenchyma.
    Liver,
    /// Spleen.
    Spleen,
    /// Renal cortex.
    KidneyCortex,
    /// Renal medulla.
    KidneyMedulla,
    /// Contrast-enhanced blood in the heart and great vessels.
    Blood,
    /// Myocardium.
    Myocardium,
    /// Cortical bone.
    CorticalBone,
    /// Cancellous (trabecular) bone.
    CancellousBone,
    /// Intervertebral disc.
    Disc,
    /// Cerebrospinal fluid in the spinal canal.
    Csf,
    /// Bile in the gallbladder.
    Bile,
    /// Simple fluid (bowel and stomach content, urine).
    Fluid,
    /// Gas in the stomach and bowel.
    Gas,
    /// Bowel and stomach wall.
    BowelWall,
    /// Stool.
    Stool,
    /// Bowel content with positive oral contrast.
    OralContrast,
    /// Pancreas.
    Pancreas,
    /// Carbon-fibre shell of the CT table.
    TableShell,
    /// Foam core of the CT table.
    TableFoam,
}

impl Tissue {
    /// CT attenuation in Hounsfield units (portal-venous phase).
    pub fn ct_hu(self) -> f64 {
        match self {
            Tissue::Air => -1000.0,
            Tissue::Lung => -860.0,
            Tissue::Fat => -100.0,
            Tissue::Skin => 30.0,
            Tissue::Muscle => 55.0,
            Tissue::Liver => 105.0,
            Tissue::Spleen => 115.0,
            Tissue::KidneyCortex => 170.0,
            Tissue::KidneyMedulla => 110.0,
            Tissue::Blood => 160.0,
            Tissue::Myocardium => 100.0,
            Tissue::CorticalBone => 800.0,
            Tissue::CancellousBone => 230.0,
            Tissue::Disc => 90.0,
            Tissue::Csf => 10.0,
            Tissue::Bile => 8.0,
            Tissue::Fluid => 12.0,
            Tissue::Gas => -950.0,
            Tissue::BowelWall => 50.0,
            Tissue::Stool => 10.0,
            Tissue::OralContrast => 250.0,
            Tissue::Pancreas => 95.0,
            Tissue::TableShell => 150.0,
            Tissue::TableFoam => -900.0,
        }
    }

    /// T2-weighted turbo-spin-echo signal (no fat suppression) in arbitrary
    /// units at unit receiver gain: fat bright, muscle dark, fluid very bright,
    /// flowing blood void.
    pub fn t2_si(self) -> f64 {
        match self {
            Tissue::Air | Tissue::Gas | Tissue::TableShell | Tissue::TableFoam => 0.0,
            Tissue::Lung => 15.0,
            Tissue::Fat => 900.0,
            Tissue::Skin => 350.0,
            Tissue::Muscle => MUSCLE_T2_SI,
            Tissue::Liver => 260.0,
            Tissue::Spleen => 500.0,
            Tissue::KidneyCortex => 600.0,
            Tissue::KidneyMedulla => 750.0,
            Tissue::Blood => 40.0,
            Tissue::Myocardium => 220.0,
            Tissue::CorticalBone => 60.0,
            Tissue::CancellousBone => 450.0,
            Tissue::Disc => 750.0,
            Tissue::Csf => 1800.0,
            Tissue::Bile => 1900.0,
            Tissue::Fluid => 1700.0,
            Tissue::BowelWall => 320.0,
            Tissue::Stool => 300.0,
            Tissue::OralContrast => 1500.0,
            Tissue::Pancreas => 330.0,
        }
    }
}

/// T2 signal of skeletal muscle at unit gain: the reference tissue of the
/// T2 signal-intensity ratio.
pub const MUSCLE_T2_SI: f64 = 200.0;

/// A bowel loop: a vertical tube segment with a wall.
#[derive(Debug, Clone, Copy)]
struct BowelLoop {
    x: f64,
    y: f64,
    radius: f64,
    z_low: f64,
    z_high: f64,
    content: Tissue,
}

/// The phantom's anatomy (the bowel loops are drawn once from a fixed seed).
#[derive(Debug, Clone)]
pub struct Anatomy {
    bowel_loops: Vec<BowelLoop>,
}

impl Default for Anatomy {
    fn default() -> Self {
        Self::new()
    }
}

fn inside_ellipse(x: f64, y: f64, cx: f64, cy: f64, ax: f64, ay: f64) -> bool {
    if ax <= 0.0 || ay <= 0.0 {
        return false;
    }
    let u = (x - cx) / ax;
    let v = (y - cy) / ay;
    u * u + v * v <= 1.0
}

fn ellipse_radius(x: f64, y: f64, cx: f64, cy: f64, ax: f64, ay: f64) -> f64 {
    if ax <= 0.0 || ay <= 0.0 {
        return f64::INFINITY;
    }
    let u = (x - cx) / ax;
    let v = (y - cy) / ay;
    (u * u + v * v).sqrt()
}

#[allow(clippy::too_many_arguments)]
fn inside_rotated_ellipse(
    x: f64,
    y: f64,
    cx: f64,
    cy: f64,
    a: f64,
    b: f64,
    angle_deg: f64,
) -> bool {
    if a <= 0.0 || b <= 0.0 {
        return false;
    }
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    let dx = x - cx;
    let dy = y - cy;
    let u = (dx * cos + dy * sin) / a;
    let v = (-dx * sin + dy * cos) / b;
    u * u + v * v <= 1.0
}

/// `|x/X|^p + |y/Y|^p <= 1`: a rounded rectangle–like body outline.
fn inside_superellipse(x: f64, y: f64, ax: f64, ay: f64, power: f64) -> bool {
    if ax <= 0.0 || ay <= 0.0 {
        return false;
    }
    (x / ax).abs().powf(power) + (y / ay).abs().powf(power) <= 1.0
}

/// Distance from (x, y) to the segment (x0, y0)–(x1, y1).
fn segment_distance(x: f64, y: f64, x0: f64, y0: f64, x1: f64, y1: f64) -> f64 {
    let dx = x1 - x0;
    let dy = y1 - y0;
    let length2 = dx * dx + dy * dy;
    let t = if length2 > 0.0 {
        (((x - x0) * dx + (y - y0) * dy) / length2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let px = x0 + t * dx - x;
    let py = y0 + t * dy - y;
    (px * px + py * py).sqrt()
}

/// Ellipsoid-like taper: 1 at `centre`, 0 at `centre ± half_height`.
fn taper(z: f64, centre: f64, half_height: f64) -> f64 {
    let t = (z - centre) / half_height;
    (1.0 - t * t).max(0.0).sqrt()
}

fn lerp(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t.clamp(0.0, 1.0)
}

/// z-dependent body dimensions.
struct Section {
    /// Body outline semi-axes.
    body: (f64, f64),
    /// Inner edge of subcutaneous fat.
    fat_inner: (f64, f64),
    /// Inner edge of the muscle / rib layer: the visceral compartment.
    wall_inner: (f64, f64),
}

const BODY_POWER: f64 = 2.3;
/// Posterior skin surface of the body (y, mm); the CT table lies below it.
pub const TABLE_TOP_Y_MM: f64 = 119.0;

fn section(z: f64) -> Section {
    // 0 in the chest (z >= 0), 1 in the abdomen (z <= -40).
    let t = ((-z) / 40.0).clamp(0.0, 1.0);
    let body_x = lerp(150.0, 165.0, t) + 5.0 * ((-180.0 - z) / 40.0).clamp(0.0, 1.0);
    let body_y = lerp(110.0, 118.0, t);
    let fat_x = lerp(15.0, 22.0, t);
    let fat_y = lerp(13.0, 17.0, t);
    let wall = lerp(14.0, 11.0, t);
    Section {
        body: (body_x, body_y),
        fat_inner: (body_x - fat_x, body_y - fat_y),
        wall_inner: (body_x - fat_x - wall, body_y - fat_y - wall),
    }
}

/// Height of the diaphragm (z, mm) above the point (x, y): the upper
/// envelope of two domes (right +18, left +8) and the central tendon under
/// the heart (+2), each falling off quadratically towards the recesses.
pub fn diaphragm_z(x: f64, y: f64) -> f64 {
    let right = 18.0 - 40.0 * (((x + 72.0) / 64.0).powi(2) + ((y - 12.0) / 92.0).powi(2));
    let left = 8.0 - 40.0 * (((x - 78.0) / 58.0).powi(2) + ((y - 12.0) / 92.0).powi(2));
    let central = 2.0 - 40.0 * (((x - 20.0) / 50.0).powi(2) + ((y + 25.0) / 55.0).powi(2));
    right.max(left).max(central)
}

/// Lung footprint scale: 1 up to z = 100, closing to the apex at z = 175.
fn lung_scale(z: f64) -> f64 {
    if z <= 100.0 {
        1.0
    } else {
        taper(z, 100.0, 75.0)
    }
}

/// Centre of the aorta at level z (thoracic: left of the spine; abdominal:
/// just left of the midline).
fn aorta_centre(z: f64) -> (f64, f64) {
    let t = ((z + 40.0) / 60.0).clamp(0.0, 1.0);
    (lerp(8.0, 22.0, t), lerp(35.0, 44.0, t))
}

impl Anatomy {
    /// The phantom anatomy.
    pub fn new() -> Self {
        let mut rng = SplitMix64::new(0x4E41_4449_5242_4F57);
        let mut bowel_loops = Vec::new();
        for _ in 0..90 {
            let z_centre = rng.uniform(-330.0, -45.0);
            let half = rng.uniform(8.0, 28.0);
            let pick = rng.next_unit();
            let content = if pick < 0.4 {
                Tissue::OralContrast
            } else if pick < 0.7 {
                Tissue::Fluid
            } else {
                Tissue::Gas
            };
            bowel_loops.push(BowelLoop {
                x: rng.uniform(-115.0, 115.0),
                y: rng.uniform(-95.0, 45.0),
                radius: rng.uniform(8.0, 16.0),
                z_low: z_centre - half,
                z_high: z_centre + half,
                content,
            });
        }
        Self { bowel_loops }
    }

    /// The tissue at a point (anatomy coordinates, mm). `with_table` adds the
    /// CT table under the patient.
    pub fn tissue_at(&self, point_mm: [f64; 3], with_table: bool) -> Tissue {
        let [x, y, z] = point_mm;
        let s = section(z);
        if !inside_superellipse(x, y, s.body.0, s.body.1, BODY_POWER) {
            if with_table && x.abs() < 215.0 {
                if (TABLE_TOP_Y_MM + 1.0..TABLE_TOP_Y_MM + 3.0).contains(&y)
                    || (TABLE_TOP_Y_MM + 17.0..TABLE_TOP_Y_MM + 19.0).contains(&y)
                {
                    return Tissue::TableShell;
                }
                if (TABLE_TOP_Y_MM + 3.0..TABLE_TOP_Y_MM + 17.0).contains(&y) {
                    return Tissue::TableFoam;
                }
            }
            return Tissue::Air;
        }
        if !inside_superellipse(x, y, s.body.0 - 1.5, s.body.1 - 1.5, BODY_POWER) {
            return Tissue::Skin;
        }
        if let Some(tissue) = spine(x, y, z) {
            return tissue;
        }
        if let Some(tissue) = posterior_muscles(x, y, z) {
            return tissue;
        }
        if let Some(tissue) = pelvic_bones(x, y, z) {
            return tissue;
        }
        if let Some(tissue) = rectus(x, y, z, &s) {
            return tissue;
        }
        if !inside_superellipse(x, y, s.fat_inner.0, s.fat_inner.1, BODY_POWER) {
            return Tissue::Fat;
        }
        if !inside_superellipse(x, y, s.wall_inner.0, s.wall_inner.1, BODY_POWER) {
            return ribs(x, y, z, &s).unwrap_or(Tissue::Muscle);
        }
        // Visceral compartment.
        if let Some(tissue) = vessels(x, y, z) {
            return tissue;
        }
        let dome = diaphragm_z(x, y);
        if z > dome {
            return thorax(x, y, z);
        }
        if z > dome - 4.0 {
            return Tissue::Muscle; // diaphragm
        }
        self.abdomen(x, y, z, dome)
    }

    fn abdomen(&self, x: f64, y: f64, z: f64, dome: f64) -> Tissue {
        // Gallbladder.
        let gb = taper(z, -70.0, 26.0);
        if inside_ellipse(x, y, -52.0, -68.0, 16.0 * gb, 13.0 * gb) {
            return if inside_ellipse(x, y, -52.0, -68.0, 16.0 * gb - 1.5, 13.0 * gb - 1.5) {
                Tissue::Bile
            } else {
                Tissue::BowelWall
            };
        }
        // Kidneys.
        for (cx, zc, angle, medial) in [(-70.0, -118.0, 25.0, 1.0), (72.0, -108.0, -25.0, -1.0)] {
            let k = taper(z, zc, 50.0);
            if k > 0.0 && inside_rotated_ellipse(x, y, cx, 62.0, 26.0 * k, 36.0 * k, angle) {
                // Renal sinus fat on the medial (hilar) side.
                if inside_ellipse(x, y, cx + medial * 12.0 * k, 56.0, 9.0 * k, 12.0 * k) {
                    return Tissue::Fat;
                }
                let cortex = 6.0;
                if inside_rotated_ellipse(
                    x,
                    y,
                    cx,
                    62.0,
                    26.0 * k - cortex,
                    36.0 * k - cortex,
                    angle,
                ) {
                    return Tissue::KidneyMedulla;
                }
                return Tissue::KidneyCortex;
            }
        }
        // Liver: right lobe shrinking to its lateral tip below z = -30 (gone
        // at -155); left lobe anterior, above z = -40.
        if z > -155.0 {
            let scale = if z >= -30.0 {
                1.0
            } else {
                1.0 - 0.8 * (-30.0 - z) / 100.0
            };
            let cx = -68.0 - 30.0 * (1.0 - scale);
            let cy = 10.0 * (1.0 - scale);
            let in_right = inside_ellipse(x, y, cx, cy, 72.0 * scale, 85.0 * scale);
            let in_left = z > -40.0 && inside_ellipse(x, y, 5.0, -55.0, 60.0, 26.0);
            if in_right || in_left {
                if let Some(tissue) = hepatic_vessels(x, y, z) {
                    return tissue;
                }
                return Tissue::Liver;
            }
        }
        // Spleen.
        let sp = taper(z, -45.0, 50.0);
        if z < dome - 2.0 && inside_rotated_ellipse(x, y, 92.0, 55.0, 26.0 * sp, 50.0 * sp, 35.0) {
            return Tissue::Spleen;
        }
        // Stomach with an air–fluid level.
        let st = taper(z, -20.0, 55.0);
        if st > 0.0 && inside_ellipse(x, y, 52.0, -28.0, 38.0 * st, 30.0 * st) {
            if !inside_ellipse(x, y, 52.0, -28.0, 38.0 * st - 4.0, 30.0 * st - 4.0) {
                return Tissue::BowelWall;
            }
            return if y < -28.0 - 14.0 * st {
                Tissue::Gas
            } else {
                Tissue::Fluid
            };
        }
        // Pancreas.
        if (-65.0..-40.0).contains(&z) && inside_rotated_ellipse(x, y, 30.0, 6.0, 55.0, 10.0, 17.0)
        {
            return Tissue::Pancreas;
        }
        // Psoas muscles below the renal hila.
        let psoas = 6.0 + 14.0 * ((-85.0 - z) / 80.0).clamp(0.0, 1.0);
        if z < -85.0
            && (inside_ellipse(x, y, -36.0, 60.0, psoas * 0.9, psoas)
                || inside_ellipse(x, y, 36.0, 60.0, psoas * 0.9, psoas))
        {
            return Tissue::Muscle;
        }
        // Urinary bladder.
        let bl = taper(z, -290.0, 50.0);
        if bl > 0.0 && inside_ellipse(x, y, 0.0, -50.0, 50.0 * bl, 40.0 * bl) {
            return if inside_ellipse(x, y, 0.0, -50.0, 50.0 * bl - 3.0, 40.0 * bl - 3.0) {
                Tissue::Fluid
            } else {
                Tissue::BowelWall
            };
        }
        // Colon: ascending, descending, transverse.
        if let Some(tissue) = colon(x, y, z) {
            return tissue;
        }
        // Small bowel loops.
        for bowel in &self.bowel_loops {
            if z < bowel.z_low || z > bowel.z_high {
                continue;
            }
            let dx = x - bowel.x;
            let dy = y - bowel.y;
            let d2 = dx * dx + dy * dy;
            if d2 <= bowel.radius * bowel.radius {
                let inner = bowel.radius - 2.5;
                return if d2 <= inner * inner {
                    bowel.content
                } else {
                    Tissue::BowelWall
                };
            }
        }
        Tissue::Fat
    }
}

fn colon(x: f64, y: f64, z: f64) -> Option<Tissue> {
    let in_ascending = (-230.0..-70.0).contains(&z) && (x + 95.0).hypot(y - 10.0) < 22.0;
    let in_descending = (-230.0..-50.0).contains(&z) && (x - 100.0).hypot(y - 15.0) < 18.0;
    let in_transverse =
        (-98.0..-74.0).contains(&z) && segment_distance(x, y, -95.0, -45.0, 100.0, -40.0) < 16.0;
    if !(in_ascending || in_descending || in_transverse) {
        return None;
    }
    let wall = (x + 95.0).hypot(y - 10.0) > 19.5 && in_ascending && !in_transverse
        || (x - 100.0).hypot(y - 15.0) > 15.5 && in_descending && !in_transverse
        || in_transverse
            && !in_ascending
            && !in_descending
            && segment_distance(x, y, -95.0, -45.0, 100.0, -40.0) > 13.5;
    if wall {
        return Some(Tissue::BowelWall);
    }
    // Mottled stool: gas bubbles of 1.5-3.5 mm on a jittered 8 mm grid.
    let size = 8.0;
    let cell = [
        (x / size).floor() as i64,
        (y / size).floor() as i64,
        (z / size).floor() as i64,
    ];
    let h = hash_ints(&[cell[0], cell[1], cell[2], 17]);
    let bx = (cell[0] as f64 + 0.25 + 0.5 * unit_from_hash(h)) * size;
    let by = (cell[1] as f64 + 0.25 + 0.5 * unit_from_hash(h.rotate_left(17))) * size;
    let radius = 1.5 + 2.0 * unit_from_hash(h.rotate_left(34));
    let bubble = unit_from_hash(h.rotate_left(51)) < 0.6 && (x - bx).hypot(y - by) < radius;
    Some(if bubble { Tissue::Gas } else { Tissue::Stool })
}

fn hepatic_vessels(x: f64, y: f64, z: f64) -> Option<Tissue> {
    let portal = (-50.0..-20.0).contains(&z) && (x + 35.0).hypot(y - 5.0) < 8.0;
    let right_portal =
        (-40.0..-25.0).contains(&z) && segment_distance(x, y, -35.0, 5.0, -85.0, 10.0) < 4.0;
    let hepatic_veins = z > -20.0
        && ((x + 42.0).hypot(y - 18.0) < 6.0
            || (x + 15.0).hypot(y - 14.0) < 5.0
            || (x + 75.0).hypot(y - 2.0) < 5.0);
    (portal || right_portal || hepatic_veins).then_some(Tissue::Blood)
}

fn vessels(x: f64, y: f64, z: f64) -> Option<Tissue> {
    // Aorta (with a wall of muscle density) and iliac arteries.
    if z > -190.0 && z < 125.0 {
        let (ax, ay) = aorta_centre(z);
        let radius = if z > -40.0 { 12.0 } else { 11.0 };
        let d = (x - ax).hypot(y - ay);
        if d < radius {
            return Some(if d < radius - 1.5 {
                Tissue::Blood
            } else {
                Tissue::Muscle
            });
        }
    } else if z <= -190.0
        && z > -260.0
        && ((x - 22.0).hypot(y - 42.0) < 7.0 || (x + 22.0).hypot(y - 42.0) < 7.0)
    {
        return Some(Tissue::Blood);
    }
    // Inferior vena cava up into the right atrium.
    if z > -190.0
        && z < diaphragm_z(-20.0, 28.0) + 20.0
        && inside_ellipse(x, y, -20.0, 28.0, 13.0, 10.0)
    {
        return Some(Tissue::Blood);
    }
    None
}

fn thorax(x: f64, y: f64, z: f64) -> Tissue {
    // Trachea and main bronchi.
    if z > 95.0 && (x).hypot(y - 18.0) < 9.0 {
        return if (x).hypot(y - 18.0) < 7.0 {
            Tissue::Air
        } else {
            Tissue::BowelWall
        };
    }
    if (75.0..=95.0).contains(&z)
        && ((x - 22.0).hypot(y - 20.0) < 6.0 || (x + 22.0).hypot(y - 20.0) < 6.0)
    {
        return Tissue::Air;
    }
    // Oesophagus.
    if (6.0 - x).hypot(38.0 - y) < 7.0 {
        return Tissue::Muscle;
    }
    // Ascending aorta, arch and superior vena cava.
    if (90.0..125.0).contains(&z) && (x + 5.0).hypot(y + 10.0) < 15.0 {
        return Tissue::Blood;
    }
    if (115.0..127.0).contains(&z) && segment_distance(x, y, -5.0, -10.0, 22.0, 44.0) < 11.0 {
        return Tissue::Blood;
    }
    if z > 85.0 && (x + 28.0).hypot(y + 12.0) < 10.0 {
        return Tissue::Blood;
    }
    // Heart: myocardial shell around the chambers.
    let heart = |shrink: f64| {
        let u = (x - 20.0) / (56.0 - shrink);
        let v = (y + 25.0) / (46.0 - shrink);
        let w = (z - 50.0) / (46.0 - shrink);
        u * u + v * v + w * w <= 1.0
    };
    if heart(0.0) {
        return if heart(10.0) {
            Tissue::Blood
        } else {
            Tissue::Myocardium
        };
    }
    // Lungs with vessels on a jittered grid.
    let ls = lung_scale(z);
    let in_right = ellipse_radius(x, y, -72.0, 12.0, 64.0 * ls, 92.0 * ls) <= 1.0;
    let in_left = ellipse_radius(x, y, 78.0, 12.0, 58.0 * ls, 92.0 * ls) <= 1.0;
    if in_right || in_left {
        let cell = [
            (x / 14.0).floor() as i64,
            (y / 14.0).floor() as i64,
            (z / 12.0).floor() as i64,
        ];
        let h = hash_ints(&[cell[0], cell[1], cell[2], 5]);
        let cx = (cell[0] as f64 + 0.15 + 0.7 * unit_from_hash(h)) * 14.0;
        let cy = (cell[1] as f64 + 0.15 + 0.7 * unit_from_hash(h.rotate_left(21))) * 14.0;
        let hilum_x = if x < 0.0 { -40.0 } else { 40.0 };
        let to_hilum = (x - hilum_x).hypot(y - 15.0);
        let radius = (3.5 - to_hilum / 40.0).clamp(0.8, 3.5);
        if (x - cx).hypot(y - cy) < radius {
            return Tissue::Blood;
        }
        return Tissue::Lung;
    }
    Tissue::Fat
}

fn spine(x: f64, y: f64, z: f64) -> Option<Tissue> {
    if z < -200.0 {
        // Sacrum.
        if inside_ellipse(x, y, 0.0, 82.0, 45.0, 14.0) {
            return Some(if inside_ellipse(x, y, 0.0, 82.0, 43.0, 12.0) {
                Tissue::CancellousBone
            } else {
                Tissue::CorticalBone
            });
        }
        return None;
    }
    let chest = ((z - 0.0) / 40.0).clamp(0.0, 1.0);
    let body_a = lerp(18.0, 15.0, chest);
    let body_b = lerp(15.0, 13.0, chest);
    let canal = lerp(9.0, 8.0, chest);
    let phase = z.rem_euclid(30.0);
    if (x).hypot(y - 88.0) < canal {
        return Some(Tissue::Csf);
    }
    if inside_ellipse(x, y, 0.0, 62.0, body_a, body_b) {
        if phase < 7.0 {
            return Some(Tissue::Disc);
        }
        return Some(
            if inside_ellipse(x, y, 0.0, 62.0, body_a - 1.5, body_b - 1.5) {
                Tissue::CancellousBone
            } else {
                Tissue::CorticalBone
            },
        );
    }
    if (10.0..28.0).contains(&phase) {
        let lamina = inside_ellipse(x, y, 0.0, 90.0, canal + 8.0, canal + 5.0);
        let spinous = inside_ellipse(x, y, 0.0, 104.0, 5.0, 11.0);
        let transverse = (14.0..22.0).contains(&phase)
            && (inside_ellipse(x, y, 26.0, 84.0, 14.0, 5.0)
                || inside_ellipse(x, y, -26.0, 84.0, 14.0, 5.0));
        if lamina || spinous || transverse {
            return Some(Tissue::CorticalBone);
        }
    }
    None
}

fn posterior_muscles(x: f64, y: f64, z: f64) -> Option<Tissue> {
    let chest = (z / 40.0).clamp(0.0, 1.0);
    let (cx, cy, a, b) = (
        lerp(34.0, 30.0, chest),
        lerp(96.0, 92.0, chest),
        lerp(22.0, 20.0, chest),
        lerp(16.0, 14.0, chest),
    );
    if inside_ellipse(x, y, cx, cy, a, b) || inside_ellipse(x, y, -cx, cy, a, b) {
        return Some(Tissue::Muscle);
    }
    if z < -200.0
        && (inside_ellipse(x, y, 95.0, 78.0, 50.0, 28.0)
            || inside_ellipse(x, y, -95.0, 78.0, 50.0, 28.0))
    {
        return Some(Tissue::Muscle); // gluteal muscles
    }
    None
}

fn pelvic_bones(x: f64, y: f64, z: f64) -> Option<Tissue> {
    if !(-270.0..-180.0).contains(&z) {
        return None;
    }
    let grow = ((-180.0 - z) / 20.0).clamp(0.0, 1.0);
    for (cx, angle) in [(100.0, 55.0), (-100.0, -55.0)] {
        if inside_rotated_ellipse(x, y, cx, 55.0, 45.0 * grow, 9.0, angle) {
            return Some(
                if inside_rotated_ellipse(x, y, cx, 55.0, 45.0 * grow - 2.0, 7.0, angle) {
                    Tissue::CancellousBone
                } else {
                    Tissue::CorticalBone
                },
            );
        }
    }
    None
}

/// Rectus abdominis: paired paramedian straps along the anterior wall,
/// thicker than the lateral muscles (below the xiphoid, z < 0).
fn rectus(x: f64, y: f64, z: f64, s: &Section) -> Option<Tissue> {
    if z > 0.0 {
        return None;
    }
    let y_centre = -(s.fat_inner.1 - 2.0);
    for side in [-1.0, 1.0] {
        if inside_ellipse(x, y, side * 38.0, y_centre, 32.0, 9.0) {
            return Some(Tissue::Muscle);
        }
    }
    None
}

fn ribs(x: f64, y: f64, z: f64, s: &Section) -> Option<Tissue> {
    if !(-70.0..=150.0).contains(&z) {
        return None;
    }
    // Ribs run obliquely: each of 9 rib positions per side shows on a third
    // of the slices, at a level that depends on its angle around the body.
    let mid_x = 0.5 * (s.fat_inner.0 + s.wall_inner.0);
    let mid_y = 0.5 * (s.fat_inner.1 + s.wall_inner.1);
    for j in 0..9 {
        let phase = (z + 7.0 * j as f64).rem_euclid(30.0);
        if phase > 10.0 {
            continue;
        }
        // From posterolateral (20°) to anterolateral (150°), measured from +y.
        let angle = (20.0 + 16.0 * j as f64).to_radians();
        for side in [-1.0, 1.0] {
            let rx = side * mid_x * angle.sin();
            let ry = mid_y * angle.cos();
            let d = (x - rx).hypot(y - ry);
            if d < 5.5 {
                return Some(if d < 4.0 {
                    Tissue::CancellousBone
                } else {
                    Tissue::CorticalBone
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn landmarks_have_expected_tissues() {
        let a = Anatomy::new();
        assert_eq!(a.tissue_at([0.0, -200.0, 0.0], false), Tissue::Air);
        assert_eq!(a.tissue_at([-90.0, 40.0, 45.0], false), Tissue::Lung);
        assert_eq!(a.tissue_at([-75.0, 10.0, -45.0], false), Tissue::Liver);
        assert_eq!(a.tissue_at([0.0, 88.0, -45.0], false), Tissue::Csf);
        assert_eq!(
            a.tissue_at([0.0, 62.0, -50.0], false),
            Tissue::CancellousBone
        );
        let (ax, ay) = aorta_centre(-60.0);
        assert_eq!(a.tissue_at([ax, ay, -60.0], false), Tissue::Blood);
        assert_eq!(a.tissue_at([164.0, 0.0, -60.0], false), Tissue::Skin);
        assert_eq!(a.tissue_at([158.0, 0.0, -60.0], false), Tissue::Fat);
    }

    #[test]
    fn table_only_when_asked() {
        let a = Anatomy::new();
        let p = [0.0, TABLE_TOP_Y_MM + 10.0, 0.0];
        assert_eq!(a.tissue_at(p, true), Tissue::TableFoam);
        assert_eq!(a.tissue_at(p, false), Tissue::Air);
    }

    #[test]
    fn fat_is_bright_and_muscle_dark_on_t2() {
        assert!(Tissue::Fat.t2_si() > 3.0 * Tissue::Muscle.t2_si());
        assert!(Tissue::Fluid.t2_si() > Tissue::Fat.t2_si());
    }
}
