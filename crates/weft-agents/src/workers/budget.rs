//! A worker's budget scope over its cycles: the scope is opened (reserved
//! from the spawner's) at spawn and closed when a cycle ends; the next
//! cycle (`send_input`) reserves what it has left again. A cycle whose
//! wall time runs out ends `failed` with `budget_exceeded`.

use std::rc::Rc;

use super::registry::Worker;
use super::run::{error_value, failure_envelope, Outcome};

/// Opens the worker's scope again for a new cycle; refused as a failed
/// cycle with `budget_exceeded`.
pub fn reopen(w: &Rc<Worker>) -> Result<(), Outcome> {
    let scope = w.ctx.borrow().budget.clone();
    match scope.map(|b| b.reopen()) {
        None | Some(Ok(())) => Ok(()),
        Some(Err(e)) => {
            let err = error_value("budget_exceeded", &format!("worker {}: {e}", w.id), None);
            Err(Outcome::failed(failure_envelope(w, err.clone()), err))
        }
    }
}

/// The outcome of a cycle stopped because the worker's wall time ran out.
pub fn wall_spent(w: &Rc<Worker>) -> Outcome {
    let err = error_value(
        "budget_exceeded",
        &format!(
            "worker {}: {}",
            w.id,
            weft_vm::budget::Exceeded::Wall {
                needed_ms: 0,
                remaining_ms: 0
            }
        ),
        None,
    );
    Outcome::failed(failure_envelope(w, err.clone()), err)
}
