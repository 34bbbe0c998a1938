//! Where a real provider call goes and which API key it carries — the rule
//! that a script cannot send a secret to an address of its choosing
//! (docs/security.md, "Provider settings").
//!
//! - The **host** sets the endpoint and key through the process
//!   environment (`WEFT_OPENAI_BASE_URL`, `OPENAI_API_KEY`, ...) or by
//!   registering a provider. Calls there need only `llm.call`.
//! - A **script** may set `base_url` (the call option, or a base-URL variable
//!   in a worker's `execution.env` overlay): that is an outbound connection
//!   to an address the script chose, so it needs the `network` capability
//!   for the URL, and it may carry a key only from a variable the script
//!   could read itself (the policy's `env` allow-list); a host key it may
//!   not read is refused rather than sent.
//! - A script-set `api_key_env` must name a variable the script may read.

use weft_vm::context::{Capability, TaskContext};
use weft_vm::error::{RtError, RtResult};

use super::LlmOptions;

/// The resolved endpoint of one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub base_url: String,
    pub api_key: Option<String>,
}

/// How one built-in provider is configured.
pub struct ProviderEnv<'a> {
    pub name: &'a str,
    /// Base-URL variables, first set wins.
    pub base_vars: &'a [&'a str],
    pub default_base: &'a str,
    pub key_var: &'a str,
}

fn host_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The endpoint and key for a call by a task with context `ctx`.
pub fn endpoint(ctx: &TaskContext, opts: &LlmOptions, p: &ProviderEnv) -> RtResult<Endpoint> {
    let key_var = match &opts.api_key_env {
        Some(var) => {
            ctx.check_env("llm option 'api_key_env'", var)?;
            var.as_str()
        }
        None => p.key_var,
    };
    let api_key = ctx.env_var(key_var).filter(|v| !v.is_empty());
    let overlay_base = p
        .base_vars
        .iter()
        .find_map(|v| ctx.env.get(*v).filter(|u| !u.is_empty()).cloned());
    let Some(url) = opts.base_url.clone().or(overlay_base) else {
        let base_url = p
            .base_vars
            .iter()
            .find_map(|v| host_env(v))
            .unwrap_or_else(|| p.default_base.to_string());
        return Ok(Endpoint { base_url, api_key });
    };
    ctx.check_capability(Capability::Network, &url)?;
    if api_key.is_some() && !ctx.may_read_env(key_var) {
        return Err(RtError::new(
            "permission_denied",
            format!(
                "{}: base_url {url} is set by the script, and the API key in {key_var} may not \
                 be sent to an address the script chose: the policy does not let this script \
                 read {key_var} (configure the base URL on the host, or allow {key_var} in \
                 policy.env)",
                p.name
            ),
        ));
    }
    Ok(Endpoint {
        base_url: url,
        api_key,
    })
}
