//! HTTP plumbing every service wires the same way: extractors that answer with [`ApiError`]
//! instead of axum's plain-text rejections, JSON fallbacks for unknown routes and methods, and
//! the shared middleware stack (request ids, tracing, timeouts, panics, CORS, body limit).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_http::LatencyUnit;
use tracing::Level;

use crate::error::{ApiError, ErrorCode};

/// The request-id header, set when absent and propagated to responses and service calls.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// `axum::Json` of a JSON **object** (an array or a scalar in its place is `malformed_json`),
/// whose rejections answer with our error shape.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<T, S> FromRequest<S> for AppJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(JsonObject(value)) = axum::Json::from_request(request, state).await?;
        Ok(Self(value))
    }
}

/// `T` read from a JSON object only: serde's derived structs also accept an array of their
/// fields in order, which no client of ours means.
struct JsonObject<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Object<T>(std::marker::PhantomData<T>);

        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
            type Value = T;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(Object(std::marker::PhantomData))
            .map(JsonObject)
    }
}

impl<T: serde::Serialize> IntoResponse for AppJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` whose rejections answer with our error shape.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct AppQuery<T>(pub T);

/// `axum::extract::Path` whose rejections answer with our error shape.
#[derive(Debug, Clone, Copy, Default, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct AppPath<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            _ => Self::BadRequest(ErrorCode::MalformedJson, rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(ErrorCode::InvalidQuery, rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(ErrorCode::InvalidPath, rejection.body_text())
    }
}

/// Fallback for unknown routes: a JSON 404.
pub async fn route_not_found() -> ApiError {
    ApiError::NotFound(ErrorCode::RouteNotFound)
}

/// Fallback for a known route with another method: a JSON 405.
pub async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Settings of [`with_common_layers`].
#[derive(Debug, Clone)]
pub struct CommonLayers {
    /// Origins allowed to call with credentials (CORS).
    pub allowed_origins: Vec<HeaderValue>,
    /// Largest accepted request body.
    pub body_limit_bytes: usize,
    /// Requests running longer are answered with 408.
    pub request_timeout: Duration,
    /// Routes (as declared, `/attachments/{id}`) given `long_request_timeout` instead:
    /// uploads, whose bodies take as long as the client's line needs.
    pub long_routes: Vec<&'static str>,
    /// The time limit of `long_routes`.
    pub long_request_timeout: Duration,
    /// How long a connection may take to send a request head, or stay idle between requests.
    pub header_timeout: Duration,
    /// Who may read `/metrics`.
    pub metrics: crate::metrics::MetricsAccess,
    /// The service's name, the `service` label of its metrics.
    pub service: &'static str,
}

/// Wraps a service's router with the shared stack, outermost first: sensitive-header redaction,
/// request ids, tracing, panic catching, CORS, timeout and body limit; plus JSON fallbacks.
pub fn with_common_layers(router: Router, layers: &CommonLayers) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(layers.allowed_origins.clone()))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            REQUEST_ID_HEADER,
        ])
        .expose_headers([header::RETRY_AFTER, REQUEST_ID_HEADER])
        .max_age(Duration::from_secs(600));

    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request| {
            let matched = request
                .extensions()
                .get::<axum::extract::MatchedPath>()
                .map_or("<unmatched>", |path| path.as_str());
            let request_id = request
                .headers()
                .get(REQUEST_ID_HEADER)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("-");
            // The URI's path only: query strings never reach the logs.
            tracing::info_span!(
                "http",
                method = %request.method(),
                path = %request.uri().path(),
                route = matched,
                request_id,
                user_id = tracing::field::Empty,
            )
        })
        .on_response(
            DefaultOnResponse::new()
                .level(Level::INFO)
                .latency_unit(LatencyUnit::Micros),
        );

    router
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(
            layers.body_limit_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(TimeLimits {
                normal: layers.request_timeout,
                long: layers.long_request_timeout,
                long_routes: layers.long_routes.clone(),
            }),
            time_limit,
        ))
        .layer(axum::middleware::map_response(json_for_bare_errors))
        .layer(cors)
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("handler panicked");
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .layer(axum::middleware::from_fn_with_state(
            layers.service,
            crate::metrics::track,
        ))
        .layer(axum::middleware::from_fn(scope_request_id))
        .layer(trace)
        .layer(PropagateRequestIdLayer::new(REQUEST_ID_HEADER))
        .layer(SetRequestIdLayer::new(REQUEST_ID_HEADER, MakeRequestUuid))
        .layer(SetSensitiveHeadersLayer::new([
            header::AUTHORIZATION,
            header::COOKIE,
            header::SET_COOKIE,
        ]))
}

/// How long requests may run.
struct TimeLimits {
    normal: Duration,
    long: Duration,
    long_routes: Vec<&'static str>,
}

/// Answers `408 timeout` for a request still running after its route's limit.
async fn time_limit(
    axum::extract::State(limits): axum::extract::State<Arc<TimeLimits>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let long = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .is_some_and(|path| limits.long_routes.contains(&path.as_str()));
    let limit = if long { limits.long } else { limits.normal };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

tokio::task_local! {
    /// The id of the request being handled, for calls to other services to carry on.
    static REQUEST_ID: String;
}

/// Runs the rest of the request with its id in [`current_request_id`].
async fn scope_request_id(request: Request, next: axum::middleware::Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    REQUEST_ID.scope(id, next.run(request)).await
}

/// The id of the request this task is handling, if any: internal calls send it on as
/// `X-Request-Id`, so one id follows a request through every service's logs.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Gives a JSON body to the bare error responses tower layers produce (the timeout's 408).
async fn json_for_bare_errors(response: Response) -> Response {
    if response.status() == StatusCode::REQUEST_TIMEOUT
        && !response.headers().contains_key(header::CONTENT_TYPE)
    {
        return ApiError::Timeout.into_response();
    }
    response
}

/// Parses a comma-separated origin list (`http://localhost:3000,https://chat.example`).
pub fn parse_origins(list: &str) -> anyhow::Result<Vec<HeaderValue>> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            HeaderValue::from_str(origin)
                .map_err(|_| anyhow::anyhow!("invalid origin in allow-list: {origin:?}"))
        })
        .collect()
}
