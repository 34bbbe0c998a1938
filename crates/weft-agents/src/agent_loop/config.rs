//! The agent loop's Rust API types: what a run is given ([`AgentConfig`]),
//! what it has done so far ([`AgentProgress`], also the resume point), what
//! it returns ([`AgentRun`]), and the hooks a host or the workers layer
//! plugs in ([`AgentHooks`]).

use weft_vm::builtins::LocalBoxFuture;
use weft_vm::error::RtResult;
use weft_vm::value::Value;
use weft_vm::vm::Vm;

use crate::llm::{LlmOptions, ToolCall};
use crate::tools::{Policy, ToolError, ToolOutcome, ToolRegistry};
use crate::transcript::Transcript;

/// Default `max_iterations`.
pub const DEFAULT_MAX_ITERATIONS: u64 = 10;

/// Everything one agent-loop run needs.
#[derive(Clone)]
pub struct AgentConfig {
    /// The new user message. `None` continues `transcript` as it is (a
    /// resumed worker whose task is already in its transcript).
    pub task: Option<String>,
    pub system: Option<String>,
    /// Model-call options (`response_format`/`schema`/`schema_retries`
    /// apply to the final answer).
    pub llm: LlmOptions,
    pub tools: ToolRegistry,
    /// Every policy in force; a tool call must satisfy all of them (the
    /// loop's own `policy`; workers add the worker's effective policy).
    /// The task's capability hook is consulted as well.
    pub policies: Vec<Policy>,
    /// Model calls allowed (schema-correction turns are not limited by it).
    pub max_iterations: u64,
    /// Hard limit: no model call once input + output tokens reach it.
    pub token_budget: Option<u64>,
    /// A budget scope for this run (`budget` option), reserved from the
    /// caller's scope while the loop runs; workers keep theirs on the worker.
    pub budget: Option<weft_vm::budget::BudgetLimits>,
    /// Text that ends the loop after the turn it appears in.
    pub done_sentinel: Option<String>,
    /// Where the conversation starts (a session's or a saved transcript).
    pub transcript: Transcript,
    /// `on_turn(turn)`: a script function called after every turn with
    /// `{iteration, text, tool_calls}`; its errors propagate.
    pub on_turn: Option<Value>,
    /// Counters and tool calls of an interrupted run being resumed.
    pub resume: Option<AgentProgress>,
    /// The builtin that started the loop (`agent_loop`, `sub_agent_run`,
    /// `spawn_worker`, ...), named in its errors.
    pub who: String,
}

impl AgentConfig {
    /// A config with defaults: no tools, no policy, 10 iterations.
    pub fn new(task: impl Into<String>) -> AgentConfig {
        AgentConfig {
            task: Some(task.into()),
            system: None,
            llm: LlmOptions::default(),
            tools: ToolRegistry::default(),
            policies: Vec::new(),
            max_iterations: DEFAULT_MAX_ITERATIONS,
            token_budget: None,
            budget: None,
            done_sentinel: None,
            transcript: Transcript::new(),
            on_turn: None,
            resume: None,
            who: "agent_loop".to_string(),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentStatus {
    Done,
    MaxIterations,
    BudgetExhausted,
    Failed,
    Cancelled,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Done => "done",
            AgentStatus::MaxIterations => "max_iterations",
            AgentStatus::BudgetExhausted => "budget_exhausted",
            AgentStatus::Failed => "failed",
            AgentStatus::Cancelled => "cancelled",
        }
    }
}

/// One tool call the model asked for, and what came of it.
#[derive(Clone)]
pub struct ToolCallRecord {
    pub id: String,
    pub name: String,
    pub arguments: serde_json::Value,
    pub outcome: ToolOutcome,
    /// The content of the `tool` message the model received.
    pub content: String,
    pub duration_ms: u64,
    /// The turn (1-based model call) that asked for it.
    pub iteration: u64,
}

impl ToolCallRecord {
    pub fn ok(&self) -> bool {
        matches!(self.outcome, ToolOutcome::Ok(_))
    }

    pub fn error(&self) -> Option<&ToolError> {
        match &self.outcome {
            ToolOutcome::Err(e) => Some(e),
            ToolOutcome::Ok(_) => None,
        }
    }
}

/// What a run has done so far. Saved by checkpoints; passed back as
/// [`AgentConfig::resume`] to continue counting where it stopped.
#[derive(Clone, Default)]
pub struct AgentProgress {
    /// Model calls made.
    pub iterations: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Every tool call, oldest first (including denied ones).
    pub tool_calls: Vec<ToolCallRecord>,
    /// Names of denied tools, each once, in order of first denial.
    pub rejected: Vec<String>,
    /// Schema-correction turns used so far.
    pub schema_retries_used: u32,
    /// Ids of the non-idempotent tool calls whose handlers started and
    /// have not finished (the durable "tool started" record: on resume
    /// such a call gets the `interrupted` result and is not run again;
    /// an open call not listed here never started and runs).
    pub in_flight: Vec<String>,
    /// Index in the transcript of the first message the run added (its
    /// task); the ones before were given to it (seeded `messages`, a
    /// carried or earlier conversation). Kept across a resume.
    pub first_new_message: usize,
}

/// The result of a run.
pub struct AgentRun {
    pub status: AgentStatus,
    /// Why it `failed` (or was `cancelled`).
    pub error: Option<ToolError>,
    /// The last reply's text (raw).
    pub text: String,
    /// `text` without `<think>` blocks and without the done sentinel.
    pub visible_text: String,
    /// Parsed JSON of the final answer (`response_format`/`schema`).
    pub data: Value,
    pub progress: AgentProgress,
    pub transcript: Transcript,
}

/// What the hooks see after a turn.
pub struct TurnView<'a> {
    /// The model call this turn made (1-based, counting resumed ones).
    pub iteration: u64,
    /// The reply text of this turn.
    pub text: &'a str,
    /// This turn's tool calls (finished).
    pub tool_calls: &'a [ToolCallRecord],
    /// Everything so far (including this turn).
    pub progress: &'a AgentProgress,
    /// The conversation so far: the reply and every tool result of this
    /// turn are in it.
    pub transcript: &'a Transcript,
}

/// Extension points of a run, for hosts and the workers layer (snapshots
/// after every turn, cancellation). All methods have no-op defaults.
///
/// Resuming: build the config with `transcript` = the saved transcript,
/// `task: None` and `resume: Some(saved progress)`. If the transcript ends
/// with an assistant message whose tool calls lack results, those calls are
/// settled first: a call with a record in `progress.tool_calls` gets that
/// record's content again (not re-run); otherwise an `idempotent` tool is run
/// again and any other gets the tool error `interrupted`.
pub trait AgentHooks {
    /// Polled before every model call and tool call; `true` ends the run
    /// with status `cancelled` (the pending tool calls of the turn get a
    /// `cancelled` tool result so the transcript stays well formed).
    fn cancelled(&self) -> bool {
        false
    }

    /// A tool call passed its checks and its handler is about to run;
    /// `progress.in_flight` already lists it when the tool is not
    /// idempotent, and `transcript` ends with the turn that asked for it.
    /// The handler runs once the returned future is done, so a durable
    /// checkpoint written here tells "started but not finished" apart on
    /// resume. An error (the checkpoint could not be made durable) ends
    /// the run before the handler runs and propagates to the caller.
    fn tool_started<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        _call: &'a ToolCall,
        _progress: &'a AgentProgress,
        _transcript: &'a Transcript,
    ) -> LocalBoxFuture<'a, RtResult<()>> {
        Box::pin(async { Ok(()) })
    }

    /// A tool call's approval parked (`awaiting_approval`): the run ends
    /// with that error right after. `transcript` ends with the turn that
    /// asked for the call (and the results of the calls before it), so a
    /// durable checkpoint written here lets a re-run continue at the call.
    fn approval_parked<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        _progress: &'a AgentProgress,
        _transcript: &'a Transcript,
    ) -> LocalBoxFuture<'a, ()> {
        Box::pin(async {})
    }

    /// A tool call finished: its record is the last of
    /// `progress.tool_calls` and its result is in `transcript`. The next
    /// tool call or model call waits for the returned future.
    fn tool_finished<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        _progress: &'a AgentProgress,
        _transcript: &'a Transcript,
    ) -> LocalBoxFuture<'a, ()> {
        Box::pin(async {})
    }

    /// After each turn (the model's reply and all its tool calls), before
    /// the loop decides whether to go on. An error ends the run and
    /// propagates to the caller.
    fn after_turn<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        _turn: TurnView<'a>,
    ) -> LocalBoxFuture<'a, RtResult<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// Hooks that do nothing (the `agent_loop` builtin).
pub struct NoHooks;

impl AgentHooks for NoHooks {}
