//! Which `message.created` frames a socket still has to write. A message can reach a socket
//! twice: as a resume replay and as its live event, or as the answer to the socket's own
//! `message.send` (`message.ack`) and as its live event. [`Deliveries`] remembers the recent
//! messages written and the sends waiting for their answer, and lets each message through once.

use std::collections::{HashSet, VecDeque};

use uuid::Uuid;

/// A message's identity: its conversation and position.
pub type Key = (String, i64);

/// What one socket has written, and its sends in flight.
#[derive(Debug)]
pub struct Deliveries {
    capacity: usize,
    written: HashSet<Key>,
    order: VecDeque<Key>,
    in_flight: HashSet<(String, String)>,
}

impl Deliveries {
    /// Remembers the last `capacity` messages written.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            written: HashSet::new(),
            order: VecDeque::new(),
            in_flight: HashSet::new(),
        }
    }

    /// This socket sent a message with `nonce` to `conversation`; its answer is on the way.
    pub fn sending(&mut self, conversation: &str, nonce: &str) {
        self.in_flight
            .insert((conversation.to_owned(), nonce.to_owned()));
    }

    /// The answer to this socket's send arrived (always written): the wait ends, and a stored
    /// message (`seq`) counts as written.
    pub fn answered(&mut self, conversation: &str, nonce: Option<&str>, seq: Option<i64>) {
        if let Some(nonce) = nonce {
            self.in_flight
                .remove(&(conversation.to_owned(), nonce.to_owned()));
        }
        if let Some(seq) = seq {
            self.remember((conversation.to_owned(), seq));
        }
    }

    /// Whether to write the `message.created` of `key`, sent by `sender` with `nonce`, to a
    /// socket of `me`: not when it was written already, nor when it is this socket's own send
    /// still waiting for its answer (the answer carries it).
    pub fn admit(&mut self, me: Uuid, key: Key, sender: Uuid, nonce: Option<&str>) -> bool {
        let own = sender == me
            && nonce
                .is_some_and(|nonce| self.in_flight.contains(&(key.0.clone(), nonce.to_owned())));
        self.remember(key) && !own
    }

    /// Records a written message; `false` if it was there already.
    fn remember(&mut self, key: Key) -> bool {
        if !self.written.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.written.remove(&oldest);
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seq: i64) -> Key {
        ("c".to_owned(), seq)
    }

    #[test]
    fn a_message_is_written_once_whatever_the_route() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let mut deliveries = Deliveries::new(16);
        // A replay, then the same message live.
        assert!(deliveries.admit(me, key(1), other, None));
        assert!(!deliveries.admit(me, key(1), other, None));
        assert!(deliveries.admit(me, key(2), other, Some("n")));
    }

    #[test]
    fn an_own_send_arrives_as_its_ack_only() {
        let me = Uuid::new_v4();
        let mut deliveries = Deliveries::new(16);
        // The live event overtakes the ack: skipped, the ack carries it.
        deliveries.sending("c", "n1");
        assert!(!deliveries.admit(me, key(5), me, Some("n1")));
        deliveries.answered("c", Some("n1"), Some(5));
        assert!(!deliveries.admit(me, key(5), me, Some("n1")));
        // The ack comes first: the live event is a second copy.
        deliveries.sending("c", "n2");
        deliveries.answered("c", Some("n2"), Some(6));
        assert!(!deliveries.admit(me, key(6), me, Some("n2")));
        // A failed send ends the wait: a later message with that nonce is not hidden.
        deliveries.sending("c", "n3");
        deliveries.answered("c", Some("n3"), None);
        assert!(deliveries.admit(me, key(7), me, Some("n3")));
        // The same user's send from another device is written.
        assert!(deliveries.admit(me, key(8), me, Some("other-device")));
    }

    #[test]
    fn only_the_most_recent_messages_are_remembered() {
        let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
        let mut deliveries = Deliveries::new(2);
        for seq in 1..=3 {
            assert!(deliveries.admit(me, key(seq), other, None));
        }
        assert!(!deliveries.admit(me, key(3), other, None));
        // The oldest was forgotten, so it would be written again.
        assert!(deliveries.admit(me, key(1), other, None));
    }
}
