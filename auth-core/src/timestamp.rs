//! Instants as the backends store them: milliseconds since the Unix epoch, or
//! the ISO-8601 text JavaScript's `Date.toISOString()` writes
//! (`2024-05-06T07:08:09.123Z`), which the Auth.js Kysely adapter stores in
//! SQLite.
//!
//! Every adapter keeps instants to the millisecond; these helpers are the one
//! place that rounding and formatting happen.

use time::format_description::well_known::{Iso8601, Rfc3339, iso8601};
use time::{OffsetDateTime, UtcOffset};

use crate::{AdapterError, Result};

const ISO_MILLIS: iso8601::EncodedConfig = iso8601::Config::DEFAULT
    .set_time_precision(iso8601::TimePrecision::Second {
        decimal_digits: std::num::NonZeroU8::new(3),
    })
    .encode();

/// Milliseconds since 1970-01-01T00:00:00Z (negative before it); sub-millisecond
/// digits are dropped (rounded toward negative infinity).
pub fn to_unix_millis(instant: OffsetDateTime) -> i64 {
    let nanos = instant.unix_timestamp_nanos();
    nanos.div_euclid(1_000_000) as i64
}

/// The UTC instant `millis` milliseconds after the Unix epoch.
///
/// Errors: `InvalidInput` (field `field`) when it is outside the range `time`
/// can represent.
pub fn from_unix_millis(field: &'static str, millis: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .map_err(|e| AdapterError::invalid_input(field, format!("timestamp out of range: {e}")))
}

/// `instant` in UTC with sub-millisecond digits dropped: what a round trip
/// through any adapter gives back.
pub fn truncate_to_millis(instant: OffsetDateTime) -> OffsetDateTime {
    let utc = instant.to_offset(UtcOffset::UTC);
    let millis = utc.millisecond();
    utc.replace_millisecond(millis)
        .expect("a millisecond read from a valid instant is valid")
}

/// `instant` as `YYYY-MM-DDTHH:MM:SS.sssZ` in UTC, as JavaScript writes it.
///
/// Errors: `InvalidInput` (field `field`) for years outside 0000–9999, which
/// this format cannot hold.
pub fn format_iso(field: &'static str, instant: OffsetDateTime) -> Result<String> {
    let utc = truncate_to_millis(instant);
    if !(0..=9999).contains(&utc.year()) {
        return Err(AdapterError::invalid_input(
            field,
            format!("year {} is outside 0000-9999", utc.year()),
        ));
    }
    utc.format(&Iso8601::<ISO_MILLIS>)
        .map_err(|e| AdapterError::invalid_input(field, e.to_string()))
}

/// Parses RFC 3339 / ISO-8601 text such as `format_iso` writes (any offset,
/// any number of fraction digits) into a UTC instant.
///
/// Errors: `Backend` when stored text is not a timestamp: that is corrupt
/// data, not caller input.
pub fn parse_iso(text: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(text, &Iso8601::DEFAULT))
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|e| AdapterError::backend(format!("stored timestamp {text:?} is invalid: {e}")))
}

/// `instant` if its year is within `years` (e.g. `0..=9999`, what the
/// ISO-8601 text form can hold), else `InvalidInput` naming `field`. The one
/// range check every adapter uses before it stores an instant.
pub fn check_year_range(
    field: &'static str,
    instant: OffsetDateTime,
    years: std::ops::RangeInclusive<i32>,
) -> Result<OffsetDateTime> {
    let year = instant.to_offset(UtcOffset::UTC).year();
    if years.contains(&year) {
        Ok(instant)
    } else {
        Err(AdapterError::invalid_input(
            field,
            format!(
                "year {year} is outside {}-{} for this backend",
                years.start(),
                years.end()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn iso_text_matches_javascript() {
        let t = datetime!(2024-05-06 07:08:09.123456 +02:00);
        assert_eq!(format_iso("t", t).unwrap(), "2024-05-06T05:08:09.123Z");
        assert_eq!(
            parse_iso("2024-05-06T05:08:09.123Z").unwrap(),
            datetime!(2024-05-06 05:08:09.123 UTC)
        );
        assert_eq!(
            format_iso("t", datetime!(9999-12-31 23:59:59.999 UTC)).unwrap(),
            "9999-12-31T23:59:59.999Z"
        );
        assert_eq!(
            format_iso("t", datetime!(1970-01-01 0:00 UTC)).unwrap(),
            "1970-01-01T00:00:00.000Z"
        );
        assert!(parse_iso("yesterday").is_err());
    }

    #[test]
    fn millis_round_trip_on_both_sides_of_the_epoch() {
        for t in [
            datetime!(1969-12-31 23:59:59.999 UTC),
            datetime!(1970-01-01 0:00 UTC),
            datetime!(9999-12-31 23:59:59.999 UTC),
        ] {
            assert_eq!(from_unix_millis("t", to_unix_millis(t)).unwrap(), t);
        }
        assert_eq!(to_unix_millis(datetime!(1969-12-31 23:59:59.9995 UTC)), -1);
        assert!(
            from_unix_millis("t", i64::MAX)
                .unwrap_err()
                .is_invalid_input()
        );
        assert_eq!(
            truncate_to_millis(datetime!(2020-01-01 0:00:00.123999 +01:00)),
            datetime!(2019-12-31 23:00:00.123 UTC)
        );
    }
}
