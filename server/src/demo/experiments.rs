//! The demo's experiments: a sentiment classifier (logistic regression, DistilBERT, BERT-base and an
//! API-priced large model against F1 >= 0.90), a product ranker (gradient-boosted trees against a
//! neural ranker, one of them costed from the demo fleet's telemetry), and ticket summaries (the
//! fleet's self-hosted Llama against two hosted models priced from the API price table, with a
//! negotiated discount), and card-fraud scoring (LightGBM on CPU machines against a graph network
//! and a transformer ensemble on GPUs, where a point of precision is worth the most). Stored
//! through the same code
//! as the form, the CSV upload and the API, and marked as demo data.

use anyhow::Context;
use sqlx::PgPool;
use std::collections::BTreeMap;

use crate::commands::reason;
use app::audit::Actor;
use app::experiments::fields::run_from_fields;
use app::experiments::store;
use app::experiments::{parse_cascade, ExperimentForm, RunSpec};

struct DemoExperiment {
    team: &'static str,
    form: fn(team_id: String) -> ExperimentForm,
    runs: &'static [&'static [(&'static str, &'static str)]],
}

const EXPERIMENTS: &[DemoExperiment] = &[
    DemoExperiment {
        team: "Search & Ranking",
        form: |team_id| ExperimentForm {
            name: "Review sentiment".into(),
            team_id,
            task_type: "classification".into(),
            dataset: "24,000 product reviews labelled positive / negative, held out by month"
                .into(),
            primary_metric: "f1".into(),
            constraints: "f1 >= 0.90\np95 <= 150 ms".into(),
            monthly_volume: "3,000,000".into(),
            mode: "real_time".into(),
            ..ExperimentForm::default()
        },
        runs: &[
            &[
                ("name", "Logistic regression (TF-IDF)"),
                ("metrics", "f1=0.842, accuracy=0.861, auc=0.912"),
                ("latency_p50_ms", "1.2"),
                ("latency_p95_ms", "3"),
                ("latency_p99_ms", "6"),
                ("throughput_rps", "2500"),
                ("cpu_instance", "c6i.xlarge"),
                ("hourly_price", "0.17"),
                ("training_cost", "4"),
                ("engineering_hours", "16"),
            ],
            &[
                ("name", "DistilBERT"),
                ("metrics", "f1=0.913, accuracy=0.921, auc=0.968"),
                ("latency_p50_ms", "11"),
                ("latency_p95_ms", "24"),
                ("latency_p99_ms", "41"),
                ("batch_latency_p95_ms", "180"),
                ("throughput_rps", "420"),
                ("gpu_model", "NVIDIA L4"),
                ("training_gpu_hours", "6"),
                ("engineering_hours", "40"),
            ],
            &[
                ("name", "BERT-base"),
                ("metrics", "f1=0.931, accuracy=0.938, auc=0.979"),
                ("latency_p50_ms", "27"),
                ("latency_p95_ms", "61"),
                ("latency_p99_ms", "95"),
                ("batch_latency_p95_ms", "420"),
                ("throughput_rps", "140"),
                ("gpu_model", "NVIDIA A100-SXM4-80GB"),
                ("training_gpu_hours", "30"),
                ("engineering_hours", "60"),
            ],
            &[
                ("name", "Hosted large model (API)"),
                ("metrics", "f1=0.944, accuracy=0.951"),
                ("latency_p50_ms", "420"),
                ("latency_p95_ms", "900"),
                ("latency_p99_ms", "1600"),
                ("pricing", "api_tokens"),
                ("input_price_per_1k_tokens", "0.0025"),
                ("output_price_per_1k_tokens", "0.01"),
                ("avg_input_tokens", "180"),
                ("avg_output_tokens", "3"),
                ("engineering_hours", "8"),
            ],
        ],
    },
    DemoExperiment {
        team: "Search & Ranking",
        form: |team_id| ExperimentForm {
            name: "Product ranking".into(),
            team_id,
            task_type: "ranking".into(),
            dataset: "Two weeks of search sessions with clicks and purchases, 1.8 M queries".into(),
            primary_metric: "ndcg@10".into(),
            constraints: "ndcg@10 >= 0.42\np95 <= 80 ms".into(),
            monthly_volume: "50,000,000".into(),
            mode: "real_time".into(),
            ..ExperimentForm::default()
        },
        runs: &[
            &[
                ("name", "Gradient-boosted trees (LambdaMART)"),
                ("metric:ndcg@10", "0.431"),
                ("metrics", "mrr=0.512"),
                ("latency_p50_ms", "4"),
                ("latency_p95_ms", "9"),
                ("latency_p99_ms", "15"),
                ("throughput_rps", "1800"),
                ("cpu_instance", "c6i.4xlarge"),
                ("hourly_price", "0.68"),
                ("training_cost", "35"),
                ("engineering_hours", "50"),
            ],
            &[
                ("name", "Neural ranker (two-tower)"),
                ("metric:ndcg@10", "0.452"),
                ("metrics", "mrr=0.539"),
                ("latency_p50_ms", "14"),
                ("latency_p95_ms", "38"),
                ("latency_p99_ms", "70"),
                ("throughput_rps", "700"),
                ("pricing", "measured"),
                ("deployment", "recsys-two-tower-v4"),
                ("training_gpu_hours", "96"),
                ("training_price_per_gpu_hour", "2.50"),
                ("engineering_hours", "160"),
            ],
            &[
                ("name", "Neural ranker on H100 (quoted)"),
                ("metric:ndcg@10", "0.452"),
                ("metrics", "mrr=0.539"),
                ("latency_p50_ms", "9"),
                ("latency_p95_ms", "22"),
                ("latency_p99_ms", "40"),
                ("throughput_rps", "2400"),
                ("gpu_model", "NVIDIA H100 80GB HBM3"),
                ("training_gpu_hours", "40"),
                ("engineering_hours", "160"),
            ],
        ],
    },
    DemoExperiment {
        team: "Search & Ranking",
        form: |team_id| {
            ExperimentForm {
            name: "Candidate retrieval".into(),
            team_id,
            task_type: "ranking".into(),
            dataset: "The same two weeks of search sessions: products clicked or bought among the first 500 retrieved".into(),
            primary_metric: "recall@500".into(),
            constraints: "recall@500 >= 0.90\np95 <= 40 ms".into(),
            monthly_volume: "50,000,000".into(),
            mode: "real_time".into(),
            ..ExperimentForm::default()
        }
        },
        runs: &[
            &[
                ("name", "BM25 on CPU"),
                ("metric:recall@500", "0.88"),
                ("latency_p50_ms", "6"),
                ("latency_p95_ms", "14"),
                ("latency_p99_ms", "25"),
                ("throughput_rps", "900"),
                ("cpu_instance", "c6i.4xlarge"),
                ("hourly_price", "0.68"),
                ("engineering_hours", "20"),
            ],
            &[
                ("name", "Dense retrieval (HNSW index)"),
                ("metric:recall@500", "0.94"),
                ("latency_p50_ms", "9"),
                ("latency_p95_ms", "21"),
                ("latency_p99_ms", "35"),
                ("throughput_rps", "2500"),
                ("gpu_model", "NVIDIA L4"),
                ("training_gpu_hours", "24"),
                ("engineering_hours", "80"),
            ],
            &[
                ("name", "Two-tower retrieval (ANN)"),
                ("metric:recall@500", "0.95"),
                ("latency_p50_ms", "11"),
                ("latency_p95_ms", "26"),
                ("latency_p99_ms", "42"),
                ("throughput_rps", "1800"),
                ("gpu_model", "NVIDIA L4"),
                ("training_gpu_hours", "60"),
                ("engineering_hours", "120"),
            ],
            &[
                ("name", "Large retrieval network"),
                ("metric:recall@500", "0.97"),
                ("latency_p50_ms", "24"),
                ("latency_p95_ms", "55"),
                ("latency_p99_ms", "90"),
                ("throughput_rps", "600"),
                ("gpu_model", "NVIDIA A100-SXM4-80GB"),
                ("training_gpu_hours", "400"),
                ("engineering_hours", "200"),
            ],
        ],
    },
    DemoExperiment {
        team: "Fraud Detection",
        form: |team_id| ExperimentForm {
            name: "Card-fraud scoring".into(),
            team_id,
            task_type: "classification".into(),
            dataset: "Six months of card transactions with chargeback labels, held out by week"
                .into(),
            primary_metric: "precision".into(),
            constraints: "precision >= 0.88\np95 <= 50 ms".into(),
            monthly_volume: "20,000,000".into(),
            mode: "real_time".into(),
            ..ExperimentForm::default()
        },
        runs: &[
            &[
                ("name", "LightGBM (CPU)"),
                ("metrics", "precision=0.891, recall=0.74, auc=0.962"),
                ("latency_p50_ms", "2"),
                ("latency_p95_ms", "4"),
                ("latency_p99_ms", "7"),
                ("throughput_rps", "3000"),
                ("cpu_instance", "c6i.xlarge"),
                ("hourly_price", "0.17"),
                ("training_cost", "12"),
                ("engineering_hours", "24"),
            ],
            &[
                ("name", "Graph network (L4)"),
                ("metrics", "precision=0.918, recall=0.79, auc=0.975"),
                ("latency_p50_ms", "8"),
                ("latency_p95_ms", "18"),
                ("latency_p99_ms", "30"),
                ("throughput_rps", "900"),
                ("gpu_model", "NVIDIA L4"),
                ("training_gpu_hours", "40"),
                ("engineering_hours", "80"),
            ],
            &[
                ("name", "Transformer ensemble (A100)"),
                ("metrics", "precision=0.934, recall=0.81, auc=0.981"),
                ("latency_p50_ms", "16"),
                ("latency_p95_ms", "35"),
                ("latency_p99_ms", "60"),
                ("throughput_rps", "350"),
                ("gpu_model", "NVIDIA A100-SXM4-80GB"),
                ("training_gpu_hours", "120"),
                ("engineering_hours", "120"),
            ],
            // What compression buys: the ensemble quantized to int8 and compiled with TensorRT
            // onto an L4, and distilled into a small network served from CPU machines.
            &[
                ("name", "Ensemble int8 (TensorRT, L4)"),
                ("derived_from", "transformer ensemble (a100)"),
                ("technique", "int8"),
                ("metrics", "precision=0.929, recall=0.80, auc=0.979"),
                ("latency_p50_ms", "10"),
                ("latency_p95_ms", "22"),
                ("latency_p99_ms", "38"),
                ("throughput_rps", "420"),
                ("gpu_model", "NVIDIA L4"),
                ("engineering_hours", "24"),
            ],
            &[
                ("name", "Distilled ensemble (CPU)"),
                ("derived_from", "transformer ensemble (a100)"),
                ("technique", "distillation"),
                ("metrics", "precision=0.905, recall=0.76, auc=0.970"),
                ("latency_p50_ms", "4"),
                ("latency_p95_ms", "9"),
                ("latency_p99_ms", "15"),
                ("throughput_rps", "1500"),
                ("cpu_instance", "c6i.2xlarge"),
                ("hourly_price", "0.34"),
                ("training_gpu_hours", "16"),
                ("training_price_per_gpu_hour", "4.00"),
                ("engineering_hours", "60"),
            ],
        ],
    },
    DemoExperiment {
        team: "ML Platform",
        form: |team_id| ExperimentForm {
            name: "Support-ticket summaries".into(),
            team_id,
            task_type: "generation".into(),
            dataset: "1,200 support tickets with summaries written by the support leads".into(),
            primary_metric: "rouge_l".into(),
            constraints: "rouge_l >= 0.40\np95 <= 2500 ms".into(),
            monthly_volume: "2,000,000".into(),
            mode: "real_time".into(),
            ..ExperimentForm::default()
        },
        runs: &[
            &[
                ("name", "Llama-3.1-8B on a MIG slice (measured)"),
                ("metric:rouge_l", "0.412"),
                ("latency_p50_ms", "640"),
                ("latency_p95_ms", "1400"),
                ("latency_p99_ms", "2100"),
                ("pricing", "measured"),
                ("deployment", "chat-llama-8b-v1"),
                ("avg_input_tokens", "3000"),
                ("avg_output_tokens", "250"),
                ("training_gpu_hours", "12"),
                ("training_price_per_gpu_hour", "4.00"),
                ("engineering_hours", "80"),
            ],
            &[
                ("name", "GPT-4o mini (API)"),
                ("metric:rouge_l", "0.428"),
                ("latency_p50_ms", "900"),
                ("latency_p95_ms", "2200"),
                ("latency_p99_ms", "3900"),
                ("api_provider", "openai"),
                ("api_model", "gpt-4o-mini"),
                ("avg_input_tokens", "3000"),
                ("avg_cached_input_tokens", "1500"),
                ("avg_output_tokens", "250"),
                ("engineering_hours", "10"),
            ],
            &[
                ("name", "Claude Haiku 4.5 (API)"),
                ("metric:rouge_l", "0.447"),
                ("latency_p50_ms", "1100"),
                ("latency_p95_ms", "2400"),
                ("latency_p99_ms", "4200"),
                ("api_provider", "anthropic"),
                ("api_model", "claude-haiku-4-5"),
                ("avg_input_tokens", "3000"),
                ("avg_cached_input_tokens", "1500"),
                ("avg_output_tokens", "250"),
                ("engineering_hours", "10"),
            ],
        ],
    },
];

fn spec(fields: &[(&str, &str)]) -> anyhow::Result<RunSpec> {
    let values: BTreeMap<String, String> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    run_from_fields(&values).map_err(|problems| {
        anyhow::anyhow!(
            "{}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

/// How many experiments the demo holds.
pub fn count() -> usize {
    EXPERIMENTS.len()
}

/// Loads the demo experiments; `team_id` finds a demo team by name. Returns how many runs.
pub async fn load(
    pool: &PgPool,
    team_id: impl Fn(&str) -> Option<uuid::Uuid>,
) -> anyhow::Result<usize> {
    let actor = Actor::CommandLine;
    // The negotiated discount the hosted summarizers are priced with.
    app::api_prices::store::set_discount(
        pool,
        &actor,
        app::api_prices::ProviderDiscount {
            provider: "anthropic".into(),
            discount_percent: rust_decimal::Decimal::new(8, 0),
            note: "demo: enterprise agreement 2026".into(),
        },
    )
    .await
    .map_err(reason)?;
    let mut runs = 0;
    for demo in EXPERIMENTS {
        let team = team_id(demo.team)
            .with_context(|| format!("the demo team {} is missing", demo.team))?
            .to_string();
        let form = (demo.form)(team);
        let name = form.name.clone();
        let new = form.parse().map_err(reason)?;
        let id = store::create(pool, &actor, new, true)
            .await
            .map_err(reason)
            .with_context(|| format!("creating experiment {name}"))?;
        let mut specs = demo
            .runs
            .iter()
            .map(|r| spec(r))
            .collect::<anyhow::Result<Vec<_>>>()?;
        // The measured neural ranker is the registry's recsys-two-tower v4.
        for spec in &mut specs {
            if let app::experiments::Inference::Measured { deployment } = &spec.inference {
                spec.model_version_id = sqlx::query_scalar!(
                    "select model_version_id from deployment where key = $1",
                    deployment
                )
                .fetch_optional(pool)
                .await?
                .flatten();
            }
        }
        let added = store::add_runs(pool, &actor, id, specs)
            .await
            .map_err(|e| anyhow::anyhow!("{}", app::error::AppError::from(e)))
            .with_context(|| format!("adding the runs of {name}"))?;
        runs += added.len();
        if name == "Review sentiment" {
            let run = |key: &str| {
                added
                    .iter()
                    .find(|a| a.run_key == key)
                    .map(|a| a.run_id.to_string())
                    .unwrap_or_default()
            };
            let scenario = parse_cascade(
                "DistilBERT first, the hosted model for the unsure 25%",
                &run("distilbert"),
                &run("hosted large model (api)"),
                "75",
                "0.85",
                "0.95",
                "0.90",
            )
            .map_err(reason)?;
            store::save_scenario(pool, &actor, id, &scenario)
                .await
                .map_err(reason)?;
        }
    }
    Ok(runs)
}
