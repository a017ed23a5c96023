//! The machine a run happens on, and the CPU and memory of each process
//! involved, read from `/proc`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What the machine is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Machine {
    /// Logical CPUs (`nproc`).
    pub(crate) cpus: usize,
    /// CPU model name.
    pub(crate) cpu_model: String,
    /// Total memory, MiB.
    pub(crate) memory_mib: u64,
    /// Kernel release.
    pub(crate) kernel: String,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

impl Machine {
    /// Reads `/proc`.
    pub(crate) fn detect() -> Self {
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        let memory_mib = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb / 1024)
            .unwrap_or(0);
        Machine {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            cpu_model,
            memory_mib,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
        }
    }
}

/// Clock ticks per second of `/proc/<pid>/stat` times. Linux fixes
/// `USER_HZ` at 100 on every architecture we run on.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU seconds (user + system) a process has used.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields resume after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) … utime(14) stime(15), 1-based in proc(5).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SECOND)
}

/// Resident memory of a process, MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// Busy and total jiffies of the whole machine.
fn machine_jiffies() -> Option<(f64, f64)> {
    let stat = read("/proc/stat");
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<f64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: f64 = v.iter().sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    Some((total - idle, total))
}

/// CPU and memory of one process over a window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ProcessUsage {
    /// Average cores busy (1.0 = one core fully used).
    pub(crate) cpu_cores: f64,
    /// Peak resident memory seen, MiB.
    pub(crate) peak_rss_mib: f64,
}

/// CPU and memory over a window, per process and for the machine.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Usage {
    /// Per process, by role name.
    pub(crate) processes: BTreeMap<String, ProcessUsage>,
    /// Fraction of the machine's CPU that was busy (all processes).
    pub(crate) machine_busy: f64,
    /// Cores busy with processes the run does not watch (other work on the
    /// machine): a measurement taken while this is high is disturbed.
    #[serde(default)]
    pub(crate) other_cores: f64,
}

/// The processes a run watches, by name. Shared so topologies can add and
/// remove processes while a run goes on.
#[derive(Clone, Default)]
pub(crate) struct Watched(Arc<Mutex<BTreeMap<String, u32>>>);

impl Watched {
    /// Watches `pid` as `name`.
    pub(crate) fn add(&self, name: &str, pid: u32) {
        if let Ok(mut m) = self.0.lock() {
            m.insert(name.to_owned(), pid);
        }
    }

    /// Stops watching `name`.
    pub(crate) fn remove(&self, name: &str) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(name);
        }
    }

    /// Resident memory of the process watched as `name` now, MiB.
    pub(crate) fn rss_mib(&self, name: &str) -> Option<f64> {
        let pid = *self.0.lock().ok()?.get(name)?;
        rss_mib(pid)
    }

    fn snapshot(&self) -> BTreeMap<String, u32> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// Samples CPU and memory until stopped.
pub(crate) struct Sampler {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<Usage>,
}

impl Sampler {
    /// Starts sampling the watched processes every 250 ms.
    pub(crate) fn start(watched: Watched) -> Self {
        let stop = tokio_util::sync::CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let machine0 = machine_jiffies();
            let mut first: BTreeMap<String, (u32, f64, Instant)> = BTreeMap::new();
            let mut last: BTreeMap<String, (f64, Instant)> = BTreeMap::new();
            let mut peak: BTreeMap<String, f64> = BTreeMap::new();
            loop {
                for (name, pid) in watched.snapshot() {
                    let now = Instant::now();
                    if let Some(cpu) = cpu_seconds(pid) {
                        first.entry(name.clone()).or_insert((pid, cpu, now));
                        last.insert(name.clone(), (cpu, now));
                    }
                    if let Some(rss) = rss_mib(pid) {
                        let p = peak.entry(name).or_insert(0.0);
                        *p = p.max(rss);
                    }
                }
                tokio::select! {
                    () = token.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
            // One last reading so short windows still count.
            for (name, (pid, _, _)) in &first {
                if let Some(cpu) = cpu_seconds(*pid) {
                    last.insert(name.clone(), (cpu, Instant::now()));
                }
            }
            let machine_busy = match (machine0, machine_jiffies()) {
                (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => (b1 - b0) / (t1 - t0),
                _ => 0.0,
            };
            let processes: BTreeMap<String, ProcessUsage> = first
                .iter()
                .filter_map(|(name, (_, cpu0, t0))| {
                    let (cpu1, t1) = last.get(name)?;
                    let secs = t1.duration_since(*t0).as_secs_f64();
                    Some((
                        name.clone(),
                        ProcessUsage {
                            cpu_cores: if secs > 0.0 {
                                (cpu1 - cpu0) / secs
                            } else {
                                0.0
                            },
                            peak_rss_mib: peak.get(name).copied().unwrap_or(0.0),
                        },
                    ))
                })
                .collect();
            let cpus = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1) as f64;
            let ours: f64 = processes.values().map(|p: &ProcessUsage| p.cpu_cores).sum();
            Usage {
                other_cores: (machine_busy * cpus - ours).max(0.0),
                processes,
                machine_busy,
            }
        });
        Sampler { stop, task }
    }

    /// Stops and reports.
    pub(crate) async fn finish(self) -> Usage {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_measurable() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).is_some());
        assert!(rss_mib(pid).unwrap() > 0.0);
        let m = Machine::detect();
        assert!(m.cpus >= 1);
        assert!(m.memory_mib > 0);
    }
}
