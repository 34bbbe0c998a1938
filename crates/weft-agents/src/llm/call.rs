//! One model call, end to end: [`LlmOptions`] parsed once from the script's
//! option dict, and [`complete`], which checks the `llm.call` capability,
//! resolves provider and model, answers from the mock (or the
//! `--llm-fixture`), refuses real calls under `WEFT_LLM_DISABLED=1`, and
//! otherwise calls the provider with a per-request timeout and retries,
//! appending the exchange to the `--llm-record` file.

use std::rc::Rc;
use std::time::Duration;

use weft_vm::context::Capability;
use weft_vm::error::{value_error, RtError, RtResult};
use weft_vm::value::schema::check_schema;
use weft_vm::value::{dict_get, to_json, DictMap, Value};
use weft_vm::vm::Vm;

use super::anthropic::{self, Anthropic};
use super::endpoint::{endpoint, ProviderEnv};
use super::fixture;
use super::openai::{self, OpenAi};
use super::resolve::{resolve, ProviderKind, Resolved};
use super::retry::{with_retries, RetryPolicy};
use super::{ChatRequest, ChatResponse, Message, Provider, ProviderError, ToolSpec};
use crate::state::AgentState;
use crate::tools::keys::{opt_str, opt_type, opt_uint, unknown_key};

/// The options every model call understands (agents.md §2).
pub const LLM_OPTION_KEYS: &[&str] = &[
    "provider",
    "model",
    "temperature",
    "max_tokens",
    "timeout_ms",
    "llm_retries",
    "llm_backoff_ms",
    "base_url",
    "api_key_env",
    "response_format",
    "schema",
    "schema_retries",
];

pub const DEFAULT_TIMEOUT_MS: u64 = 120_000;
pub const DEFAULT_LLM_RETRIES: u32 = 2;
pub const DEFAULT_BACKOFF_MS: u64 = 500;
pub const DEFAULT_SCHEMA_RETRIES: u32 = 1;

/// The notice printed the first time a run falls back to the mock.
pub const MOCK_NOTICE: &str = "weft: no LLM provider configured, using the mock provider";

/// Typed model-call options.
#[derive(Debug, Clone, PartialEq)]
pub struct LlmOptions {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    /// Bound on one request (each retry gets its own).
    pub timeout_ms: u64,
    /// Further attempts after a transient failure.
    pub llm_retries: u32,
    pub llm_backoff_ms: u64,
    pub base_url: Option<String>,
    /// The environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// `response_format: "json"` (also implied by `schema`).
    pub json: bool,
    /// A JSON schema (checked to be well formed) the reply's data must match.
    pub schema: Option<serde_json::Value>,
    /// Extra attempts when the reply does not match `schema`.
    pub schema_retries: u32,
}

impl Default for LlmOptions {
    fn default() -> Self {
        LlmOptions {
            provider: None,
            model: None,
            temperature: None,
            max_tokens: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            llm_retries: DEFAULT_LLM_RETRIES,
            llm_backoff_ms: DEFAULT_BACKOFF_MS,
            base_url: None,
            api_key_env: None,
            json: false,
            schema: None,
            schema_retries: DEFAULT_SCHEMA_RETRIES,
        }
    }
}

/// Parses the model-call options of `opts`. Keys in `extra_keys` are
/// returned untouched (the caller's own options); any other unknown key is
/// a `value_error` with a did-you-mean; a wrong type is a `type_error`
/// saying what is expected. Nil values count as absent.
pub fn parse_llm_options(
    opts: &DictMap,
    who: &str,
    extra_keys: &[&str],
) -> RtResult<(LlmOptions, DictMap)> {
    let mut extra = DictMap::default();
    for (k, v) in opts {
        if extra_keys.contains(&k.as_str()) {
            extra.insert(k.clone(), v.clone());
        } else if !LLM_OPTION_KEYS.contains(&k.as_str()) {
            let mut known = LLM_OPTION_KEYS.to_vec();
            known.extend_from_slice(extra_keys);
            return Err(unknown_key(who, "", k, &known));
        }
    }
    let u32_opt = |name: &str, min: i64| -> RtResult<Option<u32>> {
        match opt_uint(opts, who, name, min)? {
            Some(n) if n > u32::MAX as u64 => Err(value_error(format!(
                "{who}: option '{name}' is too large ({n})"
            ))),
            other => Ok(other.map(|n| n as u32)),
        }
    };
    let mut o = LlmOptions {
        provider: opt_str(opts, who, "provider")?,
        model: opt_str(opts, who, "model")?,
        temperature: temperature(opts, who)?,
        max_tokens: u32_opt("max_tokens", 1)?,
        base_url: opt_str(opts, who, "base_url")?,
        api_key_env: opt_str(opts, who, "api_key_env")?,
        ..LlmOptions::default()
    };
    if let Some(t) = opt_uint(opts, who, "timeout_ms", 1)? {
        o.timeout_ms = t;
    }
    if let Some(n) = u32_opt("llm_retries", 0)? {
        o.llm_retries = n;
    }
    if let Some(n) = opt_uint(opts, who, "llm_backoff_ms", 0)? {
        o.llm_backoff_ms = n;
    }
    if let Some(n) = u32_opt("schema_retries", 0)? {
        o.schema_retries = n;
    }
    match opt_str(opts, who, "response_format")?.as_deref() {
        None | Some("text") => {}
        Some("json") => o.json = true,
        Some(other) => {
            return Err(value_error(format!(
                "{who}: option 'response_format' must be \"json\" or \"text\", got \"{other}\""
            )))
        }
    }
    match dict_get(opts, "schema") {
        None | Some(Value::Nil) => {}
        Some(s @ Value::Dict(_)) => {
            check_schema(s).map_err(|e| value_error(format!("{who}: option 'schema': {e}")))?;
            let j = to_json(s).map_err(|e| value_error(format!("{who}: option 'schema': {e}")))?;
            o.schema = Some(j);
            o.json = true;
        }
        Some(other) => return Err(opt_type(who, "schema", "a dict (a JSON schema)", other)),
    }
    Ok((o, extra))
}

fn temperature(opts: &DictMap, who: &str) -> RtResult<Option<f64>> {
    let t = match dict_get(opts, "temperature") {
        None | Some(Value::Nil) => return Ok(None),
        Some(Value::Int(n)) => *n as f64,
        Some(Value::Float(f)) => *f,
        Some(other) => return Err(opt_type(who, "temperature", "a number", other)),
    };
    if !(0.0..=2.0).contains(&t) {
        return Err(value_error(format!(
            "{who}: option 'temperature' must be between 0 and 2, got {t}"
        )));
    }
    Ok(Some(t))
}

/// `WEFT_LLM_DISABLED` is set to something other than `0`/`false` in the
/// process environment (a host setting: a task's overlay cannot lift it).
fn llm_disabled() -> bool {
    std::env::var("WEFT_LLM_DISABLED")
        .is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn rt_error(e: ProviderError) -> Box<RtError> {
    RtError::new(&e.category, e.message)
}

/// One model call (no schema handling: see
/// [`complete_structured`](super::complete_structured)). Errors carry the
/// provider's category: `provider_error`, `timeout`, a mock's category, or
/// `permission_denied` from the capability check.
pub async fn complete(
    vm: &mut Vm,
    opts: &LlmOptions,
    system: Option<String>,
    messages: Vec<Message>,
    tools: Vec<ToolSpec>,
) -> RtResult<ChatResponse> {
    let state: Rc<AgentState> = vm.program.ext::<AgentState>();
    let resolved = resolve(&vm.ctx, &state, opts)?;
    vm.ctx
        .check_capability(Capability::LlmCall, &resolved.name)?;
    let timeout = Duration::from_millis(opts.timeout_ms);
    let mut request = ChatRequest {
        model: resolved.model.clone(),
        system,
        messages,
        tools,
        temperature: opts.temperature,
        max_tokens: opts.max_tokens,
        json: opts.json,
        schema: opts.schema.clone(),
        timeout,
        base_url: opts.base_url.clone(),
        api_key_env: opts.api_key_env.clone(),
        max_response_bytes: vm.program.limits.max_string_len,
    };
    let hold = crate::budget::charge::hold(vm, &mut request)?;
    let result = send(vm, &state, &resolved, opts, &request, timeout).await;
    if let Some(h) = hold {
        h.settle(result.as_ref().ok());
    }
    result
}

/// Sends `request` (mock, fixture or provider).
async fn send(
    vm: &Vm,
    state: &Rc<AgentState>,
    resolved: &Resolved,
    opts: &LlmOptions,
    request: &ChatRequest,
    timeout: Duration,
) -> RtResult<ChatResponse> {
    let fixture = state.llm.mock.borrow().fixture;
    let mocked = fixture || matches!(resolved.kind, ProviderKind::Mock);
    // The endpoint rules (network for a script-chosen base_url, keys only
    // from readable variables) apply before anything else is decided.
    let provider = if mocked {
        None
    } else {
        Some(build_provider(vm, state, resolved, opts)?)
    };
    if !mocked && llm_disabled() {
        return Err(RtError::new(
            "provider_error",
            format!(
                "LLM calls are disabled (WEFT_LLM_DISABLED=1): cannot call provider '{}'",
                resolved.name
            ),
        ));
    }
    let policy = RetryPolicy {
        retries: opts.llm_retries,
        backoff_ms: opts.llm_backoff_ms,
    };
    let name = resolved.name.as_str();
    // Scripted failures (mock, fixture) are retried like real ones, so
    // retry paths can be tested offline (agents.md §3).
    let worker = state.workers.current(&vm.ctx);
    let on_retry = |e: &ProviderError, retry: u32, delay: Duration| {
        if let Some(w) = &worker {
            crate::workers::events::emit(
                &state.workers,
                w,
                "llm_retry",
                serde_json::json!({
                    "provider": name, "model": resolved.model, "retry": retry,
                    "of": policy.retries, "category": e.category, "message": e.message,
                    "status": e.status, "delay_ms": delay.as_millis() as u64,
                }),
            );
        }
    };
    let result = with_retries(policy, on_retry, || {
        let provider = provider.clone();
        async move {
            let Some(provider) = provider else {
                return mock_call(state, resolved, request, timeout).await;
            };
            match tokio::time::timeout(timeout, provider.chat(request)).await {
                Ok(r) => r,
                Err(_) => Err(ProviderError::new(
                    "timeout",
                    format!("{name}: request timed out after {} ms", timeout.as_millis()),
                )
                .transient()),
            }
        }
    })
    .await;
    if mocked {
        return result.map_err(rt_error);
    }
    let result =
        result.and_then(|reply| within_reply_bound(name, reply, request.max_response_bytes));
    if let Some(rec) = state.llm.record.borrow_mut().as_mut() {
        rec.append(&fixture::record_line(name, request, &result));
    }
    result.map_err(rt_error)
}

/// A reply whose text is longer than `max` bytes is `limit_exceeded` (HTTP
/// providers stop reading earlier; this bounds host providers too).
fn within_reply_bound(
    name: &str,
    reply: ChatResponse,
    max: Option<usize>,
) -> Result<ChatResponse, ProviderError> {
    match max {
        Some(max) if reply.text.len() > max => Err(ProviderError::new(
            "limit_exceeded",
            format!(
                "{name}: the reply is {} bytes, longer than {max} (max_string_len)",
                reply.text.len()
            ),
        )),
        _ => Ok(reply),
    }
}

/// Answers from the mock state (script-queued responses or the fixture),
/// waiting `delay_ms` first (bounded by the timeout, which fails the
/// attempt as a provider's timeout would).
async fn mock_call(
    state: &AgentState,
    resolved: &Resolved,
    request: &ChatRequest,
    timeout: Duration,
) -> Result<ChatResponse, ProviderError> {
    let answer = {
        let mut mock = state.llm.mock.borrow_mut();
        if resolved.fallback && !mock.scripted && !state.llm.notice_shown.replace(true) {
            eprintln!("{MOCK_NOTICE}");
        }
        mock.answer(&resolved.name, request)
    };
    if answer.delay_ms > 0 {
        let delay = Duration::from_millis(answer.delay_ms);
        if delay > timeout {
            tokio::time::sleep(timeout).await;
            return Err(ProviderError::new(
                "timeout",
                format!(
                    "{}: request timed out after {} ms",
                    resolved.name,
                    timeout.as_millis()
                ),
            )
            .transient());
        }
        tokio::time::sleep(delay).await;
    }
    let mut reply = answer.result?;
    // Like a real model, the mock never reports more output than allowed.
    if let Some(max) = request.max_tokens {
        if reply.output_tokens > u64::from(max) {
            reply.output_tokens = u64::from(max);
            reply.stop_reason = "length".to_string();
        }
    }
    Ok(reply)
}

/// The provider object for a real call, configured from the options and
/// the host's environment under the endpoint rules (super::endpoint).
fn build_provider(
    vm: &Vm,
    state: &AgentState,
    resolved: &Resolved,
    opts: &LlmOptions,
) -> RtResult<Rc<dyn Provider>> {
    Ok(match &resolved.kind {
        ProviderKind::OpenAi => {
            let e = endpoint(
                &vm.ctx,
                opts,
                &ProviderEnv {
                    name: "openai",
                    base_vars: &["WEFT_OPENAI_BASE_URL", "OPENAI_BASE_URL"],
                    default_base: openai::DEFAULT_BASE_URL,
                    key_var: "OPENAI_API_KEY",
                },
            )?;
            Rc::new(OpenAi {
                client: state.llm.client(),
                base_url: e.base_url,
                api_key: e.api_key,
            })
        }
        ProviderKind::Anthropic => {
            let e = endpoint(
                &vm.ctx,
                opts,
                &ProviderEnv {
                    name: "anthropic",
                    base_vars: &["ANTHROPIC_BASE_URL"],
                    default_base: anthropic::DEFAULT_BASE_URL,
                    key_var: "ANTHROPIC_API_KEY",
                },
            )?;
            Rc::new(Anthropic {
                client: state.llm.client(),
                base_url: e.base_url,
                api_key: e.api_key,
            })
        }
        ProviderKind::Host(p) => p.clone(),
        ProviderKind::Mock => unreachable!("the mock is answered before providers are built"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_vm::value::{dict_from, Value};

    fn dict(pairs: Vec<(&str, Value)>) -> DictMap {
        match dict_from(pairs) {
            Value::Dict(ref d) => (**d).clone(),
            _ => unreachable!(),
        }
    }

    fn err_msg(r: RtResult<(LlmOptions, DictMap)>) -> (String, String) {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => (e.category(), e.message()),
        }
    }

    fn ok(r: RtResult<(LlmOptions, DictMap)>) -> (LlmOptions, DictMap) {
        match r {
            Ok(v) => v,
            Err(e) => panic!("{}", e.message()),
        }
    }

    #[test]
    fn defaults() {
        let (o, extra) = ok(parse_llm_options(&DictMap::default(), "llm_call", &[]));
        assert_eq!(o, LlmOptions::default());
        assert_eq!(o.timeout_ms, 120_000);
        assert_eq!(
            (o.llm_retries, o.llm_backoff_ms, o.schema_retries),
            (2, 500, 1)
        );
        assert!(extra.is_empty());
    }

    #[test]
    fn typed_values_and_extras() {
        let opts = dict(vec![
            ("model", Value::str("m")),
            ("temperature", Value::Int(1)),
            ("max_tokens", Value::Int(50)),
            ("timeout_ms", Value::Int(10)),
            ("llm_retries", Value::Int(0)),
            ("response_format", Value::str("json")),
            ("messages", Value::list(vec![])),
            ("provider", Value::Nil),
        ]);
        let (o, extra) = ok(parse_llm_options(&opts, "llm_call", &["messages", "tools"]));
        assert_eq!(o.model.as_deref(), Some("m"));
        assert_eq!(o.temperature, Some(1.0));
        assert_eq!(o.max_tokens, Some(50));
        assert_eq!(o.timeout_ms, 10);
        assert_eq!(o.llm_retries, 0);
        assert!(o.json);
        assert_eq!(o.provider, None);
        assert_eq!(extra.len(), 1);
    }

    #[test]
    fn unknown_and_mistyped() {
        let (cat, msg) = err_msg(parse_llm_options(
            &dict(vec![("modle", Value::str("x"))]),
            "llm_call",
            &[],
        ));
        assert_eq!(cat, "value_error");
        assert_eq!(
            msg,
            "llm_call: unknown option 'modle' (did you mean 'model'?)"
        );
        let (_, msg) = err_msg(parse_llm_options(
            &dict(vec![("toolz", Value::Nil)]),
            "agent_loop",
            &["tools"],
        ));
        assert_eq!(
            msg,
            "agent_loop: unknown option 'toolz' (did you mean 'tools'?)"
        );
        let (cat, msg) = err_msg(parse_llm_options(
            &dict(vec![("temperature", Value::str("hot"))]),
            "llm_call",
            &[],
        ));
        assert_eq!(cat, "type_error");
        assert_eq!(
            msg,
            "llm_call: option 'temperature' must be a number, got string"
        );
        let (cat, _) = err_msg(parse_llm_options(
            &dict(vec![("max_tokens", Value::Int(0))]),
            "llm_call",
            &[],
        ));
        assert_eq!(cat, "value_error");
        let (_, msg) = err_msg(parse_llm_options(
            &dict(vec![("response_format", Value::str("xml"))]),
            "llm_call",
            &[],
        ));
        assert!(msg.contains("must be \"json\" or \"text\""), "{msg}");
        let (cat, msg) = err_msg(parse_llm_options(
            &dict(vec![("schema", dict_from([("typ", Value::str("object"))]))]),
            "llm_call",
            &[],
        ));
        assert_eq!(cat, "value_error");
        assert!(msg.contains("unknown keyword 'typ'"), "{msg}");
    }
}
