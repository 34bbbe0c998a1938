//! The `approval` node (issue 17 §1): `{kind: "approval", question,
//! choices?, default?, timeout_ms?}` asks a human through the same sources
//! as `request_approval` (stored answer, host callback, terminal, else
//! durable parking) and finishes with branch `approved`, `rejected` or
//! `timeout`; its output is the answer `{approved, choice, comment, by,
//! at}` (nil after a timeout without `default`).
//!
//! The question is a template over `ctx` (or a function of it), like a
//! stage's prompt. A request that parks is not a node result: it stops the
//! run (`awaiting_approval`, the node stays pending, the stage and the run
//! are recorded as `awaiting_approval`), and running the keyed program
//! again runs the node again — which now finds the answer — and goes on,
//! without repeating the stages before it.

use serde_json::json;
use weft_vm::error::RtResult;
use weft_vm::value::{dict_from, dict_get, DictMap, Value};
use weft_vm::vm::Vm;

use super::exec::{render, NodeResult, RunEnv};
use super::graph::Problem;
use super::nodes::{required_text, Text};
use crate::approval::options::{parse_request, ApprovalRequest};

/// The keys of an approval node (besides the common ones).
pub const KEYS: [&str; 4] = ["question", "choices", "default", "timeout_ms"];

/// A parsed approval node.
#[derive(Clone)]
pub struct ApprovalNode {
    pub question: Text,
    /// `choices`, `default` and `timeout_ms` (the question is rendered per
    /// run).
    pub request: ApprovalRequest,
}

/// Parses node `id`'s approval keys, adding its problems.
pub fn parse(id: &str, rest: &DictMap, problems: &mut Vec<Problem>) -> Option<ApprovalNode> {
    let question = required_text(id, rest, "question", problems);
    let opts: Vec<(&str, Value)> = ["choices", "default", "timeout_ms"]
        .into_iter()
        .filter_map(|k| dict_get(rest, k).map(|v| (k, v.clone())))
        .collect();
    let who = format!("node '{id}'");
    let request = match parse_request(&Value::str("?"), Some(&dict_from(opts)), &who) {
        Ok(r) => r,
        Err(e) => {
            problems.push(Problem::new("bad_value", Some(id), e.message()));
            return None;
        }
    };
    Some(ApprovalNode {
        question: question?,
        request,
    })
}

/// Runs an approval node. `Err` (parked, or a failure of the answer
/// source) stops the run; a timeout is the `timeout` branch.
pub async fn run(
    vm: &mut Vm,
    env: &RunEnv,
    id: &str,
    node: &ApprovalNode,
    ctx: &Value,
) -> RtResult<NodeResult> {
    let question = match render(vm, &node.question, ctx, id, "question").await {
        Ok(q) => q,
        Err(e) => return Ok(NodeResult::failed(&e, serde_json::Value::Null)),
    };
    let input = json!({"question": question});
    let mut req = node.request.clone();
    req.question = question;
    req.data = json!({"workflow": env.workflow, "run_id": env.run_id, "node": id});
    match crate::approval::ask(vm, req, &format!("node '{id}'")).await {
        Ok(answer) => {
            let field = |k: &str| match &answer {
                Value::Dict(d) => dict_get(d, k).cloned().unwrap_or(Value::Nil),
                _ => Value::Nil,
            };
            let branch = if field("by").as_str() == Some("timeout") {
                "timeout"
            } else if matches!(field("approved"), Value::Bool(true)) {
                "approved"
            } else {
                "rejected"
            };
            Ok(NodeResult::ok(answer, branch, input))
        }
        Err(e) if e.category() == "timeout" => Ok(NodeResult::ok(Value::Nil, "timeout", input)),
        Err(e) => Err(e),
    }
}
