//! The LLM layer: the [`Provider`] trait, the provider-neutral types, and
//! the providers (`mock`, `openai`, `anthropic`), retries, and fixture
//! record/replay.

pub mod anthropic;
pub mod call;
pub mod endpoint;
pub mod extract;
pub mod fixture;
mod http;
pub mod mock;
pub mod openai;
pub mod resolve;
pub mod retry;
pub mod state;
pub mod structured;
pub mod types;

pub use call::{complete, parse_llm_options, LlmOptions, LLM_OPTION_KEYS};
pub use structured::complete_structured;

use std::future::Future;
use std::pin::Pin;

pub use types::{ChatRequest, ChatResponse, Message, ProviderError, Role, ToolCall, ToolSpec};

/// A boxed, non-`Send` future (everything runs on one `LocalSet`).
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A chat-completion backend. Hosts can add their own (registered by name);
/// the built-in ones are `mock`, `openai` and `anthropic`.
pub trait Provider {
    /// The provider's name (`openai`, `anthropic`, `mock`, or a host's).
    fn name(&self) -> &str;
    /// The model used when neither the call nor `WEFT_MODEL` names one.
    fn default_model(&self) -> &str;
    /// One request, without retries (the caller retries transient errors).
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
    ) -> LocalBoxFuture<'a, Result<ChatResponse, ProviderError>>;
}
