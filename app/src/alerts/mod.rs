//! Budgets and alerts: monthly budgets per team, model or tier; an alert when billed spend passes
//! a threshold, when the month-end forecast passes the budget, or when a deployment's cost per
//! 1,000 requests rises week over week. Each alert fires once per threshold and period and is
//! delivered to every webhook, retried with backoff.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod webhook;

pub use page::{AlertList, AlertsPage};
pub use server_fns::*;

use chrono::{DateTime, Datelike, Months, NaiveDate, TimeDelta, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, Validator};
use crate::format::{format_money, percent_of};
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
        Guardrail = "guardrail", "guardrail breached", [];
        Retraining = "retraining", "retraining due", [];
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
    percent_of(part, whole).unwrap_or(0.0)
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

/// Days of the previous month's run rate a forecast starts from: early in a month one day of
/// spend says little, so the rest of the month is priced at a blend of last month's daily rate and
/// this month's, this month's weighing more as its days add up.
pub const FORECAST_PRIOR_DAYS: i64 = 7;

/// Month-end spend: what is spent so far, and the rest of the month at the daily rate. That rate
/// is the month-to-date one when there is no history (`previous_month`: what the previous month
/// spent in all), else blended with `FORECAST_PRIOR_DAYS` days at the previous month's rate.
pub fn forecast(spent: Decimal, previous_month: Option<Decimal>, now: DateTime<Utc>) -> Decimal {
    let (start, end) = month_bounds(now);
    let day = Decimal::from(86_400);
    let elapsed = Decimal::from((now - start).num_seconds().max(1)) / day;
    let remaining = Decimal::from((end - now).num_seconds().max(0)) / day;
    let rate = match previous_month.filter(|p| *p > Decimal::ZERO) {
        Some(previous) => {
            let previous_start = month_bounds(start - TimeDelta::days(1)).0;
            let previous_days = Decimal::from((start - previous_start).num_days().max(1));
            let prior = Decimal::from(FORECAST_PRIOR_DAYS);
            (previous / previous_days)
                .saturating_mul(prior)
                .saturating_add(spent)
                / (prior + elapsed)
        }
        None => spent / elapsed,
    };
    // Saturating: a huge spend shows a huge forecast rather than stopping the alert loop.
    spent
        .saturating_add(rate.saturating_mul(remaining))
        .round_dp(2)
}

/// Whether a month is far enough along for its forecast to raise an alert.
pub fn forecast_may_alert(now: DateTime<Utc>, min_days: i32) -> bool {
    let (start, _) = month_bounds(now);
    (now - start).num_seconds() >= i64::from(min_days.max(0)) * 86_400
}

/// The thresholds (percent of the budget) that `spent` has reached.
pub fn reached(spent: Decimal, budget: Decimal, thresholds: &[i32]) -> Vec<i32> {
    thresholds
        .iter()
        .copied()
        .filter(|t| {
            spent.saturating_mul(Decimal::from(100)) >= budget.saturating_mul(Decimal::from(*t))
        })
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
        let amount = crate::prices::parse_amount(amount);
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
                "Give the monthly amount, from 0.01 to 1,000,000,000,000, e.g. 12000.",
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
            forecast(Decimal::from(1000), None, at(2026, 11, 11, 0)),
            Decimal::from(3000)
        );
        assert!(forecast(Decimal::from(1000), None, at(2026, 11, 1, 0)) > Decimal::from(1_000_000));
    }

    #[test]
    fn with_history_one_early_day_does_not_cry_wolf() {
        // 3,000 in October (about 96.77 a day); on November 2nd one day has cost 300.
        let october = Some(Decimal::from(3_000));
        let early = forecast(Decimal::from(300), october, at(2026, 11, 2, 0));
        // (7 x 96.77 + 300) / 8 = 122.2 a day for the 29 days left, on top of the 300.
        assert!(
            early > Decimal::from(3_800) && early < Decimal::from(3_900),
            "{early}"
        );
        // Linear on one day alone it would be 9,000.
        assert_eq!(
            forecast(Decimal::from(300), None, at(2026, 11, 2, 0)),
            Decimal::from(9_000)
        );
        // At the month's end the forecast is what was spent.
        let last = at(2026, 12, 1, 0) - TimeDelta::seconds(1);
        let done = forecast(Decimal::from(4_000), october, last);
        assert!((done - Decimal::from(4_000)).abs() < Decimal::ONE, "{done}");
        assert!(!forecast_may_alert(at(2026, 11, 3, 0), 5));
        assert!(forecast_may_alert(at(2026, 11, 6, 0), 5));
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
}
