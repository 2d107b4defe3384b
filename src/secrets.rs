//! Credentials: which keys carry one, where their values sit in a YAML text, and masking them.
//!
//! kexpose never needs a credential, but a user may paste one into the spec (`clientSecret: …`,
//! `extraArgs: {redis-password: …}`) or an output directory may hold one. Every text kexpose
//! shows that could quote it — source excerpts, messages, labels, helps, diffs — goes through
//! [`Masker`], built from the text once: the values of credential keys are found lexically (so it
//! works on YAML the parser rejects), and every other occurrence of such a value is masked too.

use std::borrow::Cow;

/// What a masked value is shown as.
pub const MASK: &str = "***";

/// oauth2-proxy v7.15.3 flags whose value is a credential (see `check::oauth2_proxy::flags` for
/// the sources of the flag set): `--client-secret`, `--cookie-secret`, `--basic-auth-password`,
/// `--github-token`, `--jwt-key` (a private key), `--redis-password`,
/// `--redis-sentinel-password`, `--signature-key` (`algorithm:secret`). The `*-file` variants
/// carry a path, not a credential. Redis connection URLs may carry a password in their userinfo,
/// which [`Masker`] masks in any URL.
pub const CREDENTIAL_FLAGS: &[&str] = &[
    "client-secret",
    "cookie-secret",
    "basic-auth-password",
    "github-token",
    "jwt-key",
    "redis-password",
    "redis-sentinel-password",
    "signature-key",
];

/// Keys that mention a secret but name a Secret object or a boolean switch, not a value.
const NOT_CREDENTIALS: &[&str] = &[
    "credentialssecret",
    "existingsecret",
    "skipjwtbearertokens",
    "passaccesstoken",
    "entraidfederatedtokenauth",
    "bearertokenloginfallback",
    "setauthorizationheader",
    "passauthorizationheader",
];

/// Does a mapping key (a spec field, an oauth2-proxy flag, an unknown field) carry a credential?
/// The oauth2-proxy flags above, and any key whose name says secret, password, token or private,
/// API, access, JWT or signature key (`clientSecret`, `cookie_secret`, `apiKey`, …), except names
/// of files and Secret objects.
pub fn is_credential_key(key: &str) -> bool {
    if CREDENTIAL_FLAGS.contains(&key) {
        return true;
    }
    let norm: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if NOT_CREDENTIALS.contains(&norm.as_str())
        || norm.ends_with("file")
        || norm.ends_with("path")
        || norm.ends_with("name")
        || norm.ends_with("ref")
    {
        return false;
    }
    ["secret", "password", "passwd", "token"]
        .iter()
        .any(|w| norm.contains(w))
        || [
            "apikey",
            "privatekey",
            "accesskey",
            "jwtkey",
            "signaturekey",
        ]
        .iter()
        .any(|w| norm.ends_with(w))
}

/// The credential values of one text, and where they are.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Byte ranges of credential values in the text scanned.
    ranges: Vec<(usize, usize)>,
    /// The distinct values (at least `MIN_ECHO` bytes long), masked wherever they appear.
    values: Vec<String>,
}

/// Values shorter than this are masked where they stand, not wherever the same characters
/// appear (a secret `ab` must not blank every `ab` of the file).
const MIN_ECHO: usize = 3;

impl Masker {
    /// Scan a YAML (or JSON) text for the values of credential keys and URL passwords.
    pub fn scan(text: &str) -> Masker {
        let mut ranges = scan_key_values(text);
        ranges.extend(url_passwords(text));
        let mut values: Vec<String> = ranges
            .iter()
            .map(|&(a, b)| text[a..b].to_string())
            .filter(|v| v.len() >= MIN_ECHO)
            .collect();
        // Longest first, so that a value containing another is masked whole.
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        let mut m = Masker { ranges, values };
        m.ranges = m.all_ranges(text);
        m
    }

    /// Nothing to mask?
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.values.is_empty()
    }

    /// The values masked wherever they appear.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Every range to mask in the scanned text (own ranges and echoes), sorted, merged.
    fn all_ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let mut all = self.ranges.clone();
        all.extend(echoes(text, &self.values));
        merge(all)
    }

    /// Mask the scanned text's range `from..to` (a window of it): returns the masked window and
    /// a map from offsets in the window to offsets in the masked window.
    pub fn mask_window(&self, text: &str, from: usize, to: usize) -> MaskedText {
        let edits: Vec<(usize, usize)> = self
            .ranges
            .iter()
            .filter(|&&(a, b)| b > from && a < to)
            .map(|&(a, b)| (a.max(from) - from, b.min(to) - from))
            .collect();
        MaskedText::new(&text[from..to], edits)
    }

    /// Mask every known value in a message (a message, label or help built from the spec).
    pub fn mask_str<'a>(&self, s: &'a str) -> Cow<'a, str> {
        if self.values.is_empty() || !self.values.iter().any(|v| s.contains(v.as_str())) {
            return Cow::Borrowed(s);
        }
        let edits = merge(echoes(s, &self.values));
        Cow::Owned(MaskedText::new(s, edits).text)
    }
}

/// A text with some ranges replaced by [`MASK`], and the map of offsets into it.
#[derive(Debug, Clone)]
pub struct MaskedText {
    /// The masked text.
    pub text: String,
    /// (start, end, start in the masked text) of each replaced range.
    edits: Vec<(usize, usize, usize)>,
}

impl MaskedText {
    fn new(s: &str, edits: Vec<(usize, usize)>) -> MaskedText {
        let mut text = String::with_capacity(s.len());
        let mut at = 0;
        let mut out = Vec::with_capacity(edits.len());
        for (a, b) in edits {
            if a < at || a >= b {
                continue;
            }
            text.push_str(&s[at..a]);
            out.push((a, b, text.len()));
            text.push_str(MASK);
            at = b;
        }
        text.push_str(&s[at..]);
        MaskedText { text, edits: out }
    }

    /// Where offset `o` of the unmasked text lands in the masked one (inside a masked range: its
    /// start, or its end for the range's own end).
    pub fn map(&self, o: usize) -> usize {
        let k = self.edits.partition_point(|&(a, _, _)| a <= o);
        if k == 0 {
            return o;
        }
        let (a, b, m) = self.edits[k - 1];
        if o == a {
            m
        } else if o < b {
            m + MASK.len()
        } else {
            m + MASK.len() + (o - b)
        }
    }
}

fn merge(mut v: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    v.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Every occurrence of every value in `s`.
fn echoes(s: &str, values: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for v in values {
        out.extend(s.match_indices(v.as_str()).map(|(i, m)| (i, i + m.len())));
    }
    out
}

/// Passwords in URL userinfo (`scheme://user:password@host`).
fn url_passwords(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("://") {
        let rest = &text[i + 3..];
        let end = rest
            .find(|c: char| c == '/' || c == '@' || c.is_whitespace() || "\"',}]#?".contains(c))
            .unwrap_or(rest.len());
        if !rest[end..].starts_with('@') {
            continue;
        }
        if let Some(colon) = rest[..end].find(':') {
            let (a, b) = (i + 3 + colon + 1, i + 3 + end);
            if a < b {
                out.push((a, b));
            }
        }
    }
    out
}

/// Byte ranges of the values of credential keys: `key: value`, `"key": "value"`, in block and
/// flow style, quoted across lines, block scalars and nested blocks (every more-indented line).
fn scan_key_values(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut line_cache = LineCache::default();
    let mut i = 0;
    while i < bytes.len() {
        // A key: a run of key characters, optionally quoted, then `:` and a blank or the end.
        let c = bytes[i];
        let (quote, kstart) = match c {
            b'"' | b'\'' => (Some(c), i + 1),
            _ if is_key_byte(c) => (None, i),
            _ => {
                i += 1;
                continue;
            }
        };
        // Only at a key position: after line start/indent, `- `, `{`, `,` or `? `.
        if !at_key_position(bytes, i, &mut line_cache) {
            i = skip_token(bytes, i);
            continue;
        }
        let mut kend = kstart;
        while kend < bytes.len() && is_key_byte(bytes[kend]) {
            kend += 1;
        }
        let mut after = kend;
        if let Some(q) = quote {
            if bytes.get(kend) != Some(&q) {
                i = kend.max(i + 1);
                continue;
            }
            after += 1;
        }
        let colon_ok = bytes.get(after) == Some(&b':')
            && bytes
                .get(after + 1)
                .is_none_or(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
        if kend == kstart || !colon_ok || !is_credential_key(&text[kstart..kend]) {
            i = (after + 1).max(i + 1);
            continue;
        }
        let flow = in_flow(bytes, i);
        let key_indent = line_indent(bytes, i);
        let mut v = after + 1;
        while v < bytes.len() && matches!(bytes[v], b' ' | b'\t') {
            v += 1;
        }
        let (vs, ve) = value_range(text, v, flow, key_indent);
        if vs < ve {
            out.push((vs, ve));
        }
        i = ve.max(v).max(i + 1);
    }
    out
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'
}

fn skip_token(bytes: &[u8], mut i: usize) -> usize {
    let start = i;
    while i < bytes.len() && is_key_byte(bytes[i]) {
        i += 1;
    }
    if i == start { i + 1 } else { i }
}

/// Is byte `i` where a mapping key can start: the first byte of its line after the
/// indentation and any `- `/`? ` indicators, or after `{` or `,` (and blanks)? `cache` holds
/// (line start, key start) of the last line asked about, so a line is measured once (linear
/// in the text, also for `- - - … x`).
fn at_key_position(bytes: &[u8], i: usize, cache: &mut LineCache) -> bool {
    // Positions only grow: find line breaks between the last position asked about and `i`.
    if let Some(p) = bytes[cache.scanned..i].iter().rposition(|&b| b == b'\n') {
        cache.line = cache.scanned + p + 1;
    }
    cache.scanned = i;
    let ls = cache.line;
    if cache.measured != Some(ls) {
        let mut k = ls;
        loop {
            while k < bytes.len() && matches!(bytes[k], b' ' | b'\t') {
                k += 1;
            }
            if k + 1 < bytes.len()
                && matches!(bytes[k], b'-' | b'?')
                && matches!(bytes[k + 1], b' ' | b'\t')
            {
                k += 2;
                continue;
            }
            break;
        }
        cache.measured = Some(ls);
        cache.key_start = k;
    }
    if i == cache.key_start {
        return true;
    }
    let mut j = i;
    while j > ls && matches!(bytes[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    j > ls && matches!(bytes[j - 1], b'{' | b',')
}

/// The line [`at_key_position`] is on, measured once.
#[derive(Default)]
struct LineCache {
    /// Every byte before this has been looked at for line breaks.
    scanned: usize,
    /// Start of the line of `scanned`.
    line: usize,
    /// The line whose key start is known.
    measured: Option<usize>,
    key_start: usize,
}

/// Is byte `i` inside a flow collection opened on its line (an approximation that holds for
/// one-line flow mappings, the usual form of `extraArgs: {…}`)?
fn in_flow(bytes: &[u8], i: usize) -> bool {
    let ls = bytes[..i]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let mut depth = 0i32;
    let mut quote = None;
    for &b in &bytes[ls..i] {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'{' | b'[') => depth += 1,
            (None, b'}' | b']') => depth -= 1,
            (None, b'#') => break,
            _ => {}
        }
    }
    depth > 0
}

fn line_indent(bytes: &[u8], i: usize) -> usize {
    let ls = bytes[..i]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    bytes[ls..].iter().take_while(|&&b| b == b' ').count()
}

/// The value starting at `v` (after `key:` and blanks).
fn value_range(text: &str, v: usize, flow: bool, key_indent: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    match bytes.get(v) {
        Some(b'"') => {
            let mut j = v + 1;
            while j < bytes.len() {
                match bytes[j] {
                    b'\\' => j += 2,
                    b'"' => return (v + 1, j),
                    _ => j += 1,
                }
            }
            (v + 1, bytes.len())
        }
        Some(b'\'') => {
            let mut j = v + 1;
            while j < bytes.len() {
                if bytes[j] == b'\'' {
                    if bytes.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    return (v + 1, j);
                }
                j += 1;
            }
            (v + 1, bytes.len())
        }
        Some(b'{' | b'[') => {
            let (open, close) = if bytes[v] == b'{' {
                (b'{', b'}')
            } else {
                (b'[', b']')
            };
            let mut depth = 0;
            for (j, &b) in bytes.iter().enumerate().skip(v) {
                if b == open {
                    depth += 1;
                } else if b == close {
                    depth -= 1;
                    if depth == 0 {
                        return (v + 1, j);
                    }
                }
            }
            (v + 1, bytes.len())
        }
        Some(b'|' | b'>') | Some(b'\n') | Some(b'#') | None => {
            // A block scalar or a nested block: every following line indented deeper than the
            // key (blank lines included), from its first non-blank character.
            let line_end = text[v..].find('\n').map_or(text.len(), |p| v + p);
            let mut end = line_end;
            let mut j = line_end + 1;
            let mut start = None;
            while j < text.len() {
                let le = text[j..].find('\n').map_or(text.len(), |p| j + p);
                let line = &text[j..le];
                let ind = line.bytes().take_while(|&b| b == b' ').count();
                if line.trim().is_empty() {
                    j = le + 1;
                    continue;
                }
                let item = ind == key_indent && line[ind..].starts_with("- ");
                if ind <= key_indent && !item {
                    break;
                }
                start.get_or_insert(j + ind);
                end = le;
                j = le + 1;
            }
            match start {
                Some(s) => (s, end),
                None => (v, v),
            }
        }
        Some(_) => {
            // A plain scalar: to the end of the line, a ` #` comment, or (in flow) `,`/`}`/`]`.
            let line_end = text[v..].find('\n').map_or(text.len(), |p| v + p);
            let mut end = line_end;
            let seg = &text[v..line_end];
            if let Some(p) = seg.find(" #") {
                end = v + p;
            }
            if flow && let Some(p) = text[v..end].find([',', '}', ']']) {
                end = v + p;
            }
            (v, v + text[v..end].trim_end().len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        let m = Masker::scan(text);
        m.mask_window(text, 0, text.len()).text
    }

    #[test]
    fn credential_keys() {
        for k in [
            "clientSecret",
            "client-secret",
            "cookie_secret",
            "redis-password",
            "github-token",
            "jwt-key",
            "signature-key",
            "apiKey",
            "basic-auth-password",
            "redis-sentinel-password",
        ] {
            assert!(is_credential_key(k), "{k}");
        }
        for k in [
            "credentialsSecret",
            "client-secret-file",
            "skip-jwt-bearer-tokens",
            "pass-access-token",
            "tls-key-file",
            "cookie-name",
            "clientId",
            "allowCredentials",
            "name",
        ] {
            assert!(!is_credential_key(k), "{k}");
        }
    }

    #[test]
    fn masks_block_flow_quoted_and_echoes() {
        let t = "a:\n  clientSecret: s3cr3t-1 # c\n  extraArgs: {client-secret: \"s3-2\", cookie-name: x, redis-password: 'p''w'}\n  note: s3cr3t-1\n";
        let m = masked(t);
        assert_eq!(
            m,
            "a:\n  clientSecret: *** # c\n  extraArgs: {client-secret: \"***\", cookie-name: x, redis-password: '***'}\n  note: ***\n"
        );
    }

    #[test]
    fn masks_nested_blocks_and_block_scalars() {
        let t =
            "x:\n  jwt-key: |\n    line-one\n    line-two\n  password:\n    - a1b2c3\n  other: 1\n";
        let m = masked(t);
        assert_eq!(
            m,
            "x:\n  jwt-key: |\n    ***\n  password:\n    ***\n  other: 1\n"
        );
    }

    #[test]
    fn masks_url_passwords_and_messages() {
        let t = "u: redis://user:hunter22@redis:6379\n";
        assert_eq!(masked(t), "u: redis://user:***@redis:6379\n");
        let m = Masker::scan(t);
        assert_eq!(m.mask_str("value hunter22 here"), "value *** here");
    }

    #[test]
    fn map_moves_offsets_past_masks() {
        let t = "k: 1\npassword: abcdefgh\nz: 2\n";
        let m = Masker::scan(t);
        let w = m.mask_window(t, 0, t.len());
        let z = t.find("z:").unwrap();
        assert_eq!(&w.text[w.map(z)..w.map(z) + 2], "z:");
        let p = t.find("abcdefgh").unwrap();
        assert_eq!(w.map(p), p);
    }
}
