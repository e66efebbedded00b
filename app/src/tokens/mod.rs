//! API tokens: how agents, pipelines and scripts authenticate to `/api/v1`.

mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::TokensPage;
pub use server_fns::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

use crate::error::{AppError, Validator};

/// What a token may do. Scopes are independent: a token holds exactly the ones it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Scope {
    /// Post telemetry and drift measurements.
    Ingest,
    /// Create and change experiments and runs, ask for promotions.
    Write,
    /// Read reports and exports.
    Read,
    /// Import cloud bills into the ledger (finance's exports, not a training pipeline's).
    Bills,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Ingest, Scope::Write, Scope::Read, Scope::Bills];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Write => "write",
            Scope::Read => "read",
            Scope::Bills => "bills",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Scope::Ingest => "post telemetry and drift (agents)",
            Scope::Write => "record experiments and runs (pipelines)",
            Scope::Read => "read reports and exports",
            Scope::Bills => "import cloud bills (finance)",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "ingest" => Ok(Scope::Ingest),
            "write" => Ok(Scope::Write),
            "read" => Ok(Scope::Read),
            "bills" => Ok(Scope::Bills),
            other => Err(format!(
                "unknown scope `{other}`: expected ingest, write, read or bills"
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenSummary {
    pub api_token_id: Uuid,
    pub name: String,
    pub token_prefix: String,
    pub scopes: Vec<Scope>,
    pub team: Option<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A token just created: the secret is in this value and nowhere else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedToken {
    pub token: TokenSummary,
    pub secret: String,
}

/// A new token's name and scopes, checked.
pub fn parse_new_token(name: &str, scopes: &[Scope]) -> Result<(String, Vec<Scope>), AppError> {
    let name = name.trim();
    let mut check = Validator::new();
    check.check(
        !name.is_empty(),
        "name",
        "Name the token after what will use it, e.g. gpu-node-17.",
    );
    check.check(
        name.chars().count() <= 80,
        "name",
        "A token name has at most 80 characters.",
    );
    check.check(!scopes.is_empty(), "scopes", "Choose at least one scope.");
    check.finish()?;
    let mut scopes = scopes.to_vec();
    scopes.sort();
    scopes.dedup();
    Ok((name.to_owned(), scopes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_reject_unknown_ones() {
        assert_eq!("INGEST".parse::<Scope>(), Ok(Scope::Ingest));
        assert!("admin"
            .parse::<Scope>()
            .unwrap_err()
            .contains("unknown scope `admin`"));
    }

    #[test]
    fn a_token_needs_a_name_and_a_scope() {
        let error = parse_new_token(" ", &[]).unwrap_err();
        assert!(error.field_message("name").is_some());
        assert!(error.field_message("scopes").is_some());
        let (name, scopes) =
            parse_new_token(" gpu-node-17 ", &[Scope::Read, Scope::Ingest, Scope::Read])
                .expect("valid");
        assert_eq!(name, "gpu-node-17");
        assert_eq!(scopes, vec![Scope::Ingest, Scope::Read]);
    }
}
