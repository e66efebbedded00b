//! The demo's pipeline: product search as candidate retrieval (every query, once) followed by the
//! product ranking model (every query), within 60 ms at p95 and NDCG@10 of at least 0.44, for
//! 50 million queries a month, a tenth of them (logged-in shoppers) routed to dense retrieval.
//! Retrieval's runs come from their own demo experiment. Beside it, a
//! budget portfolio across three teams' experiments (review sentiment, ticket summaries, card
//! fraud), where a point of fraud precision is worth the most.

use sqlx::PgPool;

use crate::commands::reason;
use app::audit::Actor;
use app::pipelines::{parse_new, store};

/// Writes the pipeline; returns how many there are.
pub async fn load(
    pool: &PgPool,
    team_id: impl Fn(&str) -> Option<uuid::Uuid>,
) -> anyhow::Result<usize> {
    let team = team_id("Search & Ranking")
        .ok_or_else(|| anyhow::anyhow!("the demo team Search & Ranking is missing"))?;
    let new = parse_new(
        "Product search",
        &team.to_string(),
        "Candidate retrieval narrows the catalog to a few hundred products, then the ranker orders the top ten.",
        app::pipelines::parse_stages(
            "retrieval | Candidate retrieval | 100% | 1\nranking | Product ranking | 100% | 1",
        ),
        "p95 <= 60 ms\nndcg@10 >= 0.44",
        "50000000",
        "USD",
    )
    .map_err(reason)?;
    let pipeline_id = store::create(pool, &Actor::CommandLine, new, true)
        .await
        .map_err(reason)?;
    // Dense retrieval feeds the ranker better candidates: measured end to end, NDCG@10 0.463.
    let keys = |name: &str| {
        sqlx::query_scalar!(
            "select r.run_key from experiment_run r join experiment e using (experiment_id)
              where e.is_demo and r.name = $1",
            name
        )
        .fetch_one(pool)
    };
    let runs = vec![
        keys("Dense retrieval (HNSW index)").await?,
        keys("Neural ranker (two-tower)").await?,
    ];
    store::record_run(pool, &Actor::CommandLine, pipeline_id, &runs, 0.463)
        .await
        .map_err(reason)?;
    // The two-tower retrieval's candidates rank better still: 0.468.
    let runs = vec![
        keys("Two-tower retrieval (ANN)").await?,
        keys("Neural ranker (two-tower)").await?,
    ];
    store::record_run(pool, &Actor::CommandLine, pipeline_id, &runs, 0.468)
        .await
        .map_err(reason)?;
    // Logged-in shoppers, a tenth of the queries, get dense retrieval; the rest keep BM25.
    let view = store::view(pool, pipeline_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo pipeline is missing"))?;
    let retrieval = &view.stages[0].stage.candidates;
    let at = |name: &str| {
        retrieval
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| anyhow::anyhow!("the demo retrieval run {name} is missing"))
    };
    let route = (
        0,
        at("BM25 on CPU")?,
        at("Dense retrieval (HNSW index)")?,
        0.1,
    );
    store::set_route(pool, &Actor::CommandLine, pipeline_id, Some(route))
        .await
        .map_err(reason)?;
    portfolio(pool).await?;
    Ok(1)
}

/// The experiments of the demo portfolio, with what a point of each one's metric is worth a
/// month.
const PORTFOLIO: [(&str, f64); 3] = [
    ("Review sentiment", 40.0),
    ("Support-ticket summaries", 60.0),
    ("Card-fraud scoring", 900.0),
];

/// The monthly budget of the demo portfolio.
pub const PORTFOLIO_BUDGET: f64 = 3_500.0;

async fn portfolio(pool: &PgPool) -> anyhow::Result<()> {
    let mut chosen = Vec::new();
    for (name, value) in PORTFOLIO {
        let id = sqlx::query_scalar!(
            "select experiment_id from experiment where name = $1 and is_demo",
            name
        )
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo experiment {name} is missing"))?;
        chosen.push((id, value));
    }
    app::pipelines::scenarios::save(
        pool,
        &Actor::CommandLine,
        "Q1 across three teams",
        PORTFOLIO_BUDGET,
        &chosen,
        true,
    )
    .await
    .map_err(reason)?;
    Ok(())
}
