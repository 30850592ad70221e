//! PFS and time to response from dates (input path b: lesion table + patient
//! table, interchange §4b). Dates are day numbers (any fixed epoch).
//!
//! The PFS event is the first overall PD or death, whichever comes first;
//! without either, the patient is censored at the last assessment date.
//! Months = days / 30.4375.

use super::DAYS_PER_MONTH;

/// The dates of one patient, as day numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatientDates {
    /// Start of treatment / randomisation.
    pub start_day: i64,
    /// Death, if known.
    pub death_day: Option<i64>,
    /// Last tumour assessment (the latest scan date).
    pub last_assessment_day: i64,
    /// First assessment with overall response PD.
    pub first_progression_day: Option<i64>,
    /// First assessment with overall response CR or PR.
    pub first_response_day: Option<i64>,
}

/// PFS and time to response, months.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PfsTimes {
    /// Time to the PFS event or censoring.
    pub pfs_months: f64,
    /// `true` = event (progression or death).
    pub progressed: bool,
    /// Time to first CR/PR; `None` without a response.
    pub ttr_months: Option<f64>,
}

/// Dates that cannot give a PFS time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DatesError {
    /// Progression or death before the start date.
    #[error("PFS event on day {event_day} is before the start date (day {start_day})")]
    EventBeforeStart {
        /// The event day.
        event_day: i64,
        /// The start day.
        start_day: i64,
    },
    /// First response before the start date.
    #[error("first response on day {response_day} is before the start date (day {start_day})")]
    ResponseBeforeStart {
        /// The response day.
        response_day: i64,
        /// The start day.
        start_day: i64,
    },
}

/// Computes PFS (event = earliest of first PD and death; else censored at the
/// last assessment) and time to response.
///
/// A last assessment before the start date (e.g. only a baseline scan taken
/// before randomisation) censors the patient at time 0.
pub fn pfs_from_dates(dates: &PatientDates) -> Result<PfsTimes, DatesError> {
    let event_day = match (dates.first_progression_day, dates.death_day) {
        (Some(pd), Some(death)) => Some(pd.min(death)),
        (pd, death) => pd.or(death),
    };
    let (end_day, progressed) = match event_day {
        Some(event_day) if event_day < dates.start_day => {
            return Err(DatesError::EventBeforeStart {
                event_day,
                start_day: dates.start_day,
            });
        }
        Some(event_day) => (event_day, true),
        None => (dates.last_assessment_day.max(dates.start_day), false),
    };
    let ttr_months = match dates.first_response_day {
        Some(response_day) if response_day < dates.start_day => {
            return Err(DatesError::ResponseBeforeStart {
                response_day,
                start_day: dates.start_day,
            });
        }
        Some(response_day) => Some(days_to_months(response_day - dates.start_day)),
        None => None,
    };
    Ok(PfsTimes {
        pfs_months: days_to_months(end_day - dates.start_day),
        progressed,
        ttr_months,
    })
}

/// Days to months (days / 30.4375).
pub fn days_to_months(days: i64) -> f64 {
    days as f64 / DAYS_PER_MONTH
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates() -> PatientDates {
        PatientDates {
            start_day: 100,
            death_day: None,
            last_assessment_day: 400,
            first_progression_day: None,
            first_response_day: None,
        }
    }

    #[test]
    fn censored_at_last_assessment_without_event() {
        let times = pfs_from_dates(&dates()).unwrap();
        assert!(!times.progressed);
        assert_eq!(times.pfs_months, 300.0 / 30.4375);
        assert_eq!(times.ttr_months, None);
    }

    #[test]
    fn progression_is_the_event() {
        let times = pfs_from_dates(&PatientDates {
            first_progression_day: Some(283),
            ..dates()
        })
        .unwrap();
        assert!(times.progressed);
        assert_eq!(times.pfs_months, 183.0 / 30.4375);
    }

    #[test]
    fn death_before_progression_is_the_event() {
        let times = pfs_from_dates(&PatientDates {
            first_progression_day: Some(300),
            death_day: Some(250),
            ..dates()
        })
        .unwrap();
        assert!(times.progressed);
        assert_eq!(times.pfs_months, 150.0 / 30.4375);
    }

    #[test]
    fn death_after_last_assessment_without_progression_is_the_event() {
        let times = pfs_from_dates(&PatientDates {
            death_day: Some(500),
            ..dates()
        })
        .unwrap();
        assert!(times.progressed);
        assert_eq!(times.pfs_months, 400.0 / 30.4375);
    }

    #[test]
    fn progression_before_death_is_the_event() {
        let times = pfs_from_dates(&PatientDates {
            first_progression_day: Some(200),
            death_day: Some(250),
            ..dates()
        })
        .unwrap();
        assert_eq!(times.pfs_months, 100.0 / 30.4375);
    }

    #[test]
    fn time_to_response_from_first_response() {
        let times = pfs_from_dates(&PatientDates {
            first_response_day: Some(161),
            ..dates()
        })
        .unwrap();
        assert_eq!(times.ttr_months, Some(61.0 / 30.4375));
    }

    #[test]
    fn last_assessment_before_start_censors_at_zero() {
        let times = pfs_from_dates(&PatientDates {
            last_assessment_day: 90,
            ..dates()
        })
        .unwrap();
        assert_eq!(times.pfs_months, 0.0);
        assert!(!times.progressed);
    }

    #[test]
    fn event_or_response_before_start_is_an_error() {
        let err = pfs_from_dates(&PatientDates {
            death_day: Some(50),
            ..dates()
        });
        assert_eq!(
            err,
            Err(DatesError::EventBeforeStart {
                event_day: 50,
                start_day: 100
            })
        );
        let err = pfs_from_dates(&PatientDates {
            first_response_day: Some(99),
            ..dates()
        });
        assert!(matches!(err, Err(DatesError::ResponseBeforeStart { .. })));
    }
}
