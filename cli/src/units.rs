//! Sizes and ages, as people write and read them: `500M`, `2G`, `1024`;
//! `30m`, `12h`, `7d`.
//!
//! `K`, `M`, `G` and `T` (and `KiB`...) are powers of 1024; `KB`, `MB`, `GB`
//! and `TB` are powers of 1000, as in GNU coreutils.

use std::time::Duration;

const KIB: u64 = 1024;

/// Reads a size in bytes: a number, then optionally a unit.
///
/// # Errors
///
/// A message saying how to write one, for clap to show.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{text}` is not a size: write bytes (`1024`) or a number with K, M, G or T (`500M`, `2G`)"
        )
    };
    let (number, unit) = split_unit(text.trim());
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => KIB,
        "m" | "mib" => KIB.pow(2),
        "g" | "gib" => KIB.pow(3),
        "t" | "tib" => KIB.pow(4),
        "kb" => 1000,
        "mb" => 1000u64.pow(2),
        "gb" => 1000u64.pow(3),
        "tb" => 1000u64.pow(4),
        _ => return Err(bad()),
    };
    let too_large = || format!("`{text}` is more bytes than this system can count");
    if let Ok(whole) = number.parse::<u64>() {
        return whole.checked_mul(scale).ok_or_else(too_large);
    }
    let value = parse_decimal(number).ok_or_else(bad)?;
    let bytes = (value * scale as f64).round();
    if bytes >= u64::MAX as f64 {
        return Err(too_large());
    }
    Ok(bytes as u64)
}

/// Reads an age: a number and a unit, `s`, `m`, `h`, `d` or `w`.
///
/// # Errors
///
/// A message saying how to write one, for clap to show.
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let (number, unit) = split_unit(text.trim());
    let seconds: u64 = match unit.to_ascii_lowercase().as_str() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "" if !number.is_empty() => {
            return Err(format!(
                "`{text}` has no unit: write `{number}s`, `{number}m`, `{number}h` or `{number}d`"
            ));
        }
        _ => {
            return Err(format!(
                "`{text}` is not an age: write a number and s, m, h, d or w (`30m`, `12h`, `7d`)"
            ));
        }
    };
    let value = parse_decimal(number).ok_or_else(|| {
        format!("`{text}` is not an age: write a number and s, m, h, d or w (`30m`, `12h`, `7d`)")
    })?;
    Duration::try_from_secs_f64(value * seconds as f64)
        .map_err(|_| format!("`{text}` is longer than this system can count"))
}

/// A size for people: `950 B`, `1.5 KiB`, `12.0 MiB`.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < KIB {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / KIB as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A size for people with its exact count: `1.5 KiB (1536 bytes)`.
pub fn format_size_and_bytes(bytes: u64) -> String {
    if bytes < KIB {
        format_size(bytes)
    } else {
        format!("{} ({bytes} bytes)", format_size(bytes))
    }
}

/// An age for people, in its largest whole unit: `45s`, `3m`, `2h`, `5d`.
pub fn format_age(age: Duration) -> String {
    let secs = age.as_secs();
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// Splits `500M` into `500` and `M`.
fn split_unit(text: &str) -> (&str, &str) {
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    (&text[..at], text[at..].trim_start())
}

/// A plain decimal number, `12` or `1.5`, not negative, without exponent.
fn parse_decimal(text: &str) -> Option<f64> {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.matches('.').count() <= 1
        && text.chars().any(|c| c.is_ascii_digit());
    plain.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_written() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("500M"), Ok(500 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("2 GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5k"), Ok(1536));
        assert_eq!(parse_size("3MB"), Ok(3_000_000));
        assert_eq!(parse_size("10b"), Ok(10));
    }

    #[test]
    fn bad_sizes_say_how_to_write_one() {
        for bad in ["", "M", "5X", "-5M", "1.2.3G", "1e9", ".", "five"] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.contains("500M"), "{bad:?}: {err}");
        }
        for huge in ["99999999T", "18446744073709551616"] {
            let err = parse_size(huge).unwrap_err();
            assert!(err.contains("more bytes"), "{huge}: {err}");
        }
    }

    #[test]
    fn ages_read_as_written() {
        assert_eq!(parse_age("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_age("12h"), Ok(Duration::from_secs(12 * 3600)));
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_age("2W"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_age("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn bad_ages_say_how_to_write_one() {
        assert!(parse_age("30").unwrap_err().contains("`30m`"));
        for bad in ["", "m", "5y", "-3d", "soon", "1..2h"] {
            let err = parse_age(bad).unwrap_err();
            assert!(err.contains("`12h`"), "{bad:?}: {err}");
        }
        assert!(parse_age("99999999999999999999w").is_err());
    }

    #[test]
    fn sizes_and_ages_print_in_their_largest_unit() {
        assert_eq!(format_size(950), "950 B");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(1 << 30), "1.0 GiB");
        assert_eq!(format_size_and_bytes(1536), "1.5 KiB (1536 bytes)");
        assert_eq!(format_size_and_bytes(10), "10 B");
        assert_eq!(format_age(Duration::from_secs(45)), "45s");
        assert_eq!(format_age(Duration::from_secs(200)), "3m");
        assert_eq!(format_age(Duration::from_secs(7300)), "2h");
        assert_eq!(format_age(Duration::from_secs(5 * 86_400 + 10)), "5d");
    }
}
