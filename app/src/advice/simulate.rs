//! Right-sizing and autoscaling, simulated hour by hour over a deployment's measured hours.
//!
//! A GPU's usable capacity is its busy time: an hour in which a deployment's GPUs were busy for
//! `busy` GPU-hours needs `busy / max_utilization` GPUs, rounded up to whole GPUs (at least one
//! while it serves requests). Against what it held each hour, three plans are priced at the
//! deployment's own measured price per GPU-hour:
//! - **fixed**: the most GPUs any hour needed, held every hour;
//! - **autoscale**: from one GPU to that most, following each hour's need, and starting the next
//!   hour's extra GPUs `startup_minutes` early (they are paid for that long);
//! - **scale to zero**: the same, with none in hours without requests (only where there are such
//!   hours).
//!
//! The cheapest plan that saves anything is the advice. Every plan holds at least what each hour
//! needed, so none claims more than the hours held cost.

use serde::{Deserialize, Serialize};

use super::AdviceKind;

/// One measured hour's latency: its GPUs' busy share and its p95, over `requests` requests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latency {
    pub busy_share: f64,
    pub p95_ms: f64,
    pub requests: i64,
}

/// How busy a GPU may be while the deployment keeps its p95 target, from its measured hours.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatencyHeadroom {
    pub target_ms: f64,
    /// The p95 the measured hours point to at no load.
    pub unloaded_p95_ms: f64,
    /// The busy share at which the p95 reaches the target (0 when even no load misses it).
    pub busy_at_target: f64,
    /// The busiest measured hour the fit read, as a share.
    pub measured_up_to: f64,
    /// Hours the fit read.
    pub hours: usize,
}

/// Fewest hours with latency a fit reads.
pub const MIN_LATENCY_HOURS: usize = 6;

/// The busy share at which the p95 reaches `target_ms`, taking each GPU as a queue: a request's
/// time in an M/M/1 queue is exponential with rate μ(1 − ρ), so every percentile of it grows as
/// 1 / (1 − ρ) with the busy share ρ, and `p95 × (1 − busy)` of each measured hour estimates the
/// p95 at no load (the median over hours, weighted by requests, so a noisy hour does not move it).
/// The busy share that keeps the target is then `1 − unloaded / target`. None with fewer than
/// `MIN_LATENCY_HOURS` hours that served requests with a measured p95.
pub fn latency_headroom(hours: &[Latency], target_ms: f64) -> Option<LatencyHeadroom> {
    if !(target_ms.is_finite() && target_ms > 0.0) {
        return None;
    }
    let mut unloaded: Vec<(f64, i64)> = hours
        .iter()
        .filter(|h| {
            h.requests > 0
                && h.p95_ms.is_finite()
                && h.p95_ms > 0.0
                && (0.0..0.95).contains(&h.busy_share)
        })
        .map(|h| (h.p95_ms * (1.0 - h.busy_share), h.requests))
        .collect();
    if unloaded.len() < MIN_LATENCY_HOURS {
        return None;
    }
    unloaded.sort_by(|a, b| a.0.total_cmp(&b.0));
    // In f64: request counts near i64's limit must not overflow their sum.
    let total: f64 = unloaded.iter().map(|(_, n)| *n as f64).sum();
    let mut seen = 0.0;
    let median = unloaded
        .iter()
        .find(|(_, n)| {
            seen += *n as f64;
            seen * 2.0 >= total
        })
        .map_or(0.0, |(ms, _)| *ms);
    Some(LatencyHeadroom {
        target_ms,
        unloaded_p95_ms: median,
        busy_at_target: (1.0 - median / target_ms).clamp(0.0, 0.95),
        measured_up_to: hours
            .iter()
            .filter(|h| h.requests > 0)
            .map(|h| h.busy_share)
            .fold(0.0, f64::max),
        hours: unloaded.len(),
    })
}

/// What the simulation assumes; the defaults are documented on the Advice page.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Settings {
    /// The busiest a GPU may be kept, as a fraction: the rest is headroom for bursts and latency.
    pub max_utilization: f64,
    /// How long a new replica takes to serve, in minutes.
    pub startup_minutes: f64,
    /// The least saving worth advising, as a fraction of what the hours cost.
    pub min_saving: f64,
    /// Work run again after spot interruptions, as a fraction of a batch job's GPU-hours.
    pub spot_rerun: f64,
    /// The share of a real-time deployment's GPUs that may run on spot, the rest on demand as
    /// its fallback.
    pub spot_share_real_time: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_utilization: 0.8,
            startup_minutes: 10.0,
            min_saving: 0.05,
            spot_rerun: 0.1,
            spot_share_real_time: 0.5,
        }
    }
}

impl Settings {
    /// Reads the settings a lead types, in percent and minutes; every bad one is named by field.
    pub fn parse(
        max_utilization_pct: &str,
        startup_minutes: &str,
        min_saving_pct: &str,
        spot_rerun_pct: &str,
        spot_share_real_time_pct: &str,
    ) -> Result<Settings, crate::error::AppError> {
        let mut check = crate::error::Validator::new();
        let mut read = |text: &str, field: &str, low: f64, high: f64, example: &str| {
            let value = text.trim().trim_end_matches('%').trim().parse::<f64>().ok();
            let ok = value.is_some_and(|v| v.is_finite() && (low..=high).contains(&v));
            check.check(
                ok,
                field,
                format!("Give a number from {low} to {high}, e.g. {example}."),
            );
            value.unwrap_or(low)
        };
        let settings = Settings {
            max_utilization: read(
                max_utilization_pct,
                "max_utilization_pct",
                10.0,
                100.0,
                "80",
            ) / 100.0,
            startup_minutes: read(startup_minutes, "startup_minutes", 0.0, 60.0, "10"),
            min_saving: read(min_saving_pct, "min_saving_pct", 0.0, 100.0, "5") / 100.0,
            spot_rerun: read(spot_rerun_pct, "spot_rerun_pct", 0.0, 100.0, "10") / 100.0,
            spot_share_real_time: read(
                spot_share_real_time_pct,
                "spot_share_real_time_pct",
                0.0,
                100.0,
                "50",
            ) / 100.0,
        };
        check.finish()?;
        Ok(settings)
    }
}

/// One measured hour of a deployment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Hour {
    /// GPU-hours held in the hour (2.0: two GPUs all hour).
    pub held: f64,
    /// GPU-hours its work kept busy.
    pub busy: f64,
    pub requests: i64,
}

/// A plan's GPU-hours over the same hours, and the GPU counts it moves between.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Plan {
    pub kind: AdviceKind,
    pub gpu_hours: f64,
    pub min: u32,
    pub max: u32,
}

/// What the simulation found for one deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub held_gpu_hours: f64,
    /// The most GPUs held in one hour, and the most one hour needed.
    pub peak_held: f64,
    pub peak_needed: u32,
    /// Hours of the day (UTC) in which the peak need falls, most often first; none when the peak
    /// is needed in a third of the hours or more (then no hour stands out).
    pub busiest_hours: Vec<u32>,
    pub highest_utilization: f64,
    pub plan: Plan,
}

impl Finding {
    /// The share of the held GPU-hours the plan saves.
    pub fn saving_share(&self) -> f64 {
        if self.held_gpu_hours > 0.0 {
            (1.0 - self.plan.gpu_hours / self.held_gpu_hours).max(0.0)
        } else {
            0.0
        }
    }
}

/// The whole GPUs an hour needs at `max_utilization`: none without requests and busy time.
pub fn needed(hour: &Hour, settings: &Settings) -> u32 {
    if hour.requests == 0 && hour.busy < 1e-9 {
        return 0;
    }
    let gpus = (hour.busy / settings.max_utilization.max(0.01) - 1e-9).ceil();
    gpus.clamp(1.0, 1_000_000.0) as u32
}

/// GPU-hours of following `need` hour by hour between `min` and `max`, starting each rise
/// `startup_minutes` ahead of the hour that needs it.
fn follow(need: &[u32], min: u32, max: u32, settings: &Settings) -> f64 {
    let lead = (settings.startup_minutes / 60.0).clamp(0.0, 1.0);
    need.iter()
        .enumerate()
        .map(|(index, n)| {
            let now = (*n).clamp(min, max);
            let next = need.get(index + 1).map_or(now, |n| (*n).clamp(min, max));
            f64::from(now) + f64::from(next.saturating_sub(now)) * lead
        })
        .sum()
}

/// The cheapest plan for `hours` (in time order, one per measured hour), when one saves at least
/// `min_saving` of the held GPU-hours; `hour_of_day` gives each hour's UTC hour, for the advice's
/// words.
pub fn simulate(hours: &[Hour], hour_of_day: &[u32], settings: &Settings) -> Option<Finding> {
    if hours.is_empty() {
        return None;
    }
    let held: f64 = hours.iter().map(|h| h.held).sum();
    let need: Vec<u32> = hours.iter().map(|h| needed(h, settings)).collect();
    if held > 0.0 && need.iter().all(|n| *n == 0) {
        // Nothing ran: the GPUs can go.
        return Some(Finding {
            held_gpu_hours: held,
            peak_held: hours.iter().map(|h| h.held).fold(0.0, f64::max),
            peak_needed: 0,
            busiest_hours: Vec::new(),
            highest_utilization: 0.0,
            plan: Plan {
                kind: AdviceKind::Release,
                gpu_hours: 0.0,
                min: 0,
                max: 0,
            },
        });
    }
    let peak = need.iter().copied().max().unwrap_or(0).max(1);
    let fixed = Plan {
        kind: AdviceKind::RightSize,
        gpu_hours: f64::from(peak) * hours.len() as f64,
        min: peak,
        max: peak,
    };
    let autoscale = Plan {
        kind: AdviceKind::Autoscale,
        gpu_hours: follow(&need, 1, peak, settings),
        min: 1,
        max: peak,
    };
    let mut plans = vec![fixed, autoscale];
    if need.contains(&0) {
        plans.push(Plan {
            kind: AdviceKind::ScaleToZero,
            gpu_hours: follow(&need, 0, peak, settings),
            min: 0,
            max: peak,
        });
    }
    let plan = plans
        .into_iter()
        .min_by(|a, b| a.gpu_hours.total_cmp(&b.gpu_hours))?;
    if held <= 0.0 || plan.gpu_hours > held * (1.0 - settings.min_saving) {
        return None;
    }
    let mut at_peak: Vec<(u32, usize)> = Vec::new();
    for (n, hour) in need.iter().zip(hour_of_day) {
        if *n == peak {
            match at_peak.iter_mut().find(|(h, _)| h == hour) {
                Some((_, count)) => *count += 1,
                None => at_peak.push((*hour, 1)),
            }
        }
    }
    at_peak.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let peak_hours: usize = at_peak.iter().map(|(_, count)| count).sum();
    if peak_hours * 3 >= hours.len() {
        at_peak.clear();
    }
    Some(Finding {
        held_gpu_hours: held,
        peak_held: hours.iter().map(|h| h.held).fold(0.0, f64::max),
        peak_needed: peak,
        busiest_hours: at_peak.into_iter().map(|(h, _)| h).take(3).collect(),
        highest_utilization: hours
            .iter()
            .filter(|h| h.held > 0.0)
            .map(|h| h.busy / h.held)
            .fold(0.0, f64::max),
        plan,
    })
}

/// What moving to spot would cost instead, for GPU-hours paid `paid` in all on demand at
/// `spot_price` per GPU-hour: a batch job runs all of them on spot with `spot_rerun` more for work
/// run again; real-time serving runs `spot_share_real_time` of them on spot and the rest on demand
/// as its fallback. None when spot would not cost less.
pub fn spot(
    gpu_hours: f64,
    paid: f64,
    spot_price: f64,
    batch: bool,
    settings: &Settings,
) -> Option<f64> {
    if gpu_hours <= 0.0 || paid <= 0.0 {
        return None;
    }
    let on_spot = if batch {
        1.0
    } else {
        settings.spot_share_real_time.clamp(0.0, 1.0)
    };
    let instead = paid * (1.0 - on_spot)
        + gpu_hours * on_spot * spot_price * (1.0 + settings.spot_rerun.max(0.0));
    (instead < paid * (1.0 - settings.min_saving)).then_some(instead)
}

/// How many of the last hours held GPUs that did nothing (no request, under 1% busy), when the
/// hours before them did something; 0 otherwise.
pub fn idle_tail(hours: &[Hour]) -> usize {
    let idle = |h: &Hour| h.held > 0.0 && h.requests == 0 && h.busy <= 0.01 * h.held;
    let tail = hours.iter().rev().take_while(|h| idle(h)).count();
    let worked_before = hours[..hours.len() - tail].iter().any(|h| !idle(h));
    if worked_before {
        tail
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_idle_tail_counts_only_after_work() {
        let mut hours: Vec<Hour> = (0..10).map(|_| hour(2.0, 1.0, 100)).collect();
        hours.extend((0..5).map(|_| hour(2.0, 0.0, 0)));
        assert_eq!(idle_tail(&hours), 5);
        let never: Vec<Hour> = (0..10).map(|_| hour(2.0, 0.0, 0)).collect();
        assert_eq!(idle_tail(&never), 0, "never used: released, not idle");
        hours.push(hour(2.0, 0.5, 0));
        assert_eq!(idle_tail(&hours), 0, "a batch hour is work");
    }

    #[test]
    fn gpus_nothing_ran_on_are_released() {
        let idle: Vec<Hour> = (0..24).map(|_| hour(2.0, 0.0, 0)).collect();
        let found = simulate(&idle, &day_of(&idle), &Settings::default()).expect("advice");
        assert_eq!(found.plan.kind, AdviceKind::Release);
        assert_eq!(found.saving_share(), 1.0);
    }

    #[test]
    fn spot_costs_its_rate_and_the_rerun_for_batch_and_a_share_for_real_time() {
        let settings = Settings::default();
        // 100 L4-hours paid 80 USD on demand; spot at 0.35 with 10% run again: 38.50.
        let batch = spot(100.0, 80.0, 0.35, true, &settings).expect("cheaper");
        assert!((batch - 38.5).abs() < 1e-9);
        // Real time: half on spot (19.25), half still on demand (40): 59.25.
        let real_time = spot(100.0, 80.0, 0.35, false, &settings).expect("cheaper");
        assert!((real_time - 59.25).abs() < 1e-9);
        // Spot dearer than what is paid (a discounted reservation): no advice.
        assert_eq!(spot(100.0, 30.0, 0.35, true, &settings), None);
    }

    fn hour(held: f64, busy: f64, requests: i64) -> Hour {
        Hour {
            held,
            busy,
            requests,
        }
    }

    fn day_of(hours: &[Hour]) -> Vec<u32> {
        (0..hours.len()).map(|i| (i % 24) as u32).collect()
    }

    #[test]
    fn six_gpus_held_where_at_most_four_are_needed_autoscale_between_one_and_four() {
        // A day of 6 GPUs: busy 3 GPU-hours from 14:00 to 16:00 (4 needed at 80%), 0.5 otherwise
        // (1 needed).
        let hours: Vec<Hour> = (0..24)
            .map(|h| {
                let busy = if (14..16).contains(&h) { 3.0 } else { 0.5 };
                hour(6.0, busy, 100)
            })
            .collect();
        let settings = Settings::default();
        let found = simulate(&hours, &day_of(&hours), &settings).expect("a saving");
        assert_eq!(found.peak_needed, 4);
        assert_eq!(found.busiest_hours, [14, 15]);
        // Autoscaling: 22 hours at 1, 2 at 4, and the rise to 4 started 10 minutes early
        // (3 GPUs x 1/6 h): 22 + 8 + 0.5 = 30.5 GPU-hours against 144 held; fixed at 4 is 96.
        assert_eq!(found.plan.kind, AdviceKind::Autoscale);
        assert!((found.plan.gpu_hours - 30.5).abs() < 1e-9, "{found:?}");
        assert_eq!((found.plan.min, found.plan.max), (1, 4));
        assert!((found.saving_share() - (1.0 - 30.5 / 144.0)).abs() < 1e-9);
    }

    #[test]
    fn steady_traffic_is_right_sized_and_empty_hours_scale_to_zero() {
        // Steady: 4 GPUs held, 1.5 busy every hour: 2 needed, a fixed 2 is the cheapest.
        let steady: Vec<Hour> = (0..48).map(|_| hour(4.0, 1.5, 50)).collect();
        let found = simulate(&steady, &day_of(&steady), &Settings::default()).expect("saving");
        assert_eq!(found.plan.kind, AdviceKind::RightSize);
        assert_eq!(found.plan.gpu_hours, 96.0);
        assert!(found.busiest_hours.is_empty(), "every hour needs the peak");
        // A nightly batch: 8 busy hours a day on one GPU held all day.
        let batch: Vec<Hour> = (0..48)
            .map(|h| {
                if h % 24 < 8 {
                    hour(1.0, 0.7, 10)
                } else {
                    hour(1.0, 0.0, 0)
                }
            })
            .collect();
        let found = simulate(&batch, &day_of(&batch), &Settings::default()).expect("saving");
        assert_eq!(found.plan.kind, AdviceKind::ScaleToZero);
        // 16 hours of one GPU, and each day's start 10 minutes early (the first day's start is
        // the window's first hour, so only the second day's).
        assert!(
            (found.plan.gpu_hours - (16.0 + 1.0 / 6.0)).abs() < 1e-9,
            "{found:?}"
        );
    }

    #[test]
    fn nothing_is_advised_when_the_gpus_are_used() {
        let busy: Vec<Hour> = (0..24).map(|_| hour(2.0, 1.55, 500)).collect();
        assert_eq!(simulate(&busy, &day_of(&busy), &Settings::default()), None);
        assert_eq!(simulate(&[], &[], &Settings::default()), None);
    }

    #[test]
    fn the_busy_share_that_keeps_the_p95_target_follows_a_queue() {
        // A GPU whose p95 at no load is 20 ms, measured as a queue grows it: 20 / (1 - busy).
        let hours: Vec<Latency> = (0..24)
            .map(|h| {
                let busy = 0.1 + 0.02 * f64::from(h);
                Latency {
                    busy_share: busy,
                    p95_ms: 20.0 / (1.0 - busy),
                    requests: 1000,
                }
            })
            .collect();
        let fit = latency_headroom(&hours, 100.0).expect("a fit");
        assert!((fit.unloaded_p95_ms - 20.0).abs() < 1e-9, "{fit:?}");
        // 100 ms is reached at 80% busy: 20 / (1 - 0.8).
        assert!((fit.busy_at_target - 0.8).abs() < 1e-9, "{fit:?}");
        assert!((fit.measured_up_to - 0.56).abs() < 1e-9);
        // A target under the unloaded p95 cannot be kept at any load.
        assert_eq!(
            latency_headroom(&hours, 15.0)
                .expect("a fit")
                .busy_at_target,
            0.0
        );
        // Too few hours with latency to fit.
        assert_eq!(latency_headroom(&hours[..5], 100.0), None);
        // One wild hour does not move the median.
        let mut noisy = hours.clone();
        noisy[3].p95_ms = 5_000.0;
        let fit = latency_headroom(&noisy, 100.0).expect("a fit");
        assert!((fit.busy_at_target - 0.8).abs() < 1e-9);
        // Request counts near the integer limit are weighed without overflowing.
        let huge: Vec<Latency> = hours
            .iter()
            .map(|h| Latency {
                requests: i64::MAX / 2,
                ..*h
            })
            .collect();
        assert!(latency_headroom(&huge, 100.0).is_some());
    }

    proptest! {
        /// Spot never claims to save more than was paid.
        #[test]
        fn spot_never_saves_more_than_was_paid(
            hours in 0.0f64..10_000.0, paid in 0.0f64..100_000.0, price in 0.0f64..10.0,
            batch in proptest::bool::ANY,
        ) {
            if let Some(instead) = spot(hours, paid, price, batch, &Settings::default()) {
                prop_assert!(instead >= 0.0 && instead < paid);
            }
        }

        /// Advice never claims a saving larger than what the hours cost: every plan holds at
        /// least one GPU in each hour that needs one, and the saving is held minus the plan.
        #[test]
        fn a_plan_never_saves_more_than_was_held(
            series in proptest::collection::vec((0.0f64..8.0, 0.0f64..1.0, 0i64..1000), 1..200)
        ) {
            let hours: Vec<Hour> = series
                .iter()
                .map(|(held, used, requests)| hour(*held, held * used, *requests))
                .collect();
            if let Some(found) = simulate(&hours, &day_of(&hours), &Settings::default()) {
                prop_assert!(found.plan.gpu_hours >= 0.0);
                prop_assert!(found.plan.gpu_hours < found.held_gpu_hours);
                prop_assert!(found.saving_share() <= 1.0);
                let needing = hours.iter().filter(|h| needed(h, &Settings::default()) > 0).count();
                prop_assert!(found.plan.gpu_hours + 1e-9 >= needing as f64);
            }
        }
    }
}
