//! [`WsClient`]: a WebSocket client of message-service that sends [`ClientFrame`]s and reads
//! [`ServerFrame`]s.

use std::time::Duration;

use chat_models::api::ws::{ClientFrame, ClientMessage, NoData, Ready, ServerFrame};
use futures::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::handshake::client::Request;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::TestUser;

/// How long a client waits for a frame before giving up.
const WAIT: Duration = Duration::from_secs(5);

/// A connected client.
pub struct WsClient {
    /// The socket itself, for raw frames.
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// The `/ws` URL of a service at `base` (`http://...`).
    pub fn url(base: &str) -> String {
        format!("{}/ws", base.replacen("http://", "ws://", 1))
    }

    /// An upgrade request carrying `user`'s access token.
    pub fn request(base: &str, user: &TestUser) -> Request {
        let mut request = Self::url(base).into_client_request().unwrap();
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", user.access).parse().unwrap(),
        );
        request
    }

    /// Connects as `user` and reads the `ready` frame.
    pub async fn open(base: &str, user: &TestUser) -> (Self, Ready) {
        let mut client = Self::connect(Self::request(base, user))
            .await
            .expect("the socket opens");
        let ready = crate::next_frame!(client, ServerFrame::Ready(ready) => *ready);
        (client, ready)
    }

    /// Connects without credentials (to authenticate by frame, or not at all).
    pub async fn anonymous(base: &str) -> Self {
        let request = Self::url(base).into_client_request().unwrap();
        Self::connect(request).await.expect("the socket opens")
    }

    /// Connects with `request` as it is.
    pub async fn connect(request: Request) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { socket })
    }

    /// Sends a frame.
    pub async fn send(&mut self, frame: ClientFrame) {
        let text = serde_json::to_string(&frame).unwrap();
        self.socket.send(Message::text(text)).await.unwrap();
    }

    /// Sends a request without `ref`.
    pub async fn send_message(&mut self, message: ClientMessage) {
        self.send(ClientFrame::new(message)).await;
    }

    /// Sends a request whose answer echoes `reference`.
    pub async fn request_with_ref(&mut self, message: ClientMessage, reference: &str) {
        self.send(ClientFrame::with_ref(message, reference)).await;
    }

    /// The next frame (pings are answered by the library); `None` when closed or after 5 s.
    pub async fn next(&mut self) -> Option<ServerFrame> {
        self.next_within(WAIT).await
    }

    /// The next frame within `limit`.
    pub async fn next_within(&mut self, limit: Duration) -> Option<ServerFrame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let message = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??
                .ok()?;
            match message {
                Message::Text(text) => return Some(serde_json::from_str(text.as_str()).unwrap()),
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// The next frame `pick` accepts (others skipped); see [`crate::next_frame!`].
    pub async fn next_matching<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(ServerFrame) -> Option<T>,
    ) -> T {
        loop {
            let frame = self
                .next()
                .await
                .unwrap_or_else(|| panic!("no {what} frame within 5 s"));
            if let Some(value) = pick(frame) {
                return value;
            }
        }
    }

    /// Every frame until a `pong` answering `marker`: what arrived before it.
    pub async fn drain(&mut self, marker: &str) -> Vec<ServerFrame> {
        self.request_with_ref(ClientMessage::Ping(NoData), marker)
            .await;
        let mut frames = Vec::new();
        loop {
            match self.next().await.expect("pong") {
                ServerFrame::Pong { reference } if reference.as_deref() == Some(marker) => {
                    return frames;
                }
                frame => frames.push(frame),
            }
        }
    }

    /// Waits for the server to close; the close code (`None` without a close frame).
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(WAIT, self.socket.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| f.code.into()),
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(_)) | None) => return None,
                Err(_) => panic!("the socket stayed open"),
            }
        }
    }
}
