//! Staff roles, ordered by what they may do.

use super::choice::choice;

choice! {
    /// `viewer < editor < admin`: each role may do everything the one before
    /// may (the order of declaration is the order of power).
    #[derive(PartialOrd, Ord)]
    pub enum Role {
        Viewer = ("viewer", "Viewer"),
        Editor = ("editor", "Editor"),
        Admin = ("admin", "Admin"),
    }
}

impl Role {
    /// Whether someone with this role may do what `least` allows.
    pub fn allows(self, least: Role) -> bool {
        self >= least
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Admin.allows(Role::Editor));
        assert!(Role::Editor.allows(Role::Viewer));
        assert!(!Role::Viewer.allows(Role::Editor));
        assert!(!Role::Editor.allows(Role::Admin));
    }

    #[test]
    fn parse_round_trips_and_rejects_the_rest() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::parse("Admin"), None);
    }
}
