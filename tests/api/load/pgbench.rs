//! The benchmark's reference: the SQL PostgreSQL runs for a page, captured
//! from the server's log, and pgbench running exactly that.

use std::{path::Path, time::Duration};

use diesel_async::{AsyncConnection as _, AsyncPgConnection, SimpleAsyncConnection as _};

use reqwest::StatusCode;

use super::{Figures, browser_client, sign_in};
use crate::helpers::{Served, server_log};

/// A statement as PostgreSQL ran it: its text, its parameters (`None`:
/// NULL) and their types as the app declared them (`None`: not known).
#[derive(Debug, PartialEq)]
pub(super) struct Captured {
    pub(super) sql: String,
    pub(super) parameters: Vec<Option<String>>,
    pub(super) types: Vec<Option<String>>,
}

/// What makes `database` log, for new connections, each statement with its
/// parameters, and the parse tree of each statement prepared (where the
/// types of its parameters are), with its text.
const CAPTURE_SETTINGS: [(&str, &str); 4] = [
    ("log_statement", "'all'"),
    ("log_min_duration_statement", "0"),
    ("debug_print_parse", "on"),
    ("debug_pretty_print", "off"),
];

/// The SQL PostgreSQL runs for one GET of `path` by a signed-in browser
/// (`staff0`), from the server's log: a `pcn serve` of its own (started
/// with `env`) opens its connections while `database` logs every statement,
/// gets the page once to fill its caches, then once between two markers.
/// `None` when the server's log is not ours to read (`TEST_DATABASE_URL`).
pub(super) async fn capture(
    binary: &str,
    database: &str,
    url: &str,
    env: &[(&str, Option<&str>)],
    path: &str,
) -> Option<Vec<Captured>> {
    use diesel_async::RunQueryDsl as _;
    let log = server_log()?;
    let log_start = std::fs::metadata(&log)
        .expect("the test server's log")
        .len();
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    for (name, value) in CAPTURE_SETTINGS {
        conn.batch_execute(&format!("ALTER DATABASE {database} SET {name} = {value}"))
            .await
            .unwrap();
    }
    let server = Served::start_binary(binary, env);
    let base = server.address.clone();
    let browser = browser_client(999_999);
    assert!(sign_in(&base, &browser, "staff0@dealer.example").await);
    let get = async || {
        let r = browser.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.bytes().await.unwrap();
    };
    get().await;
    // A connection opened now logs its statements too: the markers.
    let mut marker = AsyncPgConnection::establish(url).await.unwrap();
    let nonce = rand::random::<u64>();
    let (begin, end) = (
        format!("pcn-capture-begin-{nonce}"),
        format!("pcn-capture-end-{nonce}"),
    );
    marker
        .batch_execute(&format!("SELECT '{begin}'"))
        .await
        .unwrap();
    get().await;
    marker
        .batch_execute(&format!("SELECT '{end}'"))
        .await
        .unwrap();
    drop(server);
    drop(marker);
    for (name, _) in CAPTURE_SETTINGS {
        conn.batch_execute(&format!("ALTER DATABASE {database} RESET {name}"))
            .await
            .unwrap();
    }
    let text = std::fs::read(&log).expect("the test server's log");
    let text = String::from_utf8_lossy(&text[usize::try_from(log_start).unwrap()..]);
    let (mut statements, oids) = statements_between(&text, &begin, &end);
    // The types' names, for casts pgbench's untyped parameters need (the
    // server would otherwise guess, and `now() - $1` is then no interval).
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    for (statement, oids) in statements.iter_mut().zip(oids) {
        for oid in oids {
            let name = match oid {
                Some(oid) => {
                    let row: Name = diesel::sql_query(
                        "SELECT format_type(CAST($1 AS bigint)::oid, NULL) AS name",
                    )
                    .bind::<diesel::sql_types::BigInt, _>(i64::from(oid))
                    .get_result(&mut conn)
                    .await
                    .unwrap();
                    Some(row.name)
                }
                None => None,
            };
            statement.types.push(name);
        }
    }
    Some(statements)
}

/// The statements logged after the one naming `begin` and before the one
/// naming `end`, except those of the connection that logged the markers;
/// and for each, the type (OID) of each parameter, from the parse tree
/// logged when it was prepared.
fn statements_between(log: &str, begin: &str, end: &str) -> (Vec<Captured>, Vec<Vec<Option<u32>>>) {
    // Entries: a line and its continuation lines (which start with a tab).
    let mut entries: Vec<String> = Vec::new();
    for line in log.lines() {
        match (line.strip_prefix('\t'), entries.last_mut()) {
            (Some(more), Some(last)) => {
                last.push('\n');
                last.push_str(more);
            }
            _ => entries.push(line.to_string()),
        }
    }
    // The default `log_line_prefix` is "%m [%p] ": a time, then the pid.
    let split = |entry: &str| -> Option<(u32, String)> {
        let open = entry.find('[')?;
        let close = open + entry[open..].find("] ")?;
        let pid = entry[open + 1..close].parse().ok()?;
        Some((pid, entry[close + 2..].to_string()))
    };
    /// What a connection logged last, which its next DETAIL belongs to.
    enum Last {
        Statement(usize),
        ParseTree,
        Other,
    }
    let mut last: std::collections::HashMap<u32, Last> = std::collections::HashMap::new();
    // Per connection, the parameter types of the tree it parsed last; then
    // per statement text, once its parse is logged.
    let mut tree: std::collections::HashMap<u32, Vec<Option<u32>>> = Default::default();
    let mut types: std::collections::HashMap<String, Vec<Option<u32>>> = Default::default();
    let mut statements: Vec<Captured> = Vec::new();
    // None before the begin marker; Some(its connection) after.
    let mut marker: Option<u32> = None;
    for (pid, body) in entries.iter().filter_map(|e| split(e)) {
        if let Some(detail) = body.strip_prefix("DETAIL:  ") {
            match last.get(&pid) {
                Some(Last::Statement(i)) => {
                    if let Some(list) = detail.strip_prefix("parameters: ") {
                        statements[*i].parameters = parse_parameters(list);
                    }
                }
                Some(Last::ParseTree) => {
                    tree.insert(pid, parameter_types(detail));
                }
                _ => {}
            }
            continue;
        }
        if body.starts_with("STATEMENT:  ") || body.starts_with("CONTEXT:  ") {
            continue;
        }
        let mut now = Last::Other;
        if body == "LOG:  parse tree:" {
            now = Last::ParseTree;
        } else if let Some(rest) = body.strip_prefix("LOG:  duration: ")
            && let Some((_, parse)) = rest.split_once(" ms  parse ")
            && let Some((_, sql)) = parse.split_once(": ")
        {
            types.insert(sql.to_string(), tree.remove(&pid).unwrap_or_default());
        } else if marker.is_none() {
            if body.starts_with("LOG:  statement: ") && body.contains(begin) {
                marker = Some(pid);
            }
        } else if marker == Some(pid) {
            if body.contains(end) {
                break;
            }
        } else if let Some(sql) = body
            .strip_prefix("LOG:  execute ")
            // "execute <name>: <sql>" (or "<name>/<portal>: ").
            .and_then(|rest| rest.split_once(": ").map(|(_, sql)| sql))
            .or_else(|| body.strip_prefix("LOG:  statement: "))
        {
            now = Last::Statement(statements.len());
            statements.push(Captured {
                sql: sql.to_string(),
                parameters: Vec::new(),
                types: Vec::new(),
            });
        }
        last.insert(pid, now);
    }
    let oids = statements
        .iter()
        .map(|s| {
            let mut known = types.get(&s.sql).cloned().unwrap_or_default();
            known.resize(known.len().max(s.parameters.len()), None);
            known
        })
        .collect();
    (statements, oids)
}

/// The type of each parameter (`$n`, n from 1) in a parse tree
/// (`{PARAM :paramkind 0 :paramid 3 :paramtype 1186 …}`), where it shows.
fn parameter_types(tree: &str) -> Vec<Option<u32>> {
    let tree = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut types = Vec::new();
    for node in tree.split("{PARAM ").skip(1) {
        let node = node.split('}').next().unwrap_or_default();
        let field = |name: &str| -> Option<u32> {
            let mut words = node.split(' ');
            words.find(|w| *w == name)?;
            words.next()?.parse().ok()
        };
        // Kind 0: a parameter the client sends (not a subquery's).
        if field(":paramkind") != Some(0) {
            continue;
        }
        if let (Some(id), Some(oid)) = (field(":paramid"), field(":paramtype")) {
            let i = id as usize - 1;
            if types.len() <= i {
                types.resize(i + 1, None);
            }
            types[i] = Some(oid);
        }
    }
    types
}

/// `$1 = 'a''b', $2 = NULL` → `[Some("a'b"), None]`.
fn parse_parameters(list: &str) -> Vec<Option<String>> {
    let mut values = Vec::new();
    let mut rest = list;
    while let Some(after) = rest.trim_start_matches([',', ' ']).strip_prefix('$') {
        let (number, after) = after.split_once(" = ").expect("$n = value");
        let n: usize = number.parse().expect("a parameter number");
        let value = if let Some(after) = after.strip_prefix("NULL") {
            rest = after;
            None
        } else {
            let quoted = after.strip_prefix('\'').expect("a quoted value");
            let mut value = String::new();
            let mut chars = quoted.char_indices().peekable();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().is_some_and(|&(_, c)| c == '\'') {
                        chars.next();
                    } else {
                        end = i + 1;
                        break;
                    }
                }
                value.push(c);
            }
            rest = &quoted[end..];
            Some(value)
        };
        if values.len() < n {
            values.resize(n, None);
        }
        values[n - 1] = value;
    }
    values
}

/// `sql` with `$n` (outside quoted text) replaced by `parameter(n)`.
fn replace_parameters(sql: &str, mut parameter: impl FnMut(usize) -> String) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quoted = false;
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
        }
        let starts_number = chars.peek().is_some_and(char::is_ascii_digit);
        if c == '$' && !quoted && starts_number && !(previous.is_alphanumeric() || previous == '_')
        {
            let mut n = 0usize;
            while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                n = n * 10 + d as usize;
                chars.next();
            }
            out.push_str(&parameter(n));
            previous = '0';
        } else {
            out.push(c);
            previous = c;
        }
    }
    out
}

/// pgbench next to the server's programs (same version), else on `PATH`.
fn find_pgbench() -> std::path::PathBuf {
    let beside_server = pcn::cluster::find_bindir()
        .ok()
        .map(|dir| dir.join("pgbench"));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("pgbench"));
    beside_server
        .into_iter()
        .chain(on_path)
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "pgbench not found (beside the PostgreSQL server programs or on PATH): \
                 install it, e.g. `apt-get install postgresql` (Debian puts it in \
                 postgresql-NN) or `postgresql-client` (elsewhere)"
            )
        })
}

/// pgbench running `statements` as one transaction (each statement on its
/// own, as the app sends them), `clients` connections for `seconds`,
/// prepared statements with the captured parameters; its tps and the
/// latency of every transaction, from its per-transaction log.
pub(super) async fn pgbench(
    url: &str,
    statements: &[Captured],
    clients: usize,
    seconds: u64,
) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::new();
    let mut variables = Vec::new();
    for (i, s) in statements.iter().enumerate() {
        let sql = replace_parameters(&s.sql, |n| {
            let value = match s.parameters.get(n - 1) {
                Some(Some(value)) => {
                    let name = format!("s{}p{n}", i + 1);
                    variables.push(format!("{name}={value}"));
                    format!(":{name}")
                }
                _ => "NULL".into(),
            };
            // pgbench sends its parameters untyped: give each the type the
            // app declared, as the server would otherwise guess.
            match s.types.get(n - 1) {
                Some(Some(t)) => format!("CAST({value} AS {t})"),
                _ => value,
            }
        });
        script.push_str(sql.trim_end().trim_end_matches(';'));
        script.push_str(";\n");
    }
    let script_path = dir.path().join("list.sql");
    std::fs::write(&script_path, &script).unwrap();
    let mut command = tokio::process::Command::new(find_pgbench());
    command
        .args(["-n", "-M", "prepared", "--log", "--log-prefix"])
        .arg(dir.path().join("pgb"))
        .args(["-c", &clients.to_string()])
        .args(["-j", &clients.clamp(1, 2).to_string()])
        .args(["-T", &seconds.to_string()])
        .arg("-f")
        .arg(&script_path);
    for v in &variables {
        command.arg("-D").arg(v);
    }
    let out = command.arg(url).output().await.expect("run pgbench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "pgbench failed ({}):\n{stdout}\n{}\nits script:\n{script}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let number_after = |prefix: &str| -> Option<f64> {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
    };
    // "tps = N (without initial connection time)".
    let tps = number_after("tps = ").expect("pgbench printed its tps");
    let failed = number_after("number of failed transactions: ").unwrap_or(0.0) as usize;
    let latencies = read_transaction_logs(dir.path());
    let mut figures = Figures::new(latencies, failed, seconds as f64);
    figures.per_second = tps;
    figures
}

/// Every transaction's latency from pgbench's logs (`pgb.PID`,
/// `pgb.PID.THREAD`): the third field, in µs.
fn read_transaction_logs(dir: &Path) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().starts_with("pgb.") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        latencies.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse().ok())
                .map(Duration::from_micros),
        );
    }
    latencies
}

/// One line, whitespace folded, cut at `limit` characters.
pub(super) fn shorten(sql: &str, limit: usize) -> String {
    let folded = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    match folded.char_indices().nth(limit) {
        Some((i, _)) => format!("{}…", &folded[..i]),
        None => folded,
    }
}

#[test]
fn captured_statements_are_read_from_the_log() {
    let log = "\
2025-01-01 10:00:00.000 UTC [8] LOG:  parse tree:
2025-01-01 10:00:00.000 UTC [8] DETAIL:  {QUERY :commandType 1 :jointree {FROMEXPR :quals \
{OPEXPR :args ({PARAM :paramkind 0 :paramid 10 :paramtype 20 :paramtypmod -1 \
:paramcollid 0 :location 40} {PARAM :paramkind 1 :paramid 1 :paramtype 25 \
:paramtypmod -1 :paramcollid 0 :location 40} {PARAM :paramkind 0 :paramid 1 \
:paramtype 1186 :paramtypmod -1 :paramcollid 0 :location 30})}}}
2025-01-01 10:00:00.000 UTC [8] LOG:  duration: 0.100 ms  parse s0: SELECT a
\tFROM t WHERE b = $1 AND c = $2 AND d = $10
2025-01-01 10:00:00.000 UTC [7] LOG:  statement: SELECT 'begin-1'
2025-01-01 10:00:00.000 UTC [7] LOG:  duration: 0.010 ms
2025-01-01 10:00:00.001 UTC [8] LOG:  duration: 0.010 ms  bind s0: SELECT a
\tFROM t WHERE b = $1 AND c = $2 AND d = $10
2025-01-01 10:00:00.001 UTC [8] DETAIL:  parameters: $1 = 'wrong', $2 = NULL, $10 = '5'
2025-01-01 10:00:00.001 UTC [8] LOG:  execute s0: SELECT a
\tFROM t WHERE b = $1 AND c = $2 AND d = $10
2025-01-01 10:00:00.001 UTC [8] DETAIL:  parameters: $1 = 'it''s, $2 = x', $2 = NULL, $10 = '5'
2025-01-01 10:00:00.001 UTC [8] LOG:  duration: 0.020 ms
2025-01-01 10:00:00.002 UTC [7] LOG:  statement: SELECT 1
2025-01-01 10:00:00.003 UTC [8] LOG:  duration: 0.010 ms  bind s1: SELECT 2
2025-01-01 10:00:00.003 UTC [8] DETAIL:  parameters: $1 = 'wrong'
2025-01-01 10:00:00.003 UTC [8] LOG:  statement: BEGIN
2025-01-01 10:00:00.004 UTC [7] LOG:  statement: SELECT 'end-1'
2025-01-01 10:00:00.005 UTC [8] LOG:  statement: COMMIT
";
    let (got, oids) = statements_between(log, "begin-1", "end-1");
    let mut parameters = vec![None; 10];
    parameters[0] = Some("it's, $2 = x".to_string());
    parameters[9] = Some("5".to_string());
    assert_eq!(
        got,
        [
            Captured {
                sql: "SELECT a\nFROM t WHERE b = $1 AND c = $2 AND d = $10".into(),
                parameters,
                types: Vec::new(),
            },
            Captured {
                sql: "BEGIN".into(),
                parameters: Vec::new(),
                types: Vec::new(),
            },
        ]
    );
    let mut types = vec![None; 10];
    types[0] = Some(1186);
    types[9] = Some(20);
    assert_eq!(oids, [types, Vec::new()]);
    assert_eq!(
        replace_parameters(&got[0].sql, |n| format!(":p{n}")),
        "SELECT a\nFROM t WHERE b = :p1 AND c = :p2 AND d = :p10"
    );
    assert_eq!(
        replace_parameters("SELECT '$1', x$1, $1", |n| format!(":p{n}")),
        "SELECT '$1', x$1, :p1"
    );
}
