//! Calendar quarters: `2026-Q3` is July 1 to September 30. Pure.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4
    pub number: u32,
}

impl Quarter {
    pub fn containing(at: DateTime<Utc>) -> Quarter {
        Quarter {
            year: at.year(),
            number: at.month0() / 3 + 1,
        }
    }

    /// The quarter that ended last before `at`'s.
    pub fn previous(self) -> Quarter {
        if self.number == 1 {
            Quarter {
                year: self.year - 1,
                number: 4,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number - 1,
            }
        }
    }

    pub fn next(self) -> Quarter {
        if self.number == 4 {
            Quarter {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Quarter {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    /// Its first day.
    pub fn start(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, (self.number - 1) * 3 + 1, 1).unwrap_or_default()
    }

    /// The first day after it.
    pub fn end(self) -> NaiveDate {
        self.next().start()
    }

    /// `[start, end)` as instants, for a reader whose days begin at `offset` (UTC: `FixedOffset::east(0)`).
    pub fn bounds_in(self, offset: FixedOffset) -> (DateTime<Utc>, DateTime<Utc>) {
        let at = |day: NaiveDate| {
            offset
                .from_local_datetime(&day.and_time(NaiveTime::MIN))
                .single()
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default()
        };
        (at(self.start()), at(self.end()))
    }

    /// `[start, end)` in UTC, the basis of every report.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        self.bounds_in(Utc.fix())
    }

    /// The quarters from `first` through `last`, oldest first.
    pub fn through(first: Quarter, last: Quarter) -> Vec<Quarter> {
        let mut all = Vec::new();
        let mut q = first;
        while q <= last && all.len() < 400 {
            all.push(q);
            q = q.next();
        }
        all
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.number)
    }
}

impl std::str::FromStr for Quarter {
    type Err = String;

    /// `2026-Q3`, `2026Q3`, `2026 q3` or `Q3 2026`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let cleaned: String = text
            .trim()
            .to_ascii_uppercase()
            .chars()
            .filter(|c| !matches!(c, '-' | ' ' | '_' | '/'))
            .collect();
        let (year, number) = if let Some(rest) = cleaned.strip_prefix('Q') {
            rest.split_at_checked(1)
                .map(|(n, y)| (y, n))
                .unwrap_or(("", ""))
        } else {
            cleaned.split_once('Q').unwrap_or(("", ""))
        };
        match (year.parse::<i32>(), number.parse::<u32>()) {
            (Ok(year), Ok(number))
                if (1..=4).contains(&number) && (2000..=2200).contains(&year) =>
            {
                Ok(Quarter { year, number })
            }
            _ => Err(format!(
                "`{}` is not a quarter: write it as 2026-Q3",
                text.trim()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn quarters_read_as_people_write_them() {
        let q3 = Quarter {
            year: 2026,
            number: 3,
        };
        for text in ["2026-Q3", "2026q3", "2026 Q3", "Q3 2026", " q3-2026 "] {
            assert_eq!(text.parse::<Quarter>(), Ok(q3), "{text}");
        }
        for text in ["2026-Q5", "2026", "Q0 2026", "third quarter", ""] {
            assert!(text.parse::<Quarter>().is_err(), "{text}");
        }
        assert_eq!(q3.to_string(), "2026-Q3");
        assert_eq!(q3.start().to_string(), "2026-07-01");
        assert_eq!(q3.end().to_string(), "2026-10-01");
        assert_eq!(
            Quarter {
                year: 2026,
                number: 1
            }
            .previous(),
            Quarter {
                year: 2025,
                number: 4
            }
        );
    }

    #[test]
    fn a_quarter_begins_at_local_midnight() {
        let q = Quarter {
            year: 2026,
            number: 4,
        };
        let (start, end) = q.bounds();
        assert_eq!(start.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2027-01-01T00:00:00+00:00");
        // For a team in New York (UTC-5 in winter, but a fixed offset here), the quarter starts
        // five hours after UTC midnight.
        let ny = FixedOffset::west_opt(5 * 3600).expect("offset");
        assert_eq!(q.bounds_in(ny).0.to_rfc3339(), "2026-10-01T05:00:00+00:00");
        let tokyo = FixedOffset::east_opt(9 * 3600).expect("offset");
        assert_eq!(
            q.bounds_in(tokyo).0.to_rfc3339(),
            "2026-09-30T15:00:00+00:00"
        );
    }

    proptest! {
        #[test]
        fn every_instant_is_in_exactly_its_quarter(seconds in 946_684_800i64..7_258_118_400i64) {
            let at = DateTime::<Utc>::from_timestamp(seconds, 0).expect("time");
            let q = Quarter::containing(at);
            let (start, end) = q.bounds();
            prop_assert!(start <= at && at < end);
            prop_assert_eq!(q.next().bounds().0, end);
            prop_assert_eq!(q.previous().bounds().1, start);
            prop_assert_eq!(q.to_string().parse::<Quarter>(), Ok(q));
        }
    }
}
