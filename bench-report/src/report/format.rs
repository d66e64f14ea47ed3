//! Formatting: numbers, ratios and lists as the page writes them.

/// `n` with a comma between each group of three digits: `1,000,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A measure rounded to a whole number, with thousands separators.
pub fn count(value: f64) -> String {
    if value.is_finite() {
        thousands(value.max(0.0).round() as u64)
    } else {
        "–".to_owned()
    }
}

/// A ratio as a multiplier with two decimals: `0.87×`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}×")
}

/// The change from `from` to `to` as a signed whole percentage: `+12%`,
/// `-3%`, `0%`.
pub fn signed_percent(from: f64, to: f64) -> String {
    if from <= 0.0 || !from.is_finite() || !to.is_finite() {
        return "–".to_owned();
    }
    let percent = ((to - from) / from * 100.0).round();
    if percent == 0.0 {
        "0%".to_owned()
    } else {
        format!("{percent:+}%")
    }
}

/// Seconds with one decimal, or two below a tenth of a second.
pub fn seconds(secs: f64) -> String {
    if secs < 0.1 {
        format!("{secs:.2}")
    } else {
        format!("{secs:.1}")
    }
}

/// Distinct values joined for a sentence: `32`, `32 or 64`.
pub fn either(values: &[u64]) -> String {
    values
        .iter()
        .map(|v| thousands(*v))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Names joined for a sentence: `a`, `a and b`, `a, b and c`.
pub fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}
