//! When teams work, by the local times git records: off-hours, weekend and late-night commits,
//! out-of-hours deployments and night pages (docs/metrics.md, "Wellbeing"). Team level only:
//! nothing here knows a person beyond counting them.

use serde::Serialize;

use crate::model::Millis;

/// A local instant's day of the week (0 Monday … 6 Sunday) and minute of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Local {
    pub weekday: u8,
    pub minute: u16,
}

/// `at` in the fixed UTC offset a commit recorded.
pub fn at_offset(at: Millis, offset_minutes: i32) -> Local {
    let local = at.div_euclid(60_000) + i64::from(offset_minutes);
    let day = local.div_euclid(1440);
    Local {
        // 1970-01-01 was a Thursday (3 from Monday).
        weekday: (day + 3).rem_euclid(7) as u8,
        minute: local.rem_euclid(1440) as u16,
    }
}

/// `at` in a time zone (daylight saving included).
pub fn in_zone(at: Millis, tz: &jiff::tz::TimeZone) -> Local {
    let offset = jiff::Timestamp::from_millisecond(at)
        .map(|t| tz.to_offset(t).seconds() / 60)
        .unwrap_or(0);
    at_offset(at, offset)
}

/// Working time: [start, end) minutes of the day on the working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub start: u16,
    pub end: u16,
    /// Monday first.
    pub days: [bool; 7],
}

impl Default for Hours {
    /// 09:00–18:00, Monday to Friday.
    fn default() -> Hours {
        Hours {
            start: 9 * 60,
            end: 18 * 60,
            days: [true, true, true, true, true, false, false],
        }
    }
}

impl Hours {
    /// `HH:MM-HH:MM`, the end after the start.
    pub fn parse_span(text: &str) -> Option<(u16, u16)> {
        let minute = |s: &str| -> Option<u16> {
            let (h, m) = s.trim().split_once(':')?;
            let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
            (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
        };
        let (a, b) = text.split_once('-')?;
        let (start, end) = (minute(a)?, minute(b)?);
        (start < end).then_some((start, end))
    }

    /// Day names (`Mon`, `monday`…) as the working days.
    pub fn parse_days(names: &[String]) -> Option<[bool; 7]> {
        let mut days = [false; 7];
        for n in names {
            let i = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .position(|d| n.trim().to_lowercase().starts_with(d))?;
            days[i] = true;
        }
        Some(days)
    }

    pub fn working(&self, l: Local) -> bool {
        self.days[l.weekday as usize] && self.start <= l.minute && l.minute < self.end
    }
}

/// Saturday or Sunday.
pub fn weekend(l: Local) -> bool {
    l.weekday >= 5
}

/// [22:00, 06:00).
pub fn late_night(l: Local) -> bool {
    l.minute >= 22 * 60 || l.minute < 6 * 60
}

/// A group's commits by when they were made (shares `null` without commits).
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Commits {
    pub total: usize,
    pub off_hours: usize,
    pub weekend: usize,
    pub late_night: usize,
    pub off_hours_share: Option<f64>,
    pub weekend_share: Option<f64>,
    pub late_night_share: Option<f64>,
}

impl Commits {
    /// Counts commits at `locals` against `hours`.
    pub fn of(locals: &[Local], hours: &Hours) -> Commits {
        let count = |f: &dyn Fn(Local) -> bool| locals.iter().filter(|l| f(**l)).count();
        let total = locals.len();
        let share = |n: usize| (total > 0).then(|| n as f64 / total as f64);
        let off_hours = count(&|l| !hours.working(l));
        let weekend = count(&|l| weekend(l));
        let late_night = count(&|l| late_night(l));
        Commits {
            total,
            off_hours,
            weekend,
            late_night,
            off_hours_share: share(off_hours),
            weekend_share: share(weekend),
            late_night_share: share(late_night),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-05-03, a Friday, 00:00 UTC.
    const FRIDAY: Millis = 1_714_694_400_000;
    const H: Millis = 3_600_000;

    #[test]
    fn local_times_east_and_west_of_utc() {
        // Friday 20:00 UTC is Saturday 05:30 in +09:30 (weekend, late night) and Friday 13:00
        // in −07:00 (working time).
        let at = FRIDAY + 20 * H;
        let east = at_offset(at, 9 * 60 + 30);
        assert_eq!((east.weekday, east.minute), (5, 5 * 60 + 30));
        assert!(weekend(east) && late_night(east));
        let west = at_offset(at, -7 * 60);
        assert_eq!((west.weekday, west.minute), (4, 13 * 60));
        assert!(Hours::default().working(west));
    }

    #[test]
    fn the_edges_of_working_time_and_of_the_night() {
        let hours = Hours::default();
        let at = |h: i64, m: i64| at_offset(FRIDAY + h * H + m * 60_000, 0);
        assert!(!hours.working(at(18, 0)) && hours.working(at(17, 59)));
        assert!(hours.working(at(9, 0)) && !hours.working(at(8, 59)));
        assert!(!late_night(at(6, 0)) && late_night(at(5, 59)) && late_night(at(22, 0)));
        assert!(!late_night(at(21, 59)));
    }

    #[test]
    fn shares_of_a_worked_example() {
        // Friday 10:00 (working), Friday 18:00 (off-hours), Saturday 11:00 (weekend,
        // off-hours), Friday 23:30 (late night, off-hours): 3, 1 and 1 of 4.
        let locals: Vec<Local> = [10 * H, 18 * H, 35 * H, 23 * H + H / 2]
            .iter()
            .map(|t| at_offset(FRIDAY + t, 0))
            .collect();
        let c = Commits::of(&locals, &Hours::default());
        assert_eq!(
            (c.total, c.off_hours, c.weekend, c.late_night),
            (4, 3, 1, 1)
        );
        assert_eq!(c.off_hours_share, Some(0.75));
    }

    #[test]
    fn daylight_saving_moves_a_zones_local_time() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        // 08:00 UTC is 09:00 in January (+01:00) and 10:00 in July (+02:00).
        let january = in_zone(1_704_758_400_000 + 8 * H, &berlin);
        let july = in_zone(1_720_396_800_000 + 8 * H, &berlin);
        assert_eq!((january.minute, july.minute), (9 * 60, 10 * 60));
    }

    #[test]
    fn hours_and_days_parse() {
        assert_eq!(Hours::parse_span("08:30-17:00"), Some((510, 1020)));
        assert_eq!(Hours::parse_span("18:00-09:00"), None);
        let days = Hours::parse_days(&["Sun".into(), "thursday".into()]).unwrap();
        assert_eq!(days, [false, false, false, true, false, false, true]);
        assert!(Hours::parse_days(&["Funday".into()]).is_none());
    }
}
