//! `pcn serve` as a process of its own (the command line, SIGTERM and load
//! tests): started, read until it says where it listens, killed if a test
//! ends before it exits.

use std::{
    io::{BufRead as _, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

pub struct Served {
    child: Child,
    /// `http://127.0.0.1:port`.
    pub address: String,
    /// What it printed before it listened (the setup link, say).
    pub printed: Vec<String>,
}

impl Served {
    /// `pcn serve` on a free port with these variables set (`None` removes
    /// one), the data folder `/nonexistent` unless given; waits up to 90 s
    /// for its address.
    pub fn start(env: &[(&str, Option<&str>)]) -> Self {
        Self::start_binary(env!("CARGO_BIN_EXE_pcn"), env)
    }

    /// `start`, with another build of `pcn` (the benchmark compares builds).
    pub fn start_binary(binary: &str, env: &[(&str, Option<&str>)]) -> Self {
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env("PCN_BIND", "127.0.0.1:0")
            .env("PCN_DATA_DIR", "/nonexistent")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in env {
            match value {
                Some(v) => command.env(key, v),
                None => command.env_remove(key),
            };
        }
        let mut child = command.spawn().expect("start pcn");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        // Keeps reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut printed = Vec::new();
        let address = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .expect("pcn printed its address");
            if let Some(rest) = line.strip_prefix("PCN is listening on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
            printed.push(line);
        };
        Self {
            child,
            address,
            printed,
        }
    }

    pub fn pid(&self) -> nix::unistd::Pid {
        nix::unistd::Pid::from_raw(self.child.id() as i32)
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        nix::sys::signal::kill(self.pid(), signal).expect("signal pcn");
    }

    /// Its exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("pcn's status")
    }

    /// Waits up to `limit` for it to exit.
    pub async fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "pcn did not exit within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// (peak, current) resident memory in MB, from the kernel's counters.
    pub fn memory_mb(&self) -> (u64, u64) {
        (self.status_kb("VmHWM:") / 1024, self.resident_kb() / 1024)
    }

    /// Current resident memory in KB.
    pub fn resident_kb(&self) -> u64 {
        self.status_kb("VmRSS:")
    }

    /// A figure of `/proc/PID/status` given in kB (0 if unreadable).
    fn status_kb(&self, key: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// Resets the kernel's peak resident memory counter (`VmHWM`) to the
    /// current resident size, so `memory_mb` then gives the peak since now.
    pub fn reset_peak_memory(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
            .expect("reset pcn's peak resident memory");
    }

    /// The CPU time it has used so far, user and system.
    pub fn cpu_time(&self) -> Duration {
        process_cpu_time(self.child.id(), false)
    }
}

/// The CPU time process `pid` has used so far, user and system
/// (`/proc/PID/stat` fields 14 and 15, in clock ticks), and with `children`
/// that of its children it has waited for (16 and 17).
pub fn process_cpu_time(pid: u32, children: bool) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    // The command name (field 2) is in parentheses and may hold spaces:
    // count from after it, where field 3 is.
    let ticks: u64 = stat[stat.rfind(')').expect("stat's command name") + 1..]
        .split_whitespace()
        .skip(11)
        .take(if children { 4 } else { 2 })
        .map(|f| f.parse::<u64>().expect("utime, stime, cutime, cstime"))
        .sum();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

/// The CPU time the whole machine has spent busy so far, all processes and
/// all cores (`/proc/stat`: user, nice, system, irq, softirq, steal).
pub fn machine_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let ticks: u64 = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .expect("/proc/stat's cpu line")
        .split_whitespace()
        .map(|f| f.parse::<u64>().expect("ticks"))
        .enumerate()
        // Not idle (3) and iowait (4); guest time (8, 9) is in user already.
        .filter(|(i, _)| matches!(i, 0..=2 | 5..=7))
        .map(|(_, t)| t)
        .sum();
    Duration::from_secs_f64(ticks as f64 / clock_ticks_per_second())
}

#[expect(unsafe_code, reason = "asking libc for the clock tick rate")]
fn clock_ticks_per_second() -> f64 {
    // SAFETY: `sysconf` only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    assert!(ticks > 0, "sysconf(_SC_CLK_TCK)");
    ticks as f64
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
