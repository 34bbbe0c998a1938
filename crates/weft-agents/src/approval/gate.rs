//! Approval of calls rather than of questions (issue 17 §1): a model's
//! call of a tool that `requires_approval` (or that the policy's `approve`
//! lists as `tool:NAME`), and a builtin call the policy's `approve` lists
//! (`write_file`, `shell`, ...), from script code, tool handlers and
//! workers alike. Each asks through [`super::ask`] — stored answer, host
//! callback, terminal, else durable parking — with a question naming the
//! call and its arguments, so the same call in a re-run finds its answer.
//!
//! A rejection is a [`Rejection`]: the agent loop hands it to the model as
//! the tool result `{error: "approval_rejected", tool, reason}`; a builtin
//! call fails with category `approval_rejected`. Parking
//! (`awaiting_approval`) and other failures are errors.

use std::rc::Rc;

use weft_vm::error::{value_error, RtError, RtResult};
use weft_vm::policy::check_approve_entry;
use weft_vm::value::{dict_get, to_json, Value};
use weft_vm::vm::{ApprovalGate, Program, Vm};

use super::options::ApprovalRequest;

/// The error category of a rejected call.
pub const REJECTED: &str = "approval_rejected";

/// Longest argument text shown in a question (the full arguments are in
/// the request's `data`).
const SHOWN_ARGS: usize = 160;

/// A human said no: who, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub reason: String,
}

/// Checks the entries of a policy's `approve` list against the program's
/// builtins (`value_error` with a did-you-mean for an unknown one).
pub fn check_entries<'a>(
    program: &Program,
    entries: impl IntoIterator<Item = &'a String>,
    who: &str,
) -> RtResult<()> {
    for e in entries {
        check_approve_entry(e, program.builtins.iter().map(|b| b.name))
            .map_err(|m| value_error(format!("{who}: policy.{m}")))?;
    }
    Ok(())
}

/// Asks whether the model may call tool `name` with `arguments`.
/// `Ok(Err(_))`: rejected; `Err`: parked (`awaiting_approval`) or failed.
pub async fn approve_tool_call(
    vm: &mut Vm,
    name: &str,
    arguments: &serde_json::Value,
) -> RtResult<Result<(), Rejection>> {
    let req = ApprovalRequest {
        question: format!(
            "allow tool '{name}' with {}?",
            shorten(&arguments.to_string())
        ),
        choices: Vec::new(),
        default: None,
        timeout_ms: None,
        data: serde_json::json!({"tool": name, "arguments": arguments}),
    };
    decide(vm, req, &format!("tool '{name}'")).await
}

/// Asks whether builtin `name` may run with `args`.
async fn approve_builtin_call(
    vm: &mut Vm,
    name: &str,
    args: &[Value],
) -> RtResult<Result<(), Rejection>> {
    let shown: Vec<String> = args.iter().map(Value::to_repr).collect();
    let data_args: Vec<serde_json::Value> = args
        .iter()
        .map(|a| to_json(a).unwrap_or_else(|_| serde_json::Value::String(a.to_repr())))
        .collect();
    let req = ApprovalRequest {
        question: format!("allow {name}({})?", shorten(&shown.join(", "))),
        choices: Vec::new(),
        default: None,
        timeout_ms: None,
        data: serde_json::json!({"builtin": name, "args": data_args}),
    };
    decide(vm, req, name).await
}

async fn decide(vm: &mut Vm, req: ApprovalRequest, what: &str) -> RtResult<Result<(), Rejection>> {
    let answer = super::ask(vm, req, what).await?;
    let Value::Dict(d) = &answer else {
        return Err(RtError::new(
            "internal",
            format!("{what}: an approval answer is not a dict"),
        ));
    };
    if matches!(dict_get(d, "approved"), Some(Value::Bool(true))) {
        return Ok(Ok(()));
    }
    let by = dict_get(d, "by").and_then(Value::as_str).unwrap_or("?");
    let reason = match dict_get(d, "comment").and_then(Value::as_str) {
        Some(c) if !c.is_empty() => format!("the call was rejected by {by}: {c}"),
        _ => format!("the call was rejected by {by}"),
    };
    Ok(Err(Rejection { reason }))
}

/// Installs the VM's approval gate for builtin calls.
pub fn install(program: &Program) {
    let gate: ApprovalGate = Rc::new(|vm: &mut Vm, name: &'static str, args: &[Value]| {
        Box::pin(async move {
            match approve_builtin_call(vm, name, args).await? {
                Ok(()) => Ok(()),
                Err(r) => Err(RtError::new(REJECTED, format!("{name}: {}", r.reason))),
            }
        })
    });
    *program.approval_gate.borrow_mut() = Some(gate);
}

/// `s`, cut to [`SHOWN_ARGS`] characters with an ellipsis.
fn shorten(s: &str) -> String {
    if s.chars().count() <= SHOWN_ARGS {
        return s.to_string();
    }
    let cut: String = s.chars().take(SHOWN_ARGS).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_arguments_are_shortened() {
        assert_eq!(shorten("abc"), "abc");
        let long = "x".repeat(500);
        let s = shorten(&long);
        assert_eq!(s.chars().count(), SHOWN_ARGS + 1);
        assert!(s.ends_with('…'));
    }
}
