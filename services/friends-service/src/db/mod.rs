//! Storage in MySQL (`chat_friends`): plain async functions over a connection or transaction.

pub mod relationships;
