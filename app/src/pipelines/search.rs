//! Every combination of one candidate per stage, priced and timed end to end: the cheapest that
//! meets the pipeline's SLA and the frontier of cost against quality.
//!
//! A candidate another of its stage beats on cost, p50 and p95 (and, in the last stage, on
//! quality) can never make a better combination, so it is pruned first; what remains is searched
//! exhaustively. Candidates named by a pipeline-level run (quality measured for that combination)
//! are never pruned.

use serde::{Deserialize, Serialize};

use super::latency::Moments;
use super::Stage;
use crate::experiments::{Constraint, Subject};

/// The most combinations searched after pruning.
pub const MAX_COMBINATIONS: u64 = 5_000_000;

/// One combination, priced and timed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Combination {
    /// The candidate chosen in each stage, by its index in the stage.
    pub picks: Vec<usize>,
    /// Per 1,000 pipeline requests, each stage at the traffic and fan-out it sees.
    pub cost_per_1k: f64,
    pub monthly: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    /// The stages' p95s summed: every stage slow for the same request.
    pub p95_upper_ms: f64,
    /// The last stage's quality, or the pipeline-level run's for this combination.
    pub quality: Option<f64>,
    /// The stage that takes the largest share of the mean latency.
    pub bottleneck: usize,
    /// Each SLA condition it breaks, as "p95 latency 131 ms (must be ≤ 120)".
    pub broken: Vec<String>,
}

/// What the search found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Found {
    /// The cheapest combination that meets every condition, if any does.
    pub best: Option<Combination>,
    /// Combinations within the SLA's latency and money bounds that no other beats on both cost
    /// and quality, cheapest first.
    pub frontier: Vec<Combination>,
    /// Every combination, before pruning.
    pub combinations: u64,
    /// Those searched after pruning.
    pub searched: u64,
}

/// What the search reads besides the stages.
pub struct Question<'a> {
    pub stages: &'a [Stage],
    pub sla: &'a [Constraint],
    /// The last stage's primary metric, and whether higher is better.
    pub metric: &'a str,
    pub higher_is_better: bool,
    /// Pipeline requests a month.
    pub volume: u64,
    /// Quality measured for whole combinations (pipeline-level runs): picks -> quality.
    pub measured: &'a [(Vec<usize>, f64)],
}

/// Searches every combination; an error when a stage has no candidate or too many remain.
pub fn search(question: &Question) -> Result<Found, String> {
    let stages = question.stages;
    if stages.is_empty() {
        return Err("A pipeline needs at least one stage.".into());
    }
    if let Some(empty) = stages.iter().find(|s| s.candidates.is_empty()) {
        return Err(format!("Stage “{}” has no candidate runs.", empty.name));
    }
    let combinations = stages
        .iter()
        .map(|s| s.candidates.len() as u64)
        .fold(1u64, |all, n| all.saturating_mul(n));
    let kept: Vec<Vec<usize>> = stages
        .iter()
        .enumerate()
        .map(|(index, stage)| {
            let last = index + 1 == stages.len();
            let named = |c: usize| question.measured.iter().any(|(picks, _)| picks[index] == c);
            prune(
                stage,
                last && !question.metric.is_empty(),
                question.higher_is_better,
                named,
            )
        })
        .collect();
    let searched = kept
        .iter()
        .map(|k| k.len() as u64)
        .fold(1u64, |all, n| all.saturating_mul(n));
    if searched > MAX_COMBINATIONS {
        return Err(format!(
            "{searched} combinations remain after pruning, more than {MAX_COMBINATIONS}: narrow the candidates of the largest stages."
        ));
    }
    // Each candidate's share of the cost and of the latency moments, worked out once.
    let parts: Vec<Vec<(f64, Moments)>> = stages
        .iter()
        .zip(&kept)
        .map(|(stage, kept)| {
            kept.iter()
                .map(|&c| {
                    let candidate = &stage.candidates[c];
                    (
                        stage.cost_per_request(candidate) * 1000.0,
                        Moments::stage(candidate.p50_ms, candidate.p95_ms, stage.share),
                    )
                })
                .collect()
        })
        .collect();
    let mut odometer = vec![0usize; stages.len()];
    let mut best: Option<(f64, Option<f64>, f64, Vec<usize>)> = None;
    let mut frontier: Vec<(f64, f64, Vec<usize>)> = Vec::new();
    loop {
        // The picks are built only where they are kept or a pipeline-level run may name them.
        let picks = || -> Vec<usize> {
            odometer
                .iter()
                .zip(&kept)
                .map(|(at, kept)| kept[*at])
                .collect()
        };
        let (cost, moments) = odometer
            .iter()
            .zip(&parts)
            .fold((0.0, Moments::default()), |(cost, moments), (at, parts)| {
                (cost + parts[*at].0, moments + parts[*at].1)
            });
        let (_, p95) = moments.percentiles();
        let quality = if question.measured.is_empty() {
            let last = stages.len() - 1;
            stages[last].candidates[kept[last][odometer[last]]].quality
        } else {
            quality_of(question, &picks())
        };
        let monthly = cost * question.volume as f64 / 1000.0;
        let within = |subject: &Subject| match subject {
            Subject::P95LatencyMs => Some(p95),
            Subject::CostPerThousand => Some(cost),
            Subject::MonthlyCost => Some(monthly),
            Subject::Metric(name) if name == question.metric => quality,
            Subject::Metric(_) => None,
        };
        let bounds_hold = question
            .sla
            .iter()
            .filter(|c| !matches!(c.subject, Subject::Metric(_)))
            .all(|c| within(&c.subject).is_some_and(|v| c.holds(v)));
        let all_hold = bounds_hold
            && question
                .sla
                .iter()
                .filter(|c| matches!(c.subject, Subject::Metric(_)))
                .all(|c| within(&c.subject).is_some_and(|v| c.holds(v)));
        if all_hold {
            let better = match &best {
                None => true,
                Some((best_cost, best_quality, best_p95, _)) => {
                    cost < *best_cost - 1e-12
                        || ((cost - best_cost).abs() <= 1e-12
                            && (is_better(quality, *best_quality, question.higher_is_better)
                                || (quality == *best_quality && p95 < *best_p95)))
                }
            };
            if better {
                best = Some((cost, quality, p95, picks()));
            }
        }
        if let (true, Some(q)) = (bounds_hold, quality) {
            let score = if question.higher_is_better { q } else { -q };
            let dominated = frontier
                .iter()
                .any(|(c, s, _)| *c <= cost && *s >= score && (*c < cost || *s > score));
            let duplicate = frontier.iter().any(|(c, s, _)| *c == cost && *s == score);
            if !dominated && !duplicate {
                frontier.retain(|(c, s, _)| !(cost <= *c && score >= *s));
                frontier.push((cost, score, picks()));
            }
        }
        // The next combination, the last stage turning fastest.
        let mut stage = stages.len();
        loop {
            if stage == 0 {
                frontier.sort_by(|a, b| a.0.total_cmp(&b.0));
                return Ok(Found {
                    best: best.map(|(.., picks)| combination(question, picks)),
                    frontier: frontier
                        .into_iter()
                        .map(|(.., picks)| combination(question, picks))
                        .collect(),
                    combinations,
                    searched,
                });
            }
            stage -= 1;
            odometer[stage] += 1;
            if odometer[stage] < kept[stage].len() {
                break;
            }
            odometer[stage] = 0;
        }
    }
}

fn is_better(a: Option<f64>, b: Option<f64>, higher_is_better: bool) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            if higher_is_better {
                a > b
            } else {
                a < b
            }
        }
        (Some(_), None) => true,
        _ => false,
    }
}

fn quality_of(question: &Question, picks: &[usize]) -> Option<f64> {
    question
        .measured
        .iter()
        .find(|(measured, _)| measured == picks)
        .map(|(_, quality)| *quality)
        .or_else(|| {
            let last = question.stages.last()?;
            last.candidates.get(*picks.last()?)?.quality
        })
}

/// The candidates of a stage no other beats: no costlier, no slower at p50 or p95, and (where
/// `by_quality`) no worse; of equals, the first. `named` ones are always kept.
fn prune(
    stage: &Stage,
    by_quality: bool,
    higher_is_better: bool,
    named: impl Fn(usize) -> bool,
) -> Vec<usize> {
    let c = &stage.candidates;
    let at_least_as_good = |a: usize, b: usize| {
        let quality_ok = !by_quality
            || match (c[a].quality, c[b].quality) {
                (Some(qa), Some(qb)) => {
                    if higher_is_better {
                        qa >= qb
                    } else {
                        qa <= qb
                    }
                }
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => true,
            };
        c[a].cost_per_1k <= c[b].cost_per_1k
            && c[a].p50_ms <= c[b].p50_ms
            && c[a].p95_ms <= c[b].p95_ms
            && quality_ok
    };
    (0..c.len())
        .filter(|&b| {
            named(b)
                || !(0..c.len())
                    .any(|a| a != b && at_least_as_good(a, b) && (!at_least_as_good(b, a) || a < b))
        })
        .collect()
}

/// A combination's figures, for the pages.
pub fn combination(question: &Question, picks: Vec<usize>) -> Combination {
    let stages = question.stages;
    let mut cost = 0.0;
    let mut moments = Moments::default();
    let mut bottleneck = (0, f64::NEG_INFINITY);
    for (index, (stage, &pick)) in stages.iter().zip(&picks).enumerate() {
        let candidate = &stage.candidates[pick];
        cost += stage.cost_per_request(candidate) * 1000.0;
        let part = Moments::stage(candidate.p50_ms, candidate.p95_ms, stage.share);
        if part.mean > bottleneck.1 {
            bottleneck = (index, part.mean);
        }
        moments = moments + part;
    }
    let (p50_ms, p95_ms) = moments.percentiles();
    let quality = quality_of(question, &picks);
    let monthly = cost * question.volume as f64 / 1000.0;
    let broken = question
        .sla
        .iter()
        .filter_map(|constraint| {
            let value = match &constraint.subject {
                Subject::P95LatencyMs => Some(p95_ms),
                Subject::CostPerThousand => Some(cost),
                Subject::MonthlyCost => Some(monthly),
                Subject::Metric(name) if name == question.metric => quality,
                Subject::Metric(_) => None,
            };
            match value {
                Some(v) if constraint.holds(v) => None,
                Some(v) => {
                    let rule = constraint.describe("");
                    let must = rule
                        .find(['≥', '≤'])
                        .map_or(rule.clone(), |at| rule[at..].trim_end().to_owned());
                    Some(format!(
                        "{} {} (must be {must})",
                        constraint.subject.label(),
                        crate::format::format_number(v)
                    ))
                }
                None => Some(format!("{} not measured", constraint.subject.label())),
            }
        })
        .collect();
    Combination {
        picks,
        cost_per_1k: cost,
        monthly,
        p50_ms,
        p95_ms,
        p95_upper_ms: moments.p95_sum,
        quality,
        bottleneck: bottleneck.0,
        broken,
    }
}

#[cfg(test)]
mod tests {
    use super::super::Candidate;
    use super::*;

    fn candidate(run: &str, cost: f64, p50: f64, p95: f64, quality: Option<f64>) -> Candidate {
        Candidate {
            run: run.into(),
            name: run.into(),
            cost_per_1k: cost,
            p50_ms: p50,
            p95_ms: p95,
            quality,
        }
    }

    fn sla(text: &str) -> Vec<Constraint> {
        crate::experiments::parse_constraints(text).expect("sla")
    }

    /// Retrieval once per request, then a ranker scoring 100 items for every request.
    fn recommender() -> Vec<Stage> {
        vec![
            Stage {
                name: "retrieval".into(),
                share: 1.0,
                fan_out: 1.0,
                candidates: vec![
                    candidate("ann-small", 0.02, 8.0, 15.0, None),
                    candidate("ann-large", 0.05, 5.0, 9.0, None),
                    // Dearer and slower than ann-small: never chosen.
                    candidate("brute", 0.08, 30.0, 60.0, None),
                ],
            },
            Stage {
                name: "ranker".into(),
                share: 1.0,
                fan_out: 100.0,
                candidates: vec![
                    candidate("gbt", 0.001, 5.0, 10.0, Some(0.41)),
                    candidate("dnn", 0.003, 20.0, 45.0, Some(0.45)),
                    candidate("xl", 0.010, 60.0, 140.0, Some(0.47)),
                ],
            },
        ]
    }

    fn question<'a>(stages: &'a [Stage], sla: &'a [Constraint]) -> Question<'a> {
        Question {
            stages,
            sla,
            metric: "ndcg@10",
            higher_is_better: true,
            volume: 10_000_000,
            measured: &[],
        }
    }

    #[test]
    fn the_cheapest_combination_that_meets_the_sla() {
        let stages = recommender();
        let sla = sla("p95 <= 80 ms\nndcg@10 >= 0.44");
        let found = search(&question(&stages, &sla)).expect("search");
        assert_eq!(found.combinations, 9);
        // brute is pruned: 2 x 3 searched.
        assert_eq!(found.searched, 6);
        let best = found.best.expect("a combination meets it");
        // ann-small + dnn: 0.02 + 100 x 0.003 = 0.32 per 1,000 requests; xl is too slow.
        assert_eq!(best.picks, [0, 1]);
        assert!((best.cost_per_1k - 0.32).abs() < 1e-9);
        assert!((best.monthly - 3200.0).abs() < 1e-6);
        assert!(
            best.p95_ms < best.p95_upper_ms && best.p95_ms <= 80.0,
            "{best:?}"
        );
        assert_eq!(best.bottleneck, 1, "the ranker takes most of the time");
        assert!(best.broken.is_empty());
        // The frontier within the latency bound: gbt (cheapest) then dnn; xl breaks the p95.
        let frontier: Vec<Vec<usize>> = found.frontier.iter().map(|c| c.picks.clone()).collect();
        assert_eq!(frontier, [vec![0, 0], vec![0, 1]]);
    }

    #[test]
    fn nothing_meets_an_impossible_sla_and_each_combination_says_why() {
        let stages = recommender();
        let sla = sla("p95 <= 10 ms");
        let found = search(&question(&stages, &sla)).expect("search");
        assert_eq!(found.best, None);
        assert!(found.frontier.is_empty());
        let cheapest = combination(&question(&stages, &sla), vec![0, 0]);
        assert!(
            cheapest.broken[0].starts_with("p95 latency "),
            "{:?}",
            cheapest.broken
        );
    }

    #[test]
    fn a_pipeline_level_run_wins_over_the_last_stages_quality() {
        let stages = recommender();
        let sla = sla("ndcg@10 >= 0.44");
        // Measured end to end, brute retrieval with the cheap ranker reaches 0.46.
        let measured = vec![(vec![2, 0], 0.46)];
        let q = Question {
            measured: &measured,
            ..question(&stages, &sla)
        };
        let found = search(&q).expect("search");
        assert_eq!(found.searched, 9, "brute is named, so kept");
        let best = found.best.expect("best");
        // brute + gbt: 0.08 + 0.1 = 0.18, cheaper than ann-small + dnn (0.32).
        assert_eq!(best.picks, [2, 0]);
        assert_eq!(best.quality, Some(0.46));
    }

    #[test]
    fn a_stage_few_requests_reach_costs_its_share() {
        let stages = vec![
            Stage {
                name: "model".into(),
                share: 1.0,
                fan_out: 1.0,
                candidates: vec![candidate("small", 0.10, 10.0, 20.0, Some(0.9))],
            },
            Stage {
                name: "fallback".into(),
                share: 0.1,
                fan_out: 1.0,
                candidates: vec![candidate("large", 2.00, 100.0, 200.0, Some(0.95))],
            },
        ];
        let found = search(&question(&stages, &[])).expect("search");
        let best = found.best.expect("best");
        // 0.10 + 10% of 2.00.
        assert!((best.cost_per_1k - 0.30).abs() < 1e-9);
        assert!(best.p95_ms < 220.0);
    }

    #[test]
    fn four_stages_of_thirty_are_searched_exactly() {
        let stages: Vec<Stage> = (0..4)
            .map(|s| Stage {
                name: format!("stage {s}"),
                share: 1.0,
                fan_out: 1.0,
                // Cost falls as latency rises and quality with it: none dominates another.
                candidates: (0..30)
                    .map(|i| {
                        let i = f64::from(i);
                        candidate(
                            &format!("s{s}-{i}"),
                            1.0 / (1.0 + i),
                            5.0 + i,
                            10.0 + 2.0 * i,
                            Some(0.5 + i / 100.0),
                        )
                    })
                    .collect(),
            })
            .collect();
        let sla = sla("p95 <= 120 ms\nndcg@10 >= 0.6");
        let found = search(&question(&stages, &sla)).expect("search");
        assert_eq!(found.combinations, 810_000);
        let best = found.best.expect("best");
        assert!(best.p95_ms <= 120.0 && best.quality.unwrap_or_default() >= 0.6);
        // Checked against every combination by brute force on the same formula (quality 0.6 or
        // more is the last stage's tenth candidate on).
        let mut cheapest = f64::INFINITY;
        let part = |s: usize, i: usize| {
            let c = &stages[s].candidates[i];
            (c.cost_per_1k, Moments::stage(c.p50_ms, c.p95_ms, 1.0))
        };
        for a in 0..30 {
            for b in 0..30 {
                for c in 0..30 {
                    for d in 10..30 {
                        let (cost, moments) = [part(0, a), part(1, b), part(2, c), part(3, d)]
                            .into_iter()
                            .fold((0.0, Moments::default()), |(cost, m), (c, p)| {
                                (cost + c, m + p)
                            });
                        if moments.percentiles().1 <= 120.0 {
                            cheapest = cheapest.min(cost);
                        }
                    }
                }
            }
        }
        assert!((best.cost_per_1k - cheapest).abs() < 1e-12);
    }

    proptest::proptest! {
        /// No combination on the frontier is beaten on both cost and quality by any other, every
        /// combination tried one by one.
        #[test]
        fn no_frontier_combination_is_dominated(
            stages in proptest::collection::vec(
                proptest::collection::vec(
                    (0.01f64..5.0, 1.0f64..80.0, 1.0f64..3.0, 0.30f64..0.60),
                    1..5,
                ),
                1..4,
            ),
            share in 0.1f64..1.0,
        ) {
            let stages: Vec<Stage> = stages
                .iter()
                .enumerate()
                .map(|(s, candidates)| Stage {
                    name: format!("stage {s}"),
                    share: if s == 0 { 1.0 } else { share },
                    fan_out: 1.0 + s as f64 * 10.0,
                    candidates: candidates
                        .iter()
                        .enumerate()
                        .map(|(c, (cost, p50, spread, quality))| Candidate {
                            run: format!("s{s}c{c}"),
                            name: format!("s{s}c{c}"),
                            cost_per_1k: *cost,
                            p50_ms: *p50,
                            p95_ms: p50 * spread,
                            quality: Some(*quality),
                        })
                        .collect(),
                })
                .collect();
            let question = Question {
                stages: &stages,
                sla: &[],
                metric: "ndcg",
                higher_is_better: true,
                volume: 1_000_000,
                measured: &[],
            };
            let found = search(&question).expect("searched");
            let mut every = vec![Vec::new()];
            for stage in &stages {
                every = every
                    .into_iter()
                    .flat_map(|picks: Vec<usize>| {
                        (0..stage.candidates.len()).map(move |c| {
                            let mut more = picks.clone();
                            more.push(c);
                            more
                        })
                    })
                    .collect();
            }
            let all: Vec<Combination> =
                every.into_iter().map(|picks| combination(&question, picks)).collect();
            for kept in &found.frontier {
                let q = kept.quality.unwrap_or_default();
                for other in &all {
                    let o = other.quality.unwrap_or_default();
                    let beaten = other.cost_per_1k <= kept.cost_per_1k - 1e-12 && o >= q
                        || other.cost_per_1k <= kept.cost_per_1k && o > q + 1e-12;
                    proptest::prop_assert!(
                        !beaten,
                        "{:?} is beaten by {:?}",
                        kept.picks,
                        other.picks
                    );
                }
            }
            proptest::prop_assert!(!found.frontier.is_empty());
        }
    }
}
