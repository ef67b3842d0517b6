//! Sales: recording one (exactly once), its printable page, voiding, the
//! list and CSV, and the report.

pub mod list;
pub mod report;
pub mod sell;
pub mod show;
