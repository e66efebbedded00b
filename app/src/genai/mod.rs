//! Hosted language models, measured: the token usage applications report over OpenTelemetry
//! (spans and the `gen_ai.client.token.usage` metric of the GenAI semantic conventions), summed
//! per hour, service, provider and model, and priced with the API price table. The OTLP wire
//! formats are read by the server (`server/src/api/otlp.rs`); this is what they become.

mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
mod view;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use server_fns::*;
pub use view::HostedSpend;

/// Where a usage figure came from. An application that reports both is counted from its spans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Span,
    Metric,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Span => "span",
            Source::Metric => "metric",
        }
    }
}

/// Which tokens a metric point counts (`gen_ai.token.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Input,
    Output,
    CachedInput,
}

/// What one call, or one metric point, used.
#[derive(Clone, Debug, PartialEq)]
pub struct UsagePoint {
    pub at: DateTime<Utc>,
    pub service: String,
    pub provider: String,
    pub model: String,
    pub source: Source,
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_input_tokens: i64,
}

impl UsagePoint {
    /// A metric point's tokens of one kind.
    pub fn tokens(
        at: DateTime<Utc>,
        service: &str,
        provider: &str,
        model: &str,
        kind: TokenKind,
        tokens: i64,
    ) -> UsagePoint {
        let mut point = UsagePoint {
            at,
            service: service.to_owned(),
            provider: provider.to_owned(),
            model: model.to_owned(),
            source: Source::Metric,
            requests: 0,
            input_tokens: 0,
            output_tokens: 0,
            cached_input_tokens: 0,
        };
        match kind {
            TokenKind::Input => point.input_tokens = tokens,
            TokenKind::Output => point.output_tokens = tokens,
            TokenKind::CachedInput => point.cached_input_tokens = tokens,
        }
        point
    }
}

/// A point of a cumulative series: its increment is known once the series' last sum is read.
#[derive(Clone, Debug, PartialEq)]
pub struct CumulativePoint {
    /// The series: service, provider, model, token kind and the point's other attributes.
    pub series: String,
    pub start: DateTime<Utc>,
    pub sum: f64,
    pub kind: TokenKind,
    pub point: UsagePoint,
}

/// What the increment of a cumulative series is, given its last sum: the new sum less the last
/// one, or the whole new sum after a restart (a new start time, or a sum that went down).
pub fn increment(last: Option<(DateTime<Utc>, f64)>, start: DateTime<Utc>, sum: f64) -> f64 {
    match last {
        Some((last_start, last_sum)) if last_start == start && sum >= last_sum => sum - last_sum,
        _ => sum,
    }
}

/// One row of the hourly table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cached_input_tokens: i64,
}

/// The hourly rows the points add to: (hour, service, provider, model, source).
pub type HourKey = (DateTime<Utc>, String, String, String, Source);

pub fn hourly(points: &[UsagePoint]) -> BTreeMap<HourKey, Totals> {
    let mut rows: BTreeMap<HourKey, Totals> = BTreeMap::new();
    for point in points {
        let hour = point
            .at
            .duration_trunc(TimeDelta::hours(1))
            .unwrap_or(point.at);
        let row = rows
            .entry((
                hour,
                point.service.clone(),
                point.provider.clone(),
                point.model.clone(),
                point.source,
            ))
            .or_default();
        row.requests = row.requests.saturating_add(point.requests);
        row.input_tokens = row.input_tokens.saturating_add(point.input_tokens);
        row.output_tokens = row.output_tokens.saturating_add(point.output_tokens);
        row.cached_input_tokens = row
            .cached_input_tokens
            .saturating_add(point.cached_input_tokens);
    }
    rows
}

/// One service's use of one hosted model over the window, priced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ModelSpend {
    /// The application (`service.name`).
    pub service: String,
    /// `gen_ai.provider.name` (or the older `gen_ai.system`).
    pub provider: String,
    /// `gen_ai.request.model`.
    pub model: String,
    /// Spans when the application sent them, else the token-usage metric.
    pub source: Source,
    /// Calls counted (spans only: the metric counts tokens, not calls).
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Of the input, tokens read from the provider's prompt cache.
    pub cached_input_tokens: i64,
    /// The tokens at the API price table's row in force now, with the provider's negotiated
    /// discount; none when the table has no row for the provider and model.
    pub cost: Option<Decimal>,
    pub currency: Option<String>,
    /// How it was priced, in words.
    pub basis: String,
}

/// Every service's hosted-model use over the last `days`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct HostedSpendView {
    pub days: u32,
    pub models: Vec<ModelSpend>,
    /// The priced cost, per currency.
    pub totals: Vec<(String, Decimal)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    #[test]
    fn a_cumulative_series_adds_only_what_is_new() {
        let start = at("2026-12-07T10:00:00Z");
        assert_eq!(increment(None, start, 120.0), 120.0);
        assert_eq!(increment(Some((start, 120.0)), start, 200.0), 80.0);
        assert_eq!(increment(Some((start, 200.0)), start, 200.0), 0.0);
        // The application restarted: a new start, or a sum that went down, is all new.
        assert_eq!(
            increment(Some((start, 200.0)), at("2026-12-07T11:00:00Z"), 15.0),
            15.0
        );
        assert_eq!(increment(Some((start, 200.0)), start, 15.0), 15.0);
    }

    #[test]
    fn points_add_up_by_hour_service_model_and_source() {
        let span = |minute: u32, input: i64| UsagePoint {
            at: at(&format!("2026-12-07T10:{minute:02}:30Z")),
            service: "support-bot".into(),
            provider: "openai".into(),
            model: "gpt-4o-mini".into(),
            source: Source::Span,
            requests: 1,
            input_tokens: input,
            output_tokens: 10,
            cached_input_tokens: 0,
        };
        let mut late = span(5, 7);
        late.at = at("2026-12-07T11:00:00Z");
        let rows = hourly(&[span(1, 100), span(59, 50), late]);
        assert_eq!(rows.len(), 2);
        let first = rows.values().next().expect("a row");
        assert_eq!(
            (first.requests, first.input_tokens, first.output_tokens),
            (2, 150, 20)
        );
    }
}
