//! Rules for every authorizer type (oauth2-proxy or external): the Istio CR's timeout, which
//! Kyma truncates to whole seconds.

use super::{Ctx, HelpExt};
use crate::diag::Code;

pub(crate) fn check(ctx: &mut Ctx) {
    for (i, a) in ctx.spec.authorizers.iter().enumerate() {
        if let Some(t) = &a.timeout {
            check_timeout(ctx, i, t);
        }
    }
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
