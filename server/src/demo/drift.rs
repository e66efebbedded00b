//! The demo's drift: three weeks of daily measurements for the linked deployments, posted through
//! the same validation and ingest as `POST /api/v1/drift`. The recommender's inputs drift over its
//! last 8 days while its cost per 1,000 rises (see `fleet::DRIFTING`); the fraud model's
//! transaction amounts shift enough for a warning; the others stay healthy.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use super::fleet::{DRIFTING, DRIFT_DAYS};
use app::drift::ingest::parse_batch;
use app::drift::store::ingest;
use app::telemetry::store::Outcome;

const DAYS: i64 = 21;

/// A monitored deployment: its key, its features with their usual PSI, and a performance metric
/// with its usual value.
type Monitored = (
    &'static str,
    &'static [(&'static str, f64)],
    Option<(&'static str, f64)>,
);

const MONITORED: &[Monitored] = &[
    (
        DRIFTING,
        &[("session_length", 0.03), ("item_category", 0.02)],
        Some(("ndcg@10", 0.449)),
    ),
    (
        "fraud-lgbm-v3",
        &[("amount_usd", 0.04), ("merchant_category", 0.03)],
        Some(("f1", 0.912)),
    ),
    (
        "search-bert-v2",
        &[("query_length", 0.02)],
        Some(("ndcg@10", 0.61)),
    ),
    (
        "forecast-tft-v5",
        &[("store_traffic", 0.05)],
        Some(("mape", 0.081)),
    ),
    ("toxicity-distilbert-v1", &[("comment_length", 0.03)], None),
    ("embeddings-e5-v1", &[("document_length", 0.02)], None),
];

/// How far into its drift a day is, 0 before and 1 at the end.
fn drift_share(day: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    let start = end - TimeDelta::days(DRIFT_DAYS);
    ((day - start).num_seconds() as f64 / (end - start).num_seconds() as f64).clamp(0.0, 1.0)
}

/// A reference histogram and today's, whose shape moves by `shift` (0 none, 1 much).
fn histograms(shift: f64) -> (Vec<f64>, Vec<f64>) {
    let reference = vec![120.0, 340.0, 520.0, 610.0, 480.0, 290.0, 140.0, 60.0];
    let current = reference
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let tilt = 1.0 + shift * (i as f64 - 3.5) / 2.0;
            (c * tilt.max(0.05)).round()
        })
        .collect();
    (reference, current)
}

fn measurements(end: DateTime<Utc>) -> Vec<Value> {
    let mut all = Vec::new();
    for day in 0..DAYS {
        let at = end - TimeDelta::days(DAYS - day) + TimeDelta::hours(6);
        // Small day-to-day wobble, the same every time.
        let wobble = ((day * 7 % 5) as f64 - 2.0) / 100.0;
        for (key, features, performance) in MONITORED {
            let drifting = *key == DRIFTING;
            let share = if drifting { drift_share(at, end) } else { 0.0 };
            for (i, (feature, usual)) in features.iter().enumerate() {
                let mut psi = (usual * (1.0 + wobble * 3.0)).max(0.005);
                if *key == "fraud-lgbm-v3" && *feature == "amount_usd" && day >= DAYS - 5 {
                    psi = 0.13 + 0.004 * (day - (DAYS - 5)) as f64;
                }
                if drifting && i == 0 {
                    // Session lengths drift as histograms; Pareto computes PSI, JS and KS.
                    let (reference, current) = histograms(0.05 + 0.75 * share);
                    all.push(json!({
                        "ts": at.to_rfc3339(), "deployment": key, "kind": "data",
                        "feature": feature,
                        "histogram": { "reference": reference, "current": current,
                                       "edges": [0, 30, 60, 120, 240, 480, 900, 1800, 3600] },
                    }));
                    continue;
                }
                if drifting {
                    psi += 0.12 * share;
                }
                all.push(json!({
                    "ts": at.to_rfc3339(), "deployment": key, "kind": "data",
                    "feature": feature, "metric": "psi", "value": (psi * 10_000.0).round() / 10_000.0,
                }));
            }
            if let Some((metric, usual)) = performance {
                let lower_is_better = *metric == "mape";
                let mut value =
                    usual * (1.0 + if lower_is_better { -wobble } else { wobble } / 4.0);
                if drifting {
                    value -= 0.04 * share;
                }
                all.push(json!({
                    "ts": at.to_rfc3339(), "deployment": key, "kind": "performance",
                    "metric": metric, "value": (value * 10_000.0).round() / 10_000.0,
                    "samples": 2_000 + day * 40,
                }));
            }
        }
    }
    all
}

/// Loads the drift; returns how many measurements were stored.
pub async fn load(pool: &PgPool) -> anyhow::Result<usize> {
    let end = app::clock::now().duration_trunc(TimeDelta::hours(1))?;
    let body = json!({ "batch_id": uuid::Uuid::new_v4(), "measurements": measurements(end) });
    let batch = parse_batch(&body, app::clock::now())
        .map_err(|errors| anyhow::anyhow!("demo drift is invalid: {errors:?}"))?;
    let hash = app::auth::secret::sha256(&body.to_string());
    match ingest(pool, &batch, &hash, None).await? {
        Outcome::Stored { samples, .. } => Ok(samples),
        Outcome::Duplicate => Ok(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::drift::stats::psi;

    #[test]
    fn the_drifting_histograms_move_past_the_alert_level_only_at_the_end() {
        let (r, c) = histograms(0.05);
        assert!(psi(&r, &c).expect("psi") < 0.1);
        let (r, c) = histograms(0.8);
        assert!(psi(&r, &c).expect("psi") > 0.25);
    }

    #[test]
    fn the_demo_drift_is_valid() {
        let end = app::clock::now();
        let body = json!({ "batch_id": uuid::Uuid::new_v4(), "measurements": measurements(end) });
        let batch = parse_batch(&body, end).expect("valid");
        assert!(batch.measurements.len() > DAYS as usize * 10);
    }
}
