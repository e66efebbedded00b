//! `make bench`: the pipeline search for 4 stages of 30 candidates (810,000 combinations), none
//! dominated so nothing is pruned, against a baseline in the same run: one pass over every
//! combination that only adds up its cost, the least any exhaustive search does. Then the budget
//! portfolio: the exact choice over 8 experiments of 5 candidates beside brute force over all
//! 390,625 portfolios (the same answer, checked), and over 20 experiments, where brute force
//! (5^20 portfolios) cannot run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use app::pipelines::portfolio::{choose, Choice, Item};
use app::pipelines::search::{search, Question};
use app::pipelines::{Candidate, Stage};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    pipeline_search();
    portfolio();
}

/// `n` experiments of `k` candidates each: cost rising with quality by uneven steps, values of a
/// point that differ, so few portfolios tie.
fn portfolio_items(n: usize, k: usize) -> Vec<Item> {
    let mut seed = 0x2545_f491_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as f64 / f64::from(u32::MAX >> 1)
    };
    (0..n)
        .map(|e| {
            let (mut monthly, mut quality) = (200.0 + 800.0 * next(), 0.80 + 0.05 * next());
            let choices = (0..k)
                .map(|c| {
                    monthly += 150.0 + 900.0 * next();
                    quality += 0.002 + 0.012 * next();
                    Choice {
                        run: format!("e{e}-c{c}"),
                        name: format!("e{e}-c{c}"),
                        monthly,
                        quality,
                    }
                })
                .collect();
            Item {
                name: format!("experiment {e}"),
                metric: "F1".into(),
                higher_is_better: true,
                choices,
                recommended: 0,
                point_value: 50.0 + 1500.0 * next(),
            }
        })
        .collect()
}

/// The budget halfway between every experiment's cheapest and every one's dearest.
fn halfway(items: &[Item]) -> f64 {
    let (low, high) = items.iter().fold((0.0, 0.0), |(low, high), item| {
        (
            low + item.choices[0].monthly,
            high + item.choices[item.choices.len() - 1].monthly,
        )
    });
    (low + high) / 2.0
}

/// The best value within the budget by trying every portfolio.
fn brute_force(items: &[Item], budget: f64) -> f64 {
    let k = items[0].choices.len();
    let total = k.pow(items.len() as u32);
    let mut best = f64::NEG_INFINITY;
    for mut code in 0..total {
        let (mut monthly, mut value) = (0.0, 0.0);
        for item in items {
            let pick = code % k;
            code /= k;
            monthly += item.choices[pick].monthly;
            value += item.value(pick);
        }
        if monthly <= budget && value > best {
            best = value;
        }
    }
    best
}

fn portfolio() {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let small = portfolio_items(8, 5);
    let budget = halfway(&small);
    let (mut brute, mut exact) = (Vec::new(), Vec::new());
    for round in 0..15 {
        let started = Instant::now();
        let best = brute_force(black_box(&small), budget);
        let brute_time = started.elapsed();
        let started = Instant::now();
        let found = choose(black_box(&small), budget, "USD").expect("a portfolio fits");
        let exact_time = started.elapsed();
        assert!(
            (found.value - best).abs() < 1e-6,
            "the exact choice ({}) must match brute force ({best})",
            found.value
        );
        if round >= 5 {
            brute.push(brute_time);
            exact.push(exact_time);
        }
    }
    brute.sort();
    exact.sort();
    println!("
budget portfolio, 8 experiments of 5 candidates (390,625 portfolios; 10 rounds after 5 warm-up rounds)");
    println!(
        "  brute force: every portfolio                p50 {:8.2} ms   p95 {:8.2} ms",
        ms(percentile(&brute, 0.5)),
        ms(percentile(&brute, 0.95))
    );
    println!(
        "  exact choice (the same answer, checked)     p50 {:8.2} ms   p95 {:8.2} ms",
        ms(percentile(&exact, 0.5)),
        ms(percentile(&exact, 0.95))
    );
    let large = portfolio_items(20, 5);
    let budget = halfway(&large);
    let mut times = Vec::new();
    let mut value = 0.0;
    for round in 0..25 {
        let started = Instant::now();
        let found = choose(black_box(&large), budget, "USD").expect("a portfolio fits");
        if round >= 5 {
            times.push(started.elapsed());
        }
        assert!(found.monthly <= budget + 1e-6, "within the budget");
        value = found.value;
    }
    times.sort();
    println!(
        "budget portfolio, 20 experiments of 5 candidates (5^20 portfolios, brute force out of reach; value {value:.0} a month)"
    );
    println!(
        "  exact choice                                p50 {:8.2} ms   p95 {:8.2} ms",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.95))
    );
}

fn pipeline_search() {
    // Cost falls as latency rises and quality with it: no candidate beats another.
    let stages: Vec<Stage> = (0..4)
        .map(|s| Stage {
            name: format!("stage {s}"),
            share: if s == 3 { 0.2 } else { 1.0 },
            fan_out: if s == 2 { 100.0 } else { 1.0 },
            candidates: (0..30)
                .map(|i| {
                    let i = f64::from(i);
                    Candidate {
                        run: format!("s{s}-{i}"),
                        name: format!("s{s}-{i}"),
                        cost_per_1k: 1.0 / (1.0 + i),
                        p50_ms: 5.0 + i,
                        p95_ms: 10.0 + 2.0 * i,
                        quality: Some(0.5 + i / 100.0),
                    }
                })
                .collect(),
        })
        .collect();
    let sla = app::experiments::parse_constraints("p95 <= 120 ms\nndcg >= 0.6").expect("sla");
    let question = Question {
        stages: &stages,
        sla: &sla,
        metric: "ndcg",
        higher_is_better: true,
        volume: 10_000_000,
        measured: &[],
    };
    let (mut searched, mut baseline) = (Vec::new(), Vec::new());
    let mut found = None;
    for round in 0..25 {
        let started = Instant::now();
        let mut cheapest = f64::INFINITY;
        for a in &stages[0].candidates {
            for b in &stages[1].candidates {
                for c in &stages[2].candidates {
                    for d in &stages[3].candidates {
                        let cost = black_box(a.cost_per_1k)
                            + b.cost_per_1k
                            + c.cost_per_1k * 100.0
                            + d.cost_per_1k * 0.2;
                        cheapest = cheapest.min(cost);
                    }
                }
            }
        }
        black_box(cheapest);
        let baseline_time = started.elapsed();

        let started = Instant::now();
        let answer = search(black_box(&question)).expect("search");
        let search_time = started.elapsed();
        if round >= 5 {
            baseline.push(baseline_time);
            searched.push(search_time);
        }
        found = Some(answer);
    }
    searched.sort();
    baseline.sort();
    let found = found.expect("rounds ran");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "\npipeline search, 4 stages of 30 candidates ({} combinations, {} searched; frontier of {}; 20 rounds after 5 warm-up rounds)",
        found.combinations,
        found.searched,
        found.frontier.len()
    );
    println!(
        "  baseline: add up every combination's cost  p50 {:6.1} ms   p95 {:6.1} ms",
        ms(percentile(&baseline, 0.5)),
        ms(percentile(&baseline, 0.95))
    );
    println!(
        "  search: cost, latency, SLA, frontier       p50 {:6.1} ms   p95 {:6.1} ms",
        ms(percentile(&searched, 0.5)),
        ms(percentile(&searched, 0.95))
    );
}
