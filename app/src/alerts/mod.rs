//! Budgets and alerts: monthly budgets per team, model or tier; an alert when billed spend passes
//! a threshold, when the month-end forecast passes the budget, or when a deployment's cost per
//! 1,000 requests rises week over week. Each alert fires once per threshold and period and is
//! delivered to every webhook, retried with backoff.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::{AlertList, AlertsPage};
pub use server_fns::*;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeZone, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, Validator};
use crate::format::format_money;
use crate::named_enum;

named_enum!(
    /// What a budget covers.
    BudgetScope, "budget scope", "budget_scope" {
        Team = "team", "team", [];
        Model = "model", "model", [];
        Tier = "tier", "tier", [];
    }
);

named_enum!(
    /// Why an alert fired.
    AlertKind, "alert kind", "alert_kind" {
        BudgetThreshold = "budget_threshold", "budget threshold", [];
        BudgetForecast = "budget_forecast", "month-end forecast", [];
        CostRise = "cost_rise", "cost per 1,000 rising", [];
        Drift = "drift", "drift past its alert level", [];
    }
);

/// The default thresholds, in percent of the budget.
pub const DEFAULT_THRESHOLDS: [i32; 3] = [50, 80, 100];

/// Gives up on a webhook after this many attempts.
pub const MAX_ATTEMPTS: i32 = 6;

/// A budget with what has been spent against it this month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetView {
    pub budget_id: Uuid,
    pub scope: BudgetScope,
    /// The team's or model's name, or "Tier 2".
    pub target: String,
    pub monthly_amount: Decimal,
    pub currency: String,
    pub thresholds: Vec<i32>,
    pub spent: Decimal,
    pub forecast: Decimal,
    pub month: String,
}

impl BudgetView {
    pub fn spent_pct(&self) -> f64 {
        percent(self.spent, self.monthly_amount)
    }

    pub fn forecast_pct(&self) -> f64 {
        percent(self.forecast, self.monthly_amount)
    }
}

fn percent(part: Decimal, whole: Decimal) -> f64 {
    if whole.is_zero() {
        return 0.0;
    }
    (part * Decimal::from(100) / whole).to_f64().unwrap_or(0.0)
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub alert_id: Uuid,
    pub kind: AlertKind,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub acknowledged: Option<(String, DateTime<Utc>)>,
    /// Webhook deliveries: (webhook name, delivered, attempts, last error)
    pub deliveries: Vec<Delivery>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub webhook: String,
    pub delivered: bool,
    pub gave_up: bool,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub webhook_id: Uuid,
    pub name: String,
    /// The address with any credentials in its path hidden.
    pub shown_url: String,
    pub created_at: DateTime<Utc>,
}

/// The first moment of the month `now` is in, and of the next one.
pub fn month_bounds(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let first = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).unwrap_or_default();
    let next = first + Months::new(1);
    let at = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default());
    (at(first), at(next))
}

/// Month-end spend if the month goes on as it has: spent ÷ elapsed × the month's length.
pub fn forecast(spent: Decimal, now: DateTime<Utc>) -> Decimal {
    let (start, end) = month_bounds(now);
    let elapsed = (now - start).num_seconds().max(1);
    let length = (end - start).num_seconds();
    (spent * Decimal::from(length) / Decimal::from(elapsed)).round_dp(2)
}

/// The thresholds (percent of the budget) that `spent` has reached.
pub fn reached(spent: Decimal, budget: Decimal, thresholds: &[i32]) -> Vec<i32> {
    thresholds
        .iter()
        .copied()
        .filter(|t| spent * Decimal::from(100) >= budget * Decimal::from(*t))
        .collect()
}

/// The rise of cost per 1,000 requests from one week to the next, in percent, when it rose.
pub fn rise_pct(previous: Decimal, current: Decimal) -> Option<f64> {
    (previous > Decimal::ZERO && current > previous).then(|| percent(current - previous, previous))
}

/// How long to wait before attempt `attempt` + 1: `base` doubled per attempt, at most 64 × base.
pub fn backoff(attempt: i32, base: std::time::Duration) -> std::time::Duration {
    base * 2u32.pow(attempt.clamp(1, 7) as u32 - 1)
}

/// The sentence an alert says, on the page and in the webhook's `text`.
pub fn threshold_message(
    target: &str,
    threshold: i32,
    spent: Decimal,
    budget: Decimal,
    currency: &str,
    month: &str,
) -> String {
    format!(
        "{target} has spent {} of its {} budget for {month}: past {threshold}%.",
        format_money(spent, currency),
        format_money(budget, currency)
    )
}

pub fn forecast_message(
    target: &str,
    forecast: Decimal,
    budget: Decimal,
    currency: &str,
    month: &str,
) -> String {
    format!(
        "{target} is on course to spend {} in {month}, over its {} budget.",
        format_money(forecast, currency),
        format_money(budget, currency)
    )
}

pub fn rise_message(
    deployment: &str,
    previous: Decimal,
    current: Decimal,
    currency: &str,
    pct: f64,
) -> String {
    format!(
        "The cost per 1,000 requests of {deployment} rose {pct:.0}% week over week, from {} to {}.",
        format_money(previous, currency),
        format_money(current, currency)
    )
}

/// A new budget as typed.
#[derive(Clone, Debug, PartialEq)]
pub struct NewBudget {
    pub scope: BudgetScope,
    pub team_id: Option<Uuid>,
    pub model_id: Option<Uuid>,
    pub tier: Option<i16>,
    pub monthly_amount: Decimal,
    pub currency: String,
    pub thresholds: Vec<i32>,
}

impl NewBudget {
    /// `target` is a team or model id, or a tier number, as the scope says.
    pub fn parse(
        scope: &str,
        target: &str,
        amount: &str,
        currency: &str,
        thresholds: &str,
    ) -> Result<NewBudget, AppError> {
        let scope = scope.parse::<BudgetScope>();
        let target = target.trim();
        let (team_id, model_id, tier) = match scope {
            Ok(BudgetScope::Team) => (Uuid::parse_str(target).ok(), None, None),
            Ok(BudgetScope::Model) => (None, Uuid::parse_str(target).ok(), None),
            Ok(BudgetScope::Tier) => (
                None,
                None,
                target
                    .trim_start_matches("tier")
                    .trim()
                    .parse::<i16>()
                    .ok()
                    .filter(|t| (1..=3).contains(t)),
            ),
            Err(_) => (None, None, None),
        };
        let amount = amount
            .trim()
            .trim_start_matches(['$', '€', '£'])
            .replace([',', '_'], "")
            .parse::<Decimal>();
        let currency = currency.trim().to_ascii_uppercase();
        let thresholds: Result<Vec<i32>, ()> = if thresholds.trim().is_empty() {
            Ok(DEFAULT_THRESHOLDS.to_vec())
        } else {
            thresholds
                .split([',', ' ', ';'])
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    t.trim()
                        .trim_end_matches('%')
                        .parse::<i32>()
                        .map_err(|_| ())
                })
                .collect()
        };
        let thresholds = thresholds.and_then(|mut t| {
            t.sort_unstable();
            t.dedup();
            (!t.is_empty() && t.len() <= 10 && t.iter().all(|p| (1..=1000).contains(p)))
                .then_some(t)
                .ok_or(())
        });
        let mut check = Validator::new();
        check
            .check(scope.is_ok(), "scope", "Choose a team, a model or a tier.")
            .check(
                team_id.is_some() || model_id.is_some() || tier.is_some() || scope.is_err(),
                "target",
                "Choose what the budget covers.",
            )
            .check(
                amount.as_ref().is_ok_and(|a| *a > Decimal::ZERO),
                "monthly_amount",
                "Give the monthly amount, e.g. 12000.",
            )
            .check(
                currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()),
                "currency",
                "Give a three-letter currency code, e.g. USD.",
            )
            .check(
                thresholds.is_ok(),
                "thresholds",
                "Percentages of the budget between 1 and 1000, separated by commas, e.g. 50, 80, 100.",
            );
        check.finish()?;
        Ok(NewBudget {
            scope: scope.unwrap_or(BudgetScope::Team),
            team_id,
            model_id,
            tier,
            monthly_amount: amount.unwrap_or_default().round_dp(2),
            currency,
            thresholds: thresholds.unwrap_or_default(),
        })
    }
}

/// A webhook address: http or https, with a host.
pub fn parse_webhook(name: &str, url: &str) -> Result<(String, String), AppError> {
    let name = name.trim();
    let url = url.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    let mut check = Validator::new();
    check
        .check(
            !name.is_empty() && name.chars().count() <= 80,
            "name",
            "Name it, e.g. #ml-costs, in at most 80 characters.",
        )
        .check(
            scheme_ok
                && !host.is_empty()
                && !url.chars().any(char::is_whitespace)
                && url.len() <= 2000,
            "url",
            "Give the webhook's http:// or https:// address.",
        );
    check.finish()?;
    Ok((name.to_owned(), url.to_owned()))
}

/// A webhook address as shown: scheme and host; the path often holds the secret.
pub fn shown_url(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            if rest.len() > host.len() {
                format!("{scheme}://{host}/…")
            } else {
                format!("{scheme}://{host}")
            }
        }
        None => "…".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn the_forecast_is_linear_on_month_to_date() {
        // 10 of 30 days gone, 1,000 spent: 3,000 at month end
        assert_eq!(
            forecast(Decimal::from(1000), at(2026, 11, 11, 0)),
            Decimal::from(3000)
        );
        assert!(forecast(Decimal::from(1000), at(2026, 11, 1, 0)) > Decimal::from(1_000_000));
        let (start, end) = month_bounds(at(2026, 12, 31, 23));
        assert_eq!((start, end), (at(2026, 12, 1, 0), at(2027, 1, 1, 0)));
    }

    #[test]
    fn thresholds_are_reached_at_their_percentage_exactly() {
        let budget = Decimal::from(10_000);
        assert_eq!(
            reached(Decimal::from(4_999), budget, &DEFAULT_THRESHOLDS),
            Vec::<i32>::new()
        );
        assert_eq!(
            reached(Decimal::from(5_000), budget, &DEFAULT_THRESHOLDS),
            [50]
        );
        assert_eq!(
            reached(Decimal::from(8_500), budget, &DEFAULT_THRESHOLDS),
            [50, 80]
        );
        assert_eq!(
            reached(Decimal::from(12_000), budget, &DEFAULT_THRESHOLDS),
            [50, 80, 100]
        );
    }

    #[test]
    fn a_rise_is_measured_week_over_week_and_only_upwards() {
        let pct = rise_pct(Decimal::new(40, 2), Decimal::new(50, 2)).expect("rise");
        assert!((pct - 25.0).abs() < 1e-9);
        assert_eq!(rise_pct(Decimal::new(50, 2), Decimal::new(40, 2)), None);
        assert_eq!(rise_pct(Decimal::ZERO, Decimal::ONE), None);
    }

    #[test]
    fn retries_back_off_by_doubling() {
        let base = std::time::Duration::from_secs(30);
        assert_eq!(backoff(1, base), base);
        assert_eq!(backoff(2, base), base * 2);
        assert_eq!(backoff(5, base), base * 16);
        assert_eq!(backoff(50, base), base * 64);
    }

    #[test]
    fn a_budget_form_names_each_bad_field() {
        let team = Uuid::new_v4().to_string();
        let budget = NewBudget::parse("team", &team, "$12,000", "usd", "").expect("budget");
        assert_eq!(budget.thresholds, DEFAULT_THRESHOLDS);
        assert_eq!(budget.monthly_amount, Decimal::from(12_000));
        let tier = NewBudget::parse("tier", "3", "500", "EUR", "90%, 50").expect("tier");
        assert_eq!((tier.tier, tier.thresholds), (Some(3), vec![50, 90]));
        let Err(AppError::Validation(errors)) =
            NewBudget::parse("tier", "7", "-1", "dollars", "lots")
        else {
            panic!("expected field errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["target", "monthly_amount", "currency", "thresholds"]
        );
    }

    #[test]
    fn webhook_addresses_are_checked_and_shown_without_their_secret_path() {
        assert!(parse_webhook("#ml-costs", "https://hooks.example.com/T000/B000/XXXX").is_ok());
        assert!(parse_webhook("", "ftp://x").is_err());
        assert_eq!(
            shown_url("https://hooks.example.com/T000/secret"),
            "https://hooks.example.com/…"
        );
        assert_eq!(shown_url("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
    }
}
