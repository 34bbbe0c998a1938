//! Host LLM providers: the [`LlmProvider`] trait and the provider-neutral
//! request/response types it works with. A provider installed with
//! [`Engine::set_provider`](crate::Engine::set_provider) answers every
//! `llm_call`/`agent_loop`/worker model call whose options say
//! `provider: "NAME"` (or all of them, with `WEFT_PROVIDER=NAME`).

use std::future::Future;
use std::rc::Rc;

pub use weft_agents::llm::{
    ChatRequest, ChatResponse, Message, ProviderError, Role, ToolCall, ToolSpec,
};

/// A chat-completion backend supplied by the host.
///
/// `chat` receives one fully resolved request (model, system prompt,
/// messages, tools) and answers with text and/or tool calls. Retries of
/// transient errors (`ProviderError::transient`) are done by Weft. The
/// future runs on the engine's thread and need not be `Send`.
///
/// ```
/// use weft::llm::{ChatRequest, ChatResponse, LlmProvider, ProviderError};
///
/// struct Echo;
///
/// impl LlmProvider for Echo {
///     async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, ProviderError> {
///         let last = request.messages.last().map(|m| m.content.clone()).unwrap_or_default();
///         Ok(ChatResponse { text: format!("echo: {last}"), ..Default::default() })
///     }
/// }
///
/// let mut engine = weft::Engine::builder().build()?;
/// engine.set_provider("echo", Echo)?;
/// let reply = weft::block_on(engine.eval(r#"llm_call("hi", nil, {provider: "echo"}).text"#))?;
/// assert_eq!(reply.as_str(), Some("echo: hi"));
/// # Ok::<(), weft::Error>(())
/// ```
pub trait LlmProvider: 'static {
    /// The model used when neither the call nor `WEFT_MODEL` names one.
    fn default_model(&self) -> &str {
        "default"
    }

    /// Answers one request (no retries: Weft retries transient errors).
    fn chat(
        &self,
        request: &ChatRequest,
    ) -> impl Future<Output = Result<ChatResponse, ProviderError>>;
}

/// Adapts a host provider to the agent layer's provider trait.
pub(crate) struct Adapter<P> {
    pub name: String,
    pub inner: Rc<P>,
}

impl<P: LlmProvider> weft_agents::llm::Provider for Adapter<P> {
    fn name(&self) -> &str {
        &self.name
    }

    fn default_model(&self) -> &str {
        self.inner.default_model()
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> weft_agents::llm::LocalBoxFuture<'a, Result<ChatResponse, ProviderError>> {
        let name = self.name.clone();
        let model = request.model.clone();
        let fut = self.inner.chat(request);
        Box::pin(async move {
            let mut r = fut.await?;
            if r.provider.is_empty() {
                r.provider = name;
            }
            if r.model.is_empty() {
                r.model = model;
            }
            if r.stop_reason.is_empty() {
                r.stop_reason = if r.tool_calls.is_empty() {
                    "stop".into()
                } else {
                    "tool_calls".into()
                };
            }
            Ok(r)
        })
    }
}
