//! The review gate: a version goes to production at once unless it is Tier 3 or its projected
//! monthly cost passes the threshold, or one of its deployments breaks a guardrail no lead waived;
//! then it needs the approval of N leads, never the requester's.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::ReviewsPage;
pub use server_fns::*;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::tier::Tier;
use crate::error::{AppError, Validator};
use crate::format::format_money;
use crate::named_enum;

named_enum!(
    /// Where a promotion request stands.
    ReviewState, "review state", "review_state" {
        Pending = "pending", "waiting for review", [];
        Approved = "approved", "approved", [];
        Rejected = "rejected", "rejected", [];
    }
);

/// The gate's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateSettings {
    pub monthly_cost_threshold: Decimal,
    pub currency: String,
    pub approvals_required: i32,
}

impl GateSettings {
    pub fn parse(
        threshold: &str,
        currency: &str,
        approvals: &str,
    ) -> Result<GateSettings, AppError> {
        let threshold = crate::prices::parse_amount(threshold);
        let currency = currency.trim().to_ascii_uppercase();
        let approvals = approvals.trim().parse::<i32>();
        let mut check = Validator::new();
        check
            .check(
                threshold.is_ok(),
                "monthly_cost_threshold",
                "Give an amount from 0 to 1,000,000,000,000, e.g. 5000.",
            )
            .check(
                currency.len() == 3 && currency.chars().all(|c| c.is_ascii_uppercase()),
                "currency",
                "Give a three-letter currency code, e.g. USD.",
            )
            .check(
                approvals.as_ref().is_ok_and(|n| (1..=5).contains(n)),
                "approvals_required",
                "Between 1 and 5 leads.",
            );
        check.finish()?;
        Ok(GateSettings {
            monthly_cost_threshold: threshold.unwrap_or_default().round_dp(2),
            currency,
            approvals_required: approvals.unwrap_or(1),
        })
    }

    pub fn describe(&self) -> String {
        format!(
            "Promotion to production needs {} when a version is Tier 3 or its projected monthly cost is over {}.",
            if self.approvals_required == 1 {
                "one lead's approval".to_owned()
            } else {
                format!("the approval of {} leads", self.approvals_required)
            },
            format_money(self.monthly_cost_threshold, &self.currency)
        )
    }
}

/// A projected monthly cost and how it was projected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Projection {
    pub amount: Decimal,
    pub currency: String,
    pub basis: String,
}

/// Why the gate stops a promotion; empty when it lets it through.
pub fn gate_reasons(
    tier: Tier,
    ruled_tier: Tier,
    projected: Option<&Projection>,
    settings: &GateSettings,
) -> Vec<String> {
    let mut reasons = Vec::new();
    if tier == Tier::Tier3 {
        reasons.push("The model is Tier 3 (high accuracy at high cost).".to_owned());
    } else if ruled_tier == Tier::Tier3 {
        // Otherwise one lead could override the tier and then promote past the gate alone.
        reasons.push(format!(
            "The tier rules place the model in Tier 3; the override to {tier} does not lift the review."
        ));
    }
    if let Some(projection) = projected {
        if projection.currency != settings.currency {
            reasons.push(format!(
                "Its projected monthly cost is in {}, which the {} threshold cannot be compared with.",
                projection.currency, settings.currency
            ));
        } else if projection.amount > settings.monthly_cost_threshold {
            reasons.push(format!(
                "Its projected monthly cost, {} ({}), is over the {} threshold.",
                format_money(projection.amount, &projection.currency),
                projection.basis,
                format_money(settings.monthly_cost_threshold, &settings.currency)
            ));
        }
    }
    reasons
}

/// One lead's decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Review {
    pub reviewer: String,
    pub approve: bool,
    pub comment: String,
    pub at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PromotionRequest {
    pub promotion_request_id: Uuid,
    pub model_id: Uuid,
    pub model: String,
    pub model_version_id: Uuid,
    pub version: String,
    pub requested_by: String,
    pub requested_by_id: Option<Uuid>,
    pub comment: String,
    pub reasons: Vec<String>,
    pub approvals_required: i32,
    pub state: ReviewState,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reviews: Vec<Review>,
}

impl PromotionRequest {
    pub fn approvals(&self) -> usize {
        self.reviews.iter().filter(|r| r.approve).count()
    }

    /// The state in a sentence: "waiting for review (0 of 1 approvals)".
    pub fn status_line(&self) -> String {
        match self.state {
            ReviewState::Pending => format!(
                "waiting for review ({} of {} approvals)",
                self.approvals(),
                self.approvals_required
            ),
            state => state.label().to_owned(),
        }
    }
}

/// What asking for production did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromotionOutcome {
    /// The gate let it through: the version is in production.
    Promoted { note: String },
    /// The gate stopped it: a request waits for review.
    Pending {
        promotion_request_id: Uuid,
        reasons: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> GateSettings {
        GateSettings::parse("5,000", "usd", "1").expect("settings")
    }

    fn projected(amount: i64, currency: &str) -> Projection {
        Projection {
            amount: Decimal::from(amount),
            currency: currency.into(),
            basis: "from its deployments".into(),
        }
    }

    #[test]
    fn the_gate_stops_tier_3_and_costly_versions_only() {
        let settings = settings();
        assert!(gate_reasons(
            Tier::Tier2,
            Tier::Tier2,
            Some(&projected(4_999, "USD")),
            &settings
        )
        .is_empty());
        assert!(gate_reasons(Tier::Tier1, Tier::Tier1, None, &settings).is_empty());
        let costly = gate_reasons(
            Tier::Tier2,
            Tier::Tier2,
            Some(&projected(7_200, "USD")),
            &settings,
        );
        assert_eq!(
            costly,
            ["Its projected monthly cost, 7,200.00 USD (from its deployments), is over the 5,000.00 USD threshold."]
        );
        let both = gate_reasons(
            Tier::Tier3,
            Tier::Tier3,
            Some(&projected(9_000, "USD")),
            &settings,
        );
        assert_eq!(both.len(), 2);
        let overridden = gate_reasons(Tier::Tier2, Tier::Tier3, None, &settings);
        assert_eq!(overridden.len(), 1, "{overridden:?}");
        assert!(
            overridden[0].contains("does not lift the review"),
            "{overridden:?}"
        );
        let other_currency = gate_reasons(
            Tier::Tier1,
            Tier::Tier1,
            Some(&projected(10, "EUR")),
            &settings,
        );
        assert_eq!(
            other_currency.len(),
            1,
            "a cost that cannot be compared is reviewed"
        );
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        assert_eq!(settings().currency, "USD");
        let Err(AppError::Validation(errors)) = GateSettings::parse("-1", "dollars", "9") else {
            panic!("expected field errors");
        };
        assert_eq!(errors.len(), 3);
    }
}
