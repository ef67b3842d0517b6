//! A private PostgreSQL cluster in a folder of ours: used by `pcn` when no
//! `DATABASE_URL` is given, and by the test harness.
//!
//! The server runs as our child process, in its own process group (a Ctrl-C
//! in the terminal reaches `pcn`, which then shuts the database down after the
//! last request), and with a parent-death signal so that it never outlives us.
//! It listens only on a Unix socket in a folder only its owner can enter, so
//! trust authentication admits nobody else. As root, the programs run as the
//! `postgres` OS user, because PostgreSQL refuses to run as root.

use std::{
    fs,
    io::{self, Read as _, Seek as _},
    os::unix::{fs::PermissionsExt as _, process::CommandExt as _},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use nix::unistd::{Gid, Uid, User};

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "the PostgreSQL server programs (initdb, postgres) were not found; install them with \
         `apt-get install postgresql` (Debian/Ubuntu), or set DATABASE_URL to use an existing database"
    )]
    NotInstalled,
    #[error("running as root, but there is no `postgres` OS user to run the database as")]
    NoPostgresUser,
    #[error("{0}")]
    Setup(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let what = what.into();
    move |source| ClusterError::Io { what, source }
}

/// Options that only make sense for a throwaway cluster.
#[derive(Clone, Copy, Debug, Default)]
pub struct Durability {
    /// fsync off and friends: fast, and fine for data we throw away.
    pub throwaway: bool,
}

/// A running cluster; dropping it shuts the server down (fast mode) and waits.
pub struct Cluster {
    data_dir: PathBuf,
    socket_dir: PathBuf,
    child: Arc<Mutex<Option<Child>>>,
}

impl Cluster {
    /// Creates the cluster in `data_dir` if there is none, then starts it.
    pub fn start(
        data_dir: &Path,
        socket_dir: &Path,
        durability: Durability,
    ) -> Result<Self, ClusterError> {
        let bindir = find_bindir()?;
        let owner = run_as()?;
        let data_dir = absolute(data_dir)?;
        let socket_dir = absolute(socket_dir)?;
        if socket_dir.as_os_str().len() > 90 {
            return Err(ClusterError::Setup(format!(
                "the socket folder {} is too long for a Unix socket; set PCN_DATA_DIR to a shorter path",
                socket_dir.display()
            )));
        }
        for dir in [&data_dir, &socket_dir] {
            fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io_err(format!("securing {}", dir.display())))?;
            if let Some((uid, gid)) = owner {
                nix::unistd::chown(dir, Some(uid), Some(gid)).map_err(|e| {
                    ClusterError::Setup(format!("cannot hand {} to postgres: {e}", dir.display()))
                })?;
                check_reachable(dir)?;
            }
        }
        let log_path = data_dir.with_extension("log");
        if !data_dir.join("PG_VERSION").exists() {
            let mut initdb = command(&bindir.join("initdb"), owner);
            initdb.arg("-D").arg(&data_dir).args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
            ]);
            if durability.throwaway {
                initdb.arg("--no-sync");
            }
            let out = initdb.output().map_err(io_err(format!(
                "running {}",
                bindir.join("initdb").display()
            )))?;
            if !out.status.success() {
                return Err(ClusterError::Setup(format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )));
            }
        }
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io_err(format!("opening {}", log_path.display())))?;
        if let Some((uid, gid)) = owner {
            let _ = nix::unistd::chown(&log_path, Some(uid), Some(gid));
        }
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        if running(&data_dir) && socket_dir.join(".s.PGSQL.5432").exists() {
            // Another `pcn` (say, `serve` while we run `user create`) runs it.
            return Ok(Self {
                data_dir,
                socket_dir,
                child: Arc::new(Mutex::new(None)),
            });
        }
        let mut postgres = command(&bindir.join("postgres"), owner);
        postgres
            .arg("-D")
            .arg(&data_dir)
            .arg("-k")
            .arg(&socket_dir)
            .args([
                "-c",
                "listen_addresses=",
                "-c",
                "unix_socket_permissions=0700",
            ])
            .args(["-c", "max_connections=300"]);
        if durability.throwaway {
            postgres.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        postgres
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(io_err("log"))?)
            .stderr(log)
            .process_group(0);
        die_with_parent(&mut postgres);
        let child = postgres.spawn().map_err(io_err("starting postgres"))?;
        let cluster = Self {
            data_dir: data_dir.clone(),
            socket_dir,
            child: Arc::new(Mutex::new(Some(child))),
        };
        cluster.wait_ready(&log_path, log_start)?;
        Ok(cluster)
    }

    /// Waits until the postmaster says "ready" in its pid file.
    fn wait_ready(&self, log_path: &Path, log_start: u64) -> Result<(), ClusterError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let pid_file = self.data_dir.join("postmaster.pid");
        loop {
            if let Ok(text) = fs::read_to_string(&pid_file)
                // "standby": a hot standby ready for read-only connections.
                && text
                    .lines()
                    .nth(7)
                    .is_some_and(|l| matches!(l.trim(), "ready" | "standby"))
                && self.socket_dir.join(".s.PGSQL.5432").exists()
            {
                return Ok(());
            }
            let exited = {
                let mut guard = self.child.lock().unwrap_or_else(|e| e.into_inner());
                match guard.as_mut().map(Child::try_wait) {
                    Some(Ok(Some(status))) => Some(status),
                    _ => None,
                }
            };
            if exited.is_some() || Instant::now() > deadline {
                let mut tail = String::new();
                if let Ok(mut f) = fs::File::open(log_path) {
                    let _ = f.seek(io::SeekFrom::Start(log_start));
                    let _ = f.read_to_string(&mut tail);
                }
                return Err(ClusterError::Setup(format!(
                    "PostgreSQL did not start ({}); its log says:\n{}",
                    exited.map_or("timed out".to_string(), |s| s.to_string()),
                    tail.trim()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A connection URL for `database` as the `postgres` superuser.
    pub fn url(&self, database: &str) -> String {
        let host = percent_encoding::utf8_percent_encode(
            &self.socket_dir.to_string_lossy(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        // The socket folder, percent-encoded, is the URL's host: a `host=`
        // query parameter would be tried only after the default localhost.
        format!("postgres://postgres@{host}/{database}")
    }

    /// Makes `data_dir` (new or empty) a streaming standby of this cluster
    /// (`pg_basebackup -R`): start it with `Cluster::start` on a socket
    /// folder of its own, and it follows this one, read-only.
    pub fn make_standby(&self, data_dir: &Path) -> Result<(), ClusterError> {
        let bindir = find_bindir()?;
        let owner = run_as()?;
        let data_dir = absolute(data_dir)?;
        fs::create_dir_all(&data_dir)
            .map_err(io_err(format!("creating {}", data_dir.display())))?;
        fs::set_permissions(&data_dir, fs::Permissions::from_mode(0o700))
            .map_err(io_err(format!("securing {}", data_dir.display())))?;
        if let Some((uid, gid)) = owner {
            nix::unistd::chown(&data_dir, Some(uid), Some(gid)).map_err(|e| {
                ClusterError::Setup(format!(
                    "cannot hand {} to postgres: {e}",
                    data_dir.display()
                ))
            })?;
        }
        let out = command(&bindir.join("pg_basebackup"), owner)
            .arg("-D")
            .arg(&data_dir)
            .arg("-h")
            .arg(&self.socket_dir)
            .args(["-U", "postgres", "-R", "-X", "stream", "-c", "fast"])
            .output()
            .map_err(io_err("running pg_basebackup"))?;
        if !out.status.success() {
            return Err(ClusterError::Setup(format!(
                "pg_basebackup failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(())
    }

    /// The postmaster's process id, when we started it.
    pub fn pid(&self) -> Option<u32> {
        self.child
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(Child::id)
    }

    pub fn socket_path(&self) -> PathBuf {
        self.socket_dir.join(".s.PGSQL.5432")
    }

    /// Fast shutdown: open sessions are ended, data is checkpointed.
    pub fn stop(&self) {
        let child = self.child.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(mut child) = child {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGINT,
                );
            }
            let _ = child.wait();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where the server programs are: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn find_bindir() -> Result<PathBuf, ClusterError> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() && dir.join("postgres").exists() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").exists() && bin.join("postgres").exists()).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, p)| p)
        .ok_or(ClusterError::NotInstalled)
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): the installed
/// server's own, so of its major version, else whichever is on the `PATH`.
/// It runs as we do: our own cluster's socket admits root (and its owner),
/// and with `DATABASE_URL` the caller's `~/.pgpass` and certificates apply.
pub fn client_program(name: &str) -> PathBuf {
    find_bindir()
        .map(|dir| dir.join(name))
        .ok()
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(name))
}

/// The magic bytes a custom-format dump (`pg_dump -Fc`) begins with.
const CUSTOM_DUMP_MAGIC: &[u8] = b"PGDMP";

/// Writes the database at `url` to `out` in pg_dump's custom format
/// (compressed, restorable with `restore`): pg_dump writes to its standard
/// output, which is `out`, a file we opened, wherever it lies.
pub fn dump(url: &str, out: fs::File) -> Result<(), ClusterError> {
    let program = client_program("pg_dump");
    let out = libpq(Command::new(&program), url)
        .args(["--format=custom", "--no-password"])
        .stdin(Stdio::null())
        .stdout(out)
        .output()
        .map_err(io_err(format!("running {}", program.display())))?;
    if !out.status.success() {
        return Err(ClusterError::Setup(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// How many items (tables, their data, functions, grants…) the
/// custom-format dump `path` lists; an error when it is not one.
pub fn check_dump(path: &Path) -> Result<usize, ClusterError> {
    let not_a_dump = || {
        ClusterError::Setup(format!(
            "{} is not a PCN backup (a custom-format pg_dump file, as `pcn backup` writes)",
            path.display()
        ))
    };
    let mut file = fs::File::open(path).map_err(io_err(format!("opening {}", path.display())))?;
    let mut magic = [0u8; 5];
    if file.read_exact(&mut magic).is_err() || magic != CUSTOM_DUMP_MAGIC {
        return Err(not_a_dump());
    }
    file.rewind().map_err(io_err("rewinding the backup"))?;
    let program = client_program("pg_restore");
    let out = Command::new(&program)
        .arg("--list")
        .stdin(file)
        .output()
        .map_err(io_err(format!("running {}", program.display())))?;
    if !out.status.success() {
        return Err(ClusterError::Setup(format!(
            "{}: {}",
            not_a_dump(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .count())
}

/// Restores the custom-format dump `input` into the database at `url`, in
/// one transaction (all or nothing): each object of the dump is dropped if
/// present and made again, grants included, owned by `url`'s user (the one
/// PCN migrates as, whoever owned them where the dump was made).
pub fn restore(url: &str, input: fs::File) -> Result<(), ClusterError> {
    let program = client_program("pg_restore");
    let out = libpq(Command::new(&program), url)
        .args([
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
        ])
        .stdin(input)
        .output()
        .map_err(io_err(format!("running {}", program.display())))?;
    if !out.status.success() {
        return Err(ClusterError::Setup(format!(
            "pg_restore failed, and changed nothing: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Points a libpq program at `url` (`--dbname`), with the password, if the
/// URL has one, in `PGPASSWORD` rather than on a command line anyone may read.
fn libpq(mut cmd: Command, url: &str) -> Command {
    let (url, password) = without_password(url);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd.arg("--dbname").arg(url);
    cmd
}

/// `postgres://user:secret@host/db` → (`postgres://user@host/db`, `secret`).
fn without_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), None);
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_string(), None);
    };
    let password = percent_encoding::percent_decode_str(password)
        .decode_utf8_lossy()
        .into_owned();
    (format!("{scheme}://{user}@{host}{path}"), Some(password))
}

/// Whether the postmaster named in the pid file is alive.
fn running(data_dir: &Path) -> bool {
    fs::read_to_string(data_dir.join("postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.trim().parse::<i32>().ok()))
        .is_some_and(|pid| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok())
}

fn run_as() -> Result<Option<(Uid, Gid)>, ClusterError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(u)) => Ok(Some((u.uid, u.gid))),
        _ => Err(ClusterError::NoPostgresUser),
    }
}

fn command(program: &Path, owner: Option<(Uid, Gid)>) -> Command {
    let mut cmd = Command::new(program);
    if let Some((uid, gid)) = owner {
        cmd.uid(uid.as_raw()).gid(gid.as_raw());
    }
    cmd
}

/// The `postgres` user must be able to walk down to its folders.
fn check_reachable(dir: &Path) -> Result<(), ClusterError> {
    match blocked_ancestor(dir) {
        Some((parent, mode)) => Err(ClusterError::Setup(format!(
            "the postgres OS user cannot enter {} (mode {mode:o}); set PCN_DATA_DIR to a folder \
             outside it, e.g. /var/lib/pcn",
            parent.display(),
        ))),
        None => Ok(()),
    }
}

/// The first existing folder above `dir` that others may not enter, with
/// its mode.
fn blocked_ancestor(dir: &Path) -> Option<(PathBuf, u32)> {
    dir.ancestors().skip(1).find_map(|parent| {
        let meta = fs::metadata(parent).ok()?;
        let mode = meta.permissions().mode();
        (mode & 0o001 == 0).then(|| (parent.to_path_buf(), mode & 0o777))
    })
}

/// Where the clusters go whose data folder `postgres` cannot reach.
const OUTSIDE: &str = "/var/lib/pcn";

/// Where `pcn` keeps its own cluster for the data folder `data_dir`.
pub struct Place {
    pub data: PathBuf,
    pub socket: PathBuf,
    /// Why the cluster is not inside `data_dir`, when it is not.
    pub moved: Option<String>,
}

impl Place {
    /// The database in `data_dir/pg`, its socket in `data_dir/run` (or a
    /// short folder under /tmp when that path is too long for a socket).
    /// Except, as root, where the `postgres` OS user could not reach them: a
    /// data folder in a home folder of mode 700 (`/root/pcn/data`) or in one
    /// made by `mktemp -d`. Then the cluster lives in /var/lib/pcn/<id>/,
    /// one per data folder, and `moved` says why. A cluster already in
    /// `data_dir/pg` stays there.
    pub fn for_data_dir(data_dir: &Path) -> Self {
        let abs = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
        let inside = Self {
            data: abs.join("pg"),
            socket: socket_dir_for(&abs),
            moved: None,
        };
        let as_root = Uid::effective().is_root();
        if !as_root || inside.data.join("PG_VERSION").exists() {
            return inside;
        }
        let Some((blocked, mode)) = blocked_ancestor(&inside.data) else {
            return inside;
        };
        let outside = Path::new(OUTSIDE).join(short_id(&abs));
        Self {
            data: outside.join("pg"),
            socket: outside.join("run"),
            moved: Some(format!(
                "the postgres OS user cannot enter {} (mode {mode:o})",
                blocked.display()
            )),
        }
    }
}

/// Twelve hex digits naming a data folder.
fn short_id(abs: &Path) -> String {
    let digest = crate::token::sha256(abs.as_os_str().as_encoded_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Where our own cluster keeps its socket: inside the data folder when the
/// path is short enough for a Unix socket, else a short folder under /tmp.
pub fn socket_dir_for(data_dir: &Path) -> PathBuf {
    let abs = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_path_buf());
    let inside = abs.join("run");
    if inside.as_os_str().len() <= 80 {
        return inside;
    }
    PathBuf::from(format!("/tmp/pcn-{}", short_id(&abs)))
}

fn absolute(p: &Path) -> Result<PathBuf, ClusterError> {
    std::path::absolute(p).map_err(io_err(format!("resolving {}", p.display())))
}

/// Ask the kernel to stop the server (fast shutdown) if we die without doing so.
#[expect(unsafe_code, reason = "prctl in the forked child, before exec")]
fn die_with_parent(cmd: &mut Command) {
    // SAFETY: runs in the child between fork and exec and only calls the
    // async-signal-safe prctl(2) and getppid(2). std applies uid/gid before
    // these hooks, and a credential change would otherwise clear the setting.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() == 1 {
                return Err(io::Error::other("parent already exited"));
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::without_password;

    #[test]
    fn a_password_leaves_the_url_for_the_environment() {
        assert_eq!(
            without_password("postgres://shop:s%40cret@db.example:5432/shop?sslmode=require"),
            (
                "postgres://shop@db.example:5432/shop?sslmode=require".to_string(),
                Some("s@cret".to_string())
            )
        );
        assert_eq!(
            without_password("postgres://postgres@%2Ftmp%2Fs/pcn"),
            ("postgres://postgres@%2Ftmp%2Fs/pcn".to_string(), None)
        );
        assert_eq!(
            without_password("host=/tmp dbname=pcn"),
            ("host=/tmp dbname=pcn".to_string(), None)
        );
    }
}
