//! Platform and team specs: one platform spec (`kind: Platform`: cluster, identity providers,
//! authorizers, and a grant per team) and team specs (`kind: Team`: workloads) that reference
//! it by path, optionally pinned by digest. See `docs/teams.md`.
//!
//! Both compile through the ordinary pipeline: each is rewritten into an `Exposure` source
//! whose bytes at the user's own lines are unchanged (the `kind` and `platform`/`teams` entries
//! are blanked to spaces; the platform's sections are appended after the team's last line), so
//! every diagnostic of the ordinary checks keeps the team file's `file:line:col`.
//!
//! - A team renders its APIRules and Namespaces only; the Istio registration and Helm values
//!   are the platform's ([`strip_for_team`]).
//! - A platform renders the Istio registration, Helm values and the authorizers' Namespaces.
//! - The grant is enforced at the team spec's own locations ([`grant`]).

pub mod grant;

use crate::diag::{Code, Diagnostic};
use crate::source::{SourceFile, Span};
use crate::spec::Spec;
use crate::yaml::{self, Document};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `kind: Platform`
pub const PLATFORM_KIND: &str = "Platform";
/// `kind: Team`
pub const TEAM_KIND: &str = "Team";

/// The top-level fields of a platform spec.
const PLATFORM_FIELDS: [&str; 7] = [
    "apiVersion",
    "kind",
    "metadata",
    "cluster",
    "identityProviders",
    "authorizers",
    "teams",
];
/// The top-level fields of a team spec.
const TEAM_FIELDS: [&str; 5] = ["apiVersion", "kind", "metadata", "platform", "workloads"];

/// What one team may use.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Grant {
    /// The team's name: a team spec's `metadata.name`.
    pub name: String,
    /// Namespaces the team's APIRules and services may live in (exact names).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Hosts the team may expose: an FQDN (exactly that host), `*.FQDN` (any host below it,
    /// wildcard hosts included, never FQDN itself), or a short host (completed with
    /// `cluster.domain`).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Authorizers the team's `extAuth` rules may use.
    #[serde(default)]
    pub authorizers: Vec<String>,
    /// Identity providers the team's `jwt` rules and `extAuth` restrictions may name.
    #[serde(default)]
    pub identity_providers: Vec<String>,
    /// Gateways (`namespace/name`) the team may use, as `gateway` or `externalGateway`.
    /// Default: only the cluster's gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateways: Option<Vec<String>>,
}

/// A team spec's reference to its platform spec.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlatformRef {
    /// Path of the platform spec, relative to the team spec (a sibling checkout, a git
    /// submodule, or a vendored copy).
    pub path: String,
    /// `sha256:<hex>` of the platform file's bytes: the team renders only against exactly
    /// that platform (a vendored copy cannot drift unnoticed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The JSON Schema of platform and team specs (draft 2020-12), as committed in
/// `schemas/kexpose-teams.schema.json`: one of a `Platform` or a `Team` document, by `kind`.
/// (`schemas/kexpose.schema.json` stays the `Exposure` schema: kexpose validates the shape
/// of every spec against it, team and platform specs after their rewrite.)
pub fn json_schema() -> Value {
    let platform = serde_json::to_value(schemars::schema_for!(PlatformDoc)).expect("JSON");
    let team = serde_json::to_value(schemars::schema_for!(TeamDoc)).expect("JSON");
    let mut defs = serde_json::Map::new();
    for doc in [&platform, &team] {
        if let Some(d) = doc.get("$defs").and_then(Value::as_object) {
            for (k, v) in d {
                defs.insert(k.clone(), v.clone());
            }
        }
    }
    let strip = |mut v: Value| {
        if let Some(o) = v.as_object_mut() {
            o.remove("$defs");
            o.remove("$schema");
        }
        v
    };
    defs.insert("Platform".into(), strip(platform));
    defs.insert("Team".into(), strip(team));
    let mut schema = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kexpose.dev/schemas/kexpose-teams.schema.json",
        "title": "kexpose platform and team specs v1alpha1",
        "oneOf": [{"$ref": "#/$defs/Platform"}, {"$ref": "#/$defs/Team"}],
        "$defs": defs,
    });
    crate::spec::strip_null(&mut schema);
    schema
}

/// The teams schema as committed: pretty JSON with a trailing newline.
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("a schema is JSON");
    s.push('\n');
    s
}

/// `Platform`
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
enum PlatformKind {
    /// A platform spec.
    Platform,
}

/// `Team`
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
enum TeamKind {
    /// A team spec.
    Team,
}

/// A platform spec: cluster settings, identity providers, authorizers, and a grant per team.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "kexpose platform spec v1alpha1")]
struct PlatformDoc {
    /// Always `kexpose.dev/v1alpha1`.
    api_version: crate::spec::ApiVersion,
    /// Always `Platform`.
    kind: PlatformKind,
    /// Optional metadata; `name` is used in labels of emitted objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    metadata: Option<crate::spec::Metadata>,
    /// Cluster-wide settings (the teams' too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster: Option<crate::spec::Cluster>,
    /// OIDC issuers, offered to teams by name.
    #[serde(default)]
    identity_providers: Vec<crate::spec::IdentityProvider>,
    /// The cluster's whole authorizer list (the Istio CR registration), offered to teams by name.
    #[serde(default)]
    authorizers: Vec<crate::spec::Authorizer>,
    /// What each team may use.
    #[serde(default)]
    teams: Vec<Grant>,
}

/// A team spec: workloads, checked and rendered against a platform spec.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "kexpose team spec v1alpha1")]
struct TeamDoc {
    /// Always `kexpose.dev/v1alpha1`.
    api_version: crate::spec::ApiVersion,
    /// Always `Team`.
    kind: TeamKind,
    /// `name`: the team's name in the platform spec's `teams` (required).
    metadata: crate::spec::Metadata,
    /// The platform spec.
    platform: PlatformRef,
    /// Workloads to expose; each becomes one APIRule.
    #[serde(default)]
    workloads: Vec<crate::spec::Workload>,
}

/// A spec's kind, read cheaply from its top level.
pub fn kind_of(src: &SourceFile) -> Option<String> {
    // Cheap: a block-style top-level `kind:` line.
    src.text.lines().find_map(|l| {
        l.strip_prefix("kind:").map(|v| {
            v.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\''])
                .to_string()
        })
    })
}

/// `sha256:<hex>` of bytes.
pub fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut s = String::from("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A spec rewritten into an `Exposure` source, and what the rewrite needs later.
#[derive(Debug)]
pub struct Rewritten {
    /// The Exposure source: the user's bytes unchanged at their offsets.
    pub source: SourceFile,
    /// Byte length of the user's text; spans past it are in appended platform sections.
    pub own_len: usize,
}

/// Blank the given top-level entries (key and value) to spaces, keep newlines.
fn blank(text: &str, doc: &Document, keys: &[&str]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for key in keys {
        let ptr = format!("/{key}");
        let Some(loc) = doc.pointers.get(&ptr) else {
            continue;
        };
        let start = loc.key.map_or(loc.value.start, |k| k.start);
        let end = loc.value.end;
        for b in &mut bytes[start..end] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    // Only ASCII spaces replaced whole ranges of bytes: still UTF-8, unless a range split a
    // character, which spans from the parser never do.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The result of compiling a team or platform spec into an Exposure source.
pub enum Prepared {
    /// An Exposure source to check; for a team, the grant and the platform come along.
    Ready(Box<ReadyTeam>),
    /// Findings that stop the compilation (in the user's file).
    Failed(Vec<Diagnostic>),
}

/// A prepared spec.
pub struct ReadyTeam {
    /// The Exposure source.
    pub rewritten: Rewritten,
    /// For a team: its grant and the platform spec (checked), to enforce after the checks.
    pub team: Option<(Grant, Spec)>,
    /// Findings so far (reported with the checks').
    pub diagnostics: Vec<Diagnostic>,
}

fn top_level_fields(
    src: &SourceFile,
    doc: &Document,
    allowed: &[&str],
    kind: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(map) = doc.value.as_object() else {
        return vec![Diagnostic::new(
            Code::TeamField,
            doc.pointers.value_span(""),
            format!("a {kind} spec is a mapping"),
        )];
    };
    for key in map.keys() {
        if !allowed.contains(&key.as_str()) {
            let span = doc
                .pointers
                .key_span(&format!("/{}", yaml::escape_token(key)));
            out.push(
                Diagnostic::new(
                    Code::TeamField,
                    span,
                    format!("`{key}` is not a field of a {kind} spec"),
                )
                .help(format!("a {kind} spec holds: {}", allowed.join(", "))),
            );
        }
    }
    // The rewrite blanks lines: the top level must be block style.
    if let Some(loc) = doc.pointers.get("/kind")
        && loc.key.is_some_and(|k| k.col != 1)
    {
        let _ = src;
        out.push(Diagnostic::new(
            Code::TeamField,
            loc.key,
            format!(
                "write the {kind} spec's top level in block style (`kind:` at the start of a line)"
            ),
        ));
    }
    out
}

/// Rewrite a platform spec into an Exposure (its `teams` checked separately).
pub fn prepare_platform(
    src: &SourceFile,
) -> Result<(Rewritten, Vec<Grant>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let doc = yaml::parse(src, true)?;
    let mut diags = top_level_fields(src, &doc, &PLATFORM_FIELDS, PLATFORM_KIND);
    let grants: Vec<Grant> = match doc.value.get("teams") {
        None => Vec::new(),
        Some(v) => match serde_json::from_value(v.clone()) {
            Ok(g) => g,
            Err(e) => {
                diags.push(
                    Diagnostic::new(
                        Code::TeamField,
                        doc.pointers.key_span("/teams"),
                        format!("`teams`: {e}"),
                    )
                    .help("each team: name, namespaces, hosts, authorizers, identityProviders, gateways"),
                );
                Vec::new()
            }
        },
    };
    if diags.iter().any(|d| d.message.starts_with("write the")) {
        return Err(diags);
    }
    let mut drop: Vec<&str> = vec!["kind", "teams"];
    drop.extend(unknown_keys(&doc, &PLATFORM_FIELDS));
    let mut text = blank(&src.text, &doc, &drop);
    let own_len = text.len();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("kind: Exposure\n");
    let rewritten = Rewritten {
        source: SourceFile::new(src.name.clone(), text),
        own_len,
    };
    diags.extend(grant::check_grants(&doc, &grants));
    Ok((rewritten, grants, diags))
}

/// The platform a team spec references: its path, read and digest-checked.
fn load_platform(
    team_src: &SourceFile,
    doc: &Document,
) -> Result<(PathBuf, SourceFile), Vec<Diagnostic>> {
    let at = |p: &str| doc.pointers.value_span(p);
    let Some(v) = doc.value.get("platform") else {
        return Err(vec![
            Diagnostic::new(
                Code::TeamPlatformUnreadable,
                doc.pointers.key_span("/kind"),
                "a team spec without `platform`".to_string(),
            )
            .help("add `platform: {path: ../platform/kexpose-platform.yaml}`"),
        ]);
    };
    let r: PlatformRef = serde_json::from_value(v.clone()).map_err(|e| {
        vec![
            Diagnostic::new(
                Code::TeamField,
                doc.pointers.key_span("/platform"),
                format!("`platform`: {e}"),
            )
            .help("`platform: {path: PATH, digest: sha256:HEX}` (digest optional)"),
        ]
    })?;
    let base = Path::new(&team_src.name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = base.join(&r.path);
    let bytes = std::fs::read(&path).map_err(|e| {
        vec![Diagnostic::new(
            Code::TeamPlatformUnreadable,
            at("/platform/path"),
            format!("cannot read the platform spec {}: {e}", path.display()),
        )
        .help("the path is relative to this team spec; check out the platform repository there, or vendor a pinned copy")]
    })?;
    if let Some(want) = &r.digest {
        let got = digest(&bytes);
        if &got != want {
            return Err(vec![
                Diagnostic::new(
                    Code::TeamPlatformDigest,
                    at("/platform/digest"),
                    format!(
                        "the platform spec {} has digest {got}, not the pinned one",
                        path.display()
                    ),
                )
                .help("review what changed in the platform spec, then pin the digest printed here"),
            ]);
        }
    }
    let name = path.display().to_string();
    let src = yaml::source_from_bytes(&name, bytes).map_err(|(_, d)| vec![*d])?;
    Ok((path, src))
}

/// Prepare a team spec: read its platform, check the platform, rewrite the team into an
/// Exposure with the platform's cluster, identity providers and authorizers appended.
pub fn prepare_team(src: &SourceFile) -> Prepared {
    let doc = match yaml::parse(src, true) {
        Ok(d) => d,
        Err(d) => return Prepared::Failed(d),
    };
    let fields = top_level_fields(src, &doc, &TEAM_FIELDS, TEAM_KIND);
    if fields.iter().any(|d| d.message.starts_with("write the")) || !doc.value.is_object() {
        return Prepared::Failed(fields);
    }
    let (platform_path, platform_src) = match load_platform(src, &doc) {
        Ok(p) => p,
        Err(d) => return Prepared::Failed(d),
    };
    let platform_at = doc.pointers.value_span("/platform/path");
    let platform_failed = |why: String| {
        Prepared::Failed(vec![
            Diagnostic::new(Code::TeamPlatformInvalid, platform_at, why).help(format!(
                "run `kexpose validate {}`",
                platform_path.display()
            )),
        ])
    };
    if kind_of(&platform_src).as_deref() != Some(PLATFORM_KIND) {
        return platform_failed(format!(
            "{} is not a platform spec (`kind: Platform`)",
            platform_path.display()
        ));
    }
    let (platform_rw, grants, grant_diags) = match prepare_platform(&platform_src) {
        Ok(p) => p,
        Err(_) => {
            return platform_failed(format!(
                "the platform spec {} has errors",
                platform_path.display()
            ));
        }
    };
    let checked = crate::check::check(&platform_rw.source);
    let platform_spec = match checked.spec {
        Some(s)
            if !checked.diagnostics.iter().any(Diagnostic::is_error)
                && !grant_diags.iter().any(Diagnostic::is_error) =>
        {
            s
        }
        _ => {
            return platform_failed(format!(
                "the platform spec {} has errors",
                platform_path.display()
            ));
        }
    };
    let team_name = doc.value["metadata"]["name"].as_str();
    let Some(grant) = team_name.and_then(|n| grants.iter().find(|g| g.name == n)) else {
        let names: Vec<&str> = grants.iter().map(|g| g.name.as_str()).collect();
        return Prepared::Failed(vec![
            Diagnostic::new(
                Code::TeamUnknown,
                doc.pointers
                    .value_span("/metadata/name")
                    .or(doc.pointers.key_span("/kind")),
                match team_name {
                    Some(n) => format!(
                        "team `{n}` has no grant in the platform spec {}",
                        platform_path.display()
                    ),
                    None => {
                        "a team spec without `metadata.name` (the team's name in the platform spec)"
                            .to_string()
                    }
                },
            )
            .help(format!("the platform grants: {}", names.join(", "))),
        ]);
    };
    // The rewrite: blank `kind` and `platform`, append the platform's sections as JSON (valid
    // YAML flow) after the team's own text.
    let mut drop: Vec<&str> = vec!["kind", "platform"];
    drop.extend(unknown_keys(&doc, &TEAM_FIELDS));
    let mut text = blank(&src.text, &doc, &drop);
    let own_len = text.len();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("kind: Exposure\n");
    let json = |v: &dyn erased::Json| v.json();
    if let Some(c) = &platform_spec.cluster {
        text.push_str(&format!("cluster: {}\n", json(c)));
    }
    text.push_str(&format!(
        "identityProviders: {}\n",
        json(&platform_spec.identity_providers)
    ));
    text.push_str(&format!(
        "authorizers: {}\n",
        json(&platform_spec.authorizers)
    ));
    Prepared::Ready(Box::new(ReadyTeam {
        rewritten: Rewritten {
            source: SourceFile::new(src.name.clone(), text),
            own_len,
        },
        team: Some((grant.clone(), platform_spec)),
        diagnostics: fields,
    }))
}

/// The top-level keys a spec of this kind does not hold (reported, then blanked).
fn unknown_keys<'a>(doc: &'a Document, allowed: &[&str]) -> Vec<&'a str> {
    doc.value
        .as_object()
        .map(|m| {
            m.keys()
                .map(String::as_str)
                .filter(|k| !allowed.contains(k))
                .collect()
        })
        .unwrap_or_default()
}

/// Serialising any spec part as one-line JSON.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("spec types are JSON")
        }
    }
}

/// Findings in appended platform sections belong to the platform (validated on its own):
/// keep only those in the team's own text.
pub fn own_findings(diags: Vec<Diagnostic>, own_len: usize) -> Vec<Diagnostic> {
    diags
        .into_iter()
        .filter(|d| d.span.is_none_or(|s: Span| s.start < own_len))
        .collect()
}

/// What a team renders: its APIRules and the Namespaces of its workloads; never the Istio
/// registration or Helm values (the platform's).
pub fn strip_for_team(plan: &mut crate::plan::Plan, spec: &Spec) {
    plan.authorizers.clear();
    plan.releases.clear();
    let manage = spec
        .cluster
        .as_ref()
        .and_then(|c| c.manage_namespaces)
        .unwrap_or(true);
    let mut namespaces: Vec<String> = if manage {
        spec.workloads.iter().map(|w| w.namespace.clone()).collect()
    } else {
        Vec::new()
    };
    namespaces.sort();
    namespaces.dedup();
    plan.namespaces = namespaces;
}

/// What a platform renders: no APIRules (it has no workloads).
pub fn value_kind(v: &Value) -> Option<&str> {
    v.get("kind").and_then(Value::as_str)
}

/// One team spec's findings in a platform-wide validation.
#[derive(Debug)]
pub struct TeamReport {
    /// The team spec.
    pub source: SourceFile,
    /// Its findings: its own compilation's, and those against the other teams.
    pub diagnostics: Vec<Diagnostic>,
}

/// Validate every team spec against the platform spec together: each one on its own (grant,
/// checks), each references exactly this platform (same bytes), and across teams no host and
/// no APIRule `namespace/name` is used twice (the controller rejects the second host as
/// occupied; the second APIRule would overwrite the first).
pub fn validate_all(
    platform: &Path,
    teams: Vec<SourceFile>,
    policy: &crate::diag::Policy,
) -> Vec<TeamReport> {
    let platform_bytes = std::fs::read(platform).ok();
    let templates = crate::render::Templates::builtin();
    let mut hosts: Vec<(String, String)> = Vec::new(); // host → team spec name
    let mut rules: Vec<((String, String), String)> = Vec::new();
    let mut out = Vec::new();
    for src in teams {
        let name = src.name.clone();
        // An Exposure spec has no grant: a team repository holding one instead of a team spec
        // would escape every boundary, so the platform-wide check refuses it.
        if kind_of(&src).as_deref() != Some(TEAM_KIND) {
            let span = yaml::parse(&src, true)
                .ok()
                .and_then(|d| d.pointers.value_span("/kind"));
            out.push(TeamReport {
                diagnostics: vec![
                    Diagnostic::new(
                        Code::TeamField,
                        span,
                        format!("{name} is not a team spec (`kind: Team`): it is checked against no grant"),
                    )
                    .help("a team repository holds a team spec that references the platform spec"),
                ],
                source: src,
            });
            continue;
        }
        let label = Path::new(&name)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let c = crate::compile(src, &label, &templates, policy);
        let mut diags = c.diagnostics;
        let doc = yaml::parse(&c.source, true).ok();
        if let Some(doc) = &doc {
            // The same platform: the referenced file's bytes are the platform's.
            if let (Some(rel), Some(want)) =
                (doc.value["platform"]["path"].as_str(), &platform_bytes)
            {
                let path = Path::new(&name).parent().unwrap_or(Path::new("")).join(rel);
                let same = std::fs::read(&path).is_ok_and(|b| &b == want);
                if !same {
                    diags.push(
                        Diagnostic::new(
                            Code::TeamPlatformMismatch,
                            doc.pointers.value_span("/platform/path"),
                            format!(
                                "{} is not the platform spec {} being validated (different bytes)",
                                path.display(),
                                platform.display()
                            ),
                        )
                        .help("update the team's vendored copy (and its digest) to the platform's current spec"),
                    );
                }
            }
        }
        if let (Some(plan), Some(doc)) = (&c.plan, &doc) {
            for (i, r) in plan.apirules.iter().enumerate() {
                let at = doc.pointers.value_span(&format!("/workloads/{i}/host"));
                if let Some((_, other)) = hosts.iter().find(|(h, _)| h == &r.host) {
                    diags.push(
                        Diagnostic::new(
                            Code::HostOccupied,
                            at,
                            format!("host `{}` is exposed by team spec {other} too", r.host),
                        )
                        .help("the api-gateway controller rejects the second APIRule for an occupied host: one team owns each host"),
                    );
                } else {
                    hosts.push((r.host.clone(), name.clone()));
                }
                let key = (r.namespace.clone(), r.name.clone());
                if let Some((_, other)) = rules.iter().find(|(k, _)| k == &key) {
                    diags.push(Diagnostic::new(
                        Code::WorkloadDuplicate,
                        doc.pointers.value_span(&format!("/workloads/{i}/name")),
                        format!(
                            "APIRule `{}/{}` is also defined by team spec {other}",
                            key.0, key.1
                        ),
                    ));
                } else {
                    rules.push((key, name.clone()));
                }
            }
        }
        out.push(TeamReport {
            source: c.source,
            diagnostics: policy.apply(diags),
        });
    }
    out
}
