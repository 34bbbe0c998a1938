//! Helpers of the dispatch loop kept out of its way: error construction for
//! undefined globals, reading a path-assignment root, and the comparisons of
//! the compare-and-jump instructions.

use super::ops::ordered;
use super::Vm;
use crate::bytecode::{Cmp, LocKind, Op};
use crate::error::{RtError, RtResult};
use crate::value::{values_equal, Closure, Value};

impl Vm {
    pub(super) fn undefined_global(&self, g: u32) -> Box<RtError> {
        let name = self
            .program
            .global_names
            .borrow()
            .get(g as usize)
            .cloned()
            .unwrap_or_default();
        RtError::new(
            "undefined",
            format!("'{name}' was used before its definition ran"),
        )
    }

    /// The current value of a path assignment's root variable.
    pub(super) fn path_root_value(
        &self,
        kind: LocKind,
        idx: u32,
        base: usize,
        closure: &Closure,
    ) -> Value {
        match kind {
            LocKind::Local => self.stack[base + idx as usize].clone(),
            LocKind::Cell => match &self.stack[base + idx as usize] {
                Value::Cell(c) => c.borrow().clone(),
                other => other.clone(),
            },
            LocKind::UpvalCell => match &closure.upvalues[idx as usize] {
                Value::Cell(c) => c.borrow().clone(),
                other => other.clone(),
            },
            LocKind::Global => self.program.globals.borrow()[idx as usize].clone(),
        }
    }
}

#[inline(always)]
pub(super) fn int_cmp(cmp: Cmp, x: i64, y: i64) -> bool {
    match cmp {
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
    }
}

/// A comparison of arbitrary values (cells are looked through).
pub(super) fn slow_cmp(cmp: Cmp, a: &Value, b: &Value) -> RtResult<bool> {
    if let Value::Cell(c) = a {
        return slow_cmp(cmp, &c.borrow(), b);
    }
    if let Value::Cell(c) = b {
        return slow_cmp(cmp, a, &c.borrow());
    }
    match cmp {
        Cmp::Eq => Ok(values_equal(a, b)),
        Cmp::Ne => Ok(!values_equal(a, b)),
        Cmp::Lt => ordered(Op::Lt, a, b),
        Cmp::Le => ordered(Op::Le, a, b),
        Cmp::Gt => ordered(Op::Gt, a, b),
        Cmp::Ge => ordered(Op::Ge, a, b),
    }
}

/// The comparison of a `JumpIfNot{Lt,Le,Gt,Ge,Eq,Ne}` on the two operands
/// `a`, `b` below the top of the stack.
#[inline(always)]
pub(super) fn stack_cmp(op: Op, a: &Value, b: &Value) -> RtResult<bool> {
    Ok(match (op, a, b) {
        (Op::JumpIfNotLt(_), Value::Int(x), Value::Int(y)) => x < y,
        (Op::JumpIfNotLe(_), Value::Int(x), Value::Int(y)) => x <= y,
        (Op::JumpIfNotGt(_), Value::Int(x), Value::Int(y)) => x > y,
        (Op::JumpIfNotGe(_), Value::Int(x), Value::Int(y)) => x >= y,
        (Op::JumpIfNotEq(_), _, _) => values_equal(a, b),
        (Op::JumpIfNotNe(_), _, _) => !values_equal(a, b),
        _ => {
            let cmp = match op {
                Op::JumpIfNotLt(_) => Op::Lt,
                Op::JumpIfNotLe(_) => Op::Le,
                Op::JumpIfNotGt(_) => Op::Gt,
                _ => Op::Ge,
            };
            ordered(cmp, a, b)?
        }
    })
}

/// The comparison of a `JumpIfNotLocal{Lt,Le,Gt,Ge,Eq,Ne}Int`.
#[inline(always)]
pub(super) fn local_int_cmp(op: Op) -> Cmp {
    match op {
        Op::JumpIfNotLocalLtInt { .. } => Cmp::Lt,
        Op::JumpIfNotLocalLeInt { .. } => Cmp::Le,
        Op::JumpIfNotLocalGtInt { .. } => Cmp::Gt,
        Op::JumpIfNotLocalGeInt { .. } => Cmp::Ge,
        Op::JumpIfNotLocalEqInt { .. } => Cmp::Eq,
        _ => Cmp::Ne,
    }
}
