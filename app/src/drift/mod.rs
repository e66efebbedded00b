//! Drift: how far each deployment's inputs and quality have moved from what it was chosen on, and
//! what that deployment costs meanwhile.
//!
//! Measurements come from `POST /api/v1/drift`: performance on labelled samples (compared with the
//! figure the model's experiment recorded) or data drift per feature (PSI, Jensen–Shannon,
//! Kolmogorov–Smirnov, Wasserstein), sent as values or as histograms Pareto turns into values.
//! The newest value of each series, against its thresholds, gives the deployment's drift state.

pub mod ingest;
pub mod page;
mod server_fns;
pub mod stats;
#[cfg(feature = "ssr")]
pub mod store;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, FieldError};
use crate::experiments::{default_direction, metric_label, Direction};
pub use page::{DeploymentDriftPage, DriftPage};
pub use server_fns::*;

crate::named_enum!(
    /// What a measurement is about.
    DriftKind, "drift kind", "drift_kind" {
        Performance = "performance", "performance", ["quality"];
        Data = "data", "data drift", ["data_drift", "feature"];
    }
);

/// How a deployment stands, worst first when sorted descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftState {
    /// No measurement in the window.
    Unmeasured,
    Healthy,
    Warning,
    Drifting,
}

impl DriftState {
    pub const ALL: [DriftState; 4] = [
        DriftState::Drifting,
        DriftState::Warning,
        DriftState::Healthy,
        DriftState::Unmeasured,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DriftState::Unmeasured => "unmeasured",
            DriftState::Healthy => "healthy",
            DriftState::Warning => "warning",
            DriftState::Drifting => "drifting",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DriftState::Unmeasured => "Not measured",
            DriftState::Healthy => "Healthy",
            DriftState::Warning => "Warning",
            DriftState::Drifting => "Drifting",
        }
    }

    pub fn parse(text: &str) -> Option<DriftState> {
        DriftState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// The data-drift statistics Pareto knows, with their labels.
pub const DATA_METRICS: &[(&str, &str)] = &[
    ("psi", "PSI"),
    ("js", "Jensen–Shannon"),
    ("ks", "Kolmogorov–Smirnov"),
    ("wasserstein", "Wasserstein"),
];

/// The threshold key of performance measurements: a drop, in percent of the experiment's figure.
pub const PERFORMANCE: &str = "performance";

/// Measurements older than this (counted back from now) no longer set the state.
pub const STATE_WINDOW_DAYS: i64 = 7;

pub fn drift_metric_label(metric: &str) -> String {
    DATA_METRICS
        .iter()
        .find(|(name, _)| *name == metric)
        .map_or_else(|| metric_label(metric), |(_, label)| (*label).to_owned())
}

/// Warn and alert levels for one statistic (or, for `performance`, a drop in percent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub metric: String,
    pub warn: f64,
    pub alert: f64,
    /// Set for this deployment rather than Pareto's default.
    pub custom: bool,
}

/// Pareto's defaults: PSI 0.1 / 0.25 (the industry's rule of thumb), Jensen–Shannon and KS
/// 0.1 / 0.2, and a performance drop of 2% / 5% of the experiment's figure. Wasserstein is in the
/// feature's own unit, so it has no default: it is shown, and judged only once someone sets one.
pub fn default_thresholds() -> Vec<Threshold> {
    [
        ("psi", 0.1, 0.25),
        ("js", 0.1, 0.2),
        ("ks", 0.1, 0.2),
        (PERFORMANCE, 2.0, 5.0),
    ]
    .into_iter()
    .map(|(metric, warn, alert)| Threshold {
        metric: metric.into(),
        warn,
        alert,
        custom: false,
    })
    .collect()
}

/// The thresholds in force: a deployment's own over the defaults.
pub fn thresholds_with(custom: Vec<Threshold>) -> Vec<Threshold> {
    let mut all = default_thresholds();
    for threshold in custom {
        match all.iter_mut().find(|t| t.metric == threshold.metric) {
            Some(slot) => *slot = threshold,
            None => all.push(threshold),
        }
    }
    all
}

/// Checks a threshold as a lead typed it.
pub fn parse_threshold(metric: &str, warn: &str, alert: &str) -> Result<Threshold, AppError> {
    let metric = metric.trim();
    if metric != PERFORMANCE && !DATA_METRICS.iter().any(|(name, _)| *name == metric) {
        return Err(AppError::field(
            "metric",
            "choose PSI, Jensen–Shannon, Kolmogorov–Smirnov, Wasserstein or performance",
        ));
    }
    let mut errors = Vec::new();
    let mut read = |field: &str, text: &str| match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Some(value),
        _ => {
            errors.push(FieldError {
                field: field.into(),
                message: "must be a number, 0 or more".into(),
            });
            None
        }
    };
    let (warn, alert) = (read("warn", warn), read("alert", alert));
    if let (Some(warn), Some(alert)) = (warn, alert) {
        if alert < warn {
            errors.push(FieldError {
                field: "alert".into(),
                message: format!("must be at least the warning level ({warn})"),
            });
        }
        if metric == PERFORMANCE && alert > 100.0 {
            errors.push(FieldError {
                field: "alert".into(),
                message: "a drop is a percentage: at most 100".into(),
            });
        }
        if errors.is_empty() {
            return Ok(Threshold {
                metric: metric.into(),
                warn,
                alert,
                custom: true,
            });
        }
    }
    Err(AppError::Validation(errors))
}

/// The newest value of one measured series of a deployment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Latest {
    pub kind: DriftKind,
    pub metric: String,
    /// The feature, for data drift; empty for performance.
    pub feature: String,
    pub value: f64,
    pub at: DateTime<Utc>,
    /// For performance: the figure the model's experiment recorded for this metric.
    pub baseline: Option<f64>,
}

impl Latest {
    /// For performance: how far the value fell below the experiment's figure, in percent of it
    /// (a rise for metrics where lower is better). Negative when it improved.
    pub fn drop_pct(&self) -> Option<f64> {
        let baseline = self.baseline.filter(|b| *b != 0.0)?;
        let change = match default_direction(&self.metric) {
            Direction::Higher => baseline - self.value,
            Direction::Lower => self.value - baseline,
        };
        Some(100.0 * change / baseline.abs())
    }
}

/// One series judged against its threshold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub latest: Latest,
    pub state: DriftState,
    /// The value over its alert level (1 = at the alert level), when a threshold applies: what
    /// puts deployments with different statistics on one axis.
    pub score: Option<f64>,
    /// What people read: "PSI of amount_usd 0.31 is past 0.25".
    pub text: String,
}

fn level(value: f64, threshold: Option<&Threshold>) -> DriftState {
    match threshold {
        Some(t) if value >= t.alert => DriftState::Drifting,
        Some(t) if value >= t.warn => DriftState::Warning,
        _ => DriftState::Healthy,
    }
}

fn ratio(value: f64, alert: f64) -> f64 {
    if alert > 0.0 {
        value / alert
    } else if value > 0.0 {
        1e6
    } else {
        0.0
    }
}

/// The worst score of a deployment's findings.
pub fn worst_score(findings: &[Finding]) -> Option<f64> {
    findings.iter().filter_map(|f| f.score).reduce(f64::max)
}

/// Judges each series; the deployment's state is the worst of them.
pub fn assess(latest: &[Latest], thresholds: &[Threshold]) -> (DriftState, Vec<Finding>) {
    let find = |metric: &str| thresholds.iter().find(|t| t.metric == metric);
    let mut findings: Vec<Finding> = latest
        .iter()
        .map(|l| {
            let (state, text, score) = match l.kind {
                DriftKind::Data => {
                    let threshold = find(&l.metric);
                    let score = threshold.map(|t| ratio(l.value, t.alert));
                    let state = level(l.value, threshold);
                    let what = format!(
                        "{} of {} is {}",
                        drift_metric_label(&l.metric),
                        l.feature,
                        format_statistic(l.value)
                    );
                    let text = match (state, threshold) {
                        (DriftState::Drifting, Some(t)) => {
                            format!("{what}, past the alert level {}", format_statistic(t.alert))
                        }
                        (DriftState::Warning, Some(t)) => {
                            format!(
                                "{what}, past the warning level {}",
                                format_statistic(t.warn)
                            )
                        }
                        (_, None) => format!("{what} (no threshold set)"),
                        _ => what,
                    };
                    (state, text, score)
                }
                DriftKind::Performance => {
                    let label = metric_label(&l.metric);
                    match (l.drop_pct(), l.baseline) {
                        (Some(drop), Some(baseline)) => {
                            let threshold = find(PERFORMANCE);
                            let state = level(drop, threshold);
                            let how = if drop > 0.0 {
                                format!("{drop:.1}% worse than")
                            } else {
                                format!("{:.1}% better than", -drop)
                            };
                            (
                                state,
                                format!(
                                    "{label} is {} on labelled samples, {how} the experiment's {}",
                                    format_statistic(l.value),
                                    format_statistic(baseline)
                                ),
                                threshold.map(|t| ratio(drop.max(0.0), t.alert)),
                            )
                        }
                        _ => (
                            DriftState::Healthy,
                            format!(
                                "{label} is {}; no experiment figure to compare it with",
                                format_statistic(l.value)
                            ),
                            None,
                        ),
                    }
                }
            };
            Finding {
                latest: l.clone(),
                state,
                score,
                text,
            }
        })
        .collect();
    findings.sort_by(|a, b| {
        b.state
            .cmp(&a.state)
            .then_with(|| a.latest.feature.cmp(&b.latest.feature))
            .then_with(|| a.latest.metric.cmp(&b.latest.metric))
    });
    let state = findings
        .iter()
        .map(|f| f.state)
        .max()
        .unwrap_or(DriftState::Unmeasured);
    (state, findings)
}

/// A deployment on the drift pages: its state as of the range's end and its cost in the range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftRow {
    pub deployment_id: uuid::Uuid,
    pub key: String,
    pub model_id: Option<uuid::Uuid>,
    pub model: Option<String>,
    pub version: Option<String>,
    pub team: Option<String>,
    pub state: DriftState,
    /// The worst finding's value over its alert level.
    pub score: Option<f64>,
    pub findings: Vec<Finding>,
    pub currency: Option<String>,
    /// Reserved-basis cost of its GPU time in the range.
    pub cost: Option<rust_decimal::Decimal>,
    pub requests: i64,
    pub per_1k: Option<rust_decimal::Decimal>,
    /// Cost per 1,000 in the second half of the range against the first, in percent.
    pub per_1k_change_pct: Option<f64>,
    /// The range's cost per day, times 30.
    pub monthly: Option<rust_decimal::Decimal>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    pub at: DateTime<Utc>,
    pub value: f64,
}

/// Spend over a range, one column per day (per week past 31 days), stacked by team or model.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Spend {
    pub columns: Vec<DateTime<Utc>>,
    /// (label, one amount per column), largest first; past `MAX_GROUPS` the rest is "Other".
    pub groups: Vec<(String, Vec<rust_decimal::Decimal>)>,
    pub currency: String,
}

/// The most groups a spend chart tells apart.
pub const MAX_GROUPS: usize = 7;

/// Stacks (column, label, amount) rows: every column from the rows, groups largest first, the
/// smallest folded into "Other" past `MAX_GROUPS`.
pub fn stack(rows: &[(DateTime<Utc>, String, rust_decimal::Decimal)], currency: String) -> Spend {
    use rust_decimal::Decimal;
    let mut columns: Vec<DateTime<Utc>> = rows.iter().map(|r| r.0).collect();
    columns.sort();
    columns.dedup();
    let mut totals: Vec<(String, Decimal)> = Vec::new();
    for (_, label, amount) in rows {
        match totals.iter_mut().find(|(l, _)| l == label) {
            Some(slot) => slot.1 += *amount,
            None => totals.push((label.clone(), *amount)),
        }
    }
    totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let kept: Vec<String> = if totals.len() > MAX_GROUPS {
        totals
            .iter()
            .take(MAX_GROUPS - 1)
            .map(|(l, _)| l.clone())
            .collect()
    } else {
        totals.iter().map(|(l, _)| l.clone()).collect()
    };
    let other = totals.len() > kept.len();
    let mut groups: Vec<(String, Vec<Decimal>)> = kept
        .iter()
        .map(|l| (l.clone(), vec![Decimal::ZERO; columns.len()]))
        .collect();
    if other {
        groups.push(("Other".into(), vec![Decimal::ZERO; columns.len()]));
    }
    for (at, label, amount) in rows {
        let Ok(column) = columns.binary_search(at) else {
            continue;
        };
        let index = kept
            .iter()
            .position(|l| l == label)
            .unwrap_or(groups.len() - 1);
        groups[index].1[column] += *amount;
    }
    Spend {
        columns,
        groups,
        currency,
    }
}

/// The four corners of the drift-versus-cost chart.
pub const QUADRANTS: [&str; 4] = [
    "Cheap and healthy",
    "Expensive and healthy",
    "Cheap and drifting",
    "Expensive and drifting",
];

/// Where cheap ends and expensive begins: the median cost per 1,000 requests of the deployments
/// shown (in their main currency), so that the split means "dearer than most of ours".
pub fn cost_split(rows: &[DriftRow]) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    let mut costs: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.per_1k.and_then(|c| c.to_f64()))
        .collect();
    if costs.is_empty() {
        return None;
    }
    costs.sort_by(f64::total_cmp);
    let middle = costs.len() / 2;
    Some(if costs.len().is_multiple_of(2) {
        (costs[middle - 1] + costs[middle]) / 2.0
    } else {
        costs[middle]
    })
}

/// The quadrant of a priced deployment: expensive when its cost per 1,000 is above the split,
/// drifting when its state is.
pub fn quadrant(row: &DriftRow, split: f64) -> Option<&'static str> {
    use rust_decimal::prelude::ToPrimitive;
    let cost = row.per_1k?.to_f64()?;
    let expensive = usize::from(cost > split);
    let drifting = usize::from(row.state == DriftState::Drifting);
    Some(QUADRANTS[drifting * 2 + expensive])
}

/// A statistic with the digits that matter: 0.31, 0.042, 12.5.
pub fn format_statistic(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 100.0 {
        format!("{value:.0}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else if magnitude >= 0.01 || magnitude == 0.0 {
        format!("{value:.3}")
    } else {
        format!("{value:.2e}")
    }
}

/// The ranges the drift pages offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Range {
    Days(u32),
    Quarter,
    /// Inclusive dates, in UTC.
    Custom(chrono::NaiveDate, chrono::NaiveDate),
}

impl Range {
    /// From the page's query: `range=7d|30d|quarter|custom` with `from` and `to` for custom.
    /// Anything unreadable falls back to 30 days.
    pub fn from_query(range: Option<&str>, from: Option<&str>, to: Option<&str>) -> Range {
        let date = |text: Option<&str>| {
            text.and_then(|t| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
        };
        match range {
            Some("7d") => Range::Days(7),
            Some("90d") => Range::Days(90),
            Some("quarter") => Range::Quarter,
            Some("custom") => match (date(from), date(to)) {
                (Some(from), Some(to)) if from <= to => Range::Custom(from, to),
                (Some(from), Some(to)) => Range::Custom(to, from),
                _ => Range::Days(30),
            },
            _ => Range::Days(30),
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            Range::Days(7) => "7d",
            Range::Days(90) => "90d",
            Range::Days(_) => "30d",
            Range::Quarter => "quarter",
            Range::Custom(..) => "custom",
        }
    }

    /// `[from, to)` in UTC for a given now. A quarter is the current calendar quarter to now; a
    /// custom range ends at the end of its last day; at most 400 days are shown.
    pub fn bounds(&self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let midnight = |d: chrono::NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        let (from, to) = match self {
            Range::Days(days) => (now - chrono::TimeDelta::days(i64::from(*days)), now),
            Range::Quarter => (
                midnight(crate::reports::Quarter::containing(now).start()),
                now,
            ),
            Range::Custom(from, to) => {
                (midnight(*from), midnight(*to) + chrono::TimeDelta::days(1))
            }
        };
        (from.max(to - chrono::TimeDelta::days(400)), to)
    }

    /// The query string that selects this range.
    pub fn query(&self) -> String {
        match self {
            Range::Custom(from, to) => format!("range=custom&from={from}&to={to}"),
            other => format!("range={}", other.key()),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Range::Days(days) => format!("last {days} days"),
            Range::Quarter => "this quarter".into(),
            Range::Custom(from, to) => format!("{from} to {to}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn latest(kind: DriftKind, metric: &str, value: f64, baseline: Option<f64>) -> Latest {
        Latest {
            kind,
            metric: metric.into(),
            feature: if kind == DriftKind::Data {
                "amount_usd".into()
            } else {
                String::new()
            },
            value,
            at: DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("time"),
            baseline,
        }
    }

    #[test]
    fn the_worst_series_sets_the_state() {
        let thresholds = default_thresholds();
        let (state, findings) = assess(
            &[
                latest(DriftKind::Data, "psi", 0.05, None),
                latest(DriftKind::Data, "js", 0.12, None),
            ],
            &thresholds,
        );
        assert_eq!(state, DriftState::Warning);
        assert_eq!(findings[0].latest.metric, "js", "worst first");
        assert!(
            findings[0].text.contains("past the warning level 0.100"),
            "{}",
            findings[0].text
        );
        let (state, _) = assess(&[latest(DriftKind::Data, "psi", 0.25, None)], &thresholds);
        assert_eq!(state, DriftState::Drifting, "the alert level itself counts");
        assert_eq!(assess(&[], &thresholds).0, DriftState::Unmeasured);
    }

    #[test]
    fn performance_is_judged_against_the_experiment_in_its_direction() {
        let thresholds = default_thresholds();
        // F1 0.90 against 0.95: 5.3% worse.
        let f1 = latest(DriftKind::Performance, "f1", 0.90, Some(0.95));
        assert!((f1.drop_pct().expect("drop") - 5.263).abs() < 0.01);
        assert_eq!(assess(&[f1], &thresholds).0, DriftState::Drifting);
        // MAPE is better lower: 0.103 against 0.10 is 3% worse; 0.09 is better.
        let mape = latest(DriftKind::Performance, "mape", 0.103, Some(0.10));
        assert_eq!(assess(&[mape], &thresholds).0, DriftState::Warning);
        let better = latest(DriftKind::Performance, "mape", 0.09, Some(0.10));
        let (state, findings) = assess(&[better], &thresholds);
        assert_eq!(state, DriftState::Healthy);
        assert!(
            findings[0].text.contains("10.0% better"),
            "{}",
            findings[0].text
        );
        let unknown = latest(DriftKind::Performance, "f1", 0.5, None);
        assert_eq!(assess(&[unknown], &thresholds).0, DriftState::Healthy);
    }

    #[test]
    fn a_deployment_threshold_replaces_the_default() {
        let custom = thresholds_with(vec![Threshold {
            metric: "psi".into(),
            warn: 0.3,
            alert: 0.5,
            custom: true,
        }]);
        assert_eq!(custom.len(), 4);
        let (state, _) = assess(&[latest(DriftKind::Data, "psi", 0.28, None)], &custom);
        assert_eq!(state, DriftState::Healthy);
        // Wasserstein is judged only once set.
        let (state, findings) = assess(
            &[latest(DriftKind::Data, "wasserstein", 40.0, None)],
            &custom,
        );
        assert_eq!(state, DriftState::Healthy);
        assert!(findings[0].text.contains("no threshold set"));
    }

    #[test]
    fn thresholds_are_checked_by_field() {
        let error = parse_threshold("psi", "0.3", "0.2").expect_err("alert below warn");
        assert_eq!(
            error.field_message("alert"),
            Some("must be at least the warning level (0.3)".into())
        );
        let error = parse_threshold("psi", "x", "-1").expect_err("numbers");
        assert!(error.field_message("warn").is_some() && error.field_message("alert").is_some());
        assert!(parse_threshold("entropy", "1", "2").is_err());
        assert_eq!(
            parse_threshold(PERFORMANCE, "3", "8").expect("ok").alert,
            8.0
        );
    }

    #[test]
    fn spend_keeps_the_largest_groups_and_folds_the_rest() {
        let day =
            |d: i64| DateTime::<Utc>::from_timestamp(1_795_000_000 + d * 86_400, 0).expect("time");
        let rows: Vec<(DateTime<Utc>, String, rust_decimal::Decimal)> = (0..9)
            .flat_map(|g| {
                (0..3).map(move |d| {
                    (
                        day(d),
                        format!("team {g}"),
                        rust_decimal::Decimal::from(10 * (g + 1)),
                    )
                })
            })
            .collect();
        let spend = stack(&rows, "USD".into());
        assert_eq!(spend.columns.len(), 3);
        assert_eq!(spend.groups.len(), MAX_GROUPS);
        assert_eq!(spend.groups[0].0, "team 8", "largest first");
        let other = &spend.groups[MAX_GROUPS - 1];
        assert_eq!(other.0, "Other");
        // teams 0, 1 and 2: 10 + 20 + 30 a day
        assert_eq!(other.1, vec![rust_decimal::Decimal::from(60); 3]);
        let total: rust_decimal::Decimal = spend.groups.iter().flat_map(|g| g.1.iter()).sum();
        assert_eq!(
            total,
            rows.iter().map(|r| r.2).sum::<rust_decimal::Decimal>()
        );
    }

    #[test]
    fn ranges_read_from_the_query() {
        let now = DateTime::<Utc>::from_timestamp(1_795_000_000, 0).expect("time"); // 2026-11-18
        assert_eq!(Range::from_query(Some("7d"), None, None), Range::Days(7));
        assert_eq!(
            Range::from_query(Some("nonsense"), None, None),
            Range::Days(30)
        );
        let custom = Range::from_query(Some("custom"), Some("2026-11-10"), Some("2026-11-01"));
        let (from, to) = custom.bounds(now);
        assert_eq!(from.to_rfc3339(), "2026-11-01T00:00:00+00:00");
        assert_eq!(
            to.to_rfc3339(),
            "2026-11-11T00:00:00+00:00",
            "through the last day"
        );
        let (from, _) = Range::Quarter.bounds(now);
        assert_eq!(from.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(custom.query(), "range=custom&from=2026-11-01&to=2026-11-10");
    }
}
