//! OpenAPI 3.1 documents, generated from the handlers.
//!
//! Every route is registered through `utoipa_axum::routes!`, which takes the
//! handler's `#[utoipa::path]` annotation and the axum method router from
//! the same function: a route cannot exist without its document entry, nor
//! an entry without its route. Each listener serves the document of exactly
//! what it answers at `GET /openapi.json`: its API, health, `/metrics` when
//! metrics are on, and the document itself.
//!
//! Error answers share components: the [`ProblemDocument`] schema and one
//! response per status ([`Problems`]), each `application/problem+json`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, InfoBuilder, LicenseBuilder, OpenApi, ResponseBuilder,
    ResponsesBuilder, path::OperationBuilder, path::PathItemBuilder,
};
use utoipa::openapi::{HttpMethod, ObjectBuilder, RefOr, Type};
use utoipa_axum::router::OpenApiRouter;

use crate::health::Health;
use crate::limits::Limits;
use crate::problem::PROBLEM_JSON;

/// The path each listener serves its document on.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// An RFC 9457 problem document, as every error answer carries it.
#[derive(utoipa::ToSchema)]
#[schema(as = Problem)]
#[allow(dead_code)] // Only its schema is used: `Problem` renders the body.
pub struct ProblemDocument {
    /// Always `about:blank`, as Veraison's problems.
    #[schema(example = "about:blank")]
    r#type: String,
    /// The HTTP reason phrase.
    #[schema(example = "Bad Request")]
    title: String,
    /// The HTTP status.
    #[schema(example = 400)]
    status: u16,
    /// What went wrong, for a human.
    detail: Option<String>,
}

/// A binary body (evidence, a CoRIM): `{"type":"string","format":"binary"}`
/// for `#[utoipa::path]`'s `content = Binary`.
pub struct Binary;

impl utoipa::PartialSchema for Binary {
    fn schema() -> RefOr<utoipa::openapi::schema::Schema> {
        RefOr::T(utoipa::openapi::schema::Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Binary,
                )))
                .build(),
        ))
    }
}

impl utoipa::ToSchema for Binary {}

/// The error statuses Vouch answers, each a shared response component
/// named by its status (`#/components/responses/Status400`).
pub struct Problems;

macro_rules! problem_responses {
    ($($name:ident = $status:literal),* $(,)?) => {
        $(
            #[doc = concat!("The ", stringify!($status), " problem response, for `#[utoipa::path]`'s `response = `.")]
            pub struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                    (
                        stringify!($name),
                        RefOr::T(Problems::response($status, Problems::description($status))),
                    )
                }
            }
        )*
    };
}

problem_responses!(
    Status400 = 400,
    Status401 = 401,
    Status403 = 403,
    Status404 = 404,
    Status406 = 406,
    Status409 = 409,
    Status413 = 413,
    Status415 = 415,
    Status429 = 429,
    Status503 = 503,
);

impl Problems {
    const STATUSES: [(u16, &'static str); 10] = [
        (
            400,
            "The request is malformed: a bad parameter, path segment or body.",
        ),
        (
            401,
            "No credentials, or credentials that do not check out (with authentication on).",
        ),
        (403, "Authenticated, but without the role this route needs."),
        (404, "No such resource."),
        (
            406,
            "The `Accept` header allows no format this route offers.",
        ),
        (
            409,
            "The resource is not in a state that allows this (evidence for a session that already has some).",
        ),
        (413, "The body is larger than this listener accepts."),
        (
            415,
            "The `Content-Type` is not one this route takes; `Accept` lists those it does.",
        ),
        (
            429,
            "Too many requests from this client; retry after `Retry-After` seconds.",
        ),
        (
            503,
            "Overloaded, draining or cut off from a dependency; retry after `Retry-After` seconds.",
        ),
    ];

    /// The component name of a status's response.
    pub fn name(status: u16) -> String {
        format!("Status{status}")
    }

    fn description(status: u16) -> &'static str {
        Self::STATUSES
            .iter()
            .find(|(s, _)| *s == status)
            .map_or("An error.", |(_, d)| d)
    }

    fn response(status: u16, description: &str) -> utoipa::openapi::Response {
        let mut builder = ResponseBuilder::new().description(description).content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                ))))
                .build(),
        );
        if matches!(status, 429 | 503) {
            builder = builder.header(
                "retry-after",
                HeaderBuilder::new()
                    .schema(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    )
                    .description(Some("Seconds to wait before retrying."))
                    .build(),
            );
        }
        if status == 415 {
            builder = builder.header(
                "accept",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("The media types this route takes."))
                    .build(),
            );
        }
        if status == 401 {
            builder = builder.header(
                "www-authenticate",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .build(),
            );
        }
        builder.build()
    }
}

/// The finished document of one listener: `service` names it in the title;
/// `api` holds the routes registered through `routes!` (health included).
/// Adds the shared problem components, `/metrics` (when `metrics` is on)
/// and `/openapi.json` itself.
pub fn finish(mut api: OpenApi, service: &str, metrics: bool) -> OpenApi {
    api.openapi = utoipa::openapi::OpenApiVersion::Version31;
    api.info = InfoBuilder::new()
        .title(format!("Vouch {service} API"))
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(format!(
            "The {service} listener of Vouch, an attestation verifier that speaks \
             Veraison's REST APIs. Errors are RFC 9457 problem documents."
        )))
        .license(Some(LicenseBuilder::new().name("Apache-2.0").build()))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.schemas.insert(
        "Problem".to_owned(),
        <ProblemDocument as utoipa::PartialSchema>::schema(),
    );
    for (status, description) in Problems::STATUSES {
        components.responses.insert(
            Problems::name(status),
            RefOr::T(Problems::response(status, description)),
        );
    }
    if metrics {
        api.paths.add_path_operation(
            crate::metrics::METRICS_PATH,
            vec![HttpMethod::Get],
            OperationBuilder::new()
                .tag("operations")
                .operation_id(Some("metrics"))
                .summary(Some("Prometheus metrics of the whole process"))
                .description(Some(
                    "Prometheus text format 0.0.4, or OpenMetrics 1.0 when `Accept` asks \
                     for `application/openmetrics-text`. docs/operations.md lists the metrics.",
                ))
                .responses(
                    ResponsesBuilder::new()
                        .response(
                            "200",
                            ResponseBuilder::new()
                                .description("The metrics.")
                                .content(
                                    "text/plain; version=0.0.4",
                                    ContentBuilder::new()
                                        .schema(Some(
                                            ObjectBuilder::new().schema_type(Type::String),
                                        ))
                                        .build(),
                                )
                                .content(
                                    "application/openmetrics-text; version=1.0.0",
                                    ContentBuilder::new()
                                        .schema(Some(
                                            ObjectBuilder::new().schema_type(Type::String),
                                        ))
                                        .build(),
                                ),
                        )
                        .build(),
                )
                .build(),
        );
    }
    api.paths.paths.insert(
        OPENAPI_PATH.to_owned(),
        PathItemBuilder::new()
            .operation(
                HttpMethod::Get,
                OperationBuilder::new()
                    .tag("operations")
                    .operation_id(Some("openapi"))
                    .summary(Some("This document"))
                    .responses(
                        ResponsesBuilder::new()
                            .response(
                                "200",
                                ResponseBuilder::new()
                                    .description("The OpenAPI 3.1 document of this listener.")
                                    .content(
                                        "application/json",
                                        ContentBuilder::new()
                                            .schema(Some(
                                                ObjectBuilder::new().schema_type(Type::Object),
                                            ))
                                            .build(),
                                    ),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build(),
    );
    api
}

/// Lists `media_types` as the request body types of `method` on `path`,
/// each with the schema the handler's annotation gave. The media types a
/// route takes may depend on the schemes trust runs, which the handler's
/// annotation cannot know; the process that starts the listener does.
pub fn set_request_media_types(
    api: &mut OpenApi,
    path: &str,
    method: HttpMethod,
    media_types: &[String],
) {
    let Some(item) = api.paths.paths.get_mut(path) else {
        return;
    };
    let operation = match method {
        HttpMethod::Get => item.get.as_mut(),
        HttpMethod::Post => item.post.as_mut(),
        HttpMethod::Put => item.put.as_mut(),
        HttpMethod::Delete => item.delete.as_mut(),
        HttpMethod::Patch => item.patch.as_mut(),
        _ => None,
    };
    let Some(body) = operation.and_then(|o| o.request_body.as_mut()) else {
        return;
    };
    let Some(content) = body.content.values().next().cloned() else {
        return;
    };
    body.content = media_types
        .iter()
        .map(|t| (t.clone(), content.clone()))
        .collect();
}

/// `GET /openapi.json`, serving `api` (rendered once, here).
pub fn routes(api: &OpenApi) -> Router {
    let body = Bytes::from(api.to_pretty_json().unwrap_or_else(|e| {
        // Serialising a document built from types cannot fail; if it ever
        // did, the route says so rather than the process dying.
        tracing::error!(error = %e, "rendering the OpenAPI document");
        String::new()
    }));
    let body = Arc::new(body);
    Router::new().route(
        OPENAPI_PATH,
        axum::routing::get(move || {
            let body = body.clone();
            async move { document(&body) }
        }),
    )
}

fn document(body: &Bytes) -> Response {
    if body.is_empty() {
        return crate::Problem::internal("the OpenAPI document could not be rendered")
            .into_response();
    }
    let mut response = (StatusCode::OK, body.clone()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A router and the document of its routes, as a service builds them.
pub struct Documented {
    /// The routes.
    pub router: Router,
    /// Their document (not yet [`finish`]ed).
    pub api: OpenApi,
}

impl Documented {
    /// A front end's routes as every front end assembles them: its `api`
    /// (state applied) inside `limits`, with the limits' problem answers
    /// for wrong methods and unknown paths, and the health routes beside
    /// (outside the limits, so a probe is never refused for load).
    pub fn service(api: OpenApiRouter, limits: &Limits, health: Arc<Health>) -> Self {
        let (api, doc) = api.split_for_parts();
        let (health_routes, health_doc) =
            crate::health::documented_routes(health).split_for_parts();
        let router = crate::limits::apply(
            api.method_not_allowed_fallback(crate::limits::method_not_allowed),
            limits,
        )
        .merge(health_routes)
        .fallback(crate::limits::not_found);
        Documented {
            router,
            api: doc.merge_from(health_doc),
        }
    }
}
