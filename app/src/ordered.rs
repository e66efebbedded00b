//! Rules kept in order, where the first rule that matches decides: allocation rules (which team or
//! model a bill row goes to), tier rules (which tier a model is in), and any list of rules that
//! comes next. One table per list, each with a `position` column numbered 1..n whose uniqueness is
//! checked at commit (`deferrable initially deferred`); this module adds to the end, moves a rule
//! one place, and closes the gap a deleted rule leaves, the same way for every list.
//!
//! On the page every list shows the same ↑ / ↓ buttons ([`MoveButtons`]), each a form posting the
//! feature's own move server function with `rule_id` and `earlier`.

use leptos::prelude::*;
use leptos::server_fn::client::Client;
use leptos::server_fn::codec::PostUrl;
use leptos::server_fn::request::ClientReq;
use leptos::server_fn::{Http, ServerFn};
use uuid::Uuid;

use crate::components::ActionButton;

/// One place earlier (the rule then wins over the one it passed) or later.
#[component]
pub fn MoveButtons<S, O>(
    action: ServerAction<S>,
    rule_id: Uuid,
    /// The rule's name, for the buttons' labels.
    name: String,
    position: i32,
    /// How many rules the list holds.
    count: usize,
) -> impl IntoView
where
    S: serde::de::DeserializeOwned
        + ServerFn<Protocol = Http<PostUrl, O>>
        + Clone
        + Send
        + Sync
        + 'static,
    <<S::Client as Client<S::Error>>::Request as ClientReq<S::Error>>::FormData:
        From<leptos::web_sys::FormData>,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
    <S as ServerFn>::Client: Client<<S as ServerFn>::Error>,
    O: 'static,
{
    let last = usize::try_from(position).is_ok_and(|p| p >= count);
    let button = move |earlier: bool| {
        let (label, arrow, disabled) = if earlier {
            (format!("Move {name} earlier"), "↑", position <= 1)
        } else {
            (format!("Move {name} later"), "↓", last)
        };
        let fields = vec![
            ("rule_id", rule_id.to_string()),
            ("earlier", earlier.to_string()),
        ];
        view! { <ActionButton action=action fields=fields text=arrow label=label disabled=disabled /> }
    };
    view! {
        {button(true)}
        {button(false)}
    }
}

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use sqlx::{PgConnection, Row};
    use uuid::Uuid;

    use crate::error::AppError;

    /// One ordered list of rules in Postgres.
    pub struct Ordered {
        /// The table, with `name` and `position` columns.
        pub table: &'static str,
        /// Its key column.
        pub id: &'static str,
        /// "No tier rule has this id." when a rule is not found.
        pub missing: &'static str,
    }

    /// A rule as its list holds it.
    pub struct Placed {
        pub name: String,
        pub position: i32,
    }

    /// A move about to be made: the rule, where it goes, and the rule it passes (none when it is
    /// already first or last).
    pub struct Move {
        pub rule: Placed,
        pub to: i32,
        pub passed: Option<Uuid>,
    }

    impl Ordered {
        /// Locks the list against other changes for the rest of the transaction.
        pub async fn lock(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
            sqlx::query(&format!("lock table {} in exclusive mode", self.table))
                .execute(conn)
                .await?;
            Ok(())
        }

        /// The position after the last rule.
        pub async fn next_position(&self, conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
            sqlx::query_scalar(&format!(
                "select coalesce(max(position), 0) + 1 from {}",
                self.table
            ))
            .fetch_one(conn)
            .await
        }

        /// Where moving `rule_id` one place would take it, and the rule it would pass.
        pub async fn plan_move(
            &self,
            conn: &mut PgConnection,
            rule_id: Uuid,
            earlier: bool,
        ) -> Result<Move, AppError> {
            let row = sqlx::query(&format!(
                "select name, position from {} where {} = $1",
                self.table, self.id
            ))
            .bind(rule_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| AppError::NotFound(self.missing.into()))?;
            let rule = Placed {
                name: row.try_get("name")?,
                position: row.try_get("position")?,
            };
            let to = if earlier {
                rule.position - 1
            } else {
                rule.position + 1
            };
            let passed = sqlx::query_scalar(&format!(
                "select {} from {} where position = $1",
                self.id, self.table
            ))
            .bind(to)
            .fetch_optional(conn)
            .await?;
            Ok(Move { rule, to, passed })
        }

        /// Makes a planned move: the two rules swap places in one statement (the positions'
        /// uniqueness is checked at commit). False when there was nothing to pass.
        pub async fn make_move(
            &self,
            conn: &mut PgConnection,
            planned: &Move,
        ) -> Result<bool, sqlx::Error> {
            if planned.passed.is_none() {
                return Ok(false);
            }
            let swapped = sqlx::query(&format!(
                "update {} set position = case when position = $1 then $2 else $1 end
                  where position in ($1, $2)",
                self.table
            ))
            .bind(planned.rule.position)
            .bind(planned.to)
            .execute(conn)
            .await?;
            Ok(swapped.rows_affected() == 2)
        }

        /// Numbers the rules 1..n again after one was deleted, keeping their order.
        pub async fn close_gap(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
            sqlx::query(&format!(
                "update {table} r set position = n.position
                   from (select {id}, row_number() over (order by position)::int as position
                           from {table}) n
                  where n.{id} = r.{id} and r.position <> n.position",
                table = self.table,
                id = self.id
            ))
            .execute(conn)
            .await?;
            Ok(())
        }
    }
}
