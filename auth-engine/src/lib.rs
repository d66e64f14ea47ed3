#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod callbacks;
mod config;
pub mod email;
mod error;
mod handler;
mod http_util;
#[cfg(feature = "mock-idp")]
pub mod mock_idp;
pub mod oauth;
pub mod pages;

pub use async_trait;
pub use auth_core;
pub use auth_jwt;
pub use callbacks::{
    Callbacks, DefaultCallbacks, Events, JwtTrigger, NoEvents, SignInAttempt, SignInDecision,
};
pub use config::{Auth, AuthBuilder, Clock, Provider, Strategy};
pub use email::{ConsoleMailer, EmailProvider, Mailer, Outbox, SmtpMailer, VerificationRequest};
pub use error::{AuthError, ConfigError, ErrorCode};
pub use handler::{AuthSession, Resolution, SessionUser};
pub use oauth::OAuthProvider;
