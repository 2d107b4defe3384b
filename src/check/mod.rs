//! Check: the spec's shape (typed deserialisation; the JSON Schema explains a failure), then
//! typed rules grouped by the domain whose behaviour they model. Every finding is collected; nothing stops at the first error.
//!
//! | module | models |
//! |---|---|
//! | [`schema`] | the spec format itself |
//! | `refs` | names, references and cross-object rules (what the spec means) |
//! | `apirule` | the APIRule CRD schema, its CEL rules and the controller's rule order (`segment_trie`) |
//! | `apirule_fidelity` | controller checks across rules, and hazards of accepted rule sets |
//! | `authorizer` | what applies to every authorizer type (the Istio CR's timeout) |
//! | `oauth2_proxy` | oauth2-proxy 7.15.3 start-up and per-request checks, chart 10.7.0 |
//! | `oauth2_proxy_start` | oauth2-proxy's remaining exit-at-start conditions (`go_syntax`) |
//! | `security` | settings that work but leave something open |
//! | `starter` | placeholders of `kexpose init`'s starter spec left in place |

mod apirule;
mod apirule_fidelity;
mod authorizer;
mod go_syntax;
pub mod mesh;
mod oauth2_proxy;
pub use oauth2_proxy::flags as oauth2_proxy_flags;
mod oauth2_proxy_start;
mod refs;
pub mod schema;
mod security;
mod segment_trie;
mod shadow;
mod starter;

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use crate::spec::{IdentityProvider, Spec};
use crate::yaml::{self, PointerTable};

/// The result of checking one source.
#[derive(Debug)]
pub struct Checked {
    /// The typed spec, when its shape is valid (rules may still have found errors).
    pub spec: Option<Spec>,
    /// Where each node came from.
    pub pointers: PointerTable,
    /// Every finding, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// The spec schema's findings on a document, sorted; `None` when it finds nothing.
fn schema_findings(src: &SourceFile, doc: &yaml::Document) -> Option<Vec<Diagnostic>> {
    let mut diagnostics = schema::check(src, doc);
    sort(&mut diagnostics);
    (!diagnostics.is_empty()).then_some(diagnostics)
}

/// Load and check a spec.
pub fn check(src: &SourceFile) -> Checked {
    let doc = match yaml::parse(src, true) {
        Ok(doc) => doc,
        Err(diagnostics) => {
            return Checked {
                spec: None,
                pointers: PointerTable::default(),
                diagnostics,
            };
        }
    };
    // The spec schema is generated from the types that serde fills, so the typed
    // deserialisation enforces all of it but one rule: the schema allows `null` nowhere, while
    // serde reads a `null` as an absent optional field. A document without a `null` that
    // deserialises is therefore valid under the schema (`schema::tests` proves both halves),
    // and the schema, whose compilation costs more than checking a small spec, only runs to
    // explain a failure.
    if schema::has_null(&doc.value)
        && let Some(diagnostics) = schema_findings(src, &doc)
    {
        return Checked {
            spec: None,
            pointers: doc.pointers,
            diagnostics,
        };
    }
    // Deserialise from the owned tree: strings move into the spec and the tree is freed as it
    // is read, instead of both being held in full (twice the peak memory).
    let yaml::Document { value, pointers } = doc;
    let spec: Spec = match serde_path_to_error::deserialize(value) {
        Ok(spec) => spec,
        Err(e) => {
            // The tree was consumed; a failure is rare, so read the source again to explain it.
            let doc = match yaml::parse(src, false) {
                Ok(reread) => yaml::Document {
                    value: reread.value,
                    pointers,
                },
                Err(diagnostics) => {
                    return Checked {
                        spec: None,
                        pointers,
                        diagnostics,
                    };
                }
            };
            if let Some(diagnostics) = schema_findings(src, &doc) {
                return Checked {
                    spec: None,
                    pointers: doc.pointers,
                    diagnostics,
                };
            }
            // What JSON Schema accepts but the types do not: a float with an integral value
            // (`8000.0`, `1e3`) where an integer belongs.
            let ptr: String = e
                .path()
                .iter()
                .map(|seg| match seg {
                    serde_path_to_error::Segment::Seq { index } => format!("/{index}"),
                    serde_path_to_error::Segment::Map { key } => {
                        format!("/{}", crate::yaml::escape_token(key))
                    }
                    _ => String::new(),
                })
                .collect();
            let span = doc.pointers.value_span(&ptr);
            let shown = span.map(|s| src.slice(s).to_string()).unwrap_or_default();
            let is_float = doc
                .value
                .pointer(&ptr)
                .is_some_and(serde_json::Value::is_f64);
            let d = if is_float {
                Diagnostic::new(
                    Code::SchemaType,
                    span,
                    format!("expected an integer, found `{shown}` in `{}`", dotted(&ptr)),
                )
                .help("write a whole number without a decimal point or exponent")
            } else {
                Diagnostic::new(
                    Code::SchemaType,
                    span,
                    format!("invalid value in `{}`: {}", dotted(&ptr), e.inner()),
                )
            };
            return Checked {
                spec: None,
                pointers: doc.pointers,
                diagnostics: vec![d],
            };
        }
    };
    let idps = crate::spec::resolve::IdpIndex::new(&spec);
    let mut ctx = Ctx {
        src,
        spec: &spec,
        idps: &idps,
        ptrs: &pointers,
        diags: Vec::new(),
        origins: Vec::new(),
    };
    refs::check(&mut ctx);
    apirule::check(&mut ctx);
    apirule_fidelity::check(&mut ctx);
    authorizer::check(&mut ctx);
    oauth2_proxy::check(&mut ctx);
    security::check(&mut ctx);
    starter::check(&mut ctx);
    shadow::check(&mut ctx);
    mesh::check(&mut ctx);
    let mut diagnostics = without_knock_on(ctx.diags, &ctx.origins);
    sort(&mut diagnostics);
    Checked {
        spec: Some(spec),
        pointers,
        diagnostics,
    }
}

/// Findings computed from what references resolve to. Where a reference of the same rule or
/// entry does not resolve, such a finding follows from that typo, not from the spec's intent
/// (an unknown authorizer has no identity provider to fall back on, so "no identity provider"
/// would be reported first and send the user the wrong way): only the root cause is reported.
const DERIVED_FROM_REFERENCES: &[Code] = &[
    Code::RestrictionsWithoutIdentityProvider,
    Code::RefAmbiguousIdentityProvider,
    Code::IdentityProviderJwksRequired,
    Code::Oauth2ProxyAudienceMismatch,
];

/// Unknown references: the root causes.
const UNRESOLVED: &[Code] = &[Code::RefUnknownAuthorizer, Code::RefUnknownIdentityProvider];

/// Drop the findings that follow from an unresolved reference: a [`DERIVED_FROM_REFERENCES`]
/// finding inside the owner of an unknown reference (the object holding the reference list or
/// field: `.../extAuth` for `.../extAuth/authorizers/0`, `/authorizers/2` for
/// `/authorizers/2/identityProvider`).
fn without_knock_on(diags: Vec<Diagnostic>, origins: &[(usize, String)]) -> Vec<Diagnostic> {
    let owners: Vec<&str> = origins
        .iter()
        .filter(|(i, _)| UNRESOLVED.contains(&diags[*i].code))
        .map(|(_, ptr)| reference_owner(ptr))
        .collect();
    if owners.is_empty() {
        return diags;
    }
    let knock_on: std::collections::HashSet<usize> = origins
        .iter()
        .filter(|(i, ptr)| {
            DERIVED_FROM_REFERENCES.contains(&diags[*i].code)
                && owners
                    .iter()
                    .any(|o| ptr == o || ptr.starts_with(&format!("{o}/")))
        })
        .map(|(i, _)| *i)
        .collect();
    diags
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !knock_on.contains(i))
        .map(|(_, d)| d)
        .collect()
}

/// The object that holds a reference: the pointer without its last segment (and without the
/// list index when the reference is a list item).
fn reference_owner(ptr: &str) -> &str {
    let parent = ptr.rsplit_once('/').map_or("", |(p, _)| p);
    let last = ptr.rsplit('/').next().unwrap_or("");
    if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        parent.rsplit_once('/').map_or("", |(p, _)| p)
    } else {
        parent
    }
}

fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| (d.span.map_or(0, |s| s.start), d.code));
}

/// What every rule module works with: the typed spec, the pointer table, the findings.
pub(crate) struct Ctx<'a> {
    pub src: &'a SourceFile,
    pub spec: &'a Spec,
    /// The spec's identity providers by name.
    pub idps: &'a crate::spec::resolve::IdpIndex<'a>,
    pub ptrs: &'a PointerTable,
    pub diags: Vec<Diagnostic>,
    /// (index in `diags`, JSON pointer) of each finding reported through `report*`.
    pub origins: Vec<(usize, String)>,
}

impl Ctx<'_> {
    /// Span of the value at a JSON pointer (or its nearest located ancestor).
    pub fn at(&self, ptr: &str) -> Option<Span> {
        self.ptrs.value_span(ptr)
    }

    /// Span of the key at a JSON pointer (for "this field" findings).
    pub fn key(&self, ptr: &str) -> Option<Span> {
        self.ptrs.key_span(ptr)
    }

    /// Record a finding on the value at `ptr`.
    pub fn report(&mut self, code: Code, ptr: &str, message: impl Into<String>) -> &mut Diagnostic {
        let span = self.at(ptr);
        self.push(code, span, message, ptr)
    }

    /// Record a finding on the key at `ptr`.
    pub fn report_key(
        &mut self,
        code: Code,
        ptr: &str,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let span = self.key(ptr);
        self.push(code, span, message, ptr)
    }

    /// Record a finding on part of a one-line string value: `(offset, len)` in the string.
    pub fn report_at_offset(
        &mut self,
        code: Code,
        ptr: &str,
        (offset, len): (usize, usize),
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        let span = self.at(ptr).map(|s| {
            let text = self.src.slice(s);
            let quote = usize::from(text.starts_with(['"', '\'']));
            let start = s.start + quote + offset;
            if start + len <= s.end && !text.contains('\n') {
                self.src.span(start, start + len)
            } else {
                s
            }
        });
        self.push(code, span, message, ptr)
    }

    fn push(
        &mut self,
        code: Code,
        span: Option<Span>,
        message: impl Into<String>,
        ptr: &str,
    ) -> &mut Diagnostic {
        self.origins.push((self.diags.len(), ptr.to_string()));
        self.diags.push(Diagnostic::new(code, span, message));
        self.diags.last_mut().expect("just pushed")
    }

    /// The identity provider of that name.
    pub fn idp(&self, name: &str) -> Option<&IdentityProvider> {
        self.idps.get(name).map(|(_, p)| p)
    }
}

/// Set a help text on a finding (chainable on `&mut Diagnostic`).
pub(crate) trait HelpExt {
    fn with_help(&mut self, help: impl Into<String>) -> &mut Self;
}

impl HelpExt for Diagnostic {
    fn with_help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(crate::diag::no_empty_code(help.into()));
        self
    }
}

/// `/workloads/0/rules/1/path` → `workloads[0].rules[1].path`, as users read it.
pub fn dotted(ptr: &str) -> String {
    let mut out = String::new();
    for seg in ptr.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{seg}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&seg);
        }
    }
    out
}

/// Levenshtein distance, for "did you mean" hints.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
