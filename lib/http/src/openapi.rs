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
//! response per status ([`Status400`], …), each `application/problem+json`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, HttpMethod, InfoBuilder, LicenseBuilder, ObjectBuilder, OpenApi,
    RefOr, ResponseBuilder, Type,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::health::Health;
use crate::limits::Limits;
use crate::problem::PROBLEM_JSON;

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

/// Declares the problem responses: one type per status, for
/// `#[utoipa::path]`'s `response = Status400`, which refers to the shared
/// component `#/components/responses/Status400`; [`serve`] registers them
/// all from the same table.
macro_rules! problem_responses {
    ($($name:ident = $status:literal: $description:literal,)*) => {
        $(
            #[doc = concat!("The ", stringify!($status), " problem response: ", $description)]
            pub struct $name;

            impl<'r> utoipa::ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                    (stringify!($name), RefOr::T(problem_response($status, $description)))
                }
            }
        )*

        /// Every problem response, named, for the document's components.
        fn problem_responses() -> Vec<(&'static str, RefOr<utoipa::openapi::Response>)> {
            vec![$(<$name as utoipa::ToResponse<'static>>::response()),*]
        }
    };
}

problem_responses!(
    Status400 = 400: "The request is malformed: a bad parameter, path segment or body.",
    Status401 = 401: "No credentials, or credentials that do not check out (with authentication on).",
    Status403 = 403: "Authenticated, but without the role this route needs.",
    Status404 = 404: "No such resource.",
    Status406 = 406: "The `Accept` header allows no format this route offers.",
    Status409 = 409: "The resource is not in a state that allows this (evidence for a session that already has some).",
    Status413 = 413: "The body is larger than this listener accepts.",
    Status415 = 415: "The `Content-Type` is not one this route takes; `Accept` lists those it does.",
    Status503 = 503: "Overloaded, draining or cut off from a dependency; retry after `Retry-After` seconds.",
);

/// A problem+json response for `status`, with the headers that status
/// carries.
fn problem_response(status: u16, description: &str) -> utoipa::openapi::Response {
    let header = |kind: Type, description: &str| {
        HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(kind))
            .description(Some(description))
            .build()
    };
    let mut builder = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "Problem",
            ))))
            .build(),
    );
    match status {
        503 => {
            builder = builder.header(
                "retry-after",
                header(Type::Integer, "Seconds to wait before retrying."),
            );
        }
        415 => {
            builder = builder.header(
                "accept",
                header(Type::String, "The media types this route takes."),
            );
        }
        401 => {
            builder = builder.header(
                "www-authenticate",
                header(Type::String, "The scheme to authenticate with."),
            );
        }
        _ => {}
    }
    builder.build()
}

/// The document of `/openapi.json` itself, an entry like any other.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this listener.",
        body = Object, content_type = "application/json")),
)]
async fn document(State(body): State<Bytes>) -> Response {
    if body.is_empty() {
        return crate::Problem::internal("the OpenAPI document could not be rendered")
            .into_response();
    }
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `GET /openapi.json` serving the document of a listener named `service`
/// whose routes `api` documents; the document's own entry, the title, the
/// version and the shared problem components are added here. Rendered
/// once, now.
pub fn serve(api: OpenApi, service: &str) -> Router {
    let (routes, own) = OpenApiRouter::<Bytes>::new()
        .routes(routes!(document))
        .split_for_parts();
    let mut api = api.merge_from(own);
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
    for (name, response) in problem_responses() {
        components.responses.insert(name.to_owned(), response);
    }
    let body = api.to_pretty_json().unwrap_or_else(|e| {
        // Serialising a document built from types does not fail; if it
        // ever did, the route says so rather than the process dying.
        tracing::error!(error = %e, "rendering the OpenAPI document");
        String::new()
    });
    routes.with_state(Bytes::from(body))
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

/// A router and the document of its routes, as a service builds them.
pub struct Documented {
    /// The routes.
    pub router: Router,
    /// Their document (the listener adds its own parts in [`serve`]).
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
