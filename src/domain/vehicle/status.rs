//! Where a vehicle stands, and the one rule for changing that by editing.

use crate::domain::{Role, choice::choice};

choice! {
    /// Where a vehicle stands.
    pub enum Status {
        Available = ("available", "Available"),
        Reserved = ("reserved", "Reserved"),
        Sold = ("sold", "Sold"),
        Archived = ("archived", "Archived"),
    }
}

impl Status {
    /// Still on the lot (counts for VIN uniqueness, can be sold).
    pub fn in_stock(self) -> bool {
        matches!(self, Self::Available | Self::Reserved)
    }

    /// Why an edit by someone with `role` may not move a vehicle from this
    /// status to `next` (SPEC §4): `sold` comes from a sale, `archived` from
    /// archiving, and only an admin brings an archived one back. `None`: it may.
    pub fn change_problem(self, next: Status, role: Role) -> Option<&'static str> {
        if self == next {
            return None;
        }
        match (self, next) {
            (Self::Sold, _) => Some(
                "This vehicle is sold: its status follows its sale (void the sale to change it).",
            ),
            (_, Self::Sold) => Some("A vehicle becomes sold by recording a sale, not by editing."),
            (_, Self::Archived) => Some("Use the Archive button to archive a vehicle."),
            (Self::Archived, _) if role != Role::Admin => {
                Some("Only an admin can bring an archived vehicle back.")
            }
            _ => None,
        }
    }

    /// What the edit form offers from this status: every status
    /// `change_problem` allows, this one included, an archived one first.
    pub fn choices(self, role: Role) -> Vec<Status> {
        [Self::Archived, Self::Available, Self::Reserved, Self::Sold]
            .into_iter()
            .filter(|next| self.change_problem(*next, role).is_none())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn status_rules() {
        assert!(Available.change_problem(Reserved, Role::Editor).is_none());
        assert!(Available.change_problem(Sold, Role::Admin).is_some());
        assert!(Sold.change_problem(Available, Role::Admin).is_some());
        assert!(Available.change_problem(Archived, Role::Admin).is_some());
        assert!(Archived.change_problem(Available, Role::Editor).is_some());
        assert!(Archived.change_problem(Available, Role::Admin).is_none());
    }

    #[test]
    fn the_form_offers_exactly_what_the_rule_allows() {
        assert_eq!(Available.choices(Role::Editor), [Available, Reserved]);
        assert_eq!(Reserved.choices(Role::Admin), [Available, Reserved]);
        assert_eq!(Sold.choices(Role::Admin), [Sold]);
        assert_eq!(Archived.choices(Role::Editor), [Archived]);
        assert_eq!(
            Archived.choices(Role::Admin),
            [Archived, Available, Reserved]
        );
        for current in Status::ALL {
            for role in Role::ALL {
                for next in Status::ALL {
                    assert_eq!(
                        current.choices(role).contains(&next),
                        current.change_problem(next, role).is_none(),
                        "{current} → {next} as {role}"
                    );
                }
            }
        }
    }
}
