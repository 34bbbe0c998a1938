//! Run events: `run_started`, `run_resumed`, `stage_started`,
//! `stage_finished` and `run_finished`, shaped like worker events
//! (`{seq, at, kind, run_id, workflow, worker_id, data}`) and sent to the
//! same places (host sink, `--events`, `events.jsonl`) with the same `seq`.

use serde_json::json;

use super::exec::RunEnv;
use crate::workers::events::publish;
use crate::workers::registry::now;
use crate::workers::run::registry;

/// Sends one event of the run `env` belongs to.
pub fn emit_run(env: &RunEnv, kind: &str, data: serde_json::Value) {
    let state = registry(&env.program);
    let reg = &state.workers;
    let seq = reg.seq.get() + 1;
    reg.seq.set(seq);
    let worker = reg.current(&env.ctx).map(|w| w.id.clone());
    let ev = json!({
        "seq": seq, "at": now(), "kind": kind, "run_id": env.run_id,
        "workflow": env.workflow, "worker_id": worker, "data": data,
    });
    publish(reg, &ev);
}
