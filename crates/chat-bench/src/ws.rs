//! Opening WebSockets to message-service, and sending and tracking numbered benchmark
//! messages over them.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use chat_models::api::ws::ServerFrame;
use futures::stream::SplitSink;
use futures::StreamExt as _;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::Message;

use crate::setup::User;

/// A client socket.
pub type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Opens a socket as `user` (optionally from a given local address) and waits for `ready`.
pub async fn open_socket(
    base: &str,
    user: &User,
    source: Option<IpAddr>,
) -> anyhow::Result<Socket> {
    let url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    let mut request = url.as_str().into_client_request()?;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {}", user.access).parse()?);
    let host = request
        .uri()
        .authority()
        .context("no host in the URL")?
        .as_str()
        .to_owned();
    let address: SocketAddr = tokio::net::lookup_host(&host)
        .await?
        .next()
        .context("cannot resolve the host")?;
    let socket = tokio::net::TcpSocket::new_v4()?;
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket.connect(address).await?;
    stream.set_nodelay(true)?;
    let (mut socket, _) = tokio_tungstenite::client_async(request, stream).await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                if let ServerFrame::Ready(_) = serde_json::from_str(text.as_str())? {
                    return Ok(socket);
                }
            }
            Some(Ok(_)) => continue,
            Some(Err(error)) => return Err(error.into()),
            None => bail!("closed before ready"),
        }
    }
}

/// Sends benchmark message `id` (text `bench <id>`, nonce `<run>-<id>`) over a socket's
/// write half as a `message.send` frame.
pub async fn send_numbered(
    writer: &mut futures::stream::SplitSink<Socket, Message>,
    conversation: &str,
    run: &str,
    id: u64,
) -> anyhow::Result<()> {
    use chat_models::api::message::SendMessage;
    use chat_models::api::ws::{ClientFrame, ClientMessage, SendFrame};
    use futures::SinkExt as _;
    let frame = ClientFrame::new(ClientMessage::SendMessage(SendFrame {
        conversation_id: conversation.to_owned(),
        message: SendMessage {
            text: format!("bench {id}"),
            nonce: Some(format!("{run}-{id}")),
            ..Default::default()
        },
    }));
    writer
        .send(Message::text(serde_json::to_string(&frame)?))
        .await
        .context("sending")
}

/// Sends `messages` numbered messages at `rate` a second, paced against the start (message n
/// leaves at n / rate, no drift), round robin over `conversations` (each with its members,
/// indexes into `writers`) and, within each, from its members in turn; `number` gives each
/// message's number. Returns how long the sending took.
pub async fn send_paced(
    writers: &mut [SplitSink<Socket, Message>],
    conversations: &[(String, Vec<usize>)],
    seen: &Mutex<Seen>,
    run: &str,
    rate: f64,
    messages: u64,
    mut number: impl FnMut() -> u64,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    for n in 0..messages {
        let due = started + Duration::from_secs_f64(n as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        let (conversation, members) = &conversations[(n as usize) % conversations.len()];
        let sender = members[(n as usize / conversations.len()) % members.len()];
        let id = number();
        if let Ok(mut seen) = seen.lock() {
            seen.sending(id, members.len() - 1);
        }
        send_numbered(&mut writers[sender], conversation, run, id).await?;
    }
    Ok(started.elapsed())
}

/// A numbered benchmark message (`bench <id>`) in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numbered {
    /// A `message.created` frame: a delivery.
    Created(u64),
    /// A `message.ack` frame: the sender's own send stored.
    Acked(u64),
}

/// The benchmark message in a `message.created` or `message.ack` frame, if any. Reads the
/// frame's type and the message's text alone (the rest is skipped, not decoded): the load
/// generator shares the cores with the servers and reads every frame they deliver.
pub fn numbered(text: &str) -> Option<Numbered> {
    use std::borrow::Cow;
    #[derive(serde::Deserialize)]
    struct Frame<'a> {
        #[serde(rename = "type", borrow)]
        kind: Cow<'a, str>,
        #[serde(borrow)]
        data: Option<Data<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Data<'a> {
        #[serde(borrow)]
        text: Option<Cow<'a, str>>,
        #[serde(borrow)]
        message: Option<Message<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Message<'a> {
        #[serde(borrow)]
        text: Cow<'a, str>,
    }
    let frame: Frame<'_> = serde_json::from_str(text).ok()?;
    let data = frame.data?;
    let (text, number): (Cow<'_, str>, fn(u64) -> Numbered) = match frame.kind.as_ref() {
        "message.created" => (data.text?, Numbered::Created),
        "message.ack" => (data.message?.text, Numbered::Acked),
        _ => return None,
    };
    Some(number(text.strip_prefix("bench ")?.parse().ok()?))
}

/// A numbered message on its way: when it was sent, to how many sockets, how many got it.
#[derive(Debug)]
pub struct InFlight {
    /// When it was sent.
    pub at: Instant,
    /// Sockets it should reach.
    pub expected: usize,
    /// Sockets it reached so far.
    pub received: usize,
}

/// What the readers of a scenario saw, by message number.
#[derive(Debug, Default)]
pub struct Seen {
    /// Every message sent.
    pub sent: HashMap<u64, InFlight>,
    /// Send → receive, per delivery (not counting copies past the expected number).
    pub latencies: Vec<(u64, Duration)>,
    /// Deliveries past a message's expected number.
    pub duplicated: u64,
    /// Send → `message.ack` on the sender's socket (the message stored), per message.
    pub acks: Vec<(u64, Duration)>,
}

impl Seen {
    /// Message `id` leaves now, for `expected` sockets.
    pub fn sending(&mut self, id: u64, expected: usize) {
        let at = Instant::now();
        self.sent.insert(
            id,
            InFlight {
                at,
                expected,
                received: 0,
            },
        );
    }
}

/// What became of some numbered messages.
#[derive(Debug, Default)]
pub struct Tally {
    /// Deliveries they should have made.
    pub expected: usize,
    /// Deliveries made (not counting copies past the expected number).
    pub received: usize,
    /// Deliveries missing.
    pub lost: usize,
    /// Send → receive of each delivery made.
    pub latencies: Vec<Duration>,
    /// Send → `message.ack` of each message acknowledged.
    pub acks: Vec<Duration>,
}

impl Seen {
    /// The tally of the messages numbered in `ids`.
    pub fn tally(&self, ids: impl RangeBounds<u64>) -> Tally {
        let mut tally = Tally::default();
        for (_, entry) in self.sent.iter().filter(|(id, _)| ids.contains(id)) {
            tally.expected += entry.expected;
            tally.received += entry.received.min(entry.expected);
            tally.lost += entry.expected.saturating_sub(entry.received);
        }
        tally.latencies = self
            .latencies
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(_, latency)| *latency)
            .collect();
        tally.acks = self
            .acks
            .iter()
            .filter(|(id, _)| ids.contains(id))
            .map(|(_, latency)| *latency)
            .collect();
        tally
    }
}

/// Reads one socket until it closes, recording the numbered `message.created` frames (and the
/// `message.ack` of its own sends) in `seen`.
pub async fn record(mut read: futures::stream::SplitStream<Socket>, seen: Arc<Mutex<Seen>>) {
    while let Some(Ok(message)) = read.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Some(numbered) = numbered(text.as_str()) else {
            continue;
        };
        let now = Instant::now();
        if let Ok(mut seen) = seen.lock() {
            let seen = &mut *seen;
            match numbered {
                Numbered::Created(id) => {
                    if let Some(entry) = seen.sent.get_mut(&id) {
                        entry.received += 1;
                        if entry.received > entry.expected {
                            seen.duplicated += 1;
                        } else {
                            seen.latencies.push((id, now - entry.at));
                        }
                    }
                }
                Numbered::Acked(id) => {
                    if let Some(entry) = seen.sent.get(&id) {
                        seen.acks.push((id, now - entry.at));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_numbered_message_is_read_from_a_created_or_ack_frame_only() {
        use chat_models::api::message::MessageView;
        let message = MessageView {
            text: "bench 42".to_owned(),
            ..serde_json::from_value(serde_json::json!({
                "id": "m", "conversation_id": "c", "seq": 3, "sender_uuid": uuid::Uuid::nil(),
                "text": "", "created_at": "2026-12-06T00:00:00Z",
            }))
            .unwrap()
        };
        let frame = |frame: ServerFrame| serde_json::to_string(&frame).unwrap();
        let created = frame(ServerFrame::MessageCreated(message.clone()));
        assert_eq!(numbered(&created), Some(Numbered::Created(42)));
        let ack = frame(ServerFrame::MessageAck {
            reference: Some("r".to_owned()),
            message: message.clone(),
        });
        assert_eq!(numbered(&ack), Some(Numbered::Acked(42)));
        let updated = frame(ServerFrame::MessageUpdated(message.clone()));
        assert_eq!(numbered(&updated), None);
        let other = frame(ServerFrame::MessageCreated(MessageView {
            text: "hello".to_owned(),
            ..message
        }));
        assert_eq!(numbered(&other), None);
    }

    #[test]
    fn a_tally_counts_the_messages_in_its_range_once_each() {
        let mut seen = Seen::default();
        for id in 1..=3 {
            seen.sending(id, 2);
        }
        // 1 reached both, 2 one of two, 3 three times (one past its two).
        for (id, received) in [(1, 2), (2, 1), (3, 3)] {
            seen.sent.get_mut(&id).unwrap().received = received;
            for _ in 0..received.min(2) {
                seen.latencies.push((id, Duration::from_millis(id)));
            }
        }
        let all = seen.tally(..);
        assert_eq!((all.expected, all.received, all.lost), (6, 5, 1));
        assert_eq!(all.latencies.len(), 5);
        let later = seen.tally(2..4);
        assert_eq!((later.expected, later.received, later.lost), (4, 3, 1));
        assert_eq!(
            later.latencies,
            [
                Duration::from_millis(2),
                Duration::from_millis(3),
                Duration::from_millis(3)
            ]
        );
        assert_eq!(seen.tally(4..).expected, 0);
    }
}
