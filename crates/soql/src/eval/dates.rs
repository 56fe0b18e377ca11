//! Date literal ranges and date functions.
//!
//! Every date literal is a half-open range of whole local days `[start, end)` in the user's
//! time zone, "starting at 00:00:00" as the SOQL reference puts it
//! (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm).
//! Date fields compare against the days; dateTime fields against the instants at which those
//! days begin in `time_zone`.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use super::EvalContext;
use crate::ast::{DateLiteral, DateLiteralKind, Function};
use crate::data::Value;

/// A range of whole local days, resolved to instants once so rows compare cheaply.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DayRange {
    pub start: NaiveDate,
    /// Exclusive.
    pub end: NaiveDate,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
}

/// Where a value falls relative to a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    Before,
    Inside,
    After,
}

impl DayRange {
    pub fn new(start: NaiveDate, end: NaiveDate, zone: Tz) -> Self {
        Self {
            start,
            end,
            start_at: local_midnight(start, zone),
            end_at: local_midnight(end, zone),
        }
    }

    pub fn day(day: NaiveDate, zone: Tz) -> Self {
        Self::new(day, add_days(day, 1), zone)
    }

    /// `None` for values that are not dates.
    pub fn position(&self, value: &Value) -> Option<Position> {
        let (before, after) = match value {
            Value::Date(d) => (*d < self.start, *d >= self.end),
            Value::DateTime(t) => (*t < self.start_at, *t >= self.end_at),
            _ => return None,
        };
        Some(if before {
            Position::Before
        } else if after {
            Position::After
        } else {
            Position::Inside
        })
    }
}

/// The instant a local day begins. Where a DST change skips midnight, the day begins at the
/// first local time that exists.
fn local_midnight(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    for hours in 0..3 {
        if let Some(t) = zone
            .from_local_datetime(&(midnight + Duration::hours(hours)))
            .earliest()
        {
            return t.with_timezone(&Utc);
        }
    }
    Utc.from_utc_datetime(&midnight)
}

/// How the org's standard fiscal year is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fiscal {
    pub start_month: u32,
    pub named_by_end: bool,
}

impl Fiscal {
    pub fn from_context(ctx: &EvalContext) -> Self {
        Self {
            start_month: ctx.fiscal_year_start_month.clamp(1, 12),
            named_by_end: ctx.fiscal_year_named_by_end,
        }
    }

    /// Months since the start of the fiscal year (0..12).
    fn month_offset(self, day: NaiveDate) -> u32 {
        (day.month() + 12 - self.start_month) % 12
    }

    pub fn month(self, day: NaiveDate) -> u32 {
        self.month_offset(day) + 1
    }

    pub fn quarter(self, day: NaiveDate) -> u32 {
        self.month_offset(day) / 3 + 1
    }

    /// The fiscal year's number. A year starting in a month other than January spans two
    /// calendar years; Salesforce's setting "Fiscal Year is Based On" names it by the
    /// starting or the ending month (Help article 000385162).
    pub fn year(self, day: NaiveDate) -> i32 {
        let start_year = if day.month() >= self.start_month {
            day.year()
        } else {
            day.year() - 1
        };
        if self.start_month != 1 && self.named_by_end {
            start_year + 1
        } else {
            start_year
        }
    }

    fn year_start(self, day: NaiveDate) -> NaiveDate {
        add_months(first_of_month(day), -i64::from(self.month_offset(day)))
    }

    fn quarter_start(self, day: NaiveDate) -> NaiveDate {
        add_months(first_of_month(day), -i64::from(self.month_offset(day) % 3))
    }
}

fn first_of_month(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// Adds months to the first day of a month.
/// Adds months to the first day of a month. Beyond the calendar's range (a literal like
/// `LAST_N_YEARS:4000000000`) the result clamps to its first or last day.
fn add_months(first: NaiveDate, months: i64) -> NaiveDate {
    let index = i64::from(first.year()) * 12 + i64::from(first.month0()) + months;
    i32::try_from(index.div_euclid(12))
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, index.rem_euclid(12) as u32 + 1, 1))
        .unwrap_or(if months < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

fn add_days(day: NaiveDate, days: i64) -> NaiveDate {
    Duration::try_days(days)
        .and_then(|d| day.checked_add_signed(d))
        .unwrap_or(if days < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// The range a date literal stands for at `ctx.now`, in `ctx.time_zone`.
///
/// The reference's table (URL above) defines each range; in short:
/// - `LAST_N_DAYS:n` (and `LAST_90_DAYS`) "starts with the current day and continues for the
///   past n days", today included: `LAST_N_DAYS:1` is yesterday and today;
/// - `NEXT_N_DAYS:n` starts tomorrow and covers n days, today excluded;
/// - `LAST_N_WEEKS/MONTHS/QUARTERS/YEARS:n` are the n whole periods before the current one;
///   `NEXT_N_...:n` the n whole periods after it; `N_..._AGO:n` the one period n back;
/// - weeks begin on the locale's first day of the week (`ctx.week_start`).
pub(crate) fn literal_range(literal: DateLiteral, ctx: &EvalContext) -> DayRange {
    use DateLiteralKind::*;
    let zone = ctx.time_zone;
    let today = ctx.now.with_timezone(&zone).date_naive();
    let n = i64::from(literal.n.unwrap_or(1));
    let fiscal = Fiscal::from_context(ctx);

    let days_into_week =
        (today.weekday().num_days_from_monday() + 7 - ctx.week_start.num_days_from_monday()) % 7;
    let week = add_days(today, -i64::from(days_into_week));
    let month = first_of_month(today);
    let quarter = add_months(month, -i64::from(today.month0() % 3));
    let year = add_months(month, -i64::from(today.month0()));
    let fiscal_quarter = fiscal.quarter_start(today);
    let fiscal_year = fiscal.year_start(today);

    let months = |start: NaiveDate, from: i64, to: i64| {
        DayRange::new(add_months(start, from), add_months(start, to), zone)
    };
    let days = |from: i64, to: i64| DayRange::new(add_days(today, from), add_days(today, to), zone);
    let weeks =
        |from: i64, to: i64| DayRange::new(add_days(week, 7 * from), add_days(week, 7 * to), zone);

    match literal.kind {
        Yesterday => days(-1, 0),
        Today => days(0, 1),
        Tomorrow => days(1, 2),
        LastWeek => weeks(-1, 0),
        ThisWeek => weeks(0, 1),
        NextWeek => weeks(1, 2),
        LastMonth => months(month, -1, 0),
        ThisMonth => months(month, 0, 1),
        NextMonth => months(month, 1, 2),
        Last90Days => days(-90, 1),
        Next90Days => days(1, 91),
        LastQuarter => months(quarter, -3, 0),
        ThisQuarter => months(quarter, 0, 3),
        NextQuarter => months(quarter, 3, 6),
        LastYear => months(year, -12, 0),
        ThisYear => months(year, 0, 12),
        NextYear => months(year, 12, 24),
        LastFiscalQuarter => months(fiscal_quarter, -3, 0),
        ThisFiscalQuarter => months(fiscal_quarter, 0, 3),
        NextFiscalQuarter => months(fiscal_quarter, 3, 6),
        LastFiscalYear => months(fiscal_year, -12, 0),
        ThisFiscalYear => months(fiscal_year, 0, 12),
        NextFiscalYear => months(fiscal_year, 12, 24),
        LastNDays => days(-n, 1),
        NextNDays => days(1, n + 1),
        NDaysAgo => days(-n, -n + 1),
        LastNWeeks => weeks(-n, 0),
        NextNWeeks => weeks(1, n + 1),
        NWeeksAgo => weeks(-n, -n + 1),
        LastNMonths => months(month, -n, 0),
        NextNMonths => months(month, 1, n + 1),
        NMonthsAgo => months(month, -n, -n + 1),
        LastNQuarters => months(quarter, -3 * n, 0),
        NextNQuarters => months(quarter, 3, 3 * n + 3),
        NQuartersAgo => months(quarter, -3 * n, -3 * n + 3),
        LastNYears => months(year, -12 * n, 0),
        NextNYears => months(year, 12, 12 * n + 12),
        NYearsAgo => months(year, -12 * n, -12 * n + 12),
        LastNFiscalQuarters => months(fiscal_quarter, -3 * n, 0),
        NextNFiscalQuarters => months(fiscal_quarter, 3, 3 * n + 3),
        NFiscalQuartersAgo => months(fiscal_quarter, -3 * n, -3 * n + 3),
        LastNFiscalYears => months(fiscal_year, -12 * n, 0),
        NextNFiscalYears => months(fiscal_year, 12, 12 * n + 12),
        NFiscalYearsAgo => months(fiscal_year, -12 * n, -12 * n + 12),
    }
}

/// Applies a date function to a date or dateTime value.
///
/// Date functions read dateTime values in UTC unless the field is wrapped in
/// `convertTimezone()`, which converts to the user's time zone first ("Converting Time Zones
/// in Date Functions", SOQL and SOSL Reference); `zone` is `Some` in that case.
pub(crate) fn apply_function(
    function: Function,
    value: &Value,
    zone: Option<Tz>,
    fiscal: Fiscal,
) -> Value {
    let (day, hour) = match value {
        Value::Date(d) => (*d, 0),
        Value::DateTime(t) => match zone {
            Some(zone) => {
                let local = t.with_timezone(&zone);
                (local.date_naive(), local.hour())
            }
            None => (t.date_naive(), t.hour()),
        },
        _ => return Value::Null,
    };
    let int = |n: u32| Value::Integer(i64::from(n));
    match function {
        Function::CalendarMonth => int(day.month()),
        Function::CalendarQuarter => int(day.month0() / 3 + 1),
        Function::CalendarYear => Value::Integer(i64::from(day.year())),
        Function::DayInMonth => int(day.day()),
        // 1 is Sunday, 7 is Saturday.
        Function::DayInWeek => int(day.weekday().num_days_from_sunday() + 1),
        Function::DayInYear => int(day.ordinal()),
        Function::DayOnly => Value::Date(day),
        Function::FiscalMonth => int(fiscal.month(day)),
        Function::FiscalQuarter => int(fiscal.quarter(day)),
        Function::FiscalYear => Value::Integer(i64::from(fiscal.year(day))),
        Function::HourInDay => int(hour),
        // Weeks counted from the first day of the month or year, seven days each.
        Function::WeekInMonth => int(day.day0() / 7 + 1),
        Function::WeekInYear => int(day.ordinal0() / 7 + 1),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    fn ctx(now: &str, zone: Tz) -> EvalContext {
        let now = DateTime::parse_from_rfc3339(now)
            .expect("valid")
            .with_timezone(&Utc);
        EvalContext::new(now, zone)
    }

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("valid date")
    }

    fn range(kind: DateLiteralKind, n: Option<u32>, ctx: &EvalContext) -> (NaiveDate, NaiveDate) {
        let r = literal_range(DateLiteral { kind, n }, ctx);
        (r.start, r.end)
    }

    #[test]
    fn today_follows_the_users_time_zone() {
        // 03:00 UTC on Wednesday 2024-05-15 is still Tuesday evening in Los Angeles.
        let la = ctx("2024-05-15T03:00:00Z", chrono_tz::America::Los_Angeles);
        let today = literal_range(
            DateLiteral {
                kind: DateLiteralKind::Today,
                n: None,
            },
            &la,
        );
        assert_eq!((today.start, today.end), (d("2024-05-14"), d("2024-05-15")));
        // Midnight PDT is 07:00 UTC.
        assert_eq!(today.start_at.to_rfc3339(), "2024-05-14T07:00:00+00:00");
        let utc = ctx("2024-05-15T03:00:00Z", Tz::UTC);
        assert_eq!(range(DateLiteralKind::Today, None, &utc).0, d("2024-05-15"));
    }

    #[test]
    fn weeks_start_on_the_configured_day() {
        // Wednesday 2024-05-15.
        let mut c = ctx("2024-05-15T12:00:00Z", Tz::UTC);
        assert_eq!(
            range(DateLiteralKind::ThisWeek, None, &c),
            (d("2024-05-12"), d("2024-05-19"))
        );
        assert_eq!(
            range(DateLiteralKind::LastWeek, None, &c),
            (d("2024-05-05"), d("2024-05-12"))
        );
        c.week_start = Weekday::Mon;
        assert_eq!(
            range(DateLiteralKind::ThisWeek, None, &c),
            (d("2024-05-13"), d("2024-05-20"))
        );
        assert_eq!(
            range(DateLiteralKind::NextNWeeks, Some(2), &c),
            (d("2024-05-20"), d("2024-06-03"))
        );
        assert_eq!(
            range(DateLiteralKind::NWeeksAgo, Some(2), &c),
            (d("2024-04-29"), d("2024-05-06"))
        );
    }

    #[test]
    fn day_counts_include_today_looking_back_and_exclude_it_looking_forward() {
        let c = ctx("2024-03-01T12:00:00Z", Tz::UTC);
        assert_eq!(
            range(DateLiteralKind::LastNDays, Some(1), &c),
            (d("2024-02-29"), d("2024-03-02"))
        );
        assert_eq!(
            range(DateLiteralKind::NextNDays, Some(2), &c),
            (d("2024-03-02"), d("2024-03-04"))
        );
        assert_eq!(
            range(DateLiteralKind::NDaysAgo, Some(3), &c),
            (d("2024-02-27"), d("2024-02-28"))
        );
        assert_eq!(
            range(DateLiteralKind::Last90Days, None, &c),
            (d("2023-12-02"), d("2024-03-02"))
        );
    }

    #[test]
    fn months_quarters_and_years() {
        let c = ctx("2024-01-20T12:00:00Z", Tz::UTC);
        assert_eq!(
            range(DateLiteralKind::LastMonth, None, &c),
            (d("2023-12-01"), d("2024-01-01"))
        );
        assert_eq!(
            range(DateLiteralKind::LastNMonths, Some(2), &c),
            (d("2023-11-01"), d("2024-01-01"))
        );
        assert_eq!(
            range(DateLiteralKind::ThisQuarter, None, &c),
            (d("2024-01-01"), d("2024-04-01"))
        );
        assert_eq!(
            range(DateLiteralKind::LastQuarter, None, &c),
            (d("2023-10-01"), d("2024-01-01"))
        );
        assert_eq!(
            range(DateLiteralKind::NextNQuarters, Some(2), &c),
            (d("2024-04-01"), d("2024-10-01"))
        );
        assert_eq!(
            range(DateLiteralKind::NYearsAgo, Some(2), &c),
            (d("2022-01-01"), d("2023-01-01"))
        );
        assert_eq!(
            range(DateLiteralKind::NextYear, None, &c),
            (d("2025-01-01"), d("2026-01-01"))
        );
    }

    #[test]
    fn enormous_counts_clamp_instead_of_overflowing() {
        let c = ctx("2024-05-15T12:00:00Z", Tz::UTC);
        for kind in DateLiteralKind::ALL.into_iter().filter(|k| k.takes_n()) {
            let r = literal_range(
                DateLiteral {
                    kind,
                    n: Some(u32::MAX),
                },
                &c,
            );
            assert!(r.start <= r.end, "{kind:?}");
        }
        assert_eq!(
            range(DateLiteralKind::LastNYears, Some(u32::MAX), &c).0,
            NaiveDate::MIN
        );
        assert_eq!(
            range(DateLiteralKind::NextNDays, Some(u32::MAX), &c).1,
            NaiveDate::MAX
        );
    }

    #[test]
    fn fiscal_periods_follow_the_start_month() {
        // Fiscal year starting in April: 2024-01-20 is in FY Apr 2023 - Mar 2024, Q4.
        let mut c = ctx("2024-01-20T12:00:00Z", Tz::UTC);
        c.fiscal_year_start_month = 4;
        assert_eq!(
            range(DateLiteralKind::ThisFiscalYear, None, &c),
            (d("2023-04-01"), d("2024-04-01"))
        );
        assert_eq!(
            range(DateLiteralKind::ThisFiscalQuarter, None, &c),
            (d("2024-01-01"), d("2024-04-01"))
        );
        assert_eq!(
            range(DateLiteralKind::LastFiscalQuarter, None, &c),
            (d("2023-10-01"), d("2024-01-01"))
        );
        assert_eq!(
            range(DateLiteralKind::NextNFiscalYears, Some(1), &c),
            (d("2024-04-01"), d("2025-04-01"))
        );
        let fiscal = Fiscal::from_context(&c);
        assert_eq!(fiscal.year(d("2024-01-20")), 2024);
        assert_eq!(fiscal.quarter(d("2024-01-20")), 4);
        assert_eq!(fiscal.month(d("2024-01-20")), 10);
        assert_eq!(fiscal.year(d("2024-04-01")), 2025);
        let by_start = Fiscal {
            named_by_end: false,
            ..fiscal
        };
        assert_eq!(by_start.year(d("2024-01-20")), 2023);
    }

    #[test]
    fn date_functions_read_datetimes_in_utc_unless_converted() {
        let t = Value::DateTime(
            DateTime::parse_from_rfc3339("2024-01-01T03:30:00Z")
                .expect("valid")
                .with_timezone(&Utc),
        );
        let fiscal = Fiscal {
            start_month: 1,
            named_by_end: true,
        };
        assert_eq!(
            apply_function(Function::CalendarYear, &t, None, fiscal),
            Value::Integer(2024)
        );
        assert_eq!(
            apply_function(Function::HourInDay, &t, None, fiscal),
            Value::Integer(3)
        );
        let la = Some(chrono_tz::America::Los_Angeles);
        assert_eq!(
            apply_function(Function::CalendarYear, &t, la, fiscal),
            Value::Integer(2023)
        );
        assert_eq!(
            apply_function(Function::DayOnly, &t, la, fiscal),
            Value::Date(d("2023-12-31"))
        );
        // 2024-01-01 is a Monday: day 2 of a Sunday-first week.
        assert_eq!(
            apply_function(Function::DayInWeek, &t, None, fiscal),
            Value::Integer(2)
        );
        let day = Value::Date(d("2024-02-15"));
        assert_eq!(
            apply_function(Function::WeekInYear, &day, None, fiscal),
            Value::Integer(7)
        );
        assert_eq!(
            apply_function(Function::WeekInMonth, &day, None, fiscal),
            Value::Integer(3)
        );
        assert_eq!(
            apply_function(Function::CalendarQuarter, &day, None, fiscal),
            Value::Integer(1)
        );
    }
}
