//! Scoring the detector against injected events, per event (no point-adjusted scoring): an
//! event is found when a flag falls within a week of its span; every flag within it is a true
//! alert, every other one a false alert. `benches/anomaly.rs` scores with it.

use super::{Flag, Kind};

/// An injected event: the weeks it spans; a drift counts any flag from its start on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Injected {
    pub start: usize,
    pub end: usize,
    pub open_ended: bool,
}

/// One series scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scored {
    /// Weeks from the event's start to the week its first matching flag is known (a shift is
    /// known at its last required week); `None` when no flag matched.
    pub delay: Option<usize>,
    pub true_alerts: usize,
    pub false_alerts: usize,
}

/// Scores the flags of a series holding `event` (±1 week; a shift becomes known
/// `shift_weeks − 1` weeks after its onset).
pub fn score(event: Injected, flags: &[Flag], shift_weeks: usize) -> Scored {
    let hit =
        |f: &&Flag| f.index + 1 >= event.start && (event.open_ended || f.index <= event.end + 1);
    let matched: Vec<&Flag> = flags.iter().filter(hit).collect();
    let delay = matched.first().map(|f| {
        let known = match f.kind {
            Kind::Shift => f.index + shift_weeks.saturating_sub(1),
            _ => f.index,
        };
        known.saturating_sub(event.start)
    });
    Scored {
        delay,
        true_alerts: matched.len(),
        false_alerts: flags.len() - matched.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anomaly::Direction;

    fn flag(index: usize, kind: Kind) -> Flag {
        Flag {
            index,
            value: 0.0,
            baseline: 0.0,
            low: 0.0,
            high: 0.0,
            direction: Direction::Up,
            kind,
        }
    }

    #[test]
    fn a_hand_made_case() {
        let at = |start, end| Injected {
            start,
            end,
            open_ended: false,
        };
        // A spike in week 20: flags in weeks 19 and 21 are right, 5 and 22 wrong.
        let flags = [5, 19, 21, 22].map(|i| flag(i, Kind::Spike));
        assert_eq!(
            score(at(20, 20), &flags, 3),
            Scored {
                delay: Some(0),
                true_alerts: 2,
                false_alerts: 2
            }
        );
        // Deployments stopped in weeks 10 and 11: a flag in week 12 is within a week of it.
        let s = score(at(10, 11), &[flag(12, Kind::Drop)], 3);
        assert_eq!((s.delay, s.true_alerts), (Some(2), 1));
        // A shift from week 40 flagged at 41 is known at week 43: three weeks late.
        assert_eq!(
            score(at(40, 40), &[flag(41, Kind::Shift)], 3).delay,
            Some(3)
        );
        // A drift from week 50: any flag from week 49 on; one before is false.
        let drift = Injected {
            start: 50,
            end: 50,
            open_ended: true,
        };
        let s = score(drift, &[flag(47, Kind::Spike), flag(70, Kind::Shift)], 3);
        assert_eq!(
            s,
            Scored {
                delay: Some(22),
                true_alerts: 1,
                false_alerts: 1
            }
        );
        // Nothing flagged: not found, nothing false.
        assert_eq!(
            score(at(30, 30), &[], 3),
            Scored {
                delay: None,
                true_alerts: 0,
                false_alerts: 0
            }
        );
    }
}
