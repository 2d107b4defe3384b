//! `kexpose-floor SPEC -o OUT`: the floor of the kexpose benchmark (issue 15).
//!
//! What the least work on kexpose's parser costs for a spec written by `kexpose-gen`: parse it
//! from `saphyr-parser` events (the version kexpose uses) straight into typed structs — no
//! value tree, no schema, no checks, no templates, no re-read — and write, with plain string
//! formatting, the files of a `kexpose render` that depend on the workloads:
//!
//! - `apirules/<namespace>/<name>.yaml`, one per workload,
//! - `namespaces.yaml` and `kustomization.yaml`,
//! - `.kexpose-manifest`.
//!
//! It does NOT write the three files that depend only on the authorizers
//! (`helm/<authorizer>/values.yaml` ×2 and `istio/authorizers.yaml`: 3 of N + 6 files, a few
//! KiB whatever N is). `bench/ratios.sh` checks that every file it writes is byte-identical to
//! kexpose's.
//!
//! It understands the spec shapes `kexpose-gen` writes (every field the generator uses, with
//! kexpose's defaults for the others it needs: the gateway, IAS `jwksUri`s, the namespace of an
//! authorizer) and stops with an error on anything else; it validates nothing. It writes the
//! files straight into OUT (no staging directory, no manifest comparison): a floor, not a tool.

use saphyr_parser::{Event, Parser, ScalarStyle, StrInput};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Default)]
struct Spec {
    name: Option<String>,
    domain: Option<String>,
    gateway: Option<String>,
    manage_namespaces: Option<bool>,
    idps: Vec<Idp>,
    authorizers: Vec<Authorizer>,
    workloads: Vec<Workload>,
}

#[derive(Default)]
struct Idp {
    name: String,
    issuer: String,
    jwks_uri: Option<String>,
    /// `fromHeaders`: (name, prefix).
    from_headers: Vec<(String, Option<String>)>,
}

#[derive(Default)]
struct Authorizer {
    name: String,
    oauth2_proxy: bool,
    identity_provider: Option<String>,
    namespace: Option<String>,
}

#[derive(Default, Clone)]
struct Service {
    name: Option<String>,
    namespace: Option<String>,
    port: Option<u64>,
}

#[derive(Default)]
struct Workload {
    name: String,
    namespace: String,
    host: String,
    service: Option<Service>,
    timeout: Option<u64>,
    rules: Vec<Rule>,
}

#[derive(Default)]
struct Authz {
    scopes: Vec<String>,
    audiences: Vec<String>,
}

#[derive(Default)]
struct Auth {
    idps: Vec<String>,
    /// `requiredScopes` + `audiences` (one authorization) or `authorizations` (alternatives).
    authorizations: Vec<Authz>,
}

enum Access {
    None,
    NoAuth,
    Jwt(Auth),
    Ext(Vec<String>, Auth),
}

struct Rule {
    path: String,
    methods: Vec<String>,
    service: Option<Service>,
    access: Access,
    timeout: Option<u64>,
    headers: Vec<(String, String)>,
}

/// The event cursor: typed reads straight from the parser.
struct P<'a> {
    parser: Parser<'a, StrInput<'a>>,
}

type R<T> = Result<T, String>;

impl<'a> P<'a> {
    fn next(&mut self) -> R<Event<'a>> {
        match self.parser.next_event() {
            Some(Ok((ev, _))) => Ok(ev),
            Some(Err(e)) => Err(e.to_string()),
            None => Err("unexpected end of input".into()),
        }
    }

    /// A block or flow mapping: `f` reads each key's value.
    fn map(&mut self, mut f: impl FnMut(&mut Self, &str) -> R<()>) -> R<()> {
        match self.next()? {
            Event::MappingStart(..) => {}
            e => return Err(format!("expected a mapping, found {e:?}")),
        }
        loop {
            match self.next()? {
                Event::MappingEnd => return Ok(()),
                Event::Scalar(k, ..) => f(self, &k)?,
                e => return Err(format!("expected a key, found {e:?}")),
            }
        }
    }

    /// A sequence: `f` reads each item.
    fn seq(&mut self, mut f: impl FnMut(&mut Self) -> R<()>) -> R<()> {
        match self.next()? {
            Event::SequenceStart(..) => {}
            e => return Err(format!("expected a sequence, found {e:?}")),
        }
        loop {
            match self.parser.peek() {
                Some(Ok((Event::SequenceEnd, _))) => {
                    self.next()?;
                    return Ok(());
                }
                Some(Ok(_)) => f(self)?,
                Some(Err(e)) => return Err(e.to_string()),
                None => return Err("unexpected end of input".into()),
            }
        }
    }

    fn string(&mut self) -> R<String> {
        match self.next()? {
            Event::Scalar(v, ..) => Ok(v.into_owned()),
            e => Err(format!("expected a string, found {e:?}")),
        }
    }

    fn strings(&mut self) -> R<Vec<String>> {
        let mut out = Vec::new();
        self.seq(|p| {
            out.push(p.string()?);
            Ok(())
        })?;
        Ok(out)
    }

    fn uint(&mut self) -> R<u64> {
        match self.next()? {
            Event::Scalar(v, ScalarStyle::Plain, ..) => {
                v.parse().map_err(|_| format!("expected a number, found {v}"))
            }
            e => Err(format!("expected a number, found {e:?}")),
        }
    }

    fn bool(&mut self) -> R<bool> {
        match self.next()? {
            Event::Scalar(v, ScalarStyle::Plain, ..) if v == "true" => Ok(true),
            Event::Scalar(v, ScalarStyle::Plain, ..) if v == "false" => Ok(false),
            e => Err(format!("expected a boolean, found {e:?}")),
        }
    }

    /// Skip one value, whatever it is.
    fn skip(&mut self) -> R<()> {
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::MappingStart(..) | Event::SequenceStart(..) => depth += 1,
                Event::MappingEnd | Event::SequenceEnd => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

fn spec(text: &str) -> R<Spec> {
    let mut p = P {
        parser: Parser::new_from_str(text),
    };
    match p.next()? {
        Event::StreamStart => {}
        e => return Err(format!("expected the stream start, found {e:?}")),
    }
    match p.next()? {
        Event::DocumentStart(_) => {}
        e => return Err(format!("expected one document, found {e:?}")),
    }
    let mut s = Spec::default();
    p.map(|p, key| match key {
        "metadata" => p.map(|p, k| match k {
            "name" => Ok(s.name = Some(p.string()?)),
            _ => p.skip(),
        }),
        "cluster" => p.map(|p, k| match k {
            "domain" => Ok(s.domain = Some(p.string()?)),
            "gateway" => Ok(s.gateway = Some(p.string()?)),
            "manageNamespaces" => Ok(s.manage_namespaces = Some(p.bool()?)),
            _ => p.skip(),
        }),
        "identityProviders" => p.seq(|p| {
            let mut idp = Idp::default();
            p.map(|p, k| match k {
                "name" => Ok(idp.name = p.string()?),
                "issuer" => Ok(idp.issuer = p.string()?),
                "jwksUri" => Ok(idp.jwks_uri = Some(p.string()?)),
                "fromHeaders" => p.seq(|p| {
                    let (mut name, mut prefix) = (String::new(), None);
                    p.map(|p, k| match k {
                        "name" => Ok(name = p.string()?),
                        "prefix" => Ok(prefix = Some(p.string()?)),
                        _ => Err(format!("fromHeaders.{k}: not in the floor's subset")),
                    })?;
                    idp.from_headers.push((name, prefix));
                    Ok(())
                }),
                _ => Err(format!("identityProviders[].{k}: not in the floor's subset")),
            })?;
            s.idps.push(idp);
            Ok(())
        }),
        "authorizers" => p.seq(|p| {
            let mut a = Authorizer::default();
            p.map(|p, k| match k {
                "name" => Ok(a.name = p.string()?),
                "type" => Ok(a.oauth2_proxy = p.string()? == "oauth2-proxy"),
                "identityProvider" => Ok(a.identity_provider = Some(p.string()?)),
                "namespace" => Ok(a.namespace = Some(p.string()?)),
                // Helm values only, which the floor does not write.
                _ => p.skip(),
            })?;
            s.authorizers.push(a);
            Ok(())
        }),
        "workloads" => p.seq(|p| {
            s.workloads.push(workload(p)?);
            Ok(())
        }),
        "apiVersion" | "kind" => p.skip(),
        _ => Err(format!("{key}: not in the floor's subset")),
    })?;
    Ok(s)
}

fn service(p: &mut P<'_>) -> R<Service> {
    let mut sv = Service::default();
    p.map(|p, k| match k {
        "name" => Ok(sv.name = Some(p.string()?)),
        "namespace" => Ok(sv.namespace = Some(p.string()?)),
        "port" => Ok(sv.port = Some(p.uint()?)),
        _ => Err(format!("service.{k}: not in the floor's subset")),
    })?;
    Ok(sv)
}

fn workload(p: &mut P<'_>) -> R<Workload> {
    let mut w = Workload::default();
    p.map(|p, k| match k {
        "name" => Ok(w.name = p.string()?),
        "namespace" => Ok(w.namespace = p.string()?),
        "host" => Ok(w.host = p.string()?),
        "service" => Ok(w.service = Some(service(p)?)),
        "timeout" => Ok(w.timeout = Some(p.uint()?)),
        "rules" => p.seq(|p| {
            w.rules.push(rule(p)?);
            Ok(())
        }),
        _ => Err(format!("workloads[].{k}: not in the floor's subset")),
    })?;
    Ok(w)
}

fn auth_field(p: &mut P<'_>, k: &str, auth: &mut Auth, single: &mut Authz) -> R<bool> {
    match k {
        "identityProvider" => auth.idps.push(p.string()?),
        "identityProviders" => auth.idps.extend(p.strings()?),
        "requiredScopes" => single.scopes = p.strings()?,
        "audiences" => single.audiences = p.strings()?,
        "authorizations" => p.seq(|p| {
            let mut a = Authz::default();
            p.map(|p, k| match k {
                "requiredScopes" => Ok(a.scopes = p.strings()?),
                "audiences" => Ok(a.audiences = p.strings()?),
                _ => Err(format!("authorizations[].{k}: not in the floor's subset")),
            })?;
            auth.authorizations.push(a);
            Ok(())
        })?,
        _ => return Ok(false),
    }
    Ok(true)
}

fn rule(p: &mut P<'_>) -> R<Rule> {
    let mut r = Rule {
        path: String::new(),
        methods: Vec::new(),
        service: None,
        access: Access::None,
        timeout: None,
        headers: Vec::new(),
    };
    p.map(|p, k| match k {
        "path" => Ok(r.path = p.string()?),
        "methods" => Ok(r.methods = p.strings()?),
        "service" => Ok(r.service = Some(service(p)?)),
        "timeout" => Ok(r.timeout = Some(p.uint()?)),
        "noAuth" => {
            if p.bool()? {
                r.access = Access::NoAuth;
            }
            Ok(())
        }
        "jwt" | "extAuth" => {
            let (mut auth, mut single, mut authorizers) =
                (Auth::default(), Authz::default(), Vec::new());
            p.map(|p, k| {
                if k == "authorizers" {
                    authorizers = p.strings()?;
                    return Ok(());
                }
                if auth_field(p, k, &mut auth, &mut single)? {
                    Ok(())
                } else {
                    Err(format!("rules[].{k}: not in the floor's subset"))
                }
            })?;
            if !single.scopes.is_empty() || !single.audiences.is_empty() {
                auth.authorizations.insert(0, single);
            }
            r.access = if k == "jwt" {
                Access::Jwt(auth)
            } else {
                Access::Ext(authorizers, auth)
            };
            Ok(())
        }
        "request" => p.map(|p, k| match k {
            "headers" => p.map(|p, name| {
                let v = p.string()?;
                r.headers.push((name.to_string(), v));
                Ok(())
            }),
            _ => Err(format!("request.{k}: not in the floor's subset")),
        }),
        _ => Err(format!("rules[].{k}: not in the floor's subset")),
    })?;
    Ok(r)
}

/// A string as a plain scalar when YAML 1.1 and 1.2 both read it back as that string, else
/// double-quoted: the conservative rule (the generator's values need only its first branch
/// and the quoting of a leading `*` or a trailing space).
fn scalar(out: &mut String, s: &str) {
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars().all(|c| !c.is_control())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
        )
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '+');
    if plain {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn list(out: &mut String, indent: &str, items: &[String]) {
    for i in items {
        out.push_str(indent);
        out.push_str("- ");
        scalar(out, i);
        out.push('\n');
    }
}

/// `key: value` on its own line.
fn kv(out: &mut String, indent: &str, key: &str, value: &str) {
    out.push_str(indent);
    out.push_str(key);
    out.push_str(": ");
    scalar(out, value);
    out.push('\n');
}

struct Ctx<'s> {
    spec: &'s Spec,
    header: String,
    part_of: Option<&'s str>,
}

impl Ctx<'_> {
    fn idp(&self, name: &str) -> R<&Idp> {
        self.spec
            .idps
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| format!("unknown identity provider {name}"))
    }

    fn authorizer(&self, name: &str) -> R<&Authorizer> {
        self.spec
            .authorizers
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| format!("unknown authorizer {name}"))
    }

    /// One `authentications` list (each item at `indent`).
    fn authentications(&self, out: &mut String, indent: &str, idps: &[String]) -> R<()> {
        for name in idps {
            let idp = self.idp(name)?;
            kv(out, &format!("{indent}- "), "issuer", &idp.issuer);
            let inner = format!("{indent}  ");
            let jwks = match &idp.jwks_uri {
                Some(j) => j.clone(),
                None => {
                    let host = idp.issuer.trim_start_matches("https://");
                    if host.ends_with(".accounts.ondemand.com") || host.ends_with(".accounts.cloud.sap")
                    {
                        format!("{}/oauth2/certs", idp.issuer)
                    } else {
                        return Err(format!("{name}: no jwksUri"));
                    }
                }
            };
            kv(out, &inner, "jwksUri", &jwks);
            if !idp.from_headers.is_empty() {
                out.push_str(&inner);
                out.push_str("fromHeaders:\n");
                for (h, prefix) in &idp.from_headers {
                    kv(out, &format!("{inner}- "), "name", h);
                    if let Some(pre) = prefix {
                        kv(out, &format!("{inner}  "), "prefix", pre);
                    }
                }
            }
        }
        Ok(())
    }

    fn authorizations(&self, out: &mut String, indent: &str, list_of: &[Authz]) {
        for a in list_of {
            let mut first = true;
            let mut key = |out: &mut String, k: &str| {
                out.push_str(indent);
                out.push_str(if first { "- " } else { "  " });
                first = false;
                out.push_str(k);
                out.push_str(":\n");
            };
            if !a.scopes.is_empty() {
                key(out, "requiredScopes");
                list(out, &format!("{indent}  "), &a.scopes);
            }
            if !a.audiences.is_empty() {
                key(out, "audiences");
                list(out, &format!("{indent}  "), &a.audiences);
            }
        }
    }

    fn service(out: &mut String, indent: &str, s: &Service, default_name: &str) {
        out.push_str(indent);
        out.push_str("service:\n");
        let inner = format!("{indent}  ");
        kv(out, &inner, "name", s.name.as_deref().unwrap_or(default_name));
        if let Some(ns) = &s.namespace {
            kv(out, &inner, "namespace", ns);
        }
        if let Some(port) = s.port {
            let _ = writeln!(out, "{inner}port: {port}");
        }
    }

    fn apirule(&self, w: &Workload) -> R<String> {
        let mut out = String::with_capacity(2048);
        out.push_str(&self.header);
        out.push_str("apiVersion: gateway.kyma-project.io/v2\nkind: APIRule\nmetadata:\n");
        kv(&mut out, "  ", "name", &w.name);
        kv(&mut out, "  ", "namespace", &w.namespace);
        out.push_str("  labels:\n    app.kubernetes.io/managed-by: kexpose\n");
        if let Some(p) = self.part_of {
            kv(&mut out, "    ", "app.kubernetes.io/part-of", p);
        }
        out.push_str("spec:\n");
        kv(
            &mut out,
            "  ",
            "gateway",
            self.spec
                .gateway
                .as_deref()
                .unwrap_or("kyma-system/kyma-gateway"),
        );
        out.push_str("  hosts:\n");
        let host = if w.host.contains('.') {
            w.host.clone()
        } else {
            let domain = self.spec.domain.as_deref().ok_or("no cluster.domain")?;
            format!("{}.{domain}", w.host)
        };
        list(&mut out, "  ", &[host]);
        // The workload's service, unless every rule has its own.
        if w.rules.iter().any(|r| r.service.is_none()) {
            let s = w.service.clone().unwrap_or_default();
            Self::service(&mut out, "  ", &s, &w.name);
        }
        if let Some(t) = w.timeout {
            let _ = writeln!(out, "  timeout: {t}");
        }
        out.push_str("  rules:\n");
        for r in &w.rules {
            kv(&mut out, "  - ", "path", &r.path);
            out.push_str("    methods:\n");
            list(&mut out, "    ", &r.methods);
            if let Some(s) = &r.service {
                Self::service(&mut out, "    ", s, &w.name);
            }
            match &r.access {
                Access::None => return Err(format!("{}: a rule without access", w.name)),
                Access::NoAuth => out.push_str("    noAuth: true\n"),
                Access::Jwt(auth) => {
                    out.push_str("    jwt:\n      authentications:\n");
                    let idps = if auth.idps.is_empty() {
                        vec![self.spec.idps.first().ok_or("no identity provider")?.name.clone()]
                    } else {
                        auth.idps.clone()
                    };
                    self.authentications(&mut out, "      ", &idps)?;
                    if !auth.authorizations.is_empty() {
                        out.push_str("      authorizations:\n");
                        self.authorizations(&mut out, "      ", &auth.authorizations);
                    }
                }
                Access::Ext(authorizers, auth) => {
                    out.push_str("    extAuth:\n      authorizers:\n");
                    list(&mut out, "      ", authorizers);
                    if !auth.idps.is_empty() || !auth.authorizations.is_empty() {
                        // Restrictions: authenticated by the providers named, else by the
                        // listed oauth2-proxy authorizers' providers (in order, once each).
                        let idps = if auth.idps.is_empty() {
                            let mut seen = Vec::new();
                            for a in authorizers {
                                let a = self.authorizer(a)?;
                                if let (true, Some(i)) = (a.oauth2_proxy, &a.identity_provider)
                                    && !seen.contains(i)
                                {
                                    seen.push(i.clone());
                                }
                            }
                            seen
                        } else {
                            auth.idps.clone()
                        };
                        out.push_str("      restrictions:\n        authentications:\n");
                        self.authentications(&mut out, "        ", &idps)?;
                        if !auth.authorizations.is_empty() {
                            out.push_str("        authorizations:\n");
                            self.authorizations(&mut out, "        ", &auth.authorizations);
                        }
                    }
                }
            }
            if let Some(t) = r.timeout {
                let _ = writeln!(out, "    timeout: {t}");
            }
            if !r.headers.is_empty() {
                out.push_str("    request:\n      headers:\n");
                for (k, v) in &r.headers {
                    kv(&mut out, "        ", k, v);
                }
            }
        }
        Ok(out)
    }
}

fn run(spec_path: &Path, out_dir: &Path) -> R<()> {
    let text = std::fs::read_to_string(spec_path)
        .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let spec = spec(&text)?;
    let file = spec_path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ctx = Ctx {
        spec: &spec,
        header: format!(
            "# Generated by kexpose from {file}. Do not edit: change the spec and run `kexpose render`.\n"
        ),
        part_of: spec.name.as_deref(),
    };
    let io = |p: &Path, e: std::io::Error| format!("cannot write {}: {e}", p.display());
    std::fs::create_dir_all(out_dir).map_err(|e| io(out_dir, e))?;
    let mut files: Vec<String> = Vec::with_capacity(spec.workloads.len() + 6);
    let mut made: Option<PathBuf> = None;
    for w in &spec.workloads {
        let rel = format!("apirules/{}/{}.yaml", w.namespace, w.name);
        let path = out_dir.join(&rel);
        let dir = path.parent().expect("a parent");
        if made.as_deref() != Some(dir) {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
            made = Some(dir.to_path_buf());
        }
        std::fs::write(&path, ctx.apirule(w)?).map_err(|e| io(&path, e))?;
        files.push(rel);
    }
    // The Namespaces: every oauth2-proxy authorizer's and every workload's, sorted, once each.
    let mut namespaces: BTreeSet<&str> = BTreeSet::new();
    if spec.manage_namespaces != Some(false) {
        for a in spec.authorizers.iter().filter(|a| a.oauth2_proxy) {
            namespaces.insert(a.namespace.as_deref().unwrap_or(&a.name));
        }
        for w in &spec.workloads {
            namespaces.insert(&w.namespace);
        }
        let mut ns_text = ctx.header.clone();
        for ns in &namespaces {
            ns_text.push_str("---\napiVersion: v1\nkind: Namespace\nmetadata:\n");
            kv(&mut ns_text, "  ", "name", ns);
            ns_text.push_str("  labels:\n    app.kubernetes.io/managed-by: kexpose\n");
            if let Some(p) = ctx.part_of {
                kv(&mut ns_text, "    ", "app.kubernetes.io/part-of", p);
            }
            ns_text.push_str("    istio-injection: enabled\n");
        }
        let path = out_dir.join("namespaces.yaml");
        std::fs::write(&path, ns_text).map_err(|e| io(&path, e))?;
        files.push("namespaces.yaml".into());
    }
    // kustomization.yaml lists every Kubernetes manifest, sorted.
    let mut resources: Vec<&str> = files.iter().map(String::as_str).collect();
    if !spec.authorizers.is_empty() {
        resources.push("istio/authorizers.yaml");
    }
    resources.sort_unstable();
    let mut k = ctx.header.clone();
    k.push_str("# Every Kubernetes manifest kexpose generated (the Helm values are applied with helm).\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n");
    for r in &resources {
        k.push_str("- ");
        scalar(&mut k, r);
        k.push('\n');
    }
    let path = out_dir.join("kustomization.yaml");
    std::fs::write(&path, k).map_err(|e| io(&path, e))?;
    files.push("kustomization.yaml".into());
    // The manifest lists every generated file, the three the floor does not write included.
    let mut all: Vec<String> = files;
    for a in spec.authorizers.iter().filter(|a| a.oauth2_proxy) {
        all.push(format!("helm/{}/values.yaml", a.name));
    }
    if !spec.authorizers.is_empty() {
        all.push("istio/authorizers.yaml".into());
    }
    all.sort_unstable();
    let mut m = String::from(
        "# Files generated by kexpose; a later render replaces or removes exactly these.\n",
    );
    for f in &all {
        m.push_str(f);
        m.push('\n');
    }
    let path = out_dir.join(".kexpose-manifest");
    std::fs::write(&path, m).map_err(|e| io(&path, e))?;
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (spec, out) = match args.as_slice() {
        [spec, o, out] if o == "-o" => (spec, out),
        _ => {
            eprintln!("usage: kexpose-floor SPEC -o OUT");
            return ExitCode::from(2);
        }
    };
    match run(Path::new(spec), Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kexpose-floor: {e}");
            ExitCode::FAILURE
        }
    }
}
