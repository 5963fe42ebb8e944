//! The wire side of the protocol: client frames decoded into [`ClientFrame`] (or a rejection
//! saying why, with the frame's `ref` when it had one), server frames encoded once, close
//! frames; and the limits every socket lives by.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use chat_models::api::ws::{ClientFrame, ClientMessage, ServerFrame};
use chat_models::{ApiError, ErrorCode};
use serde::Deserialize;

/// Most conversations one `resume` frame may name.
pub const MAX_RESUME_CONVERSATIONS: usize = 200;
/// `message.created` keys remembered per socket to drop duplicates.
pub const RECENT_KEYS: usize = 4096;
/// How often a socket looks for typing that expired.
pub const TYPING_SWEEP: Duration = Duration::from_millis(250);
/// How long a closing socket waits for the client's close frame.
pub const CLOSE_HANDSHAKE: Duration = Duration::from_secs(2);
/// How long one frame may take to go out before the client counts as too slow (`4008`).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(3);
/// Most queued frames a socket writes before it flushes (each flush is a system call; the
/// write buffer, [`SOCKET_WRITE_BUFFER_BYTES`], goes out by itself whenever it fills).
pub const WRITE_BATCH: usize = 32;
/// How long a too-slow client has to read its backlog and the close frame before the socket
/// is dropped.
pub const STALLED_GRACE: Duration = Duration::from_secs(10);
/// A socket's read buffer, allocated when it opens: client frames are small (a typing frame,
/// a send of a line of text), and tungstenite's 128 KiB default made an idle socket cost about
/// 140 KB (docs/benchmarks.md). It grows for a larger frame (up to `WS_MAX_FRAME_BYTES`); a
/// read takes up to this much from the socket.
pub const SOCKET_READ_BUFFER_BYTES: usize = 256;
/// How much a socket's writes gather before they go out (the buffer itself grows on demand).
pub const SOCKET_WRITE_BUFFER_BYTES: usize = 4 * 1024;
/// Sends and reads of one socket being stored at once; while they are all busy the socket's
/// further frames wait unread (back-pressure on the client, not a task per frame).
pub const MAX_IN_FLIGHT: usize = 8;
/// How long a socket reuses who may see it typing in a conversation before asking again.
pub const TYPING_AUDIENCE_TTL: Duration = Duration::from_secs(10);

/// A client frame that could not be read: the error to answer with, and the frame's `ref`.
#[derive(Debug)]
pub struct Rejected {
    /// The frame's `ref`, when it was readable.
    pub reference: Option<String>,
    /// Why.
    pub error: ApiError,
}

/// The frame's envelope, read on its own to say what is wrong with a frame that failed.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default, rename = "ref")]
    reference: Option<String>,
}

/// Reads a text frame: not JSON of the `{"type", "data"?, "ref"?}` shape is `malformed_frame`
/// (no `ref`); an unknown `type` is `unknown_frame`; data that does not fit its type is
/// `malformed_frame` with the frame's `ref`.
pub fn decode(text: &str) -> Result<ClientFrame, Rejected> {
    let error = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => return Ok(frame),
        Err(error) => error,
    };
    let Ok(envelope) = serde_json::from_str::<Envelope>(text) else {
        return Err(Rejected {
            reference: None,
            error: ApiError::BadRequest(
                ErrorCode::MalformedFrame,
                "Send {\"type\": ..., \"data\": {...}}.".to_owned(),
            ),
        });
    };
    let error = if ClientMessage::TYPES.contains(&envelope.kind.as_str()) {
        ApiError::BadRequest(
            ErrorCode::MalformedFrame,
            format!("Bad frame data: {error}"),
        )
    } else {
        ApiError::BadRequest(
            ErrorCode::UnknownFrame,
            format!("Unknown frame type {:?}.", envelope.kind),
        )
    };
    Err(Rejected {
        reference: envelope.reference,
        error,
    })
}

/// Serialises a frame for the wire.
pub fn encode(frame: &ServerFrame) -> Utf8Bytes {
    serde_json::to_string(frame)
        .unwrap_or_else(|_| r#"{"type":"error","data":{"ref":null,"error":{"code":"internal","message":"unencodable frame"}}}"#.to_owned())
        .into()
}

/// The `error` frame answering a client frame; a failure on our side is logged here, once.
pub fn error_frame(reference: Option<String>, error: &ApiError) -> ServerFrame {
    error.report();
    ServerFrame::Error {
        reference,
        error: error.body().error,
    }
}

/// A close frame.
pub fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

#[cfg(test)]
mod tests {
    use chat_models::api::ws::{NoData, TypingFrame};

    use super::*;

    fn rejected(text: &str) -> (Option<String>, ErrorCode) {
        let rejected = decode(text).unwrap_err();
        (rejected.reference, rejected.error.code())
    }

    #[test]
    fn well_formed_frames_decode_with_their_ref() {
        let frame =
            decode(r#"{"type":"typing.start","ref":"t","data":{"conversation_id":"c"}}"#).unwrap();
        assert_eq!(frame.reference.as_deref(), Some("t"));
        assert_eq!(
            frame.message,
            ClientMessage::TypingStart(TypingFrame {
                conversation_id: "c".to_owned()
            })
        );
        assert_eq!(
            decode(r#"{"type":"ping"}"#).unwrap().message,
            ClientMessage::Ping(NoData)
        );
    }

    #[test]
    fn each_kind_of_bad_frame_gets_its_code_and_ref() {
        assert_eq!(rejected("not json"), (None, ErrorCode::MalformedFrame));
        assert_eq!(
            rejected(r#"{"data":{}}"#),
            (None, ErrorCode::MalformedFrame)
        );
        assert_eq!(
            rejected(r#"{"type":"teleport","ref":"t1"}"#),
            (Some("t1".to_owned()), ErrorCode::UnknownFrame)
        );
        assert_eq!(
            rejected(r#"{"type":"message.send","ref":"m1","data":{"text":5}}"#),
            (Some("m1".to_owned()), ErrorCode::MalformedFrame)
        );
        // A `ref` that is not a string makes the envelope itself unreadable.
        assert_eq!(
            rejected(r#"{"type":"teleport","ref":7}"#),
            (None, ErrorCode::MalformedFrame)
        );
    }

    #[test]
    fn encoded_frames_read_back() {
        let frame = ServerFrame::Pong {
            reference: Some("p".to_owned()),
        };
        let text = encode(&frame);
        assert_eq!(
            serde_json::from_str::<ServerFrame>(text.as_str()).unwrap(),
            frame
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(text.as_str()).unwrap()["data"]["ref"],
            "p"
        );
    }
}
