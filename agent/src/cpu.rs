//! CPU machines: what a host's cores and memory did, from the kernel's counters, and what each
//! CPU-served deployment on it (a systemd unit, a cgroup such as a Kubernetes pod's, or processes
//! by name) used of them. Counters need two readings: the first one only sets the baseline.
//!
//! The files are the kernel's (proc(5), the cgroup v2 documentation): `/proc/stat`'s `cpu` lines
//! in clock ticks, `/proc/meminfo` in kB, a cgroup's `cpu.stat` (`usage_usec`), `cpu.max` (quota
//! and period in microseconds, or `max`) and `memory.current` (bytes), and a process's
//! `/proc/<pid>/stat` (utime and stime, fields 14 and 15, in clock ticks) and `statm` (pages).

use anyhow::{anyhow, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};

use crate::sources::{GpuReading, Slice};

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`): 100 on every Linux architecture in use.
pub const TICKS_PER_SECOND: f64 = 100.0;
/// Bytes per page for `statm` (4 KiB on x86-64 and most arm64 kernels).
pub const PAGE_BYTES: f64 = 4096.0;

/// The `[cpu]` section: the machine type the price catalog prices, and its deployments.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CpuConfig {
    /// How the price catalog names this machine (`c7i.2xlarge`, `on-prem-epyc-64`).
    pub machine_type: String,
    /// Its cores; counted from `/proc/stat` when not given.
    pub cores: Option<f64>,
    #[serde(default = "default_proc")]
    pub proc_root: PathBuf,
    #[serde(default = "default_cgroup")]
    pub cgroup_root: PathBuf,
    #[serde(default)]
    pub deployments: Vec<CpuDeployment>,
}

fn default_proc() -> PathBuf {
    "/proc".into()
}

fn default_cgroup() -> PathBuf {
    "/sys/fs/cgroup".into()
}

/// One CPU-served deployment: exactly one of `unit`, `cgroup` or `process`, and its cores.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CpuDeployment {
    pub deployment: String,
    /// A systemd unit, read from its cgroup `system.slice/<unit>`.
    pub unit: Option<String>,
    /// A cgroup v2 path under the cgroup root, e.g. a Kubernetes pod's
    /// `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice`.
    pub cgroup: Option<String>,
    /// Processes by name (`/proc/<pid>/comm`), summed.
    pub process: Option<String>,
    /// The cores it is allotted (what it pays for); by default its cgroup's `cpu.max` quota,
    /// else an equal part of the cores no other deployment is allotted.
    pub cores: Option<f64>,
}

impl CpuDeployment {
    /// The cgroup it is read from, when it is read from one.
    fn cgroup_path(&self) -> Option<String> {
        self.unit
            .as_ref()
            .map(|unit| format!("system.slice/{unit}"))
            .or_else(|| self.cgroup.clone())
    }
}

impl CpuConfig {
    pub fn check(&self) -> anyhow::Result<()> {
        if self.machine_type.trim().is_empty() || self.machine_type.chars().count() > 100 {
            anyhow::bail!("cpu.machine_type: name the machine type the price catalog prices, e.g. c7i.2xlarge (at most 100 characters)");
        }
        if self.cores.is_some_and(|c| !(c > 0.0 && c <= 4096.0)) {
            anyhow::bail!("cpu.cores: must be above 0 and at most 4096");
        }
        for (number, d) in self.deployments.iter().enumerate() {
            let given = [&d.unit, &d.cgroup, &d.process]
                .iter()
                .filter(|v| v.is_some())
                .count();
            if given != 1 {
                anyhow::bail!(
                    "cpu.deployments[{number}] ({}): name exactly one of unit, cgroup or process",
                    d.deployment
                );
            }
            if d.cores.is_some_and(|c| !(c > 0.0 && c <= 4096.0)) {
                anyhow::bail!(
                    "cpu.deployments[{number}] ({}): cores must be above 0 and at most 4096",
                    d.deployment
                );
            }
        }
        Ok(())
    }
}

/// The machine's cores as `/proc/stat` counts them: ticks busy and in all, and how many cores.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MachineTicks {
    pub busy: u64,
    pub total: u64,
    pub cores: usize,
}

/// Reads `/proc/stat`: the aggregate `cpu` line (user nice system idle iowait irq softirq steal
/// guest guest_nice; guest time is already in user and nice, so it is not added again) and the
/// count of `cpuN` lines. Idle and iowait are not busy.
pub fn parse_proc_stat(text: &str) -> anyhow::Result<MachineTicks> {
    let mut ticks = None;
    let mut cores = 0;
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("cpu") => {
                let values: Vec<u64> = fields
                    .take(8)
                    .map(|f| f.parse::<u64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        anyhow!("/proc/stat: the cpu line has a field that is not a count")
                    })?;
                if values.len() < 4 {
                    anyhow::bail!("/proc/stat: the cpu line has fewer than 4 fields");
                }
                let total: u64 = values.iter().sum();
                let idle = values[3] + values.get(4).copied().unwrap_or(0);
                ticks = Some((total.saturating_sub(idle), total));
            }
            Some(name) if name.starts_with("cpu") => cores += 1,
            _ => {}
        }
    }
    let (busy, total) = ticks.ok_or_else(|| anyhow!("/proc/stat has no cpu line"))?;
    Ok(MachineTicks {
        busy,
        total,
        cores: cores.max(1),
    })
}

/// Memory in use, in MiB, from `/proc/meminfo`: MemTotal less MemAvailable (kB).
pub fn parse_meminfo(text: &str) -> Option<f64> {
    let field = |name: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(name)?.strip_prefix(':')?;
            rest.split_whitespace().next()?.parse::<f64>().ok()
        })
    };
    Some(((field("MemTotal")? - field("MemAvailable")?) / 1024.0).max(0.0))
}

/// A cgroup's CPU time in seconds, from `cpu.stat`'s `usage_usec`.
pub fn parse_cpu_stat(text: &str) -> Option<f64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix("usage_usec ")?;
        value.trim().parse::<f64>().ok().map(|usec| usec / 1e6)
    })
}

/// A cgroup's quota in cores, from `cpu.max` ("$MAX $PERIOD"; `max`: none).
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut fields = text.split_whitespace();
    let quota = fields.next()?.parse::<f64>().ok()?;
    let period = fields.next().map_or(Some(100_000.0), |p| p.parse().ok())?;
    (period > 0.0 && quota > 0.0).then(|| quota / period)
}

/// A process's name and CPU time in seconds from `/proc/<pid>/stat`: the name is between the
/// first `(` and the last `)` (it may hold spaces and parentheses); utime and stime are the 12th
/// and 13th fields after it.
pub fn parse_pid_stat(text: &str) -> Option<(String, f64)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let name = text.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((name, (utime + stime) / TICKS_PER_SECOND))
}

/// One reading of the machine and of each deployment: CPU seconds used so far and memory now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub machine: MachineTicks,
    pub memory_mib: f64,
    /// Per configured deployment, in order: (CPU seconds, memory in MiB, cgroup quota in cores).
    pub deployments: Vec<Option<(f64, f64, Option<f64>)>>,
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Reads the counters now. A deployment whose cgroup or processes cannot be read is None (it is
/// not reported this time, and the failure is the caller's to log).
pub fn snapshot(config: &CpuConfig) -> anyhow::Result<(Snapshot, Vec<String>)> {
    let machine = parse_proc_stat(&read(&config.proc_root.join("stat"))?)?;
    let memory_mib = parse_meminfo(&read(&config.proc_root.join("meminfo"))?).unwrap_or(0.0);
    let mut problems = Vec::new();
    let mut deployments = Vec::new();
    for deployment in &config.deployments {
        let reading = match (deployment.cgroup_path(), &deployment.process) {
            (Some(path), _) => read_cgroup(&config.cgroup_root.join(path)),
            (None, Some(name)) => read_processes(&config.proc_root, name),
            (None, None) => Err(anyhow!("no unit, cgroup or process")),
        };
        match reading {
            Ok(reading) => deployments.push(Some(reading)),
            Err(error) => {
                problems.push(format!("{}: {error:#}", deployment.deployment));
                deployments.push(None);
            }
        }
    }
    Ok((
        Snapshot {
            machine,
            memory_mib,
            deployments,
        },
        problems,
    ))
}

fn read_cgroup(dir: &Path) -> anyhow::Result<(f64, f64, Option<f64>)> {
    let seconds = parse_cpu_stat(&read(&dir.join("cpu.stat"))?)
        .ok_or_else(|| anyhow!("{}/cpu.stat has no usage_usec", dir.display()))?;
    let memory = read(&dir.join("memory.current"))
        .ok()
        .and_then(|text| text.trim().parse::<f64>().ok())
        .map_or(0.0, |bytes| bytes / 1_048_576.0);
    let quota = read(&dir.join("cpu.max"))
        .ok()
        .and_then(|t| parse_cpu_max(&t));
    Ok((seconds, memory, quota))
}

fn read_processes(proc_root: &Path, name: &str) -> anyhow::Result<(f64, f64, Option<f64>)> {
    let (mut seconds, mut memory, mut found) = (0.0, 0.0, 0);
    let entries = std::fs::read_dir(proc_root)
        .with_context(|| format!("cannot list {}", proc_root.display()))?;
    for entry in entries.filter_map(Result::ok) {
        let file_name = entry.file_name();
        if !file_name
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        // A process may end between the listing and the reading: it is simply not counted.
        let Some((comm, cpu)) = std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|text| parse_pid_stat(&text))
        else {
            continue;
        };
        if comm != name {
            continue;
        }
        found += 1;
        seconds += cpu;
        let resident = std::fs::read_to_string(entry.path().join("statm"))
            .ok()
            .and_then(|t| t.split_whitespace().nth(1)?.parse::<f64>().ok())
            .unwrap_or(0.0);
        memory += resident * PAGE_BYTES / 1_048_576.0;
    }
    if found == 0 {
        anyhow::bail!("no process named {name} is running");
    }
    Ok((seconds, memory, None))
}

/// What the machine and its deployments did between two snapshots `interval_s` apart, as devices
/// for the batch: each readable deployment's allotment of the machine (its cores, its share of
/// the machine, its utilization of its allotment), then the cores no deployment is allotted as
/// the host's idle capacity (no deployment). Allotments are the configured cores, else the
/// cgroup's quota, else an equal part of the cores left; allotments past the machine's cores
/// are scaled down to fit it. The machine's power is not read: CPU samples carry none.
pub fn readings(
    config: &CpuConfig,
    host: &str,
    previous: &Snapshot,
    current: &Snapshot,
    interval_s: f64,
) -> Vec<(GpuReading, Option<String>)> {
    let machine_cores = config.cores.unwrap_or(current.machine.cores as f64);
    let ticks = current.machine.total.saturating_sub(previous.machine.total) as f64;
    let busy_ticks = current.machine.busy.saturating_sub(previous.machine.busy) as f64;
    let machine_busy_cores = if ticks > 0.0 {
        busy_ticks / ticks * machine_cores
    } else {
        0.0
    };
    // Each deployment read both times: (its index, cores used, memory, its allotment if known).
    let mut used: Vec<(usize, f64, f64, Option<f64>)> = Vec::new();
    for (index, deployment) in config.deployments.iter().enumerate() {
        let (Some(Some(before)), Some(Some(now))) = (
            previous.deployments.get(index),
            current.deployments.get(index),
        ) else {
            continue;
        };
        let cores_used = ((now.0 - before.0) / interval_s.max(0.001)).max(0.0);
        used.push((index, cores_used, now.1, deployment.cores.or(now.2)));
    }
    let given: f64 = used.iter().filter_map(|u| u.3).sum();
    let unknown = used.iter().filter(|u| u.3.is_none()).count();
    let left = (machine_cores - given).max(0.0);
    let mut allotted: Vec<f64> = used
        .iter()
        .map(|u| u.3.unwrap_or(left / unknown.max(1) as f64))
        .collect();
    let sum: f64 = allotted.iter().sum();
    if sum > machine_cores {
        allotted.iter_mut().for_each(|a| *a *= machine_cores / sum);
    }
    let model = config.machine_type.trim().to_owned();
    let device = |name: &str, cores: f64, utilization: f64, memory: f64| GpuReading {
        index: 0,
        uuid: format!("CPU-{host}/{name}").chars().take(100).collect(),
        model: model.clone(),
        utilization_pct: (utilization * 10.0).round() / 10.0,
        memory_used_mib: memory.round(),
        power_watts: 0.0,
        slice: Some(Slice {
            parent_uuid: String::new(),
            instance: String::new(),
            profile: String::new(),
            share: (cores / machine_cores).clamp(0.000_001, 1.0),
        }),
        pod: None,
        cpu_cores: Some((cores * 1000.0).round() / 1000.0),
    };
    let mut devices = Vec::new();
    let (mut cores_used, mut memory_used) = (0.0, 0.0);
    for ((index, used_cores, memory, _), cores) in used.iter().zip(&allotted) {
        if *cores <= 0.0 {
            continue;
        }
        let deployment = &config.deployments[*index];
        cores_used += used_cores;
        memory_used += memory;
        devices.push((
            device(
                &deployment.deployment,
                *cores,
                (used_cores / cores * 100.0).min(100.0),
                *memory,
            ),
            Some(deployment.deployment.clone()),
        ));
    }
    let rest = machine_cores - allotted.iter().sum::<f64>();
    if rest >= 0.001 {
        let busy = (machine_busy_cores - cores_used).max(0.0);
        devices.push((
            device(
                "unallotted",
                rest,
                (busy / rest * 100.0).min(100.0),
                (current.memory_mib - memory_used).max(0.0),
            ),
            None,
        ));
    }
    devices
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/proc/stat` as proc(5) documents it, on a 4-core machine.
    fn proc_stat(user: u64, idle: u64) -> String {
        format!(
            "cpu  {user} 0 100 {idle} 20 0 5 0 0 0\n\
             cpu0 1 0 0 1 0 0 0 0 0 0\ncpu1 1 0 0 1 0 0 0 0 0 0\n\
             cpu2 1 0 0 1 0 0 0 0 0 0\ncpu3 1 0 0 1 0 0 0 0 0 0\n\
             intr 12345 0 0\nctxt 999\nbtime 1764000000\nprocesses 4242\n\
             procs_running 3\nprocs_blocked 0\nsoftirq 1 2 3 4 5 6 7 8 9 10 11\n"
        )
    }

    #[test]
    fn the_kernels_counters_are_read_as_documented() {
        let ticks = parse_proc_stat(&proc_stat(1_000, 5_000)).expect("parses");
        // Busy: user + system + softirq; idle and iowait are not.
        assert_eq!(
            ticks,
            MachineTicks {
                busy: 1_105,
                total: 6_125,
                cores: 4
            }
        );
        assert!(parse_proc_stat("intr 1\n").is_err());
        let meminfo = "MemTotal:       16310544 kB\nMemFree:         1093816 kB\n\
                       MemAvailable:    8155272 kB\nBuffers:          529216 kB\n";
        assert_eq!(parse_meminfo(meminfo), Some(7964.1328125));
        let cpu_stat = "usage_usec 8123456789\nuser_usec 7000000000\nsystem_usec 1123456789\n\
                        nr_periods 0\nnr_throttled 0\nthrottled_usec 0\n";
        assert_eq!(parse_cpu_stat(cpu_stat), Some(8123.456789));
        assert_eq!(parse_cpu_max("400000 100000\n"), Some(4.0));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        // A name with a space and a parenthesis, then state, ppid, ... utime (14), stime (15).
        let stat = "4242 (gunicorn: (worker)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    1234 566 0 0 20 0 1 0 100 123456789 5000 18446744073709551615";
        assert_eq!(
            parse_pid_stat(stat),
            Some(("gunicorn: (worker)".to_owned(), 18.0))
        );
    }

    fn config(deployments: Vec<CpuDeployment>) -> CpuConfig {
        CpuConfig {
            machine_type: "c7i.2xlarge".into(),
            cores: Some(8.0),
            proc_root: default_proc(),
            cgroup_root: default_cgroup(),
            deployments,
        }
    }

    fn deployment(key: &str, cores: Option<f64>) -> CpuDeployment {
        CpuDeployment {
            deployment: key.into(),
            unit: Some(format!("{key}.service")),
            cgroup: None,
            process: None,
            cores,
        }
    }

    #[test]
    fn deployments_take_their_allotment_and_the_rest_is_idle_capacity() {
        let config = config(vec![
            deployment("fraud-lgbm-cpu", Some(4.0)),
            deployment("ranker-xgb", None),
        ]);
        let before = Snapshot {
            machine: MachineTicks {
                busy: 0,
                total: 0,
                cores: 8,
            },
            memory_mib: 0.0,
            deployments: vec![Some((100.0, 0.0, None)), Some((50.0, 0.0, Some(2.0)))],
        };
        // Ten seconds: the machine 50% busy (4 cores); fraud used 3 cores, the ranker 0.5.
        let after = Snapshot {
            machine: MachineTicks {
                busy: 4_000,
                total: 8_000,
                cores: 8,
            },
            memory_mib: 9_000.0,
            deployments: vec![
                Some((130.0, 2_048.0, None)),
                Some((55.0, 1_024.0, Some(2.0))),
            ],
        };
        let devices = readings(&config, "cpu-node-1", &before, &after, 10.0);
        let shares: Vec<(Option<&str>, f64, f64)> = devices
            .iter()
            .map(|(d, key)| {
                (
                    key.as_deref(),
                    d.cpu_cores.expect("cores"),
                    d.utilization_pct,
                )
            })
            .collect();
        assert_eq!(
            shares,
            [
                (Some("fraud-lgbm-cpu"), 4.0, 75.0),
                // The cgroup's quota of 2 cores.
                (Some("ranker-xgb"), 2.0, 25.0),
                // 2 cores left, 0.5 of the machine's 4 busy cores not the deployments'.
                (None, 2.0, 25.0),
            ]
        );
        let total: f64 = devices
            .iter()
            .map(|(d, _)| d.slice.as_ref().map_or(1.0, |s| s.share))
            .sum();
        assert!(
            (total - 1.0).abs() < 1e-9,
            "the parts add up to the machine"
        );
        assert_eq!(devices[0].0.uuid, "CPU-cpu-node-1/fraud-lgbm-cpu");
        assert_eq!(devices[2].0.memory_used_mib, 5_928.0);

        // Allotments past the machine are scaled to it, and nothing is left over.
        let config = CpuConfig {
            cores: Some(4.0),
            ..config
        };
        let devices = readings(&config, "cpu-node-1", &before, &after, 10.0);
        assert_eq!(devices.len(), 2);
        let cores: Vec<f64> = devices.iter().filter_map(|(d, _)| d.cpu_cores).collect();
        assert!((cores.iter().sum::<f64>() - 4.0).abs() < 0.01, "{cores:?}");
    }

    #[test]
    fn a_deployment_names_one_place_to_read() {
        let mut both = deployment("fraud-lgbm-cpu", None);
        both.process = Some("python3".into());
        assert!(config(vec![both]).check().is_err());
        assert!(config(vec![deployment("fraud-lgbm-cpu", Some(0.0))])
            .check()
            .is_err());
        assert!(config(vec![deployment("fraud-lgbm-cpu", None)])
            .check()
            .is_ok());
    }

    #[test]
    fn a_cgroup_and_processes_are_read_from_their_files() {
        let root = std::env::temp_dir().join(format!("pareto-cpu-{}", std::process::id()));
        let proc_root = root.join("proc");
        let cgroup = root.join("cgroup/system.slice/fraud.service");
        std::fs::create_dir_all(proc_root.join("4242")).expect("dirs");
        std::fs::create_dir_all(&cgroup).expect("dirs");
        std::fs::write(proc_root.join("stat"), proc_stat(10, 90)).expect("stat");
        std::fs::write(
            proc_root.join("meminfo"),
            "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n",
        )
        .expect("meminfo");
        std::fs::write(
            proc_root.join("4242/stat"),
            "4242 (ranker) S 1 1 1 0 -1 0 0 0 0 0 300 100 0 0 20 0 1 0 1 1 1",
        )
        .expect("pid stat");
        std::fs::write(proc_root.join("4242/statm"), "1000 256 10 1 0 100 0\n").expect("statm");
        std::fs::write(cgroup.join("cpu.stat"), "usage_usec 2500000\n").expect("cpu.stat");
        std::fs::write(cgroup.join("cpu.max"), "200000 100000\n").expect("cpu.max");
        std::fs::write(cgroup.join("memory.current"), "104857600\n").expect("memory");
        let mut by_process = deployment("ranker-xgb", None);
        by_process.unit = None;
        by_process.process = Some("ranker".into());
        let mut missing = deployment("gone", None);
        missing.unit = None;
        missing.process = Some("no-such-process".into());
        let config = CpuConfig {
            proc_root: proc_root.clone(),
            cgroup_root: root.join("cgroup"),
            ..config(vec![deployment("fraud", None), by_process, missing])
        };
        let (snapshot, problems) = snapshot(&config).expect("reads");
        assert_eq!(snapshot.machine.cores, 4);
        assert_eq!(snapshot.memory_mib, 1.0);
        assert_eq!(snapshot.deployments[0], Some((2.5, 100.0, Some(2.0))));
        assert_eq!(snapshot.deployments[1], Some((4.0, 1.0, None)));
        assert_eq!(snapshot.deployments[2], None);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("no process named no-such-process"),
            "{problems:?}"
        );
        std::fs::remove_dir_all(root).ok();
    }
}
