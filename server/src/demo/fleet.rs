//! The demo's fleet: six GPU hosts (H100, A100 and L4), a CPU machine, a dozen deployments (two of
//! them on MIG slices of a Kubernetes node, beside a GPU no deployment uses; a ranker on 6 of the
//! CPU machine's 8 cores) and three weeks of telemetry, stored through the same validation and
//! ingest code the API uses.

use chrono::{DateTime, DurationRound, TimeDelta, Timelike, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use app::audit::Actor;
use app::prices::PricingKind;
use app::telemetry::ingest::{parse_batch, Window};
use app::telemetry::store::{ingest, Outcome};

const H100: &str = "NVIDIA H100 80GB HBM3";
const A100: &str = "NVIDIA A100-SXM4-80GB";
const L4: &str = "NVIDIA L4";

/// A deployment: its key, the model version and team it belongs to (None: left unassigned for the
/// demo's visitor to link), how it pays, and how busy it is.
struct Deployment {
    key: &'static str,
    model: Option<(&'static str, &'static str, &'static str)>,
    pricing: PricingKind,
    /// Mean utilization at the daily peak, 0 to 1.
    peak_utilization: f64,
    /// Requests per GPU-second at full utilization.
    requests_per_busy_second: f64,
    /// p95 latency at low load, in ms.
    base_p95_ms: f64,
}

const DEPLOYMENTS: &[Deployment] = &[
    Deployment {
        key: "fraud-lgbm-v3",
        model: Some(("fraud-lgbm", "v3", "Fraud Detection")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.55,
        requests_per_busy_second: 900.0,
        base_p95_ms: 9.0,
    },
    Deployment {
        key: "fraud-lgbm-v4-canary",
        model: None,
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.06,
        requests_per_busy_second: 850.0,
        base_p95_ms: 8.0,
    },
    Deployment {
        key: "search-bert-v2",
        model: Some(("search-bert", "v2", "Search & Ranking")),
        pricing: PricingKind::Reserved,
        peak_utilization: 0.75,
        requests_per_busy_second: 240.0,
        base_p95_ms: 28.0,
    },
    Deployment {
        key: "llm-summarizer-v1",
        model: Some(("llm-summarizer", "v1", "Search & Ranking")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.85,
        requests_per_busy_second: 6.0,
        base_p95_ms: 950.0,
    },
    Deployment {
        key: "llm-chat-70b-v2",
        model: Some(("llm-chat-70b", "v2", "ML Platform")),
        pricing: PricingKind::Reserved,
        peak_utilization: 0.65,
        requests_per_busy_second: 3.0,
        base_p95_ms: 1800.0,
    },
    Deployment {
        key: "forecast-tft-v5",
        model: Some(("forecast-tft", "v5", "Forecasting")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.35,
        requests_per_busy_second: 40.0,
        base_p95_ms: 120.0,
    },
    Deployment {
        key: "recsys-two-tower-v4",
        model: Some(("recsys-two-tower", "v4", "Search & Ranking")),
        pricing: PricingKind::Reserved,
        peak_utilization: 0.7,
        requests_per_busy_second: 700.0,
        base_p95_ms: 15.0,
    },
    Deployment {
        key: "embeddings-e5-v1",
        model: Some(("embeddings-e5", "v1", "ML Platform")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.45,
        requests_per_busy_second: 400.0,
        base_p95_ms: 22.0,
    },
    Deployment {
        key: "ocr-donut-v2",
        model: Some(("ocr-donut", "v2", "Forecasting")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.5,
        requests_per_busy_second: 18.0,
        base_p95_ms: 310.0,
    },
    Deployment {
        key: "toxicity-distilbert-v1",
        model: Some(("toxicity-distilbert", "v1", "ML Platform")),
        pricing: PricingKind::Spot,
        peak_utilization: 0.6,
        requests_per_busy_second: 520.0,
        base_p95_ms: 12.0,
    },
    Deployment {
        key: "batch-reindex-v1",
        model: None,
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.04,
        requests_per_busy_second: 0.0,
        base_p95_ms: 0.0,
    },
    Deployment {
        key: "chat-llama-8b-v1",
        model: Some(("chat-llama-8b", "v1", "ML Platform")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.8,
        requests_per_busy_second: 2.8,
        base_p95_ms: 1100.0,
    },
    Deployment {
        key: "rerank-minilm-v1",
        model: Some(("rerank-minilm", "v1", "Search & Ranking")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.5,
        requests_per_busy_second: 260.0,
        base_p95_ms: 18.0,
    },
    Deployment {
        key: "ranker-gbt-v1",
        model: Some(("ranker-gbt", "v1", "Search & Ranking")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.6,
        requests_per_busy_second: 250.0,
        base_p95_ms: 6.0,
    },
    Deployment {
        key: "fraud-gnn-v1",
        model: Some(("fraud-gnn", "v1", "Fraud Detection")),
        pricing: PricingKind::OnDemand,
        peak_utilization: 0.3,
        requests_per_busy_second: 150.0,
        base_p95_ms: 45.0,
    },
];

/// The language models' servers count tokens: (deployment key, input and output tokens per
/// request, the share of input read from the prefix cache, time to first token's p95 against the
/// whole request's).
const LANGUAGE_MODELS: &[(&str, f64, f64, f64, f64)] = &[
    ("llm-summarizer-v1", 3_000.0, 250.0, 0.05, 0.35),
    ("llm-chat-70b-v2", 1_200.0, 350.0, 0.4, 0.12),
    ("chat-llama-8b-v1", 3_000.0, 250.0, 0.05, 0.3),
];

/// A Kubernetes node whose first H100 is cut by MIG: (GPU instance, profile, sevenths of the
/// card, deployment key, pod). Its second H100 no deployment uses: idle capacity.
const K8S_HOST: &str = "gpu-node-06";
const MIG_SLICES: &[(u32, &str, f64, &str, &str)] = &[
    (
        1,
        "3g.40gb",
        3.0,
        "chat-llama-8b-v1",
        "ml-serving/chat-llama-8b-v1-7d9f8b6c4-x2x9q",
    ),
    (
        2,
        "4g.40gb",
        4.0,
        "rerank-minilm-v1",
        "search/rerank-minilm-v1-0",
    ),
];

/// (host, GPU model, deployment key of each GPU in index order)
const HOSTS: &[(&str, &str, &[&str])] = &[
    (
        "gpu-node-01",
        H100,
        &[
            "fraud-lgbm-v3",
            "search-bert-v2",
            "search-bert-v2",
            "llm-summarizer-v1",
        ],
    ),
    (
        "gpu-node-02",
        H100,
        &[
            "llm-chat-70b-v2",
            "llm-chat-70b-v2",
            "llm-chat-70b-v2",
            "llm-chat-70b-v2",
        ],
    ),
    (
        "gpu-node-03",
        A100,
        &[
            "forecast-tft-v5",
            "recsys-two-tower-v4",
            "recsys-two-tower-v4",
            "embeddings-e5-v1",
        ],
    ),
    (
        "gpu-node-04",
        L4,
        &[
            "ocr-donut-v2",
            "toxicity-distilbert-v1",
            "fraud-lgbm-v4-canary",
            "batch-reindex-v1",
        ],
    ),
    ("gpu-node-05", H100, &["fraud-gnn-v1", "fraud-gnn-v1"]),
];

const DAYS: i64 = 21;
const INTERVAL_S: i64 = 300;
const BATCH_SIZE: usize = 5_000;

/// A small deterministic generator, so every demo looks the same.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Busier in the working day (UTC), quieter at night and, except for the recommender, at weekends.
/// Shoppers search every day of the week; that also keeps the recommender's cost rise (the drift
/// page's "first half against second half" of any range) the same whatever day the demo is loaded.
fn load_factor(key: &str, ts: DateTime<Utc>) -> f64 {
    use chrono::Datelike;
    let hour = f64::from(ts.hour()) + f64::from(ts.minute()) / 60.0;
    let daily = 0.35 + 0.65 * (((hour - 14.0) / 24.0 * std::f64::consts::TAU).cos() * 0.5 + 0.5);
    let weekend =
        key != DRIFTING && matches!(ts.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
    if weekend {
        daily * 0.6
    } else {
        daily
    }
}

/// The deployment whose inputs drift in the demo: over its last 8 days it serves fewer requests per
/// GPU-second (longer candidate lists), so its cost per 1,000 rises while its drift grows.
pub const DRIFTING: &str = "recsys-two-tower-v4";
pub const DRIFT_DAYS: i64 = 8;

/// Throughput relative to normal: 1, falling to 0.5 over the drifting deployment's last 8 days.
pub fn throughput_factor(key: &str, ts: DateTime<Utc>, end: DateTime<Utc>) -> f64 {
    let into_drift = (ts - (end - TimeDelta::days(DRIFT_DAYS))).num_seconds() as f64
        / (DRIFT_DAYS * 86_400) as f64;
    if key == DRIFTING && into_drift > 0.0 {
        1.0 - 0.5 * into_drift.min(1.0)
    } else {
        1.0
    }
}

fn sample(
    ts: DateTime<Utc>,
    host_gpu: (&str, usize, &str),
    deployment: &Deployment,
    noise: &mut Noise,
    end: DateTime<Utc>,
) -> Value {
    let (host, index, gpu_model) = host_gpu;
    let utilization = (deployment.peak_utilization
        * load_factor(deployment.key, ts)
        * (0.85 + 0.3 * noise.next()))
    .clamp(0.0, 1.0);
    let busy_seconds = utilization * INTERVAL_S as f64;
    let requests = (busy_seconds
        * deployment.requests_per_busy_second
        * throughput_factor(deployment.key, ts, end))
    .round() as i64;
    let idle_watts = if gpu_model == L4 { 16.0 } else { 70.0 };
    let max_watts = match gpu_model {
        H100 => 700.0,
        A100 => 400.0,
        _ => 72.0,
    };
    let mut value = json!({
        "ts": ts.to_rfc3339(),
        "deployment": deployment.key,
        "gpu_uuid": format!("GPU-{host}-{index}"),
        "gpu_index": index,
        "gpu_model": gpu_model,
        "interval_s": INTERVAL_S,
        "utilization_pct": (utilization * 1000.0).round() / 10.0,
        "memory_used_mib": memory_mib(deployment.key, utilization),
        "power_watts": ((idle_watts + (max_watts - idle_watts) * utilization) * 10.0).round() / 10.0,
        "requests": requests,
    });
    if requests > 0 {
        let p95 = deployment.base_p95_ms
            * (1.0 + 1.5 * utilization * utilization)
            * (0.9 + 0.2 * noise.next());
        value["latency_ms"] = json!({
            "p50": (p95 * 0.45 * 10.0).round() / 10.0,
            "p95": (p95 * 10.0).round() / 10.0,
            "p99": (p95 * 1.7 * 10.0).round() / 10.0,
        });
        if let Some((_, input, output, cached, first_token)) = LANGUAGE_MODELS
            .iter()
            .find(|(key, ..)| *key == deployment.key)
        {
            let input_tokens = (requests as f64 * input).round();
            value["input_tokens"] = json!(input_tokens as i64);
            value["cached_input_tokens"] = json!((input_tokens * cached).round() as i64);
            value["output_tokens"] = json!((requests as f64 * output).round() as i64);
            value["ttft_ms"] = json!({ "p95": (p95 * first_token * 10.0).round() / 10.0 });
        }
    }
    value
}

/// The memory a deployment's GPU holds at a utilization: gradient-boosted trees little (which is
/// why the demo's canary is advised onto CPU machines), the neural models their weights and batches.
fn memory_mib(key: &str, utilization: f64) -> f64 {
    if key.starts_with("fraud-lgbm") {
        1_400.0 + 2_000.0 * utilization
    } else {
        18_000.0 + 40_000.0 * utilization
    }
}

/// Sends three weeks of telemetry for every GPU, in batches, through validation and ingest.
pub async fn load(pool: &PgPool) -> anyhow::Result<usize> {
    let end = app::clock::now().duration_trunc(TimeDelta::seconds(INTERVAL_S))?;
    let start = end - TimeDelta::days(DAYS);
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let mut pending: Vec<Value> = Vec::with_capacity(BATCH_SIZE);
    let mut stored = 0;
    for (host, gpu_model, gpus) in HOSTS {
        for (index, key) in gpus.iter().enumerate() {
            let Some(deployment) = DEPLOYMENTS.iter().find(|d| d.key == *key) else {
                continue;
            };
            let mut ts = start;
            while ts < end {
                pending.push(sample(
                    ts,
                    (host, index, gpu_model),
                    deployment,
                    &mut noise,
                    end,
                ));
                ts += TimeDelta::seconds(INTERVAL_S);
                if pending.len() == BATCH_SIZE {
                    stored += send(pool, host, std::mem::take(&mut pending)).await?;
                }
            }
        }
        if !pending.is_empty() {
            stored += send(pool, host, std::mem::take(&mut pending)).await?;
        }
    }
    stored += load_kubernetes_node(pool, start, end, &mut noise).await?;
    stored += load_cpu_machine(pool, start, end, &mut noise).await?;
    configure(pool).await?;
    Ok(stored)
}

/// A CPU machine (c7i.2xlarge, 8 cores) serving a gradient-boosted ranker on 6 of its cores; the
/// other 2 are its idle capacity.
const CPU_HOST: &str = "cpu-node-01";
const CPU_MACHINE: &str = "c7i.2xlarge";

async fn load_cpu_machine(
    pool: &PgPool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    noise: &mut Noise,
) -> anyhow::Result<usize> {
    let Some(ranker) = DEPLOYMENTS.iter().find(|d| d.key == "ranker-gbt-v1") else {
        return Ok(0);
    };
    let mut pending: Vec<Value> = Vec::new();
    let mut stored = 0;
    let mut ts = start;
    while ts < end {
        let mut value = sample(ts, (CPU_HOST, 0, CPU_MACHINE), ranker, noise, end);
        let utilization = value["utilization_pct"].as_f64().unwrap_or_default();
        let object = value.as_object_mut().expect("a sample is an object");
        object.insert(
            "gpu_uuid".into(),
            json!(format!("CPU-{CPU_HOST}/ranker-gbt-v1")),
        );
        object.insert("cpu_cores".into(), json!(6));
        object.insert("gpu_share".into(), json!(0.75));
        object.insert("memory_used_mib".into(), json!(3_100.0 + 9.0 * utilization));
        object.insert("power_watts".into(), json!(0));
        pending.push(value);
        pending.push(json!({
            "ts": ts.to_rfc3339(),
            "gpu_uuid": format!("CPU-{CPU_HOST}/unallotted"),
            "gpu_index": 0,
            "gpu_model": CPU_MACHINE,
            "interval_s": INTERVAL_S,
            "utilization_pct": (3.0 + 4.0 * noise.next() * 10.0).round() / 10.0,
            "memory_used_mib": 900.0,
            "power_watts": 0.0,
            "requests": 0,
            "cpu_cores": 2,
            "gpu_share": 0.25,
        }));
        if pending.len() >= BATCH_SIZE {
            stored += send(pool, CPU_HOST, std::mem::take(&mut pending)).await?;
        }
        ts += TimeDelta::seconds(INTERVAL_S);
    }
    if !pending.is_empty() {
        stored += send(pool, CPU_HOST, pending).await?;
    }
    Ok(stored)
}

/// The Kubernetes node: two MIG slices of card 0, each serving its deployment's pod at its share
/// of the card, and card 1 reported without a deployment, as the host's idle capacity.
async fn load_kubernetes_node(
    pool: &PgPool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    noise: &mut Noise,
) -> anyhow::Result<usize> {
    let mut pending: Vec<Value> = Vec::new();
    let mut stored = 0;
    let mut ts = start;
    while ts < end {
        for (instance, profile, sevenths, key, pod) in MIG_SLICES {
            let Some(deployment) = DEPLOYMENTS.iter().find(|d| d.key == *key) else {
                continue;
            };
            let share = sevenths / 7.0;
            let mut value = sample(ts, (K8S_HOST, 0, H100), deployment, noise, end);
            let power = value["power_watts"].as_f64().unwrap_or_default();
            value["gpu_uuid"] = json!(format!("MIG-GPU-{K8S_HOST}-0/{instance}"));
            value["gpu_share"] = json!(share);
            value["parent_gpu_uuid"] = json!(format!("GPU-{K8S_HOST}-0"));
            value["mig_profile"] = json!(profile);
            value["pod"] = json!(pod);
            value["power_watts"] = json!((power * share * 10.0).round() / 10.0);
            pending.push(value);
        }
        pending.push(json!({
            "ts": ts.to_rfc3339(),
            "gpu_uuid": format!("GPU-{K8S_HOST}-1"),
            "gpu_index": 1,
            "gpu_model": H100,
            "interval_s": INTERVAL_S,
            "utilization_pct": 0.0,
            "memory_used_mib": 0.0,
            "power_watts": 70.0,
            "requests": 0,
        }));
        if pending.len() >= BATCH_SIZE {
            stored += send(pool, K8S_HOST, std::mem::take(&mut pending)).await?;
        }
        ts += TimeDelta::seconds(INTERVAL_S);
    }
    if !pending.is_empty() {
        stored += send(pool, K8S_HOST, pending).await?;
    }
    Ok(stored)
}

async fn send(pool: &PgPool, host: &str, samples: Vec<Value>) -> anyhow::Result<usize> {
    let body = json!({ "batch_id": uuid::Uuid::new_v4(), "host": host, "samples": samples });
    // Three weeks, inside the shortest retention anyone would set for a demo.
    let batch = parse_batch(&body, Window::new(app::clock::now(), DAYS as u32 + 1))
        .map_err(|errors| anyhow::anyhow!("demo telemetry is invalid: {errors:?}"))?;
    let hash = app::auth::secret::sha256(&body.to_string());
    match ingest(pool, &batch, &hash, None).await? {
        Outcome::Stored { samples, .. } => Ok(samples),
        Outcome::Duplicate => Ok(0),
    }
}

/// Pricing kinds and model links, as the organization's people would have set them.
async fn configure(pool: &PgPool) -> anyhow::Result<()> {
    let actor = Actor::CommandLine;
    for deployment in DEPLOYMENTS {
        let deployment_id: uuid::Uuid = sqlx::query_scalar(
            "update deployment set pricing_kind = $2 where key = $1 returning deployment_id",
        )
        .bind(deployment.key)
        .bind(deployment.pricing)
        .fetch_one(pool)
        .await?;
        if let Some((model, version, team)) = deployment.model {
            let team_id = app::teams::store::id_by_name(pool, team).await.ok();
            app::fleet::store::link(pool, &actor, deployment_id, model, version, team_id)
                .await
                .map_err(crate::commands::reason)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The drift page's figure for the recommender on the 30-day range: cost per 1,000 in the
    /// range's second half against its first (reserved basis, so cost follows GPU-intervals).
    fn drift_rise_loaded_at(end: DateTime<Utc>) -> f64 {
        let deployment = DEPLOYMENTS
            .iter()
            .find(|d| d.key == DRIFTING)
            .expect("the drifting deployment");
        let middle = end - TimeDelta::days(15);
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        let (mut intervals, mut requests) = ([0.0; 2], [0.0; 2]);
        let mut ts = end - TimeDelta::days(DAYS);
        while ts < end {
            let value = sample(ts, ("gpu-node-03", 1, A100), deployment, &mut noise, end);
            let half = usize::from(ts >= middle);
            intervals[half] += 1.0;
            requests[half] += value["requests"].as_f64().expect("requests");
            ts += TimeDelta::seconds(INTERVAL_S);
        }
        let per_request = |half: usize| intervals[half] / requests[half];
        (per_request(1) / per_request(0) - 1.0) * 100.0
    }

    #[test]
    fn the_recommenders_cost_rise_is_the_same_whatever_hour_and_day_the_demo_is_loaded() {
        // A Monday; then every hour of one week, and a month's and a quarter's turn.
        let monday: DateTime<Utc> = "2026-11-30T00:00:00Z".parse().expect("instant");
        let mut ends: Vec<DateTime<Utc>> = (0..7 * 24)
            .map(|hour| monday + TimeDelta::hours(hour) + TimeDelta::minutes(35))
            .collect();
        ends.push("2027-01-01T00:05:00Z".parse().expect("instant"));
        ends.push("2027-03-31T23:55:00Z".parse().expect("instant"));
        for end in ends {
            let rise = drift_rise_loaded_at(end);
            assert!(
                (13.0..18.0).contains(&rise),
                "loaded at {end}, the recommender's cost per 1,000 rises {rise:.2}%"
            );
        }
    }
}
