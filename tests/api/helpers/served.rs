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
        let mut command = Command::new(env!("CARGO_BIN_EXE_pcn"));
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
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0)
        };
        (kb("VmHWM:") / 1024, kb("VmRSS:") / 1024)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
