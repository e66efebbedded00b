//! The API's description: every `/api/v1` route is mounted through [`Api::route`] with its
//! [`Doc`], so the OpenAPI 3.1 document served at `/api/v1/openapi.json` is made from the same
//! list the router is, and its bodies from the types the handlers read and write.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Extension, Router};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{json, Map, Value};

use app::state::AppState;
use app::tokens::Scope;

type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The scope a route needs, put on each request for the [`super::auth::ApiCaller`] extractor to
/// check: the document states the scope the router enforces. `None`: any valid token.
#[derive(Clone, Copy, Debug)]
pub struct RequiredScope(pub Option<Scope>);

struct Answer {
    status: u16,
    description: &'static str,
    content: Option<(&'static str, Option<SchemaFn>)>,
}

struct Param {
    name: &'static str,
    description: &'static str,
    schema: SchemaFn,
}

enum Body {
    Json(SchemaFn),
    Raw {
        media_types: &'static [&'static str],
    },
}

/// One route as the document tells it: method, path (below `/api/v1`), scope, parameters, body,
/// answers and the problems it can answer.
pub struct Doc {
    method: Method,
    path: &'static str,
    operation_id: &'static str,
    summary: &'static str,
    description: &'static str,
    token: bool,
    scope: Option<Scope>,
    params: Vec<Param>,
    query: Option<SchemaFn>,
    body: Option<Body>,
    answers: Vec<Answer>,
    problems: Vec<u16>,
}

impl Doc {
    fn new(method: Method, path: &'static str, operation_id: &'static str) -> Doc {
        Doc {
            method,
            path,
            operation_id,
            summary: "",
            description: "",
            token: true,
            scope: None,
            params: Vec::new(),
            query: None,
            body: None,
            answers: Vec::new(),
            problems: Vec::new(),
        }
    }

    pub fn get(path: &'static str, operation_id: &'static str) -> Doc {
        Doc::new(Method::GET, path, operation_id)
    }

    pub fn post(path: &'static str, operation_id: &'static str) -> Doc {
        Doc::new(Method::POST, path, operation_id)
    }

    pub fn put(path: &'static str, operation_id: &'static str) -> Doc {
        Doc::new(Method::PUT, path, operation_id)
    }

    /// What it does in a line, and more when a line is not enough.
    pub fn says(mut self, summary: &'static str, description: &'static str) -> Doc {
        self.summary = summary;
        self.description = description;
        self
    }

    /// The scope the caller's token must hold; the router refuses others with 403.
    pub fn scope(mut self, scope: Scope) -> Doc {
        self.scope = Some(scope);
        self
    }

    /// Served without a token.
    pub fn public(mut self) -> Doc {
        self.token = false;
        self
    }

    /// A `{name}` of the path.
    pub fn param<T: JsonSchema>(mut self, name: &'static str, description: &'static str) -> Doc {
        self.params.push(Param {
            name,
            description,
            schema: schema_of::<T>,
        });
        self
    }

    /// The query string, one parameter per field of `Q`.
    pub fn query<Q: JsonSchema>(mut self) -> Doc {
        self.query = Some(schema_of::<Q>);
        self
    }

    /// A JSON body (gzip or deflate with `Content-Encoding` too).
    pub fn body<B: JsonSchema>(mut self) -> Doc {
        self.body = Some(Body::Json(schema_of::<B>));
        self
    }

    /// A body that is a file, as one of these media types.
    pub fn raw_body(mut self, media_types: &'static [&'static str]) -> Doc {
        self.body = Some(Body::Raw { media_types });
        self
    }

    /// A JSON answer.
    pub fn answers<T: JsonSchema>(mut self, status: u16, description: &'static str) -> Doc {
        self.answers.push(Answer {
            status,
            description,
            content: Some(("application/json", Some(schema_of::<T>))),
        });
        self
    }

    /// An answer with no body.
    pub fn empty(mut self, status: u16, description: &'static str) -> Doc {
        self.answers.push(Answer {
            status,
            description,
            content: None,
        });
        self
    }

    /// A file answer (a CSV, a workbook, a page).
    pub fn file(mut self, status: u16, media_type: &'static str, description: &'static str) -> Doc {
        self.answers.push(Answer {
            status,
            description,
            content: Some((media_type, None)),
        });
        self
    }

    /// Problems it may answer beyond those every route of its kind may (401, 403, 400, 404,
    /// 413, 422 follow from the token, the path and the body).
    pub fn problems(mut self, statuses: &[u16]) -> Doc {
        self.problems.extend_from_slice(statuses);
        self
    }

    pub fn method(&self) -> &Method {
        &self.method
    }

    pub fn path(&self) -> &'static str {
        self.path
    }

    pub fn required_scope(&self) -> Option<Scope> {
        self.scope
    }

    fn filter(&self) -> MethodFilter {
        match self.method {
            Method::POST => MethodFilter::POST,
            Method::PUT => MethodFilter::PUT,
            Method::DELETE => MethodFilter::DELETE,
            _ => MethodFilter::GET,
        }
    }

    /// The statuses of `application/problem+json` answers, in order.
    fn problem_statuses(&self) -> Vec<u16> {
        let mut statuses = Vec::new();
        if self.body.is_some() {
            statuses.extend([400, 413]);
        }
        if self.token {
            statuses.push(401);
        }
        if self.scope.is_some() {
            statuses.push(403);
        }
        if !self.params.is_empty() {
            statuses.push(404);
        }
        if self.body.is_some() || self.query.is_some() {
            statuses.push(422);
        }
        statuses.extend(&self.problems);
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    }

    fn operation(&self, generator: &mut SchemaGenerator) -> Value {
        let mut parameters: Vec<Value> = self
            .params
            .iter()
            .map(|param| {
                json!({
                    "name": param.name,
                    "in": "path",
                    "required": true,
                    "description": param.description,
                    "schema": (param.schema)(generator),
                })
            })
            .collect();
        if let Some(query) = self.query {
            parameters.extend(query_parameters(query, generator));
        }
        let mut operation = json!({
            "operationId": self.operation_id,
            "summary": self.summary,
            "tags": [tag(self.path)],
        });
        let fields = operation.as_object_mut().expect("an object");
        if !self.description.is_empty() {
            fields.insert("description".into(), self.description.into());
        }
        if !parameters.is_empty() {
            fields.insert("parameters".into(), parameters.into());
        }
        match &self.body {
            Some(Body::Json(schema)) => {
                fields.insert(
                    "requestBody".into(),
                    json!({
                        "required": true,
                        "description": "JSON; send it gzip- or deflate-compressed with `Content-Encoding` when it is large.",
                        "content": { "application/json": { "schema": schema(generator) } },
                    }),
                );
            }
            Some(Body::Raw { media_types }) => {
                let content: Map<String, Value> = media_types
                    .iter()
                    .map(|media| {
                        (
                            (*media).to_owned(),
                            json!({ "schema": { "type": "string", "contentMediaType": media } }),
                        )
                    })
                    .collect();
                fields.insert(
                    "requestBody".into(),
                    json!({ "required": true, "content": content }),
                );
            }
            None => {}
        }
        let mut responses = Map::new();
        for answer in &self.answers {
            let mut response = json!({ "description": answer.description });
            if let Some((media, schema)) = answer.content {
                let schema = match schema {
                    Some(schema) => schema(generator).to_value(),
                    None => json!({ "type": "string", "contentMediaType": media }),
                };
                response["content"] = json!({ media: { "schema": schema } });
            }
            responses.insert(answer.status.to_string(), response);
        }
        for status in self.problem_statuses() {
            responses.insert(
                status.to_string(),
                json!({ "$ref": format!("#/components/responses/{}", problem_name(status)) }),
            );
        }
        fields.insert("responses".into(), responses.into());
        if self.token {
            let scopes: Vec<&str> = self.scope.iter().map(|s| s.as_str()).collect();
            fields.insert("security".into(), json!([{ "token": scopes }]));
        } else {
            fields.insert("security".into(), json!([]));
        }
        operation
    }
}

/// The first part of the path names the feature: `experiments`, `telemetry`, ...
fn tag(path: &str) -> &str {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default()
}

/// A query struct's fields as query parameters.
fn query_parameters(query: SchemaFn, generator: &mut SchemaGenerator) -> Vec<Value> {
    let schema = query(generator).to_value();
    // The struct's own schema may sit among the definitions; the parameters take its fields.
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or_default();
            generator
                .definitions_mut()
                .remove(name)
                .unwrap_or(Value::Null)
        }
        None => schema,
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| {
            properties
                .iter()
                .map(|(name, property)| {
                    let mut property = property.clone();
                    let description = property
                        .as_object_mut()
                        .and_then(|p| p.remove("description"))
                        .unwrap_or_else(|| "".into());
                    json!({
                        "name": name,
                        "in": "query",
                        "required": required.contains(&name.as_str()),
                        "description": description,
                        "schema": property,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn problem_name(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        413 => "PayloadTooLarge",
        422 => "Invalid",
        429 => "Overloaded",
        503 => "Busy",
        _ => "Problem",
    }
}

fn problem_description(status: u16) -> &'static str {
    match status {
        400 => "The body is not what the route reads (not JSON, or not the media type).",
        401 => "No token, or one that is unknown, revoked or expired.",
        403 => "The token lacks the route's scope, or acts for another team.",
        404 => "Nothing has this id or key.",
        409 => "The request conflicts with what is stored (a key reused with other content, a state that does not allow it).",
        413 => "The body is larger than this server accepts (`PARETO_BODY_LIMIT`).",
        422 => "Fields are wrong: `errors` names each by its path, with what it should be.",
        429 => "The server is storing as many batches as it takes at once: send again after `Retry-After` seconds. Nothing was stored.",
        503 => "As many exports and imports as this server runs at once are running: try again in a minute.",
        _ => "A problem.",
    }
}

/// A router whose every route carries its [`Doc`].
pub struct Api {
    prefix: &'static str,
    router: Router<AppState>,
    docs: Vec<Doc>,
}

impl Api {
    /// Routes mounted at their own path (nested below `/api/v1` by the caller).
    pub fn new() -> Api {
        Api::under("")
    }

    /// Routes mounted at `prefix` + their path, documented at their path alone.
    pub fn under(prefix: &'static str) -> Api {
        Api {
            prefix,
            router: Router::new(),
            docs: Vec::new(),
        }
    }

    /// Mounts `handler` for the document's method and path.
    pub fn route<H, T>(self, doc: Doc, handler: H) -> Api
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route_with(doc, handler, |route| route)
    }

    /// Mounts `handler` with what `layered` adds to its route (load shedding, say).
    pub fn route_with<H, T>(
        mut self,
        doc: Doc,
        handler: H,
        layered: impl FnOnce(MethodRouter<AppState>) -> MethodRouter<AppState>,
    ) -> Api
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let route = layered(on(doc.filter(), handler)).layer(Extension(RequiredScope(doc.scope)));
        self.router = self
            .router
            .route(&format!("{}{}", self.prefix, doc.path), route);
        self.docs.push(doc);
        self
    }

    pub fn docs(&self) -> &[Doc] {
        &self.docs
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

impl Default for Api {
    fn default() -> Self {
        Api::new()
    }
}

/// The OpenAPI 3.1 document of these routes.
pub fn document<'a>(docs: impl IntoIterator<Item = &'a Doc>) -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .into_generator();
    let mut paths: Map<String, Value> = Map::new();
    let mut docs: Vec<&Doc> = docs.into_iter().collect();
    docs.sort_by_key(|doc| doc.path);
    for doc in docs {
        let operation = doc.operation(&mut generator);
        let item = paths
            .entry(doc.path)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("a path item");
        item.insert(doc.method.as_str().to_ascii_lowercase(), operation);
    }
    let problem = generator.subschema_for::<super::error::ProblemDoc>();
    let mut responses = Map::new();
    for status in [400, 401, 403, 404, 409, 413, 422, 429, 503] {
        let mut response = json!({
            "description": problem_description(status),
            "content": { "application/problem+json": { "schema": problem } },
        });
        if status == 429 {
            response["headers"] = json!({
                "Retry-After": {
                    "description": "Seconds to wait before sending again.",
                    "schema": { "type": "integer", "minimum": 1 },
                }
            });
        }
        responses.insert(problem_name(status).into(), response);
    }
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Pareto API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The API of Pareto, the cost ledger for machine-learning models: agents post telemetry and drift, training pipelines record experiments and runs, release pipelines ask for promotions, and scripts read costs, advice and reports. Every route but this document takes a token (`Authorization: Bearer <token>`, made with `pareto token create NAME --scope SCOPE`) holding the scope the route names; errors are `application/problem+json` (RFC 9457).",
        },
        "servers": [{ "url": "/api/v1" }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A Pareto API token. The scopes an operation lists are those its token must hold: ingest, write, read or bills.",
                }
            },
        },
    })
}
