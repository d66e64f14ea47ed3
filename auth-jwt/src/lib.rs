#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod cookies;
pub mod csrf;
mod error;
mod jwt;
mod keys;

pub use error::{Error, Malformed};
pub use jwt::{Clock, DEFAULT_CLOCK_TOLERANCE, DEFAULT_MAX_AGE, DefaultClaims, Jwt, Version};
pub use keys::Secret;

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// base64url without padding, as JOSE writes and reads it.
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);
