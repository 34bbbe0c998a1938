//! The hooks a worker's agent loop calls: usage roll-up to the worker and
//! its ancestors, progress events, and the checkpoints that make a started
//! tool call and a finished turn durable.

use std::rc::Rc;

use serde_json::json;
use weft_vm::error::RtResult;
use weft_vm::vm::{Program, Vm};

use super::events::{emit, snapshot_later};
use super::registry::{Usage, Worker};
use super::run::registry;
use crate::agent_loop::{AgentHooks, TurnView};
use crate::transcript::Transcript;

/// Hooks of a worker's agent loop: usage roll-up, progress events and
/// checkpoints.
pub(super) struct WorkerHooks {
    pub(super) program: Rc<Program>,
    pub(super) worker: Rc<Worker>,
    pub(super) last: Usage,
    /// The iteration whose turn was last made durable by `tool_started`.
    pub(super) turn_saved: u64,
    /// Why the worker must stop before its next step (on a cluster host:
    /// its checkpoint could not be written after a tool finished).
    pub(super) stopped: Option<Box<weft_vm::error::RtError>>,
}

/// The usage an agent loop's progress accounts for.
fn usage_of(p: &crate::agent_loop::AgentProgress) -> Usage {
    Usage {
        input_tokens: p.input_tokens,
        output_tokens: p.output_tokens,
        iterations: p.iterations,
        tool_calls: p.tool_calls.len() as u64,
    }
}

impl WorkerHooks {
    fn roll_up(&mut self, now: Usage) {
        let delta = Usage {
            input_tokens: now.input_tokens.saturating_sub(self.last.input_tokens),
            output_tokens: now.output_tokens.saturating_sub(self.last.output_tokens),
            iterations: now.iterations.saturating_sub(self.last.iterations),
            tool_calls: now.tool_calls.saturating_sub(self.last.tool_calls),
        };
        self.last = now;
        let state = registry(&self.program);
        let reg = &state.workers;
        let mut cur = Some(self.worker.clone());
        while let Some(w) = cur {
            let mut u = w.usage.get();
            u.add(&delta);
            w.usage.set(u);
            cur = w.parent_id.as_ref().and_then(|p| reg.get(p));
        }
    }
}

impl AgentHooks for WorkerHooks {
    fn cancelled(&self) -> bool {
        self.stopped.is_some()
    }

    fn tool_started<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        call: &'a crate::llm::ToolCall,
        progress: &'a crate::agent_loop::AgentProgress,
        transcript: &'a Transcript,
    ) -> weft_vm::builtins::LocalBoxFuture<'a, RtResult<()>> {
        Box::pin(async move {
            let state = registry(&self.program);
            emit(
                &state.workers,
                &self.worker,
                "tool_started",
                json!({"id": call.id, "name": call.name, "iteration": progress.iterations}),
            );
            // Durable before the handler runs: the turn that asked for the
            // call (so a crash does not repeat that model call) and, for a
            // non-idempotent tool, the "started" record (so it is reported
            // `interrupted` instead of running twice). A later idempotent
            // call of the same turn is covered by the previous call's
            // finished checkpoint.
            let first_of_turn = self.turn_saved != progress.iterations;
            if !first_of_turn && !progress.in_flight.contains(&call.id) {
                return Ok(());
            }
            self.turn_saved = progress.iterations;
            // The snapshot's usage covers the turn its checkpoint holds (a
            // resumed worker counts on from the checkpoint).
            self.roll_up(usage_of(progress));
            *self.worker.checkpoint.borrow_mut() =
                super::durable::checkpoint_json(progress, transcript);
            let state = registry(&self.program);
            super::events::snapshot_now(&state.workers, &self.worker).await;
            crate::cluster::checkpoints::save(&self.program, &self.worker).await
        })
    }

    fn approval_parked<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        progress: &'a crate::agent_loop::AgentProgress,
        transcript: &'a Transcript,
    ) -> weft_vm::builtins::LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            // The turn that asked for the call is durable, so a re-run
            // resumes at the call instead of asking the model again.
            *self.worker.checkpoint.borrow_mut() =
                super::durable::checkpoint_json(progress, transcript);
            let state = registry(&self.program);
            super::events::snapshot_now(&state.workers, &self.worker).await;
            // The run ends right after this (parked); on a cluster host a
            // refused write marks the job lost and drops its result.
            let _ = crate::cluster::checkpoints::save(&self.program, &self.worker).await;
        })
    }

    fn tool_finished<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        progress: &'a crate::agent_loop::AgentProgress,
        transcript: &'a Transcript,
    ) -> weft_vm::builtins::LocalBoxFuture<'a, ()> {
        Box::pin(async move {
            let state = registry(&self.program);
            if let Some(rec) = progress.tool_calls.last() {
                let mut data = json!({"id": rec.id, "name": rec.name, "ok": true,
                    "duration_ms": rec.duration_ms, "iteration": rec.iteration});
                if let crate::tools::ToolOutcome::Err(e) = &rec.outcome {
                    data["ok"] = false.into();
                    data["error"] = json!({"category": e.category, "message": e.message});
                }
                emit(&state.workers, &self.worker, "tool_finished", data);
            }
            // A finished call's result is durable before anything else
            // happens, so it is never run again.
            self.roll_up(usage_of(progress));
            *self.worker.checkpoint.borrow_mut() =
                super::durable::checkpoint_json(progress, transcript);
            super::events::snapshot_now(&state.workers, &self.worker).await;
            if let Err(e) = crate::cluster::checkpoints::save(&self.program, &self.worker).await {
                self.stopped = Some(e);
            }
        })
    }

    fn after_turn<'a>(
        &'a mut self,
        _vm: &'a mut Vm,
        turn: TurnView<'a>,
    ) -> weft_vm::builtins::LocalBoxFuture<'a, RtResult<()>> {
        Box::pin(async move {
            let p = turn.progress;
            self.roll_up(usage_of(p));
            *self.worker.checkpoint.borrow_mut() =
                super::durable::checkpoint_json(p, turn.transcript);
            let state = registry(&self.program);
            let reg = &state.workers;
            emit(
                reg,
                &self.worker,
                "worker_progress",
                json!({"iteration": turn.iteration, "input_tokens": p.input_tokens,
                       "output_tokens": p.output_tokens, "tool_calls": p.tool_calls.len()}),
            );
            // Each tool call's result was made durable when it finished;
            // a final turn is followed at once by the terminal snapshot.
            snapshot_later(reg, &self.worker);
            if let Some(e) = self.stopped.take() {
                return Err(e);
            }
            crate::cluster::checkpoints::save(&self.program, &self.worker).await
        })
    }
}
