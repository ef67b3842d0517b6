//! The second sign-in factor: the code step of sign-in (`/login/code`), and
//! setting one up or turning it off (`/account/2fa`). An admin's reset of
//! someone's factor is with the other actions on users, in `admin::users`.

mod code;
mod enrol;

pub use code::{form as code_form, submit as code_submit};
pub use enrol::{show, submit};

use crate::auth::sign_in::Throttled;

/// "N minute(s)", as a throttled person is told how long to wait.
fn minutes(throttled: &Throttled) -> String {
    let n = throttled.minutes();
    format!("{n} minute{}", if n == 1 { "" } else { "s" })
}
