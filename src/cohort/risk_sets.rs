//! Two-group risk sets at the distinct event times (shared by log-rank and Cox).

use super::km::SurvivalTime;

/// Counts at one distinct event time; index 0 = reference, 1 = experimental.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct EventTime {
    /// The time, months.
    pub time_months: f64,
    /// Patients at risk (time ≥ this time) per group.
    pub at_risk: [usize; 2],
    /// Events at this time per group.
    pub events: [usize; 2],
}

/// The distinct event times over both groups, ascending, with the numbers at
/// risk (a patient censored at t is at risk at t). Input order does not matter.
pub(crate) fn event_times(
    reference: &[SurvivalTime],
    experimental: &[SurvivalTime],
) -> Vec<EventTime> {
    let mut all: Vec<(f64, bool, usize)> = reference
        .iter()
        .map(|obs| (obs.time_months, obs.event, 0))
        .chain(
            experimental
                .iter()
                .map(|obs| (obs.time_months, obs.event, 1)),
        )
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = [reference.len(), experimental.len()];
    let mut out = Vec::new();
    let mut rest = all.as_slice();
    while let Some(first) = rest.first() {
        let time = first.0;
        let group_len = 1 + rest.iter().skip(1).take_while(|obs| obs.0 == time).count();
        let (group, tail) = rest.split_at(group_len.min(rest.len()));
        rest = tail;
        let mut events = [0_usize; 2];
        let mut leaving = [0_usize; 2];
        for &(_, event, arm) in group {
            if let Some(slot) = leaving.get_mut(arm) {
                *slot += 1;
            }
            if event {
                if let Some(slot) = events.get_mut(arm) {
                    *slot += 1;
                }
            }
        }
        if events[0] + events[1] > 0 {
            out.push(EventTime {
                time_months: time,
                at_risk,
                events,
            });
        }
        at_risk = [
            at_risk[0].saturating_sub(leaving[0]),
            at_risk[1].saturating_sub(leaving[1]),
        ];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(list: &[(f64, bool)]) -> Vec<SurvivalTime> {
        list.iter()
            .map(|&(time_months, event)| SurvivalTime { time_months, event })
            .collect()
    }

    #[test]
    fn counts_at_risk_and_events_per_group() {
        let reference = obs(&[(1.0, true), (2.0, false), (3.0, true)]);
        let experimental = obs(&[(2.0, true), (3.0, true), (4.0, false)]);
        let times = event_times(&reference, &experimental);
        assert_eq!(times.len(), 3);
        assert_eq!(times[0].at_risk, [3, 3]);
        assert_eq!(times[0].events, [1, 0]);
        assert_eq!(times[1].at_risk, [2, 3]);
        assert_eq!(times[1].events, [0, 1]);
        assert_eq!(times[2].at_risk, [1, 2]);
        assert_eq!(times[2].events, [1, 1]);
    }

    #[test]
    fn censoring_only_times_are_not_listed() {
        let times = event_times(&obs(&[(1.0, false)]), &obs(&[(2.0, false)]));
        assert!(times.is_empty());
    }
}
