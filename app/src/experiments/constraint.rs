//! SLA constraints, written the way people say them: `f1 >= 0.90`, `mape <= 8%`, `p95 <= 120 ms`,
//! `cost_per_1k <= 0.40`, `monthly <= 5000`. Metrics are compared as recorded (a MAPE recorded as 7.5
//! meets `mape <= 8%`); money is in the experiment's currency.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::{metric_label, metric_name};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "metric")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Subject {
    /// A quality metric by name, e.g. `f1`.
    Metric(String),
    /// p95 latency of a single request, in milliseconds.
    P95LatencyMs,
    /// Cost per 1,000 requests at the experiment's volume.
    CostPerThousand,
    /// Projected monthly inference cost at the experiment's volume.
    MonthlyCost,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Limit {
    AtLeast,
    AtMost,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Constraint {
    pub subject: Subject,
    pub limit: Limit,
    pub bound: Decimal,
}

impl Subject {
    /// Stored name: the metric's own name, or one of the three fixed words.
    pub fn key(&self) -> &str {
        match self {
            Subject::Metric(name) => name,
            Subject::P95LatencyMs => "p95_ms",
            Subject::CostPerThousand => "cost_per_1k",
            Subject::MonthlyCost => "monthly_cost",
        }
    }

    pub fn from_key(key: &str) -> Result<Subject, String> {
        let key = key.trim().to_ascii_lowercase();
        Ok(match key.as_str() {
            "p95" | "p95_ms" | "latency_p95" | "latency_p95_ms" | "p95_latency" => {
                Subject::P95LatencyMs
            }
            "cost_per_1k" | "cost_per_1000" | "cost_per_thousand" | "cost/1k" => {
                Subject::CostPerThousand
            }
            "monthly" | "monthly_cost" | "monthly_budget" | "budget" => Subject::MonthlyCost,
            _ => Subject::Metric(metric_name(&key)?),
        })
    }

    pub fn label(&self) -> String {
        match self {
            Subject::Metric(name) => metric_label(name),
            Subject::P95LatencyMs => "p95 latency".into(),
            Subject::CostPerThousand => "cost per 1,000 requests".into(),
            Subject::MonthlyCost => "monthly cost".into(),
        }
    }

    pub fn is_money(&self) -> bool {
        matches!(self, Subject::CostPerThousand | Subject::MonthlyCost)
    }
}

impl Constraint {
    pub fn bound_f64(&self) -> f64 {
        self.bound.to_f64().unwrap_or(f64::NAN)
    }

    /// Whether `value` meets the constraint.
    pub fn holds(&self, value: f64) -> bool {
        match self.limit {
            Limit::AtLeast => value >= self.bound_f64(),
            Limit::AtMost => value <= self.bound_f64(),
        }
    }

    /// How it reads on a page: `F1 ≥ 0.90`, `p95 latency ≤ 120 ms`, `monthly cost ≤ 5000 USD`.
    pub fn describe(&self, currency: &str) -> String {
        let op = match self.limit {
            Limit::AtLeast => "≥",
            Limit::AtMost => "≤",
        };
        let bound = self.bound.normalize();
        let unit = match &self.subject {
            Subject::P95LatencyMs => " ms".to_owned(),
            Subject::CostPerThousand | Subject::MonthlyCost => format!(" {currency}"),
            Subject::Metric(_) => String::new(),
        };
        format!("{} {op} {bound}{unit}", self.subject.label())
    }
}

/// The form people type and the API takes: `f1 >= 0.9`.
impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.limit {
            Limit::AtLeast => ">=",
            Limit::AtMost => "<=",
        };
        write!(f, "{} {op} {}", self.subject.key(), self.bound.normalize())
    }
}

impl Constraint {
    /// Reads `subject op bound` with either limit on any subject; an SLA then refuses floors on
    /// latency and money (see `FromStr`), while a catalog tier rule may use them.
    pub fn parse_either_way(text: &str) -> Result<Constraint, String> {
        let text = text.trim();
        let (at, op_len, limit) = [(">=", Limit::AtLeast), ("≥", Limit::AtLeast), ("<=", Limit::AtMost), ("≤", Limit::AtMost)]
            .iter()
            .find_map(|(op, limit)| text.find(op).map(|at| (at, op.len(), *limit)))
            .ok_or_else(|| {
                format!("`{text}` is not a constraint: write it as `f1 >= 0.90`, `p95 <= 120 ms` or `monthly <= 5000`.")
            })?;
        let subject = Subject::from_key(&text[..at])?;
        let bound_text = text[at + op_len..].trim();
        let number = bound_text
            .trim_end_matches('%')
            .trim_end_matches("ms")
            .trim()
            .trim_start_matches(['$', '€', '£'])
            .replace([',', '_'], "");
        let bound = Decimal::from_str(&number)
            .map_err(|_| format!("`{bound_text}` is not a number in `{text}`."))?;
        if (subject == Subject::P95LatencyMs || subject.is_money()) && bound.is_sign_negative() {
            return Err(format!("{} cannot be negative.", subject.label()));
        }
        Ok(Constraint {
            subject,
            limit,
            bound,
        })
    }
}

impl FromStr for Constraint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Constraint {
            subject,
            limit,
            bound,
        } = Constraint::parse_either_way(text)?;
        if (subject == Subject::P95LatencyMs || subject.is_money()) && limit == Limit::AtLeast {
            return Err(format!(
                "{} can only have a ceiling: write `{} <= {}`.",
                subject.label(),
                subject.key(),
                bound.normalize()
            ));
        }
        Ok(Constraint {
            subject,
            limit,
            bound,
        })
    }
}

/// One constraint per line (or separated by `;`); every bad line is reported with its number.
pub fn parse_constraints(text: &str) -> Result<Vec<Constraint>, String> {
    parse_lines(text, str::parse::<Constraint>)
}

/// Reads one item per line (or separated by `;`) with `parse`, skipping blank lines and
/// repeats; every bad line is reported with its number.
pub fn parse_lines<T: PartialEq>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.split(['\n', ';']).enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match parse(line) {
            Ok(item) if items.contains(&item) => {}
            Ok(item) => items.push(item),
            Err(error) => errors.push(format!("line {}: {error}", index + 1)),
        }
    }
    if errors.is_empty() {
        Ok(items)
    } else {
        Err(errors.join(" "))
    }
}

/// A rule's conditions (a tier rule's, a guardrail's): read by [`parse_lines`], at least one and
/// at most 10. `example` is a condition to suggest; `rule` what the rule is called.
pub fn parse_rule_conditions<T: PartialEq>(
    text: &str,
    parse: impl Fn(&str) -> Result<T, String>,
    example: &str,
    rule: &str,
) -> Result<Vec<T>, String> {
    let conditions = parse_lines(text, parse)?;
    if conditions.is_empty() {
        return Err(format!("Give at least one condition, e.g. `{example}`."));
    }
    if conditions.len() > 10 {
        return Err(format!("At most 10 conditions per {rule}."));
    }
    Ok(conditions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_read_as_people_write_them() {
        let f1: Constraint = "F1 >= 0.90".parse().expect("f1");
        assert_eq!(f1.subject, Subject::Metric("f1".into()));
        assert_eq!(f1.limit, Limit::AtLeast);
        assert_eq!(f1.to_string(), "f1 >= 0.9");
        assert_eq!(f1.describe("USD"), "F1 ≥ 0.9");
        let mape: Constraint = "mape <= 8%".parse().expect("mape");
        assert_eq!(mape.bound, Decimal::new(8, 0));
        let p95: Constraint = "p95 <= 120 ms".parse().expect("p95");
        assert_eq!(p95.subject, Subject::P95LatencyMs);
        assert_eq!(p95.describe("USD"), "p95 latency ≤ 120 ms");
        let budget: Constraint = "monthly <= $5,000".parse().expect("budget");
        assert_eq!(budget.subject, Subject::MonthlyCost);
        assert_eq!(budget.describe("EUR"), "monthly cost ≤ 5000 EUR");
        assert!("cost_per_1k ≤ 0.4".parse::<Constraint>().is_ok());
    }

    #[test]
    fn nonsense_is_refused_with_the_reason() {
        assert!("f1 is good".parse::<Constraint>().is_err());
        assert!("f1 >= high".parse::<Constraint>().is_err());
        let floor = "p95 >= 10".parse::<Constraint>().expect_err("floor");
        assert_eq!(
            floor,
            "p95 latency can only have a ceiling: write `p95_ms <= 10`."
        );
        let error = parse_constraints("f1 >= 0.9\n\nbleu >> 3\nmonthly <= -1").expect_err("bad");
        assert!(error.starts_with("line 3: "), "{error}");
        assert!(
            error.contains("line 4: monthly cost cannot be negative."),
            "{error}"
        );
    }

    #[test]
    fn a_list_drops_repeats() {
        let list = parse_constraints("f1 >= 0.9; f1 >= 0.9\np95 <= 100").expect("list");
        assert_eq!(list.len(), 2);
    }
}
