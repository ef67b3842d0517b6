//! What the fuzz test types into fields, query parameters and path ids: the
//! hostile (empty, 10k characters, unicode, NUL and other controls, numbers at
//! the i64/i32 limits, decimals with many places, dates out of range, cursors,
//! SQL and HTML metacharacters) and, by field name, the plausible, so that
//! many cases get past validation to the database.

use base64::Engine as _;
use proptest::{prelude::*, sample::select, strategy::Union};

/// A cursor as `web::cursor` makes one: value, unit separator, id.
pub fn cursor(value: &str, id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{value}\u{1f}{id}"))
}

fn pick(values: &[&'static str]) -> BoxedStrategy<String> {
    select(values.to_vec()).prop_map(str::to_string).boxed()
}

/// About 10,000 characters: one repeated, or a short random run repeated.
fn long() -> BoxedStrategy<String> {
    prop_oneof![
        (
            pick(&["x", "9", "é", "😀", "\u{0}", " ", "<", "%", "-", ","]),
            9_990..=10_010usize
        )
            .prop_map(|(s, n)| s.repeat(n)),
        ("\\PC{1,8}", 1_250..=1_300usize).prop_map(|(s, n)| s.repeat(n)),
    ]
    .boxed()
}

fn controls() -> BoxedStrategy<String> {
    prop_oneof![
        "[\\x00-\\x1f\\x7f]{1,4}",
        "[a-z]{0,4}[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}][a-z]{0,4}",
        pick(&[
            "\u{0}", "a\u{0}b", "\r\n", "\t", "\u{85}", "\u{1f}", "\u{7f}"
        ]),
    ]
    .boxed()
}

fn whitespace() -> BoxedStrategy<String> {
    "[ \\t\\r\\n\\u{a0}\\u{2028}\\u{3000}\\u{feff}]{1,6}".boxed()
}

fn numbers() -> BoxedStrategy<String> {
    prop_oneof![
        pick(&[
            "0",
            "-0",
            "-1",
            "1",
            "+1",
            "01",
            "2147483647",
            "2147483648",
            "-2147483648",
            "-2147483649",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999999",
            "1e309",
            "-1e309",
            "1E5",
            "NaN",
            "inf",
            "-Infinity",
            "0x10",
            "1_000",
            "١٢٣",
            "１２３",
            "²",
        ]),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<i32>().prop_map(|n| n.to_string()),
        (-3i64..=3).prop_map(|n| n.to_string()),
    ]
    .boxed()
}

fn decimals() -> BoxedStrategy<String> {
    prop_oneof![
        (any::<i64>(), "[0-9]{1,30}").prop_map(|(w, f)| format!("{w}.{f}")),
        (0u32..100_000, "[0-9]{3,12}").prop_map(|(w, f)| format!("{w}.{f}")),
        pick(&[
            ".",
            "..",
            "1.",
            ".5",
            "1..2",
            "0.001",
            "12,500.005",
            "12.500,00",
            "1,,0",
            ",",
            "$",
            "$-5",
            "-$5",
            "$ 1",
            "100000000.00",
            "100000000.01",
            "999999999999.99",
            "9999999999999",
            "0.00000000000000000001",
            "1.7976931348623157e308",
        ]),
    ]
    .boxed()
}

/// Dates and instants, most of them refused somewhere: years 0, negative and
/// past 9999, impossible days, other shapes, offsets at their limits.
pub fn dates() -> BoxedStrategy<String> {
    prop_oneof![
        pick(&[
            "0000-01-01",
            "-5000-01-01",
            "+10000-01-01",
            "10000-01-01",
            "9999-12-31",
            "0001-01-01",
            "1899-12-31",
            "1900-01-01",
            "2024-02-29",
            "2026-02-29",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-1-5",
            "26-01-01",
            "2026/01/01",
            "01/02/2026",
            " 2026-01-01 ",
            "2026-01-01\u{0}",
            "tomorrow",
            "2026-01-01T00:00:00Z",
            "2026-11-24T10:00:00+23:59",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "+262143-12-31",
            "-262144-01-01",
        ]),
        (-400_000i32..400_000, 0u32..14, 0u32..33)
            .prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        (-400_000i32..400_000, 1u32..13, 1u32..29)
            .prop_map(|(y, m, d)| format!("{y:+05}-{m:02}-{d:02}")),
        (
            -20_000i32..20_000,
            1u32..13,
            1u32..29,
            0u32..25,
            -30i32..30,
            0u32..61
        )
            .prop_map(|(y, mo, d, h, oh, om)| format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:00:00{oh:+03}:{om:02}"
            )),
    ]
    .boxed()
}

/// Cursors: well-formed around hostile values, base64 of any bytes, and
/// base64-looking text.
fn cursors() -> BoxedStrategy<String> {
    let inner = prop_oneof![dates(), numbers(), ".{0,20}", Just(String::new())];
    prop_oneof![
        (inner, any::<i64>()).prop_map(|(v, id)| cursor(&v, id)),
        prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|b| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)),
        "[A-Za-z0-9_=+/-]{0,64}",
    ]
    .boxed()
}

fn metacharacters() -> BoxedStrategy<String> {
    pick(&[
        "'",
        "''",
        "\"",
        "' OR '1'='1",
        "1; DROP TABLE vehicles; --",
        "%",
        "_",
        "%_%",
        "\\",
        "\\x00",
        "$1",
        "E'\\\\'",
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "{{ 7*7 }}",
        "{% raw %}",
        "${7*7}",
        "&amp;",
        "&#0;",
        "../../etc/passwd",
        "%00",
        "%2e%2e%2f",
        "//evil.example",
        "/\\evil.example",
        "http://evil.example/",
        "javascript:alert(1)",
        "=cmd|' /C calc'!A0",
        "\u{202e}",
        "\u{feff}",
        "\u{fffd}",
        "\u{10ffff}",
        "𝕏",
        "Zoë",
        "ß",
        "İ",
        "ﬀ",
        "Σ",
        "ǅ",
        "\u{1e9e}",
    ])
}

/// Anything a hostile or careless client might send.
pub fn hostile() -> BoxedStrategy<String> {
    Union::new_weighted(vec![
        (2, Just(String::new()).boxed()),
        (2, long()),
        (3, "\\PC{0,40}".boxed()),
        (3, ".{0,40}".boxed()),
        (2, controls()),
        (1, whitespace()),
        (3, numbers()),
        (2, decimals()),
        (3, dates()),
        (2, cursors()),
        (3, metacharacters()),
    ])
    .boxed()
}

/// A date a person could mean: 2000 to last year.
fn plausible_date() -> BoxedStrategy<String> {
    (2000i32..=2025, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| format!("{y}-{m:02}-{d:02}"))
        .boxed()
}

fn amount() -> BoxedStrategy<String> {
    prop_oneof![
        (0i64..=10_000_000_000).prop_map(|c| pcn::domain::Money::from_cents(c).to_string()),
        (0i64..100_000).prop_map(|n| n.to_string()),
    ]
    .boxed()
}

/// Values that pass the rule of the field of this name (most of the time:
/// duplicates, conflicts and dates before a vehicle arrived still happen), so
/// that the handler's deeper paths, the database's included, run too.
pub fn plausible(name: &str) -> Option<BoxedStrategy<String>> {
    Some(match name {
        "vehicle_number" => prop_oneof![3 => "FZ-[0-9]{1,6}", 1 => "[A-Za-z0-9-]{1,20}"].boxed(),
        "vin" => prop_oneof![Just(String::new()), "[A-HJ-NPR-Z0-9]{17}"].boxed(),
        "year" => (1990i32..=2026).prop_map(|y| y.to_string()).boxed(),
        "make" | "model" | "trim" | "color" | "location" | "customer_name" | "reason"
        | "first_name" | "last_name" | "q" | "customer" => "[A-Za-z][A-Za-z .'-]{0,20}".boxed(),
        "notes" => "[A-Za-z .\\r\\n\\t]{0,80}".boxed(),
        "mileage" => prop_oneof![
            (0i64..=300_000).prop_map(|n| n.to_string()),
            (0i64..=2_000_000).prop_map(|n| pcn::domain::money::group_thousands(n as u64)),
        ]
        .boxed(),
        "cost" | "list_price" | "sale_price" => amount(),
        "received_on" | "sold_on" | "from" | "to" => plausible_date(),
        "version" => (1i64..=6).prop_map(|n| n.to_string()).boxed(),
        "condition" => pick(&["new", "used", "certified"]),
        "status" => pick(&[
            "available",
            "available",
            "reserved",
            "sold",
            "archived",
            "all",
        ]),
        "payment_method" => pick(&["cash", "finance", "card", "transfer"]),
        "role" => pick(&["viewer", "editor", "admin"]),
        "active" => pick(&["on", "on", "true", "off"]),
        "email" | "customer_email" => prop_oneof![
            "[a-z]{1,8}@[a-z]{1,8}\\.example",
            "[A-Za-z.+]{1,8}@dealer\\.example"
        ]
        .boxed(),
        "customer_phone" => "[0-9 +().x-]{0,40}".boxed(),
        "password" | "new_password" | "current_password" => prop_oneof![
            3 => "[a-z]{4,8} [a-z]{4,8} [a-z]{4,8} [0-9]{2}",
            1 => Just(crate::helpers::PASSWORD.to_string()),
        ]
        .boxed(),
        "salesperson" => (0i64..=12).prop_map(|n| n.to_string()).boxed(),
        "after" | "before" => (plausible_date(), 0i64..=40)
            .prop_map(|(d, id)| cursor(&d, id))
            .boxed(),
        "sort" => pick(&[
            "received",
            "-received",
            "price",
            "-price",
            "year",
            "-year",
            "mileage",
            "-mileage",
            "stock",
            "-stock",
            "make",
            "-make",
            "updated",
            "-updated",
        ]),
        "next" => pick(&[
            "/vehicles",
            "/sales?from=2026-01-01",
            "//evil.example",
            "/\\evil",
        ]),
        _ => return None,
    })
}

/// A path id: one of the rows the pages link to, a small number (rows the
/// run made), or hostile.
pub fn path_id(seen: Vec<String>) -> BoxedStrategy<String> {
    let mut arms: Vec<(u32, BoxedStrategy<String>)> = vec![
        (4, (0i64..=40).prop_map(|n| n.to_string()).boxed()),
        (1, numbers()),
        (1, decimals()),
        (1, hostile()),
    ];
    if !seen.is_empty() {
        arms.push((6, select(seen).boxed()));
    }
    Union::new_weighted(arms).boxed()
}

/// A value a person might send for the field or parameter `name`: one the
/// pages offered for it (`seen`) or a plausible one; hostile when there is
/// neither.
pub fn benign(name: &str, seen: Vec<String>) -> BoxedStrategy<String> {
    let mut arms: Vec<(u32, BoxedStrategy<String>)> = Vec::new();
    if let Some(p) = plausible(name) {
        arms.push((4, p));
    }
    if !seen.is_empty() {
        arms.push((1, select(seen).boxed()));
    }
    if arms.is_empty() {
        return hostile();
    }
    Union::new_weighted(arms).boxed()
}

/// How hostile a whole case is: of 256, how many rolls pick the hostile
/// value of a field. From every field benign (so forms get saved and the
/// database paths run) to every field hostile.
pub fn hostility() -> BoxedStrategy<u8> {
    select(vec![0u8, 0, 8, 40, 128, 255]).boxed()
}

/// One field of a case: its benign and hostile values and the roll that
/// picks between them (or leaves the field out).
pub fn field(name: &str, seen: Vec<String>) -> BoxedStrategy<(String, String, u8)> {
    (benign(name, seen), hostile(), any::<u8>()).boxed()
}

/// Raw text appended to a query string or form body as it is: malformed
/// percent escapes, empty names, stray separators, bytes that are not UTF-8.
pub fn raw_tail() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        12 => Just(None),
        1 => pick(&[
            "%",
            "%zz",
            "a=%FF%FE",
            "%FF=%C0%AF",
            "=",
            "&&&",
            "=x",
            "q",
            "%00=%00",
            "x=1=2",
            "a[]=1&a[]=2",
            "+++=+++",
            "csrf_token=",
            ";a=b",
        ])
        .prop_map(Some),
    ]
    .boxed()
}
