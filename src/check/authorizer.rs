//! Rules for every authorizer type (oauth2-proxy or external): the Istio CR's timeout, which
//! Kyma truncates to whole seconds, and the `pathPrefix` istiod accepts.

use super::{Ctx, HelpExt};
use crate::diag::Code;

pub(crate) fn check(ctx: &mut Ctx) {
    for (i, a) in ctx.spec.authorizers.iter().enumerate() {
        if let Some(t) = &a.timeout {
            check_timeout(ctx, i, t);
        }
        if let Some(p) = a.path_prefix.as_deref().filter(|p| !p.is_empty()) {
            check_path_prefix(ctx, i, p);
        }
    }
}

/// istiod checks each extension provider before its policy builder uses it
/// (istio.io/istio `pkg/config/validation/agent/extensionprovider.go`
/// `ValidateExtensionProviderEnvoyExtAuthzHTTP`, called from
/// `pilot/pkg/security/authz/builder/extauthz.go` `processExtensionProvider`): a non-empty
/// `pathPrefix` must pass Go's `url.Parse` and begin with `/`. A provider that fails is invalid,
/// and every CUSTOM policy naming it becomes a deny (`builder.go`: "failed to process CUSTOM
/// action for provider …, will generate deny configs", `getBadCustomDenyRules`). The Istio CR and the istiod mesh config take
/// the string as it is (conformance `istio-cases.yaml` `mesh-config-path-prefix-without-slash`).
fn check_path_prefix(ctx: &mut Ctx, i: usize, p: &str) {
    let why = if !p.starts_with('/') {
        Some("does not begin with `/`".to_string())
    } else {
        go_url_parse_error(p)
    };
    if let Some(why) = why {
        ctx.report(
            Code::AuthorizerPathPrefixInvalid,
            &format!("/authorizers/{i}/pathPrefix"),
            format!(
                "`pathPrefix` `{p}` {why}: istiod marks the extension provider invalid and every call its CUSTOM policies match is denied"
            ),
        )
        .with_help(
            "begin the prefix with `/` and write `%` only as an escape with two hex digits, \
             e.g. `/verify?original=` (kexpose's default for oauth2-proxy)",
        );
    }
}

/// Why Go's `url.Parse` refuses `s` (which begins with `/`), following `net/url`: a control
/// character anywhere; in the path (before `?`) and the fragment (after `#`) a `%` not followed
/// by two hex digits (`unescape`). The query is kept raw and not checked.
fn go_url_parse_error(s: &str) -> Option<String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Some(
            "contains a control character (`net/url: invalid control character in URL`)".into(),
        );
    }
    let (rest, frag) = s.split_once('#').unwrap_or((s, ""));
    let path = rest.split_once('?').map_or(rest, |(p, _)| p);
    let bad_escape = |part: &str| {
        let b = part.as_bytes();
        b.iter().enumerate().any(|(k, &c)| {
            c == b'%'
                && !(k + 2 < b.len()
                    && b[k + 1].is_ascii_hexdigit()
                    && b[k + 2].is_ascii_hexdigit())
        })
    };
    (bad_escape(path) || bad_escape(frag)).then(|| {
        "has a `%` that is not an escape with two hex digits (`invalid URL escape`)".into()
    })
}

fn check_timeout(ctx: &mut Ctx, i: usize, t: &str) {
    let ptr = format!("/authorizers/{i}/timeout");
    const HELP: &str = "Kyma truncates the authorizer timeout to whole seconds (`500ms` becomes \
                        `0s`); write whole seconds such as `5s` or `1m30s`";
    match parse_go_duration(t) {
        None => {
            ctx.report(
                Code::AuthorizerTimeoutWholeSeconds,
                &ptr,
                format!("authorizer timeout `{t}` is not a duration: write a number with a unit, such as `5s`"),
            )
            .with_help(HELP);
        }
        Some(ns) if ns <= 0 => {
            ctx.report(
                Code::AuthorizerTimeoutWholeSeconds,
                &ptr,
                format!("authorizer timeout `{t}` must be more than 0 seconds"),
            )
            .with_help(HELP);
        }
        Some(ns) if ns % 1_000_000_000 != 0 => {
            ctx.report(
                Code::AuthorizerTimeoutWholeSeconds,
                &ptr,
                format!(
                    "authorizer timeout `{t}` is not a whole number of seconds: Kyma makes it `{}s`",
                    ns / 1_000_000_000
                ),
            )
            .with_help(HELP);
        }
        Some(_) => {}
    }
}

/// Go's `time.ParseDuration`: the duration in nanoseconds, or `None` when Go rejects it.
pub(crate) fn parse_go_duration(s: &str) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &rest[..int_len];
        rest = &rest[int_len..];
        let mut frac_part = "";
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &r[..frac_len];
            rest = &r[frac_len..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let unit_len = rest
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(rest.len(), |(n, _)| n);
        let unit: u128 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().ok()?
        };
        let mut value = int.checked_mul(unit)?;
        if !frac_part.is_empty() {
            // Exact, where Go uses a float: only sub-nanosecond digits can differ.
            let digits = &frac_part[..frac_part.len().min(30)];
            let f: u128 = digits.parse().ok()?;
            let scale = 10u128.checked_pow(u32::try_from(digits.len()).ok()?)?;
            value = value.checked_add(f.checked_mul(unit)? / scale)?;
        }
        total = total.checked_add(value)?;
        if total > i64::MAX as u128 {
            return None;
        }
    }
    let total = i64::try_from(total).ok()?;
    Some(if neg { -total } else { total })
}

#[cfg(test)]
mod path_prefix_tests {
    use super::go_url_parse_error;

    #[test]
    fn follows_go_url_parse() {
        // accepted by Go's url.Parse (the query is kept raw)
        for ok in ["/verify?original=", "/a%20b", "/x?y=%zz", "/a b", "/"] {
            assert_eq!(go_url_parse_error(ok), None, "{ok}");
        }
        for bad in ["/a%zz", "/a%2", "/a%", "/x#%g1", "/a\tb", "/a\u{7f}"] {
            assert!(go_url_parse_error(bad).is_some(), "{bad}");
        }
    }
}
