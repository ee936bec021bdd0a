//! Human byte sizes for limits given on the command line (`512MiB`, `2GB`, `1000`).

/// Parses a byte size: a whole number with an optional unit
/// (`B`, `KB`/`MB`/`GB` in powers of 1000, `KiB`/`MiB`/`GiB` in powers of 1024).
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "`{text}` is not a size: write a whole number with an optional unit, e.g. 512MiB or 2GB"
        ));
    }
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is too large a number"))?;
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        other => {
            return Err(format!(
                "`{other}` is not a size unit: use B, KB, MB, GB, KiB, MiB or GiB"
            ))
        }
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Formats a byte count for messages (`1.5 MiB`).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_byte_size("1000").unwrap(), 1000);
        assert_eq!(parse_byte_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_byte_size("2 GB").unwrap(), 2_000_000_000);
        assert_eq!(parse_byte_size("1kib").unwrap(), 1024);
    }

    #[test]
    fn rejects_nonsense() {
        assert!(parse_byte_size("MiB").is_err());
        assert!(parse_byte_size("12 parsecs").is_err());
        assert!(parse_byte_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(format_bytes(10), "10 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(3 << 30), "3.0 GiB");
    }
}
