//! Tiers: where a model sits between cheap-and-fast and accurate-and-expensive. Ordered rules over
//! a model's measured figures place it; the first rule whose conditions all hold wins, and a model
//! no rule places is Tier 2. A lead's override, with its reason, beats the rules.

use chrono::{DateTime, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::experiments::{Constraint, Subject};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    Tier1,
    Tier2,
    Tier3,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Tier1, Tier::Tier2, Tier::Tier3];

    pub fn number(self) -> i16 {
        match self {
            Tier::Tier1 => 1,
            Tier::Tier2 => 2,
            Tier::Tier3 => 3,
        }
    }

    pub fn from_number(number: i16) -> Option<Tier> {
        match number {
            1 => Some(Tier::Tier1),
            2 => Some(Tier::Tier2),
            3 => Some(Tier::Tier3),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tier::Tier1 => "Tier 1",
            Tier::Tier2 => "Tier 2",
            Tier::Tier3 => "Tier 3",
        }
    }

    /// What the tier is for, as the catalog explains it.
    pub fn purpose(self) -> &'static str {
        match self {
            Tier::Tier1 => "low cost, high speed: for high-volume tasks",
            Tier::Tier2 => "balanced cost, speed and accuracy",
            Tier::Tier3 => "high accuracy at high cost: for critical tasks",
        }
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// What a model measured, over the catalog's window; `None` where it has not been measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub cost_per_1k: Option<Decimal>,
    /// Measured spend over the window, scaled to 30 days.
    pub monthly_cost: Option<Decimal>,
    pub currency: Option<String>,
    /// For a language model whose servers count tokens: a million output tokens (their
    /// part of the cost by the prefill/decode rule).
    pub cost_per_1m_output: Option<Decimal>,
    pub p95_ms: Option<f64>,
    /// Quality metrics of the experiment run that evaluated the version (`f1`, `mape`, ...).
    pub metrics: BTreeMap<String, f64>,
}

impl Figures {
    pub fn value(&self, subject: &Subject) -> Option<f64> {
        match subject {
            Subject::CostPerThousand => self.cost_per_1k.and_then(|v| v.to_f64()),
            Subject::MonthlyCost => self.monthly_cost.and_then(|v| v.to_f64()),
            Subject::P95LatencyMs => self.p95_ms,
            Subject::Metric(name) => self.metrics.get(name).copied(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TierRule {
    pub tier_rule_id: Uuid,
    pub position: i32,
    pub name: String,
    pub tier: Tier,
    pub conditions: Vec<Constraint>,
}

impl TierRule {
    pub fn describe(&self) -> String {
        self.conditions
            .iter()
            .map(|c| c.describe("").trim_end().to_owned())
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// A lead's tier for one model, over the rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Override {
    pub tier: Tier,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Where a model sits, and the sentence that says why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub tier: Tier,
    /// The tier the rules give, even when overridden.
    pub ruled_tier: Tier,
    pub rule: Option<String>,
    pub reason: String,
    pub overridden: Option<Override>,
}

/// Places a model: the override if any, else the first rule whose every condition holds.
pub fn place(figures: &Figures, rules: &[TierRule], overridden: Option<Override>) -> Placement {
    let matched = rules.iter().find(|rule| {
        rule.conditions.iter().all(|condition| {
            figures
                .value(&condition.subject)
                .is_some_and(|value| condition.holds(value))
        })
    });
    let (ruled_tier, rule, reason) = match matched {
        Some(rule) => (
            rule.tier,
            Some(rule.name.clone()),
            format!(
                "Rule {} “{}”: {}.",
                rule.position,
                rule.name,
                rule.describe()
            ),
        ),
        None if figures.cost_per_1k.is_none() && figures.p95_ms.is_none() => (
            Tier::Tier2,
            None,
            "Not measured yet (no telemetry in the window): Tier 2 until it is.".to_owned(),
        ),
        None => (
            Tier::Tier2,
            None,
            "No rule matched its figures: Tier 2, balanced.".to_owned(),
        ),
    };
    match overridden {
        Some(o) => Placement {
            tier: o.tier,
            ruled_tier,
            rule,
            reason: format!("Set to {} by {}: {}", o.tier, o.by, o.reason),
            overridden: Some(o),
        },
        None => Placement {
            tier: ruled_tier,
            ruled_tier,
            rule,
            reason,
            overridden: None,
        },
    }
}

/// Reads a rule's conditions, one per line or separated by `;`; every bad one is reported with its
/// line. Unlike an SLA, a rule may set a floor on cost or latency (`cost_per_1k >= 1`).
pub fn parse_conditions(text: &str) -> Result<Vec<Constraint>, String> {
    crate::experiments::parse_rule_conditions(
        text,
        Constraint::parse_either_way,
        "cost_per_1k <= 0.05",
        "rule",
    )
}

/// The cost per 1,000 requests the rules draw lines at, for charts: "Tier 1 ≤ 0.05".
pub fn cost_levels(rules: &[TierRule]) -> Vec<(String, f64)> {
    let mut levels: Vec<(String, f64)> = rules
        .iter()
        .flat_map(|rule| {
            rule.conditions
                .iter()
                .filter(|c| c.subject == Subject::CostPerThousand)
                .filter_map(move |c| {
                    let sign = match c.limit {
                        crate::experiments::Limit::AtLeast => "≥",
                        crate::experiments::Limit::AtMost => "≤",
                    };
                    Some((
                        format!("{} {sign} {}", rule.tier.label(), c.bound.normalize()),
                        c.bound.to_f64()?,
                    ))
                })
        })
        .collect();
    levels.dedup_by(|a, b| a.0 == b.0);
    levels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(position: i32, tier: Tier, conditions: &str) -> TierRule {
        TierRule {
            tier_rule_id: Uuid::nil(),
            position,
            name: format!("rule {position}"),
            tier,
            conditions: parse_conditions(conditions).expect("conditions"),
        }
    }

    fn defaults() -> Vec<TierRule> {
        vec![
            rule(1, Tier::Tier1, "cost_per_1k <= 0.05; p95_ms <= 60"),
            rule(2, Tier::Tier3, "cost_per_1k >= 1"),
            rule(3, Tier::Tier3, "p95_ms >= 500"),
        ]
    }

    fn measured(cost: &str, p95: f64) -> Figures {
        Figures {
            cost_per_1k: Some(cost.parse().expect("decimal")),
            p95_ms: Some(p95),
            ..Figures::default()
        }
    }

    #[test]
    fn the_first_rule_whose_conditions_all_hold_places_the_model() {
        let rules = defaults();
        let cheap = place(&measured("0.02", 12.0), &rules, None);
        assert_eq!(cheap.tier, Tier::Tier1);
        assert_eq!(
            cheap.reason,
            "Rule 1 “rule 1”: cost per 1,000 requests ≤ 0.05 and p95 latency ≤ 60 ms."
        );
        // cheap but slow: rule 1 fails on latency, rule 3 takes it
        let slow = place(&measured("0.02", 800.0), &rules, None);
        assert_eq!(
            (slow.tier, slow.rule.as_deref()),
            (Tier::Tier3, Some("rule 3"))
        );
        let expensive = place(&measured("2.40", 30.0), &rules, None);
        assert_eq!(expensive.tier, Tier::Tier3);
        let middle = place(&measured("0.30", 90.0), &rules, None);
        assert_eq!((middle.tier, middle.rule), (Tier::Tier2, None));
        assert!(middle.reason.starts_with("No rule matched"));
    }

    #[test]
    fn a_figure_not_measured_never_meets_a_condition() {
        let rules = vec![rule(1, Tier::Tier3, "f1 >= 0.97")];
        let unmeasured = place(&Figures::default(), &rules, None);
        assert_eq!(unmeasured.tier, Tier::Tier2);
        assert!(unmeasured.reason.starts_with("Not measured yet"));
        let mut accurate = measured("0.5", 100.0);
        accurate.metrics.insert("f1".into(), 0.98);
        assert_eq!(place(&accurate, &rules, None).tier, Tier::Tier3);
    }

    #[test]
    fn an_override_wins_and_keeps_what_the_rules_said() {
        let overridden = Override {
            tier: Tier::Tier1,
            reason: "batch only, volume is tiny".into(),
            by: "grace@example.com".into(),
            at: crate::clock::now(),
        };
        let placed = place(&measured("2.40", 30.0), &defaults(), Some(overridden));
        assert_eq!((placed.tier, placed.ruled_tier), (Tier::Tier1, Tier::Tier3));
        assert_eq!(
            placed.reason,
            "Set to Tier 1 by grace@example.com: batch only, volume is tiny"
        );
    }

    #[test]
    fn conditions_are_checked_line_by_line() {
        assert_eq!(parse_conditions("cost_per_1k >= 1").map(|c| c.len()), Ok(1));
        let error = parse_conditions("p95 <= 50\ncost is high\np95 <= -3").expect_err("bad");
        assert!(error.starts_with("line 2: "), "{error}");
        assert!(
            error.contains("line 3: p95 latency cannot be negative."),
            "{error}"
        );
        assert!(parse_conditions(" ; ").is_err());
    }
}
