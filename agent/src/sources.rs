//! Where readings come from: nvidia-smi or a DCGM exporter for the GPUs, and each inference
//! server's Prometheus page for requests and latency.

use anyhow::{anyhow, bail, Context};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::exposition::{self, Sample};

#[derive(Clone, Debug, PartialEq)]
pub struct GpuReading {
    pub index: u32,
    /// The device's UUID; a MIG slice's is `MIG-<card's UUID>/<GPU instance id>`.
    pub uuid: String,
    pub model: String,
    pub utilization_pct: f64,
    pub memory_used_mib: f64,
    pub power_watts: f64,
    /// For a MIG slice: the card it is cut from, its instance and profile, and its share.
    pub slice: Option<Slice>,
    /// The Kubernetes pod using the device, as the DCGM exporter labels it.
    pub pod: Option<Pod>,
    /// For a CPU machine's allotment rather than a GPU: its cores (`crate::cpu`).
    pub cpu_cores: Option<f64>,
}

/// A MIG slice of a card.
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    pub parent_uuid: String,
    /// `GPU_I_ID`: the GPU instance on its card.
    pub instance: String,
    /// `GPU_I_PROFILE`, e.g. `3g.40gb`.
    pub profile: String,
    /// The part of the card's compute it holds (see `mig_share`).
    pub share: f64,
}

/// A pod as the DCGM exporter's Kubernetes labels name it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pod {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

impl Pod {
    /// "namespace/pod", as the server shows it; the pod alone where no namespace is named.
    pub fn name(&self) -> String {
        if self.namespace.is_empty() {
            self.pod.clone()
        } else {
            format!("{}/{}", self.namespace, self.pod)
        }
    }
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
            slice: None,
            pod: None,
            cpu_cores: None,
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

fn scrape(text: &str) -> anyhow::Result<Vec<Sample>> {
    exposition::parse(text)
        .map_err(|reason| anyhow!("the metrics page is not Prometheus text: {reason}"))
}

/// Whether a DCGM value is one of its "blank" sentinels rather than a reading: a field that is not
/// supported, not found or not permitted comes as a number near the type's maximum (int32 from
/// 0x7ffffff0 = 2147483632, int64 from 0x7ffffffffffffff0 = 9223372036854775792, such as
/// 9223372036854775794, and the float blank 140737488355328). No real utilization, memory in MiB
/// or power in watts comes near.
pub fn is_dcgm_blank(value: f64) -> bool {
    !value.is_finite() || value >= 2_147_483_632.0
}

/// The share of a card's compute a MIG profile holds: its compute slices over the card's (7 on
/// A100 and H100, 4 on A30). `3g.40gb` is 3/7 of an H100; a compute-instance profile such as
/// `1c.3g.40gb` holds its 1 compute slice. `None` for a profile that does not read so.
pub fn mig_share(profile: &str, model: &str) -> Option<f64> {
    let slices = if model.contains("A30") { 4.0 } else { 7.0 };
    let mut parts = profile.split('.');
    let first = parts.next()?;
    let count = match first.strip_suffix('c') {
        Some(compute) => compute,
        None => first.strip_suffix('g')?,
    };
    let count: f64 = count.parse().ok().filter(|c: &f64| *c >= 1.0)?;
    Some((count / slices).min(1.0))
}

/// The pod a DCGM series names, its labels taken as one family: behind a Prometheus scrape the
/// exporter's own pod takes `pod`, `namespace` and `container` and the GPU user's move to
/// `exported_pod`, `exported_namespace` and `exported_container`, so those win; older exporters
/// say `pod_name`, `pod_namespace` and `container_name`.
fn pod_of(sample: &Sample) -> Option<Pod> {
    const FAMILIES: [[&str; 3]; 3] = [
        ["exported_pod", "exported_namespace", "exported_container"],
        ["pod", "namespace", "container"],
        ["pod_name", "pod_namespace", "container_name"],
    ];
    FAMILIES.iter().find_map(|[pod, namespace, container]| {
        let label = |name: &str| sample.label(name).unwrap_or_default().to_owned();
        let pod = sample.label(pod).filter(|p| !p.is_empty())?;
        Some(Pod {
            namespace: label(namespace),
            pod: pod.to_owned(),
            container: label(container),
        })
    })
}

/// The metrics read from a DCGM page.
const DCGM_UTIL: &str = "DCGM_FI_DEV_GPU_UTIL";
const DCGM_ENGINE_ACTIVE: &str = "DCGM_FI_PROF_GR_ENGINE_ACTIVE";
const DCGM_FB_USED: &str = "DCGM_FI_DEV_FB_USED";
const DCGM_POWER: &str = "DCGM_FI_DEV_POWER_USAGE";

/// One device's values as the page gives them, before slices take their share of the card.
#[derive(Default)]
struct DeviceValues {
    uuid: String,
    model: String,
    /// (GPU instance id, profile) for a MIG slice.
    instance: Option<(String, String)>,
    /// Values of the device's own series, without a pod.
    own: BTreeMap<&'static str, f64>,
    /// The largest value of the series that name a pod: an exporter repeats the device's value
    /// once per pod, and a per-pod reading (newer exporters send one beside the device's own
    /// row) is never above the device's.
    pods_max: BTreeMap<&'static str, f64>,
    /// The pods the exporter names for the device, by "namespace/pod": one, or several that
    /// share it by time-slicing.
    pods: BTreeMap<String, PodValues>,
}

/// What a device's series say for one of the pods using it.
struct PodValues {
    pod: Pod,
    /// The exporter's `vgpu` label: the pod's replica of a time-shared card.
    vgpu: Option<String>,
    values: BTreeMap<&'static str, f64>,
}

impl DeviceValues {
    fn value(&self, name: &str) -> Option<f64> {
        self.own
            .get(name)
            .or_else(|| self.pods_max.get(name))
            .copied()
    }

    /// Utilization in percent: `DCGM_FI_DEV_GPU_UTIL`, or the engine's active ratio; for a MIG
    /// slice (exporters send no GPU_UTIL for one, or 0) the other way round.
    fn utilization(values: impl Fn(&str) -> Option<f64>, slice: bool) -> Option<f64> {
        let util = values(DCGM_UTIL).map(|v| v.min(100.0));
        let engine = values(DCGM_ENGINE_ACTIVE).map(|v| v.min(1.0) * 100.0);
        if slice {
            engine.or(util)
        } else {
            util.or(engine)
        }
    }

    /// Each pod's part of a device several pods share: in proportion to the utilization the
    /// exporter reports for each, equal where it reports the device's for all (the values are
    /// then the same) or none.
    fn pod_shares(&self) -> Vec<(&PodValues, f64)> {
        let slice = self.instance.is_some();
        let weights: Vec<f64> = self
            .pods
            .values()
            .map(|pod| {
                Self::utilization(|name| pod.values.get(name).copied(), slice).unwrap_or_default()
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let count = self.pods.len() as f64;
        self.pods
            .values()
            .zip(weights)
            .map(|(pod, weight)| {
                let share = if total > 0.0 {
                    weight / total
                } else {
                    1.0 / count
                };
                (pod, share)
            })
            .collect()
    }
}

/// A DCGM page's devices, as `read_dcgm` reads them.
#[cfg(test)]
pub fn parse_dcgm(text: &str) -> anyhow::Result<Vec<GpuReading>> {
    Ok(read_dcgm(text)?.0)
}

/// Reads a DCGM exporter page: utilization, framebuffer memory and power per GPU, and per MIG
/// slice (`GPU_I_ID`, `GPU_I_PROFILE`), with the pod using each (`pod`, `namespace`, `container`
/// and their older and re-labelled names). Utilization is `DCGM_FI_DEV_GPU_UTIL`, or for a slice
/// (which has none) the graphics engine's active ratio `DCGM_FI_PROF_GR_ENGINE_ACTIVE`. A card cut
/// into slices is reported as its slices only, each with its share of the card's power. A device
/// several pods share by time-slicing (the exporter repeats its series once per pod, with
/// `--kubernetes-virtual-gpus` a `vgpu` label) is reported once per pod, `<UUID>::<vgpu>`, each
/// with its part of the device (`DeviceValues::pod_shares`). Blank sentinels are not readings
/// (`is_dcgm_blank`).
/// Also answers the host name the page's labels give, if any.
pub fn read_dcgm(text: &str) -> anyhow::Result<(Vec<GpuReading>, Option<String>)> {
    let samples = scrape(text)?;
    let hostname = samples.iter().find_map(|s| {
        s.label("Hostname")
            .or_else(|| s.label("hostname"))
            .map(str::to_owned)
    });
    Ok((dcgm_devices(&samples)?, hostname))
}

fn dcgm_devices(samples: &[Sample]) -> anyhow::Result<Vec<GpuReading>> {
    let mut devices: BTreeMap<(u32, Option<u32>, String), DeviceValues> = BTreeMap::new();
    for sample in samples {
        let Some(name) = [DCGM_UTIL, DCGM_ENGINE_ACTIVE, DCGM_FB_USED, DCGM_POWER]
            .into_iter()
            .find(|name| *name == sample.name)
        else {
            continue;
        };
        let Some(index) = sample.label("gpu").and_then(|g| g.parse::<u32>().ok()) else {
            continue;
        };
        // A device is known by its UUID; without one it cannot be told apart over time.
        if sample.label("UUID").is_none_or(str::is_empty) {
            continue;
        }
        if is_dcgm_blank(sample.value) || sample.value < 0.0 {
            continue;
        }
        let instance = sample
            .label("GPU_I_ID")
            .filter(|id| !id.is_empty())
            .map(|id| {
                (
                    id.to_owned(),
                    sample.label("GPU_I_PROFILE").unwrap_or_default().to_owned(),
                )
            });
        let order = instance.as_ref().and_then(|(id, _)| id.parse::<u32>().ok());
        let key = (
            index,
            order,
            instance
                .as_ref()
                .map(|(id, _)| id.clone())
                .unwrap_or_default(),
        );
        let device = devices.entry(key).or_insert_with(|| DeviceValues {
            uuid: sample.label("UUID").unwrap_or_default().to_owned(),
            model: sample.label("modelName").unwrap_or_default().to_owned(),
            instance,
            ..DeviceValues::default()
        });
        match pod_of(sample) {
            None => {
                device.own.insert(name, sample.value);
            }
            Some(pod) => {
                let max = device.pods_max.entry(name).or_insert(sample.value);
                *max = max.max(sample.value);
                device
                    .pods
                    .entry(pod.name())
                    .or_insert_with(|| PodValues {
                        pod,
                        vgpu: sample
                            .label("vgpu")
                            .filter(|v| !v.is_empty())
                            .map(str::to_owned),
                        values: BTreeMap::new(),
                    })
                    .values
                    .insert(name, sample.value);
            }
        }
    }
    if devices.is_empty() {
        bail!("the DCGM page has no DCGM_FI_DEV_GPU_UTIL, DCGM_FI_PROF_GR_ENGINE_ACTIVE, DCGM_FI_DEV_FB_USED or DCGM_FI_DEV_POWER_USAGE with a gpu label");
    }
    // A card's power, and how many slices it is cut into, for the slices' shares.
    let mut card_power: BTreeMap<u32, f64> = BTreeMap::new();
    let mut slices_of: BTreeMap<u32, usize> = BTreeMap::new();
    for ((index, _, _), device) in &devices {
        match &device.instance {
            None => {
                if let Some(power) = device.value(DCGM_POWER) {
                    card_power.insert(*index, power);
                }
            }
            Some(_) => *slices_of.entry(*index).or_default() += 1,
        }
    }
    let mut gpus = Vec::new();
    for ((index, _, _), device) in &devices {
        let utilization_pct =
            DeviceValues::utilization(|name| device.value(name), device.instance.is_some())
                .unwrap_or_default();
        let memory_used_mib = device.value(DCGM_FB_USED).unwrap_or_default();
        let whole = match &device.instance {
            None if slices_of.contains_key(index) => {
                // Cut into slices: the slices report its time, and share its power.
                continue;
            }
            None => GpuReading {
                index: *index,
                uuid: device.uuid.clone(),
                model: device.model.clone(),
                utilization_pct,
                memory_used_mib,
                power_watts: device.value(DCGM_POWER).unwrap_or_default(),
                slice: None,
                pod: None,
                cpu_cores: None,
            },
            Some((instance, profile)) => {
                let share = mig_share(profile, &device.model)
                    .unwrap_or_else(|| 1.0 / slices_of[index] as f64);
                GpuReading {
                    index: *index,
                    uuid: format!("MIG-{}/{instance}", device.uuid),
                    model: device.model.clone(),
                    utilization_pct,
                    memory_used_mib,
                    // The card's power: on its own row, or (in other exporters' layout)
                    // repeated on each slice's row.
                    power_watts: card_power
                        .get(index)
                        .copied()
                        .or(device.value(DCGM_POWER))
                        .unwrap_or_default()
                        * share,
                    slice: Some(Slice {
                        parent_uuid: device.uuid.clone(),
                        instance: instance.clone(),
                        profile: profile.clone(),
                        share,
                    }),
                    pod: None,
                    cpu_cores: None,
                }
            }
        };
        if device.pods.len() <= 1 {
            gpus.push(GpuReading {
                pod: device.pods.values().next().map(|p| p.pod.clone()),
                ..whole
            });
            continue;
        }
        for (position, (pod, part)) in device.pod_shares().into_iter().enumerate() {
            let replica = pod.vgpu.clone().unwrap_or_else(|| position.to_string());
            let (instance, profile, share) = whole.slice.as_ref().map_or_else(
                || (String::new(), String::new(), 1.0),
                |s| (s.instance.clone(), s.profile.clone(), s.share),
            );
            gpus.push(GpuReading {
                index: *index,
                uuid: format!("{}::{replica}", whole.uuid),
                model: whole.model.clone(),
                utilization_pct: whole.utilization_pct,
                memory_used_mib: whole.memory_used_mib * part,
                power_watts: whole.power_watts * part,
                slice: Some(Slice {
                    parent_uuid: device.uuid.clone(),
                    instance,
                    profile,
                    share: share * part,
                }),
                pod: Some(pod.pod.clone()),
                cpu_cores: None,
            });
        }
    }
    Ok(gpus)
}

/// The unit a server reports its latency in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeUnit {
    Seconds,
    Milliseconds,
    Microseconds,
}

impl TimeUnit {
    pub fn to_ms(self, value: f64) -> f64 {
        match self {
            TimeUnit::Seconds => value * 1000.0,
            TimeUnit::Milliseconds => value,
            TimeUnit::Microseconds => value / 1000.0,
        }
    }
}

/// Which metrics of an inference server's page carry its requests, latency and tokens. A counter
/// is summed over all its label sets (finish reasons, status codes, engines) of the chosen model.
#[derive(Clone, Debug, PartialEq)]
pub struct Metrics {
    /// A counter of requests served.
    pub requests: String,
    /// A histogram or summary of request latency.
    pub latency: Option<String>,
    /// A counter of the total time spent on requests, for a mean latency per interval when the
    /// server has no histogram (Triton).
    pub latency_total: Option<String>,
    pub latency_unit: TimeUnit,
    /// Counters of input, output and cached input tokens (a histogram's `_sum` counts too).
    pub input_tokens: Option<String>,
    pub output_tokens: Option<String>,
    pub cached_tokens: Option<String>,
    /// A histogram of the time to first token, in `latency_unit`.
    pub time_to_first_token: Option<String>,
    /// Labels that name the model a sample is about, for a server serving several.
    pub model_labels: Vec<String>,
}

fn named(name: &str) -> Option<String> {
    Some(name.to_owned())
}

impl Metrics {
    /// vLLM's documented production metrics (docs.vllm.ai, "Production Metrics"): names with a
    /// `vllm:` prefix, every series labelled `model_name`; prefix-cache hits counted in tokens.
    pub fn vllm() -> Metrics {
        Metrics {
            requests: "vllm:request_success_total".into(),
            latency: named("vllm:e2e_request_latency_seconds"),
            latency_total: None,
            latency_unit: TimeUnit::Seconds,
            input_tokens: named("vllm:prompt_tokens_total"),
            output_tokens: named("vllm:generation_tokens_total"),
            cached_tokens: named("vllm:prefix_cache_hits_total"),
            time_to_first_token: named("vllm:time_to_first_token_seconds"),
            model_labels: vec!["model_name".into()],
        }
    }

    /// Text Generation Inference's metrics: a success counter without `_total`, and token counts
    /// as the sums of its input-length and generated-tokens histograms.
    pub fn tgi() -> Metrics {
        Metrics {
            requests: "tgi_request_success".into(),
            latency: named("tgi_request_duration"),
            latency_total: None,
            latency_unit: TimeUnit::Seconds,
            input_tokens: named("tgi_request_input_length_sum"),
            output_tokens: named("tgi_request_generated_tokens_sum"),
            cached_tokens: None,
            time_to_first_token: None,
            model_labels: Vec::new(),
        }
    }

    /// Triton Inference Server's metrics: successes and the cumulative request duration in
    /// microseconds, labelled `model` and `version`.
    pub fn triton() -> Metrics {
        Metrics {
            requests: "nv_inference_request_success".into(),
            latency: None,
            latency_total: named("nv_inference_request_duration_us"),
            latency_unit: TimeUnit::Microseconds,
            input_tokens: None,
            output_tokens: None,
            cached_tokens: None,
            time_to_first_token: None,
            model_labels: vec!["model".into()],
        }
    }

    /// Any Prometheus page: a request counter and, optionally, a latency histogram or summary.
    pub fn prometheus(requests: &str, latency: Option<&str>, unit: TimeUnit) -> Metrics {
        Metrics {
            requests: requests.to_owned(),
            latency: latency.map(str::to_owned),
            latency_total: None,
            latency_unit: unit,
            input_tokens: None,
            output_tokens: None,
            cached_tokens: None,
            time_to_first_token: None,
            model_labels: vec!["model_name".into(), "model".into()],
        }
    }
}

/// What an inference server's counters said at one scrape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counters {
    pub requests: f64,
    /// Cumulative latency histogram buckets (upper bound, count), when the metric is a histogram.
    pub buckets: Vec<(f64, f64)>,
    /// Latency quantiles (q, value) when the metric is a summary.
    pub quantiles: Vec<(f64, f64)>,
    /// The cumulative time spent on requests, when the server counts it.
    pub latency_total: Option<f64>,
    pub input_tokens: Option<f64>,
    pub output_tokens: Option<f64>,
    pub cached_tokens: Option<f64>,
    /// Cumulative time-to-first-token histogram buckets.
    pub first_token_buckets: Vec<(f64, f64)>,
}

/// Whether a sample is one of counter `name`'s: Prometheus writes a counter's samples with or
/// without `_total`, depending on the client library and its version.
fn is_counter(sample: &str, name: &str) -> bool {
    let base = name.strip_suffix("_total").unwrap_or(name);
    sample == base || sample.strip_suffix("_total") == Some(base)
}

/// Adds `value` to a sum that may not have started.
fn add(sum: &mut Option<f64>, value: f64) {
    *sum = Some(sum.unwrap_or(0.0) + value);
}

fn buckets(map: BTreeMap<u64, f64>) -> Vec<(f64, f64)> {
    let mut buckets: Vec<(f64, f64)> = map
        .into_iter()
        .map(|(bits, count)| (f64::from_bits(bits), count))
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    buckets
}

/// Reads one model's counters from an inference server's page: every label set of each metric
/// summed, keeping only the samples of `model` when it is given (by the metrics' model labels).
pub fn parse_inference(
    text: &str,
    metrics: &Metrics,
    model: Option<&str>,
) -> anyhow::Result<Counters> {
    let samples = scrape(text)?;
    let mut counters = Counters::default();
    let mut found = false;
    let mut models_seen: Vec<String> = Vec::new();
    let mut latency_buckets: BTreeMap<u64, f64> = BTreeMap::new();
    let mut first_token_buckets: BTreeMap<u64, f64> = BTreeMap::new();
    let histogram = |sample: &Sample, base: &Option<String>| {
        base.as_ref()
            .is_some_and(|base| sample.name.strip_suffix("_bucket") == Some(base.as_str()))
            .then(|| sample.label("le").and_then(exposition::number))
            .flatten()
    };
    for sample in &samples {
        let model_of = metrics.model_labels.iter().find_map(|l| sample.label(l));
        if let (Some(wanted), Some(this)) = (model, model_of) {
            if !models_seen.iter().any(|m| m == this) {
                models_seen.push(this.to_owned());
            }
            if wanted != this {
                continue;
            }
        }
        // Absurd values (a NaN, a negative count) are not counts.
        if !sample.value.is_finite() || sample.value < 0.0 {
            continue;
        }
        let value = sample.value;
        let name = sample.name.as_str();
        if is_counter(name, &metrics.requests) {
            counters.requests += value;
            found = true;
        }
        let is = |metric: &Option<String>| metric.as_ref().is_some_and(|m| is_counter(name, m));
        if is(&metrics.latency_total) {
            add(&mut counters.latency_total, value);
        }
        if is(&metrics.input_tokens) {
            add(&mut counters.input_tokens, value);
        }
        if is(&metrics.output_tokens) {
            add(&mut counters.output_tokens, value);
        }
        if is(&metrics.cached_tokens) {
            add(&mut counters.cached_tokens, value);
        }
        if let Some(le) = histogram(sample, &metrics.latency) {
            *latency_buckets.entry(le.to_bits()).or_default() += value;
        }
        if let Some(le) = histogram(sample, &metrics.time_to_first_token) {
            *first_token_buckets.entry(le.to_bits()).or_default() += value;
        }
        if metrics.latency.as_deref() == Some(name) {
            if let Some(q) = sample.label("quantile").and_then(exposition::number) {
                if value.is_finite() {
                    counters.quantiles.push((q, value));
                }
            }
        }
    }
    if !found {
        match model {
            Some(model) if !models_seen.is_empty() => bail!(
                "the metrics page has no `{}` counter for model `{model}`; it serves {}",
                metrics.requests,
                models_seen.join(", ")
            ),
            _ => bail!("the metrics page has no `{}` counter", metrics.requests),
        }
    }
    counters.buckets = buckets(latency_buckets);
    counters.first_token_buckets = buckets(first_token_buckets);
    Ok(counters)
}

/// Latency quantiles in milliseconds, each when known.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quantiles {
    pub p50: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Quantiles {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "p50": self.p50, "p95": self.p95, "p99": self.p99 })
    }

    fn any(self) -> Option<Quantiles> {
        (self.p50.is_some() || self.p95.is_some() || self.p99.is_some()).then_some(self)
    }
}

/// Tokens read, written and read from the prefix cache in one interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: i64,
    pub output: i64,
    pub cached_input: i64,
}

/// What a deployment's server did between two scrapes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Traffic {
    pub requests: i64,
    pub latency: Option<Quantiles>,
    pub time_to_first_token: Option<Quantiles>,
    pub tokens: Option<Tokens>,
}

/// The quantiles of the requests between two scrapes of a cumulative histogram, in ms.
fn histogram_quantiles(
    previous: &[(f64, f64)],
    current: &[(f64, f64)],
    unit: TimeUnit,
) -> Option<Quantiles> {
    let at = |q: f64| histogram_quantile(previous, current, q).map(|v| unit.to_ms(v));
    Quantiles {
        p50: at(0.5),
        p95: at(0.95),
        p99: at(0.99),
    }
    .any()
}

/// The traffic between two scrapes of the same server: counters as increases (a smaller value
/// is a restart, counted from zero), latency from the histogram of the interval's requests, a
/// summary's quantiles as the server states them, or, with neither, the interval's mean latency
/// (total time over requests) as its p50.
pub fn interval(previous: &Counters, current: &Counters, unit: TimeUnit) -> Traffic {
    let requests = counter_delta(previous.requests, current.requests).round() as i64;
    let at = |q: f64| {
        current
            .quantiles
            .iter()
            .find(|(k, _)| (*k - q).abs() < 1e-9)
            .map(|(_, v)| unit.to_ms(*v))
    };
    let latency = if !current.quantiles.is_empty() {
        Quantiles {
            p50: at(0.5),
            p95: at(0.95),
            p99: at(0.99),
        }
        .any()
    } else if !current.buckets.is_empty() {
        histogram_quantiles(&previous.buckets, &current.buckets, unit)
    } else {
        match (previous.latency_total, current.latency_total) {
            (Some(before), Some(now)) if requests > 0 => Some(Quantiles {
                p50: Some(unit.to_ms(counter_delta(before, now) / requests as f64)),
                p95: None,
                p99: None,
            }),
            _ => None,
        }
    };
    let delta = |before: Option<f64>, now: Option<f64>| {
        now.map(|now| counter_delta(before.unwrap_or(0.0), now).round() as i64)
    };
    let tokens = match (
        delta(previous.input_tokens, current.input_tokens),
        delta(previous.output_tokens, current.output_tokens),
    ) {
        (None, None) => None,
        (input, output) => {
            let input = input.unwrap_or(0);
            Some(Tokens {
                input,
                output: output.unwrap_or(0),
                cached_input: delta(previous.cached_tokens, current.cached_tokens)
                    .unwrap_or(0)
                    .min(input),
            })
        }
    };
    Traffic {
        requests,
        latency,
        time_to_first_token: histogram_quantiles(
            &previous.first_token_buckets,
            &current.first_token_buckets,
            unit,
        ),
        tokens,
    }
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
        assert_eq!(
            read_dcgm(page).expect("parses").1.as_deref(),
            Some("node-3")
        );
        assert!(parse_dcgm("up 1").is_err());
    }

    /// A DCGM exporter page as it reads on a Kubernetes node with MIG (the exporter's
    /// documented labels): card 0, an H100, cut into a 3g.40gb and a 4g.40gb slice, each used by
    /// a pod; slices have no DCGM_FI_DEV_GPU_UTIL, only the graphics engine's active ratio, and
    /// one reports its memory as the int64 blank 9223372036854775794; card 1 whole, scraped
    /// through Prometheus so that its user's pod is `exported_pod`; card 2 without a pod.
    const MIG_PAGE: &str = r#"# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="GPU-2b",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-07",container="dcgm-exporter",namespace="gpu-operator",pod="dcgm-exporter-x7k2p",exported_container="ranker",exported_namespace="ml-serving",exported_pod="ranker-v5-6c8f7d9b5-q4w8z"} 64
DCGM_FI_DEV_GPU_UTIL{gpu="2",UUID="GPU-3c",device="nvidia2",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-07",container="",namespace="",pod=""} 0
# HELP DCGM_FI_PROF_GR_ENGINE_ACTIVE Ratio of time the graphics engine is active.
# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-1a",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",GPU_I_PROFILE="3g.40gb",GPU_I_ID="1",Hostname="gpu-node-07",container="vllm",namespace="ml-serving",pod="chat-llama-8b-7d9f8b6c4-x2x9q"} 0.812500
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-1a",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",GPU_I_PROFILE="4g.40gb",GPU_I_ID="2",Hostname="gpu-node-07",container="embedder",namespace="ml-serving",pod="embedder-v2-0"} 0.250000
# HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
# TYPE DCGM_FI_DEV_FB_USED gauge
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-1a",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",GPU_I_PROFILE="3g.40gb",GPU_I_ID="1",Hostname="gpu-node-07",container="vllm",namespace="ml-serving",pod="chat-llama-8b-7d9f8b6c4-x2x9q"} 31744
DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-1a",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",GPU_I_PROFILE="4g.40gb",GPU_I_ID="2",Hostname="gpu-node-07",container="embedder",namespace="ml-serving",pod="embedder-v2-0"} 9223372036854775794
DCGM_FI_DEV_FB_USED{gpu="1",UUID="GPU-2b",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-07"} 52000
# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-1a",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-07",container="",namespace="",pod=""} 420.000000
DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="GPU-2b",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-07"} 380.5
DCGM_FI_DEV_POWER_USAGE{gpu="2",UUID="GPU-3c",device="nvidia2",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-07"} 140737488355328.000000
"#;

    #[test]
    fn mig_slices_and_pods_read_from_a_kubernetes_dcgm_page() {
        let gpus = parse_dcgm(MIG_PAGE).expect("parses");
        let uuids: Vec<&str> = gpus.iter().map(|g| g.uuid.as_str()).collect();
        assert_eq!(uuids, ["MIG-GPU-1a/1", "MIG-GPU-1a/2", "GPU-2b", "GPU-3c"]);
        let chat = &gpus[0];
        assert_eq!(
            chat.utilization_pct, 81.25,
            "from the engine's active ratio"
        );
        assert_eq!(chat.memory_used_mib, 31744.0);
        assert!((chat.power_watts - 420.0 * 3.0 / 7.0).abs() < 1e-9);
        let slice = chat.slice.as_ref().expect("a slice");
        assert_eq!(slice.parent_uuid, "GPU-1a");
        assert_eq!(slice.profile, "3g.40gb");
        assert!((slice.share - 3.0 / 7.0).abs() < 1e-12);
        assert_eq!(
            chat.pod,
            Some(Pod {
                namespace: "ml-serving".into(),
                pod: "chat-llama-8b-7d9f8b6c4-x2x9q".into(),
                container: "vllm".into(),
            })
        );
        let embedder = &gpus[1];
        assert_eq!(embedder.memory_used_mib, 0.0, "the blank is not a reading");
        let shares: f64 = gpus[..2]
            .iter()
            .filter_map(|g| g.slice.as_ref())
            .map(|s| s.share)
            .sum();
        assert!((shares - 1.0).abs() < 1e-12, "the slices make the card");
        let ranker = &gpus[2];
        assert_eq!(
            ranker.pod.as_ref().map(|p| p.pod.as_str()),
            Some("ranker-v5-6c8f7d9b5-q4w8z"),
            "the GPU user's pod, not the exporter's"
        );
        assert_eq!(ranker.slice, None);
        let spare = &gpus[3];
        assert_eq!(spare.pod, None);
        assert_eq!(spare.power_watts, 0.0, "the float blank is not a reading");
    }

    /// The layout other dcgm-exporter versions write for MIG: no row for the card, the card's
    /// power repeated on each slice's row, and GPU_UTIL 0 for slices beside the engine's ratio.
    #[test]
    fn slices_take_the_cards_power_from_their_own_rows_and_ignore_a_zero_gpu_util() {
        let page = r#"# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-1a",modelName="NVIDIA A100-SXM4-40GB",GPU_I_PROFILE="1g.5gb",GPU_I_ID="7"} 0
# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge
DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="GPU-1a",modelName="NVIDIA A100-SXM4-40GB",GPU_I_PROFILE="1g.5gb",GPU_I_ID="7"} 0.5
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="GPU-1a",modelName="NVIDIA A100-SXM4-40GB",GPU_I_PROFILE="1g.5gb",GPU_I_ID="7"} 210
DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="",modelName="NVIDIA A100-SXM4-40GB"} 90
"#;
        let gpus = parse_dcgm(page).expect("parses");
        assert_eq!(gpus.len(), 1, "a series without a UUID is no device");
        assert_eq!(gpus[0].utilization_pct, 50.0);
        assert!((gpus[0].power_watts - 30.0).abs() < 1e-9, "210 W x 1/7");
    }

    /// A card time-shared by pods, as dcgm-exporter writes it with `--kubernetes-virtual-gpus`:
    /// each series once per pod with the same device values and the pod's `vgpu` replica; and
    /// the layout of newer exporters, the device's own row beside per-pod utilization.
    #[test]
    fn a_time_shared_card_is_split_between_its_pods() {
        let labels = r#"gpu="0",UUID="GPU-8f2c",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-01""#;
        let pod = |name: &str, vgpu: u32| {
            format!(r#"namespace="tenants",pod="{name}",container="ctr",vgpu="{vgpu}""#)
        };
        let page = format!(
            "# TYPE DCGM_FI_PROF_GR_ENGINE_ACTIVE gauge\n\
             DCGM_FI_PROF_GR_ENGINE_ACTIVE{{{labels},{a}}} 0.968\n\
             DCGM_FI_PROF_GR_ENGINE_ACTIVE{{{labels},{b}}} 0.968\n\
             # TYPE DCGM_FI_DEV_FB_USED gauge\n\
             DCGM_FI_DEV_FB_USED{{{labels},{a}}} 74112\n\
             DCGM_FI_DEV_FB_USED{{{labels},{b}}} 74112\n\
             # TYPE DCGM_FI_DEV_POWER_USAGE gauge\n\
             DCGM_FI_DEV_POWER_USAGE{{{labels},{a}}} 600\n\
             DCGM_FI_DEV_POWER_USAGE{{{labels},{b}}} 600\n",
            a = pod("infer-a", 0),
            b = pod("infer-b", 1),
        );
        let gpus = parse_dcgm(&page).expect("parses");
        assert_eq!(gpus.len(), 2, "one device per pod: {gpus:?}");
        assert_eq!(gpus[0].uuid, "GPU-8f2c::0");
        assert_eq!(gpus[1].uuid, "GPU-8f2c::1");
        for gpu in &gpus {
            let slice = gpu.slice.as_ref().expect("a share");
            assert_eq!(slice.parent_uuid, "GPU-8f2c");
            assert_eq!(slice.share, 0.5, "the same values for both: an equal split");
            assert!(
                (gpu.utilization_pct - 96.8).abs() < 1e-9,
                "the card's utilization"
            );
            assert_eq!(gpu.power_watts, 300.0);
        }
        assert_eq!(
            gpus[1].pod.as_ref().map(|p| p.pod.as_str()),
            Some("infer-b")
        );

        // The device's own row, and each pod's utilization: split by what each used.
        let page = format!(
            "DCGM_FI_DEV_GPU_UTIL{{{labels}}} 80\n\
             DCGM_FI_DEV_GPU_UTIL{{{labels},{a}}} 60\n\
             DCGM_FI_DEV_GPU_UTIL{{{labels},{b}}} 20\n\
             DCGM_FI_DEV_POWER_USAGE{{{labels}}} 400\n",
            a = pod("infer-a", 0),
            b = pod("infer-b", 1),
        );
        let gpus = parse_dcgm(&page).expect("parses");
        let shares: Vec<f64> = gpus
            .iter()
            .map(|g| g.slice.as_ref().map_or(1.0, |s| s.share))
            .collect();
        assert_eq!(shares, [0.75, 0.25]);
        assert_eq!(gpus[0].utilization_pct, 80.0, "the device's own row");
        assert_eq!(gpus[0].power_watts + gpus[1].power_watts, 400.0);
    }

    #[test]
    fn mig_profiles_give_their_share_of_the_card() {
        let h100 = "NVIDIA H100 80GB HBM3";
        assert_eq!(mig_share("7g.80gb", h100), Some(1.0));
        assert_eq!(mig_share("1g.10gb", h100), Some(1.0 / 7.0));
        assert_eq!(mig_share("1c.3g.40gb", h100), Some(1.0 / 7.0));
        assert_eq!(mig_share("2g.12gb", "NVIDIA A30"), Some(0.5));
        assert_eq!(mig_share("whole", h100), None);
        for blank in [
            2_147_483_632.0,
            9_223_372_036_854_775_794.0,
            140_737_488_355_328.0,
        ] {
            assert!(is_dcgm_blank(blank), "{blank}");
        }
        assert!(!is_dcgm_blank(81_920.0));
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
        let metrics = Metrics::prometheus(
            "http_requests_total",
            Some("request_latency_seconds"),
            TimeUnit::Seconds,
        );
        let counters = parse_inference(page, &metrics, None).expect("parses");
        assert_eq!(counters.requests, 1000.0);
        assert_eq!(counters.buckets.len(), 4);
        let p50 = histogram_quantile(&[], &counters.buckets, 0.5).expect("p50");
        assert!((p50 - 0.01).abs() < 1e-9, "{p50}");
        let p95 = histogram_quantile(&[], &counters.buckets, 0.95).expect("p95");
        assert!((p95 - (0.05 + 0.05 * (50.0 / 90.0))).abs() < 1e-9, "{p95}");
        let other = Metrics::prometheus("rpc_total", None, TimeUnit::Seconds);
        assert!(parse_inference(page, &other, None).is_err());
    }

    /// A vLLM page as its documentation lists the metrics, serving two models from one engine.
    fn vllm_page(llama_requests: f64, prompt: f64, generated: f64, hits: f64, fast: f64) -> String {
        let llama = r#"engine="0",model_name="meta-llama/Llama-3.1-8B-Instruct""#;
        let qwen = r#"engine="0",model_name="Qwen/Qwen2.5-7B-Instruct""#;
        format!(
            r#"# HELP vllm:request_success_total Count of successfully processed requests.
# TYPE vllm:request_success_total counter
vllm:request_success_total{{{llama},finished_reason="stop"}} {stop}
vllm:request_success_total{{{llama},finished_reason="length"}} {length}
vllm:request_success_total{{{qwen},finished_reason="stop"}} 77.0
# HELP vllm:prompt_tokens_total Number of prefill tokens processed.
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{{{llama}}} {prompt:e}
vllm:prompt_tokens_total{{{qwen}}} 5000.0
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{{{llama}}} {generated}
vllm:generation_tokens_total{{{qwen}}} 900.0
# TYPE vllm:prefix_cache_hits_total counter
vllm:prefix_cache_hits_total{{{llama}}} {hits}
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{{{llama},le="1.0"}} {fast}
vllm:e2e_request_latency_seconds_bucket{{{llama},le="2.5"}} {llama_requests}
vllm:e2e_request_latency_seconds_bucket{{{llama},le="+Inf"}} {llama_requests}
vllm:e2e_request_latency_seconds_sum{{{llama}}} 1500.0
vllm:e2e_request_latency_seconds_count{{{llama}}} {llama_requests}
vllm:e2e_request_latency_seconds_bucket{{{qwen},le="1.0"}} 0.0
vllm:e2e_request_latency_seconds_bucket{{{qwen},le="2.5"}} 0.0
vllm:e2e_request_latency_seconds_bucket{{{qwen},le="+Inf"}} 77.0
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{{{llama},le="0.1"}} {fast}
vllm:time_to_first_token_seconds_bucket{{{llama},le="0.25"}} {llama_requests}
vllm:time_to_first_token_seconds_bucket{{{llama},le="+Inf"}} {llama_requests}
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{{{llama}}} 12.0
"#,
            stop = llama_requests * 0.9,
            length = llama_requests * 0.1,
        )
    }

    #[test]
    fn vllm_pages_give_one_models_requests_tokens_and_times() {
        let metrics = Metrics::vllm();
        let model = Some("meta-llama/Llama-3.1-8B-Instruct");
        let before = parse_inference(&vllm_page(1000.0, 2.4e6, 6e5, 9e5, 1000.0), &metrics, model)
            .expect("parses");
        assert_eq!(
            before.requests, 1000.0,
            "both finish reasons, not the other model"
        );
        let after = parse_inference(
            &vllm_page(2000.0, 3.6e6, 9e5, 1.2e6, 1500.0),
            &metrics,
            model,
        )
        .expect("parses");
        let traffic = interval(&before, &after, metrics.latency_unit);
        assert_eq!(traffic.requests, 1000);
        assert_eq!(
            traffic.tokens,
            Some(Tokens {
                input: 1_200_000,
                output: 300_000,
                cached_input: 300_000
            })
        );
        // Of the 1,000 requests of the interval, 500 took up to 1 s and 500 from 1 to 2.5 s.
        let latency = traffic.latency.expect("latency");
        assert_eq!(latency.p50, Some(1000.0));
        assert!((latency.p95.expect("p95") - 2350.0).abs() < 1e-6);
        let first_token = traffic.time_to_first_token.expect("time to first token");
        assert_eq!(first_token.p50, Some(100.0));

        // Without a model, every model on the page is counted.
        let all = parse_inference(&vllm_page(1000.0, 2.4e6, 6e5, 9e5, 1000.0), &metrics, None)
            .expect("parses");
        assert_eq!(all.requests, 1077.0);
        // A model the server does not serve is named, with those it does.
        let error = parse_inference(
            &vllm_page(1000.0, 2.4e6, 6e5, 9e5, 1000.0),
            &metrics,
            Some("mistral"),
        )
        .expect_err("no such model");
        assert!(
            error.to_string().contains("Qwen/Qwen2.5-7B-Instruct"),
            "{error}"
        );
    }

    #[test]
    fn a_restarted_server_counts_from_zero() {
        let metrics = Metrics::vllm();
        let before = parse_inference(&vllm_page(5000.0, 9e6, 2e6, 3e6, 4000.0), &metrics, None)
            .expect("parses");
        let after = parse_inference(&vllm_page(100.0, 1e5, 3e4, 0.0, 100.0), &metrics, None)
            .expect("parses");
        let traffic = interval(&before, &after, metrics.latency_unit);
        assert_eq!(
            traffic.requests,
            100 + 77,
            "the restarted counters, from zero"
        );
        let tokens = traffic.tokens.expect("tokens");
        assert_eq!((tokens.input, tokens.output), (105_000, 30_900));
    }

    #[test]
    fn tgi_pages_count_tokens_from_histogram_sums() {
        let page = |requests: u32, input: u32, generated: u32| {
            format!(
                "# TYPE tgi_request_success counter\n\
                 tgi_request_success {requests}\n\
                 # TYPE tgi_request_input_length histogram\n\
                 tgi_request_input_length_bucket{{le=\"1024\"}} {requests}\n\
                 tgi_request_input_length_bucket{{le=\"+Inf\"}} {requests}\n\
                 tgi_request_input_length_sum {input}\n\
                 tgi_request_input_length_count {requests}\n\
                 # TYPE tgi_request_generated_tokens histogram\n\
                 tgi_request_generated_tokens_sum {generated}\n\
                 tgi_request_generated_tokens_count {requests}\n\
                 # TYPE tgi_request_duration histogram\n\
                 tgi_request_duration_bucket{{le=\"0.5\"}} {requests}\n\
                 tgi_request_duration_bucket{{le=\"+Inf\"}} {requests}\n"
            )
        };
        let metrics = Metrics::tgi();
        let before = parse_inference(&page(100, 80_000, 20_000), &metrics, None).expect("parses");
        let after = parse_inference(&page(220, 176_000, 44_000), &metrics, None).expect("parses");
        let traffic = interval(&before, &after, metrics.latency_unit);
        assert_eq!(traffic.requests, 120);
        assert_eq!(
            traffic.tokens,
            Some(Tokens {
                input: 96_000,
                output: 24_000,
                cached_input: 0
            })
        );
        assert_eq!(traffic.latency.and_then(|l| l.p50), Some(250.0));
    }

    #[test]
    fn triton_latency_is_the_intervals_mean_from_its_duration_counter() {
        let page = |resnet: u32, duration_us: f64| {
            format!(
                "# HELP nv_inference_request_success Number of successful inference requests, all batch sizes\n\
                 # TYPE nv_inference_request_success counter\n\
                 nv_inference_request_success{{model=\"resnet50\",version=\"1\"}} {resnet}\n\
                 nv_inference_request_success{{model=\"bert\",version=\"1\"}} 10\n\
                 # TYPE nv_inference_request_duration_us counter\n\
                 nv_inference_request_duration_us{{model=\"resnet50\",version=\"1\"}} {duration_us:e}\n\
                 nv_inference_request_duration_us{{model=\"bert\",version=\"1\"}} 9e9\n"
            )
        };
        let metrics = Metrics::triton();
        let model = Some("resnet50");
        let before = parse_inference(&page(4000, 8e7), &metrics, model).expect("parses");
        let after = parse_inference(&page(5000, 1.05e8), &metrics, model).expect("parses");
        let traffic = interval(&before, &after, metrics.latency_unit);
        assert_eq!(traffic.requests, 1000);
        let latency = traffic.latency.expect("mean latency");
        assert_eq!(latency.p50, Some(25.0), "25,000,000 us over 1,000 requests");
        assert_eq!(latency.p95, None, "a mean is no tail");
        assert_eq!(traffic.tokens, None);
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
