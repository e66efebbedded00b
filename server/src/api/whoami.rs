//! `GET /api/v1/whoami`: lets an agent check its token before it sends anything.

use axum::Json;
use serde::Serialize;

use super::auth::ApiCaller;
use app::tokens::Scope;

#[derive(Serialize, schemars::JsonSchema)]
pub struct WhoAmI {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub team: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn get(caller: ApiCaller) -> Json<WhoAmI> {
    let identity = caller.0;
    Json(WhoAmI {
        name: identity.name,
        scopes: identity.scopes,
        team: identity.team,
    })
}
