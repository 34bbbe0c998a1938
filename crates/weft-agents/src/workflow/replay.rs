//! Deterministic replay (workflows.md §4): a new run of the graph in which
//! `stage`, `subagent`, `verify` and `map` nodes take their result from the
//! recorded run instead of calling models, tools or commands. The k-th
//! execution of a node uses the k-th recorded execution of that node, and
//! only when the node's input (rendered prompt, task, command or items) is
//! the recorded one; otherwise the replay stops with a `value_error` naming
//! the stage and what differs. `condition`, `code` and `join` nodes are
//! plain script and run again.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use weft_vm::error::{value_error, RtResult};

use super::exec::NodeResult;
use super::nodes::NodeKind;
use super::record::{RunRecord, StageRecord};

/// The recordings of one run, per node, oldest first.
pub struct Replay {
    pub source: String,
    book: RefCell<HashMap<String, VecDeque<StageRecord>>>,
    used: RefCell<HashMap<String, usize>>,
}

impl Replay {
    pub fn new(rec: &RunRecord) -> Replay {
        let mut book: HashMap<String, VecDeque<StageRecord>> = HashMap::new();
        for s in rec
            .stages
            .iter()
            .filter(|s| s.status == "completed" || s.status == "failed")
        {
            book.entry(s.node.clone()).or_default().push_back(s.clone());
        }
        Replay {
            source: rec.id.clone(),
            book: RefCell::new(book),
            used: Default::default(),
        }
    }

    /// Whether nodes of this kind are replayed from the recording.
    pub fn applies_to(&self, kind: &NodeKind) -> bool {
        matches!(
            kind,
            NodeKind::Stage { .. }
                | NodeKind::Subagent { .. }
                | NodeKind::Verify { .. }
                | NodeKind::Map { .. }
        )
    }

    /// The recorded result of the next execution of `node`, if its input
    /// matches.
    pub fn next(&self, node: &str, input: serde_json::Value) -> RtResult<NodeResult> {
        let n = {
            let mut used = self.used.borrow_mut();
            let n = used.entry(node.to_string()).or_insert(0);
            *n += 1;
            *n
        };
        let Some(rec) = self
            .book
            .borrow_mut()
            .get_mut(node)
            .and_then(VecDeque::pop_front)
        else {
            return Err(value_error(format!(
                "replay of run {}: stage '{node}' (execution {n}) was not in the recording",
                self.source
            )));
        };
        if rec.input != input {
            return Err(value_error(format!(
                "replay of run {}: the inputs of stage '{node}' (execution {n}) differ from the recording: {}",
                self.source,
                describe_difference(&rec.input, &input)
            )));
        }
        Ok(NodeResult {
            output: rec.output,
            branch: rec.branch.unwrap_or_else(|| "success".to_string()),
            error: rec.error,
            usage: rec.usage,
            worker_id: rec.worker_id,
            input,
            attempts: rec.attempts,
            cached: false,
        })
    }
}

/// `prompt: recorded "a", now "b"` for the first differing field.
fn describe_difference(recorded: &serde_json::Value, now: &serde_json::Value) -> String {
    if let (Some(a), Some(b)) = (recorded.as_object(), now.as_object()) {
        for (k, va) in a {
            let vb = b.get(k).unwrap_or(&serde_json::Value::Null);
            if va != vb {
                return format!("{k}: recorded {}, now {}", short(va), short(vb));
            }
        }
        for (k, vb) in b {
            if !a.contains_key(k) {
                return format!("{k}: not recorded, now {}", short(vb));
            }
        }
    }
    format!("recorded {}, now {}", short(recorded), short(now))
}

fn short(v: &serde_json::Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(120).collect();
        format!("{cut}...")
    } else {
        s
    }
}
