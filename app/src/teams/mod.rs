//! Teams: the groups that own models, budgets and tokens. A person can belong to several.

#[cfg(feature = "ssr")]
pub mod access;
mod page;
mod server_fns;
#[cfg(feature = "ssr")]
pub mod store;

pub use page::TeamsPage;
pub use server_fns::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, Validator};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamMember {
    pub user_id: Uuid,
    pub display_name: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TeamSummary {
    pub team_id: Uuid,
    pub name: String,
    pub description: String,
    pub members: Vec<TeamMember>,
    pub created_at: DateTime<Utc>,
}

/// The teams a person may choose as the owner of what they create: every team for an admin, their
/// own teams for everyone else (members and leads change only what their teams own).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamChoices {
    pub teams: Vec<(Uuid, String)>,
    /// An admin, who may also leave a thing to no team.
    pub everywhere: bool,
}

impl TeamChoices {
    /// What a form says when there is no team to choose.
    pub fn none_message(&self) -> &'static str {
        if self.everywhere {
            "There is no team yet: create one on the Teams page first."
        } else {
            "You are in no team yet, and only a team's members change what it owns: a lead adds you on the Teams page."
        }
    }
}

/// The owner choices of a page's forms, loaded once.
pub type TeamChoicesResource =
    leptos::prelude::Resource<Result<TeamChoices, crate::error::AppError>>;

/// A new team's name and description, checked.
pub fn parse_new_team(name: &str, description: &str) -> Result<(String, String), AppError> {
    let name = name.trim();
    let description = description.trim();
    let mut check = Validator::new();
    check.check(!name.is_empty(), "name", "Enter a team name.");
    check.check(
        name.chars().count() <= 80,
        "name",
        "A team name has at most 80 characters.",
    );
    check.check(
        description.chars().count() <= 500,
        "description",
        "A description has at most 500 characters.",
    );
    check.finish()?;
    Ok((name.to_owned(), description.to_owned()))
}

/// The team chosen in a form's select: none for the empty choice.
pub fn parse_team_choice(team_id: Option<&str>) -> Result<Option<Uuid>, AppError> {
    match team_id.map(str::trim).filter(|id| !id.is_empty()) {
        None => Ok(None),
        Some(id) => id
            .parse::<Uuid>()
            .map(Some)
            .map_err(|_| AppError::field("team_id", "Choose an existing team.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_choice_is_empty_or_an_id() {
        assert_eq!(parse_team_choice(None), Ok(None));
        assert_eq!(parse_team_choice(Some(" ")), Ok(None));
        assert_eq!(
            parse_team_choice(Some(&Uuid::nil().to_string())),
            Ok(Some(Uuid::nil()))
        );
        assert!(parse_team_choice(Some("ops")).is_err());
    }

    #[test]
    fn team_names_are_trimmed_and_required() {
        assert_eq!(
            parse_new_team("  Fraud ", " Card fraud models "),
            Ok(("Fraud".into(), "Card fraud models".into()))
        );
        let error = parse_new_team("   ", "").unwrap_err();
        assert_eq!(
            error.field_message("name").as_deref(),
            Some("Enter a team name.")
        );
        assert!(parse_new_team(&"x".repeat(81), "").is_err());
    }
}
