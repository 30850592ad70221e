//! The machine-readable forms of `docs/interchange.md`, field names exactly:
//! the lesion table (§1), `assess` JSON (§2), `inspect` JSON (§3), and the
//! cohort patient table and JSON (§4).

pub mod assess_json;
pub mod cohort_json;
pub mod cohort_lesions;
pub mod inspect_json;
pub mod lesion_table;
pub mod patient_table;
