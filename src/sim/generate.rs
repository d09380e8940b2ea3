//! `sim generate`: a realistic synthetic history from a seed. Estates with household
//! counts share the tickets by size; days follow a weekly pattern (busier Mondays,
//! quieter Sundays) and a season (the June–July plum rains bring leaks); hours follow
//! office and evening peaks; rain days are city-wide. Each ticket's life — response,
//! report, plan, dispatch, resolution, revisits, close — is drawn from
//! [`lifecycle`], with a share of late responses, failed revisits and invalid
//! complaints. Lines are written in time order through a heap holding only the
//! actions of tickets still open, so a year of a million tickets streams in bounded
//! memory. The same seed gives the same bytes.

mod lifecycle;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Offset, TimeZone, Weekday};

use super::history::{COLUMNS, Row};
use super::rng::Rng;

pub use lifecycle::Line;

#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    pub tickets: u64,
    pub days: u32,
    pub estates: u32,
    /// First local day.
    pub start: NaiveDate,
    /// Write JSON lines instead of CSV.
    pub json: bool,
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    pub tickets: u64,
    pub lines: u64,
    pub rain_days: u32,
}

const NAMES: [&str; 16] = [
    "gardens",
    "riverside",
    "lakeside",
    "hillview",
    "parkside",
    "central",
    "harbour",
    "orchard",
    "maple",
    "bamboo",
    "lotus",
    "pine",
    "willow",
    "cedar",
    "jade",
    "pearl",
];

/// Shanghai time: +08:00 all year, no daylight saving.
pub fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(chrono::Utc.fix())
}

pub struct Estate {
    pub name: String,
    pub households: u32,
}

/// The weather: rain days and the hour it rains, per day from the start.
pub struct Weather {
    pub rain: Vec<Option<DateTime<FixedOffset>>>,
}

impl Weather {
    /// The first rain strictly after `t`.
    pub fn next_rain(&self, t: DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>> {
        self.rain.iter().flatten().find(|r| **r > t).copied()
    }
}

fn rain_chance(month: u32) -> f64 {
    match month {
        6 | 7 => 0.45,
        4 | 5 | 8 | 9 => 0.28,
        _ => 0.15,
    }
}

fn day_weight(date: NaiveDate, rain: bool) -> f64 {
    let week = match date.weekday() {
        Weekday::Mon => 1.2,
        Weekday::Tue => 1.1,
        Weekday::Wed | Weekday::Thu | Weekday::Fri => 1.0,
        Weekday::Sat => 0.85,
        Weekday::Sun => 0.75,
    };
    let season = match date.month() {
        6 | 7 => 1.15,
        1 | 2 => 0.9,
        _ => 1.0,
    };
    week * season * if rain { 1.25 } else { 1.0 }
}

/// Tickets per day: proportional to the weights, summing exactly to `total`.
fn allocate(weights: &[f64], total: u64) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 || weights.is_empty() {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let mut left = total.saturating_sub(counts.iter().sum());
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        let fa = exact[*a] - exact[*a].floor();
        let fb = exact[*b] - exact[*b].floor();
        fb.total_cmp(&fa).then(a.cmp(b))
    });
    for i in order.into_iter().cycle() {
        if left == 0 {
            break;
        }
        counts[i] += 1;
        left -= 1;
    }
    counts
}

const HOURS: [f64; 24] = [
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.5, 3.0, 4.5, 4.5, 3.5, 2.0, 2.5, 3.5, 3.5, 3.0, 2.5, 2.5,
    3.0, 2.8, 2.0, 1.2, 0.6,
];

pub fn generate(o: &Options, out: &mut dyn Write) -> io::Result<Written> {
    let tz = shanghai();
    let mut rng = Rng::new(o.seed);
    let estates: Vec<Estate> = (0..o.estates.max(1))
        .map(|i| Estate {
            name: NAMES
                .get(i as usize)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("estate-{}", i + 1)),
            households: rng.range(300, 3000) as u32,
        })
        .collect();
    // Weather for the span and two months past it (leak revisits wait for rain).
    let horizon = o.days as i64 + 60;
    let mut rain = Vec::with_capacity(horizon as usize);
    for d in 0..horizon {
        let date = o.start + Duration::days(d);
        let wet = rng.chance(rain_chance(date.month()));
        let at = wet.then(|| local(tz, date, rng.range(6 * 60, 18 * 60)));
        rain.push(at);
    }
    let weather = Weather { rain };
    let weights: Vec<f64> = (0..o.days as i64)
        .map(|d| {
            day_weight(
                o.start + Duration::days(d),
                weather.rain[d as usize].is_some(),
            )
        })
        .collect();
    let per_day = allocate(&weights, o.tickets);
    let households: Vec<f64> = estates.iter().map(|e| f64::from(e.households)).collect();

    let mut w = Writer::new(out, o.json)?;
    let mut heap: BinaryHeap<Reverse<(i64, u64, Line)>> = BinaryHeap::new();
    let mut seq: u64 = 0;
    let mut next_id: u64 = 0;
    let mut written = Written::default();
    let mut push = |heap: &mut BinaryHeap<_>, line: Line| {
        seq += 1;
        heap.push(Reverse((line.at.timestamp(), seq, line)));
    };
    let mut day: i64 = 0;
    loop {
        let date = o.start + Duration::days(day);
        let day_start = local(tz, date, 0).timestamp();
        while heap.peek().is_some_and(|Reverse((t, _, _))| *t < day_start) {
            if let Some(Reverse((_, _, line))) = heap.pop() {
                w.write(&line)?;
            }
        }
        let in_span = day < o.days as i64;
        if !in_span && heap.is_empty() {
            break;
        }
        if let Some(at) = weather.rain.get(day as usize).copied().flatten() {
            written.rain_days += u32::from(in_span);
            for e in &estates {
                push(&mut heap, Line::rain(at, &e.name));
            }
        }
        if in_span {
            let n = per_day[day as usize];
            let mut opens: Vec<(i64, usize)> = (0..n)
                .map(|_| {
                    let minute = rng.weighted(&HOURS) as i64 * 60 + rng.range(0, 59);
                    (minute, rng.weighted(&households))
                })
                .collect();
            opens.sort();
            for (minute, estate) in opens {
                next_id += 1;
                let id = format!("T{next_id:07}");
                let at = local(tz, date, minute);
                for line in lifecycle::ticket(&mut rng, &id, &estates[estate].name, at, &weather) {
                    push(&mut heap, line);
                }
                written.tickets += 1;
            }
        }
        day += 1;
        if day > horizon + 400 {
            // Nothing is planned this far out; stop rather than loop.
            break;
        }
    }
    while let Some(Reverse((_, _, line))) = heap.pop() {
        w.write(&line)?;
    }
    written.lines = w.lines;
    w.finish()?;
    Ok(written)
}

fn local(tz: FixedOffset, date: NaiveDate, minute: i64) -> DateTime<FixedOffset> {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    let t = tz
        .from_local_datetime(&midnight)
        .single()
        .unwrap_or_else(|| tz.from_utc_datetime(&midnight));
    t + Duration::minutes(minute)
}

struct Writer<'a> {
    csv: Option<csv::Writer<&'a mut dyn Write>>,
    json: Option<io::BufWriter<&'a mut dyn Write>>,
    lines: u64,
}

impl<'a> Writer<'a> {
    fn new(out: &'a mut dyn Write, json: bool) -> io::Result<Writer<'a>> {
        if json {
            return Ok(Writer {
                csv: None,
                json: Some(io::BufWriter::with_capacity(1 << 16, out)),
                lines: 0,
            });
        }
        let mut csv = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_writer(out);
        csv.write_record(COLUMNS).map_err(io::Error::other)?;
        Ok(Writer {
            csv: Some(csv),
            json: None,
            lines: 0,
        })
    }

    fn write(&mut self, line: &Line) -> io::Result<()> {
        let row: Row = line.row();
        self.lines += 1;
        if let Some(c) = &mut self.csv {
            c.write_record(row.fields()).map_err(io::Error::other)?;
        }
        if let Some(j) = &mut self.json {
            serde_json::to_writer(&mut *j, &row).map_err(io::Error::other)?;
            j.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(self) -> io::Result<()> {
        if let Some(mut c) = self.csv {
            c.flush()?;
        }
        if let Some(mut j) = self.json {
            j.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_sums_exactly() {
        let c = allocate(&[1.0, 2.0, 1.5, 0.7], 1001);
        assert_eq!(c.iter().sum::<u64>(), 1001);
        assert!(c[1] > c[0]);
    }
}
