//! How oauth2-proxy v7.15.3 (Go 1.26, pflag 1.0.10) reads flag values, reproduced exactly, so that
//! a value is refused here only when oauth2-proxy refuses it.
//!
//! Sources: Go `strconv.ParseBool`, `strconv.ParseInt` (`internal/strconv/atoi.go`, Go 1.26),
//! `encoding/csv` `Reader.Read` as pflag's `readAsCSV` uses it (`string_slice.go`, pflag
//! v1.0.10), `net/http` `isCookieDomainName` / `validCookieDomain` (`net/http/cookie.go`) and
//! oauth2-proxy `pkg/ip/parse_ip_net.go` (`ParseIPNet`).

use std::net::IpAddr;

/// Go's `strconv.ParseBool`: pflag parses boolean flags with it.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: pflag parses `int` flags with it (`0x10`, `0o17`, `017`,
/// `0b101` and `1_000` are numbers; surrounding spaces are not).
pub(crate) fn parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let un = parse_uint0(digits)?;
    let cutoff = 1u64 << 63;
    if !neg && un >= cutoff || neg && un > cutoff {
        return None;
    }
    Some(if neg {
        (un as i64).wrapping_neg()
    } else {
        un as i64
    })
}

/// Go's `ParseUint(s, 0, 64)`.
fn parse_uint0(s0: &str) -> Option<u64> {
    if s0.is_empty() {
        return None;
    }
    let b = s0.as_bytes();
    let (base, rest) = if b[0] == b'0' {
        match b.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if b.len() >= 3 => (2u64, &s0[2..]),
            Some(b'o') if b.len() >= 3 => (8, &s0[2..]),
            Some(b'x') if b.len() >= 3 => (16, &s0[2..]),
            _ => (8, &s0[1..]),
        }
    } else {
        (10, s0)
    };
    let mut n: u64 = 0;
    let mut underscores = false;
    for c in rest.bytes() {
        let d = match c {
            b'_' => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            _ if c.is_ascii_alphabetic() => c.to_ascii_lowercase() - b'a' + 10,
            _ => return None,
        };
        if u64::from(d) >= base {
            return None;
        }
        n = n.checked_mul(base)?.checked_add(u64::from(d))?;
    }
    if underscores && !underscore_ok(s0) {
        return None;
    }
    Some(n)
}

/// Go's `underscoreOK`: underscores only between digits (a base prefix counts as a digit).
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let hex = b.len() >= 2
        && b[0] == b'0'
        && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x');
    let is_hex = hex && b[1].to_ascii_lowercase() == b'x';
    if hex {
        i = 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || is_hex && matches!(c.to_ascii_lowercase(), b'a'..=b'f') {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Why Go's `encoding/csv` refuses a string-slice flag value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsvError {
    /// A `"` inside an unquoted entry (`bare " in non-quoted-field`).
    BareQuote,
    /// A quoted entry that is not closed, or continues after its closing quote
    /// (`extraneous or missing " in quoted-field`).
    Quote,
}

/// The entries pflag makes of a string-slice flag value (`readAsCSV`: one CSV record, `,` as
/// separator, no trimming; `""` is the empty list).
pub(crate) fn split_csv(s: &str) -> Result<Vec<String>, CsvError> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    let mut rest = s;
    loop {
        if let Some(q) = rest.strip_prefix('"') {
            // Quoted field: `""` is a quote; the closing quote is followed by `,` or the end.
            let mut field = String::new();
            let mut r = q;
            loop {
                match r.find('"') {
                    None => return Err(CsvError::Quote),
                    Some(i) => {
                        field.push_str(&r[..i]);
                        let after = &r[i + 1..];
                        if let Some(a) = after.strip_prefix('"') {
                            field.push('"');
                            r = a;
                        } else if let Some(a) = after.strip_prefix(',') {
                            fields.push(field);
                            rest = a;
                            break;
                        } else if after.is_empty() {
                            fields.push(field);
                            return Ok(fields);
                        } else {
                            return Err(CsvError::Quote);
                        }
                    }
                }
            }
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let field = &rest[..end];
            if field.contains('"') {
                return Err(CsvError::BareQuote);
            }
            fields.push(field.to_string());
            if end == rest.len() {
                return Ok(fields);
            }
            rest = &rest[end + 1..];
        }
    }
}

/// oauth2-proxy's `ip.ParseIPNet`: an IP address, or a CIDR whose address is the network
/// address itself (`10.0.0.1/8` is refused).
pub(crate) fn is_ip_net(s: &str) -> bool {
    match s.split_once('/') {
        None => s.parse::<IpAddr>().is_ok(),
        Some((addr, bits)) => {
            let Ok(ip) = addr.parse::<IpAddr>() else {
                return false;
            };
            // Go's dtoi: decimal digits only, at most 0xFFFFFF.
            if bits.is_empty() || bits.len() > 8 || !bits.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            let Ok(bits) = bits.parse::<u32>() else {
                return false;
            };
            match ip {
                IpAddr::V4(v4) => {
                    bits <= 32 && {
                        let v = u32::from(v4);
                        let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
                        v & !mask == 0
                    }
                }
                IpAddr::V6(v6) => {
                    bits <= 128 && {
                        let v = u128::from(v6);
                        let mask = if bits == 0 {
                            0
                        } else {
                            u128::MAX << (128 - bits)
                        };
                        v & !mask == 0
                    }
                }
            }
        }
    }
}

/// Go's `net/http` `validCookieDomain`: a `Domain` attribute Go writes into `Set-Cookie`.
/// Anything else is dropped from the cookie ("invalid Cookie.Domain ...; dropping domain
/// attribute"), which then belongs to the request host only.
pub(crate) fn is_valid_cookie_domain(v: &str) -> bool {
    is_cookie_domain_name(v) || (!v.contains(':') && v.parse::<IpAddr>().is_ok())
}

/// Go's `isCookieDomainName` (`net/http/cookie.go`).
fn is_cookie_domain_name(s: &str) -> bool {
    if s.is_empty() || s.len() > 255 {
        return false;
    }
    let s = s.strip_prefix('.').unwrap_or(s).as_bytes();
    let mut last = b'.';
    let mut ok = false;
    let mut partlen = 0;
    for &c in s {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {
                ok = true;
                partlen += 1;
            }
            b'0'..=b'9' => partlen += 1,
            b'-' => {
                if last == b'.' {
                    return false;
                }
                partlen += 1;
            }
            b'.' => {
                if last == b'.' || last == b'-' || partlen > 63 || partlen == 0 {
                    return false;
                }
                partlen = 0;
            }
            _ => return false,
        }
        last = c;
    }
    last != b'-' && partlen <= 63 && ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bools_as_go_parses_them() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "on", "tRUE", " true", "2"] {
            assert_eq!(parse_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn ints_as_go_parses_them() {
        for (s, v) in [
            ("3", 3),
            ("-3", -3),
            ("+3", 3),
            ("0x10", 16),
            ("0X1f", 31),
            ("017", 15),
            ("0o17", 15),
            ("0b101", 5),
            ("1_000", 1000),
            ("0x_1F", 31),
            ("0", 0),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ] {
            assert_eq!(parse_int(s), Some(v), "{s}");
        }
        for bad in [
            "", " 3", "3 ", "08", "0x", "1__0", "_1", "1_", "3.0", "9223372036854775808", "1e3",
        ] {
            assert_eq!(parse_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn csv_as_pflag_reads_it() {
        let ok = |s: &str| split_csv(s).unwrap();
        assert_eq!(ok(""), Vec::<String>::new());
        assert_eq!(ok("a,b"), ["a", "b"]);
        assert_eq!(ok("a,"), ["a", ""]);
        assert_eq!(ok("^/a{1,3}$"), ["^/a{1", "3}$"]);
        assert_eq!(ok("\"^/a{1,3}$\""), ["^/a{1,3}$"]);
        assert_eq!(ok("\"a\"\"b\",c"), ["a\"b", "c"]);
        assert_eq!(split_csv("a\"b"), Err(CsvError::BareQuote));
        assert_eq!(split_csv(" \"a\""), Err(CsvError::BareQuote));
        assert_eq!(split_csv("\"a"), Err(CsvError::Quote));
        assert_eq!(split_csv("\"a\"b"), Err(CsvError::Quote));
    }

    #[test]
    fn ip_nets_as_oauth2_proxy_parses_them() {
        for s in ["10.0.0.0/8", "192.168.1.1", "::1", "fd00::/8", "0.0.0.0/0", "10.0.0.1/32"] {
            assert!(is_ip_net(s), "{s}");
        }
        for s in ["10.0.0.1/8", "10.0.0.0/33", "foo", "10.0.0.0/", "10.0.0.0/+8", "::1/129"] {
            assert!(!is_ip_net(s), "{s}");
        }
    }

    #[test]
    fn cookie_domains_go_writes() {
        for s in [".example.com", "example.com", "a-b.example.com", "10.0.0.1"] {
            assert!(is_valid_cookie_domain(s), "{s}");
        }
        for s in ["example.com:443", "*", "*.example.com", "my_host.example.com", "-a.com", "a-.com", "::1", ""] {
            assert!(!is_valid_cookie_domain(s), "{s}");
        }
    }
}
