//! Engine input: civil dates, lesion categories and statuses, lesion records.
//!
//! A [`LesionRecord`] is one lesion at one visit, the same shape as a row of the
//! lesion table (interchange §1) once its defaults are resolved. The GUI's
//! tracking model and the CSV reader both produce these records.

use std::fmt;
use std::sync::Arc;

/// A civil (proleptic Gregorian) calendar date, stored as days since 1970-01-01.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days_since_epoch: i32,
}

impl Date {
    /// The date `days_since_epoch` days after 1970-01-01 (negative: before).
    pub fn from_days_since_epoch(days_since_epoch: i32) -> Self {
        Self { days_since_epoch }
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i32 {
        self.days_since_epoch
    }

    /// The date for year, month (1–12) and day (1–31); `None` if it does not exist
    /// (e.g. 2023-02-29) or the year is outside 0..=9999.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(0..=9999).contains(&year) || !(1..=12).contains(&month) || day == 0 {
            return None;
        }
        if day > days_in_month(year, month) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = month as i32;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Self {
            days_since_epoch: era * 146_097 + doe - 719_468,
        })
    }

    /// Year, month (1–12) and day (1–31).
    pub fn ymd(self) -> (i32, u32, u32) {
        // Howard Hinnant's civil_from_days, in i64 so no i32 input overflows.
        let z = i64::from(self.days_since_epoch) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        // doy < 366 and mp < 12, so these fit; the year fits i32 for any i32 day count.
        let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
        let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
        let year = i32::try_from(yoe + era * 400 + i64::from(month <= 2)).unwrap_or(i32::MAX);
        (year, month, day)
    }

    /// Parses a strict ISO 8601 calendar date `YYYY-MM-DD`.
    pub fn parse_iso(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = text.get(range)?;
            if part.bytes().all(|b| b.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let year = i32::try_from(digits(0..4)?).ok()?;
        Self::from_ymd(year, digits(5..7)?, digits(8..10)?)
    }

    /// Whole days from `earlier` to `self` (negative if `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i64 {
        i64::from(self.days_since_epoch) - i64::from(earlier.days_since_epoch)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(f, "{year:04}-{month:02}-{day:02}")
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// The role of a lesion in the assessment (interchange §1 `category`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Measured target lesion; contributes to the sum of diameters.
    Target,
    /// Non-target lesion, followed qualitatively.
    NonTarget,
    /// A lesion that was not present at baseline.
    New,
}

impl Category {
    /// The interchange code: `target`, `non_target` or `new`.
    pub fn code(self) -> &'static str {
        match self {
            Category::Target => "target",
            Category::NonTarget => "non_target",
            Category::New => "new",
        }
    }

    /// Parses an interchange code (ASCII case-insensitive).
    pub fn from_code(code: &str) -> Option<Self> {
        [Category::Target, Category::NonTarget, Category::New]
            .into_iter()
            .find(|category| category.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What the reader states about a lesion at a visit (interchange §1 `status`).
///
/// Which statuses are valid depends on the [`Category`]; see
/// [`LesionStatus::is_valid_for`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LesionStatus {
    /// Target: measured; the diameter is in the record (E2).
    Measured,
    /// Target: disappeared, counts 0 mm. Non-target: gone (node back to SA < 10 mm).
    Absent,
    /// Target: present but too small to measure, counts 5 mm (also for nodes).
    TooSmall,
    /// Target or non-target: not assessed at this visit.
    NotEvaluable,
    /// Non-target: still present. New lesion: unequivocally present.
    Present,
    /// Non-target: unequivocal progression (a reader judgement).
    UnequivocalProgression,
    /// New lesion: equivocal; becomes PD retroactively if confirmed later (E6).
    Equivocal,
}

impl LesionStatus {
    /// Every status, in interchange order.
    pub const ALL: [LesionStatus; 7] = [
        LesionStatus::Measured,
        LesionStatus::Absent,
        LesionStatus::TooSmall,
        LesionStatus::NotEvaluable,
        LesionStatus::Present,
        LesionStatus::UnequivocalProgression,
        LesionStatus::Equivocal,
    ];

    /// The interchange code, e.g. `too_small`.
    pub fn code(self) -> &'static str {
        match self {
            LesionStatus::Measured => "measured",
            LesionStatus::Absent => "absent",
            LesionStatus::TooSmall => "too_small",
            LesionStatus::NotEvaluable => "not_evaluable",
            LesionStatus::Present => "present",
            LesionStatus::UnequivocalProgression => "unequivocal_progression",
            LesionStatus::Equivocal => "equivocal",
        }
    }

    /// Parses an interchange code (ASCII case-insensitive).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.code().eq_ignore_ascii_case(code))
    }

    /// The statuses a lesion of `category` may have (interchange §1).
    pub fn valid_for(category: Category) -> &'static [LesionStatus] {
        match category {
            Category::Target => &[
                LesionStatus::Measured,
                LesionStatus::Absent,
                LesionStatus::TooSmall,
                LesionStatus::NotEvaluable,
            ],
            Category::NonTarget => &[
                LesionStatus::Present,
                LesionStatus::Absent,
                LesionStatus::UnequivocalProgression,
                LesionStatus::NotEvaluable,
            ],
            Category::New => &[LesionStatus::Present, LesionStatus::Equivocal],
        }
    }

    /// Whether this status is allowed for a lesion of `category`.
    pub fn is_valid_for(self, category: Category) -> bool {
        Self::valid_for(category).contains(&self)
    }
}

impl fmt::Display for LesionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One lesion at one visit of one patient.
///
/// The text fields are shared strings (`Arc<str>`, built with `.into()`): a
/// table repeats each patient id, visit label and lesion id on many rows, and
/// sharing them keeps large cohorts compact and fast.
#[derive(Clone, Debug, PartialEq)]
pub struct LesionRecord {
    /// Patient identifier.
    pub patient_id: Arc<str>,
    /// Visit label (`baseline`, `W8`, ...); a visit is (patient_id, visit).
    pub visit: Arc<str>,
    /// Scan date; the patient's earliest date marks the baseline visit (E1).
    pub date: Date,
    /// Lesion identifier, stable across visits.
    pub lesion_id: Arc<str>,
    /// Target, non-target or new.
    pub category: Category,
    /// Organ (required for targets; used for the per-organ target count).
    pub organ: Arc<str>,
    /// Whether the lesion is a lymph node (taken from the baseline row, E1).
    pub lymph_node: bool,
    /// Longest diameter in mm (non-nodal targets).
    pub long_axis_mm: Option<f64>,
    /// Short axis in mm (nodal targets).
    pub short_axis_mm: Option<f64>,
    /// Reader's statement for this lesion at this visit (defaults resolved).
    pub status: LesionStatus,
    /// Segmented lesion volume in ml.
    pub volume_ml: Option<f64>,
    /// Mean T2-weighted signal intensity of the lesion ROI.
    pub t2_si: Option<f64>,
    /// Mean T2-weighted signal intensity of the reference ROI (same series).
    pub t2_ref_si: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_round_trip() {
        assert_eq!(
            Date::from_ymd(1970, 1, 1).map(Date::days_since_epoch),
            Some(0)
        );
        for days in [-700_000, -1, 0, 1, 59, 60, 365, 11_016, 19_782, 2_000_000] {
            let date = Date::from_days_since_epoch(days);
            let (y, m, d) = date.ymd();
            assert_eq!(Date::from_ymd(y, m, d), Some(date), "{days}");
        }
    }

    #[test]
    fn extreme_day_counts_do_not_panic() {
        for days in [i32::MIN, i32::MAX] {
            let date = Date::from_days_since_epoch(days);
            let _ = date.to_string();
            let _ = date.days_since(Date::from_days_since_epoch(-days.saturating_add(1)));
        }
    }

    #[test]
    fn parse_iso_is_strict() {
        let date = Date::parse_iso("2024-02-29").unwrap();
        assert_eq!(date.to_string(), "2024-02-29");
        assert_eq!(date.ymd(), (2024, 2, 29));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-00",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "2024-01-01T00:00",
            "+024-01-01",
            "2024-04-31",
            "",
        ] {
            assert_eq!(Date::parse_iso(bad), None, "{bad}");
        }
        assert!(Date::parse_iso("1900-02-28").is_some());
        assert!(Date::parse_iso("1900-02-29").is_none());
        assert!(Date::parse_iso("2000-02-29").is_some());
    }

    #[test]
    fn day_differences() {
        let a = Date::parse_iso("2024-01-01").unwrap();
        let b = Date::parse_iso("2024-03-01").unwrap();
        assert_eq!(b.days_since(a), 60);
        assert_eq!(a.days_since(b), -60);
    }

    #[test]
    fn codes_round_trip() {
        for status in LesionStatus::ALL {
            assert_eq!(LesionStatus::from_code(status.code()), Some(status));
        }
        assert_eq!(
            LesionStatus::from_code("Too_Small"),
            Some(LesionStatus::TooSmall)
        );
        assert_eq!(Category::from_code("NON_TARGET"), Some(Category::NonTarget));
        assert_eq!(Category::from_code("nontarget"), None);
        assert!(LesionStatus::Equivocal.is_valid_for(Category::New));
        assert!(!LesionStatus::Equivocal.is_valid_for(Category::Target));
        assert!(!LesionStatus::Measured.is_valid_for(Category::NonTarget));
    }
}
