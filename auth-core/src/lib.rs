#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod adapter;
mod error;
mod models;
pub mod session;
pub mod timestamp;

pub use adapter::Adapter;
pub use async_trait::async_trait;
pub use error::{AdapterError, BoxError, Result, TimedOut, with_timeout};
pub use models::{
    Account, AccountType, Authenticator, NewUser, Session, SessionUpdate, User, UserUpdate,
    VerificationToken,
};
pub use session::SessionPolicy;
pub use time::OffsetDateTime;
