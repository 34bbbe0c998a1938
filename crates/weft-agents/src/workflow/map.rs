//! `map` nodes: the `each` template (any kind) runs once per item of
//! `items` (a list, or a function of `ctx` returning one) with `ctx.item`,
//! at most `max_concurrent` at a time, each item as its own `spawn_local`
//! task. `join: "all"` waits for every item, `"first"` for the first
//! success, `"quorum"` for `min_completed` successes (or until that is no
//! longer possible); the items still running are then cancelled. Output:
//! `{results: [successful outputs in item order], failed: [{item, error}]}`;
//! branch `success` when the join is met (for `all`: no item failed).

use std::rc::Rc;

use serde_json::json;
use tokio::task::JoinSet;
use weft_vm::error::{type_error, RtResult};
use weft_vm::value::{dict_from, dict_get, to_json, Value};
use weft_vm::vm::Vm;

use super::exec::{error_value, run_with_retry, NodeResult, RunEnv};
use super::nodes::{JoinRule, Node, NodeKind};
use crate::workers::registry::Usage;

/// The items of a map node.
pub async fn items_of(vm: &mut Vm, items: &Value, ctx: &Value, node: &str) -> RtResult<Vec<Value>> {
    let v = if items.is_callable() {
        vm.call_value(items, std::slice::from_ref(ctx)).await?
    } else {
        items.clone()
    };
    match &v {
        Value::List(l) => Ok(l.to_vec()),
        other => Err(type_error(format!(
            "map '{node}': 'items' must give a list, got {}",
            other.type_name()
        ))),
    }
}

/// Runs a map node.
pub async fn run_map(vm: &mut Vm, env: &Rc<RunEnv>, node: &Rc<Node>, ctx: &Value) -> NodeResult {
    let NodeKind::Map {
        items,
        each,
        max_concurrent,
        join,
    } = &node.kind
    else {
        unreachable!("run_map is only called for map nodes")
    };
    let list = match items_of(vm, items, ctx, &node.id).await {
        Ok(l) => l,
        Err(e) => return NodeResult::failed(&e, serde_json::Value::Null),
    };
    let input_json = json!({"items": to_json(&Value::list(list.clone())).unwrap_or_default()});
    let node_input = match ctx {
        Value::Dict(d) => dict_get(d, "input").cloned().unwrap_or(Value::Nil),
        _ => Value::Nil,
    };
    let total = list.len();
    let mut outcomes: Vec<Option<NodeResult>> = vec![None; total];
    let mut tasks: JoinSet<(usize, RtResult<NodeResult>)> = JoinSet::new();
    let mut next = 0;
    let (mut ok, mut bad) = (0usize, 0usize);
    let needed = match join {
        JoinRule::All => total,
        JoinRule::First => 1,
        JoinRule::Quorum(n) => *n,
    };
    let start = |tasks: &mut JoinSet<(usize, RtResult<NodeResult>)>, i: usize| {
        let (env, each, input, item) = (
            env.clone(),
            each.clone(),
            node_input.clone(),
            list[i].clone(),
        );
        tasks.spawn_local(async move { (i, run_with_retry(env, each, input, Some(item)).await) });
    };
    while next < total.min(*max_concurrent) {
        start(&mut tasks, next);
        next += 1;
    }
    let mut usage = Usage::default();
    while let Some(joined) = tasks.join_next().await {
        let (i, r) = match joined {
            Ok(x) => x,
            Err(e) if e.is_cancelled() => continue,
            Err(_) => continue,
        };
        let r = r.unwrap_or_else(|e| NodeResult::failed(&e, serde_json::Value::Null));
        usage.add(&r.usage);
        if r.is_failed() {
            bad += 1;
        } else {
            ok += 1;
        }
        outcomes[i] = Some(r);
        let met = match join {
            JoinRule::All => ok + bad == total,
            _ => ok >= needed,
        };
        let hopeless = !matches!(join, JoinRule::All) && ok + (total - ok - bad) < needed;
        if met || hopeless {
            tasks.abort_all();
            break;
        }
        if next < total {
            start(&mut tasks, next);
            next += 1;
        }
    }
    drop(tasks);
    let mut results = Vec::new();
    let mut failed = Vec::new();
    for (i, o) in outcomes.into_iter().enumerate() {
        match o {
            Some(r) if !r.is_failed() => results.push(r.output),
            Some(r) => failed.push(dict_from([("item", list[i].clone()), ("error", r.error)])),
            None => {}
        }
    }
    let met = match join {
        JoinRule::All => bad == 0,
        _ => ok >= needed,
    };
    let output = dict_from([
        ("results", Value::list(results)),
        ("failed", Value::list(failed)),
    ]);
    NodeResult {
        output,
        branch: if met { "success" } else { "failed" }.into(),
        error: if met {
            Value::Nil
        } else {
            error_value(
                "join_failed",
                &format!(
                    "map '{}': join {} not met: {ok} of {total} items succeeded, {bad} failed",
                    node.id,
                    match join {
                        JoinRule::All => "all".to_string(),
                        JoinRule::First => "first".to_string(),
                        JoinRule::Quorum(n) => format!("quorum ({n})"),
                    }
                ),
            )
        },
        usage,
        worker_id: None,
        input: input_json,
        attempts: 1,
        cached: false,
    }
}
