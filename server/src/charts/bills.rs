//! The bill explorer's chart: spend by month, stacked by group.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{chart_failed, stacked_bars, svg_response, Theme};
use app::state::AppState;

#[derive(Deserialize)]
pub struct BillChartQuery {
    #[serde(flatten)]
    query: app::bills::explore::ExploreQuery,
    currency: Option<String>,
    #[serde(default)]
    theme: Theme,
}

/// `/charts/bills/spend.svg`: the explorer's stacked bars for one currency.
pub async fn bill_chart(
    State(state): State<AppState>,
    Query(query): Query<BillChartQuery>,
) -> Response {
    let explorer = match app::bills::store::explore(&state.pool, query.query).await {
        Ok(explorer) => explorer,
        Err(error) => return chart_failed("loading the ledger for a chart failed", &error),
    };
    let block = explorer
        .blocks
        .iter()
        .find(|b| Some(&b.currency) == query.currency.as_ref())
        .or(explorer.blocks.first());
    let (groups, currency) = match block {
        Some(block) => (block.chart_groups(), block.currency.clone()),
        None => (Vec::new(), query.currency.unwrap_or_default()),
    };
    let months: Vec<String> = explorer
        .months
        .iter()
        .map(|m| {
            chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                .map(|d| d.format("%b %Y").to_string())
                .unwrap_or_else(|_| m.clone())
        })
        .collect();
    svg_response(stacked_bars(&months, &groups, &currency, query.theme))
}
