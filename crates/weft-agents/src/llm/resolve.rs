//! Which provider and model answer a call (agents.md §1).
//!
//! Provider, first that applies: the call's `provider` option;
//! `WEFT_PROVIDER`; `openai` if `WEFT_OPENAI_BASE_URL` or `OPENAI_API_KEY`
//! is set; `anthropic` if `ANTHROPIC_API_KEY` is set; otherwise `mock`
//! (flagged as a fallback, for the one-line notice). A named provider is
//! looked up among the host's registered providers first, then the
//! built-in `mock`, `openai` and `anthropic`. Model: the `model` option,
//! else `WEFT_MODEL`, else the provider's default. Environment variables
//! are read through the task context, so per-task overlays apply; empty
//! values count as unset.

use std::rc::Rc;

use weft_syntax::suggest::did_you_mean;
use weft_vm::context::TaskContext;
use weft_vm::error::{value_error, RtResult};

use super::{LlmOptions, Provider};
use crate::state::AgentState;

/// The built-in provider names.
pub const BUILTIN_PROVIDERS: &[&str] = &["mock", "openai", "anthropic"];
pub const MOCK_DEFAULT_MODEL: &str = "mock";
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-4o-mini";
pub const ANTHROPIC_DEFAULT_MODEL: &str = "claude-haiku-4-5";

/// What kind of provider answers.
#[derive(Clone)]
pub enum ProviderKind {
    Mock,
    OpenAi,
    Anthropic,
    Host(Rc<dyn Provider>),
}

/// A resolved provider and model.
#[derive(Clone)]
pub struct Resolved {
    pub name: String,
    pub kind: ProviderKind,
    pub model: String,
    /// The mock was chosen only because nothing else is configured.
    pub fallback: bool,
}

/// A non-empty environment variable as the task sees it.
pub fn env(ctx: &TaskContext, name: &str) -> Option<String> {
    ctx.env_var(name).filter(|v| !v.is_empty())
}

/// Resolves the provider and model of one call.
pub fn resolve(ctx: &TaskContext, state: &AgentState, opts: &LlmOptions) -> RtResult<Resolved> {
    let (name, fallback) = match opts.provider.clone() {
        Some(p) => (p, false),
        None => match env(ctx, "WEFT_PROVIDER") {
            Some(p) => (p, false),
            None if env(ctx, "WEFT_OPENAI_BASE_URL").is_some()
                || env(ctx, "OPENAI_API_KEY").is_some() =>
            {
                ("openai".to_string(), false)
            }
            None if env(ctx, "ANTHROPIC_API_KEY").is_some() => ("anthropic".to_string(), false),
            None => ("mock".to_string(), true),
        },
    };
    let kind = lookup(state, &name)?;
    let default_model = match &kind {
        ProviderKind::Mock => MOCK_DEFAULT_MODEL.to_string(),
        ProviderKind::OpenAi => OPENAI_DEFAULT_MODEL.to_string(),
        ProviderKind::Anthropic => ANTHROPIC_DEFAULT_MODEL.to_string(),
        ProviderKind::Host(p) => p.default_model().to_string(),
    };
    let model = opts
        .model
        .clone()
        .or_else(|| env(ctx, "WEFT_MODEL"))
        .unwrap_or(default_model);
    Ok(Resolved {
        name,
        kind,
        model,
        fallback,
    })
}

fn lookup(state: &AgentState, name: &str) -> RtResult<ProviderKind> {
    if let Some(p) = state.providers.borrow().get(name) {
        return Ok(ProviderKind::Host(p.clone()));
    }
    match name {
        "mock" => Ok(ProviderKind::Mock),
        "openai" => Ok(ProviderKind::OpenAi),
        "anthropic" => Ok(ProviderKind::Anthropic),
        _ => {
            let hosts = state.providers.borrow();
            let mut known: Vec<&str> = BUILTIN_PROVIDERS.to_vec();
            known.extend(hosts.keys().map(String::as_str));
            let mut msg = format!("unknown LLM provider '{name}'");
            match did_you_mean(name, known.iter().copied()) {
                Some(s) => msg.push_str(&format!(" (did you mean '{s}'?)")),
                None => msg.push_str(&format!(" (providers: {})", known.join(", "))),
            }
            Err(value_error(msg))
        }
    }
}
