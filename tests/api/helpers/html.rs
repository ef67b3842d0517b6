//! Reading pages in tests: parsed as a browser parses them (html5ever), then
//! queried with CSS selectors, so an assertion looks at elements, attributes
//! and text (entities decoded) rather than at how the markup is spelled.
//!
//! The selectors are a small subset of CSS, enough for tests: `tag`, `*`,
//! `#id`, `.class`, `[attr]`, `[attr=v]`, `[attr~=v]`, `[attr^=v]`,
//! `[attr$=v]`, `[attr*=v]` (values bare or quoted), compounds of these, the
//! descendant (` `) and child (`>`) combinators, and lists (`a, b`).
//! Anything else panics, so a test never silently matches nothing.
//!
//! The DOM is `Rc`-based: parse, read, and let it go before an `.await`.

use std::fmt;

use html5ever::{parse_document, tendril::TendrilSink as _};
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// A parsed page.
pub struct Html {
    document: Handle,
}

/// One element of a parsed page.
#[derive(Clone)]
pub struct Element(Handle);

impl Html {
    pub fn parse(text: &str) -> Self {
        let dom = parse_document(RcDom::default(), Default::default()).one(text);
        Self {
            document: dom.document,
        }
    }

    /// Every element matching `css`, in document order.
    pub fn select(&self, css: &str) -> Vec<Element> {
        select_below(&self.document, css)
    }

    pub fn first(&self, css: &str) -> Option<Element> {
        self.select(css).into_iter().next()
    }

    /// The one element matching `css`; panics on none or several.
    pub fn one(&self, css: &str) -> Element {
        let mut all = self.select(css);
        assert_eq!(all.len(), 1, "expected exactly one `{css}`");
        all.remove(0)
    }

    pub fn has(&self, css: &str) -> bool {
        !self.select(css).is_empty()
    }

    /// The text of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css).iter().map(Element::text).collect()
    }

    /// The whole page's text, as read (whitespace collapsed).
    pub fn text(&self) -> String {
        collapse(&raw_text(&self.document))
    }

    /// The value the named field of the first form holding it would send.
    pub fn field(&self, name: &str) -> Option<String> {
        let body = self.first("body")?;
        body.form_fields()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The message shown beside `field` (`#{field}-error`), if any.
    pub fn field_error(&self, field: &str) -> Option<String> {
        self.first(&format!("#{field}-error")).map(|e| e.text())
    }
}

impl Element {
    /// The tag name, lower case.
    pub fn name(&self) -> String {
        match &self.0.data {
            NodeData::Element { name, .. } => name.local.to_string(),
            _ => String::new(),
        }
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        attr(&self.0, name)
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.attr("class")
            .is_some_and(|c| c.split_ascii_whitespace().any(|c| c == class))
    }

    /// Its text, whitespace collapsed and trimmed.
    pub fn text(&self) -> String {
        collapse(&raw_text(&self.0))
    }

    /// Matching elements inside this one.
    pub fn select(&self, css: &str) -> Vec<Element> {
        select_below(&self.0, css)
    }

    pub fn first(&self, css: &str) -> Option<Element> {
        self.select(css).into_iter().next()
    }

    /// The one element inside matching `css`; panics on none or several.
    pub fn one(&self, css: &str) -> Element {
        let mut all = self.select(css);
        assert_eq!(all.len(), 1, "expected exactly one `{css}` in {self:?}");
        all.remove(0)
    }

    /// What a browser would submit for the fields inside this element (a
    /// form, usually), in order: inputs (checked ones only for checkboxes and
    /// radios), the selected option of each select, textareas as typed.
    pub fn form_fields(&self) -> Vec<(String, String)> {
        let mut fields = Vec::new();
        for el in self.select("input, select, textarea") {
            let Some(name) = el.attr("name") else {
                continue;
            };
            if el.attr("disabled").is_some() {
                continue;
            }
            match el.name().as_str() {
                "input" => {
                    let kind = el.attr("type").unwrap_or_default().to_ascii_lowercase();
                    match kind.as_str() {
                        "submit" | "button" | "reset" | "image" | "file" => {}
                        "checkbox" | "radio" => {
                            if el.attr("checked").is_some() {
                                fields.push((name, el.attr("value").unwrap_or("on".into())));
                            }
                        }
                        _ => fields.push((name, el.attr("value").unwrap_or_default())),
                    }
                }
                "select" => {
                    let options = el.select("option");
                    let chosen = options
                        .iter()
                        .find(|o| o.attr("selected").is_some())
                        .or(options.first());
                    if let Some(o) = chosen {
                        fields.push((name, o.attr("value").unwrap_or_else(|| o.text())));
                    }
                }
                "textarea" => fields.push((name, raw_text(&el.0))),
                _ => {}
            }
        }
        fields
    }
}

impl fmt::Debug for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}", self.name())?;
        if let NodeData::Element { attrs, .. } = &self.0.data {
            for a in attrs.borrow().iter() {
                write!(f, " {}=\"{}\"", a.name.local, a.value)?;
            }
        }
        write!(f, "> {:?}", self.text())
    }
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn raw_text(node: &Handle) -> String {
    let mut out = String::new();
    fn walk(node: &Handle, out: &mut String) {
        if let NodeData::Text { contents } = &node.data {
            out.push_str(&contents.borrow());
        }
        for child in node.children.borrow().iter() {
            walk(child, out);
        }
    }
    walk(node, &mut out);
    out
}

fn attr(node: &Handle, name: &str) -> Option<String> {
    match &node.data {
        NodeData::Element { attrs, .. } => attrs
            .borrow()
            .iter()
            .find(|a| &*a.name.local == name)
            .map(|a| a.value.to_string()),
        _ => None,
    }
}

fn parent_element(node: &Handle) -> Option<Handle> {
    let weak = node.parent.take();
    node.parent.set(weak.clone());
    weak.and_then(|w| w.upgrade())
        .filter(|p| matches!(p.data, NodeData::Element { .. }))
}

fn select_below(root: &Handle, css: &str) -> Vec<Element> {
    let selectors = parse(css);
    let mut found = Vec::new();
    fn walk(node: &Handle, selectors: &[Complex], found: &mut Vec<Element>) {
        for child in node.children.borrow().iter() {
            if matches!(child.data, NodeData::Element { .. })
                && selectors.iter().any(|s| s.matches(child))
            {
                found.push(Element(child.clone()));
            }
            walk(child, selectors, found);
        }
    }
    walk(root, &selectors, &mut found);
    found
}

// --- The selector subset -----------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Combinator {
    Descendant,
    Child,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Exists,
    Equals,
    Word,
    Prefix,
    Suffix,
    Contains,
}

#[derive(Debug)]
struct AttrTest {
    name: String,
    op: Op,
    value: String,
}

#[derive(Debug, Default)]
struct Compound {
    tag: Option<String>,
    ids: Vec<String>,
    classes: Vec<String>,
    attrs: Vec<AttrTest>,
}

/// Compounds left to right; each but the first with the combinator that
/// joins it to the one before.
#[derive(Debug)]
struct Complex(Vec<(Combinator, Compound)>);

impl Compound {
    fn matches(&self, node: &Handle) -> bool {
        let NodeData::Element { name, .. } = &node.data else {
            return false;
        };
        if self
            .tag
            .as_ref()
            .is_some_and(|t| !(*name.local).eq_ignore_ascii_case(t))
        {
            return false;
        }
        if self
            .ids
            .iter()
            .any(|id| attr(node, "id").as_ref() != Some(id))
        {
            return false;
        }
        let classes = attr(node, "class").unwrap_or_default();
        if self
            .classes
            .iter()
            .any(|c| !classes.split_ascii_whitespace().any(|have| have == c))
        {
            return false;
        }
        self.attrs.iter().all(|t| {
            let Some(v) = attr(node, &t.name) else {
                return false;
            };
            match t.op {
                Op::Exists => true,
                Op::Equals => v == t.value,
                Op::Word => v.split_ascii_whitespace().any(|w| w == t.value),
                Op::Prefix => !t.value.is_empty() && v.starts_with(&t.value),
                Op::Suffix => !t.value.is_empty() && v.ends_with(&t.value),
                Op::Contains => !t.value.is_empty() && v.contains(&t.value),
            }
        })
    }
}

impl Complex {
    fn matches(&self, node: &Handle) -> bool {
        matches_from(&self.0, node)
    }
}

fn matches_from(parts: &[(Combinator, Compound)], node: &Handle) -> bool {
    let Some(((combinator, last), rest)) = parts.split_last() else {
        return true;
    };
    if !last.matches(node) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let mut up = parent_element(node);
    while let Some(ancestor) = up {
        if matches_from(rest, &ancestor) {
            return true;
        }
        if *combinator == Combinator::Child {
            return false;
        }
        up = parent_element(&ancestor);
    }
    false
}

fn parse(css: &str) -> Vec<Complex> {
    let chars: Vec<char> = css.chars().collect();
    let mut at = 0;
    let mut list = Vec::new();
    let mut parts: Vec<(Combinator, Compound)> = Vec::new();
    let mut pending: Option<Combinator> = None;
    let bad = |why: &str| -> ! { panic!("unsupported selector `{css}`: {why}") };
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let ident = |at: &mut usize| -> String {
        let start = *at;
        while *at < chars.len() && is_ident(chars[*at]) {
            *at += 1;
        }
        if start == *at {
            bad("expected a name");
        }
        chars[start..*at].iter().collect()
    };
    loop {
        let mut spaced = false;
        while at < chars.len() && chars[at].is_whitespace() {
            at += 1;
            spaced = true;
        }
        let Some(&c) = chars.get(at) else { break };
        match c {
            ',' => {
                if parts.is_empty() || pending.is_some() {
                    bad("empty part");
                }
                list.push(Complex(std::mem::take(&mut parts)));
                at += 1;
                continue;
            }
            '>' => {
                if parts.is_empty() || pending.is_some() {
                    bad("misplaced >");
                }
                pending = Some(Combinator::Child);
                at += 1;
                continue;
            }
            _ => {}
        }
        let combinator = match pending.take() {
            Some(c) => c,
            None if !parts.is_empty() && !spaced => bad("expected a combinator"),
            None => Combinator::Descendant,
        };
        let mut compound = Compound::default();
        let mut any = false;
        while let Some(&c) = chars.get(at) {
            match c {
                '*' if !any => at += 1,
                '#' => {
                    at += 1;
                    compound.ids.push(ident(&mut at));
                }
                '.' => {
                    at += 1;
                    compound.classes.push(ident(&mut at));
                }
                '[' => {
                    at += 1;
                    let name = ident(&mut at);
                    let op = match chars.get(at) {
                        Some(']') => Op::Exists,
                        Some('=') => Op::Equals,
                        Some('~') => Op::Word,
                        Some('^') => Op::Prefix,
                        Some('$') => Op::Suffix,
                        Some('*') => Op::Contains,
                        _ => bad("unknown attribute test"),
                    };
                    let mut value = String::new();
                    if !matches!(op, Op::Exists) {
                        at += if matches!(op, Op::Equals) { 1 } else { 2 };
                        if !matches!(op, Op::Equals) && chars.get(at - 1) != Some(&'=') {
                            bad("unknown attribute test");
                        }
                        match chars.get(at) {
                            Some(&q @ ('"' | '\'')) => {
                                at += 1;
                                let start = at;
                                while chars.get(at).is_some_and(|&c| c != q) {
                                    at += 1;
                                }
                                if at >= chars.len() {
                                    bad("unclosed quote");
                                }
                                value = chars[start..at].iter().collect();
                                at += 1;
                            }
                            _ => value = ident(&mut at),
                        }
                    }
                    if chars.get(at) != Some(&']') {
                        bad("expected ]");
                    }
                    at += 1;
                    compound.attrs.push(AttrTest { name, op, value });
                }
                c if is_ident(c) && !any => compound.tag = Some(ident(&mut at)),
                c if c.is_whitespace() || c == ',' || c == '>' => break,
                _ => bad(&format!("unexpected {c:?}")),
            }
            any = true;
        }
        parts.push((combinator, compound));
    }
    if parts.is_empty() || pending.is_some() {
        bad("empty or dangling");
    }
    list.push(Complex(parts));
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><body>
      <nav><a href="/a?x=1&amp;y=2" rel="next prev">Next &#38; more</a></nav>
      <form action="/f" class="card form">
        <input type="hidden" name="csrf_token" value="t&#34;k">
        <input name="email" value="a@b.example">
        <input type="checkbox" name="active" checked>
        <input type="checkbox" name="off">
        <select name="status"><option value="a">A</option><option value="b" selected>B</option></select>
        <select name="kind"><option value="x">X</option></select>
        <textarea name="notes">
&#60;b&#62; two
 lines</textarea>
        <button type="submit" name="go">Go</button>
        <p id="email-error" class="field-error">Not an email.</p>
      </form>
      <table class="data"><tbody><tr><td><a href="/v/1">L-1</a></td><td>x</td></tr></tbody></table>
    </body></html>"#;

    #[test]
    fn selects_by_tag_id_class_attribute_and_combinators() {
        let h = Html::parse(PAGE);
        assert_eq!(h.select("a").len(), 2);
        assert_eq!(h.one("a[rel~=next]").attr("href").unwrap(), "/a?x=1&y=2");
        assert_eq!(h.one("nav > a").text(), "Next & more");
        assert!(h.select("body > a").is_empty());
        assert_eq!(h.one("form.card.form[action='/f']").name(), "form");
        assert_eq!(h.one("#email-error").text(), "Not an email.");
        assert_eq!(h.select("input[name^=csrf], a[href$='1']").len(), 2);
        assert_eq!(h.texts("table.data tbody td a"), ["L-1"]);
        assert_eq!(h.field_error("email").unwrap(), "Not an email.");
        assert!(h.field_error("notes").is_none());
    }

    #[test]
    fn a_form_gives_what_a_browser_would_send() {
        let h = Html::parse(PAGE);
        let fields = h.one("form").form_fields();
        let want: Vec<(String, String)> = [
            ("csrf_token", "t\"k"),
            ("email", "a@b.example"),
            ("active", "on"),
            ("status", "b"),
            ("kind", "x"),
            ("notes", "<b> two\n lines"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(fields, want);
        assert_eq!(h.field("status").as_deref(), Some("b"));
    }

    #[test]
    #[should_panic(expected = "unsupported selector")]
    fn an_unsupported_selector_is_an_error_not_an_empty_match() {
        Html::parse(PAGE).select("a:first-child");
    }
}
