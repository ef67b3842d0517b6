//! What every page shares: errors as pages, the layout context, assets, the
//! dealership's settings, security headers, the request limit, the request
//! log, the body deadline and uploads.

pub mod assets;
pub mod body_deadline;
pub mod client_ip;
pub mod csv;
pub mod cursor;
pub mod dealership;
pub mod error;
pub mod filters;
pub mod headers;
pub mod identity;
pub mod page;
pub mod rate_limit;
pub mod request_log;
pub mod sort_header;
pub mod uploads;

pub use error::{AppError, Missing};
pub use page::{Flash, Page, render, see_other};
pub use sort_header::SortHeader;
