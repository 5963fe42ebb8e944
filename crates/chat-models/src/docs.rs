//! OpenAPI glue every service shares: [`CommonDocs`] (health routes, the error body and codes,
//! the two ways to send an access token) merged into a service's own document, served as
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
