//! Frames the client sends: `{"type": "...", "data": {...}, "ref"?: "..."}`, where `ref` is a
//! client-chosen id echoed in the answer.

use serde::{Deserialize, Deserializer, Serialize};

/// A client frame: what it asks, and the `ref` to echo in `ack`, `message.ack`, `pong` and
/// `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFrame {
    /// The request.
    #[serde(flatten)]
    pub message: ClientMessage,
    /// A client-chosen id echoed in the answer.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl ClientFrame {
    /// A frame without `ref`.
    pub fn new(message: ClientMessage) -> Self {
        Self {
            message,
            reference: None,
        }
    }

    /// A frame whose answer echoes `reference`.
    pub fn with_ref(message: ClientMessage, reference: impl Into<String>) -> Self {
        Self {
            message,
            reference: Some(reference.into()),
        }
    }
}

/// What a client frame asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum ClientMessage {
    /// The first frame when the upgrade carried no token.
    #[serde(rename = "authenticate")]
    Authenticate(Authenticate),
    /// Sends a message; answered by `message.ack` (or `error`).
    #[serde(rename = "message.send")]
    SendMessage(SendFrame),
    /// Moves my read position; answered by `ack`.
    #[serde(rename = "read")]
    Read(ReadFrame),
    /// I am typing; answered by `ack`.
    #[serde(rename = "typing.start")]
    TypingStart(TypingFrame),
    /// I stopped typing; answered by `ack`.
    #[serde(rename = "typing.stop")]
    TypingStop(TypingFrame),
    /// Replays what I missed; ends with `resume.done`.
    #[serde(rename = "resume")]
    Resume(ResumeFrame),
    /// Answered by `pong`.
    #[serde(rename = "ping")]
    Ping(NoData),
}

impl ClientMessage {
    /// Every frame type, as on the wire.
    pub const TYPES: &[&str] = &[
        "authenticate",
        "message.send",
        "read",
        "typing.start",
        "typing.stop",
        "resume",
        "ping",
    ];
}

/// The data of a frame that carries none: absent, `null` or anything else, ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct NoData;

impl<'de> Deserialize<'de> for NoData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Through `Option`, so that an absent `data` is accepted too.
        Option::<serde::de::IgnoredAny>::deserialize(deserializer).map(|_| Self)
    }
}

/// `authenticate`: the first frame when the upgrade carried no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authenticate {
    /// An access token.
    pub token: String,
}

/// `message.send`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendFrame {
    /// The conversation.
    pub conversation_id: String,
    /// The message, as for `POST /conversations/{id}/messages`.
    #[serde(flatten)]
    pub message: crate::api::message::SendMessage,
}

/// `typing.start` and `typing.stop`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypingFrame {
    /// The conversation.
    pub conversation_id: String,
}

/// `read`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFrame {
    /// The conversation.
    pub conversation_id: String,
    /// The newest message read.
    pub message_id: String,
}

/// `resume`: the last position seen per conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeFrame {
    /// Conversations to catch up.
    pub conversations: Vec<ResumePoint>,
}

/// One conversation to catch up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumePoint {
    /// The conversation.
    pub conversation_id: String,
    /// The `seq` of the last message the client has.
    pub last_seq: i64,
    /// The conversation version the client is up to date with: changes after it (edits,
    /// deletions, reactions, pins of messages up to `last_seq`) are replayed as
    /// `message.updated`. Without it, only new messages are replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_version: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_listed_and_round_trips() {
        let frames = [
            ClientMessage::Authenticate(Authenticate {
                token: "t".to_owned(),
            }),
            ClientMessage::SendMessage(SendFrame {
                conversation_id: "c".to_owned(),
                message: crate::api::message::SendMessage {
                    text: "hi".to_owned(),
                    reply_to: None,
                    nonce: Some("n".to_owned()),
                    ..Default::default()
                },
            }),
            ClientMessage::Read(ReadFrame {
                conversation_id: "c".to_owned(),
                message_id: "m".to_owned(),
            }),
            ClientMessage::TypingStart(TypingFrame {
                conversation_id: "c".to_owned(),
            }),
            ClientMessage::TypingStop(TypingFrame {
                conversation_id: "c".to_owned(),
            }),
            ClientMessage::Resume(ResumeFrame {
                conversations: vec![ResumePoint {
                    conversation_id: "c".to_owned(),
                    last_seq: 3,
                    last_version: Some(7),
                }],
            }),
            ClientMessage::Ping(NoData),
        ];
        assert_eq!(frames.len(), ClientMessage::TYPES.len());
        for message in frames {
            let frame = ClientFrame::with_ref(message, "r");
            let json = serde_json::to_value(&frame).unwrap();
            assert!(ClientMessage::TYPES.contains(&json["type"].as_str().unwrap()));
            assert_eq!(json["ref"], "r");
            assert_eq!(serde_json::from_value::<ClientFrame>(json).unwrap(), frame);
        }
    }

    #[test]
    fn a_send_reads_flat_data_and_a_ping_any_data() {
        let send: ClientFrame = serde_json::from_str(
            r#"{"type":"message.send","data":{"conversation_id":"c","text":"hi"},"ref":"r1"}"#,
        )
        .unwrap();
        assert_eq!(send.reference.as_deref(), Some("r1"));
        assert!(
            matches!(send.message, ClientMessage::SendMessage(ref s) if s.message.text == "hi")
        );
        for ping in [r#"{"type":"ping"}"#, r#"{"type":"ping","data":{}}"#] {
            let frame: ClientFrame = serde_json::from_str(ping).unwrap();
            assert_eq!(frame.message, ClientMessage::Ping(NoData));
        }
    }
}
