//! A column heading that sorts its list: a link to the other order and the
//! state screen readers announce (`aria-sort`), for every list that sorts by
//! its columns (`templates/_macros.html`, `sort_heading`).

pub struct SortHeader {
    pub label: &'static str,
    pub url: String,
    /// `ascending`, `descending` or `none`, for aria-sort.
    pub aria: &'static str,
    pub numeric: bool,
    /// The class that hides the column on narrow screens (`static/app.css`:
    /// `col-wide-phone`, `col-tablet`, `col-laptop`), or none.
    pub hides: &'static str,
}

impl SortHeader {
    /// `shown_desc`: whether the column, as people read it, runs from the
    /// highest down, when it is the one sorted by (`active`).
    pub fn new(
        label: &'static str,
        url: String,
        active: bool,
        shown_desc: bool,
        numeric: bool,
    ) -> Self {
        Self {
            label,
            url,
            aria: match (active, shown_desc) {
                (false, _) => "none",
                (true, true) => "descending",
                (true, false) => "ascending",
            },
            numeric,
            hides: "",
        }
    }

    /// The order a click on a column's heading asks for: the other way
    /// round when it is the column sorted by, else its natural direction
    /// (`first_desc`: newest, highest; or A→Z).
    pub fn next_desc(active: bool, current_desc: bool, first_desc: bool) -> bool {
        if active { !current_desc } else { first_desc }
    }

    /// Hidden on screens narrower than `class` says (see `hides`).
    pub fn hidden_below(mut self, class: &'static str) -> Self {
        self.hides = class;
        self
    }
}
