//! OpenAPI glue every service shares: [`CommonDocs`] (health routes, the error body and codes,
//! the two ways to send an access token) merged into a service's own document, the error
//! answers the shared layers can give added to every operation that can get them, served as
//! `/openapi.json` with interactive docs at `/docs`.

use axum::Router;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::{ErrorBody, ErrorCode};
use crate::health::{self, Health};

/// What every service's document contains.
#[derive(OpenApi)]
#[openapi(
    paths(health::health, health::ready),
    components(schemas(ErrorBody, ErrorCode, Health)),
    modifiers(&AccessTokenSecurity),
)]
pub struct CommonDocs;

/// `/openapi.json` (the service's `document` with [`CommonDocs`] merged in) and `/docs`.
pub fn router(mut document: utoipa::openapi::OpenApi) -> Router {
    document.merge(CommonDocs::openapi());
    declare_shared_errors(&mut document);
    let document = with_uuid_patterns(document);
    SwaggerUi::new("/docs")
        .url("/openapi.json", document)
        .into()
}

/// Declares the two ways to send an access token (`bearer` header, `cookie`).
#[derive(Debug, Clone, Copy)]
struct AccessTokenSecurity;

impl utoipa::Modify for AccessTokenSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::ACCESS_COOKIE))),
        );
    }
}

/// Adds to each operation the answers of the shared layers and extractors it can get (unless
/// the operation declares them itself): `408` and `503` anywhere; `400`, `413`, `415` and
/// `422` with a JSON body; `400` with parameters; `401` where a token is required.
fn declare_shared_errors(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder, Type};

    let error = |description: &str, retry_after: bool| {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        let mut response = ResponseBuilder::new()
            .description(description)
            .content("application/json", content);
        if retry_after {
            let seconds = utoipa::openapi::ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .build();
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(seconds)
                    .description(Some("Seconds to wait before retrying."))
                    .build(),
            );
        }
        response.build()
    };
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let mut shared = vec![
                (
                    "408",
                    error("The request took too long (`timeout`).", false),
                ),
                (
                    "503",
                    error(
                        "A store is unavailable (`service_unavailable`) or the service is \
                         saturated (`server_busy`).",
                        true,
                    ),
                ),
            ];
            if operation.request_body.is_some() {
                shared.extend([
                    (
                        "400",
                        error(
                            "The body is not JSON of the expected shape (`malformed_json`).",
                            false,
                        ),
                    ),
                    (
                        "413",
                        error("The body is too large (`payload_too_large`).", false),
                    ),
                    (
                        "415",
                        error(
                            "The body is not `application/json` (`unsupported_media_type`).",
                            false,
                        ),
                    ),
                    (
                        "422",
                        error("Fields failed validation (`validation_failed`).", false),
                    ),
                ]);
            }
            let parameters = operation.parameters.as_deref().unwrap_or_default();
            if !parameters.is_empty() {
                shared.push((
                    "400",
                    error(
                        "A path or query parameter is malformed (`invalid_path`, `invalid_query`).",
                        false,
                    ),
                ));
            }
            if parameters
                .iter()
                .any(|parameter| parameter.parameter_in == ParameterIn::Query)
            {
                shared.push((
                    "422",
                    error(
                        "A query parameter is out of range (`validation_failed`).",
                        false,
                    ),
                ));
            }
            if parameters
                .iter()
                .any(|parameter| parameter.parameter_in == ParameterIn::Path)
            {
                shared.push((
                    "404",
                    error(
                        "The path names nothing this caller can see (`*_not_found`).",
                        false,
                    ),
                ));
            }
            if requires_token(operation) {
                shared.push((
                    "401",
                    error(
                        "No valid access token (`missing_token`, `invalid_token`, \
                         `token_expired`, `session_revoked`).",
                        false,
                    ),
                ));
            }
            for (status, response) in shared {
                operation
                    .responses
                    .responses
                    .entry(status.to_owned())
                    .or_insert_with(|| response.into());
            }
        }
    }
}

/// Whether `operation` asks for an access token (the `bearer` scheme).
fn requires_token(operation: &utoipa::openapi::path::Operation) -> bool {
    operation.security.iter().flatten().any(|requirement| {
        serde_json::to_value(requirement)
            .ok()
            .is_some_and(|value| value.get("bearer").is_some())
    })
}

/// The hyphenated form every uuid the services send has, as a pattern on each `format: uuid`
/// string: `format` alone is an annotation in OpenAPI 3.1, so without it a client (or a
/// fuzzer) may take `""` for a valid uuid.
pub const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

fn with_uuid_patterns(document: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("format").and_then(|format| format.as_str()) == Some("uuid") {
                    map.entry("pattern").or_insert_with(|| UUID_PATTERN.into());
                }
                map.values_mut().for_each(walk);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::to_value(&document) else {
        return document;
    };
    walk(&mut value);
    serde_json::from_value(value).unwrap_or(document)
}
