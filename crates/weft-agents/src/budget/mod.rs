//! Budgets across the delegation tree, agent side (the ledger itself is
//! `weft_vm::budget`): the run's root budget and price table
//! ([`BudgetState`]), the scope a task charges to ([`current`]), parsing of
//! `budget: {...}` options, the `budget_exceeded` error, holding and
//! correcting a model call's charge ([`charge`]), and `budget_remaining()`.

pub mod charge;
pub mod prices;

use std::cell::RefCell;
use std::rc::Rc;

use weft_vm::budget::{Budget, BudgetLimits, Dim, Exceeded, Spent, PICO_PER_USD};
use weft_vm::builtins::{sync, Args, BuiltinDef};
use weft_vm::error::{RtError, RtResult};
use weft_vm::value::{dict_from, DictMap, Value};
use weft_vm::vm::Vm;

use crate::state::AgentState;
use crate::tools::keys::{check_keys, opt_type};

pub use prices::PriceTable;

/// The run's budget settings.
#[derive(Default)]
pub struct BudgetState {
    /// The root budget (`--budget`, `EngineBuilder::budget`); `None` = no
    /// limit above the scopes a script opens.
    pub root: RefCell<Option<Rc<Budget>>>,
    /// Per-model prices for `cost_usd`.
    pub prices: RefCell<PriceTable>,
}

/// The scope `vm`'s task charges to: its own, else the run's root.
pub fn current(vm: &Vm) -> Option<Rc<Budget>> {
    if let Some(b) = &vm.ctx.budget {
        return Some(b.clone());
    }
    vm.program.ext::<AgentState>().budget.root.borrow().clone()
}

/// The `budget_exceeded` error: `WHO: REASON`.
pub fn exceeded_error(who: &str, e: &Exceeded) -> Box<RtError> {
    RtError::new("budget_exceeded", format!("{who}: {e}"))
}

/// Opens a scope below `vm`'s for `limits` (reserving them), counting a
/// worker when `count_worker`; refused with `budget_exceeded`.
pub fn open_scope(
    vm: &Vm,
    limits: BudgetLimits,
    prior: Spent,
    count_worker: bool,
    who: &str,
) -> RtResult<Rc<Budget>> {
    Budget::open_child(current(vm).as_ref(), limits, prior, count_worker)
        .map_err(|e| exceeded_error(who, &e))
}

/// Closes a scope when dropped (a workflow run's or node's, on every way
/// out).
pub struct Scoped(pub Rc<Budget>);

impl Drop for Scoped {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// Parses `budget: {tokens?, model_calls?, wall_ms?, workers?, cost_usd?}`
/// (nil = no budget). Unknown keys get a did-you-mean.
pub fn parse_budget(v: &Value, who: &str) -> RtResult<Option<BudgetLimits>> {
    let d = match v {
        Value::Nil => return Ok(None),
        Value::Dict(d) => d,
        other => {
            return Err(opt_type(
                who,
                "budget",
                "a dict {tokens, model_calls, wall_ms, workers, cost_usd}",
                other,
            ))
        }
    };
    parse_budget_map(d, who).map(Some)
}

fn parse_budget_map(d: &DictMap, who: &str) -> RtResult<BudgetLimits> {
    check_keys(d, who, "budget", &BudgetLimits::KEYS)?;
    let int = |k: &str| -> RtResult<Option<u64>> {
        match weft_vm::value::dict_get(d, k) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Int(n)) if *n >= 0 => Ok(Some(*n as u64)),
            Some(Value::Int(n)) => Err(weft_vm::error::value_error(format!(
                "{who}: budget.{k} must not be negative, got {n}"
            ))),
            Some(other) => Err(opt_type(who, &format!("budget.{k}"), "an int", other)),
        }
    };
    let cost_usd = match weft_vm::value::dict_get(d, "cost_usd") {
        None | Some(Value::Nil) => None,
        Some(Value::Int(n)) if *n >= 0 => Some(*n as f64),
        Some(Value::Float(f)) if *f >= 0.0 && f.is_finite() => Some(*f),
        Some(v @ (Value::Int(_) | Value::Float(_))) => {
            return Err(weft_vm::error::value_error(format!(
                "{who}: budget.cost_usd must be a finite number of at least 0, got {}",
                v.to_repr()
            )))
        }
        Some(other) => return Err(opt_type(who, "budget.cost_usd", "a number", other)),
    };
    Ok(BudgetLimits {
        tokens: int("tokens")?,
        model_calls: int("model_calls")?,
        wall_ms: int("wall_ms")?,
        workers: int("workers")?,
        cost_usd,
    })
}

/// A scope's state for records: `{limits, spent}`.
pub fn scope_json(b: &Budget) -> serde_json::Value {
    serde_json::json!({"limits": b.limits().to_json(), "spent": b.spent().to_json()})
}

/// What a stored record says a scope had spent (`{spent: ...}`).
pub fn stored_spent(v: &serde_json::Value) -> Spent {
    v.get("spent").map(Spent::from_json).unwrap_or_default()
}

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![sync(
        "budget_remaining",
        &[],
        0,
        0,
        "agents",
        "What the caller's budget has left: `{tokens, model_calls, wall_ms, workers, cost_usd}` (nil where there is no limit).",
        budget_remaining,
    )]
}

fn budget_remaining(vm: &mut Vm, _: &mut Args) -> RtResult<Value> {
    let Some(b) = current(vm) else {
        return Ok(dict_from(
            BudgetLimits::KEYS.map(|k| (k, Value::Nil)).to_vec(),
        ));
    };
    let left = b.remaining();
    let int =
        |d: Dim| left[d as usize].map_or(Value::Nil, |n| Value::Int(n.min(i64::MAX as u64) as i64));
    Ok(dict_from([
        ("tokens", int(Dim::Tokens)),
        ("model_calls", int(Dim::ModelCalls)),
        (
            "wall_ms",
            b.wall_remaining_ms()
                .map_or(Value::Nil, |n| Value::Int(n as i64)),
        ),
        ("workers", int(Dim::Workers)),
        (
            "cost_usd",
            left[Dim::Cost as usize].map_or(Value::Nil, |n| Value::Float(n as f64 / PICO_PER_USD)),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: Vec<(&str, Value)>) -> Result<Option<BudgetLimits>, Box<RtError>> {
        parse_budget(&dict_from(pairs), "spawn_worker")
    }

    fn ok(r: RtResult<Option<BudgetLimits>>) -> Option<BudgetLimits> {
        match r {
            Ok(v) => v,
            Err(e) => panic!("{}", e.message()),
        }
    }

    fn err(r: RtResult<Option<BudgetLimits>>) -> Box<RtError> {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    #[test]
    fn options_are_typed_and_checked() {
        let l = ok(parse(vec![
            ("tokens", Value::Int(10)),
            ("cost_usd", Value::Float(0.5)),
        ]))
        .unwrap();
        assert_eq!(l.tokens, Some(10));
        assert_eq!(l.cost_usd, Some(0.5));
        let e = err(parse(vec![("tokns", Value::Int(1))]));
        assert_eq!(
            e.message(),
            "spawn_worker: unknown budget option 'tokns' (did you mean 'tokens'?)"
        );
        let e = err(parse(vec![("tokens", Value::Int(-1))]));
        assert_eq!(
            e.message(),
            "spawn_worker: budget.tokens must not be negative, got -1"
        );
        let e = err(parse(vec![("wall_ms", Value::str("1s"))]));
        assert_eq!(e.category(), "type_error");
        assert!(ok(parse_budget(&Value::Nil, "x")).is_none());
        assert_eq!(
            err(parse_budget(&Value::Int(3), "x")).message(),
            "x: option 'budget' must be a dict {tokens, model_calls, wall_ms, workers, cost_usd}, got int"
        );
    }
}
