//! Allocation rules as people write them, checked before anything is stored.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{AppError, FieldError};

/// What a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchKind {
    Tag,
    Resource,
    Account,
    Service,
}

impl MatchKind {
    pub const ALL: [MatchKind; 4] = [
        MatchKind::Tag,
        MatchKind::Resource,
        MatchKind::Account,
        MatchKind::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Tag => "tag",
            MatchKind::Resource => "resource",
            MatchKind::Account => "account",
            MatchKind::Service => "service",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MatchKind::Tag => "Tag",
            MatchKind::Resource => "Resource id",
            MatchKind::Account => "Billing or sub-account",
            MatchKind::Service => "Service name",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        MatchKind::ALL.into_iter().find(|k| k.as_str() == value)
    }
}

/// How a rule with several targets shares a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Split {
    Equal,
    GpuHours,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Equal => "equal",
            Split::GpuHours => "gpu_hours",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Split::Equal => "equally",
            Split::GpuHours => "by GPU-hours",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [Split::Equal, Split::GpuHours]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// Where a rule sends what it matches, by name for reading.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetView {
    pub team: Option<String>,
    pub model: Option<String>,
    pub deployment: Option<String>,
}

impl TargetView {
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            self.team.as_ref().map(|t| format!("team {t}")),
            self.model.as_ref().map(|m| format!("model {m}")),
            self.deployment.as_ref().map(|d| format!("deployment {d}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        parts.join(", ")
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    pub allocation_rule_id: Uuid,
    pub position: i32,
    pub name: String,
    pub kind: MatchKind,
    pub key: Option<String>,
    pub pattern: String,
    pub split: Split,
    pub targets: Vec<TargetView>,
    /// Current ledger rows the rule takes.
    pub rows: i64,
}

impl RuleView {
    pub fn describe_match(&self) -> String {
        match (&self.kind, &self.key) {
            (MatchKind::Tag, Some(key)) => format!("tag {key} = {}", self.pattern),
            (kind, _) => format!("{} = {}", kind.label().to_lowercase(), self.pattern),
        }
    }
}

/// A rule's target before it is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTarget {
    pub team_id: Option<Uuid>,
    pub model_id: Option<Uuid>,
    pub deployment_id: Option<Uuid>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRule {
    pub name: String,
    pub kind: MatchKind,
    pub key: Option<String>,
    pub pattern: String,
    pub split: Split,
    pub targets: Vec<NewTarget>,
}

/// The rule form's fields, as the page sends them. Deployments to split across are keys, one per
/// line; the store turns them into ids (an unknown key is an error for `split_deployments`) and
/// hands them to [`RuleInput::parse`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInput {
    /// Empty for a new rule.
    pub rule_id: String,
    pub name: String,
    pub kind: String,
    pub key: String,
    pub pattern: String,
    pub team_id: String,
    pub model_id: String,
    pub deployment_id: String,
    pub split_deployments: String,
    pub split: String,
}

fn optional_id(field: &str, value: &str, errors: &mut Vec<FieldError>) -> Option<Uuid> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse() {
        Ok(id) => Some(id),
        Err(_) => {
            errors.push(FieldError {
                field: field.into(),
                message: "Choose from the list.".into(),
            });
            None
        }
    }
}

impl RuleInput {
    /// The rule, given the ids of the deployments `split_deployments` names.
    pub fn parse(&self, split_deployments: &[Uuid]) -> Result<NewRule, AppError> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, message: &str| {
            errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            });
        };
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 120 {
            fail("name", "Give the rule a name of 1 to 120 characters.");
        }
        let kind = MatchKind::parse(self.kind.trim());
        if kind.is_none() {
            fail(
                "kind",
                "Choose what the rule matches: a tag, a resource id, an account or a service.",
            );
        }
        let key = self.key.trim().to_owned();
        if kind == Some(MatchKind::Tag) && key.is_empty() {
            fail("key", "Name the tag key, e.g. team.");
        }
        let pattern = self.pattern.trim().to_owned();
        if pattern.is_empty() || pattern.chars().count() > 300 {
            fail(
                "pattern",
                "Write the value to match (exact, or with * and ?), up to 300 characters.",
            );
        }
        let split = Split::parse(self.split.trim()).unwrap_or(Split::Equal);
        let mut errors_ids = Vec::new();
        let single = NewTarget {
            team_id: optional_id("team_id", &self.team_id, &mut errors_ids),
            model_id: optional_id("model_id", &self.model_id, &mut errors_ids),
            deployment_id: optional_id("deployment_id", &self.deployment_id, &mut errors_ids),
        };
        errors.extend(errors_ids);
        let targets = if split_deployments.is_empty() {
            if single.team_id.is_none()
                && single.model_id.is_none()
                && single.deployment_id.is_none()
            {
                errors.push(FieldError {
                    field: "team_id".into(),
                    message: "Choose where matching costs go: a team, a model, a deployment, or deployments to split across.".into(),
                });
            }
            vec![single]
        } else {
            let mut ids = split_deployments.to_vec();
            ids.dedup();
            ids.into_iter()
                .map(|deployment_id| NewTarget {
                    team_id: single.team_id,
                    model_id: None,
                    deployment_id: Some(deployment_id),
                })
                .collect()
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let kind = kind.unwrap_or(MatchKind::Tag);
        Ok(NewRule {
            name,
            kind,
            key: (kind == MatchKind::Tag).then_some(key),
            pattern,
            split,
            targets,
        })
    }
}

/// What a change to the rules would move: per team, model and currency, before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    pub team: Option<String>,
    pub model: Option<String>,
    pub currency: String,
    pub before: Decimal,
    pub after: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    /// Current rows the rule would take (estimated when `sample` is set); `None` when it was saved
    /// over a ledger too large to measure at once, which the job then re-allocates.
    pub rows: Option<i64>,
    /// Only the targets whose amount changes, the largest change first.
    pub moves: Vec<Move>,
    /// Measured over a sample: the rule could change more rows than a preview reads.
    pub sample: Option<Sample>,
    /// Saved over a ledger too large to re-allocate at once: the rows a background job now
    /// re-allocates (figures show the previous allocation until it has finished).
    pub reallocating: Option<i64>,
}

/// A preview of a large ledger reads a sample of its pages: these many current rows, standing for
/// about `of` (the ledger's current rows); its figures are scaled up from them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub rows: i64,
    pub of: i64,
}

/// The re-allocation job, as the rules page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    pub running: bool,
    pub rows_done: i64,
    pub rows_total: i64,
    pub started_by: String,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RuleInput {
        RuleInput {
            name: "Search GPUs".into(),
            kind: "tag".into(),
            key: "team".into(),
            pattern: "search*".into(),
            team_id: Uuid::nil().to_string(),
            split: "equal".into(),
            ..RuleInput::default()
        }
    }

    #[test]
    fn a_tag_rule_needs_its_key_and_somewhere_to_send_costs() {
        assert!(form().parse(&[]).is_ok());
        let mut no_key = form();
        no_key.key = " ".into();
        assert!(no_key
            .parse(&[])
            .unwrap_err()
            .field_message("key")
            .is_some());
        let mut nowhere = form();
        nowhere.team_id = String::new();
        assert!(nowhere
            .parse(&[])
            .unwrap_err()
            .field_message("team_id")
            .is_some());
        let mut service = form();
        service.kind = "service".into();
        service.key = String::new();
        assert_eq!(service.parse(&[]).expect("valid").key, None);
    }

    #[test]
    fn split_deployments_become_one_target_each() {
        let mut shared = form();
        shared.team_id = String::new();
        shared.split = "gpu_hours".into();
        let rule = shared
            .parse(&[Uuid::from_u128(1), Uuid::from_u128(2)])
            .expect("valid");
        assert_eq!(rule.split, Split::GpuHours);
        assert_eq!(rule.targets.len(), 2);
        assert_eq!(rule.targets[1].deployment_id, Some(Uuid::from_u128(2)));
    }
}
