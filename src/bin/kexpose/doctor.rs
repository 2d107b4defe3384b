//! `kexpose doctor`: its arguments and glue. The checks, the report and its formats are in
//! the library (`kexpose::doctor`); this file reads the environment and the CA file, prints
//! and picks the exit code.

use crate::args::{DiagArgs, FormatArg, policy};
use crate::compile;
use crate::report::{color_stdout, report, write_stdout};
use kexpose::Target;
use kexpose::diff::report::Format;
use kexpose::render::Templates;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DoctorArgs {
    /// The spec file.
    spec: PathBuf,
    /// Request the exposed URLs (GET and HEAD rules only) with and without the token and
    /// compare each answer with the prediction.
    #[arg(long)]
    probe: bool,
    /// Send every probe to this address instead of resolving the rule's host (the gateway's
    /// load balancer, before DNS is set); the Host header and TLS server name stay the
    /// host's. IP:PORT, e.g. 203.0.113.10:443.
    #[arg(long, value_name = "IP:PORT", requires = "probe")]
    connect_to: Option<std::net::SocketAddr>,
    /// Trust only the CA certificates of this PEM file (a private CA of the identity
    /// provider or gateway) instead of the built-in Mozilla roots.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Seconds each request may take in all.
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    timeout: u64,
    /// The identity provider that issues the token (needed when the spec uses several).
    #[arg(long, value_name = "NAME")]
    identity_provider: Option<String>,
    /// `scope` of the token request, e.g. `api://my-api/.default` for Entra ID.
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// Another form parameter of the token request (repeatable), e.g. `resource=https://api`
    /// or `audience=my-api`. Not for secrets: those come only from the environment.
    #[arg(long, value_name = "KEY=VALUE")]
    token_param: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    #[command(flatten)]
    diag: DiagArgs,
}

/// `kexpose doctor`: compile, then check the live providers (and token, and probes).
pub fn run_doctor(args: DoctorArgs) -> Result<ExitCode, String> {
    use kexpose::doctor::{self, Credentials, ENV_CLIENT_ID, ENV_CLIENT_SECRET};
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let credentials = match (env(ENV_CLIENT_ID), env(ENV_CLIENT_SECRET)) {
        (Some(client_id), Some(client_secret)) => Some(Credentials {
            client_id,
            client_secret,
        }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(format!(
                "{ENV_CLIENT_ID} is set but {ENV_CLIENT_SECRET} is not"
            ));
        }
        (None, Some(_)) => {
            return Err(format!(
                "{ENV_CLIENT_SECRET} is set but {ENV_CLIENT_ID} is not"
            ));
        }
    };
    let mut token_params = Vec::new();
    for p in &args.token_param {
        let (k, v) = p
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("--token-param {p:?}: expected KEY=VALUE"))?;
        if ["client_secret", "client_assertion", "password"].contains(&k) {
            return Err(format!(
                "--token-param {k}: secrets are read only from {ENV_CLIENT_SECRET}, never from a flag"
            ));
        }
        token_params.push((k.to_string(), v.to_string()));
    }
    let ca_pem = match &args.ca_file {
        Some(f) => Some(std::fs::read(f).map_err(|e| format!("--ca-file {}: {e}", f.display()))?),
        None => None,
    };
    let policy = policy(&args.diag)?;
    let Some(c) = compile(
        &args.spec,
        &Templates::builtin(),
        &policy,
        &Target::default(),
        args.diag.color,
    )?
    else {
        return Ok(ExitCode::from(1));
    };
    report(&c, &args.diag);
    let Some(outputs) = c.outputs.as_ref().filter(|_| !c.has_errors()) else {
        return Ok(ExitCode::from(1));
    };
    let model = doctor::evaluate::model(outputs)?;
    let options = doctor::Options {
        http: doctor::http::Settings {
            timeout: Some(std::time::Duration::from_secs(args.timeout)),
            ca_pem,
            connect_to: None,
        },
        credentials,
        identity_provider: args.identity_provider,
        scope: args.scope,
        token_params,
        probe: args.probe,
        connect_to: args.connect_to,
    };
    let mut r = doctor::run(&c.source, &model, &options)?;
    r.diagnostics = policy.apply(std::mem::take(&mut r.diagnostics));
    let format = Format::from(args.format);
    write_stdout(
        doctor::report::render(&r, &c.source, format, color_stdout(args.diag.color)).as_bytes(),
    )?;
    Ok(if r.network_error {
        ExitCode::from(2)
    } else if r.has_findings() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
