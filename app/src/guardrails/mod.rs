//! Guardrails: rules the platform writes about its deployments, in the conditions language of
//! SLAs and tier rules plus the figures only a running deployment has (`mean_utilization >= 30%`,
//! `pricing = spot`, `retrain_interval >= 7d`), scoped by tier, team, task and serving mode. Every
//! rule in scope applies (unlike tier rules, where the first match wins); a deployment whose
//! measured figure breaks a condition is in breach until the figure mends or a lead waives the
//! breach, with a reason, until a date. Breaches raise alerts and make the review gate ask a lead.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::{BreachList, GuardrailsPage};
pub use server_fns::*;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use uuid::Uuid;

use crate::catalog::tier::Tier;
use crate::experiments::{Constraint, Limit, Mode, Subject, TaskType};
use crate::prices::PricingKind;

/// Days of telemetry a deployment's figures are read over, and the month costs are stated for.
pub const WINDOW_DAYS: i64 = 30;

/// Longest a waiver may run.
pub const MAX_WAIVER_DAYS: i64 = 366;

/// What a condition measures of a deployment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Figure {
    /// A figure SLAs and tier rules know: cost per 1,000, monthly cost, p95, a quality metric.
    Known(Subject),
    /// Busy GPU-time over GPU-time held, in percent.
    MeanUtilization,
    /// Days between the model's last two versions.
    RetrainInterval,
    /// What the deployments of one team, within the rule's scope, cost a month together: charged
    /// to the team's costliest deployment, so a team over its bound is one breach.
    TeamMonthlyCost,
}

impl Figure {
    fn key(&self) -> &str {
        match self {
            Figure::Known(subject) => subject.key(),
            Figure::MeanUtilization => "mean_utilization",
            Figure::RetrainInterval => "retrain_interval",
            Figure::TeamMonthlyCost => "team_monthly_cost",
        }
    }

    fn label(&self) -> String {
        match self {
            Figure::Known(subject) => subject.label(),
            Figure::MeanUtilization => "mean utilization".into(),
            Figure::RetrainInterval => "retraining interval".into(),
            Figure::TeamMonthlyCost => "team's monthly cost".into(),
        }
    }

    /// A value as the pages show it: "12%", "3.5 days", "0.0800 USD".
    fn show(&self, value: f64, currency: &str) -> String {
        match self {
            Figure::MeanUtilization => format!("{value:.0}%"),
            Figure::RetrainInterval => format!("{} days", trim_number(value, 1)),
            Figure::Known(Subject::P95LatencyMs) => format!("{} ms", trim_number(value, 1)),
            Figure::Known(Subject::CostPerThousand) => format!("{value:.4} {currency}"),
            Figure::Known(Subject::MonthlyCost) | Figure::TeamMonthlyCost => {
                format!("{value:.2} {currency}")
            }
            Figure::Known(Subject::Metric(_)) => trim_number(value, 4),
        }
    }
}

fn trim_number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// One condition of a guardrail: a figure against a bound, or the pricing a deployment pays.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Condition {
    Bound {
        figure: Figure,
        limit: Limit,
        bound: Decimal,
    },
    Pricing(PricingKind),
}

impl Condition {
    /// Reads one condition as people write it: `mean_utilization >= 30%`, `pricing = spot`,
    /// `retrain_interval >= 7d`, `cost_per_1k <= 0.05`, `p95_ms <= 150`, `f1 >= 0.9`.
    pub fn parse(text: &str) -> Result<Condition, String> {
        let text = text.trim();
        let has_order = ["<=", ">=", "≤", "≥"].iter().any(|op| text.contains(op));
        if !has_order {
            let Some((subject, value)) = text.split_once('=') else {
                return Err(format!(
                    "`{text}` is not a condition: write it as `mean_utilization >= 30%`, `pricing = spot` or `cost_per_1k <= 0.05`."
                ));
            };
            let subject = subject
                .trim()
                .trim_end_matches('=')
                .trim()
                .to_ascii_lowercase();
            if !matches!(subject.as_str(), "pricing" | "pricing_kind" | "price") {
                return Err(format!(
                    "`{text}`: only pricing is compared with `=` (e.g. `pricing = spot`); bound a figure with `>=` or `<=`."
                ));
            }
            let value = value.trim().trim_start_matches('=').trim();
            return value.parse::<PricingKind>().map(Condition::Pricing);
        }
        let at = text.find(['<', '>', '≤', '≥']).unwrap_or(text.len());
        let key = text[..at].trim().to_ascii_lowercase();
        let special = match key.as_str() {
            "mean_utilization" | "utilization" | "gpu_utilization" | "mean_gpu_utilization" => {
                Some(Figure::MeanUtilization)
            }
            "retrain_interval" | "retraining_interval" | "retrain_every" => {
                Some(Figure::RetrainInterval)
            }
            "team_monthly_cost" | "team_monthly" | "team_cost" => Some(Figure::TeamMonthlyCost),
            _ => None,
        };
        let Some(figure) = special else {
            let constraint = Constraint::parse_either_way(text)?;
            return Ok(Condition::Bound {
                figure: Figure::Known(constraint.subject),
                limit: constraint.limit,
                bound: constraint.bound,
            });
        };
        let rest = &text[at..];
        let (limit, op_len) = [
            (">=", Limit::AtLeast),
            ("≥", Limit::AtLeast),
            ("<=", Limit::AtMost),
            ("≤", Limit::AtMost),
        ]
        .iter()
        .find_map(|(op, limit)| rest.starts_with(op).then_some((*limit, op.len())))
        .ok_or_else(|| format!("`{text}`: compare with `>=` or `<=`."))?;
        let value = rest[op_len..].trim().to_ascii_lowercase();
        let bound = match figure {
            Figure::MeanUtilization => {
                let number: Decimal = value
                    .trim_end_matches('%')
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{text}`: give a percentage, e.g. `30%`."))?;
                if number < Decimal::ZERO || number > Decimal::ONE_HUNDRED {
                    return Err(format!("`{text}`: a utilization is between 0% and 100%."));
                }
                number
            }
            Figure::TeamMonthlyCost => crate::prices::parse_amount(&value)
                .ok()
                .filter(|amount| *amount >= Decimal::ZERO)
                .ok_or_else(|| format!("`{text}`: give an amount a month, e.g. `20000`."))?,
            _ => parse_days(&value)
                .ok_or_else(|| format!("`{text}`: give a duration such as `7d`, `2w` or `36h`."))?,
        };
        Ok(Condition::Bound {
            figure,
            limit,
            bound,
        })
    }

    /// How it reads on a page: "mean utilization ≥ 30%", "pricing is spot".
    pub fn describe(&self) -> String {
        match self {
            Condition::Pricing(kind) => format!("pricing is {}", kind.label()),
            Condition::Bound {
                figure: Figure::Known(subject),
                limit,
                bound,
            } => Constraint {
                subject: subject.clone(),
                limit: *limit,
                bound: *bound,
            }
            .describe("")
            .trim_end()
            .to_owned(),
            Condition::Bound {
                figure,
                limit,
                bound,
            } => {
                let unit = match figure {
                    Figure::MeanUtilization => "%",
                    Figure::TeamMonthlyCost => "",
                    _ => " days",
                };
                format!(
                    "{} {} {}{unit}",
                    figure.label(),
                    op(*limit),
                    bound.normalize()
                )
            }
        }
    }

    /// Whether the deployment keeps this condition: `None` when the figure has not been measured.
    pub fn check(&self, facts: &Facts) -> Option<Result<(), String>> {
        match self {
            Condition::Pricing(kind) => Some(if facts.pricing == *kind {
                Ok(())
            } else {
                Err(format!("pays {} prices", facts.pricing.label()))
            }),
            Condition::Bound {
                figure,
                limit,
                bound,
            } => {
                let value = facts.value(figure)?;
                let bound = bound.to_f64()?;
                let holds = match limit {
                    Limit::AtLeast => value >= bound,
                    Limit::AtMost => value <= bound,
                };
                Some(if holds {
                    Ok(())
                } else {
                    let currency = facts.currency.as_deref().unwrap_or("");
                    Err(format!(
                        "{} {}",
                        figure.label(),
                        figure.show(value, currency)
                    ))
                })
            }
        }
    }
}

fn op(limit: Limit) -> &'static str {
    match limit {
        Limit::AtLeast => "≥",
        Limit::AtMost => "≤",
    }
}

/// `7d`, `2w`, `36h`, `7 days`, or a bare number of days.
fn parse_days(text: &str) -> Option<Decimal> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let number: Decimal = text[..split].trim().parse().ok()?;
    let days = match text[split..].trim() {
        "" | "d" | "day" | "days" => number,
        "w" | "week" | "weeks" => number * Decimal::from(7),
        "h" | "hour" | "hours" => number / Decimal::from(24),
        _ => return None,
    };
    (days >= Decimal::ZERO && days <= Decimal::from(3650)).then(|| days.round_dp(4).normalize())
}

/// The stored form: what `parse` reads back to the same condition.
impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Pricing(kind) => write!(f, "pricing = {}", kind.as_str()),
            Condition::Bound {
                figure,
                limit,
                bound,
            } => {
                let op = match limit {
                    Limit::AtLeast => ">=",
                    Limit::AtMost => "<=",
                };
                let unit = match figure {
                    Figure::MeanUtilization => "%",
                    Figure::RetrainInterval => "d",
                    Figure::Known(_) | Figure::TeamMonthlyCost => "",
                };
                write!(f, "{} {op} {}{unit}", figure.key(), bound.normalize())
            }
        }
    }
}

/// Reads a guardrail's conditions, one per line or separated by `;`; every bad one is reported
/// with its line.
pub fn parse_conditions(text: &str) -> Result<Vec<Condition>, String> {
    crate::experiments::parse_rule_conditions(
        text,
        Condition::parse,
        "mean_utilization >= 30%",
        "guardrail",
    )
}

/// Which deployments a guardrail applies to: all of them, narrowed by each part that is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    pub tier: Option<Tier>,
    /// (team id, its name)
    pub team: Option<(Uuid, String)>,
    pub task: Option<TaskType>,
    pub mode: Option<Mode>,
}

impl Scope {
    pub fn covers(&self, facts: &Facts) -> bool {
        self.tier.is_none_or(|tier| facts.tier == Some(tier))
            && self
                .team
                .as_ref()
                .is_none_or(|(team, _)| facts.team_id == Some(*team))
            && self.task.is_none_or(|task| facts.task == Some(task))
            && self.mode.is_none_or(|mode| facts.mode == mode)
    }

    /// "Tier 1, real-time deployments of team Search", or "every deployment".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(tier) = self.tier {
            parts.push(tier.label().to_owned());
        }
        if let Some(mode) = self.mode {
            parts.push(mode.label().to_owned());
        }
        if let Some(task) = self.task {
            parts.push(format!("{} models", task.label()));
        }
        if let Some((_, team)) = &self.team {
            parts.push(format!("team {team}"));
        }
        if parts.is_empty() {
            "every deployment".into()
        } else {
            parts.join(", ")
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Guardrail {
    pub guardrail_id: Uuid,
    pub name: String,
    pub conditions: Vec<Condition>,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
}

impl Guardrail {
    pub fn describe(&self) -> String {
        self.conditions
            .iter()
            .map(Condition::describe)
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// What one deployment measured over the last 30 days, and what places it in a scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub deployment_id: Uuid,
    pub deployment: String,
    pub model_id: Option<Uuid>,
    pub model_version_id: Option<Uuid>,
    /// "name version"
    pub model: Option<String>,
    pub tier: Option<Tier>,
    pub team_id: Option<Uuid>,
    pub task: Option<TaskType>,
    pub mode: Mode,
    pub pricing: PricingKind,
    pub utilization_pct: Option<f64>,
    pub cost_per_1k: Option<f64>,
    pub monthly_cost: Option<f64>,
    pub currency: Option<String>,
    pub p95_ms: Option<f64>,
    pub metrics: BTreeMap<String, f64>,
    pub retrain_interval_days: Option<f64>,
    /// Its team's deployments in a rule's scope together, set by `evaluate` on the costliest.
    #[serde(default)]
    pub team_monthly_cost: Option<f64>,
}

impl Facts {
    /// A deployment not yet measured, serving in real time at on-demand prices.
    pub fn new(deployment_id: Uuid, deployment: String) -> Facts {
        Facts {
            deployment_id,
            deployment,
            model_id: None,
            model_version_id: None,
            model: None,
            tier: None,
            team_id: None,
            task: None,
            mode: Mode::RealTime,
            pricing: PricingKind::OnDemand,
            utilization_pct: None,
            cost_per_1k: None,
            monthly_cost: None,
            currency: None,
            p95_ms: None,
            metrics: BTreeMap::new(),
            retrain_interval_days: None,
            team_monthly_cost: None,
        }
    }

    fn value(&self, figure: &Figure) -> Option<f64> {
        match figure {
            Figure::MeanUtilization => self.utilization_pct,
            Figure::RetrainInterval => self.retrain_interval_days,
            Figure::TeamMonthlyCost => self.team_monthly_cost,
            Figure::Known(Subject::CostPerThousand) => self.cost_per_1k,
            Figure::Known(Subject::MonthlyCost) => self.monthly_cost,
            Figure::Known(Subject::P95LatencyMs) => self.p95_ms,
            Figure::Known(Subject::Metric(name)) => self.metrics.get(name).copied(),
        }
    }
}

/// A lead's waiver of one guardrail for one deployment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub reason: String,
    pub until: DateTime<Utc>,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A deployment breaking a guardrail: each condition it breaks with the figure that broke it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    pub guardrail_id: Uuid,
    pub guardrail: String,
    pub deployment_id: Uuid,
    pub deployment: String,
    pub model_id: Option<Uuid>,
    pub model_version_id: Option<Uuid>,
    pub model: Option<String>,
    /// "mean utilization 12% (must be ≥ 30%)", one per broken condition.
    pub broken: Vec<String>,
    /// The waiver in force, if any: a waived breach raises no alert and stops no promotion.
    pub waiver: Option<Waiver>,
}

impl Breach {
    /// One line: "llm-chat-70b-v2 breaks “Busy GPUs”: mean utilization 12% (must be ≥ 30%)".
    pub fn sentence(&self) -> String {
        format!(
            "{} breaks guardrail “{}”: {}",
            self.deployment,
            self.guardrail,
            self.broken.join("; ")
        )
    }
}

/// Every breach of every rule in scope, in rule then deployment order, with the waivers in force
/// at `now` attached (`waivers`: (guardrail, deployment) -> newest waiver).
pub fn evaluate(
    rules: &[Guardrail],
    deployments: &[Facts],
    waivers: &BTreeMap<(Uuid, Uuid), Waiver>,
    now: DateTime<Utc>,
) -> Vec<Breach> {
    let mut breaches = Vec::new();
    for rule in rules {
        let covered: Vec<&Facts> = deployments
            .iter()
            .filter(|f| rule.scope.covers(f))
            .collect();
        let teams = team_totals(&covered);
        for facts in covered {
            // The team's total is its costliest deployment's figure, and no other's.
            let charged;
            let facts = match facts
                .team_id
                .zip(facts.currency.clone())
                .and_then(|key| teams.get(&key))
                .filter(|(_, costliest)| *costliest == facts.deployment_id)
            {
                Some((total, _)) => {
                    charged = Facts {
                        team_monthly_cost: Some(*total),
                        ..facts.clone()
                    };
                    &charged
                }
                None => facts,
            };
            let broken: Vec<String> = rule
                .conditions
                .iter()
                .filter_map(|condition| match condition.check(facts)? {
                    Ok(()) => None,
                    Err(found) => Some(format!("{found} (must be {})", must_be(condition))),
                })
                .collect();
            if broken.is_empty() {
                continue;
            }
            let waiver = waivers
                .get(&(rule.guardrail_id, facts.deployment_id))
                .filter(|w| w.until > now)
                .cloned();
            breaches.push(Breach {
                guardrail_id: rule.guardrail_id,
                guardrail: rule.name.clone(),
                deployment_id: facts.deployment_id,
                deployment: facts.deployment.clone(),
                model_id: facts.model_id,
                model_version_id: facts.model_version_id,
                model: facts.model.clone(),
                broken,
                waiver,
            });
        }
    }
    breaches
}

/// Each (team, currency)'s deployments' monthly cost together, and its costliest deployment.
fn team_totals(covered: &[&Facts]) -> BTreeMap<(Uuid, String), (f64, Uuid)> {
    let mut totals: BTreeMap<(Uuid, String), (f64, Uuid, f64)> = BTreeMap::new();
    for facts in covered {
        let (Some(team), Some(currency), Some(cost)) =
            (facts.team_id, facts.currency.clone(), facts.monthly_cost)
        else {
            continue;
        };
        let entry =
            totals
                .entry((team, currency))
                .or_insert((0.0, facts.deployment_id, f64::NEG_INFINITY));
        entry.0 += cost;
        if cost > entry.2 {
            entry.1 = facts.deployment_id;
            entry.2 = cost;
        }
    }
    totals
        .into_iter()
        .map(|(key, (total, costliest, _))| (key, (total, costliest)))
        .collect()
}

/// The condition's side of a breach: "≥ 30%", "spot".
fn must_be(condition: &Condition) -> String {
    match condition {
        Condition::Pricing(kind) => kind.label().to_owned(),
        _ => {
            let text = condition.describe();
            // "mean utilization ≥ 30%" -> "≥ 30%"
            text.find(['≥', '≤'])
                .map_or(text.clone(), |at| text[at..].to_owned())
        }
    }
}

/// Reads a waiver's fields as a lead gives them; the expiry is a date (the waiver ends at its
/// start, UTC) after today and at most a year away.
pub fn parse_waiver(
    reason: &str,
    until: &str,
    today: NaiveDate,
) -> Result<(String, DateTime<Utc>), crate::error::AppError> {
    let reason = reason.trim();
    let until = NaiveDate::parse_from_str(until.trim(), "%Y-%m-%d");
    let mut check = crate::error::Validator::new();
    check
        .check(
            reason.chars().count() >= 3,
            "reason",
            "Say why the breach is accepted, e.g. Launch week: traffic not ramped up yet.",
        )
        .check(
            reason.chars().count() <= 1000,
            "reason",
            "At most 1,000 characters.",
        )
        .check(
            until.is_ok(),
            "until",
            "Give the date the waiver ends, as YYYY-MM-DD.",
        );
    if let Ok(date) = until {
        check
            .check(date > today, "until", "The waiver must end after today.")
            .check(
                (date - today).num_days() <= MAX_WAIVER_DAYS,
                "until",
                "A waiver lasts a year at most; give it again when it ends.",
            );
    }
    check.finish()?;
    let ends = until
        .unwrap_or(today)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    Ok((reason.to_owned(), ends))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 31, 12, 0, 0).unwrap()
    }

    fn rule(name: &str, conditions: &str, scope: Scope) -> Guardrail {
        Guardrail {
            guardrail_id: Uuid::new_v4(),
            name: name.into(),
            conditions: parse_conditions(conditions).expect("conditions"),
            scope,
            created_at: now(),
        }
    }

    fn deployment(key: &str) -> Facts {
        Facts::new(Uuid::new_v4(), key.into())
    }

    #[test]
    fn reads_the_issue_examples_and_writes_them_back() {
        for (text, stored, shown) in [
            (
                "mean_utilization >= 30%",
                "mean_utilization >= 30%",
                "mean utilization ≥ 30%",
            ),
            ("pricing = spot", "pricing = spot", "pricing is spot"),
            (
                "pricing == on-demand",
                "pricing = on_demand",
                "pricing is on-demand",
            ),
            (
                "cost_per_1k <= 0.05",
                "cost_per_1k <= 0.05",
                "cost per 1,000 requests ≤ 0.05",
            ),
            (
                "retrain_interval >= 7d",
                "retrain_interval >= 7d",
                "retraining interval ≥ 7 days",
            ),
            (
                "retrain_interval >= 2w",
                "retrain_interval >= 14d",
                "retraining interval ≥ 14 days",
            ),
            (
                "retrain_interval >= 36h",
                "retrain_interval >= 1.5d",
                "retraining interval ≥ 1.5 days",
            ),
            (
                "monthly_cost <= 20000",
                "monthly_cost <= 20000",
                "monthly cost ≤ 20000",
            ),
            ("p95_ms <= 150", "p95_ms <= 150", "p95 latency ≤ 150 ms"),
            ("f1 >= 0.9", "f1 >= 0.9", "F1 ≥ 0.9"),
            (
                "team_monthly_cost <= 20,000",
                "team_monthly_cost <= 20000",
                "team's monthly cost ≤ 20000",
            ),
        ] {
            let condition = Condition::parse(text).expect(text);
            assert_eq!(condition.to_string(), stored, "{text}");
            assert_eq!(condition.describe(), shown, "{text}");
            assert_eq!(Condition::parse(stored).expect(stored), condition);
        }
    }

    #[test]
    fn refuses_what_it_cannot_read_with_the_line() {
        let error = parse_conditions("pricing = spot\nmean_utilization >= 130%\nteam = search")
            .expect_err("bad lines");
        assert!(
            error.contains("line 2:") && error.contains("between 0% and 100%"),
            "{error}"
        );
        assert!(
            error.contains("line 3:") && error.contains("only pricing"),
            "{error}"
        );
        assert!(parse_conditions("pricing = cheap")
            .expect_err("kind")
            .contains("unknown pricing kind"));
        assert!(parse_conditions("retrain_interval >= soon")
            .expect_err("duration")
            .contains("7d"));
        assert!(parse_conditions(" ; ")
            .expect_err("empty")
            .contains("at least one"));
    }

    #[test]
    fn every_rule_in_scope_applies_and_names_the_figure() {
        let busy = rule(
            "Busy GPUs",
            "mean_utilization >= 30%",
            Scope {
                mode: Some(Mode::RealTime),
                ..Scope::default()
            },
        );
        let spot = rule(
            "Batch on spot",
            "pricing = spot",
            Scope {
                mode: Some(Mode::Batch),
                ..Scope::default()
            },
        );
        let mut idle = deployment("chat");
        idle.utilization_pct = Some(12.4);
        let mut batch = deployment("nightly");
        batch.mode = Mode::Batch;
        batch.utilization_pct = Some(5.0);
        let mut unmeasured = deployment("new");
        unmeasured.utilization_pct = None;
        let breaches = evaluate(
            &[busy.clone(), spot.clone()],
            &[idle.clone(), batch.clone(), unmeasured],
            &BTreeMap::new(),
            now(),
        );
        let lines: Vec<String> = breaches.iter().map(Breach::sentence).collect();
        assert_eq!(
            lines,
            [
                "chat breaks guardrail “Busy GPUs”: mean utilization 12% (must be ≥ 30%)",
                "nightly breaks guardrail “Batch on spot”: pays on-demand prices (must be spot)",
            ]
        );
    }

    #[test]
    fn a_teams_monthly_cost_is_its_deployments_together_charged_to_the_costliest() {
        let team = Uuid::new_v4();
        let other = Uuid::new_v4();
        let budget = rule("Team spend", "team_monthly_cost <= 20000", Scope::default());
        let costing = |key: &str, team: Uuid, cost: f64| {
            let mut facts = deployment(key);
            facts.team_id = Some(team);
            facts.monthly_cost = Some(cost);
            facts.currency = Some("USD".into());
            facts
        };
        let deployments = [
            costing("ranker", team, 9_000.0),
            costing("embedder", team, 12_500.0),
            costing("retriever", team, 1_000.0),
            // Another team's, under its bound on its own.
            costing("chat", other, 15_000.0),
        ];
        let breaches = evaluate(&[budget], &deployments, &BTreeMap::new(), now());
        let lines: Vec<String> = breaches.iter().map(Breach::sentence).collect();
        assert_eq!(
            lines,
            ["embedder breaks guardrail “Team spend”: team's monthly cost 22500.00 USD (must be ≤ 20000)"]
        );
    }

    #[test]
    fn a_waiver_holds_until_it_expires() {
        let busy = rule("Busy GPUs", "mean_utilization >= 30%", Scope::default());
        let mut idle = deployment("chat");
        idle.utilization_pct = Some(10.0);
        let waiver = Waiver {
            reason: "launch week".into(),
            until: now() + chrono::TimeDelta::days(1),
            by: "Lea".into(),
            at: now(),
        };
        let waivers = BTreeMap::from([((busy.guardrail_id, idle.deployment_id), waiver.clone())]);
        let rules = [busy];
        let deployments = [idle];
        let in_force = evaluate(&rules, &deployments, &waivers, now());
        assert_eq!(in_force[0].waiver.as_ref(), Some(&waiver));
        let lapsed = evaluate(
            &rules,
            &deployments,
            &waivers,
            now() + chrono::TimeDelta::days(2),
        );
        assert_eq!(lapsed.len(), 1);
        assert_eq!(
            lapsed[0].waiver, None,
            "an expired waiver no longer applies"
        );
    }

    #[test]
    fn scope_narrows_by_each_part() {
        let team = Uuid::new_v4();
        let scope = Scope {
            tier: Some(Tier::Tier1),
            team: Some((team, "Search".into())),
            task: Some(TaskType::Ranking),
            mode: None,
        };
        let mut facts = deployment("ranker");
        facts.tier = Some(Tier::Tier1);
        facts.team_id = Some(team);
        facts.task = Some(TaskType::Ranking);
        assert!(scope.covers(&facts));
        facts.tier = Some(Tier::Tier2);
        assert!(!scope.covers(&facts));
        assert_eq!(
            scope.describe(),
            "Tier 1, ranking / recommendation models, team Search"
        );
        assert_eq!(Scope::default().describe(), "every deployment");
    }

    #[test]
    fn waivers_are_checked_by_field() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
        let (reason, until) = parse_waiver(" Launch week ", "2026-04-14", today).expect("valid");
        assert_eq!(reason, "Launch week");
        assert_eq!(until, Utc.with_ymd_and_hms(2026, 4, 14, 0, 0, 0).unwrap());
        let error = parse_waiver("", "2026-03-31", today).expect_err("bad");
        assert!(error.field_message("reason").is_some());
        assert!(error
            .field_message("until")
            .expect("until")
            .contains("after today"));
        let far = parse_waiver("ok reason", "2028-01-01", today).expect_err("too far");
        assert!(far
            .field_message("until")
            .expect("until")
            .contains("a year"));
    }
}
