//! The Tower layer that guards routes with a role.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use http::Request;
use tower::{Layer, Service};

use crate::{Authenticator, Role};

/// Guards a route: requests pass to it only when `authenticator` accepts
/// their credentials and they hold `role`; the rest get the refusal as
/// problem+json (401, 403, or 503). The [`crate::Principal`] is added to
/// the request's extensions.
///
/// Only headers are read, so a refused request's body is never read, let
/// alone stored.
pub fn require_role(authenticator: Authenticator, role: Role) -> RequireRoleLayer {
    RequireRoleLayer {
        authenticator,
        role,
    }
}

/// See [`require_role`].
#[derive(Debug, Clone)]
pub struct RequireRoleLayer {
    authenticator: Authenticator,
    role: Role,
}

impl<S> Layer<S> for RequireRoleLayer {
    type Service = RequireRole<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireRole {
            inner,
            authenticator: self.authenticator.clone(),
            role: self.role,
        }
    }
}

/// The service [`RequireRoleLayer`] makes.
#[derive(Debug, Clone)]
pub struct RequireRole<S> {
    inner: S,
    authenticator: Authenticator,
    role: Role,
}

impl<S, B> Service<Request<B>> for RequireRole<S>
where
    S: Service<Request<B>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The service polled ready is the one to call; leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let authenticator = self.authenticator.clone();
        let role = self.role;
        Box::pin(async move {
            match authenticator.authorize(request.headers(), role).await {
                Ok(principal) => {
                    tracing::debug!(principal = %principal.name, %role, "authorized");
                    request.extensions_mut().insert(principal);
                    inner.call(request).await.map(IntoResponse::into_response)
                }
                Err(denied) => {
                    tracing::info!(
                        mode = authenticator.mode(),
                        %role,
                        status = denied.status().as_u16(),
                        reason = %denied,
                        "request refused"
                    );
                    Ok(authenticator.refusal(&denied).into_response())
                }
            }
        })
    }
}
