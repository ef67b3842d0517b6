//! The modules of `src/` point one way: startup → routes → auth → web →
//! app → live → models → domain/db. This reads every source file, collects which
//! top-level modules each one names (`use crate::…` trees and inline
//! `crate::…` paths), and fails on an upward dependency or any cycle, so the
//! layout cannot quietly drift back.

use std::collections::{BTreeMap, BTreeSet};

/// Each top-level module of the library and its layer: a module may depend
/// only on modules of a lower layer (a higher number).
const LAYERS: &[(&str, u8)] = &[
    ("startup", 0),
    ("cli", 0),
    ("routes", 1),
    ("auth", 2),
    ("web", 3),
    ("app", 4),
    ("live", 5),
    ("models", 6),
    ("domain", 7),
    ("db", 7),
    ("schema", 7),
    ("config", 7),
    ("cluster", 7),
    ("token", 7),
];

fn layer(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(m, _)| *m == module)
        .map(|(_, l)| *l)
        .unwrap_or_else(|| panic!("src/{module}: give the new module a layer in LAYERS"))
}

/// The top-level module a file under `src/` belongs to.
fn owner(path: &std::path::Path, src: &std::path::Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib" && name != "main").then(|| name.to_string())
}

/// The top-level modules named by `crate::` paths in `text`, including every
/// first-level branch of a `use crate::{a::…, b::{…}}` tree.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(tree) = rest.strip_prefix('{') {
            // Walk the braces; a first-level branch starts after the opening
            // brace or a comma at depth one.
            let mut depth = 1;
            let mut expect_name = true;
            let mut ident = String::new();
            for c in tree.chars() {
                if c.is_alphanumeric() || c == '_' {
                    if expect_name {
                        ident.push(c);
                    }
                    continue;
                }
                if !ident.is_empty() {
                    found.insert(std::mem::take(&mut ident));
                    expect_name = false;
                }
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => expect_name = true,
                    _ => {}
                }
            }
        } else {
            let ident: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !ident.is_empty() {
                found.insert(ident);
            }
        }
    }
    found
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Module → the other modules it depends on.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(module) = owner(&file, &src) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read file");
        let deps = graph.entry(module.clone()).or_default();
        for named in named_modules(&text) {
            if named != module {
                deps.insert(named);
            }
        }
    }
    graph
}

#[test]
fn the_use_tree_parser_sees_every_branch() {
    let text = "use crate::{\n    app::AppState,\n    auth::{Admin, sign_in::{self, X}},\n    web::{AppError, Page},\n};\nfn f() { crate::db::x(); }";
    let found: Vec<String> = named_modules(text).into_iter().collect();
    assert_eq!(found, ["app", "auth", "db", "web"]);
}

#[test]
fn modules_depend_only_downwards() {
    let graph = dependencies();
    assert!(graph.contains_key("routes") && graph.contains_key("models"));
    let mut upward = Vec::new();
    for (module, deps) in &graph {
        for dep in deps {
            if layer(dep) < layer(module) {
                upward.push(format!("{module} → {dep}"));
            }
        }
    }
    assert!(upward.is_empty(), "upward dependencies: {upward:?}");
}

#[test]
fn no_module_cycles() {
    let edges = dependencies();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            return Some(stack[at..].to_vec());
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        let cycle = visit(node, &edges, &mut Vec::new(), &mut done);
        assert!(cycle.is_none(), "import cycle: {cycle:?}");
    }
}
