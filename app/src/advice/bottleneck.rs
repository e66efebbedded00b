//! What holds a deployment back, from its GPUs' busy time and memory: compute-bound (busy most of
//! the time), memory-bound (memory nearly full while compute idles: batches are as large as memory
//! allows) or mostly waiting (little of either), and what that implies. A deployment mostly waiting
//! on a card larger than it needs is advised onto the cheapest card in the catalog whose memory
//! holds its peak with room and whose compute, taken in proportion to its price, keeps it under the
//! busiest a GPU may be; one whose work is light enough, onto a CPU machine type the fleet already
//! serves from, taken to compute `CPU_SLOWDOWN` times slower than the GPU.

use serde::{Deserialize, Serialize};

/// Busy share at or above which a deployment is compute-bound.
pub const COMPUTE_BOUND: f64 = 0.7;
/// Busy share under which a deployment is mostly waiting.
pub const WAITING: f64 = 0.3;
/// Share of the card's memory at or above which a deployment is memory-bound.
pub const MEMORY_BOUND: f64 = 0.9;
/// Room kept above the peak memory on a cheaper card.
pub const MEMORY_ROOM: f64 = 1.2;
/// How many times longer a CPU machine is taken to compute what a GPU does: model inference on a
/// many-core CPU runs roughly 10 to 30 times slower than on a data-centre GPU.
pub const CPU_SLOWDOWN: f64 = 20.0;
/// The most GPU memory a model moved to a CPU machine may use: it fits a 16 GiB machine with room
/// for the rest of the server.
pub const CPU_MODEL_GIB: f64 = 8.0;

/// What holds one deployment back, and what that implies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Diagnosis {
    pub deployment: String,
    pub bound: Bound,
    /// Busy GPU-time over GPU-time held, in percent.
    pub busy_pct: f64,
    /// Its peak memory against the card's, in percent, where the card's memory is known.
    pub memory_pct: Option<f64>,
    /// What it implies, in a sentence or two.
    pub implication: String,
}

/// What holds it back and what that implies, from its busy share, its peak memory's share of the
/// card and, where both are known, its measured p95 against its target.
pub fn diagnose(
    deployment: &str,
    busy: f64,
    memory_share: Option<f64>,
    p95: Option<(f64, f64)>,
) -> Diagnosis {
    let bound = classify(busy, memory_share);
    let implication = match bound {
        Bound::Compute => {
            let room = match p95 {
                Some((measured, target)) if measured * 2.0 <= target => format!(
                    " Its p95 of {measured:.0} ms is under half its {target:.0} ms target: there is room to batch more."
                ),
                Some((measured, target)) => format!(
                    " Its p95 of {measured:.0} ms is close to its {target:.0} ms target: more GPUs, not larger batches."
                ),
                None => String::new(),
            };
            format!(
                "Its GPUs compute {:.0}% of the time they are held: fewer would queue requests. Larger batches share each pass over the weights, and a faster card computes more per hour.{room}",
                busy * 100.0
            )
        }
        Bound::Memory => format!(
            "Its memory is nearly full while compute is {:.0}% used: batches are as large as memory allows. Weights in int8 (half of fp16) or a card with more memory let batches grow, so each GPU serves more.",
            busy * 100.0
        ),
        Bound::Waiting => format!(
            "Its GPUs compute {:.0}% of the time they are held and wait the rest: a card with only the memory it needs, a CPU machine for work this light, or fewer GPUs (its advice says which pays).",
            busy * 100.0
        ),
        Bound::Balanced => "Neither compute, memory nor waiting holds it back: its GPUs do what its traffic asks.".into(),
    };
    Diagnosis {
        deployment: deployment.to_owned(),
        bound,
        busy_pct: busy * 100.0,
        memory_pct: memory_share.map(|m| m * 100.0),
        implication,
    }
}

/// CPU machine-hours that would do the work of `hours` ((busy GPU-hours, serving), one per
/// measured hour): each serving hour needs its busy GPU-hours × `CPU_SLOWDOWN` ÷ `max_utilization`
/// machines, rounded up, and at least one. None when an hour would need more machines than GPUs
/// could be replaced sensibly (over `max_machines`).
pub fn cpu_machine_hours(
    hours: &[(f64, bool)],
    max_utilization: f64,
    max_machines: u32,
) -> Option<f64> {
    let mut total = 0.0;
    for (busy, serving) in hours {
        if !serving {
            continue;
        }
        let machines = (busy * CPU_SLOWDOWN / max_utilization.max(0.01) - 1e-9)
            .ceil()
            .max(1.0);
        if machines > f64::from(max_machines) {
            return None;
        }
        total += machines;
    }
    Some(total)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Bound {
    Compute,
    Memory,
    Waiting,
    /// Between the three: neither busy nor full nor idle enough to say.
    Balanced,
}

impl Bound {
    pub fn label(self) -> &'static str {
        match self {
            Bound::Compute => "compute-bound",
            Bound::Memory => "memory-bound",
            Bound::Waiting => "mostly waiting",
            Bound::Balanced => "balanced",
        }
    }
}

/// The card's memory in GiB, from its name as GPUs report it ("NVIDIA H100 80GB HBM3",
/// "NVIDIA A100-SXM4-40GB") or, for cards whose name does not say it, what the vendor publishes.
pub fn card_memory_gib(gpu_model: &str) -> Option<f64> {
    let upper = gpu_model.to_ascii_uppercase();
    if upper.contains("MIG") || upper.contains("::") {
        return None;
    }
    let stated = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|word| word.strip_suffix("GB")?.parse::<f64>().ok());
    if stated.is_some() {
        return stated;
    }
    let known = [
        ("L40S", 48.0),
        ("L40", 48.0),
        ("L4", 24.0),
        ("A10G", 24.0),
        ("A10", 24.0),
        ("T4", 16.0),
        ("H200", 141.0),
        ("H100", 80.0),
    ];
    let words: Vec<&str> = upper.split(|c: char| !c.is_ascii_alphanumeric()).collect();
    known
        .iter()
        .find(|(name, _)| words.contains(name))
        .map(|(_, gib)| *gib)
}

/// What holds it back, from its busy share and its peak memory's share of the card.
pub fn classify(busy: f64, memory_share: Option<f64>) -> Bound {
    if busy >= COMPUTE_BOUND {
        Bound::Compute
    } else if memory_share.is_some_and(|m| m >= MEMORY_BOUND) {
        Bound::Memory
    } else if busy < WAITING {
        Bound::Waiting
    } else {
        Bound::Balanced
    }
}

/// The cheapest card of `catalog` ((model, price per GPU-hour)) cheaper than `current_price` whose
/// memory holds `peak_gib` with room and which, taken to compute in proportion to its price, would
/// be at most `max_utilization` busy with the work that kept the current card `busy_share` busy.
/// The current card is never its own answer.
pub fn cheaper_card<'a>(
    current: &str,
    current_price: f64,
    peak_gib: f64,
    busy_share: f64,
    max_utilization: f64,
    catalog: &'a [(String, f64)],
) -> Option<&'a (String, f64)> {
    catalog
        .iter()
        .filter(|(model, price)| {
            model != current
                && *price > 0.0
                && *price < current_price
                && busy_share * current_price / price <= max_utilization
                && card_memory_gib(model).is_some_and(|gib| gib >= peak_gib * MEMORY_ROOM)
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_memory_from_the_name_or_the_vendor() {
        assert_eq!(card_memory_gib("NVIDIA H100 80GB HBM3"), Some(80.0));
        assert_eq!(card_memory_gib("NVIDIA A100-SXM4-40GB"), Some(40.0));
        assert_eq!(card_memory_gib("NVIDIA L4"), Some(24.0));
        assert_eq!(card_memory_gib("Tesla T4"), Some(16.0));
        assert_eq!(card_memory_gib("NVIDIA L40S"), Some(48.0));
        assert_eq!(card_memory_gib("NVIDIA H100 80GB HBM3 MIG 3g.40gb"), None);
        assert_eq!(card_memory_gib("c7i.2xlarge"), None);
    }

    #[test]
    fn busy_full_or_waiting() {
        assert_eq!(classify(0.85, Some(0.5)), Bound::Compute);
        assert_eq!(classify(0.4, Some(0.95)), Bound::Memory);
        assert_eq!(classify(0.15, Some(0.3)), Bound::Waiting);
        assert_eq!(classify(0.5, Some(0.5)), Bound::Balanced);
        assert_eq!(classify(0.15, None), Bound::Waiting);
    }

    #[test]
    fn each_bound_says_what_it_implies() {
        let compute = diagnose("ranker", 0.85, Some(0.5), Some((40.0, 150.0)));
        assert_eq!(compute.bound, Bound::Compute);
        assert!(
            compute.implication.contains("room to batch more"),
            "{compute:?}"
        );
        let tight = diagnose("ranker", 0.85, Some(0.5), Some((120.0, 150.0)));
        assert!(tight.implication.contains("more GPUs, not larger batches"));
        let memory = diagnose("chat", 0.4, Some(0.95), None);
        assert!(memory.implication.contains("int8"), "{memory:?}");
        assert_eq!(memory.memory_pct, Some(95.0));
        let waiting = diagnose("canary", 0.05, Some(0.1), None);
        assert!(waiting.implication.contains("CPU machine"));
    }

    #[test]
    fn a_cpu_machine_computes_twenty_times_slower() {
        // 0.02 busy GPU-hours take 0.4 machine-hours: one machine at 80%. 0.05 take 1.0: two.
        let hours = [(0.02, true), (0.05, true), (0.0, false)];
        assert_eq!(cpu_machine_hours(&hours, 0.8, 4), Some(3.0));
        // An hour needing more machines than allowed: no CPU advice.
        assert_eq!(cpu_machine_hours(&[(0.5, true)], 0.8, 4), None);
    }

    #[test]
    fn the_cheapest_card_that_holds_the_peak_with_room() {
        let catalog = vec![
            ("NVIDIA H100 80GB HBM3".to_owned(), 4.0),
            ("NVIDIA A100-SXM4-80GB".to_owned(), 2.5),
            ("NVIDIA L4".to_owned(), 0.8),
        ];
        // 30 GiB at peak needs 36 with room: not the L4's 24.
        let found = cheaper_card("NVIDIA H100 80GB HBM3", 4.0, 30.0, 0.1, 0.8, &catalog);
        assert_eq!(found.map(|c| c.0.as_str()), Some("NVIDIA A100-SXM4-80GB"));
        // 12 GiB fits the L4, and 10% of an H100 is 50% of a card a fifth of its price.
        let found = cheaper_card("NVIDIA H100 80GB HBM3", 4.0, 12.0, 0.1, 0.8, &catalog);
        assert_eq!(found.map(|c| c.0.as_str()), Some("NVIDIA L4"));
        // 20% of an H100 would be 100% of the L4: the A100 (32%) instead.
        let found = cheaper_card("NVIDIA H100 80GB HBM3", 4.0, 12.0, 0.2, 0.8, &catalog);
        assert_eq!(found.map(|c| c.0.as_str()), Some("NVIDIA A100-SXM4-80GB"));
        // Nothing cheaper than the L4.
        assert_eq!(
            cheaper_card("NVIDIA L4", 0.8, 5.0, 0.1, 0.8, &catalog),
            None
        );
    }
}
