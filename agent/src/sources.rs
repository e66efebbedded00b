//! Where readings come from: nvidia-smi or a DCGM exporter for the GPUs, and each inference
//! server's Prometheus page for requests and latency.

use anyhow::{anyhow, bail, Context};
use prometheus_parse::{HistogramCount, Scrape, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

#[derive(Clone, Debug, PartialEq)]
pub struct GpuReading {
    pub index: u32,
    pub uuid: String,
    pub model: String,
    pub utilization_pct: f64,
    pub memory_used_mib: f64,
    pub power_watts: f64,
}

pub const NVIDIA_SMI_QUERY: &str =
    "--query-gpu=index,uuid,name,utilization.gpu,memory.used,power.draw";

/// A number, or 0 for the placeholders nvidia-smi prints when a GPU cannot report one.
fn reading(field: &str, line: usize, what: &str) -> anyhow::Result<f64> {
    let field = field.trim();
    if field.starts_with('[') || field.eq_ignore_ascii_case("n/a") {
        return Ok(0.0);
    }
    field
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| anyhow!("nvidia-smi line {line}: {what} `{field}` is not a number"))
}

/// Parses `nvidia-smi --query-gpu=index,uuid,name,utilization.gpu,memory.used,power.draw
/// --format=csv,noheader,nounits`.
pub fn parse_nvidia_smi(output: &str) -> anyhow::Result<Vec<GpuReading>> {
    let mut gpus = Vec::new();
    for (number, line) in output.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [index, uuid, name, utilization, memory, power] = fields.as_slice() else {
            bail!("nvidia-smi line {number}: expected 6 fields (index, uuid, name, utilization, memory, power), got {}", fields.len());
        };
        gpus.push(GpuReading {
            index: index.parse().map_err(|_| {
                anyhow!("nvidia-smi line {number}: index `{index}` is not a number")
            })?,
            uuid: (*uuid).to_owned(),
            model: (*name).to_owned(),
            utilization_pct: reading(utilization, number, "utilization")?.min(100.0),
            memory_used_mib: reading(memory, number, "memory")?,
            power_watts: reading(power, number, "power")?,
        });
    }
    Ok(gpus)
}

pub async fn run_nvidia_smi(path: &Path) -> anyhow::Result<Vec<GpuReading>> {
    let output = tokio::process::Command::new(path)
        .args([NVIDIA_SMI_QUERY, "--format=csv,noheader,nounits"])
        .output()
        .await
        .with_context(|| format!("cannot run {}", path.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed ({}): {}",
            path.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    parse_nvidia_smi(&String::from_utf8_lossy(&output.stdout))
}

fn scrape(text: &str) -> anyhow::Result<Scrape> {
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
        .context("the metrics page is not Prometheus text")
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => Some(*v),
        _ => None,
    }
}

/// Reads a DCGM exporter page: utilization, framebuffer memory and power per GPU.
pub fn parse_dcgm(text: &str) -> anyhow::Result<Vec<GpuReading>> {
    let scrape = scrape(text)?;
    let mut gpus: BTreeMap<u32, GpuReading> = BTreeMap::new();
    for sample in &scrape.samples {
        let field = match sample.metric.as_str() {
            "DCGM_FI_DEV_GPU_UTIL" | "DCGM_FI_DEV_FB_USED" | "DCGM_FI_DEV_POWER_USAGE" => {
                sample.metric.as_str()
            }
            _ => continue,
        };
        let Some(index) = sample.labels.get("gpu").and_then(|g| g.parse::<u32>().ok()) else {
            continue;
        };
        let Some(value) = number(&sample.value) else {
            continue;
        };
        let gpu = gpus.entry(index).or_insert_with(|| GpuReading {
            index,
            uuid: sample.labels.get("UUID").unwrap_or_default().to_owned(),
            model: sample
                .labels
                .get("modelName")
                .unwrap_or_default()
                .to_owned(),
            utilization_pct: 0.0,
            memory_used_mib: 0.0,
            power_watts: 0.0,
        });
        match field {
            "DCGM_FI_DEV_GPU_UTIL" => gpu.utilization_pct = value.clamp(0.0, 100.0),
            "DCGM_FI_DEV_FB_USED" => gpu.memory_used_mib = value.max(0.0),
            _ => gpu.power_watts = value.max(0.0),
        }
    }
    if gpus.is_empty() {
        bail!("the DCGM page has no DCGM_FI_DEV_GPU_UTIL, DCGM_FI_DEV_FB_USED or DCGM_FI_DEV_POWER_USAGE with a gpu label");
    }
    Ok(gpus.into_values().collect())
}

/// The DCGM page's host name label, when it has one.
pub fn dcgm_hostname(text: &str) -> Option<String> {
    let scrape = scrape(text).ok()?;
    scrape.samples.iter().find_map(|s| {
        s.labels
            .get("Hostname")
            .or_else(|| s.labels.get("hostname"))
            .map(str::to_owned)
    })
}

/// What an inference server's counters said at one scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    pub requests: f64,
    /// Cumulative latency histogram buckets (upper bound, count), when the metric is a histogram.
    pub buckets: Vec<(f64, f64)>,
    /// Latency quantiles (q, value) when the metric is a summary.
    pub quantiles: Vec<(f64, f64)>,
}

/// Reads the request counter (summed over all label sets) and the latency metric.
pub fn parse_inference(
    text: &str,
    requests_metric: &str,
    latency_metric: Option<&str>,
) -> anyhow::Result<Counters> {
    let scrape = scrape(text)?;
    let mut counters = Counters::default();
    let mut found = false;
    let mut buckets: BTreeMap<u64, f64> = BTreeMap::new();
    for sample in &scrape.samples {
        if sample.metric == requests_metric
            || sample.metric == requests_metric.trim_end_matches("_total")
        {
            if let Some(v) = number(&sample.value) {
                counters.requests += v;
                found = true;
            }
        }
        if Some(sample.metric.as_str()) == latency_metric {
            match &sample.value {
                Value::Histogram(counts) => {
                    for HistogramCount { less_than, count } in counts {
                        *buckets.entry(less_than.to_bits()).or_default() += count;
                    }
                }
                Value::Summary(quantiles) => {
                    counters.quantiles = quantiles.iter().map(|q| (q.quantile, q.count)).collect();
                }
                _ => {}
            }
        }
    }
    if !found {
        bail!("the metrics page has no `{requests_metric}` counter");
    }
    counters.buckets = buckets
        .into_iter()
        .map(|(bits, count)| (f64::from_bits(bits), count))
        .collect();
    counters.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(counters)
}

/// The increase of a counter between two scrapes; a smaller value means the server restarted
/// and its counter began again from zero.
pub fn counter_delta(previous: f64, current: f64) -> f64 {
    if current >= previous {
        current - previous
    } else {
        current
    }
}

/// A quantile of the requests between two scrapes of a cumulative histogram, interpolated
/// linearly inside its bucket (as Prometheus' histogram_quantile does).
pub fn histogram_quantile(previous: &[(f64, f64)], current: &[(f64, f64)], q: f64) -> Option<f64> {
    let before: HashMap<u64, f64> = previous.iter().map(|(le, c)| (le.to_bits(), *c)).collect();
    let reset = current
        .iter()
        .any(|(le, c)| before.get(&le.to_bits()).is_some_and(|b| c < b));
    let deltas: Vec<(f64, f64)> = current
        .iter()
        .map(|(le, c)| {
            let base = if reset {
                0.0
            } else {
                before.get(&le.to_bits()).copied().unwrap_or(0.0)
            };
            (*le, c - base)
        })
        .collect();
    let total = deltas.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let mut lower_bound = 0.0;
    let mut lower_count = 0.0;
    for (le, count) in deltas {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower_bound);
            }
            let in_bucket = count - lower_count;
            let fraction = if in_bucket > 0.0 {
                (rank - lower_count) / in_bucket
            } else {
                1.0
            };
            return Some(lower_bound + (le - lower_bound) * fraction);
        }
        lower_bound = le;
        lower_count = count;
    }
    Some(lower_bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_output_parses_and_tolerates_placeholders() {
        let output = "0, GPU-8a1c, NVIDIA H100 80GB HBM3, 87, 40213, 612.30\n\
                      1, GPU-77b2, NVIDIA H100 80GB HBM3, [N/A], 1024, [Not Supported]\n\n";
        let gpus = parse_nvidia_smi(output).expect("parses");
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].model, "NVIDIA H100 80GB HBM3");
        assert_eq!(gpus[0].power_watts, 612.3);
        assert_eq!(gpus[1].utilization_pct, 0.0);
        assert_eq!(gpus[1].power_watts, 0.0);
        let error = parse_nvidia_smi("0, GPU-1, H100, 50").expect_err("short line");
        assert!(
            error.to_string().contains("line 1: expected 6 fields"),
            "{error}"
        );
        assert!(parse_nvidia_smi("0, GPU-1, H100, lots, 1, 1").is_err());
    }

    #[test]
    fn dcgm_pages_parse_per_gpu() {
        let page = r#"# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-8a",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",Hostname="node-3"} 71
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-8b",device="nvidia1",modelName="NVIDIA A100-SXM4-80GB",Hostname="node-3"} 3
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-8a",modelName="NVIDIA A100-SXM4-80GB",Hostname="node-3"} 30000
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-8a",modelName="NVIDIA A100-SXM4-80GB",Hostname="node-3"} 250.5
"#;
        let gpus = parse_dcgm(page).expect("parses");
        assert_eq!(gpus.len(), 2);
        assert_eq!(gpus[0].uuid, "GPU-8a");
        assert_eq!(gpus[0].utilization_pct, 71.0);
        assert_eq!(gpus[0].memory_used_mib, 30000.0);
        assert_eq!(gpus[0].power_watts, 250.5);
        assert_eq!(gpus[1].utilization_pct, 3.0);
        assert_eq!(dcgm_hostname(page).as_deref(), Some("node-3"));
        assert!(parse_dcgm("up 1").is_err());
    }

    #[test]
    fn counters_turn_into_deltas_across_restarts() {
        assert_eq!(counter_delta(100.0, 150.0), 50.0);
        assert_eq!(counter_delta(100.0, 30.0), 30.0, "a reset counts from zero");
    }

    #[test]
    fn inference_pages_give_requests_and_latency() {
        let page = r#"# TYPE http_requests_total counter
http_requests_total{code="200"} 900
http_requests_total{code="500"} 100
# TYPE request_latency_seconds histogram
request_latency_seconds_bucket{le="0.01"} 500
request_latency_seconds_bucket{le="0.05"} 900
request_latency_seconds_bucket{le="0.1"} 990
request_latency_seconds_bucket{le="+Inf"} 1000
request_latency_seconds_sum 20
request_latency_seconds_count 1000
"#;
        let counters =
            parse_inference(page, "http_requests_total", Some("request_latency_seconds"))
                .expect("parses");
        assert_eq!(counters.requests, 1000.0);
        assert_eq!(counters.buckets.len(), 4);
        let p50 = histogram_quantile(&[], &counters.buckets, 0.5).expect("p50");
        assert!((p50 - 0.01).abs() < 1e-9, "{p50}");
        let p95 = histogram_quantile(&[], &counters.buckets, 0.95).expect("p95");
        assert!((p95 - (0.05 + 0.05 * (50.0 / 90.0))).abs() < 1e-9, "{p95}");
        assert!(parse_inference(page, "rpc_total", None).is_err());
    }

    #[test]
    fn histogram_quantiles_use_the_requests_between_scrapes() {
        let before = [(0.01, 500.0), (0.1, 600.0), (f64::INFINITY, 600.0)];
        let after = [(0.01, 500.0), (0.1, 700.0), (f64::INFINITY, 700.0)];
        // All 100 new requests fell between 10 and 100 ms.
        let p50 = histogram_quantile(&before, &after, 0.5).expect("p50");
        assert!((p50 - 0.055).abs() < 1e-9, "{p50}");
        assert_eq!(
            histogram_quantile(&after, &after, 0.5),
            None,
            "no requests, no latency"
        );
    }
}
