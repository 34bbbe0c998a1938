//! Charging one model call to the caller's budget scope: before the
//! request is sent, its size (a conservative estimate) plus the output it
//! may produce is held — the call's `max_tokens`, lowered to what the
//! tokens and cost pools have left and sent to the provider so the reply
//! cannot be larger — together with one model call and its cost; when the
//! reply comes back the hold is corrected to the reported usage. A failed
//! call keeps its model call but releases its tokens and cost; a call that
//! never ended (cancelled) keeps the whole hold.

use std::rc::Rc;

use weft_vm::budget::{Amounts, Budget, Dim, Exceeded};
use weft_vm::error::{value_error, RtResult};
use weft_vm::vm::Vm;

use super::{current, exceeded_error};
use crate::llm::{ChatRequest, ChatResponse};
use crate::state::AgentState;

/// Output tokens held when a budgeted call sets no `max_tokens` (also the
/// `max_tokens` then sent).
pub const DEFAULT_OUTPUT_HOLD: u64 = 4096;

const WHO: &str = "model call refused";

/// A charge held for a call in flight.
pub struct Hold {
    budget: Rc<Budget>,
    held: Amounts,
    state: Rc<AgentState>,
    model: String,
}

/// The input size of `req` in tokens, estimated high: a character count
/// of everything sent divided by 3, plus 4 per message.
pub fn estimate_input(req: &ChatRequest) -> u64 {
    let mut chars = req.system.as_deref().map_or(0, |s| s.chars().count());
    for m in &req.messages {
        chars += m.content.chars().count();
        for c in &m.tool_calls {
            chars += c.name.chars().count() + c.arguments.to_string().chars().count();
        }
    }
    for t in &req.tools {
        chars += t.name.chars().count()
            + t.description.chars().count()
            + t.parameters.to_string().chars().count();
    }
    chars.div_ceil(3) as u64 + 4 * req.messages.len() as u64
}

/// Holds the charge of `req` (lowering its `max_tokens` to what the budget
/// allows); `None` when no budget applies to the caller.
pub fn hold(vm: &Vm, req: &mut ChatRequest) -> RtResult<Option<Hold>> {
    let Some(budget) = current(vm) else {
        return Ok(None);
    };
    let state = vm.program.ext::<AgentState>();
    let left = budget.remaining();
    let input = estimate_input(req);
    let mut out = req.max_tokens.map_or(DEFAULT_OUTPUT_HOLD, u64::from);
    let mut capped = false;
    if let Some(tokens_left) = left[Dim::Tokens as usize] {
        if input >= tokens_left {
            return Err(exceeded_error(
                WHO,
                &Exceeded::Amount {
                    dim: Dim::Tokens,
                    needed: input + 1,
                    remaining: tokens_left,
                },
            ));
        }
        out = out.min(tokens_left - input);
        capped = true;
    }
    let prices = state.budget.prices.borrow().clone();
    if let Some(cost_left) = left[Dim::Cost as usize] {
        let Some(input_cost) = prices.cost_pico(&req.model, input, 0) else {
            return Err(value_error(format!(
                "a cost_usd budget applies but model '{}' has no price (add it to the price table: weft run --prices FILE.json)",
                req.model
            )));
        };
        if input_cost >= cost_left {
            return Err(exceeded_error(
                WHO,
                &Exceeded::Amount {
                    dim: Dim::Cost,
                    needed: input_cost + 1,
                    remaining: cost_left,
                },
            ));
        }
        if let Some(n) = prices.output_affordable(&req.model, cost_left - input_cost) {
            out = out.min(n);
        }
        if out == 0 {
            return Err(exceeded_error(
                WHO,
                &Exceeded::Amount {
                    dim: Dim::Cost,
                    needed: prices.cost_pico(&req.model, input, 1).unwrap_or(0),
                    remaining: cost_left,
                },
            ));
        }
        capped = true;
    }
    if capped {
        req.max_tokens = Some(out.min(u32::MAX as u64) as u32);
    }
    let held = amounts(&prices, &req.model, input, out);
    budget.hold(held).map_err(|e| exceeded_error(WHO, &e))?;
    Ok(Some(Hold {
        budget,
        held,
        state,
        model: req.model.clone(),
    }))
}

fn amounts(prices: &super::PriceTable, model: &str, input: u64, output: u64) -> Amounts {
    let mut a = [0; weft_vm::budget::DIMS];
    a[Dim::Tokens as usize] = input + output;
    a[Dim::ModelCalls as usize] = 1;
    a[Dim::Cost as usize] = prices.cost_pico(model, input, output).unwrap_or(0);
    a
}

impl Hold {
    /// Replaces the hold by what the call used (`None`: it failed).
    pub fn settle(self, reply: Option<&ChatResponse>) {
        let prices = self.state.budget.prices.borrow().clone();
        let actual = match reply {
            Some(r) => amounts(&prices, &self.model, r.input_tokens, r.output_tokens),
            None => {
                let mut a = [0; weft_vm::budget::DIMS];
                a[Dim::ModelCalls as usize] = 1;
                a
            }
        };
        self.budget.settle(self.held, actual);
    }
}
