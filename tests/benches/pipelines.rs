//! `make bench`: the pipeline search for 4 stages of 30 candidates (810,000 combinations), none
//! dominated so nothing is pruned, against a baseline in the same run: one pass over every
//! combination that only adds up its cost, the least any exhaustive search does.

use std::hint::black_box;
use std::time::{Duration, Instant};

use app::pipelines::search::{search, Question};
use app::pipelines::{Candidate, Stage};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
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
