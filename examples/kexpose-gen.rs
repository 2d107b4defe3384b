//! `kexpose-gen`: write a synthetic kexpose spec of N workloads, for benchmarks.
//!
//! ```text
//! kexpose-gen N [--rules R] [--idps K] [--shared-domain] [-o FILE]
//! ```
//!
//! The spec has two identity providers (an SAP Cloud Identity Services tenant and a partner
//! issuer with an explicit `jwksUri` and a token header), two `oauth2-proxy` authorizers, and
//! N workloads spread round-robin over 50 namespaces (`team-00` … `team-49`), each with a short
//! unique host and R rules (default 3). The rules mix every access strategy: `noAuth`, `jwt`
//! (one or two identity providers, shorthand or alternative `authorizations`), and `extAuth`
//! with and without restrictions; some have a rule timeout, request headers or their own
//! service. Four workload shapes take turns (workload `i` has shape `i % 4`).
//!
//! With `--rules R` greater than 3, each workload gets `R - 1` GET rules on distinct literal
//! paths followed by a catch-all `/*`: the worst case for the per-method path-conflict check.
//!
//! Two more shapes stress the parts of kexpose that look at many things of one kind at once
//! (issue 15 asks for each, run at two sizes, to show no quadratic step):
//!
//! - `--idps K`: K more identity providers (`idp-0000` …, each with its own issuer and
//!   `jwksUri`); the `jwt` rule of shape-0 workloads names `idp-(i % K)` instead of `ias`, so
//!   with N ≥ 4·K every one of them is used.
//! - `--shared-domain`: every host is an FQDN below one parent domain
//!   (`app-NNNNN.apps.bench.example.org`, none under `cluster.domain`), and one more workload
//!   exposes the wildcard `*.wild.apps.bench.example.org`: host checks that compare hosts by
//!   suffix or prefix meet N hosts sharing one suffix.
//!
//! The output depends only on its arguments (no randomness, no clock), is valid (`kexpose validate`
//! exits 0 without warnings), and is written to stdout unless `-o FILE` is given.
//! `bench/run.sh` uses it; `tests/gen.rs` checks that its output validates.
#![allow(clippy::print_stdout, clippy::print_stderr)] // it reports what it ran

use std::io::{BufWriter, Write};
use std::process::ExitCode;

const NAMESPACES: usize = 50;

fn usage() -> ExitCode {
    eprintln!(
        "usage: kexpose-gen N [--rules R] [--idps K] [--shared-domain] [-o FILE]\n  \
         N workloads, R >= 1 rules each (default 3); K extra identity providers used in turn by\n  \
         the jwt rules; --shared-domain: every host an FQDN below one parent domain"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut n: Option<usize> = None;
    let mut opts = Opts {
        rules: 3,
        idps: 0,
        shared_domain: false,
    };
    let mut out: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "-h" | "--help" => {
                let _ = usage();
                return ExitCode::SUCCESS;
            }
            "--rules" => match args.next().and_then(|v| v.parse().ok()) {
                Some(r) if r >= 1 => opts.rules = r,
                _ => return usage(),
            },
            "--idps" => match args.next().and_then(|v| v.parse().ok()) {
                Some(k) => opts.idps = k,
                None => return usage(),
            },
            "--shared-domain" => opts.shared_domain = true,
            "-o" | "--out" => match args.next() {
                Some(f) => out = Some(f),
                None => return usage(),
            },
            _ => match a.parse() {
                Ok(v) if n.is_none() => n = Some(v),
                _ => return usage(),
            },
        }
    }
    let Some(n) = n else { return usage() };
    let result = match &out {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| {
                let mut w = BufWriter::new(f);
                generate(&mut w, n, &opts)?;
                w.flush()
            })
            .map_err(|e| format!("cannot write {path}: {e}")),
        None => {
            let stdout = std::io::stdout().lock();
            let mut w = BufWriter::new(stdout);
            generate(&mut w, n, &opts)
                .and_then(|()| w.flush())
                .map_err(|e| format!("cannot write to stdout: {e}"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The generator's knobs besides N.
struct Opts {
    /// Rules per workload.
    rules: usize,
    /// Extra identity providers.
    idps: usize,
    /// Every host an FQDN below one parent domain.
    shared_domain: bool,
}

/// The parent domain of every host with `--shared-domain`.
const SHARED: &str = "apps.bench.example.org";

const HEAD: &str = r#"apiVersion: kexpose.dev/v1alpha1
kind: Exposure
metadata:
  name: bench

cluster:
  domain: c-bench.kyma.ondemand.com

identityProviders:
  - name: ias
    issuer: https://bench-tenant.accounts.ondemand.com
  - name: partner
    issuer: https://login.partner.example.org
    jwksUri: https://login.partner.example.org/.well-known/jwks.json
    fromHeaders:
      - name: X-Partner-Token
        prefix: "Bearer "
"#;

const AUTHORIZERS: &str = r#"
authorizers:
  - name: oauth2-proxy
    type: oauth2-proxy
    identityProvider: ias
    timeout: 5s
  - name: partner-auth
    type: oauth2-proxy
    identityProvider: partner
    namespace: partner-auth
    credentialsSecret: partner-auth-oidc
    audiences: [partner-api]
    extraArgs:
      cookie-samesite: strict

workloads:
"#;

fn generate(w: &mut impl Write, n: usize, opts: &Opts) -> std::io::Result<()> {
    let mut args = String::new();
    if opts.rules != 3 {
        args.push_str(&format!(" --rules {}", opts.rules));
    }
    if opts.idps != 0 {
        args.push_str(&format!(" --idps {}", opts.idps));
    }
    if opts.shared_domain {
        args.push_str(" --shared-domain");
    }
    writeln!(
        w,
        "# Synthetic kexpose spec written by `kexpose-gen {n}{args}`: {n} workloads in {NAMESPACES} namespaces."
    )?;
    w.write_all(HEAD.as_bytes())?;
    for k in 0..opts.idps {
        writeln!(w, "  - name: idp-{k:04}")?;
        writeln!(w, "    issuer: https://idp-{k:04}.login.example.org")?;
        writeln!(
            w,
            "    jwksUri: https://idp-{k:04}.login.example.org/.well-known/jwks.json"
        )?;
    }
    w.write_all(AUTHORIZERS.as_bytes())?;
    if n == 0 && !opts.shared_domain {
        // `workloads:` with nothing after it is null; say "empty list" explicitly.
        writeln!(w, "  []")?;
    }
    for i in 0..n {
        workload(w, i, opts)?;
    }
    if opts.shared_domain {
        // One wildcard host over a sibling subdomain of the N hosts.
        writeln!(w, "  - name: wildcard")?;
        writeln!(w, "    namespace: team-00")?;
        writeln!(w, "    host: \"*.wild.{SHARED}\"")?;
        writeln!(w, "    service:")?;
        writeln!(w, "      name: wildcard")?;
        writeln!(w, "      port: 8080")?;
        writeln!(w, "    rules:")?;
        writeln!(w, "      - path: /*")?;
        writeln!(w, "        methods: [GET]")?;
        writeln!(w, "        extAuth:")?;
        writeln!(w, "          authorizers: [oauth2-proxy]")?;
    }
    Ok(())
}

fn workload(w: &mut impl Write, i: usize, opts: &Opts) -> std::io::Result<()> {
    let rules = opts.rules;
    let name = format!("app-{i:05}");
    let ns = format!("team-{:02}", i % NAMESPACES);
    writeln!(w, "  - name: {name}")?;
    writeln!(w, "    namespace: {ns}")?;
    if opts.shared_domain {
        writeln!(w, "    host: {name}.{SHARED}")?;
    } else {
        writeln!(w, "    host: {name}")?;
    }
    writeln!(w, "    service:")?;
    writeln!(w, "      name: {name}")?;
    writeln!(w, "      port: {}", 8000 + (i % 4) * 80)?;
    if i % 4 == 1 {
        writeln!(w, "    timeout: 120")?;
    }
    writeln!(w, "    rules:")?;
    if rules != 3 {
        for j in 0..rules - 1 {
            writeln!(w, "      - path: /r{j}/{{*}}")?;
            writeln!(w, "        methods: [GET]")?;
            match j % 3 {
                0 => writeln!(w, "        noAuth: true")?,
                1 => {
                    writeln!(w, "        jwt:")?;
                    writeln!(w, "          requiredScopes: [r{j}.read]")?;
                    writeln!(w, "          identityProvider: ias")?;
                }
                _ => {
                    writeln!(w, "        extAuth:")?;
                    writeln!(w, "          authorizers: [oauth2-proxy]")?;
                    writeln!(w, "          requiredScopes: [r{j}.read]")?;
                }
            }
        }
        writeln!(w, "      - path: /*")?;
        writeln!(w, "        methods: [GET]")?;
        writeln!(w, "        extAuth:")?;
        writeln!(w, "          authorizers: [oauth2-proxy]")?;
        return Ok(());
    }
    if i.is_multiple_of(4) && opts.idps > 0 {
        // Shape 0 with its jwt rule on one of the extra identity providers.
        return write!(
            w,
            "      - path: /healthz
        methods: [GET]
        noAuth: true
      - path: /api/{{**}}
        methods: [GET, POST]
        jwt:
          identityProvider: idp-{:04}
          requiredScopes: [api.read]
      - path: /*
        methods: [GET]
        extAuth:
          authorizers: [oauth2-proxy]
          requiredScopes: [web]
",
            (i / 4) % opts.idps
        );
    }
    let text = match i % 4 {
        // Public health check, jwt API with a scope, the rest behind oauth2-proxy with a scope.
        0 => {
            "      - path: /healthz
        methods: [GET]
        noAuth: true
      - path: /api/{**}
        methods: [GET, POST]
        jwt:
          identityProvider: ias
          requiredScopes: [api.read]
      - path: /*
        methods: [GET]
        extAuth:
          authorizers: [oauth2-proxy]
          requiredScopes: [web]
"
        }
        // Two issuers with alternative authorizations; partner-auth restricted by audience.
        1 => {
            "      - path: /status/{*}
        methods: [GET, HEAD]
        noAuth: true
      - path: /api/v1/{*}/items
        methods: [GET]
        jwt:
          identityProviders: [ias, partner]
          authorizations:
            - requiredScopes: [items.read]
              audiences: [shop-api]
            - requiredScopes: [admin]
        timeout: 30
      - path: /*
        methods: [GET]
        extAuth:
          authorizers: [partner-auth]
          audiences: [partner-api]
"
        }
        // Admin API behind oauth2-proxy with a scope; a rule-level service in another
        // namespace; a jwt catch-all.
        2 => {
            "      - path: /admin/{**}
        methods: [GET, PUT, DELETE]
        extAuth:
          authorizers: [oauth2-proxy]
          requiredScopes: [admin]
      - path: /reports/{**}
        methods: [GET]
        service:
          name: reporting
          namespace: analytics
          port: 8080
        noAuth: true
      - path: /*
        methods: [GET]
        jwt:
          identityProvider: partner
"
        }
        // Both authorizers, restrictions by the partner issuer, request headers.
        _ => {
            "      - path: /orders/{*}
        methods: [GET, POST]
        extAuth:
          authorizers: [oauth2-proxy, partner-auth]
          identityProviders: [partner]
          requiredScopes: [orders]
        request:
          headers:
            X-Region: emea
      - path: /public/{**}
        methods: [GET, HEAD]
        noAuth: true
      - path: /*
        methods: [GET]
        extAuth:
          authorizers: [oauth2-proxy]
"
        }
    };
    w.write_all(text.as_bytes())
}
