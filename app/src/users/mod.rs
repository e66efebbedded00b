//! People: who can sign in, with which role, in which teams.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::UsersPage;
pub use server_fns::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{display_name_problem, normalize_email, password_problem, Role};
use crate::error::{AppError, Validator};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserSummary {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub teams: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// A new account, checked field by field.
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
}

impl NewUser {
    /// Checks every field and reports each problem against its form field name.
    pub fn parse(
        email: &str,
        display_name: &str,
        password: &str,
        password_confirm: Option<&str>,
        role: &str,
    ) -> Result<NewUser, AppError> {
        let mut check = Validator::new();
        let normalized = normalize_email(email);
        if let Err(message) = &normalized {
            check.check(false, "email", *message);
        }
        if let Some(message) = display_name_problem(display_name) {
            check.check(false, "display_name", message);
        }
        if let Some(message) = password_problem(password) {
            check.check(false, "password", message);
        }
        if let Some(confirm) = password_confirm {
            check.check(
                confirm == password,
                "password_confirm",
                "The two passwords differ.",
            );
        }
        let parsed_role = role.parse::<Role>();
        if let Err(message) = &parsed_role {
            check.check(false, "role", message.clone());
        }
        check.finish()?;
        match (normalized, parsed_role) {
            (Ok(email), Ok(role)) => Ok(NewUser {
                email,
                display_name: display_name.trim().to_owned(),
                password: password.to_owned(),
                role,
            }),
            _ => Err(AppError::Internal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let error = NewUser::parse("nope", "", "short", Some("other"), "owner").unwrap_err();
        for field in [
            "email",
            "display_name",
            "password",
            "password_confirm",
            "role",
        ] {
            assert!(
                error.field_message(field).is_some(),
                "{field} not reported: {error:?}"
            );
        }
    }

    #[test]
    fn a_good_user_is_normalized() {
        let user = NewUser::parse(
            " Ada@Example.com",
            " Ada Lovelace ",
            "analytical engine",
            None,
            "Lead",
        )
        .expect("valid");
        assert_eq!(user.email, "ada@example.com");
        assert_eq!(user.display_name, "Ada Lovelace");
        assert_eq!(user.role, Role::Lead);
    }
}
