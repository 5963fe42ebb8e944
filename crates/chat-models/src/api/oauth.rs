//! Sign-in with an identity provider (`/auth/providers`, `/auth/oauth/...`) and the account's
//! sign-in methods (`/users/me/sign-in-methods`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::user::{SignInMethod, TokenDelivery};

/// A provider this server lets people sign in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Google, through OpenID Connect.
    Google,
    /// GitHub, through OAuth 2 and its REST API.
    Github,
}

impl Provider {
    /// Every provider the code knows.
    pub const ALL: [Self; 2] = [Self::Google, Self::Github];

    /// The id used in paths, columns and redirects.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Github => "github",
        }
    }

    /// The name shown to people.
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Google => "Google",
            Self::Github => "GitHub",
        }
    }

    /// The provider with this id.
    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|provider| provider.as_str() == id)
    }

    /// How a session started through this provider signed in.
    pub fn sign_in_method(self) -> SignInMethod {
        match self {
            Self::Google => SignInMethod::Google,
            Self::Github => SignInMethod::Github,
        }
    }
}

/// One enabled provider.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProviderInfo {
    /// Id for `/auth/oauth/{provider}/...`.
    pub id: Provider,
    /// Name for the button.
    pub name: String,
}

/// `GET /auth/providers`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProviderList {
    /// The providers enabled here (none when none is configured).
    pub providers: Vec<ProviderInfo>,
}

/// What a started flow is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OAuthIntent {
    /// Sign in, or sign up when the identity is new.
    SignIn,
    /// Link the identity to the signed-in account (needs a session signed in within 10 minutes).
    Link,
}

/// `POST /auth/oauth/{provider}/start`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct StartOAuthRequest {
    /// Sign in or link.
    pub intent: OAuthIntent,
}

/// Where to send the browser.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StartOAuthResponse {
    /// The provider's authorization page for this flow.
    pub authorize_url: String,
}

/// `GET /auth/oauth/signup`: the sign-up waiting for a username in this browser.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PendingSignup {
    /// The provider that vouched for the identity.
    pub provider: Provider,
    /// Its verified email, which the account will have.
    pub email: String,
    /// A free username derived from the provider's (may be taken by the time it is used).
    pub suggested_username: String,
}

/// `POST /auth/oauth/signup`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CompleteSignupRequest {
    /// 3-32 characters: letters, digits, `_`, `.`, `-`.
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
    /// Cookies (default, browsers) or tokens in the body (other clients).
    #[serde(default)]
    pub token_delivery: TokenDelivery,
}

/// A provider identity linked to the account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkedIdentity {
    /// The provider.
    pub provider: Provider,
    /// The email the provider gave when it was linked.
    pub email: Option<String>,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}

/// `GET /users/me/sign-in-methods`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SignInMethods {
    /// Whether the account has a password.
    pub has_password: bool,
    /// Linked providers.
    pub identities: Vec<LinkedIdentity>,
}
