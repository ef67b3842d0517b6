//! Configuration, read once from the environment (and `.env` by `main`).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use base64::Engine as _;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

/// Everything the server needs to know about where it runs.
#[derive(Clone, Debug)]
pub struct Config {
    /// `None`: run our own PostgreSQL cluster in `data_dir`.
    pub database_url: Option<SecretString>,
    /// A streaming replica for read-only pages (`db::replica`).
    pub read_database_url: Option<SecretString>,
    /// The password of the login role `pcn_app` the running app connects
    /// as, when the server asks for one (`db::app_url`).
    pub app_password: Option<SecretString>,
    pub bind: String,
    pub data_dir: PathBuf,
    pub pool_size: u32,
    pub public_url: String,
    /// The origin (scheme, host, port) of `PCN_PUBLIC_URL`: forms must come
    /// from exactly there. `None` when it is unset (then `public_url` is
    /// made up from the bind address, which browsers may never see).
    pub public_origin: Option<Origin>,
    /// Base64 of at least 64 bytes; generated into `data_dir` when absent.
    pub session_key: Option<SecretString>,
    pub idle_timeout: Duration,
    pub session_lifetime: Duration,
    pub timezone: chrono_tz::Tz,
    /// Requests per second per client; 0 turns the limit off.
    pub rate_limit: u32,
    pub trusted_proxies: Vec<IpNet>,
    /// Admins must sign in with a second factor: one without is sent to set
    /// it up before anything else (`PCN_REQUIRE_ADMIN_2FA=1`).
    pub require_admin_2fa: bool,
    /// How long a request waits for a pooled connection before a 503.
    pub pool_timeout: Duration,
    pub statement_timeout: Duration,
    /// How long a request body may take to arrive once its head has
    /// (`client_request_timeout` in `startup` bounds the head only).
    pub body_timeout: Duration,
    /// The same for a photo upload, which may be 100 MB from a tablet on
    /// the lot's Wi-Fi (`web::uploads`).
    pub upload_timeout: Duration,
    /// How many password hashes run at once (each takes 19 MiB and a core).
    pub hash_concurrency: usize,
    /// How many uploaded photos are converted at once (each takes a core
    /// and up to 192 MiB).
    pub photo_concurrency: usize,
    pub workers: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

fn bad(name: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        name,
        problem: problem.into(),
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds a configuration from any key lookup (the environment, or a test's map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        fn num<T: std::str::FromStr>(
            get: &impl Fn(&str) -> Option<String>,
            name: &'static str,
            default: T,
        ) -> Result<T, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| bad(name, format!("expected a whole number, got {v:?}"))),
            }
        }
        let bind = get("PCN_BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let public_url_configured = get("PCN_PUBLIC_URL").is_some();
        let public_url = get("PCN_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(bad("PCN_PUBLIC_URL", "must start with http:// or https://"));
        }
        let public_origin = match public_url_configured {
            false => None,
            true => Some(Origin::of_url(&public_url).ok_or_else(|| {
                bad(
                    "PCN_PUBLIC_URL",
                    format!("expected http(s)://host[:port][/path], got {public_url:?}"),
                )
            })?),
        };
        let timezone = match get("PCN_TIMEZONE") {
            None => chrono_tz::UTC,
            Some(tz) => tz
                .trim()
                .parse()
                .map_err(|_| bad("PCN_TIMEZONE", format!("unknown time zone {tz:?}")))?,
        };
        let trusted_proxies = match get("PCN_TRUSTED_PROXIES") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(parse_net)
                .collect::<Result<_, _>>()?,
        };
        let session_key = get("PCN_SESSION_KEY").map(SecretString::from);
        if let Some(key) = &session_key {
            decode_session_key(key)?;
        }
        // 16, measured on 2 cores with 16 concurrent clients at 10,000
        // vehicles (`PCN_BENCH_POOL_SIZE=4|8|16` with the page benchmark):
        // 4 connections cost 10–35 % (vehicle page 4,511 against 6,794
        // req/s); 8 and 16 are within noise of each other. 16 keeps reads
        // from queueing behind writes that wait on a vehicle's lock, and six
        // instances still fit PostgreSQL's default of 100 connections.
        let pool_size: u32 = num(&get, "PCN_POOL_SIZE", 16)?;
        if pool_size == 0 {
            return Err(bad("PCN_POOL_SIZE", "must be at least 1"));
        }
        let minutes = |name, default| -> Result<Duration, ConfigError> {
            let m: u64 = num(&get, name, default)?;
            if m == 0 {
                return Err(bad(name, "must be at least 1 minute"));
            }
            Ok(Duration::from_secs(m * 60))
        };
        let require_admin_2fa = match get("PCN_REQUIRE_ADMIN_2FA").as_deref().map(str::trim) {
            None | Some("0" | "false" | "no" | "off") => false,
            Some("1" | "true" | "yes" | "on") => true,
            Some(v) => {
                return Err(bad(
                    "PCN_REQUIRE_ADMIN_2FA",
                    format!("expected 1 or 0, got {v:?}"),
                ));
            }
        };
        Ok(Self {
            database_url: get("DATABASE_URL").map(SecretString::from),
            app_password: get("PCN_APP_PASSWORD").map(SecretString::from),
            read_database_url: get("PCN_READ_DATABASE_URL")
                .filter(|u| !u.trim().is_empty())
                .map(SecretString::from),
            data_dir: get("PCN_DATA_DIR").unwrap_or_else(|| "data".into()).into(),
            pool_size,
            public_url,
            public_origin,
            session_key,
            idle_timeout: minutes("PCN_IDLE_TIMEOUT", 30)?,
            session_lifetime: minutes("PCN_SESSION_LIFETIME", 720)?,
            timezone,
            rate_limit: num(&get, "PCN_RATE_LIMIT", 20)?,
            trusted_proxies,
            require_admin_2fa,
            pool_timeout: Duration::from_secs(2),
            statement_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            upload_timeout: Duration::from_secs(180),
            hash_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            photo_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()),
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            bind,
        })
    }

    /// Cookies get `Secure` when users reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn bind_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.bind.parse().map_err(|_| {
            bad(
                "PCN_BIND",
                format!("expected host:port, got {:?}", self.bind),
            )
        })
    }
}

/// How log lines are written to standard error (`PCN_LOG_FORMAT`), read
/// before everything else so that the first lines already have it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, coloured only on a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(std::env::var("PCN_LOG_FORMAT").ok().as_deref())
    }

    pub fn parse(value: Option<&str>) -> Result<Self, ConfigError> {
        match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("" | "text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(_) => Err(bad(
                "PCN_LOG_FORMAT",
                format!("expected text or json, got {:?}", value.unwrap_or_default()),
            )),
        }
    }
}

fn parse_net(s: &str) -> Result<IpNet, ConfigError> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            bad(
                "PCN_TRUSTED_PROXIES",
                format!("not an address or network: {s:?}"),
            )
        })
}

/// A web origin: scheme, host and port, compared as browsers compare them
/// (scheme and host in lower case, a default port the same as none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The value of an `Origin` header: `scheme://host[:port]`, nothing
    /// more. `null`, and anything else, is `None`.
    pub fn of_header(value: &str) -> Option<Self> {
        let (scheme, authority) = value.split_once("://")?;
        Self::parse(scheme, authority)
    }

    /// The origin of a URL: its authority, whatever path follows.
    pub fn of_url(url: &str) -> Option<Self> {
        let (scheme, rest) = url.split_once("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Self::parse(scheme, &rest[..end])
    }

    fn parse(scheme: &str, authority: &str) -> Option<Self> {
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let (host, port) = match authority.strip_prefix('[') {
            // An IPv6 literal: `[::1]` or `[::1]:8080`.
            Some(v6) => {
                let (addr, after) = v6.split_once(']')?;
                addr.parse::<std::net::Ipv6Addr>().ok()?;
                (format!("[{addr}]"), after)
            }
            None => {
                let (host, port) = authority
                    .find(':')
                    .map_or((authority, ""), |at| authority.split_at(at));
                let name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
                if host.is_empty() || !host.chars().all(name) {
                    return None;
                }
                (host.to_string(), port)
            }
        };
        let port = match port {
            "" => default_port,
            p => p.strip_prefix(':')?.parse().ok()?,
        };
        Some(Self {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// The signing key must be long enough for HMAC-SHA512 (actix-session's `Key`).
pub fn decode_session_key(key: &SecretString) -> Result<Vec<u8>, ConfigError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.expose_secret().trim())
        .map_err(|_| bad("PCN_SESSION_KEY", "is not valid base64"))?;
    if bytes.len() < 64 {
        return Err(bad(
            "PCN_SESSION_KEY",
            format!("must decode to at least 64 bytes, got {}", bytes.len()),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080");
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.idle_timeout, Duration::from_secs(30 * 60));
        assert_eq!(c.session_lifetime, Duration::from_secs(720 * 60));
        assert_eq!(c.rate_limit, 20);
        assert_eq!(c.body_timeout, Duration::from_secs(10));
        assert!(!c.secure_cookies());
        assert!(c.database_url.is_none());
        assert!(!c.require_admin_2fa);
    }

    #[test]
    fn admins_can_be_required_to_use_a_second_factor() {
        assert!(
            cfg(&[("PCN_REQUIRE_ADMIN_2FA", "1")])
                .unwrap()
                .require_admin_2fa
        );
        assert!(
            !cfg(&[("PCN_REQUIRE_ADMIN_2FA", "0")])
                .unwrap()
                .require_admin_2fa
        );
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(LogFormat::parse(None).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some("text")).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some(" JSON ")).unwrap(), LogFormat::Json);
        let err = LogFormat::parse(Some("xml")).unwrap_err();
        assert_eq!(err.name, "PCN_LOG_FORMAT");
        assert!(err.to_string().contains("expected text or json"), "{err}");
    }

    #[test]
    fn https_public_url_turns_on_secure_cookies() {
        let c = cfg(&[("PCN_PUBLIC_URL", "https://pcn.example/")]).unwrap();
        assert!(c.secure_cookies());
        assert_eq!(c.public_url, "https://pcn.example");
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("PCN_TIMEZONE", "Mars/Olympus"),
            ("PCN_RATE_LIMIT", "fast"),
            ("PCN_TRUSTED_PROXIES", "10.0.0.0/99"),
            ("PCN_SESSION_KEY", "c2hvcnQ="),
            ("PCN_IDLE_TIMEOUT", "0"),
            ("PCN_REQUIRE_ADMIN_2FA", "sometimes"),
        ] {
            let err = cfg(&[(k, v)]).unwrap_err();
            assert_eq!(err.name, k);
        }
    }

    #[test]
    fn the_public_origin_is_scheme_host_and_port_and_only_when_configured() {
        assert_eq!(cfg(&[]).unwrap().public_origin, None);
        let c = cfg(&[("PCN_PUBLIC_URL", "https://PCN.example/app/")]).unwrap();
        let origin = c.public_origin.unwrap();
        for same in [
            "https://pcn.example",
            "https://pcn.example:443",
            "HTTPS://Pcn.Example",
        ] {
            assert_eq!(Origin::of_header(same).as_ref(), Some(&origin), "{same}");
        }
        for other in [
            "http://pcn.example",
            "https://pcn.example:8443",
            "https://pcn.example.evil.example",
            "https://evil.example",
            "https://pcn.example/",
            "https://user@pcn.example",
            "null",
            "",
        ] {
            assert_ne!(Origin::of_header(other).as_ref(), Some(&origin), "{other}");
        }
        let v6 = Origin::of_url("http://[::1]:8080").unwrap();
        assert_eq!(Origin::of_header("http://[::1]:8080"), Some(v6));
        assert!(cfg(&[("PCN_PUBLIC_URL", "https://")]).is_err());
    }

    #[test]
    fn trusted_proxies_take_addresses_and_networks() {
        let c = cfg(&[("PCN_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1")]).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
    }
}
