//! Report arithmetic, following the written definitions on `/reports/definitions`: a period is
//! chosen in the viewer's time zone and compared in UTC as [from, to); percentiles are
//! nearest-rank on the sorted values; an empty set has no figure ("—"), never 0.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// A report period: local calendar days `first..=last` in the viewer's zone, and the UTC
/// instants [from, to) they cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub preset: &'static str,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// The presets the filter bar offers, with their labels.
pub const PRESETS: [(&str, &str); 8] = [
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("this_month", "This month"),
    ("last_month", "Last month"),
    ("this_quarter", "This quarter"),
    ("last_quarter", "Last quarter"),
    ("custom", "Custom"),
];

/// The longest custom period, in days.
pub const MAX_DAYS: i64 = 3 * 366;

/// Local midnight of `day` as UTC. In a DST gap (no midnight that day) the first instant after it.
pub fn local_midnight_utc(day: NaiveDate, tz: Tz) -> NaiveDateTime {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&midnight).earliest() {
        Some(t) => t.naive_utc(),
        None => (1..=4)
            .find_map(|h| tz.from_local_datetime(&(midnight + Duration::hours(h))).earliest())
            .map_or(midnight, |t| t.naive_utc()),
    }
}

fn quarter_start(d: NaiveDate) -> NaiveDate {
    let month = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), month, 1).unwrap_or(d)
}

fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + months;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

/// The period a filter bar names. `today` is the viewer's local date; `from`/`to` (YYYY-MM-DD,
/// both inclusive) are read only for `custom`. Unknown presets fall back to the last 30 days.
pub fn period(preset: &str, from: &str, to: &str, today: NaiveDate, tz: Tz) -> Result<Period, String> {
    let (preset, first, last): (&'static str, NaiveDate, NaiveDate) = match preset {
        "7d" => ("7d", today - Duration::days(6), today),
        "90d" => ("90d", today - Duration::days(89), today),
        "this_month" => ("this_month", add_months(today, 0), add_months(today, 1) - Duration::days(1)),
        "last_month" => ("last_month", add_months(today, -1), add_months(today, 0) - Duration::days(1)),
        "this_quarter" => {
            let q = quarter_start(today);
            ("this_quarter", q, add_months(q, 3) - Duration::days(1))
        }
        "last_quarter" => {
            let q = add_months(quarter_start(today), -3);
            ("last_quarter", q, add_months(q, 3) - Duration::days(1))
        }
        "custom" => {
            let parse = |s: &str, what: &str| {
                NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("Enter the {what} date as YYYY-MM-DD."))
            };
            let (a, b) = (parse(from, "start")?, parse(to, "end")?);
            if b < a {
                return Err("The end date is before the start date.".into());
            }
            if (b - a).num_days() >= MAX_DAYS {
                return Err(format!("A period is at most {MAX_DAYS} days."));
            }
            ("custom", a, b)
        }
        _ => ("30d", today - Duration::days(29), today),
    };
    Ok(Period {
        preset,
        first,
        last,
        from: local_midnight_utc(first, tz),
        to: local_midnight_utc(last + Duration::days(1), tz),
    })
}

impl Period {
    /// The period just before this one, as long (for "change vs the previous period").
    pub fn previous(&self, tz: Tz) -> Period {
        let days = (self.last - self.first).num_days() + 1;
        let last = self.first - Duration::days(1);
        let first = last - Duration::days(days - 1);
        Period {
            preset: self.preset,
            first,
            last,
            from: local_midnight_utc(first, tz),
            to: local_midnight_utc(self.first, tz),
        }
    }

    pub fn contains(&self, t: NaiveDateTime) -> bool {
        self.from <= t && t < self.to
    }
}

/// The nearest-rank percentile (`p` in 1..=100) of values sorted ascending: the value at rank
/// ⌈p/100 · n⌉. None for an empty set.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: u32) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p.clamp(1, 100)) * n).div_ceil(100).max(1);
    sorted.get(usize::try_from(rank - 1).ok()?).copied()
}

/// Count, mean, median (p50) and p90 of durations; the figures are None for an empty set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    pub count: usize,
    pub mean: Option<Duration>,
    pub median: Option<Duration>,
    pub p90: Option<Duration>,
}

pub fn summarize(values: Vec<Duration>) -> Summary {
    summarize_secs(values.iter().map(Duration::num_seconds).collect())
}

/// [`summarize`] over whole seconds (what every figure shows). The two ranks are selected
/// (p90 first, then the median among the values below it), not found by sorting everything.
pub fn summarize_secs(mut values: Vec<i64>) -> Summary {
    let count = values.len();
    if count == 0 {
        return Summary::default();
    }
    let mean = Duration::seconds(values.iter().sum::<i64>() / count as i64);
    let index = |p: u64| usize::try_from((p * count as u64).div_ceil(100).max(1) - 1).unwrap_or(0);
    let (hi, lo) = (index(90), index(50));
    let (below, p90, _) = values.select_nth_unstable(hi);
    let p90 = *p90;
    let median = if lo == hi { p90 } else { *below.select_nth_unstable(lo).1 };
    Summary { count, mean: Some(mean), median: Some(Duration::seconds(median)), p90: Some(Duration::seconds(p90)) }
}

/// A share as a percentage with one decimal, or None when nothing was counted.
pub fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// A rate for a report cell: "—" for none, else "33.3 %".
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_string(), |p| format!("{p} %"))
}

/// A duration for a report cell: "—" for none, else the two largest units ("3 h 20 min").
pub fn human(d: Option<Duration>) -> String {
    let Some(d) = d else { return "—".into() };
    let s = d.num_seconds().max(0);
    let (days, hours, minutes) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// How a report splits its period for trends: local days, ISO weeks (Monday first) or months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grouping {
    #[default]
    Day,
    Week,
    Month,
}

impl Grouping {
    pub const ALL: [Grouping; 3] = [Grouping::Day, Grouping::Week, Grouping::Month];

    /// Unknown values read as the default: days for periods up to 31 days, weeks up to 120,
    /// months beyond.
    pub fn parse_for(s: &str, p: &Period) -> Grouping {
        match s {
            "day" => Grouping::Day,
            "week" => Grouping::Week,
            "month" => Grouping::Month,
            _ => match (p.last - p.first).num_days() {
                0..=30 => Grouping::Day,
                31..=119 => Grouping::Week,
                _ => Grouping::Month,
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Day => "day",
            Grouping::Week => "week",
            Grouping::Month => "month",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Grouping::Day => "Day",
            Grouping::Week => "Week",
            Grouping::Month => "Month",
        }
    }
}

/// One interval of a grouped period: its first local day (the label) and the UTC instants
/// [from, to) it covers. The first and last intervals are cut to the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub first: NaiveDate,
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
}

/// The period split into intervals, in order, covering it exactly.
pub fn intervals(p: &Period, g: Grouping, tz: Tz) -> Vec<Interval> {
    let mut out = Vec::new();
    let mut start = p.first;
    while start <= p.last {
        let next = match g {
            Grouping::Day => start + Duration::days(1),
            Grouping::Week => start + Duration::days(7 - i64::from(start.weekday().num_days_from_monday())),
            Grouping::Month => add_months(start, 1),
        };
        let end = next.min(p.last + Duration::days(1));
        out.push(Interval { first: start, from: local_midnight_utc(start, tz), to: local_midnight_utc(end, tz) });
        start = end;
    }
    out
}

/// The index of the interval holding `t`, if any (intervals in order, contiguous).
pub fn interval_of(intervals: &[Interval], t: NaiveDateTime) -> Option<usize> {
    let i = intervals.partition_point(|iv| iv.to <= t);
    intervals.get(i).filter(|iv| iv.from <= t).map(|_| i)
}

/// The items of each interval, each item's moment looked up once; items outside every
/// interval are left out.
pub fn by_interval<'a, T>(
    intervals: &[Interval],
    items: impl IntoIterator<Item = &'a T>,
    at: impl Fn(&T) -> NaiveDateTime,
) -> Vec<Vec<&'a T>> {
    let mut out: Vec<Vec<&T>> = intervals.iter().map(|_| Vec::new()).collect();
    for item in items {
        if let Some(v) = interval_of(intervals, at(item)).and_then(|i| out.get_mut(i)) {
            v.push(item);
        }
    }
    out
}

/// 12345 → "12,345".
pub fn thousands(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A count with its noun: "1 incident", "2,345 incidents".
pub fn count_of(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Ratio of part to whole as a fraction (0.0–1.0) for exports; None for an empty whole.
pub fn fraction(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_carry_the_right_noun() {
        assert_eq!(count_of(1, "incident", "incidents"), "1 incident");
        assert_eq!(count_of(0, "incident", "incidents"), "0 incidents");
        assert_eq!(count_of(12_345, "incident", "incidents"), "12,345 incidents");
    }
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn presets_cover_whole_local_days() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap_or(chrono_tz::UTC);
        let today = d(2026, 3, 31);
        let p = period("7d", "", "", today, berlin).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.first, p.last), (d(2026, 3, 25), d(2026, 3, 31)));
        // 25 March is before the switch to summer time (UTC+1), 1 April after it (UTC+2).
        assert_eq!(p.from.to_string(), "2026-03-24 23:00:00");
        assert_eq!(p.to.to_string(), "2026-03-31 22:00:00");
        let m = period("last_month", "", "", today, chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.first, m.last), (d(2026, 2, 1), d(2026, 2, 28)));
        let q = period("last_quarter", "", "", d(2026, 2, 10), chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((q.first, q.last), (d(2025, 10, 1), d(2025, 12, 31)));
        let tq = period("this_quarter", "", "", d(2026, 12, 6), chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((tq.first, tq.last), (d(2026, 10, 1), d(2026, 12, 31)));
        assert_eq!(period("nonsense", "", "", today, chrono_tz::UTC).map(|p| p.preset), Ok("30d"));
        let c = period("custom", "2026-01-01", "2026-01-31", today, chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.previous(chrono_tz::UTC).first, d(2025, 12, 1));
        assert!(period("custom", "2026-02-01", "2026-01-01", today, chrono_tz::UTC).is_err());
        assert!(period("custom", "2026-02-30", "2026-03-01", today, chrono_tz::UTC).is_err());
        assert!(period("custom", "2020-01-01", "2026-01-01", today, chrono_tz::UTC).is_err());
    }

    proptest::proptest! {
        /// Selecting the ranks gives what sorting gives.
        #[test]
        fn selected_ranks_equal_sorted_ranks(values in proptest::collection::vec(-1000i64..100_000, 0..300)) {
            let mut sorted = values.clone();
            sorted.sort_unstable();
            let s = summarize_secs(values);
            proptest::prop_assert_eq!(s.median, nearest_rank(&sorted, 50).map(Duration::seconds));
            proptest::prop_assert_eq!(s.p90, nearest_rank(&sorted, 90).map(Duration::seconds));
            proptest::prop_assert_eq!(s.count, sorted.len());
        }
    }

    #[test]
    fn nearest_rank_follows_its_definition() {
        let v = [15, 20, 35, 40, 50];
        assert_eq!(nearest_rank(&v, 5), Some(15));
        assert_eq!(nearest_rank(&v, 30), Some(20));
        assert_eq!(nearest_rank(&v, 40), Some(20));
        assert_eq!(nearest_rank(&v, 50), Some(35));
        assert_eq!(nearest_rank(&v, 100), Some(50));
        assert_eq!(nearest_rank::<i32>(&[], 50), None);
        let s = summarize(vec![Duration::minutes(10), Duration::minutes(20), Duration::minutes(90)]);
        assert_eq!((s.count, s.mean, s.median), (3, Some(Duration::minutes(40)), Some(Duration::minutes(20))));
        assert_eq!(summarize(Vec::new()), Summary::default());
        assert_eq!(human(None), "—");
        assert_eq!(human(Some(Duration::minutes(200))), "3 h 20 min");
        assert_eq!(rate(1, 3), Some(33.3));
        assert_eq!(rate(0, 0), None);
    }

    proptest! {
        #[test]
        fn a_percentile_is_a_member_and_grows_with_p(mut v in proptest::collection::vec(0i64..1_000_000, 1..200), p in 1u32..=100, q in 1u32..=100) {
            v.sort();
            let (lo, hi) = (p.min(q), p.max(q));
            let (a, b) = (nearest_rank(&v, lo).unwrap_or_default(), nearest_rank(&v, hi).unwrap_or_default());
            prop_assert!(v.contains(&a));
            prop_assert!(a <= b);
            // At least p % of the values are at or below it, and fewer than p % strictly below.
            let at_or_below = v.iter().filter(|x| **x <= a).count() as u64;
            let below = v.iter().filter(|x| **x < a).count() as u64;
            prop_assert!(at_or_below * 100 >= u64::from(lo) * v.len() as u64);
            prop_assert!(below * 100 < u64::from(lo) * v.len() as u64);
            prop_assert_eq!(nearest_rank(&v, 100), v.last().copied());
        }

        #[test]
        fn intervals_cover_the_period_exactly(days in 0i64..3000, len in 0i64..400, g in 0usize..3, zone in 0usize..4) {
            let zones = ["UTC", "Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe"];
            let tz: Tz = zones[zone].parse().unwrap_or(chrono_tz::UTC);
            let first = d(2020, 1, 1) + Duration::days(days);
            let p = period("custom", &first.to_string(), &(first + Duration::days(len)).to_string(), first, tz)
                .unwrap_or_else(|e| panic!("{e}"));
            let iv = intervals(&p, Grouping::ALL[g], tz);
            prop_assert_eq!(iv.first().map(|i| i.from), Some(p.from));
            prop_assert_eq!(iv.last().map(|i| i.to), Some(p.to));
            for w in iv.windows(2) {
                prop_assert_eq!(w[0].to, w[1].from);
                prop_assert!(w[0].from < w[0].to);
            }
            let t = p.from + (p.to - p.from) / 2;
            let i = interval_of(&iv, t).unwrap_or(usize::MAX);
            prop_assert!(iv[i].from <= t && t < iv[i].to);
            prop_assert_eq!(interval_of(&iv, p.to), None);
        }

        #[test]
        fn periods_are_contiguous_and_whole_days(days in 0i64..3000, preset in 0usize..7, zone in 0usize..4) {
            let zones = ["UTC", "Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe"];
            let tz: Tz = zones[zone].parse().unwrap_or(chrono_tz::UTC);
            let today = d(2020, 1, 1) + Duration::days(days);
            let p = period(PRESETS[preset].0, "", "", today, tz).unwrap_or_else(|e| panic!("{e}"));
            prop_assert!(p.first <= today || p.preset.starts_with("this_"));
            prop_assert!(p.from < p.to);
            let prev = p.previous(tz);
            prop_assert_eq!(prev.to, p.from, "the previous period ends where this one starts");
            prop_assert_eq!((prev.last - prev.first).num_days(), (p.last - p.first).num_days());
        }
    }
}
