#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod adapter;
mod error;
pub mod layout;
mod models;
pub mod session;
pub mod timestamp;

pub use adapter::Adapter;
pub use async_trait::async_trait;
pub use error::{
    AdapterError, BoxError, Entity, Key, Result, StoredDataError, TimedOut, with_timeout,
};
pub use models::{
    Account, AccountType, Authenticator, NewUser, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
pub use session::SessionPolicy;
pub use time::OffsetDateTime;

/// A fresh record id: a random UUID (v4) in its hyphenated lowercase form,
/// as Auth.js's `crypto.randomUUID()` makes. Every adapter that chooses ids
/// itself uses this, so ids look the same whatever the backend.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
