//! Field decoding shared by the text formats: integers without UTF-8 checks
//! or allocation, and quoting of bad input in messages.

/// An unsigned decimal integer (digits only, no sign, no overflow).
#[inline]
pub(super) fn parse_u64(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    if field.len() < 20 {
        // 19 digits cannot overflow: no checks in the common case.
        for &b in field {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as u64;
        }
        return Some(v);
    }
    for &b in field {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(d as u64)?;
    }
    Some(v)
}

/// A number in exponent form (`1e3`, `2.5E6`: spreadsheets and some
/// loggers write large values so) times `scale`, rounded to a whole; None
/// unless it has an exponent and the result is finite, not negative and
/// fits in 64 bits.
pub(super) fn parse_exponent(field: &[u8], scale: u64) -> Option<u64> {
    if !field.iter().any(|&b| b == b'e' || b == b'E') {
        return None;
    }
    let value: f64 = std::str::from_utf8(field).ok()?.parse().ok()?;
    let scaled = value * scale as f64;
    // 2^64 is the first float past u64::MAX.
    (scaled.is_finite() && (0.0..18_446_744_073_709_551_616.0).contains(&scaled))
        .then(|| scaled.round() as u64)
}

/// A size in bytes: a whole number, plain or in exponent form.
pub(super) fn parse_size(field: &[u8]) -> Option<u64> {
    parse_u64(field).or_else(|| parse_exponent(field, 1))
}

/// What [`parse_size`] accepts, for error messages.
pub(super) const SIZE_EXPECTED: &str = "a size in bytes (a whole number such as 4096 or 4.096e3)";

/// A field as text for an error message, shortened when long.
pub(super) fn show(field: &[u8]) -> String {
    const MAX: usize = 40;
    let text = String::from_utf8_lossy(&field[..field.len().min(MAX)]);
    if field.len() > MAX {
        format!("\"{text}...\"")
    } else {
        format!("{text:?}")
    }
}

/// The tier of a client by its name: 1 (premium) for a name starting with
/// `premium-`, as the workshop's AdaptiveRateLimiter decides, else 0.
#[inline]
pub(super) fn client_tier(name: &[u8]) -> u8 {
    name.starts_with(b"premium-") as u8
}

/// The tier a tier column gives: 1 (premium) for `premium` (in any case)
/// or `1`, else 0.
pub(super) fn tier(field: &[u8]) -> u8 {
    let field = field.trim_ascii();
    (field.eq_ignore_ascii_case(b"premium") || field == b"1") as u8
}

/// A size in bytes, saturating at the largest size a request holds.
#[inline]
pub(super) fn clamp_size(bytes: u64) -> u32 {
    bytes.min(u32::MAX as u64) as u32
}

/// A TTL in ns as requests keep it, in whole milliseconds: a positive TTL
/// under a millisecond rounds up to one (it must still expire: 0 means
/// never), and one past u32::MAX ms (49.7 days) saturates.
#[inline]
pub(super) fn ttl_ms(ns: u64) -> u32 {
    ns.div_ceil(1_000_000).min(u32::MAX as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sub_millisecond_ttl_still_expires() {
        assert_eq!(ttl_ms(0), 0);
        assert_eq!(ttl_ms(1), 1);
        assert_eq!(ttl_ms(999_999), 1);
        assert_eq!(ttl_ms(1_000_000), 1);
        assert_eq!(ttl_ms(1_500_000), 2);
        assert_eq!(ttl_ms(u64::MAX), u32::MAX);
    }

    #[test]
    fn integers_and_keys() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_exponent(b"1e3", 1), Some(1000));
        assert_eq!(parse_exponent(b"2.5E6", 1), Some(2_500_000));
        assert_eq!(parse_exponent(b"1.5e-3", 1_000_000_000), Some(1_500_000));
        assert_eq!(parse_exponent(b"1000", 1), None);
        assert_eq!(parse_exponent(b"-1e3", 1), None);
        assert_eq!(parse_exponent(b"1e20", 1), None);
        assert_eq!(parse_exponent(b"1e999", 1), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
        assert_eq!(
            parse_u64(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_u64(b"12a"), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(show(b"abc"), "\"abc\"");
    }

    #[test]
    fn tiers() {
        assert_eq!(client_tier(b"premium-42"), 1);
        assert_eq!(client_tier(b"premium"), 0);
        assert_eq!(client_tier(b"Premium-42"), 0);
        assert_eq!(tier(b"premium"), 1);
        assert_eq!(tier(b" PREMIUM "), 1);
        assert_eq!(tier(b"1"), 1);
        assert_eq!(
            (tier(b"0"), tier(b"standard"), tier(b"2"), tier(b"")),
            (0, 0, 0, 0)
        );
    }
}
