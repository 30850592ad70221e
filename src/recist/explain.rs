//! One sentence per time point saying why it got its overall response.

use super::response::{OverallResponse, TargetResponse};

/// A new lesion counted at a visit; `confirmed_at` is set when it was equivocal
/// here and confirmed present at that later visit (E6).
pub(crate) struct NewLesionFact<'a> {
    pub(crate) lesion_id: &'a str,
    pub(crate) confirmed_at: Option<&'a str>,
}

/// Everything the explanation may cite.
pub(crate) struct Facts<'a> {
    pub(crate) has_non_targets: bool,
    pub(crate) target_response: Option<TargetResponse>,
    pub(crate) sum_mm: Option<f64>,
    pub(crate) assessed_sum_mm: Option<f64>,
    pub(crate) baseline_sum_mm: Option<f64>,
    pub(crate) nadir_mm: Option<f64>,
    pub(crate) change_from_baseline_pct: Option<f64>,
    pub(crate) change_from_nadir_pct: Option<f64>,
    pub(crate) unmeasured_baseline_ids: &'a [&'a str],
    pub(crate) unassessed_target_ids: &'a [&'a str],
    pub(crate) progressing_non_target_ids: &'a [&'a str],
    pub(crate) unevaluated_non_target_ids: &'a [&'a str],
    pub(crate) persisting_non_target_ids: &'a [&'a str],
    pub(crate) new_lesions: &'a [NewLesionFact<'a>],
    pub(crate) overall_response: OverallResponse,
}

/// Appends `value` with one decimal (half away from zero), `+` before
/// positive values if `explicit_plus`, and never `-0.0`. Integer formatting
/// keeps this cheap: explanations are built for every time point.
fn push_tenths(out: &mut String, value: f64, explicit_plus: bool) {
    use std::fmt::Write as _;
    let tenths = (value * 10.0).round();
    if !tenths.is_finite() || tenths.abs() >= 1e15 {
        let _ = write!(out, "{value:.1}");
        return;
    }
    // |tenths| < 1e15, so the cast is exact.
    let tenths = tenths as i64;
    if tenths < 0 {
        out.push('-');
    } else if explicit_plus && tenths > 0 {
        out.push('+');
    }
    let magnitude = tenths.unsigned_abs();
    push_digits(out, magnitude / 10);
    out.push('.');
    push_digits(out, magnitude % 10);
}

/// Appends the decimal digits of `value` (cheaper than the formatting machinery).
fn push_digits(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(digit) = digits.get_mut(start) {
            *digit = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    for digit in digits.iter().skip(start) {
        out.push(char::from(*digit));
    }
}

/// Builds one explanation sentence in a single buffer (no intermediate strings).
struct Sentence(String);

impl Sentence {
    fn new(code: &str) -> Self {
        let mut text = String::with_capacity(112);
        text.push_str(code);
        text.push_str(": ");
        Self(text)
    }

    fn text(&mut self, text: &str) -> &mut Self {
        self.0.push_str(text);
        self
    }

    /// `12.3`
    fn mm(&mut self, value: f64) -> &mut Self {
        push_tenths(&mut self.0, value, false);
        self
    }

    /// `+12.3`
    fn signed(&mut self, value: f64) -> &mut Self {
        push_tenths(&mut self.0, value, true);
        self
    }

    /// `T1, T2`
    fn ids(&mut self, list: &[&str]) -> &mut Self {
        for (index, id) in list.iter().enumerate() {
            if index > 0 {
                self.0.push_str(", ");
            }
            self.0.push_str(id);
        }
        self
    }

    /// `non-target NT1` / `non-targets NT1, NT2`
    fn noun(&mut self, singular: &str, list: &[&str]) -> &mut Self {
        self.0.push_str(singular);
        if list.len() != 1 {
            self.0.push('s');
        }
        self.0.push(' ');
        self.ids(list)
    }

    /// `+23.1% and +9.0 mm` (the percentage omitted when undefined).
    fn change(&mut self, pct: Option<f64>, delta_mm: f64) -> &mut Self {
        if let Some(pct) = pct {
            self.signed(pct).text("% and ");
        }
        self.signed(delta_mm).text(" mm")
    }
}

/// Appends the PD reasons that apply, separated by `; `.
fn push_pd_reasons(sentence: &mut Sentence, facts: &Facts<'_>) {
    let mut first = true;
    let mut separator = |sentence: &mut Sentence| {
        if !first {
            sentence.text("; ");
        }
        first = false;
    };
    if facts.target_response == Some(TargetResponse::Pd)
        && let (Some(nadir), Some(assessed)) = (facts.nadir_mm, facts.assessed_sum_mm)
    {
        separator(sentence);
        let pct = super::engine::percent_change(Some(assessed), Some(nadir));
        if facts.sum_mm.is_some() {
            sentence.text("sum ").mm(assessed).text(" mm is ");
        } else {
            sentence
                .ids(facts.unassessed_target_ids)
                .text(" not assessed, but the assessed sum ")
                .mm(assessed)
                .text(" mm is already ");
        }
        sentence
            .change(pct, assessed - nadir)
            .text(" over the nadir ")
            .mm(nadir)
            .text(" mm");
    }
    if !facts.new_lesions.is_empty() {
        separator(sentence);
        sentence.text(if facts.new_lesions.len() == 1 {
            "new lesion "
        } else {
            "new lesions "
        });
        for (index, fact) in facts.new_lesions.iter().enumerate() {
            if index > 0 {
                sentence.text(", ");
            }
            sentence.text(fact.lesion_id);
            if let Some(visit) = fact.confirmed_at {
                sentence
                    .text(" (equivocal here, confirmed at ")
                    .text(visit)
                    .text(")");
            }
        }
    }
    if !facts.progressing_non_target_ids.is_empty() {
        separator(sentence);
        sentence
            .text("unequivocal progression of ")
            .noun("non-target", facts.progressing_non_target_ids);
    }
}

fn sd_sentence(facts: &Facts<'_>) -> String {
    let mut sentence = Sentence::new("SD");
    let (Some(sum), Some(baseline), Some(nadir)) =
        (facts.sum_mm, facts.baseline_sum_mm, facts.nadir_mm)
    else {
        sentence.text("neither PR nor PD");
        return sentence.0;
    };
    let delta = sum - nadir;
    let pct_over_nadir = facts.change_from_nadir_pct;
    sentence.text("sum ").mm(sum).text(" mm is ");
    if delta > 0.0 && sum >= super::PD_MIN_RATIO * nadir - super::THRESHOLD_TOLERANCE {
        // +20 % reached but not +5 mm: the 5 mm rule keeps it SD.
        match pct_over_nadir {
            Some(pct) => sentence
                .signed(pct)
                .text("% over the nadir ")
                .mm(nadir)
                .text(" mm but only ")
                .signed(delta)
                .text(" mm"),
            None => sentence
                .signed(delta)
                .text(" mm over the nadir ")
                .mm(nadir)
                .text(" mm"),
        };
        sentence.text(" (PD needs +5 mm)");
        return sentence.0;
    }
    match facts.change_from_baseline_pct {
        Some(pct) => sentence.signed(pct).text("%"),
        None => sentence.signed(sum - baseline).text(" mm"),
    };
    sentence
        .text(" from baseline ")
        .mm(baseline)
        .text(" mm and ")
        .signed(delta)
        .text(" mm");
    if let Some(pct) = pct_over_nadir {
        sentence.text(" (").signed(pct).text("%)");
    }
    sentence.text(" from the nadir ").mm(nadir).text(" mm");
    sentence.0
}

/// The explanation sentence for one time point.
pub(crate) fn explain_timepoint(facts: &Facts<'_>) -> String {
    let has_targets = facts.target_response.is_some();
    let overall = facts.overall_response;
    if overall == OverallResponse::Sd {
        return sd_sentence(facts);
    }
    let mut sentence = Sentence::new(overall.code());
    match overall {
        OverallResponse::Pd => push_pd_reasons(&mut sentence, facts),
        OverallResponse::Cr if has_targets => {
            let sum = facts.sum_mm.unwrap_or(0.0);
            if sum > 0.0 {
                sentence
                    .text("all targets resolved (nodes < 10 mm short axis, sum ")
                    .mm(sum)
                    .text(" mm), ");
            } else {
                sentence.text("all targets resolved (sum 0.0 mm), ");
            }
            sentence
                .text(if facts.has_non_targets {
                    "all non-targets absent"
                } else {
                    "no non-target lesions"
                })
                .text(", no new lesions");
        }
        OverallResponse::Cr => {
            sentence.text("all non-target lesions absent, no new lesions");
        }
        OverallResponse::Pr => {
            if facts.target_response == Some(TargetResponse::Cr) {
                sentence.text("targets in complete response but ");
                let persisting = facts.persisting_non_target_ids;
                let unevaluated = facts.unevaluated_non_target_ids;
                if !persisting.is_empty() {
                    sentence
                        .noun("non-target", persisting)
                        .text(" still present");
                }
                if !persisting.is_empty() && !unevaluated.is_empty() {
                    sentence.text(" and ");
                }
                if !unevaluated.is_empty() {
                    sentence
                        .noun("non-target", unevaluated)
                        .text(" not evaluated");
                }
            } else if let (Some(sum), Some(baseline), Some(pct)) = (
                facts.sum_mm,
                facts.baseline_sum_mm,
                facts.change_from_baseline_pct,
            ) {
                sentence
                    .text("sum ")
                    .mm(sum)
                    .text(" mm is ")
                    .signed(pct)
                    .text("% from baseline ")
                    .mm(baseline)
                    .text(" mm");
            } else {
                sentence.text("sum at least 30% below baseline");
            }
        }
        OverallResponse::NonCrNonPd => {
            sentence
                .noun("non-target", facts.persisting_non_target_ids)
                .text(" still present, no new lesions");
        }
        OverallResponse::Ne => {
            if has_targets {
                if facts.unmeasured_baseline_ids.is_empty() {
                    sentence
                        .ids(facts.unassessed_target_ids)
                        .text(" not assessed and the assessed sum does not show PD");
                } else {
                    sentence
                        .text("no baseline sum (")
                        .ids(facts.unmeasured_baseline_ids)
                        .text(" not measured at baseline)");
                }
            } else if facts.has_non_targets {
                sentence
                    .noun("non-target", facts.unevaluated_non_target_ids)
                    .text(" not evaluated");
            } else {
                sentence.text("no target or non-target lesions at baseline");
            }
        }
        OverallResponse::Sd => {}
    }
    sentence.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mm(value: f64) -> String {
        let mut sentence = Sentence(String::new());
        sentence.mm(value);
        sentence.0
    }

    fn signed(value: f64) -> String {
        let mut sentence = Sentence(String::new());
        sentence.signed(value);
        sentence.0
    }

    #[test]
    fn numbers_have_one_decimal_and_explicit_signs() {
        assert_eq!(signed(23.076), "+23.1");
        assert_eq!(signed(-36.507), "-36.5");
        assert_eq!(signed(-0.01), "0.0");
        assert_eq!(signed(0.0), "0.0");
        assert_eq!(signed(0.05), "+0.1");
        assert_eq!(mm(48.0), "48.0");
        assert_eq!(mm(36.549), "36.5");
        assert_eq!(mm(1e300), format!("{:.1}", 1e300));
        assert_eq!(mm(f64::NAN), "NaN");
        assert_eq!(mm(1234567.89), "1234567.9");
        assert_eq!(mm(0.0), "0.0");
        assert_eq!(signed(-1000.04), "-1000.0");
    }

    #[test]
    fn lists_and_plurals() {
        let mut sentence = Sentence::new("NE");
        sentence
            .noun("non-target", &["NT1", "NT2"])
            .text(" not evaluated");
        assert_eq!(sentence.0, "NE: non-targets NT1, NT2 not evaluated");
    }
}
