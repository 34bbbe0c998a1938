//! Control flow: `if`, `while`, `for`, `match`, `try`/`catch`/`finally`,
//! and the jumps out of them (`break`, `continue`, `return`, `throw`).
//!
//! `finally` blocks are compiled inline on every way out of their `try`:
//! after the body, after the catch, in an error handler that re-raises,
//! and before each `break`/`continue`/`return` that leaves the `try`.

use weft_syntax::ast::{Block, CatchClause, Expr, MatchArm, Pattern};
use weft_syntax::Span;

use super::scope::{LoopCtx, TryCtx};
use super::Compiler;
use crate::bytecode::Op;

impl<'a, 'ast> Compiler<'a, 'ast> {
    pub(super) fn compile_if(
        &mut self,
        cond: &'ast Expr,
        then_block: &'ast Block,
        else_branch: Option<&'ast Expr>,
        want_value: bool,
        span: Span,
    ) {
        let to_else = self.compile_cond_jump(cond);
        self.compile_block(then_block, want_value);
        let to_end = self.emit_jump(Op::Jump(0), span);
        self.patch_jump(to_else);
        match else_branch {
            Some(e) if want_value => self.compile_expr(e),
            Some(e) => self.compile_expr_discard(e),
            None if want_value => {
                self.emit(Op::Nil, span);
            }
            None => {}
        }
        self.patch_jump(to_end);
    }

    /// A block in value or statement position.
    pub(super) fn compile_block(&mut self, block: &'ast Block, want_value: bool) {
        self.cur().begin_scope();
        self.compile_stmts(&block.stmts, want_value);
        self.end_scope();
    }

    fn begin_loop(&mut self, span: Span) -> usize {
        let height_site = self.emit(Op::Nop, span);
        let try_depth = self.cur().tries.len();
        let start = self.here();
        self.cur().loops.push(LoopCtx {
            breaks: Vec::new(),
            continues: Vec::new(),
            height_slot: None,
            height_site,
            try_depth,
        });
        start
    }

    fn end_loop(&mut self, continue_target: usize) {
        let ctx = self.cur().loops.pop().expect("loop context");
        for b in ctx.breaks {
            self.patch_jump(b);
        }
        for c in ctx.continues {
            self.patch_jump_to(c, continue_target);
        }
    }

    pub(super) fn compile_while(
        &mut self,
        cond: &'ast Expr,
        body: &'ast Block,
        want_value: bool,
        span: Span,
    ) {
        let start = self.begin_loop(span);
        let exit = self.compile_cond_jump(cond);
        let body_start = self.here();
        self.compile_block(body, false);
        self.emit_rotated_condition(cond, body_start);
        self.emit_loop(start, span);
        self.patch_jump(exit);
        self.end_loop(start);
        if want_value {
            self.emit(Op::Nil, span);
        }
    }

    pub(super) fn compile_for(
        &mut self,
        pattern: &'ast Pattern,
        iter: &'ast Expr,
        body: &'ast Block,
        want_value: bool,
        span: Span,
    ) {
        self.cur().begin_scope();
        self.compile_expr(iter);
        let slot = self.hidden_slot();
        let _cursor = self.hidden_slot();
        self.emit(Op::IterInit(slot), iter.span);
        let start = self.begin_loop(span);
        let exit = self.emit_jump(Op::IterNext { slot, exit: 0 }, pattern.span);
        self.cur().begin_scope();
        self.compile_destructure(pattern, false, false);
        self.compile_stmts(&body.stmts, false);
        self.end_scope();
        if let Some(back) = self.back_distance(exit + 1) {
            self.emit(Op::IterLoop { slot, back }, pattern.span);
        }
        self.emit_loop(start, span);
        self.patch_jump(exit);
        self.end_loop(start);
        self.end_scope();
        if want_value {
            self.emit(Op::Nil, span);
        }
    }

    /// `break` / `continue`: leave the `try` blocks between here and the
    /// loop (running their `finally` code), restore the stack height, jump.
    pub(super) fn compile_loop_exit(&mut self, is_break: bool, span: Span) {
        let Some(ctx) = self.cur().loops.last() else {
            let word = if is_break { "break" } else { "continue" };
            self.error("compile_error", format!("`{word}` outside of a loop"), span);
            return;
        };
        let try_depth = ctx.try_depth;
        self.unwind_tries(try_depth, span);
        let slot = match self.cur().loops.last().and_then(|l| l.height_slot) {
            Some(s) => s,
            None => {
                // The loop's stack height is saved on demand: a hidden slot
                // in the function's outermost scope, so it outlives blocks.
                let slot = self.permanent_hidden_slot();
                let f = self.cur();
                let ctx = f.loops.last_mut().expect("loop context");
                ctx.height_slot = Some(slot);
                let site = ctx.height_site;
                f.code[site] = Op::SaveHeight(slot);
                slot
            }
        };
        self.emit(Op::RestoreHeight(slot), span);
        let at = self.emit_jump(Op::Jump(0), span);
        let ctx = self.cur().loops.last_mut().expect("loop context");
        if is_break {
            ctx.breaks.push(at);
        } else {
            ctx.continues.push(at);
        }
    }

    /// A slot that is never reused within this function.
    fn permanent_hidden_slot(&mut self) -> u16 {
        let f = self.cur();
        let slot = f.alloc_slot();
        f.permanent_floor = f.permanent_floor.max(slot + 1);
        slot
    }

    /// Emits the exits of the `try` blocks above `depth` (innermost first):
    /// remove their handlers and run their `finally` code.
    fn unwind_tries(&mut self, depth: usize, span: Span) {
        let mut i = self.cur().tries.len();
        while i > depth {
            i -= 1;
            let (handler, finally) = {
                let t = &self.cur().tries[i];
                (t.handler, t.finally)
            };
            if handler {
                self.emit(Op::PopHandler, span);
            }
            if let Some(block) = finally {
                // Compile the finally code as if outside this try.
                let saved = self.cur().tries.split_off(i);
                self.compile_block(block, false);
                self.cur().tries.extend(saved);
            }
        }
    }

    pub(super) fn compile_return(&mut self, value: Option<&'ast Expr>, span: Span) {
        if self.fns.len() == 1 {
            self.error("compile_error", "`return` outside of a function", span);
            return;
        }
        match value {
            Some(v) => self.compile_expr(v),
            None => {
                self.emit(Op::Nil, span);
            }
        }
        self.unwind_tries(0, span);
        self.emit(Op::Return, span);
    }

    pub(super) fn compile_match(
        &mut self,
        subject: &'ast Expr,
        arms: &'ast [MatchArm],
        want_value: bool,
        span: Span,
    ) {
        self.cur().begin_scope();
        self.compile_expr(subject);
        let src = self.hidden_slot();
        self.emit(Op::StoreLocal(src), subject.span);
        let mut ends = Vec::new();
        for arm in arms {
            self.cur().begin_scope();
            if !self.declare_pattern_locals(&arm.pattern) {
                self.end_scope();
                continue;
            }
            let mut fails = Vec::new();
            self.compile_pattern_test(&arm.pattern, src, &mut fails);
            if let Some(guard) = &arm.guard {
                fails.push(self.compile_cond_jump(guard));
            }
            if want_value {
                self.compile_expr(&arm.body);
            } else {
                self.compile_expr_discard(&arm.body);
            }
            self.end_scope();
            ends.push(self.emit_jump(Op::Jump(0), arm.span));
            for f in fails {
                self.patch_jump(f);
            }
        }
        if want_value {
            self.emit(Op::Nil, span);
        }
        for e in ends {
            self.patch_jump(e);
        }
        self.end_scope();
    }

    pub(super) fn compile_try(
        &mut self,
        body: &'ast Block,
        catch: Option<&'ast CatchClause>,
        finally: Option<&'ast Block>,
        want_value: bool,
        span: Span,
    ) {
        let handler = self.emit_jump(
            Op::PushHandler {
                offset: 0,
                finally: catch.is_none(),
            },
            span,
        );
        self.cur().tries.push(TryCtx {
            handler: true,
            finally,
        });
        self.compile_block(body, want_value);
        self.cur().tries.pop();
        self.emit(Op::PopHandler, span);
        let mut to_finally = vec![self.emit_jump(Op::Jump(0), span)];
        self.patch_jump(handler);
        // The handler target: the VM pushed the error.
        let mut finally_handler = None;
        match catch {
            Some(c) => {
                if finally.is_some() {
                    finally_handler = Some(self.emit_jump(
                        Op::PushHandler {
                            offset: 0,
                            finally: true,
                        },
                        c.span,
                    ));
                    self.cur().tries.push(TryCtx {
                        handler: true,
                        finally,
                    });
                }
                self.cur().begin_scope();
                match &c.binding {
                    Some(p) => self.compile_destructure(p, false, false),
                    None => {
                        self.emit(Op::Pop, c.span);
                    }
                }
                self.compile_stmts(&c.body.stmts, want_value);
                self.end_scope();
                if finally.is_some() {
                    self.cur().tries.pop();
                    self.emit(Op::PopHandler, c.span);
                }
                to_finally.push(self.emit_jump(Op::Jump(0), c.span));
            }
            None => {
                // try/finally without catch: the handler runs finally and re-raises.
                finally_handler = Some(handler);
            }
        }
        if let Some(block) = finally {
            // Error path: run finally, then re-raise the error in flight.
            let err_path = self.here();
            if catch.is_some() {
                if let Some(h) = finally_handler {
                    self.patch_jump_to(h, err_path);
                }
            } else {
                self.patch_jump_to(handler, err_path);
            }
            self.compile_block(block, false);
            self.emit(Op::Rethrow, block.span);
            // Normal path.
            for j in to_finally {
                self.patch_jump(j);
            }
            self.compile_block(block, false);
        } else {
            for j in to_finally {
                self.patch_jump(j);
            }
        }
    }
}
