//! Parsed, validated values: once one exists, it is valid.

mod email;
mod password;
mod person_name;
mod role;

pub use email::Email;
pub use password::{NewPassword, PasswordProblem};
pub use person_name::PersonName;
pub use role::Role;
