//! What an hour of GPU time costs is defined once (the view `priced_hourly`); these tests pin the
//! definition and prove that every figure built on it agrees: the fleet and deployment pages, the
//! catalog, the model card, the cost-rise alert, the bill reconciliation, drift, the overview and
//! the TCO report, for one deployment over one window. A query that priced on its own (another
//! price, energy left out, the price in force at the wrong hour) would break the agreement.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rust_decimal::Decimal;
use sqlx::PgPool;
use uuid::Uuid;

const GPU: &str = "Pareto Test GPU 80GB";

fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

/// A row of `priced_hourly`: the deployment's key, the currency, GPU seconds, and the reserved,
/// utilization-weighted and idle costs.
type PricedHour = (
    String,
    Option<String>,
    f64,
    Option<Decimal>,
    Option<Decimal>,
    Option<Decimal>,
);

/// One hour of telemetry for `deployment`.
struct Hour {
    at: DateTime<Utc>,
    utilization: f64,
    idle_share: f64,
    watts: f64,
    requests: i64,
}

async fn record(pool: &PgPool, deployment: Uuid, hours: &[Hour]) {
    for hour in hours {
        sqlx::query(
            "insert into telemetry_hourly (deployment_id, gpu_model, hour, sample_count, gpu_seconds,
                 busy_gpu_seconds, idle_gpu_seconds, energy_joules, memory_mib_seconds, requests,
                 latency_p95_weighted, latency_requests)
             values ($1, $2, $3, 60, 3600, $4, $5, $6, 0, $7, $8, $7)",
        )
        .bind(deployment)
        .bind(GPU)
        .bind(hour.at)
        .bind(3600.0 * hour.utilization)
        .bind(3600.0 * hour.idle_share)
        .bind(hour.watts * 3600.0)
        .bind(hour.requests)
        .bind(40.0 * hour.requests as f64)
        .execute(pool)
        .await
        .expect("telemetry hour");
    }
}

async fn price(
    pool: &PgPool,
    kind: &str,
    hourly: &str,
    energy: Option<&str>,
    from: DateTime<Utc>,
    to: Option<DateTime<Utc>>,
) {
    sqlx::query(
        "insert into gpu_price (gpu_model, pricing_kind, hourly_price, energy_price_per_kwh, currency,
             effective_from, effective_to)
         values ($1, $2::pricing_kind, $3::numeric, $4::numeric, 'USD', $5, $6)",
    )
    .bind(GPU)
    .bind(kind)
    .bind(hourly)
    .bind(energy)
    .bind(from)
    .bind(to)
    .execute(pool)
    .await
    .expect("price");
}

/// A model with one version, served by one deployment priced as `kind`: (model, version, deployment).
async fn deployment(pool: &PgPool, key: &str, kind: &str) -> (Uuid, Uuid, Uuid) {
    let team: Uuid =
        sqlx::query_scalar("insert into team (name) values ('Search') returning team_id")
            .fetch_one(pool)
            .await
            .expect("team");
    let model: Uuid = sqlx::query_scalar(
        "insert into model (name, owner_team_id) values ('Ranker', $1) returning model_id",
    )
    .bind(team)
    .fetch_one(pool)
    .await
    .expect("model");
    let version: Uuid = sqlx::query_scalar(
        "insert into model_version (model_id, version, status) values ($1, 'v1', 'production')
         returning model_version_id",
    )
    .bind(model)
    .fetch_one(pool)
    .await
    .expect("version");
    let deployment: Uuid = sqlx::query_scalar(
        "insert into deployment (key, model_version_id, pricing_kind) values ($1, $2, $3::pricing_kind)
         returning deployment_id",
    )
    .bind(key)
    .bind(version)
    .bind(kind)
    .fetch_one(pool)
    .await
    .expect("deployment");
    (model, version, deployment)
}

/// The definition itself: a cloud GPU costs every hour held on the reserved basis and its busy
/// share on the utilization-weighted one; on-prem adds the energy drawn to both.
#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn an_hour_costs_its_price_its_busy_share_and_its_energy(pool: PgPool) {
    let at = app::clock::now()
        .duration_trunc(TimeDelta::hours(1))
        .expect("hour")
        - TimeDelta::days(2);
    price(
        &pool,
        "on_demand",
        "4.00",
        None,
        at - TimeDelta::days(365),
        None,
    )
    .await;
    price(
        &pool,
        "on_prem",
        "1.45",
        Some("0.15"),
        at - TimeDelta::days(1),
        None,
    )
    .await;
    let mut ids = Vec::new();
    for (key, kind) in [("cloud", "on_demand"), ("prem", "on_prem")] {
        let id: Uuid = sqlx::query_scalar(
            "insert into deployment (key, pricing_kind) values ($1, $2::pricing_kind)
             returning deployment_id",
        )
        .bind(key)
        .bind(kind)
        .fetch_one(&pool)
        .await
        .expect("deployment");
        ids.push(id);
    }
    let (cloud, prem) = (ids[0], ids[1]);
    // An hour at 25% utilization, half of it idle; an on-prem hour at 50% drawing 500 W (0.5 kWh).
    let busy = |utilization, idle_share, watts| Hour {
        at,
        utilization,
        idle_share,
        watts,
        requests: 1000,
    };
    record(&pool, cloud, &[busy(0.25, 0.5, 600.0)]).await;
    record(&pool, prem, &[busy(0.5, 0.0, 500.0)]).await;
    // An hour with no price in force counts its GPU time, at no cost.
    record(
        &pool,
        prem,
        &[Hour {
            at: at - TimeDelta::days(3),
            ..busy(0.5, 0.0, 500.0)
        }],
    )
    .await;

    let rows: Vec<PricedHour> = sqlx::query_as(
        "select d.key, p.currency, p.gpu_seconds, p.reserved_cost, p.utilization_weighted_cost,
                    p.idle_cost
               from priced_hourly p join deployment d using (deployment_id)
              order by d.key, p.hour",
    )
    .fetch_all(&pool)
    .await
    .expect("priced hours");
    let usd = Some("USD".to_owned());
    assert_eq!(
        rows,
        vec![
            (
                "cloud".into(),
                usd.clone(),
                3600.0,
                Some(dec("4")),
                Some(dec("1")),
                Some(dec("2"))
            ),
            ("prem".into(), None, 3600.0, None, None, None),
            (
                "prem".into(),
                usd,
                3600.0,
                Some(dec("1.525")),
                Some(dec("0.8")),
                Some(dec("0"))
            ),
        ]
    );
}

/// Every figure of one deployment over one window, computed by each feature from the same hours,
/// across a change of price in the middle of the window.
#[sqlx::test(migrator = "pareto_server::db::MIGRATOR")]
async fn every_figure_of_a_deployment_agrees(pool: PgPool) {
    let now = app::clock::now();
    let hour = now.duration_trunc(TimeDelta::hours(1)).expect("hour");
    let change = hour - TimeDelta::days(3);
    price(
        &pool,
        "on_prem",
        "2.00",
        Some("0.20"),
        hour - TimeDelta::days(400),
        Some(change),
    )
    .await;
    price(&pool, "on_prem", "3.00", Some("0.25"), change, None).await;
    let (model, version, deployment) = deployment(&pool, "ranker-prod", "on_prem").await;
    // The week before last: a busy day, cheap per request. This week: two quiet days, half of it
    // idle, across the price change: cost per 1,000 requests rises, and an alert fires.
    let mut hours = Vec::new();
    for h in 0..24 {
        hours.push(Hour {
            at: hour - TimeDelta::days(12) + TimeDelta::hours(h),
            utilization: 0.8,
            idle_share: 0.0,
            watts: 1000.0,
            requests: 20_000,
        });
    }
    for h in 0..48 {
        hours.push(Hour {
            at: hour - TimeDelta::days(4) + TimeDelta::hours(h),
            utilization: 0.2,
            idle_share: 0.5,
            watts: 1000.0,
            requests: 5_000,
        });
    }
    record(&pool, deployment, &hours).await;

    // What the hours cost, from the price list by hand: 24 h at 2.00 + 1 kWh x 0.20; this week 24 h
    // at 2.20 and 24 h at 3.00 + 1 kWh x 0.25. Idle: half of each hour this week at its price.
    let month = dec("52.80") + dec("52.80") + dec("78.00");
    let week = dec("52.80") + dec("78.00");
    let idle = dec("24") + dec("36");
    let month_requests = 24 * 20_000 + 48 * 5_000;
    let per_1k = |cost: Decimal, requests: i64| cost / Decimal::from(requests) * dec("1000");
    let cents = |d: Decimal| d.round_dp(2);

    // Fleet and the deployment page.
    let fleet = app::fleet::store::load(&pool, 30).await.expect("fleet");
    let shown = &fleet.deployments[0].costs[0];
    assert_eq!(shown.cost.reserved, month, "fleet");
    assert_eq!(shown.cost.idle, idle, "fleet idle");
    assert_eq!(
        shown.per_thousand_reserved.map(|d| d.round_dp(6)),
        Some(per_1k(month, month_requests).round_dp(6)),
        "fleet per 1,000"
    );
    let detail = app::fleet::store::detail(&pool, "ranker-prod", 30)
        .await
        .expect("detail")
        .expect("the deployment");
    let charted: Decimal = detail.points.iter().filter_map(|p| p.cost).sum();
    assert_eq!(charted, month, "deployment chart");
    let this_week = app::fleet::store::load(&pool, 7).await.expect("fleet");
    assert_eq!(
        this_week.deployments[0].costs[0].cost.reserved, week,
        "fleet, 7 days"
    );

    // The catalog and the model card (30 days).
    let listed = app::catalog::store::model(&pool, model)
        .await
        .expect("catalog")
        .expect("the model");
    assert_eq!(listed.figures.monthly_cost, Some(cents(month)), "catalog");
    assert_eq!(
        listed.figures.cost_per_1k.map(|d| d.round_dp(6)),
        Some(per_1k(month, month_requests).round_dp(6)),
        "catalog per 1,000"
    );
    let card = app::cards::store::cost(&pool, version, model)
        .await
        .expect("card");
    assert_eq!(
        card.cost_per_1k.map(|d| d.round_dp(6)),
        Some(per_1k(month, month_requests).round_dp(6)),
        "model card"
    );

    // Drift's table and spend chart, and the overview's idle panel.
    let rows = app::drift::store::rows(&pool, now - TimeDelta::days(30), now, Some(deployment))
        .await
        .expect("drift");
    assert_eq!(rows[0].cost, Some(month), "drift table");
    let spend = app::drift::store::spend(&pool, now - TimeDelta::days(30), now, true)
        .await
        .expect("spend");
    let stacked: Decimal = spend.groups.iter().flat_map(|(_, v)| v.iter()).sum();
    assert_eq!(stacked, month, "drift spend chart");
    let overview = app::overview::store::dashboard(&pool, now)
        .await
        .expect("overview");
    assert_eq!(overview.idle[0].cost, idle, "overview idle");

    // The bill reconciliation (telemetry's estimate, by month) and the TCO report (by quarter):
    // the window may cross a month's or a quarter's end, so each is summed over the periods it
    // touches.
    let reconciled = app::bills::store::reconcile(&pool, 2)
        .await
        .expect("reconciliation");
    let estimated: Decimal = reconciled.iter().filter_map(|r| r.estimated).sum();
    assert_eq!(estimated, month, "reconciliation");
    let quarter = app::reports::Quarter::containing(now);
    let mut tco = Decimal::ZERO;
    for q in [quarter.previous(), quarter] {
        let report = app::reports::store::tco(&pool, q, now).await.expect("tco");
        tco += report.parts().inference_estimated;
    }
    assert_eq!(cents(tco), cents(month), "TCO");

    // The cost-rise alert compares this week's cost per 1,000 with the week before's.
    app::alerts::store::evaluate(&pool, now)
        .await
        .expect("alerts");
    let detail: serde_json::Value =
        sqlx::query_scalar("select detail from alert where kind = 'cost_rise'")
            .fetch_one(&pool)
            .await
            .expect("a cost-rise alert");
    let alerted = |field: &str| {
        dec(detail[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} in {detail}")))
    };
    assert_eq!(
        alerted("current_per_1k"),
        this_week.deployments[0].costs[0]
            .per_thousand_reserved
            .expect("per 1,000"),
        "alert, this week"
    );
    assert_eq!(
        alerted("previous_per_1k"),
        per_1k(dec("52.80"), 24 * 20_000).round_dp(6),
        "alert, the week before"
    );
}
