//! Name and format predicates: what Kubernetes, HTTP and Helm accept as a name, a host, a
//! label value, a URL or a version. One place, so that `check` (which reports) and `plan` /
//! the CLI (which rely on the answer) agree.

/// Lowercase RFC 1123 label, at most 63 characters.
pub fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// A Kubernetes DNS subdomain name (a Secret's name): dot-separated RFC 1123 labels, at most
/// 253 characters.
pub fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A lowercase fully qualified domain name: at least two RFC 1123 labels, the last (the TLD)
/// of letters and digits only, at least 2 long.
pub fn is_fqdn(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| is_dns_label(l))
        && labels.last().is_some_and(|l| {
            l.len() >= 2
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// An HTTP token (RFC 9110): what header and cookie names may be.
pub fn is_http_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// An `http://` or `https://` URL with a host and no whitespace.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty() && !host.contains(char::is_whitespace)
    }) && !s.contains(char::is_whitespace)
}

/// `MAJOR.MINOR.PATCH` with optional `-prerelease` and `+build` (what Helm accepts for a chart).
pub fn is_semver(v: &str) -> bool {
    let (core, rest) = match v.find(['-', '+']) {
        Some(i) => (&v[..i], &v[i + 1..]),
        None => (v, ""),
    };
    let nums: Vec<&str> = core.split('.').collect();
    nums.len() == 3
        && nums
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-+.".contains(&b))
        && (v.len() == core.len() || !rest.is_empty())
}

/// A single label without dots (the APIRule "short host").
pub fn is_short_host(host: &str) -> bool {
    !host.contains('.')
}

/// Is the issuer a SAP Cloud Identity Services tenant (`*.accounts.ondemand.com`,
/// `*.accounts.cloud.sap`)?
pub fn is_ias_issuer(issuer: &str) -> bool {
    let Some(rest) = issuer.strip_prefix("https://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.split(':').next().unwrap_or("");
    ["accounts.ondemand.com", "accounts.cloud.sap"]
        .iter()
        .any(|suffix| {
            host.strip_suffix(suffix)
                .and_then(|h| h.strip_suffix('.'))
                .is_some_and(|tenant| !tenant.is_empty())
        })
}

/// Is this a valid Kubernetes label value (at most 63 characters, alphanumerics with `-`,
/// `_` and `.` inside)? The empty value is refused here: a label kexpose sets means something.
pub fn is_label_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Is this a lowercase RFC 1123 label (a namespace name)?
pub fn is_rfc1123_label(value: &str) -> bool {
    is_dns_label(value)
}
