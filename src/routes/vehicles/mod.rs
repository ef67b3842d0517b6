//! The inventory: list and search, add, detail, edit with three-way merge,
//! archive, CSV export.

pub mod archive;
pub mod csv;
pub mod edit;
pub mod list;
pub mod show;

use crate::domain::Status;

/// Status choices the edit form offers, given the current status and role.
pub fn status_choices(current: Option<Status>, is_admin: bool) -> Vec<Status> {
    match current {
        None | Some(Status::Available | Status::Reserved) => {
            vec![Status::Available, Status::Reserved]
        }
        Some(Status::Archived) if is_admin => {
            vec![Status::Archived, Status::Available, Status::Reserved]
        }
        Some(other) => vec![other],
    }
}
