//! Who is signed in and what they may do: roles, sessions, passwords, sign-in throttling.

#[cfg(feature = "ssr")]
pub mod guard;
mod pages;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod secret;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "ssr")]
pub mod throttle;

pub use pages::{AccountPage, LoginPage, SetupPage};
pub use server_fns::*;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// Roles are ordered: each one may do everything the roles before it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::Type))]
#[cfg_attr(
    feature = "ssr",
    sqlx(type_name = "user_role", rename_all = "lowercase")
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Member,
    Lead,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Member, Role::Lead, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Member => "member",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::Viewer => "reads every page",
            Role::Member => "also records experiments and links deployments",
            Role::Lead => "also manages teams, approves reviews and budgets",
            Role::Admin => "also manages users, API tokens and prices",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Role::Viewer),
            "member" => Ok(Role::Member),
            "lead" => Ok(Role::Lead),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}`: expected one of viewer, member, lead, admin"
            )),
        }
    }
}

/// The signed-in person, as every page and server function sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
}

impl CurrentUser {
    pub fn can(&self, role: Role) -> bool {
        self.role >= role
    }
}

pub const MIN_PASSWORD_LENGTH: usize = 12;
pub const MAX_PASSWORD_LENGTH: usize = 256;

/// Lower-cases and trims an email address, or says why it cannot be one.
pub fn normalize_email(input: &str) -> Result<String, &'static str> {
    let email = input.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter an email address.");
    }
    if email.len() > 254 {
        return Err("An email address has at most 254 characters.");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("An email address looks like name@example.com.");
    };
    let valid = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err("An email address looks like name@example.com.")
    }
}

/// Says why a new password is not acceptable, if it is not.
pub fn password_problem(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LENGTH {
        Some(format!(
            "Use at least {MIN_PASSWORD_LENGTH} characters (this one has {length})."
        ))
    } else if length > MAX_PASSWORD_LENGTH {
        Some(format!("Use at most {MAX_PASSWORD_LENGTH} characters."))
    } else if password.trim().is_empty() {
        Some("A password cannot be only spaces.".into())
    } else {
        None
    }
}

/// Says why a display name is not acceptable, if it is not.
pub fn display_name_problem(name: &str) -> Option<&'static str> {
    let length = name.trim().chars().count();
    if length == 0 {
        Some("Enter a name.")
    } else if length > 100 {
        Some("A name has at most 100 characters.")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Viewer < Role::Member);
        assert!(Role::Member < Role::Lead);
        assert!(Role::Lead < Role::Admin);
        let lead = CurrentUser {
            user_id: Uuid::nil(),
            email: "l@example.com".into(),
            display_name: "L".into(),
            role: Role::Lead,
        };
        assert!(lead.can(Role::Member));
        assert!(!lead.can(Role::Admin));
    }

    #[test]
    fn roles_parse_case_insensitively_and_reject_unknown_ones() {
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!(" viewer ".parse::<Role>(), Ok(Role::Viewer));
        let error = "owner".parse::<Role>().unwrap_err();
        assert!(error.contains("unknown role `owner`"), "{error}");
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Ada@Example.COM "),
            Ok("ada@example.com".into())
        );
        assert!(normalize_email("").is_err());
        assert!(normalize_email("ada").is_err());
        assert!(normalize_email("ada@").is_err());
        assert!(normalize_email("a b@example.com").is_err());
        assert!(normalize_email("a@b@c").is_err());
    }

    #[test]
    fn passwords_need_twelve_characters() {
        assert!(password_problem("short").unwrap().contains("at least 12"));
        assert!(password_problem("            ").is_some());
        assert_eq!(password_problem("correct horse battery"), None);
        assert!(password_problem(&"x".repeat(257)).is_some());
    }
}
