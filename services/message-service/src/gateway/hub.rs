//! The sockets this instance holds, by user: delivery puts a frame in each socket's bounded
//! queue without waiting; a socket whose queue is full is closed (a slow reader is cut off,
//! never buffered without limit).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::ws::Utf8Bytes;
use chat_models::api::ws::close;
use tokio::sync::Notify;
use uuid::Uuid;

/// A frame on its way to a socket. Kept as small as the frame's bytes (40 bytes; the
/// variants with more point to it): a socket's queue grows by slots of this size, and a
/// fanned-out message is the same `Arc` in every member's queue.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// Any frame.
    Frame(Utf8Bytes),
    /// The answer to the socket's own `message.send`.
    Ack(Box<Ack>),
    /// A `message.created` frame.
    Message(Arc<LiveMessage>),
}

/// The answer to a socket's own `message.send` (`message.ack` or `error`): always written;
/// the message's key is remembered so its live `message.created` is skipped.
#[derive(Debug, Clone)]
pub struct Ack {
    /// Conversation id and, for a stored message, its `seq`.
    pub key: (String, Option<i64>),
    /// The send's nonce, no longer in flight.
    pub nonce: Option<String>,
    /// The frame.
    pub text: Utf8Bytes,
}

/// A `message.created` frame, which a socket skips if it already sent that message (a resume
/// replay or its own `message.ack` got there first), or if it is this socket's own send still
/// waiting for its `message.ack`.
#[derive(Debug)]
pub struct LiveMessage {
    /// Conversation id and `seq`.
    pub key: (String, i64),
    /// The author and the client's nonce.
    pub origin: (uuid::Uuid, Option<String>),
    /// The frame.
    pub text: Utf8Bytes,
}

impl Outbound {
    /// A `message.created` frame.
    pub fn message(
        key: (String, i64),
        origin: (uuid::Uuid, Option<String>),
        text: Utf8Bytes,
    ) -> Self {
        Self::Message(Arc::new(LiveMessage { key, origin, text }))
    }

    /// The frame itself (for tests: a session handles each kind apart).
    #[cfg(test)]
    pub fn text(&self) -> &Utf8Bytes {
        match self {
            Self::Frame(text) => text,
            Self::Ack(ack) => &ack.text,
            Self::Message(message) => &message.text,
        }
    }
}

/// Asks a connection to close, with a code and reason.
#[derive(Debug, Default)]
pub struct KillSwitch {
    reason: Mutex<Option<(u16, &'static str)>>,
    notify: Notify,
}

impl KillSwitch {
    /// Requests the close (the first reason wins).
    pub fn trip(&self, code: u16, reason: &'static str) {
        if let Ok(mut slot) = self.reason.lock() {
            slot.get_or_insert((code, reason));
        }
        self.notify.notify_one();
    }

    /// Waits until tripped; returns the code and reason.
    pub async fn tripped(&self) -> (u16, &'static str) {
        self.notify.notified().await;
        self.reason
            .lock()
            .ok()
            .and_then(|slot| *slot)
            .unwrap_or((close::GOING_AWAY, "closing"))
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: u64,
    session: Uuid,
    tx: flume::Sender<Outbound>,
    kill: Arc<KillSwitch>,
}

/// A registered socket's handles.
#[derive(Debug)]
pub struct Registration {
    /// Unique within this process.
    pub id: u64,
    /// Frames to write. A bounded `flume` queue allocates nothing until a frame is queued (a
    /// tokio queue allocates a block of 32 slots when it opens): an idle socket's queue is
    /// its small shared header only.
    pub rx: flume::Receiver<Outbound>,
    /// For the connection itself to queue its answers.
    pub tx: flume::Sender<Outbound>,
    /// Tripped when the socket must close.
    pub kill: Arc<KillSwitch>,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Hub {
    next_id: AtomicU64,
    users: RwLock<HashMap<Uuid, Vec<Entry>>>,
}

impl Hub {
    /// Adds a socket of `user` (session `session`) with a queue of `capacity` frames, unless
    /// the user already holds `max_per_user` sockets here.
    pub fn register(
        &self,
        user: Uuid,
        session: Uuid,
        capacity: usize,
        max_per_user: usize,
    ) -> Option<Registration> {
        let mut users = self.users.write().ok()?;
        let entries = users.entry(user).or_default();
        if entries.len() >= max_per_user {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = flume::bounded(capacity.max(1));
        let kill = Arc::new(KillSwitch::default());
        entries.push(Entry {
            id,
            session,
            tx: tx.clone(),
            kill: kill.clone(),
        });
        metrics::gauge!("ws_connections", "service" => "message-service").increment(1.0);
        Some(Registration { id, rx, tx, kill })
    }

    /// How many sockets `user` holds on this instance.
    pub fn sockets_of(&self, user: Uuid) -> usize {
        self.users
            .read()
            .map(|users| users.get(&user).map_or(0, Vec::len))
            .unwrap_or_default()
    }

    /// Removes a socket.
    pub fn unregister(&self, user: Uuid, id: u64) {
        metrics::gauge!("ws_connections", "service" => "message-service").decrement(1.0);
        if let Ok(mut users) = self.users.write() {
            if let Some(entries) = users.get_mut(&user) {
                entries.retain(|entry| entry.id != id);
                if entries.is_empty() {
                    users.remove(&user);
                }
            }
        }
    }

    /// Whether this instance holds a socket of anyone in `audience`.
    pub fn holds_any(&self, audience: &[Uuid]) -> bool {
        self.users
            .read()
            .is_ok_and(|users| audience.iter().any(|user| users.contains_key(user)))
    }

    /// Queues `frame` for every socket of every user in `audience`; returns how many took it.
    pub fn deliver(&self, audience: &[Uuid], frame: &Outbound) -> usize {
        let Ok(users) = self.users.read() else {
            return 0;
        };
        let mut delivered = 0;
        for user in audience {
            for entry in users.get(user).into_iter().flatten() {
                match entry.tx.try_send(frame.clone()) {
                    Ok(()) => delivered += 1,
                    Err(flume::TrySendError::Full(_)) => {
                        entry.kill.trip(close::TOO_SLOW, "too slow");
                    }
                    Err(flume::TrySendError::Disconnected(_)) => {}
                }
            }
        }
        metrics::counter!("ws_frames_delivered_total", "service" => "message-service")
            .increment(delivered as u64);
        delivered
    }

    /// Closes the sockets of these sessions of `user`, after telling them why.
    pub fn revoke(&self, user: Uuid, sessions: &[Uuid], farewell: &Outbound) {
        let Ok(users) = self.users.read() else {
            return;
        };
        for entry in users.get(&user).into_iter().flatten() {
            if sessions.contains(&entry.session) {
                let _ = entry.tx.try_send(farewell.clone());
                entry.kill.trip(close::SESSION_REVOKED, "session revoked");
            }
        }
    }

    /// Closes every socket (shutdown), asking clients to reconnect.
    pub fn close_all(&self) {
        if let Ok(users) = self.users.read() {
            for entry in users.values().flatten() {
                entry
                    .kill
                    .trip(close::GOING_AWAY, "server restarting; reconnect");
            }
        }
    }

    /// Sockets open on this instance.
    pub fn connections(&self) -> usize {
        self.users
            .read()
            .map(|users| users.values().map(Vec::len).sum())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_frame_is_small() {
        // A socket's queue holds up to `WS_SEND_QUEUE` of these: every byte of `Outbound` is
        // a byte of each slot.
        let size = std::mem::size_of::<Outbound>();
        assert!(size <= 40, "Outbound is {size} bytes");
    }
}
