//! Opening a socket: `GET /ws` checks the browser's `Origin`, a token sent on the upgrade and
//! the user's socket cap (refused with a JSON error before upgrading); without a token, the
//! first frame must be `authenticate` within the configured time, or the socket is told why
//! and closed.

use std::fmt::Display;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Response;
use chat_models::api::ws::{close, ClientMessage};
use chat_models::auth::{access_token, AuthUser};
use chat_models::{ApiError, ErrorCode, Result};
use futures::{Sink, SinkExt as _, Stream, StreamExt as _};

use super::backend::Backend;
use super::protocol::{
    close_message, decode, encode, error_frame, SOCKET_READ_BUFFER_BYTES, SOCKET_WRITE_BUFFER_BYTES,
};
use super::session::Session;
use crate::state::AppState;

/// # `GET /ws`
/// Upgrades to a WebSocket. Credentials: the access cookie or `Authorization: Bearer` on the
/// upgrade, or an `authenticate` frame within a few seconds. Browsers' `Origin` must be allowed.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let settings = state.gateway.settings.clone();
    if let Some(origin) = headers.get(header::ORIGIN) {
        if !settings.allowed_origins.contains(origin) {
            return Err(ApiError::Forbidden(ErrorCode::OriginNotAllowed));
        }
    }
    // A token on the upgrade must be valid: refuse before upgrading, with a JSON error.
    let auth = match access_token(&headers)? {
        Some(token) => Some(state.auth.authenticate(&token).await?),
        None => None,
    };
    // Over the per-user cap: refused before upgrading (the session checks again, atomically).
    if let Some(auth) = &auth {
        if state.gateway.hub.sockets_of(auth.user_id) >= settings.max_sockets_per_user {
            return Err(ApiError::OverLimit(ErrorCode::TooManySockets));
        }
    }
    Ok(upgrade
        .read_buffer_size(SOCKET_READ_BUFFER_BYTES)
        .write_buffer_size(SOCKET_WRITE_BUFFER_BYTES)
        .max_message_size(settings.max_frame_bytes)
        .max_frame_size(settings.max_frame_bytes)
        .on_upgrade(move |socket| serve(socket, state, auth)))
}

/// Serves an upgraded socket until it closes.
async fn serve(socket: WebSocket, state: AppState, auth: Option<AuthUser>) {
    let (mut sink, mut stream) = socket.split();
    let gateway = state.gateway.clone();
    let auth = match auth {
        Some(auth) => auth,
        None => {
            let timeout = gateway.settings.auth_timeout;
            match authenticate(&state, timeout, &mut sink, &mut stream).await {
                Some(auth) => auth,
                None => return,
            }
        }
    };
    Session::new(state, &gateway, auth, sink).run(stream).await;
}

/// Waits up to `timeout` for an `authenticate` frame; on failure tells the client why
/// (`missing_token`, or the token's own error) and closes with `4003`.
pub async fn authenticate<B, S, R, E>(
    backend: &B,
    timeout: Duration,
    sink: &mut S,
    stream: &mut R,
) -> Option<AuthUser>
where
    B: Backend,
    S: Sink<Message> + Unpin,
    R: Stream<Item = std::result::Result<Message, E>> + Unpin,
    E: Display,
{
    let missing = || ApiError::Unauthorized(ErrorCode::MissingToken);
    let outcome = tokio::time::timeout(timeout, async {
        loop {
            match stream.next().await {
                Some(Ok(Message::Text(text))) => {
                    return match decode(text.as_str()).map(|frame| frame.message) {
                        Ok(ClientMessage::Authenticate(frame)) => {
                            backend.authenticate(&frame.token).await
                        }
                        _ => Err(missing()),
                    };
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => return Err(missing()),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err(missing()));
    match outcome {
        Ok(auth) => Some(auth),
        Err(error) => {
            let frame = encode(&error_frame(None, &error));
            let _ = sink.send(Message::Text(frame)).await;
            let _ = sink
                .send(close_message(close::UNAUTHENTICATED, "authenticate first"))
                .await;
            None
        }
    }
}
