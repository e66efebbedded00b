//! The cost explorer's figures: current, allocated bill amounts by month and by a chosen grouping,
//! per currency (never summed across currencies).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How many groups the chart draws on their own; the rest are drawn together as "Other".
pub const CHART_GROUPS: usize = 7;

/// What to group by.
pub const GROUPINGS: [(&str, &str); 8] = [
    ("team", "Team"),
    ("model", "Model"),
    ("deployment", "Deployment"),
    ("service", "Service"),
    ("provider", "Provider"),
    ("account", "Billing account"),
    ("month", "Month only"),
    ("tag", "Tag"),
];

/// The explorer's filters, as the page and the chart's URL carry them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploreQuery {
    #[serde(default)]
    pub group: String,
    /// The tag key, when grouping by tag.
    #[serde(default)]
    pub tag: String,
    /// First and last month shown, `YYYY-MM`; empty for the last three months with charges.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub service: String,
    #[serde(default)]
    pub provider: String,
}

impl ExploreQuery {
    /// The query string for the chart route.
    pub fn to_query_string(&self) -> String {
        let pairs = [
            ("group", &self.group),
            ("tag", &self.tag),
            ("from", &self.from),
            ("to", &self.to),
            ("team", &self.team),
            ("service", &self.service),
            ("provider", &self.provider),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", crate::format::url_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    pub fn grouping(&self) -> &str {
        match self.group.as_str() {
            g if GROUPINGS.iter().any(|(key, _)| *key == g) => g,
            _ => "team",
        }
    }
}

/// One amount: a month, a group, a currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub month: String,
    pub label: String,
    pub currency: String,
    pub amount: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub label: String,
    /// One amount per month of [`Explorer::months`].
    pub amounts: Vec<Decimal>,
    pub total: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrencyBlock {
    pub currency: String,
    /// The largest total first.
    pub groups: Vec<GroupRow>,
    pub month_totals: Vec<Decimal>,
    pub total: Decimal,
}

impl CurrencyBlock {
    /// The groups the chart draws: the largest [`CHART_GROUPS`], then the rest summed as "Other".
    pub fn chart_groups(&self) -> Vec<GroupRow> {
        let mut shown: Vec<GroupRow> = self.groups.iter().take(CHART_GROUPS).cloned().collect();
        let rest = &self.groups[shown.len()..];
        if !rest.is_empty() {
            let months = self.month_totals.len();
            let mut other = GroupRow {
                label: "Other".into(),
                amounts: vec![Decimal::ZERO; months],
                total: Decimal::ZERO,
            };
            for row in rest {
                for (sum, amount) in other.amounts.iter_mut().zip(&row.amounts) {
                    *sum += *amount;
                }
                other.total += row.total;
            }
            shown.push(other);
        }
        shown
    }
}

/// What the explorer shows, with the choices its filters offer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explorer {
    pub query: ExploreQuery,
    pub months: Vec<String>,
    pub blocks: Vec<CurrencyBlock>,
    pub available_months: Vec<String>,
    pub teams: Vec<String>,
    pub services: Vec<String>,
    pub providers: Vec<String>,
    pub tag_keys: Vec<String>,
}

/// Arranges cells into one block per currency: every month of `months` in each row, groups by
/// total (largest first, then by name), amounts rounded to cents for reading.
pub fn assemble(months: &[String], cells: &[Cell]) -> Vec<CurrencyBlock> {
    let mut currencies: Vec<&str> = cells.iter().map(|c| c.currency.as_str()).collect();
    currencies.sort_unstable();
    currencies.dedup();
    currencies
        .into_iter()
        .map(|currency| {
            let mut groups: Vec<GroupRow> = Vec::new();
            for cell in cells.iter().filter(|c| c.currency == currency) {
                let Some(month) = months.iter().position(|m| *m == cell.month) else {
                    continue;
                };
                let row = match groups.iter().position(|g| g.label == cell.label) {
                    Some(at) => &mut groups[at],
                    None => {
                        groups.push(GroupRow {
                            label: cell.label.clone(),
                            amounts: vec![Decimal::ZERO; months.len()],
                            total: Decimal::ZERO,
                        });
                        groups.last_mut().expect("just pushed")
                    }
                };
                row.amounts[month] += cell.amount;
                row.total += cell.amount;
            }
            for row in &mut groups {
                row.total = row.total.round_dp(2);
                for amount in &mut row.amounts {
                    *amount = amount.round_dp(2);
                }
            }
            groups.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.label.cmp(&b.label)));
            let month_totals: Vec<Decimal> = (0..months.len())
                .map(|m| groups.iter().map(|g| g.amounts[m]).sum())
                .collect();
            let total = groups.iter().map(|g| g.total).sum();
            CurrencyBlock {
                currency: currency.to_owned(),
                groups,
                month_totals,
                total,
            }
        })
        .collect()
}

/// The months from `from` to `to` (`YYYY-MM`), both included; empty when either is not a month.
pub fn months_between(from: &str, to: &str) -> Vec<String> {
    let parse = |m: &str| {
        let (y, mo) = m.split_once('-')?;
        let (y, mo): (i32, u32) = (y.parse().ok()?, mo.parse().ok()?);
        (1..=12).contains(&mo).then_some(y * 12 + mo as i32 - 1)
    };
    let (Some(start), Some(end)) = (parse(from), parse(to)) else {
        return Vec::new();
    };
    (start..=end.min(start + 120))
        .map(|i| format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(month: &str, label: &str, currency: &str, cents: i64) -> Cell {
        Cell {
            month: month.into(),
            label: label.into(),
            currency: currency.into(),
            amount: Decimal::new(cents, 2),
        }
    }

    #[test]
    fn months_run_across_years() {
        assert_eq!(
            months_between("2026-11", "2027-02"),
            ["2026-11", "2026-12", "2027-01", "2027-02"]
        );
        assert!(months_between("2026-13", "2027-01").is_empty());
        assert!(months_between("2026-05", "2026-04").is_empty());
    }

    #[test]
    fn currencies_are_never_summed_together_and_groups_sort_by_total() {
        let months = months_between("2026-09", "2026-10");
        let blocks = assemble(
            &months,
            &[
                cell("2026-09", "Search", "USD", 10_000),
                cell("2026-10", "Search", "USD", 5_000),
                cell("2026-10", "Fraud", "USD", 20_000),
                cell("2026-10", "Fraud", "EUR", 700),
                cell("2026-08", "Old", "USD", 99_999),
            ],
        );
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].currency, "EUR");
        let usd = &blocks[1];
        assert_eq!(usd.groups[0].label, "Fraud");
        assert_eq!(
            usd.groups[0].amounts,
            vec![Decimal::ZERO, Decimal::new(200, 0)]
        );
        assert_eq!(usd.groups[1].total, Decimal::new(150, 0));
        assert_eq!(
            usd.month_totals,
            vec![Decimal::new(100, 0), Decimal::new(250, 0)]
        );
        assert_eq!(
            usd.total,
            Decimal::new(350, 0),
            "a month outside the range is left out"
        );
    }

    #[test]
    fn the_chart_folds_small_groups_into_other() {
        let months = vec!["2026-09".to_string()];
        let cells: Vec<Cell> = (0..10)
            .map(|i| cell("2026-09", &format!("g{i}"), "USD", 100 * (i + 1)))
            .collect();
        let block = &assemble(&months, &cells)[0];
        let chart = block.chart_groups();
        assert_eq!(chart.len(), CHART_GROUPS + 1);
        assert_eq!(chart.last().map(|g| g.label.as_str()), Some("Other"));
        assert_eq!(chart.iter().map(|g| g.total).sum::<Decimal>(), block.total);
    }
}
