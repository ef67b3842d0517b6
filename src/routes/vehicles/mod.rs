//! The inventory: list and search, add, detail, edit with three-way merge,
//! archive, CSV export and import, photos.

pub mod archive;
pub mod bulk;
pub mod csv;
pub mod edit;
pub mod import;
pub mod list;
pub mod photos;
pub mod presence;
pub mod show;
