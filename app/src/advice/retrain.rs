//! When to retrain: how fast a deployment's measured quality decays, against what training costs.
//!
//! Quality is fitted as a straight line over time (least squares) from the deployment's
//! performance measurements since monitoring began. A model retrained every T months, whose quality
//! falls r points a month and each point is worth V a month, loses V·r·t a month at age t, so
//! V·r·T²/2 over one interval; with a training cost C, each month costs C/T + V·r·T/2, least at
//!
//!   T* = √(2C / (V·r)),
//!
//! which is also the age at which the value lost since the last training reaches C: the next
//! retraining pays for itself T* after the last. The slope's standard error gives the range of T*
//! (95%, ±1.96 standard errors); a slope that may be zero leaves the range open above.
//!
//! A point is a hundredth of a metric measured between 0 and 1 (F1 0.91 is 91 points), else one
//! unit of it (a MAPE of 8.1 is 8.1 points).

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::experiments::Direction;

/// Fewest measurements, and shortest span in days, a decay is fitted from.
pub const MIN_POINTS: usize = 5;
pub const MIN_SPAN_DAYS: f64 = 3.0;

/// Points a month below which a decay is no decay (a flat series fits a slope of rounding noise).
pub const NEGLIGIBLE_DECAY: f64 = 0.01;

/// Days in the month rates are stated for.
const MONTH_DAYS: f64 = 30.0;

/// A straight line through the measurements: value = intercept + slope · days.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    pub slope_per_day: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
    pub intercept: f64,
    pub points: usize,
    pub span_days: f64,
}

/// Least squares through (days, value); `None` with fewer than `MIN_POINTS` points over
/// `MIN_SPAN_DAYS` days.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len();
    let first = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let last = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
    let span_days = last - first;
    if n < MIN_POINTS || span_days.is_nan() || span_days < MIN_SPAN_DAYS {
        return None;
    }
    let count = n as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let residual: f64 = points
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let slope_se = (residual / (count - 2.0) / sxx).sqrt();
    Some(Fit {
        slope_per_day: slope,
        slope_se,
        intercept,
        points: n,
        span_days,
    })
}

/// How many points one unit of the metric is: 100 for a metric measured between 0 and 1.
pub fn points_per_unit(values: &[f64]) -> f64 {
    if values.iter().all(|v| (0.0..=1.0).contains(v)) {
        100.0
    } else {
        1.0
    }
}

/// The interval, in months, that makes training cost plus value lost least: √(2C / (V·r)).
/// `None` when quality is not falling or nothing is at stake.
pub fn optimum_months(
    training_cost: f64,
    value_per_point: f64,
    decay_per_month: f64,
) -> Option<f64> {
    (training_cost > 0.0 && value_per_point > 0.0 && decay_per_month > 0.0)
        .then(|| (2.0 * training_cost / (value_per_point * decay_per_month)).sqrt())
}

/// The decay in points a month (positive: getting worse) and its 95% range, from a fit.
pub fn decay_per_month(fit: &Fit, direction: Direction, points_per_unit: f64) -> (f64, f64, f64) {
    let worse = match direction {
        Direction::Higher => -fit.slope_per_day,
        Direction::Lower => fit.slope_per_day,
    };
    let scale = MONTH_DAYS * points_per_unit;
    let margin = 1.96 * fit.slope_se * scale;
    let decay = worse * scale;
    (decay, decay - margin, decay + margin)
}

/// One deployment's retraining plan, or why there is none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Retraining {
    pub deployment_id: Option<uuid::Uuid>,
    pub deployment: String,
    pub model: Option<String>,
    pub metric: String,
    pub points: usize,
    pub span_days: f64,
    /// Points lost a month, with its 95% range; `None` when too few points to fit.
    pub decay: Option<(f64, f64, f64)>,
    /// The optimum interval in days and its range (the upper end open when the decay may be zero).
    pub interval_days: Option<(f64, f64, Option<f64>)>,
    /// When the next retraining pays for itself, counted from when monitoring began.
    pub due_at: Option<DateTime<Utc>>,
    pub due: bool,
    /// The plan in a sentence.
    pub finding: String,
    /// The figures used, each a sentence.
    pub figures: Vec<String>,
}

/// What the plan reads: the measurements and what is at stake.
pub struct Inputs<'a> {
    pub deployment: &'a str,
    pub model: Option<&'a str>,
    pub metric: &'a str,
    pub direction: Direction,
    /// (when, value), in any order.
    pub measurements: &'a [(DateTime<Utc>, f64)],
    /// Training cost, in `currency`.
    pub training_cost: Option<f64>,
    /// What one point is worth a month, in `currency`, and where that figure came from.
    pub value_per_point: Option<(f64, String)>,
    pub currency: &'a str,
    pub now: DateTime<Utc>,
}

pub fn plan(inputs: &Inputs) -> Retraining {
    let start = inputs.measurements.iter().map(|m| m.0).min();
    let points: Vec<(f64, f64)> = inputs
        .measurements
        .iter()
        .map(|(at, value)| {
            let days = start.map_or(0.0, |s| (*at - s).num_seconds() as f64 / 86_400.0);
            (days, *value)
        })
        .collect();
    let span_days = points.iter().map(|p| p.0).fold(0.0, f64::max);
    let mut plan = Retraining {
        deployment_id: None,
        deployment: inputs.deployment.to_owned(),
        model: inputs.model.map(str::to_owned),
        metric: inputs.metric.to_owned(),
        points: points.len(),
        span_days,
        decay: None,
        interval_days: None,
        due_at: None,
        due: false,
        finding: String::new(),
        figures: Vec::new(),
    };
    let Some(fit) = fit(&points) else {
        plan.finding = format!(
            "Too few points to fit a decay: {} measurements of {} over {:.0} days (at least {MIN_POINTS} over {MIN_SPAN_DAYS:.0} days are needed).",
            points.len(),
            inputs.metric,
            span_days
        );
        return plan;
    };
    let values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let per_unit = points_per_unit(&values);
    let (decay, low, high) = decay_per_month(&fit, inputs.direction, per_unit);
    plan.decay = Some((decay, low, high));
    plan.figures.push(format!(
        "{} {} {:.2} points a month (95% range {:.2} to {:.2}), fitted to {} measurements over {:.0} days.",
        inputs.metric,
        if decay > 0.0 { "loses" } else { "gains" },
        decay.abs(),
        low,
        high,
        fit.points,
        fit.span_days
    ));
    if decay < NEGLIGIBLE_DECAY {
        plan.finding = format!(
            "{} is not getting worse: no retraining is needed for its quality's sake.",
            inputs.metric
        );
        return plan;
    }
    let (Some(cost), Some((value, basis))) = (inputs.training_cost, inputs.value_per_point.clone())
    else {
        plan.finding = format!(
            "{} loses {decay:.2} points a month; {} to weigh that against.",
            inputs.metric,
            match (inputs.training_cost, &inputs.value_per_point) {
                (None, None) => "its training cost and the value of a point are not known",
                (None, Some(_)) => "its training cost is not known (no experiment run records it)",
                _ => "the value of a point is not known (a lead sets it, or enters the value delivered on the Reports page)",
            }
        );
        return plan;
    };
    let money = |amount: f64| {
        let amount = rust_decimal::Decimal::from_f64_retain(amount).unwrap_or_default();
        crate::format::format_money(amount.round_dp(2), inputs.currency)
    };
    plan.figures.push(format!(
        "Training costs {}; a point is worth {} a month ({basis}).",
        money(cost),
        money(value)
    ));
    let Some(months) = optimum_months(cost, value, decay) else {
        plan.finding = "Nothing is at stake: no retraining plan.".into();
        return plan;
    };
    let days = months * MONTH_DAYS;
    let shortest = optimum_months(cost, value, high).map_or(days, |m| m * MONTH_DAYS);
    let longest = optimum_months(cost, value, low).map(|m| m * MONTH_DAYS);
    plan.interval_days = Some((days, shortest, longest));
    let due_at = start.map(|s| s + TimeDelta::seconds((days * 86_400.0) as i64));
    plan.due_at = due_at;
    plan.due = due_at.is_some_and(|at| at <= inputs.now);
    let range = match longest {
        Some(longest) => format!("{shortest:.0} to {longest:.0} days"),
        None => format!("{shortest:.0} days or more: the decay may be zero"),
    };
    plan.figures.push(format!(
        "Retraining every {days:.0} days ({range}) costs {} a month in training and lost value, the least any interval does.",
        money((2.0 * cost * value * decay).sqrt())
    ));
    plan.finding = match due_at {
        Some(at) if plan.due => format!(
            "Retrain now: since {}, the value lost to {}'s decay has passed the training cost (due {}).",
            start.map_or_else(String::new, |s| s.format("%Y-%m-%d").to_string()),
            inputs.metric,
            at.format("%Y-%m-%d")
        ),
        Some(at) => format!(
            "Retrain every {days:.0} days; the next retraining pays for itself on {}.",
            at.format("%Y-%m-%d")
        ),
        None => format!("Retrain every {days:.0} days."),
    };
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
    }

    /// F1 from 0.90, falling `per_day` a day, measured daily for `days` days.
    fn decaying(per_day: f64, days: i64) -> Vec<(DateTime<Utc>, f64)> {
        (0..days)
            .map(|d| (start() + TimeDelta::days(d), 0.90 - per_day * d as f64))
            .collect()
    }

    fn inputs<'a>(measurements: &'a [(DateTime<Utc>, f64)], now: DateTime<Utc>) -> Inputs<'a> {
        Inputs {
            deployment: "fraud-v3",
            model: Some("fraud v3"),
            metric: "f1",
            direction: Direction::Higher,
            measurements,
            training_cost: Some(600.0),
            value_per_point: Some((1_000.0, "set by a lead".into())),
            currency: "USD",
            now,
        }
    }

    #[test]
    fn an_exact_line_is_fitted_exactly() {
        let points: Vec<(f64, f64)> = (0..10).map(|d| (d as f64, 2.0 - 0.5 * d as f64)).collect();
        let fitted = fit(&points).expect("fit");
        assert!((fitted.slope_per_day + 0.5).abs() < 1e-12);
        assert!((fitted.intercept - 2.0).abs() < 1e-12);
        assert!(fitted.slope_se < 1e-9);
    }

    #[test]
    fn the_optimum_is_the_closed_form() {
        // C = 600, V = 1,000 a point a month, r = 3 points a month: T* = √(1200 / 3000) months.
        let months = optimum_months(600.0, 1_000.0, 3.0).expect("optimum");
        assert!((months - 0.4_f64.sqrt()).abs() < 1e-12);
        // It is the minimum of C/T + V·r·T/2: a little more or less costs more.
        let monthly = |t: f64| 600.0 / t + 1_000.0 * 3.0 * t / 2.0;
        assert!(monthly(months) < monthly(months * 1.05));
        assert!(monthly(months) < monthly(months * 0.95));
        assert_eq!(optimum_months(600.0, 1_000.0, 0.0), None);
    }

    #[test]
    fn a_decay_of_a_tenth_of_a_point_a_day_gives_its_interval_and_due_date() {
        // 0.001 F1 a day is 3 points a month: retrain every √0.4 months = 18.97 days.
        let measured = decaying(0.001, 21);
        let plan = plan(&inputs(&measured, start() + TimeDelta::days(20)));
        let (decay, low, high) = plan.decay.expect("decay");
        assert!((decay - 3.0).abs() < 1e-9, "{decay}");
        assert!((low - 3.0).abs() < 1e-6 && (high - 3.0).abs() < 1e-6);
        let (days, ..) = plan.interval_days.expect("interval");
        assert!((days - 30.0 * 0.4_f64.sqrt()).abs() < 1e-9, "{days}");
        assert!(plan.due, "{}", plan.finding);
        assert_eq!(
            plan.due_at.map(|at| at.date_naive().to_string()).as_deref(),
            Some("2026-03-19")
        );
        assert!(plan.finding.starts_with("Retrain now"), "{}", plan.finding);
        let early = plan_at(&measured, start() + TimeDelta::days(10));
        assert!(!early.due);
        assert_eq!(
            early.finding,
            "Retrain every 19 days; the next retraining pays for itself on 2026-03-19."
        );
    }

    fn plan_at(measured: &[(DateTime<Utc>, f64)], now: DateTime<Utc>) -> Retraining {
        plan(&inputs(measured, now))
    }

    #[test]
    fn too_few_points_are_said_so() {
        let measured = decaying(0.001, 4);
        let plan = plan_at(&measured, start());
        assert_eq!(plan.decay, None);
        assert_eq!(
            plan.finding,
            "Too few points to fit a decay: 4 measurements of f1 over 3 days (at least 5 over 3 days are needed)."
        );
    }

    #[test]
    fn a_steady_metric_needs_no_retraining_and_a_lower_is_better_metric_decays_upwards() {
        let flat = decaying(0.0, 14);
        assert!(plan_at(&flat, start())
            .finding
            .contains("not getting worse"));
        let rising_error: Vec<(DateTime<Utc>, f64)> = (0..14)
            .map(|d| (start() + TimeDelta::days(d), 8.0 + 0.1 * d as f64))
            .collect();
        let mut lower = inputs(&rising_error, start());
        lower.metric = "mape";
        lower.direction = Direction::Lower;
        let (decay, ..) = plan(&lower).decay.expect("decay");
        // MAPE in percent: one point is one unit, 0.1 a day is 3 a month.
        assert!((decay - 3.0).abs() < 1e-9, "{decay}");
    }

    #[test]
    fn noise_widens_the_range_and_an_uncertain_decay_leaves_it_open() {
        let noisy: Vec<(DateTime<Utc>, f64)> = (0..10)
            .map(|d| {
                let wobble = if d % 2 == 0 { 0.01 } else { -0.01 };
                (
                    start() + TimeDelta::days(d),
                    0.90 - 0.0002 * d as f64 + wobble,
                )
            })
            .collect();
        let plan = plan_at(&noisy, start());
        let (_, low, high) = plan.decay.expect("decay");
        assert!(low < 0.0 && high > 0.0, "{low} {high}");
        let (_, shortest, longest) = plan.interval_days.expect("interval");
        assert!(shortest > 0.0);
        assert_eq!(
            longest, None,
            "a decay that may be zero leaves the interval open"
        );
    }
}
