//! Quarterly total cost of ownership, per model and per team. Pure: the store gathers the parts,
//! this sums them, so the page, the CSV, the XLSX and the HTML report all show the same figures.
//!
//! A model's TCO = training compute + inference compute + storage + engineering + other, where
//! - training: the training cost of experiment runs recorded in the quarter for its versions;
//! - inference: billed (allocated cloud bill lines for compute) where the bills cover it, else
//!   estimated (its telemetry priced by the GPU price catalog); both are shown, and their gap;
//! - storage and other: allocated bill lines by service category;
//! - engineering: the team's hours × rate for the quarter, split across the team's models by their
//!   compute cost (evenly when none has any).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Quarter;
use crate::format::percent_of;

/// The parts of one model's (or a team's own) quarter, in the report's currency.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Parts {
    pub training: Decimal,
    pub inference_billed: Decimal,
    pub inference_estimated: Decimal,
    pub storage: Decimal,
    pub engineering: Decimal,
    pub other: Decimal,
    /// For a sum of lines: the sum of each line's inference. One line's bills may cover it while
    /// another's do not, so a sum cannot choose between its billed and estimated totals.
    #[serde(default)]
    pub inference_of_lines: Option<Decimal>,
}

impl Parts {
    /// Billed where the bills cover it, else estimated from telemetry (line by line in a sum).
    pub fn inference(&self) -> Decimal {
        if let Some(sum) = self.inference_of_lines {
            sum
        } else if self.inference_billed > Decimal::ZERO {
            self.inference_billed
        } else {
            self.inference_estimated
        }
    }

    pub fn inference_basis(&self) -> &'static str {
        if self.inference_billed > Decimal::ZERO {
            "billed"
        } else if self.inference_estimated > Decimal::ZERO {
            "estimated"
        } else {
            ""
        }
    }

    /// Compute: training and inference, the basis for splitting engineering.
    pub fn compute(&self) -> Decimal {
        self.training + self.inference()
    }

    pub fn total(&self) -> Decimal {
        self.training + self.inference() + self.storage + self.engineering + self.other
    }

    fn add(&mut self, other: &Parts) {
        self.inference_of_lines = Some(self.inference() + other.inference());
        self.training += other.training;
        self.inference_billed += other.inference_billed;
        self.inference_estimated += other.inference_estimated;
        self.storage += other.storage;
        self.engineering += other.engineering;
        self.other += other.other;
    }

    fn rounded(&self) -> Parts {
        Parts {
            training: self.training.round_dp(2),
            inference_billed: self.inference_billed.round_dp(2),
            inference_estimated: self.inference_estimated.round_dp(2),
            storage: self.storage.round_dp(2),
            engineering: self.engineering.round_dp(2),
            other: self.other.round_dp(2),
            inference_of_lines: self.inference_of_lines.map(|sum| sum.round_dp(2)),
        }
    }
}

/// One line of the report: a model, or what a team spent on no model in particular.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub model_id: Option<Uuid>,
    /// The model's name, or "Team-wide" for the team's own costs.
    pub name: String,
    pub parts: Parts,
    /// The value a lead entered for the quarter.
    pub value: Option<Decimal>,
    /// Its total last quarter.
    pub previous_total: Decimal,
}

impl Line {
    pub fn total(&self) -> Decimal {
        self.parts.total()
    }

    /// (value − TCO) / TCO, in percent.
    pub fn roi_pct(&self) -> Option<f64> {
        let total = self.total();
        let value = self.value?;
        (total > Decimal::ZERO).then(|| percent_of(value - total, total))?
    }

    pub fn change_pct(&self) -> Option<f64> {
        change_pct(self.previous_total, self.total())
    }
}

pub fn change_pct(previous: Decimal, current: Decimal) -> Option<f64> {
    (previous > Decimal::ZERO).then(|| percent_of(current - previous, previous))?
}

/// Engineering time a team entered for the quarter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Engineering {
    pub hours: Decimal,
    pub rate: Decimal,
    pub note: String,
}

impl Engineering {
    pub fn cost(&self) -> Decimal {
        (self.hours * self.rate).round_dp(2)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamTco {
    pub team_id: Option<Uuid>,
    pub team: String,
    pub engineering: Option<Engineering>,
    pub lines: Vec<Line>,
    pub previous_total: Decimal,
}

impl TeamTco {
    pub fn parts(&self) -> Parts {
        let mut sum = Parts::default();
        for line in &self.lines {
            sum.add(&line.parts);
        }
        sum
    }

    pub fn total(&self) -> Decimal {
        self.lines.iter().map(Line::total).sum()
    }

    pub fn change_pct(&self) -> Option<f64> {
        change_pct(self.previous_total, self.total())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tco {
    pub quarter: Quarter,
    pub currency: String,
    /// The quarter is not over yet: figures are to date.
    pub to_date: bool,
    pub teams: Vec<TeamTco>,
    /// Amounts in other currencies, left out of the sums: (currency, amount).
    pub left_out: Vec<(String, Decimal)>,
}

impl Tco {
    pub fn parts(&self) -> Parts {
        let mut sum = Parts::default();
        for team in &self.teams {
            sum.add(&team.parts());
        }
        sum
    }

    pub fn total(&self) -> Decimal {
        self.teams.iter().map(TeamTco::total).sum()
    }

    pub fn previous_total(&self) -> Decimal {
        self.teams.iter().map(|t| t.previous_total).sum()
    }
}

/// The name of a team's line for costs that belong to no model.
pub const TEAM_WIDE: &str = "Team-wide";

/// ((team id, team name), model (None: team-wide), line name, parts before engineering)
pub type GatheredLine = ((Option<Uuid>, String), Option<Uuid>, String, Parts);

/// What the store gathered for one quarter: parts keyed by (team, model), engineering by team.
#[derive(Clone, Debug, Default)]
pub struct Gathered {
    /// (team id, team name) -> model (None: team-wide) -> (name, parts before engineering)
    pub parts: Vec<GatheredLine>,
    /// (team id, team name, hours × rate)
    pub engineering: Vec<(Uuid, String, Engineering)>,
    pub values: Vec<(Uuid, Decimal)>,
}

/// Splits `amount` across `weights` in proportion (evenly when they are all zero), to the cent,
/// so that the shares add up to `amount` exactly.
pub fn split(amount: Decimal, weights: &[Decimal]) -> Vec<Decimal> {
    if weights.is_empty() {
        return Vec::new();
    }
    let total: Decimal = weights.iter().copied().filter(|w| *w > Decimal::ZERO).sum();
    let shares: Vec<Decimal> = if total > Decimal::ZERO {
        weights
            .iter()
            .map(|w| (amount * (*w).max(Decimal::ZERO) / total).round_dp(2))
            .collect()
    } else {
        let n = Decimal::from(weights.len());
        weights.iter().map(|_| (amount / n).round_dp(2)).collect()
    };
    // The cents lost to rounding go to the largest share.
    let gap = amount - shares.iter().copied().sum::<Decimal>();
    let mut shares = shares;
    if let Some(largest) = (0..shares.len()).max_by_key(|i| shares[*i]) {
        shares[largest] += gap;
    }
    shares
}

/// Builds the report from what was gathered for this quarter and the previous one.
pub fn build(
    quarter: Quarter,
    currency: String,
    to_date: bool,
    current: Gathered,
    previous: &Gathered,
    left_out: Vec<(String, Decimal)>,
) -> Tco {
    let previous_totals = totals(previous);
    let mut teams: Vec<TeamTco> = Vec::new();
    for ((team_id, team), model_id, name, parts) in current.parts {
        let index = match teams.iter().position(|t| t.team_id == team_id) {
            Some(i) => i,
            None => {
                teams.push(TeamTco {
                    team_id,
                    team,
                    engineering: None,
                    lines: Vec::new(),
                    previous_total: Decimal::ZERO,
                });
                teams.len() - 1
            }
        };
        let value = model_id.and_then(|id| {
            current
                .values
                .iter()
                .find(|(m, _)| *m == id)
                .map(|(_, v)| *v)
        });
        teams[index].lines.push(Line {
            model_id,
            name,
            parts: parts.rounded(),
            value,
            previous_total: previous_totals
                .iter()
                .find(|(t, m, _)| *t == team_id && *m == model_id)
                .map_or(Decimal::ZERO, |(_, _, total)| *total),
        });
    }
    // Engineering: a team with hours but no line yet gets a team-wide line to carry them.
    for (team_id, team_name, engineering) in &current.engineering {
        if !teams.iter().any(|t| t.team_id == Some(*team_id)) {
            teams.push(TeamTco {
                team_id: Some(*team_id),
                team: team_name.clone(),
                engineering: None,
                lines: vec![Line {
                    model_id: None,
                    name: TEAM_WIDE.into(),
                    parts: Parts::default(),
                    value: None,
                    previous_total: Decimal::ZERO,
                }],
                previous_total: Decimal::ZERO,
            });
        }
        if let Some(team) = teams.iter_mut().find(|t| t.team_id == Some(*team_id)) {
            let models: Vec<usize> = (0..team.lines.len())
                .filter(|i| team.lines[*i].model_id.is_some())
                .collect();
            let targets = if models.is_empty() {
                (0..team.lines.len()).collect()
            } else {
                models
            };
            let weights: Vec<Decimal> = targets
                .iter()
                .map(|i| team.lines[*i].parts.compute())
                .collect();
            for (i, share) in targets.iter().zip(split(engineering.cost(), &weights)) {
                team.lines[*i].parts.engineering += share;
            }
            team.engineering = Some(engineering.clone());
        }
    }
    for team in &mut teams {
        team.lines.sort_by(|a, b| {
            a.model_id
                .is_none()
                .cmp(&b.model_id.is_none())
                .then_with(|| b.total().cmp(&a.total()))
        });
        team.previous_total = previous_totals
            .iter()
            .filter(|(t, _, _)| *t == team.team_id)
            .map(|(_, _, total)| *total)
            .sum();
    }
    teams.retain(|t| !t.lines.is_empty());
    teams.sort_by_key(|t| std::cmp::Reverse(t.total()));
    Tco {
        quarter,
        currency,
        to_date,
        teams,
        left_out,
    }
}

/// (team, model, total with engineering split) of a gathered quarter.
fn totals(gathered: &Gathered) -> Vec<(Option<Uuid>, Option<Uuid>, Decimal)> {
    // Built without a quarter before it: nothing to compare with, and no recursion.
    if gathered.parts.is_empty() && gathered.engineering.is_empty() {
        return Vec::new();
    }
    let report = build(
        Quarter {
            year: 2000,
            number: 1,
        },
        String::new(),
        false,
        gathered.clone(),
        &Gathered::default(),
        Vec::new(),
    );
    report
        .teams
        .iter()
        .flat_map(|t| t.lines.iter().map(|l| (t.team_id, l.model_id, l.total())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    fn q() -> Quarter {
        Quarter {
            year: 2026,
            number: 3,
        }
    }

    fn team(n: u128) -> (Option<Uuid>, String) {
        (Some(Uuid::from_u128(n)), format!("Team {n}"))
    }

    #[test]
    fn billed_inference_wins_over_estimated() {
        let parts = Parts {
            inference_billed: d("120"),
            inference_estimated: d("100"),
            ..Parts::default()
        };
        assert_eq!(parts.inference(), d("120"));
        assert_eq!(parts.inference_basis(), "billed");
        let estimated = Parts {
            inference_estimated: d("100"),
            ..Parts::default()
        };
        assert_eq!(estimated.inference(), d("100"));
        assert_eq!(estimated.inference_basis(), "estimated");
    }

    #[test]
    fn engineering_is_split_by_compute_and_sums_to_the_cent() {
        let gathered = Gathered {
            parts: vec![
                (
                    team(1),
                    Some(Uuid::from_u128(10)),
                    "a".into(),
                    Parts {
                        training: d("100"),
                        ..Parts::default()
                    },
                ),
                (
                    team(1),
                    Some(Uuid::from_u128(11)),
                    "b".into(),
                    Parts {
                        inference_estimated: d("200"),
                        ..Parts::default()
                    },
                ),
                (
                    team(1),
                    None,
                    "Team-wide".into(),
                    Parts {
                        other: d("50"),
                        ..Parts::default()
                    },
                ),
            ],
            engineering: vec![(
                Uuid::from_u128(1),
                "Team 1".into(),
                Engineering {
                    hours: d("10"),
                    rate: d("100.01"),
                    note: String::new(),
                },
            )],
            values: vec![(Uuid::from_u128(11), d("1000"))],
        };
        let report = build(
            q(),
            "USD".into(),
            false,
            gathered,
            &Gathered::default(),
            Vec::new(),
        );
        let team = &report.teams[0];
        assert_eq!(
            team.engineering.as_ref().map(Engineering::cost),
            Some(d("1000.10"))
        );
        let engineering: Vec<Decimal> = team.lines.iter().map(|l| l.parts.engineering).collect();
        assert_eq!(
            engineering,
            [d("666.73"), d("333.37"), d("0")],
            "by compute, none to team-wide"
        );
        assert_eq!(report.total(), d("1350.10"));
        let b = &team.lines[0];
        assert_eq!(b.name, "b");
        // value 1000 against 866.73: +15.4%
        assert!((b.roi_pct().expect("roi") - 15.37).abs() < 0.01);
        assert_eq!(team.lines[2].name, "Team-wide", "team-wide last");
    }

    #[test]
    fn change_is_against_the_previous_quarter() {
        let line = |amount: &str| Gathered {
            parts: vec![(
                team(1),
                Some(Uuid::from_u128(10)),
                "a".into(),
                Parts {
                    other: d(amount),
                    ..Parts::default()
                },
            )],
            ..Gathered::default()
        };
        let report = build(
            q(),
            "USD".into(),
            false,
            line("150"),
            &line("100"),
            Vec::new(),
        );
        assert_eq!(report.teams[0].lines[0].change_pct(), Some(50.0));
        assert_eq!(report.teams[0].change_pct(), Some(50.0));
        assert_eq!(report.previous_total(), d("100"));
        assert_eq!(change_pct(Decimal::ZERO, d("5")), None);
    }

    fn amount() -> impl Strategy<Value = Decimal> {
        (0i64..10_000_000).prop_map(|cents| Decimal::new(cents, 2))
    }

    fn parts() -> impl Strategy<Value = Parts> {
        (amount(), amount(), amount(), amount(), amount()).prop_map(|(t, b, e, s, o)| Parts {
            training: t,
            inference_billed: b,
            inference_estimated: e,
            storage: s,
            engineering: Decimal::ZERO,
            other: o,
            inference_of_lines: None,
        })
    }

    proptest! {
        #[test]
        fn every_view_adds_up_to_the_same_total(
            lines in prop::collection::vec((0u128..4, prop::option::of(0u128..6), parts()), 0..30),
            hours in prop::collection::vec((0u128..4, 0i64..100_000, 0i64..50_000), 0..4),
        ) {
            let gathered = Gathered {
                parts: lines
                    .iter()
                    .enumerate()
                    .map(|(i, (t, m, p))| (team(*t), m.map(|m| Uuid::from_u128(100 + i as u128 * 10 + m)), format!("m{i}"), p.clone()))
                    .collect(),
                engineering: hours
                    .iter()
                    .map(|(t, h, r)| (Uuid::from_u128(*t), format!("Team {t}"), Engineering { hours: Decimal::new(*h, 1), rate: Decimal::new(*r, 2), note: String::new() }))
                    .collect(),
                values: Vec::new(),
            };
            let report = build(q(), "USD".into(), false, gathered.clone(), &Gathered::default(), Vec::new());
            let by_lines: Decimal = report.teams.iter().flat_map(|t| &t.lines).map(Line::total).sum();
            let by_category = report.parts().total();
            prop_assert_eq!(report.total(), by_lines);
            prop_assert_eq!(report.total(), by_category);
            // Every hour entered is in the report, to the cent.
            let entered: Decimal = gathered.engineering.iter().map(|(_, _, e)| e.cost()).sum();
            prop_assert_eq!(report.parts().engineering, entered);
            let weights = [Decimal::ONE, Decimal::TWO, Decimal::ZERO];
            let amount = Decimal::new(10_001, 2);
            prop_assert_eq!(split(amount, &weights).into_iter().sum::<Decimal>(), amount);
        }
    }
}
