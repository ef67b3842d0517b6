//! New, used or certified pre-owned.

use crate::domain::choice::choice;

choice! {
    pub enum Condition {
        New = ("new", "New"),
        Used = ("used", "Used"),
        Certified = ("certified", "Certified pre-owned"),
    }
}
