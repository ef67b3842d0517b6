//! Who is asking: sessions, CSRF, the sign-in check and its throttling, and
//! the extractors through which each handler states the least role it needs.

pub mod csrf;
pub mod extract;
pub mod kept_forms;
pub mod second_factor;
pub mod session;
pub mod sign_in;

pub use crate::{
    token::{random_token, sha256},
    web::identity::{SID_KEY, SignedIn, login_url, safe_next},
};
pub use extract::{Admin, CsrfChecked, Editor, EditorRole, MaybeSignedIn, Signed, Upload, Viewer};
