//! Conditions and jumps: a condition compiled with the jump taken when
//! it is false (comparisons of small locals fused with the jump), loop
//! conditions rotated to the bottom of the loop, back-edge distances.

use weft_syntax::ast::{BinOp, Expr, ExprKind};
use weft_syntax::Span;

use super::Compiler;
use crate::bytecode::Op;
use crate::value::Value;

impl<'a, 'ast> Compiler<'a, 'ast> {
    /// Compiles a condition and a jump taken when it is false; returns the
    /// jump to patch. Comparisons fuse with the jump.
    pub(super) fn compile_cond_jump(&mut self, cond: &'ast Expr) -> usize {
        if let ExprKind::Binary { op, lhs, rhs } = &cond.kind {
            let jump = match op {
                BinOp::Lt => Some(Op::JumpIfNotLt(0)),
                BinOp::Le => Some(Op::JumpIfNotLe(0)),
                BinOp::Gt => Some(Op::JumpIfNotGt(0)),
                BinOp::Ge => Some(Op::JumpIfNotGe(0)),
                BinOp::Eq => Some(Op::JumpIfNotEq(0)),
                BinOp::Ne => Some(Op::JumpIfNotNe(0)),
                _ => None,
            };
            if let Some(j) = jump {
                if let Some(at) = self.fused_local_compare(*op, lhs, rhs, cond.span) {
                    return at;
                }
                if self.enter(cond.span) {
                    self.compile_expr(lhs);
                    self.compile_expr(rhs);
                    self.leave();
                }
                return self.emit_jump(j, cond.span);
            }
        }
        self.compile_expr(cond);
        self.emit_jump(Op::JumpIfFalse(0), cond.span)
    }

    /// The slot of a plain (non-cell) local below 256 named by `e`.
    pub(super) fn small_local(&mut self, e: &Expr) -> Option<u8> {
        let ExprKind::Ident(name) = &e.kind else {
            return None;
        };
        if self.take_expr == Some(e as *const Expr) {
            return None;
        }
        match self.resolve(name)? {
            super::scope::Resolved::Local(idx) => {
                let l = &self.cur().locals[idx];
                if l.is_cell {
                    return None;
                }
                u8::try_from(l.slot).ok()
            }
            _ => None,
        }
    }

    /// `local CMP int` or `local CMP local` as one compare-and-jump.
    fn fused_local_compare(
        &mut self,
        op: BinOp,
        lhs: &'ast Expr,
        rhs: &'ast Expr,
        span: Span,
    ) -> Option<usize> {
        let a = self.small_local(lhs)?;
        if let ExprKind::Int(n) = rhs.kind {
            let n = i16::try_from(n).ok()?;
            let op = match op {
                BinOp::Lt => Op::JumpIfNotLocalLtInt { slot: a, n, off: 0 },
                BinOp::Le => Op::JumpIfNotLocalLeInt { slot: a, n, off: 0 },
                BinOp::Gt => Op::JumpIfNotLocalGtInt { slot: a, n, off: 0 },
                BinOp::Ge => Op::JumpIfNotLocalGeInt { slot: a, n, off: 0 },
                BinOp::Eq => Op::JumpIfNotLocalEqInt { slot: a, n, off: 0 },
                BinOp::Ne => Op::JumpIfNotLocalNeInt { slot: a, n, off: 0 },
                _ => return None,
            };
            return Some(self.emit_jump(op, span));
        }
        let b = self.small_local(rhs)?;
        let cmp = comparison(op)?;
        Some(self.emit_jump(Op::JumpIfNotLocals { cmp, a, b, off: 0 }, span))
    }

    /// Loop rotation: at the end of a `while` body whose condition is
    /// `local CMP int` or `local CMP local`, emits the fused back-edge
    /// ([`Op::LoopIfLocalK`] / [`Op::LoopIfLocals`]) that re-tests the
    /// condition and jumps straight back to the body at `body_start`. The
    /// loop's ordinary `Jump` to its condition follows it (the slow path).
    pub(super) fn emit_rotated_condition(&mut self, cond: &'ast Expr, body_start: usize) {
        let ExprKind::Binary { op, lhs, rhs } = &cond.kind else {
            return;
        };
        let Some(cmp) = comparison(*op) else {
            return;
        };
        let Some(a) = self.small_local(lhs) else {
            return;
        };
        let Some(back) = self.back_distance(body_start) else {
            return;
        };
        let op = if let ExprKind::Int(n) = rhs.kind {
            let Ok(k) = u16::try_from(self.add_const(Value::Int(n))) else {
                return;
            };
            Op::LoopIfLocalK {
                cmp,
                slot: a,
                k,
                back,
            }
        } else if let Some(b) = self.small_local(rhs) {
            Op::LoopIfLocals { cmp, a, b, back }
        } else {
            return;
        };
        self.emit(op, cond.span);
    }

    /// The `back` operand of a back-edge emitted next that jumps to
    /// `target`, if the distance fits.
    pub(super) fn back_distance(&mut self, target: usize) -> Option<u16> {
        u16::try_from(self.here() + 1 - target).ok()
    }
}

/// The fused-jump comparison of a comparison operator.
fn comparison(op: BinOp) -> Option<crate::bytecode::Cmp> {
    use crate::bytecode::Cmp;
    Some(match op {
        BinOp::Lt => Cmp::Lt,
        BinOp::Le => Cmp::Le,
        BinOp::Gt => Cmp::Gt,
        BinOp::Ge => Cmp::Ge,
        BinOp::Eq => Cmp::Eq,
        BinOp::Ne => Cmp::Ne,
        _ => return None,
    })
}
