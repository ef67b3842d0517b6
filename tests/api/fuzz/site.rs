//! The site as the fuzz test sees it: every route of `pcn::routes::table()`,
//! and for each what it reads, found by crawling the pages the way a browser
//! would: the fields of every `<form>` (POST routes), the fields of search
//! forms and the query parameters of links (GET routes), and example path ids
//! from links. A new route, form field or filter is fuzzed without this file
//! changing; `QUERY_PARAMS` adds what the pages link to only in some state.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use actix_web::http::Method;
use pcn::routes::Access;
use proptest::prelude::*;

use super::values;
use crate::helpers::{Html, TestApp};

/// The query parameters each GET route's handler reads (its `Query` struct
/// in `src/routes/`). The crawl finds them on the pages too, but some appear
/// only in some state (a second page, a redirect to sign in, the setup link);
/// a parameter the pages show that is missing here is added all the same.
const QUERY_PARAMS: &[(&str, &[&str])] = &[
    (
        "/vehicles",
        &["q", "status", "make", "sort", "after", "before"],
    ),
    ("/vehicles.csv", &["q", "status", "make", "sort"]),
    (
        "/sales",
        &["from", "to", "salesperson", "customer", "after"],
    ),
    ("/sales.csv", &["from", "to", "salesperson", "customer"]),
    ("/reports/sales", &["from", "to"]),
    ("/admin/users", &["q", "role", "active"]),
    ("/login", &["next"]),
    ("/login/code", &["next"]),
    ("/setup", &["token"]),
];

/// The forms only the pages' script (`static/live.js`) sends, so no page
/// holds them: the route and the fields the script posts.
const SCRIPT_FORMS: &[(&str, &[&str])] = &[("/vehicles/{id}/presence", &["leave"])];

/// The forms pages show only in a state the crawl does not reach (a second
/// factor that is on): the code step of sign-in, an admin's reset of
/// someone's second factor, and the form that turns one's own off.
const STATE_FORMS: &[(&str, &[&str])] = &[
    ("/login/code", &["code", "next"]),
    ("/admin/users/{id}/2fa/reset", &[]),
    ("/account/2fa", &["action", "code", "current_password"]),
];

/// Pages crawled per route pattern (more would only repeat the same form).
const PAGES_PER_ROUTE: usize = 3;

/// One route of the table and what the crawl learnt about it.
pub struct Target {
    pub method: Method,
    pub pattern: &'static str,
    pub access: Access,
    /// Form fields (POST) or query parameters (GET), in the order found.
    pub names: Vec<String>,
    /// Whether a page holds a form (POST) for this route.
    pub has_form: bool,
}

/// Routes, and every value a page offered per field, parameter or path
/// parameter (`{id}`): prefilled inputs, options, link queries, link ids.
pub struct Site {
    pub targets: Vec<Target>,
    pub seen: HashMap<String, BTreeSet<String>>,
}

/// The values of the path parameters if `path` matches `pattern`, each
/// under the pattern up to it (`/vehicles/{id}`): an id of the same kind of
/// row, whichever route it came from.
fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    if pattern.len() != path.len() {
        return None;
    }
    let mut params = Vec::new();
    for (at, (p, s)) in pattern.iter().zip(&path).enumerate() {
        match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(_) if !s.is_empty() => params.push((pattern[..=at].join("/"), s.to_string())),
            Some(_) => return None,
            None if p == s => {}
            None => return None,
        }
    }
    Some(params)
}

impl Site {
    pub fn new() -> Self {
        let mut site = Self {
            targets: pcn::routes::table()
                .into_iter()
                .map(|r| Target {
                    method: r.method,
                    pattern: r.path,
                    access: r.access,
                    names: Vec::new(),
                    has_form: false,
                })
                .collect(),
            seen: HashMap::new(),
        };
        for (pattern, names) in QUERY_PARAMS {
            let t = site
                .target_mut(&Method::GET, pattern)
                .unwrap_or_else(|| panic!("QUERY_PARAMS names {pattern}, not a GET route"));
            for n in *names {
                push_new(&mut t.names, n);
            }
        }
        for (pattern, names) in SCRIPT_FORMS.iter().chain(STATE_FORMS) {
            let t = site.target_mut(&Method::POST, pattern).unwrap_or_else(|| {
                panic!("SCRIPT_FORMS or STATE_FORMS names {pattern}, not a POST route")
            });
            t.has_form = true;
            for n in *names {
                push_new(&mut t.names, n);
            }
        }
        site
    }

    /// The route a request goes to, as actix picks it: the first in the table.
    fn route_of(&self, method: &Method, path: &str) -> Option<usize> {
        self.targets
            .iter()
            .position(|t| t.method == *method && match_path(t.pattern, path).is_some())
    }

    fn target_mut(&mut self, method: &Method, pattern: &str) -> Option<&mut Target> {
        self.targets
            .iter_mut()
            .find(|t| t.method == *method && t.pattern == pattern)
    }

    fn see(&mut self, name: &str, value: &str) {
        if value.len() <= 200 {
            self.seen
                .entry(name.to_string())
                .or_default()
                .insert(value.to_string());
        }
    }

    /// Visits every GET route without path parameters, then the pages their
    /// links lead to (a few per route), as the app's client.
    pub async fn crawl(&mut self, app: &TestApp, start: &[String]) {
        let mut queue: VecDeque<String> = start.iter().cloned().collect();
        for t in &self.targets {
            if t.method == Method::GET && !t.pattern.contains('{') {
                queue.push_back(t.pattern.to_string());
            }
        }
        let mut visits: BTreeMap<usize, usize> = BTreeMap::new();
        let mut done = BTreeSet::new();
        while let Some(url) = queue.pop_front() {
            if !done.insert(url.clone()) {
                continue;
            }
            let r = app.get(&url).await;
            let html = r
                .headers()
                .get("content-type")
                .is_some_and(|c| c.as_bytes().starts_with(b"text/html"));
            if !r.status().is_success() || !html {
                continue;
            }
            let body = r.text().await.unwrap();
            for link in self.read_page(&url, &body) {
                let path = link.split('?').next().unwrap_or_default().to_string();
                if let Some(i) = self.route_of(&Method::GET, &path) {
                    let n = visits.entry(i).or_default();
                    if *n < PAGES_PER_ROUTE {
                        *n += 1;
                        queue.push_back(link);
                    }
                }
            }
        }
    }

    /// Learns from one page; returns the local links on it.
    fn read_page(&mut self, url: &str, body: &str) -> Vec<String> {
        let base = url::Url::parse("http://pcn.test").unwrap();
        let here = base.join(url).unwrap();
        let page = Html::parse(body);
        let mut links = Vec::new();
        for a in page.select("a[href], link[href]") {
            let Ok(to) = here.join(&a.attr("href").unwrap()) else {
                continue;
            };
            if to.host_str() != Some("pcn.test") {
                continue;
            }
            let Some(i) = self.route_of(&Method::GET, to.path()) else {
                continue;
            };
            for (key, value) in match_path(self.targets[i].pattern, to.path()).unwrap() {
                self.see(&key, &value);
            }
            for (k, v) in to.query_pairs() {
                push_new(&mut self.targets[i].names, &k);
                self.see(&k, &v);
            }
            links.push(match to.query() {
                Some(q) => format!("{}?{q}", to.path()),
                None => to.path().to_string(),
            });
        }
        for form in page.select("form") {
            let method = match form.attr("method").map(|m| m.to_ascii_lowercase()) {
                Some(m) if m == "post" => Method::POST,
                _ => Method::GET,
            };
            let action = form
                .attr("action")
                .and_then(|a| here.join(&a).ok())
                .unwrap_or_else(|| here.clone());
            let Some(i) = self.route_of(&method, action.path()) else {
                panic!("a form on {url} sends {method} to {action}, which no route serves");
            };
            for (key, value) in match_path(self.targets[i].pattern, action.path()).unwrap() {
                self.see(&key, &value);
            }
            let mut names = Vec::new();
            for field in form.select("input[name], select[name], textarea[name]") {
                let name = field.attr("name").unwrap();
                let kind = field.attr("type").unwrap_or_default();
                if matches!(
                    kind.as_str(),
                    "submit" | "button" | "reset" | "image" | "file"
                ) {
                    continue;
                }
                if name != pcn::auth::csrf::FIELD {
                    names.push(name.clone());
                }
                for option in field.select("option") {
                    self.see(
                        &name,
                        &option.attr("value").unwrap_or_else(|| option.text()),
                    );
                }
            }
            for (name, value) in form.form_fields() {
                if name != pcn::auth::csrf::FIELD {
                    self.see(&name, &value);
                }
            }
            let target = &mut self.targets[i];
            target.has_form |= method == Method::POST;
            for n in names {
                push_new(&mut target.names, &n);
            }
        }
        links
    }

    /// One request to any route that `reach` allows, weighted by how much
    /// the route reads.
    pub fn cases(&self, reach: impl Fn(&Target) -> bool) -> BoxedStrategy<Case> {
        let arms = self
            .targets
            .iter()
            .enumerate()
            .filter(|(_, t)| reach(t))
            .map(|(i, t)| (2 + t.names.len() as u32, self.cases_for(i)))
            .collect();
        proptest::strategy::Union::new_weighted(arms).boxed()
    }

    fn seen(&self, name: &str) -> Vec<String> {
        self.seen
            .get(name)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Requests to route `i`: its path with random ids; its fields or
    /// parameters each benign, hostile or left out (how many of each is the
    /// case's hostility); sometimes one of them twice, a stray one, a
    /// malformed tail.
    fn cases_for(&self, i: usize) -> BoxedStrategy<Case> {
        let t = &self.targets[i];
        let parts: Vec<&str> = t.pattern.split('/').collect();
        let segments: Vec<BoxedStrategy<String>> = (1..parts.len())
            .map(|at| {
                if parts[at].starts_with('{') {
                    values::path_id(self.seen(&parts[..=at].join("/")))
                        .prop_map(|id| {
                            percent_encoding::utf8_percent_encode(&id, SEGMENT).to_string()
                        })
                        .boxed()
                } else {
                    Just(parts[at].to_string()).boxed()
                }
            })
            .collect();
        let fields: Vec<BoxedStrategy<(String, String, u8)>> = t
            .names
            .iter()
            .map(|n| values::field(n, self.seen(n)))
            .collect();
        let names = t.names.clone();
        let stray = proptest::option::weighted(0.1, ("[a-z_]{1,12}", values::hostile()));
        let twice =
            proptest::option::weighted(0.05, (any::<prop::sample::Index>(), values::hostile()));
        let route = i;
        (
            segments,
            values::hostility(),
            fields,
            stray,
            twice,
            values::raw_tail(),
        )
            .prop_map(move |(segments, hostility, fields, stray, twice, raw)| {
                let mut pairs = Vec::new();
                for (name, (benign, hostile, roll)) in names.iter().zip(fields) {
                    if roll < hostility {
                        pairs.push((name.clone(), hostile));
                    } else if roll < 250 || hostility == 0 {
                        pairs.push((name.clone(), benign));
                    }
                }
                if let Some((at, value)) = twice.filter(|_| !pairs.is_empty()) {
                    let name = pairs[at.index(pairs.len())].0.clone();
                    pairs.push((name, value));
                }
                pairs.extend(stray);
                Case {
                    route,
                    path: format!("/{}", segments.join("/")),
                    pairs,
                    raw,
                }
            })
            .boxed()
    }
}

/// A path segment: all but alphanumerics and `-_~` percent-encoded.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'~');

fn push_new(names: &mut Vec<String>, name: &str) {
    if !names.iter().any(|n| n == name) {
        names.push(name.to_string());
    }
}

/// One request of the fuzz run.
#[derive(Clone)]
pub struct Case {
    /// Index into the route table.
    pub route: usize,
    /// The path, ids filled in and percent-encoded.
    pub path: String,
    /// Query parameters (GET) or form fields (POST), without the CSRF token.
    pub pairs: Vec<(String, String)>,
    /// Sent as it is after the encoded pairs.
    pub raw: Option<String>,
}

impl Case {
    /// The pairs (and the tail) as `application/x-www-form-urlencoded`.
    pub fn encoded(&self, first: Option<(&str, &str)>) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        if let Some((k, v)) = first {
            s.append_pair(k, v);
        }
        for (k, v) in &self.pairs {
            s.append_pair(k, v);
        }
        let mut out = s.finish();
        if let Some(raw) = &self.raw {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(raw);
        }
        out
    }
}

/// Long values shortened, so a failing case can be read.
impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = |s: &str| -> String {
            if s.chars().count() <= 80 {
                format!("{s:?}")
            } else {
                let head: String = s.chars().take(40).collect();
                format!("{head:?}… ({} chars)", s.chars().count())
            }
        };
        write!(f, "{} ", short(&self.path))?;
        let mut list = f.debug_list();
        for (k, v) in &self.pairs {
            list.entry(&format_args!("{}={}", short(k), short(v)));
        }
        list.finish()?;
        if let Some(raw) = &self.raw {
            write!(f, " + raw {raw:?}")?;
        }
        Ok(())
    }
}
