//! [`ErrorCode`]: the stable, machine-readable codes of every error, each with its message.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Stable, machine-readable error codes. Clients switch on these, never on the message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// One or more fields failed validation; see `details`.
    ValidationFailed,
    /// The body is not valid JSON or does not match the expected shape.
    MalformedJson,
    /// The request needs `Content-Type: application/json`.
    UnsupportedMediaType,
    /// The body is larger than the service accepts.
    PayloadTooLarge,
    /// A path parameter is malformed (e.g. not a UUID).
    InvalidPath,
    /// The query string is malformed.
    InvalidQuery,
    /// No route matches the path.
    RouteNotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// No access token was sent.
    MissingToken,
    /// The access token is malformed, badly signed, for another audience or uses another algorithm.
    InvalidToken,
    /// The access token has expired; refresh it.
    TokenExpired,
    /// The session behind the token was revoked (logout, logout-all, reuse detection).
    SessionRevoked,
    /// Wrong login or password.
    InvalidCredentials,
    /// The refresh token is unknown, expired or revoked.
    InvalidRefreshToken,
    /// The caller may not do this.
    Forbidden,
    /// The internal route needs a valid service token.
    InvalidServiceToken,
    /// The user does not exist.
    UserNotFound,
    /// The session does not exist (or is not yours).
    SessionNotFound,
    /// The username is already in use (case-insensitively).
    UsernameTaken,
    /// No such sign-in provider, or it is not enabled on this server.
    ProviderNotFound,
    /// This change needs a session signed in within the last few minutes: sign in again.
    ReauthenticationRequired,
    /// The account's only way to sign in cannot be removed; set a password or link another first.
    LastSignInMethod,
    /// No such provider is linked to your account.
    IdentityNotFound,
    /// No sign-up with a provider is pending in this browser (or it expired).
    SignupNotFound,
    /// The email is already in use.
    EmailTaken,
    /// A friend request to this user is already pending.
    RequestAlreadySent,
    /// You are already friends.
    AlreadyFriends,
    /// You blocked this user; unblock them first.
    UserBlocked,
    /// The other user does not accept this (deliberately unspecific).
    RequestNotAllowed,
    /// Too many outgoing requests are pending; wait for answers or cancel some.
    TooManyPendingRequests,
    /// No such pending friend request (or not yours to act on).
    RequestNotFound,
    /// You are not friends with this user.
    NotFriends,
    /// A request to yourself.
    CannotTargetSelf,
    /// No such conversation, or the caller is not in it.
    ConversationNotFound,
    /// No such message in this conversation.
    MessageNotFound,
    /// Only the group's admin may do this.
    NotGroupAdmin,
    /// This only applies to group conversations.
    NotAGroup,
    /// The group has reached its member cap.
    GroupFull,
    /// The user is not a member of this group.
    MemberNotFound,
    /// Only the author may change a message.
    NotMessageAuthor,
    /// The message was deleted.
    MessageDeleted,
    /// A message has as many different reactions as it may (20).
    TooManyReactions,
    /// A conversation has as many pinned messages as it may (50).
    TooManyPins,
    /// A browser page from this origin may not open sockets.
    OriginNotAllowed,
    /// This server sends no push notifications (it has no VAPID key).
    PushDisabled,
    /// No such push subscription of yours.
    SubscriptionNotFound,
    /// The file is larger than this kind of upload accepts.
    FileTooLarge,
    /// The file does not fit in what is left of your storage quota.
    QuotaExceeded,
    /// This upload accepts images only (JPEG, PNG, GIF, WebP), judged by the bytes.
    UnsupportedFileType,
    /// The image has more pixels than we decode.
    ImageTooLarge,
    /// The bytes look like an image but cannot be decoded.
    InvalidImage,
    /// The upload broke off before its end.
    UploadIncomplete,
    /// No such file, or you may not see it.
    FileNotFound,
    /// A message names an attachment that is not one of your unattached uploads.
    AttachmentNotFound,
    /// A WebSocket frame is not JSON of the expected shape.
    MalformedFrame,
    /// A WebSocket frame of an unknown type.
    UnknownFrame,
    /// Too many requests; retry after `Retry-After` seconds.
    RateLimited,
    /// The user has as many sockets open as one user may (on this instance).
    TooManySockets,
    /// The service is saturated; retry after `Retry-After` seconds.
    ServerBusy,
    /// A dependency (database, cache) is unavailable.
    ServiceUnavailable,
    /// The request took too long.
    Timeout,
    /// Something failed on our side; the details are in the server log, not here.
    Internal,
}

impl ErrorCode {
    /// The message for people that goes with the code (errors with more to say, such as
    /// `validation_failed` or a rate limit's wait, word their own).
    pub fn message(self) -> &'static str {
        match self {
            Self::ValidationFailed => "Some fields are invalid.",
            Self::MalformedJson => "The body is not valid JSON of the expected shape.",
            Self::UnsupportedMediaType => "Send the body as application/json.",
            Self::PayloadTooLarge => "The request body is too large.",
            Self::InvalidPath => "A part of the path is malformed.",
            Self::InvalidQuery => "The query string is malformed.",
            Self::RouteNotFound => "No such route.",
            Self::MethodNotAllowed => "This method is not allowed on this route.",
            Self::MissingToken => "Sign in first: no access token was sent.",
            Self::InvalidToken => "The access token is not valid.",
            Self::TokenExpired => "The access token has expired; refresh it.",
            Self::SessionRevoked => "This session has been signed out.",
            Self::InvalidCredentials => "Wrong login or password.",
            Self::InvalidRefreshToken => "The refresh token is not valid; sign in again.",
            Self::Forbidden => "You may not do this.",
            Self::InvalidServiceToken => "A valid service token is required.",
            Self::UserNotFound => "No such user.",
            Self::ProviderNotFound => "No such sign-in provider here.",
            Self::ReauthenticationRequired => "Sign in again to make this change.",
            Self::LastSignInMethod => {
                "This is your only way to sign in: set a password or link another provider first."
            }
            Self::IdentityNotFound => "No such provider is linked to your account.",
            Self::SignupNotFound => "This sign-up expired; start again.",
            Self::SessionNotFound => "No such session.",
            Self::UsernameTaken => "This username is already taken.",
            Self::EmailTaken => "This email is already registered.",
            Self::RequestAlreadySent => "A friend request to this user is already pending.",
            Self::AlreadyFriends => "You are already friends.",
            Self::UserBlocked => "You blocked this user; unblock them first.",
            Self::RequestNotAllowed => "This request is not possible.",
            Self::TooManyPendingRequests => "Too many requests are waiting for an answer.",
            Self::RequestNotFound => "No such friend request.",
            Self::NotFriends => "You are not friends with this user.",
            Self::CannotTargetSelf => "You cannot do this to yourself.",
            Self::ConversationNotFound => "No such conversation.",
            Self::MessageNotFound => "No such message.",
            Self::NotGroupAdmin => "Only the group's admin may do this.",
            Self::NotAGroup => "This only applies to group conversations.",
            Self::GroupFull => "The group is full.",
            Self::MemberNotFound => "This user is not a member of the group.",
            Self::NotMessageAuthor => "Only the author may change this message.",
            Self::MessageDeleted => "This message was deleted.",
            Self::TooManyReactions => "This message has as many different reactions as it may.",
            Self::TooManyPins => "This conversation has as many pinned messages as it may.",
            Self::OriginNotAllowed => "This origin may not open sockets.",
            Self::PushDisabled => "This server does not send push notifications.",
            Self::SubscriptionNotFound => "No such push subscription.",
            Self::FileTooLarge => "The file is too large.",
            Self::QuotaExceeded => {
                "This file does not fit in your storage quota; delete some files first."
            }
            Self::UnsupportedFileType => "Upload an image: JPEG, PNG, GIF or WebP.",
            Self::ImageTooLarge => "The image has too many pixels.",
            Self::InvalidImage => "The image cannot be read.",
            Self::UploadIncomplete => "The upload broke off; send the file again.",
            Self::FileNotFound => "No such file.",
            Self::AttachmentNotFound => "An attachment is not one of your unsent uploads.",
            Self::MalformedFrame => "The frame is not valid.",
            Self::UnknownFrame => "Unknown frame type.",
            Self::RateLimited => "Too many attempts; try again later.",
            Self::TooManySockets => {
                "You have as many connections open as you may; close one first."
            }
            Self::ServerBusy => "The server is busy; try again shortly.",
            Self::ServiceUnavailable => "A backing service is unavailable; try again shortly.",
            Self::Timeout => "The request took too long.",
            Self::Internal => "Something went wrong on our side.",
        }
    }
}
