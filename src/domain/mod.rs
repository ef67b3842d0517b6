//! Parsed, validated values: once one exists, it is valid. The three-way
//! merge of concurrent vehicle edits lives here too, apart from HTTP.

mod choice;
pub mod date;
mod email;
mod field_errors;
pub mod import;
pub mod money;
mod password;
mod person_name;
pub mod photo;
mod role;
pub mod sale;
pub mod saved_view;
pub mod search;
pub mod second_factor;
pub mod settings;
mod stored;
pub mod text;
pub mod vehicle;

pub use email::Email;
pub use field_errors::FieldErrors;
pub use money::Money;
pub use password::{NewPassword, PasswordProblem};
pub use person_name::PersonName;
pub use role::Role;
pub use sale::PaymentMethod;
pub use vehicle::{BulkAction, Condition, Status, VehicleField, VehicleFields, VehicleForm};
