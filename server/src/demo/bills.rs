//! The demo's cloud bills: three months of exports for the demo fleet's hosts, as AWS (FOCUS) and
//! GCP (billing export) would write them, imported through the same importer as any upload. The
//! current month's AWS export comes twice, a preliminary one and the later one that supersedes it.

use std::io::Cursor;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;

use app::audit::Actor;
use app::bills::import;
use app::progress::Progress;

const AWS_ACCOUNT: &str = "210987654321";
const GCP_ACCOUNT: &str = "01A2B3-C4D5E6-F7G8H9";

/// A host as its cloud bills it: its tags say who uses it, when one deployment does.
struct Instance {
    host: &'static str,
    aws: bool,
    instance_type: &'static str,
    /// The price per hour of the whole instance, in cents.
    hourly_cents: i64,
    tags: &'static [(&'static str, &'static str)],
}

const INSTANCES: &[Instance] = &[
    // 1 on-demand H100 (fraud), 2 reserved (search), 1 on-demand (summarizer): shared, untagged.
    Instance {
        host: "gpu-node-01",
        aws: true,
        instance_type: "p5.4xlarge x4",
        hourly_cents: 1_350,
        tags: &[("cluster", "inference-h100")],
    },
    Instance {
        host: "gpu-node-02",
        aws: true,
        instance_type: "p5.4xlarge x4",
        hourly_cents: 1_100,
        tags: &[
            ("team", "ML Platform"),
            ("model", "llm-chat-70b"),
            ("deployment", "llm-chat-70b-v2"),
        ],
    },
    // Billed a little above the price catalog's 4.00 USD per GPU-hour: reconciliation shows it.
    Instance {
        host: "gpu-node-05",
        aws: true,
        instance_type: "p5.4xlarge x2",
        hourly_cents: 820,
        tags: &[
            ("team", "Fraud Detection"),
            ("model", "fraud-gnn"),
            ("deployment", "fraud-gnn-v1"),
        ],
    },
    Instance {
        host: "gpu-node-03",
        aws: false,
        instance_type: "a2-ultragpu-4g",
        hourly_cents: 890,
        tags: &[("cluster", "inference-a100")],
    },
    Instance {
        host: "gpu-node-04",
        aws: false,
        instance_type: "g2-standard-48",
        hourly_cents: 305,
        tags: &[("cluster", "inference-l4")],
    },
];

fn cents(value: i64) -> Decimal {
    Decimal::new(value, 2)
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN))
}

fn tags_json(tags: &[(&str, &str)]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = tags.iter().copied().collect();
    serde_json::to_string(&map).unwrap_or_default()
}

fn csv_cell(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// One month of AWS charges as a FOCUS 1.2 export, through `last_day` (inclusive); a preliminary
/// one has no tax line yet.
fn aws_focus(month: NaiveDate, last_day: NaiveDate, preliminary: bool) -> String {
    let mut out = String::from(
        "BillingAccountId,SubAccountId,BillingPeriodStart,BillingPeriodEnd,ChargePeriodStart,ChargePeriodEnd,\
         ChargeCategory,ServiceProviderName,ServiceName,ServiceCategory,ResourceId,ResourceName,RegionId,SkuId,\
         ConsumedQuantity,ConsumedUnit,BilledCost,EffectiveCost,ListCost,BillingCurrency,Tags\n",
    );
    let period_start = day_start(month);
    let period_end = day_start(month + Months::new(1));
    let mut row = |start: DateTime<Utc>,
                   end: DateTime<Utc>,
                   category: &str,
                   service: &str,
                   service_category: &str,
                   resource: &str,
                   sku: &str,
                   quantity: Decimal,
                   unit: &str,
                   cost: Decimal,
                   tags: &str| {
        out.push_str(&format!(
            "{AWS_ACCOUNT},{AWS_ACCOUNT},{},{},{},{},{category},AWS,{service},{service_category},{resource},{resource},us-east-1,{sku},{quantity},{unit},{cost},{cost},{},USD,{}\n",
            period_start.to_rfc3339(),
            period_end.to_rfc3339(),
            start.to_rfc3339(),
            end.to_rfc3339(),
            cost * Decimal::new(115, 2),
            csv_cell(tags),
        ));
    };
    let mut total = Decimal::ZERO;
    let mut day = month;
    while day <= last_day {
        for instance in INSTANCES.iter().filter(|i| i.aws) {
            let cost = cents(instance.hourly_cents) * Decimal::from(24);
            total += cost;
            row(
                day_start(day),
                day_start(day + TimeDelta::days(1)),
                "Usage",
                "Amazon Elastic Compute Cloud",
                "Compute",
                instance.host,
                instance.instance_type,
                Decimal::from(24),
                "Hours",
                cost,
                &tags_json(instance.tags),
            );
        }
        day += TimeDelta::days(1);
    }
    let days = Decimal::from((last_day - month).num_days() + 1);
    let mut extra = |category: &str,
                     service: &str,
                     service_category: &str,
                     resource: &str,
                     quantity: Decimal,
                     unit: &str,
                     cost: Decimal,
                     tags: &[(&str, &str)]| {
        total += cost;
        row(
            period_start,
            day_start(last_day + TimeDelta::days(1)),
            category,
            service,
            service_category,
            resource,
            "",
            quantity,
            unit,
            cost,
            &tags_json(tags),
        );
    };
    extra(
        "Usage",
        "Amazon Simple Storage Service",
        "Storage",
        "training-data-lake",
        Decimal::from(42_000),
        "GB-Mo",
        cents(3_22) * days,
        &[("team", "ML Platform")],
    );
    extra(
        "Usage",
        "Amazon SageMaker",
        "AI and Machine Learning",
        "search-bert-finetune",
        Decimal::from(96),
        "Hours",
        cents(4_100) * Decimal::from(3),
        &[("team", "Search & Ranking"), ("model", "search-bert")],
    );
    extra(
        "Usage",
        "AWS Data Transfer",
        "Networking",
        "",
        Decimal::from(18_500),
        "GB",
        (cents(1_665) * days / Decimal::from(30)).round_dp(2),
        &[],
    );
    extra(
        "Purchase",
        "AWS Support (Business)",
        "Management and Governance",
        "",
        Decimal::ONE,
        "Month",
        cents(90_000),
        &[],
    );
    if preliminary {
        // A preliminary export comes before the month's tax is worked out.
        return out;
    }
    let tax = (total * Decimal::new(6, 2)).round_dp(2);
    row(
        period_start,
        day_start(last_day + TimeDelta::days(1)),
        "Tax",
        "Amazon Elastic Compute Cloud",
        "Compute",
        "",
        "",
        Decimal::ZERO,
        "",
        tax,
        "{}",
    );
    out
}

/// One month of GCP charges as the billing export saved as CSV, through `last_day`.
fn gcp_export(month: NaiveDate, last_day: NaiveDate) -> String {
    let mut out = String::from(
        "billing_account_id,service.description,sku.description,usage_start_time,usage_end_time,project.id,labels,\
         location.region,resource.name,cost,currency,usage.amount,usage.unit,credits,invoice.month,cost_type\n",
    );
    let invoice = month.format("%Y%m").to_string();
    let gcp_time = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let labels = |tags: &[(&str, &str)]| {
        let list: Vec<serde_json::Value> = tags
            .iter()
            .map(|(k, v)| serde_json::json!({"key": k, "value": v}))
            .collect();
        serde_json::to_string(&list).unwrap_or_default()
    };
    let mut day = month;
    while day <= last_day {
        for instance in INSTANCES.iter().filter(|i| !i.aws) {
            let cost = cents(instance.hourly_cents) * Decimal::from(24);
            // Sustained use discount: 10% back, as a credit on the row.
            let credit = -(cost * Decimal::new(1, 1)).round_dp(6);
            out.push_str(&format!(
                "{GCP_ACCOUNT},Compute Engine,{} running in Americas,{},{},ml-serving-prod,{},us-central1,{},{cost},USD,86400,seconds,{},{invoice},regular\n",
                instance.instance_type,
                gcp_time(day_start(day)),
                gcp_time(day_start(day + TimeDelta::days(1))),
                csv_cell(&labels(instance.tags)),
                instance.host,
                csv_cell(&format!("[{{\"name\":\"Sustained usage discount\",\"amount\":{credit}}}]")),
            ));
        }
        if day.day() == 1 || day == last_day {
            out.push_str(&format!(
                "{GCP_ACCOUNT},Cloud Storage,Standard Storage US Multi-region,{},{},ml-features,{},us,feature-store,{},USD,9000,gibibyte month,[],{invoice},regular\n",
                gcp_time(day_start(day)),
                gcp_time(day_start(day + TimeDelta::days(1))),
                csv_cell(&labels(&[("team", "Forecasting")])),
                cents(11_700),
            ));
        }
        day += TimeDelta::days(1);
    }
    out
}

/// A demo rule: its name, the tag key and value it matches, and the deployments it splits across by
/// GPU-hours, or the team it sends rows to.
type DemoRule = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static str>,
);

const RULES: &[DemoRule] = &[
    (
        "LLM chat hosts",
        "deployment",
        "llm-chat-70b-v2",
        &["llm-chat-70b-v2"],
        None,
    ),
    (
        "Fraud GNN hosts",
        "deployment",
        "fraud-gnn-v1",
        &["fraud-gnn-v1"],
        None,
    ),
    (
        "Shared H100 inference",
        "cluster",
        "inference-h100",
        &["fraud-lgbm-v3", "search-bert-v2", "llm-summarizer-v1"],
        None,
    ),
    (
        "Shared A100 inference",
        "cluster",
        "inference-a100",
        &["forecast-tft-v5", "recsys-two-tower-v4", "embeddings-e5-v1"],
        None,
    ),
    (
        "Shared L4 inference",
        "cluster",
        "inference-l4",
        &[
            "ocr-donut-v2",
            "toxicity-distilbert-v1",
            "fraud-lgbm-v4-canary",
            "batch-reindex-v1",
        ],
        None,
    ),
    (
        "Platform storage",
        "team",
        "ML Platform",
        &[],
        Some("ML Platform"),
    ),
    (
        "Search training",
        "team",
        "Search & Ranking",
        &[],
        Some("Search & Ranking"),
    ),
    (
        "Forecasting storage",
        "team",
        "Forecast*",
        &[],
        Some("Forecasting"),
    ),
];

/// The organization's allocation rules: tagged hosts to their deployment, shared hosts split by
/// GPU-hours, team tags to teams. Support, data transfer and tax stay unallocated.
async fn rules(pool: &PgPool) -> anyhow::Result<()> {
    use app::bills::rules::RuleInput;
    for (name, key, value, deployments, team) in RULES {
        let team_id = match team {
            Some(team) => app::teams::store::id_by_name(pool, team)
                .await
                .map(|id| id.to_string())
                .unwrap_or_default(),
            None => String::new(),
        };
        let split_deployments = app::bills::allocate::deployment_ids(pool, &deployments.join("\n"))
            .await
            .map_err(crate::commands::reason)?;
        let rule = RuleInput {
            name: (*name).into(),
            kind: "tag".into(),
            key: (*key).into(),
            pattern: (*value).into(),
            team_id,
            split: "gpu_hours".into(),
            ..RuleInput::default()
        }
        .parse(&split_deployments)
        .map_err(crate::commands::reason)?;
        // The demo's ledger is small: re-allocated in the change, so pages show it at once.
        let settings = app::state::AllocationSettings {
            inline_rows: i64::MAX,
            ..Default::default()
        };
        app::bills::allocate::change(pool, &Actor::CommandLine, None, rule, true, &settings)
            .await
            .map_err(crate::commands::reason)?;
    }
    Ok(())
}

/// Imports three months of bills ending yesterday, the newest day a cloud has billed: the month
/// that day falls in (the current one, or on a month's first day the one before) as a preliminary
/// export and the later one that supersedes it, the two months before it complete. Answers how
/// many rows were stored.
pub async fn load(pool: &PgPool) -> anyhow::Result<u64> {
    rules(pool).await?;
    let yesterday = app::clock::now().date_naive() - TimeDelta::days(1);
    let newest = yesterday.with_day(1).unwrap_or(yesterday);
    let mut files: Vec<(String, String)> = Vec::new();
    for back in (1..=2).rev() {
        let month = newest - Months::new(back);
        let last = month + Months::new(1) - TimeDelta::days(1);
        files.push((
            format!("aws-focus-{}.csv", month.format("%Y-%m")),
            aws_focus(month, last, false),
        ));
        files.push((
            format!("gcp-billing-{}.csv", month.format("%Y-%m")),
            gcp_export(month, last),
        ));
    }
    let preliminary = (yesterday - TimeDelta::days(5)).max(newest);
    files.push((
        format!("aws-focus-{}-preliminary.csv", newest.format("%Y-%m")),
        aws_focus(newest, preliminary, true),
    ));
    files.push((
        format!("aws-focus-{}.csv", newest.format("%Y-%m")),
        aws_focus(newest, yesterday, false),
    ));
    files.push((
        format!("gcp-billing-{}.csv", newest.format("%Y-%m")),
        gcp_export(newest, yesterday),
    ));
    let mut rows = 0;
    for (name, text) in files {
        let outcome = import::import(
            pool,
            &Actor::CommandLine,
            &name,
            None,
            bills::Limits::default(),
            Cursor::new(text.into_bytes()),
            Arc::new(Progress::default()),
        )
        .await
        .map_err(|error| anyhow::anyhow!("the demo bill {name} was refused: {error:?}"))?;
        rows += u64::try_from(outcome.import.rows).unwrap_or_default();
    }
    Ok(rows)
}
