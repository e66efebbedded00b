//! The budget portfolio: one qualifying candidate per experiment, chosen together to get the most
//! value within a monthly budget (a multiple-choice knapsack, solved exactly).
//!
//! An option's value is what its quality is worth a month: the value of one point of the
//! experiment's primary metric (a hundredth of a metric between 0 and 1) times its points, counted
//! against the experiment's own recommendation (so its own choice is worth 0 and a better one more).
//! Partial portfolios are built experiment by experiment, keeping only those no other beats on
//! both cost and value and that fit the budget: exact, and small while few options tie.

use serde::{Deserialize, Serialize};

/// One qualifying candidate of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub run: String,
    pub name: String,
    pub monthly: f64,
    pub quality: f64,
}

/// An experiment in the portfolio: its qualifying candidates, which of them it recommends on its
/// own, and what a point of its metric is worth a month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub metric: String,
    pub higher_is_better: bool,
    pub choices: Vec<Choice>,
    /// Index into `choices`.
    pub recommended: usize,
    pub point_value: f64,
}

impl Item {
    /// What choosing `c` is worth a month against the experiment's own recommendation.
    pub fn value(&self, c: usize) -> f64 {
        let delta = self.choices[c].quality - self.choices[self.recommended].quality;
        let points = if self.higher_is_better { delta } else { -delta } * 100.0;
        points * self.point_value
    }
}

/// The portfolio chosen, beside each experiment's own recommendation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// One index per item.
    pub picks: Vec<usize>,
    pub monthly: f64,
    /// What the picks are worth a month against the experiments' own recommendations.
    pub value: f64,
    /// What the experiments' own recommendations cost together.
    pub recommended_monthly: f64,
    /// Each change against an experiment's own choice, in a sentence.
    pub moves: Vec<String>,
}

/// A portfolio's question kept by name: the budget and each experiment's value of a point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub scenario_id: uuid::Uuid,
    pub name: String,
    pub budget: f64,
    /// (experiment, value of a point a month), in the order chosen.
    pub chosen: Vec<(uuid::Uuid, f64)>,
    /// The experiments' names, in the same order.
    pub experiments: Vec<String>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub is_demo: bool,
}

impl Scenario {
    /// The query of the portfolio page (and its exports) that asks this scenario's question.
    pub fn query(&self) -> String {
        query(&format_amount(self.budget), &self.chosen)
    }
}

/// A number as a query or a form holds it: no grouping, no needless decimals.
pub fn format_amount(value: f64) -> String {
    let rounded = (value * 1e6).round() / 1e6;
    format!("{rounded}")
}

/// The page's query for a budget and the chosen experiments with their values of a point.
pub fn query(budget: &str, chosen: &[(uuid::Uuid, f64)]) -> String {
    let mut parts = vec![format!("budget={}", budget.trim())];
    for (id, value) in chosen {
        parts.push(format!("e={id}&v_{id}={}", format_amount(*value)));
    }
    parts.join("&")
}

/// The chosen experiments as `id:value` pairs separated by `;` (how the page's server function
/// and exports take them).
pub fn chosen_text(chosen: &[(uuid::Uuid, f64)]) -> String {
    chosen
        .iter()
        .map(|(id, value)| format!("{id}:{}", format_amount(*value)))
        .collect::<Vec<_>>()
        .join(";")
}

/// Reads `id:value;id:value`; a value must be a number of 0 or more.
pub fn parse_chosen(text: &str) -> Result<Vec<(uuid::Uuid, f64)>, String> {
    let mut chosen = Vec::new();
    for pair in text.split(';').filter(|p| !p.trim().is_empty()) {
        let parsed = pair.split_once(':').and_then(|(id, value)| {
            Some((
                id.trim().parse::<uuid::Uuid>().ok()?,
                value.trim().replace(',', "").parse::<f64>().ok()?,
            ))
        });
        match parsed {
            Some((id, value)) if value.is_finite() && value >= 0.0 => chosen.push((id, value)),
            _ => {
                return Err(
                    "Give each experiment's value of a point as a number of 0 or more.".into(),
                )
            }
        }
    }
    Ok(chosen)
}

/// An experiment as a portfolio item: its runs that meet every constraint and are priced, its own
/// recommendation among them (else the cheapest), and the value a lead puts on a point.
#[cfg(feature = "ssr")]
pub fn item(view: &crate::experiments::view::ExperimentView, point_value: f64) -> Item {
    use rust_decimal::prelude::ToPrimitive;
    let qualifying: Vec<&crate::experiments::view::RunRow> = view
        .runs
        .iter()
        .filter(|r| r.meets_all && r.monthly.is_some() && r.quality.is_some())
        .collect();
    let choices: Vec<Choice> = qualifying
        .iter()
        .map(|r| Choice {
            run: r.run_key.clone(),
            name: r.name.clone(),
            monthly: r.monthly.and_then(|m| m.to_f64()).unwrap_or_default(),
            quality: r.quality.unwrap_or_default(),
        })
        .collect();
    let recommended = qualifying
        .iter()
        .position(|r| r.recommended)
        .or_else(|| {
            choices
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.monthly.total_cmp(&b.1.monthly))
                .map(|(i, _)| i)
        })
        .unwrap_or(0);
    let e = &view.experiment;
    Item {
        name: e.name.clone(),
        metric: crate::experiments::metric_label(&e.primary_metric),
        higher_is_better: e.direction == crate::experiments::Direction::Higher,
        choices,
        recommended,
        point_value,
    }
}

/// A pipeline as a portfolio item: its combinations that meet its whole SLA (the cheapest and
/// those of the frontier), its cheapest the one it recommends on its own.
pub fn pipeline_item(view: &super::PipelineView, point_value: f64) -> Item {
    let mut choices = Vec::new();
    let mut recommended = 0;
    if let Some(found) = &view.found {
        let best = found.best.as_ref();
        let candidates = best.into_iter().chain(found.frontier.iter());
        let mut seen: Vec<&Vec<usize>> = Vec::new();
        for combination in candidates {
            let Some(quality) = combination.quality else {
                continue;
            };
            if !combination.broken.is_empty() || seen.contains(&&combination.picks) {
                continue;
            }
            seen.push(&combination.picks);
            if best.is_some_and(|b| b.picks == combination.picks) {
                recommended = choices.len();
            }
            let name = combination
                .picks
                .iter()
                .zip(&view.stages)
                .map(|(pick, stage)| stage.stage.candidates[*pick].name.clone())
                .collect::<Vec<_>>()
                .join(" → ");
            choices.push(Choice {
                run: combination
                    .picks
                    .iter()
                    .map(|p| (p + 1).to_string())
                    .collect::<Vec<_>>()
                    .join("-"),
                name,
                monthly: combination.monthly,
                quality,
            });
        }
    }
    Item {
        name: view.name.clone(),
        metric: crate::experiments::metric_label(&view.metric),
        higher_is_better: view.higher_is_better,
        choices,
        recommended,
        point_value,
    }
}

/// The most partial portfolios kept at once.
pub const MAX_PARTIALS: usize = 200_000;

/// The portfolio of most value within `budget` a month; an error when nothing fits (then even
/// the cheapest candidate of each costs more) or an experiment has no qualifying candidate.
pub fn choose(items: &[Item], budget: f64, currency: &str) -> Result<Portfolio, String> {
    if let Some(empty) = items.iter().find(|i| i.choices.is_empty()) {
        return Err(format!(
            "{} has no candidate that meets its SLA: nothing to choose from.",
            empty.name
        ));
    }
    let cheapest: f64 = items
        .iter()
        .map(|i| {
            i.choices
                .iter()
                .map(|c| c.monthly)
                .fold(f64::INFINITY, f64::min)
        })
        .sum();
    if cheapest > budget + 1e-9 {
        return Err(format!(
            "Nothing fits: the cheapest candidate of each costs {} {currency} a month together, over the budget of {} {currency}.",
            crate::format::format_number(cheapest.round()),
            crate::format::format_number(budget.round())
        ));
    }
    // (cost, value, picks), kept sorted by cost with value rising: none beats another on both.
    let mut partials: Vec<(f64, f64, Vec<usize>)> = vec![(0.0, 0.0, Vec::new())];
    for (index, item) in items.iter().enumerate() {
        // What the items after this one cost at least, so partials that cannot finish go now.
        let rest: f64 = items[index + 1..]
            .iter()
            .map(|i| {
                i.choices
                    .iter()
                    .map(|c| c.monthly)
                    .fold(f64::INFINITY, f64::min)
            })
            .sum();
        let mut next: Vec<(f64, f64, Vec<usize>)> = Vec::new();
        for (cost, value, picks) in &partials {
            for (c, choice) in item.choices.iter().enumerate() {
                let total = cost + choice.monthly;
                if total + rest > budget + 1e-9 {
                    continue;
                }
                let mut picks = picks.clone();
                picks.push(c);
                next.push((total, value + item.value(c), picks));
            }
        }
        next.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut kept: Vec<(f64, f64, Vec<usize>)> = Vec::new();
        for candidate in next {
            if kept.last().is_none_or(|last| candidate.1 > last.1 + 1e-9) {
                kept.push(candidate);
            }
        }
        if kept.len() > MAX_PARTIALS {
            return Err(format!(
                "Too many ways to combine the candidates (over {MAX_PARTIALS}): take fewer experiments at once."
            ));
        }
        partials = kept;
    }
    // The most value; of equals, the cheapest (the first, as they are sorted by cost).
    let (monthly, value, picks) = partials
        .into_iter()
        .fold(None::<(f64, f64, Vec<usize>)>, |best, p| match best {
            Some(b) if b.1 >= p.1 - 1e-9 => Some(b),
            _ => Some(p),
        })
        .ok_or("Nothing fits the budget.")?;
    let recommended_monthly = items.iter().map(|i| i.choices[i.recommended].monthly).sum();
    let moves = items
        .iter()
        .zip(&picks)
        .filter(|(item, pick)| **pick != item.recommended)
        .map(|(item, pick)| {
            let own = &item.choices[item.recommended];
            let chosen = &item.choices[*pick];
            let points = (chosen.quality - own.quality).abs() * 100.0;
            let better = (chosen.quality > own.quality) == item.higher_is_better;
            let money = chosen.monthly - own.monthly;
            format!(
                "{}: take {} instead of {}, {} points of {} {}, {} {} a month {}",
                item.name,
                chosen.name,
                own.name,
                crate::format::format_number((points * 10.0).round() / 10.0),
                item.metric,
                if better { "more" } else { "less" },
                crate::format::format_number(money.abs().round()),
                currency,
                if money > 0.0 { "more" } else { "freed" },
            )
        })
        .collect();
    Ok(Portfolio {
        picks,
        monthly,
        value,
        recommended_monthly,
        moves,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(name: &str, monthly: f64, quality: f64) -> Choice {
        Choice {
            run: name.into(),
            name: name.into(),
            monthly,
            quality,
        }
    }

    /// Segmentation's own choice is its most accurate model; fraud's its cheapest. A point of
    /// fraud precision is worth far more.
    fn items() -> Vec<Item> {
        vec![
            Item {
                name: "Segmentation".into(),
                metric: "f1".into(),
                higher_is_better: true,
                choices: vec![
                    choice("seg-small", 900.0, 0.874),
                    choice("seg-large", 4_000.0, 0.880),
                ],
                recommended: 1,
                point_value: 200.0,
            },
            Item {
                name: "Fraud".into(),
                metric: "precision".into(),
                higher_is_better: true,
                choices: vec![
                    choice("fraud-gbt", 1_000.0, 0.90),
                    choice("fraud-gnn", 3_500.0, 0.93),
                ],
                recommended: 0,
                point_value: 1_500.0,
            },
        ]
    }

    #[test]
    fn the_freed_budget_pays_for_the_better_fraud_model() {
        // Own choices: 4,000 + 1,000 = 5,000. Within 5,000: seg-small + fraud-gnn (4,400):
        // -0.6 x 200 + 3 x 1,500 = 4,380 a month of value.
        let found = choose(&items(), 5_000.0, "USD").expect("fits");
        assert_eq!(found.picks, [0, 1]);
        assert!((found.monthly - 4_400.0).abs() < 1e-9);
        assert!((found.value - 4_380.0).abs() < 1e-6, "{found:?}");
        assert_eq!(found.recommended_monthly, 5_000.0);
        assert_eq!(
            found.moves,
            [
                "Segmentation: take seg-small instead of seg-large, 0.6 points of f1 less, 3,100 USD a month freed",
                "Fraud: take fraud-gnn instead of fraud-gbt, 3 points of precision more, 2,500 USD a month more",
            ]
        );
    }

    #[test]
    fn a_tight_budget_and_one_that_nothing_fits() {
        // 2,000: only the two cheapest fit.
        let found = choose(&items(), 2_000.0, "USD").expect("fits");
        assert_eq!(found.picks, [0, 0]);
        let error = choose(&items(), 1_500.0, "USD").expect_err("nothing fits");
        assert!(
            error.contains("Nothing fits") && error.contains("1,900"),
            "{error}"
        );
    }

    #[test]
    fn exact_against_every_combination() {
        // Five experiments of six candidates each, checked against all 7,776 portfolios.
        let items: Vec<Item> = (0..5)
            .map(|i| Item {
                name: format!("e{i}"),
                metric: "auc".into(),
                higher_is_better: i % 2 == 0,
                choices: (0..6)
                    .map(|c| {
                        let c = f64::from(c);
                        choice(
                            &format!("e{i}-{c}"),
                            100.0 + 250.0 * c + 37.0 * f64::from(i),
                            0.8 + 0.01 * c * (1.0 + f64::from(i) / 3.0),
                        )
                    })
                    .collect(),
                recommended: 0,
                point_value: 10.0 + 30.0 * f64::from(i),
            })
            .collect();
        let budget = 4_000.0;
        let found = choose(&items, budget, "USD").expect("fits");
        let mut best = f64::NEG_INFINITY;
        for n in 0..6usize.pow(5) {
            let picks: Vec<usize> = (0..5).map(|k| n / 6usize.pow(k) % 6).collect();
            let cost: f64 = picks
                .iter()
                .zip(&items)
                .map(|(p, i)| i.choices[*p].monthly)
                .sum();
            if cost <= budget {
                let value: f64 = picks.iter().zip(&items).map(|(p, i)| i.value(*p)).sum();
                best = best.max(value);
            }
        }
        assert!(
            (found.value - best).abs() < 1e-6,
            "{} against {best}",
            found.value
        );
        assert!(found.monthly <= budget);
    }

    #[test]
    fn an_experiment_without_a_qualifying_candidate_is_named() {
        let mut items = items();
        items[1].choices.clear();
        assert!(choose(&items, 10_000.0, "USD")
            .expect_err("empty")
            .contains("Fraud has no candidate"));
    }

    proptest::proptest! {
        /// On small random cases, the portfolio never spends more than its budget and is worth
        /// exactly the best of every portfolio tried one by one; it says nothing fits only when
        /// nothing does.
        #[test]
        fn the_portfolio_keeps_its_budget_and_matches_brute_force(
            items in proptest::collection::vec(
                (
                    proptest::collection::vec((50.0f64..3_000.0, 0.5f64..0.99), 1..5),
                    1.0f64..2_000.0,
                    proptest::bool::ANY,
                ),
                1..5,
            ),
            budget in 0.0f64..10_000.0,
        ) {
            let items: Vec<Item> = items
                .iter()
                .enumerate()
                .map(|(i, (choices, point_value, higher))| Item {
                    name: format!("e{i}"),
                    metric: "f1".into(),
                    higher_is_better: *higher,
                    choices: choices
                        .iter()
                        .enumerate()
                        .map(|(c, (monthly, quality))| choice(&format!("e{i}-{c}"), *monthly, *quality))
                        .collect(),
                    recommended: 0,
                    point_value: *point_value,
                })
                .collect();
            let mut best: Option<f64> = None;
            let total: usize = items.iter().map(|i| i.choices.len()).product();
            for mut code in 0..total {
                let (mut cost, mut value) = (0.0, 0.0);
                for item in &items {
                    let pick = code % item.choices.len();
                    code /= item.choices.len();
                    cost += item.choices[pick].monthly;
                    value += item.value(pick);
                }
                if cost <= budget + 1e-9 {
                    best = Some(best.map_or(value, |b: f64| b.max(value)));
                }
            }
            match (choose(&items, budget, "USD"), best) {
                (Ok(found), Some(best)) => {
                    proptest::prop_assert!(found.monthly <= budget + 1e-6);
                    proptest::prop_assert!((found.value - best).abs() < 1e-6, "{} against {best}", found.value);
                }
                (Err(_), None) => {}
                (found, best) => proptest::prop_assert!(false, "{found:?} against {best:?}"),
            }
        }
    }
}
