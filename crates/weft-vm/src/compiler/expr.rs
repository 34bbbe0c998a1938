//! Expressions: literals, operators, pipes, calls and method calls,
//! member/index/slice access with optional chaining, closures.

use weft_syntax::ast::{
    Arg, BinOp, DictItem, DictKey, Expr, ExprKind, ListItem, TemplatePart, UnaryOp,
};
use weft_syntax::Span;

use super::scope::Resolved;
use super::Compiler;
use crate::bytecode::Op;
use crate::value::Value;

/// One argument of a call being compiled: from source, or the piped value.
#[derive(Clone, Copy)]
enum ArgSrc<'ast> {
    Arg(&'ast Arg),
    Slot(u16),
}

impl<'a, 'ast> Compiler<'a, 'ast> {
    /// Compiles `e`, leaving its value on the stack.
    pub(super) fn compile_expr(&mut self, e: &'ast Expr) {
        if !self.enter(e.span) {
            self.emit(Op::Nil, e.span);
            return;
        }
        self.compile_expr_inner(e, true);
        self.leave();
    }

    /// Compiles `e` for its effects only.
    pub(super) fn compile_expr_discard(&mut self, e: &'ast Expr) {
        if !self.enter(e.span) {
            return;
        }
        match &e.kind {
            ExprKind::If { .. }
            | ExprKind::While { .. }
            | ExprKind::For { .. }
            | ExprKind::Match { .. }
            | ExprKind::Try { .. }
            | ExprKind::Block(_)
            | ExprKind::Return(_)
            | ExprKind::Break
            | ExprKind::Continue
            | ExprKind::Throw(_) => self.compile_expr_inner(e, false),
            _ => {
                self.compile_expr_inner(e, true);
                self.emit(Op::Pop, e.span);
            }
        }
        self.leave();
    }

    /// Emits `OP rhs` for an operand already on the stack, using the
    /// immediate forms for small int literals.
    pub(super) fn emit_binop_with(&mut self, op: BinOp, rhs: &'ast Expr, span: Span) {
        if let ExprKind::Int(n) = rhs.kind {
            if let Ok(n) = i32::try_from(n) {
                match op {
                    BinOp::Add => {
                        self.emit(Op::AddInt(n), span);
                        return;
                    }
                    BinOp::Sub if n != i32::MIN => {
                        self.emit(Op::AddInt(-n), span);
                        return;
                    }
                    BinOp::Lt => {
                        self.emit(Op::LtInt(n), span);
                        return;
                    }
                    BinOp::Rem if n != 0 => {
                        self.emit(Op::RemInt(n), span);
                        return;
                    }
                    BinOp::Mul => {
                        self.emit(Op::MulInt(n), span);
                        return;
                    }
                    _ => {}
                }
            }
        }
        self.compile_expr(rhs);
        self.emit_binop(op, span);
    }

    fn compile_expr_inner(&mut self, e: &'ast Expr, want_value: bool) {
        let span = e.span;
        match &e.kind {
            ExprKind::Nil => {
                self.emit(Op::Nil, span);
            }
            ExprKind::Bool(true) => {
                self.emit(Op::True, span);
            }
            ExprKind::Bool(false) => {
                self.emit(Op::False, span);
            }
            ExprKind::Int(i) => self.emit_int(*i, span),
            ExprKind::Float(f) => {
                let k = self.add_const(Value::Float(*f));
                self.emit(Op::Const(k), span);
            }
            ExprKind::Str(s) => {
                let k = self.str_const(s);
                self.emit(Op::Const(k), span);
            }
            ExprKind::Template(parts) => {
                for p in parts {
                    match p {
                        TemplatePart::Lit(s) => {
                            let k = self.str_const(s);
                            self.emit(Op::Const(k), span);
                        }
                        TemplatePart::Expr(x) => self.compile_expr(x),
                    }
                }
                self.emit(Op::Interp(parts.len() as u32), span);
            }
            ExprKind::Ident(name) => {
                let take = self.take_expr == Some(e as *const Expr);
                self.emit_load_name(name, take, span);
            }
            ExprKind::Placeholder => match self.pipe_slots.last() {
                Some(&slot) => {
                    self.emit(Op::LoadLocal(slot), span);
                }
                None => {
                    self.error(
                        "syntax_error",
                        "`_` can only stand for the piped value in a call on the right of `|>` (e.g. `x |> f(a, _)`)",
                        span,
                    );
                }
            },
            ExprKind::List(items) => self.compile_list(items, span),
            ExprKind::Dict(items) => self.compile_dict(items, span),
            ExprKind::Unary { op, expr } => match (op, &expr.kind) {
                (UnaryOp::Neg, ExprKind::Int(i)) => self.emit_int(i.wrapping_neg(), span),
                (UnaryOp::Neg, ExprKind::Float(f)) => {
                    let k = self.add_const(Value::Float(-f));
                    self.emit(Op::Const(k), span);
                }
                (UnaryOp::Neg, _) => {
                    self.compile_expr(expr);
                    self.emit(Op::Neg, span);
                }
                (UnaryOp::Not, _) => {
                    self.compile_expr(expr);
                    self.emit(Op::Not, span);
                }
            },
            ExprKind::Binary { op, lhs, rhs } => self.compile_binary(*op, lhs, rhs, span),
            ExprKind::Pipe { lhs, rhs } => self.compile_pipe(lhs, rhs, span),
            ExprKind::Call { .. }
            | ExprKind::MethodCall { .. }
            | ExprKind::Member { .. }
            | ExprKind::Index { .. }
            | ExprKind::Slice { .. } => self.compile_chain_root(e),
            ExprKind::Function(def) => {
                let name = def.name.clone().unwrap_or_else(|| "anonymous".to_string());
                self.compile_function(def, &name);
            }
            ExprKind::If {
                cond,
                then_block,
                else_branch,
            } => self.compile_if(cond, then_block, else_branch.as_deref(), want_value, span),
            ExprKind::While { cond, body } => self.compile_while(cond, body, want_value, span),
            ExprKind::For {
                pattern,
                iter,
                body,
            } => self.compile_for(pattern, iter, body, want_value, span),
            ExprKind::Match { subject, arms } => {
                self.compile_match(subject, arms, want_value, span)
            }
            ExprKind::Try {
                body,
                catch,
                finally,
            } => self.compile_try(body, catch.as_ref(), finally.as_ref(), want_value, span),
            ExprKind::Block(b) => self.compile_block(b, want_value),
            ExprKind::Return(v) => {
                self.compile_return(v.as_deref(), span);
                if want_value {
                    self.emit(Op::Nil, span);
                }
            }
            ExprKind::Break | ExprKind::Continue => {
                self.compile_loop_exit(matches!(e.kind, ExprKind::Break), span);
                if want_value {
                    self.emit(Op::Nil, span);
                }
            }
            ExprKind::Throw(v) => {
                self.compile_expr(v);
                self.emit(Op::Throw, span);
                if want_value {
                    self.emit(Op::Nil, span);
                }
            }
            ExprKind::Spawn(block) => {
                // `spawn { body }` is `spawn(fn() { body })`: the builtin
                // starts a task running the closure.
                self.compile_function_parts("spawn", &[], None, block, span);
                match self.host.builtin_id("spawn") {
                    Some(id) => {
                        self.emit(Op::CallBuiltin { id, argc: 1 }, span);
                    }
                    None => self.error(
                        "compile_error",
                        "`spawn` is not available in this build",
                        span,
                    ),
                }
            }
        }
    }

    fn emit_int(&mut self, i: i64, span: Span) {
        if let Ok(small) = i32::try_from(i) {
            self.emit(Op::Int(small), span);
        } else {
            let k = self.add_const(Value::Int(i));
            self.emit(Op::Const(k), span);
        }
    }

    fn compile_list(&mut self, items: &'ast [ListItem], span: Span) {
        let plain = items
            .iter()
            .take_while(|i| matches!(i, ListItem::Item(_)))
            .count();
        for item in &items[..plain] {
            if let ListItem::Item(e) = item {
                self.compile_expr(e);
            }
        }
        self.emit(Op::MakeList(plain as u32), span);
        for item in &items[plain..] {
            match item {
                ListItem::Item(e) => {
                    self.compile_expr(e);
                    self.emit(Op::ListAppend, e.span);
                }
                ListItem::Spread(e) => {
                    self.compile_expr(e);
                    self.emit(Op::ListExtend, e.span);
                }
            }
        }
    }

    fn compile_dict_key(&mut self, key: &'ast DictKey) {
        match key {
            DictKey::Name(n, s) | DictKey::Str(n, s) => {
                let k = self.str_const(n);
                self.emit(Op::Const(k), *s);
            }
            DictKey::Computed(e) => self.compile_expr(e),
        }
    }

    fn compile_dict(&mut self, items: &'ast [DictItem], span: Span) {
        let plain = items
            .iter()
            .take_while(|i| matches!(i, DictItem::Entry { .. }))
            .count();
        for item in &items[..plain] {
            if let DictItem::Entry { key, value } = item {
                self.compile_dict_key(key);
                self.compile_expr(value);
            }
        }
        self.emit(Op::MakeDict(plain as u32), span);
        for item in &items[plain..] {
            match item {
                DictItem::Entry { key, value } => {
                    self.compile_dict_key(key);
                    self.compile_expr(value);
                    self.emit(Op::DictInsert, value.span);
                }
                DictItem::Spread(e) => {
                    self.compile_expr(e);
                    self.emit(Op::DictExtend, e.span);
                }
            }
        }
    }

    pub(super) fn emit_binop(&mut self, op: BinOp, span: Span) {
        let code = match op {
            BinOp::Add => Op::Add,
            BinOp::Sub => Op::Sub,
            BinOp::Mul => Op::Mul,
            BinOp::Div => Op::Div,
            BinOp::Rem => Op::Rem,
            BinOp::Pow => Op::Pow,
            BinOp::Eq => Op::Eq,
            BinOp::Ne => Op::Ne,
            BinOp::Lt => Op::Lt,
            BinOp::Le => Op::Le,
            BinOp::Gt => Op::Gt,
            BinOp::Ge => Op::Ge,
            BinOp::In => Op::In,
            BinOp::NotIn => Op::NotIn,
            BinOp::Range => Op::MakeRange(false),
            BinOp::RangeInclusive => Op::MakeRange(true),
            BinOp::And | BinOp::Or | BinOp::Coalesce => {
                unreachable!("short-circuit operators are compiled with jumps")
            }
        };
        self.emit(code, span);
    }

    fn compile_binary(&mut self, op: BinOp, lhs: &'ast Expr, rhs: &'ast Expr, span: Span) {
        let short = match op {
            BinOp::And => Some(Op::JumpIfFalseOrPop(0)),
            BinOp::Or => Some(Op::JumpIfTrueOrPop(0)),
            BinOp::Coalesce => Some(Op::JumpIfNotNilOrPop(0)),
            _ => None,
        };
        if let Some(jump) = short {
            self.compile_expr(lhs);
            let j = self.emit_jump(jump, span);
            self.compile_expr(rhs);
            self.patch_jump(j);
            return;
        }
        if let (BinOp::Add | BinOp::Sub, ExprKind::Int(n)) = (op, &rhs.kind) {
            let n = if op == BinOp::Sub {
                n.checked_neg()
            } else {
                Some(*n)
            };
            if let (Some(n), Some(slot)) =
                (n.and_then(|n| i32::try_from(n).ok()), self.small_local(lhs))
            {
                self.emit(
                    Op::LoadLocalAddInt {
                        slot: slot as u16,
                        n,
                    },
                    span,
                );
                return;
            }
        }
        if let (BinOp::Rem | BinOp::Mul, ExprKind::Int(n)) = (op, &rhs.kind) {
            let n = i32::try_from(*n)
                .ok()
                .filter(|n| op == BinOp::Mul || *n != 0);
            if let (Some(n), Some(slot)) = (n, self.small_local(lhs)) {
                let slot = slot as u16;
                let op = if op == BinOp::Rem {
                    Op::LoadLocalRemInt { slot, n }
                } else {
                    Op::LoadLocalMulInt { slot, n }
                };
                self.emit(op, span);
                return;
            }
        }
        self.compile_expr(lhs);
        self.emit_binop_with(op, rhs, span);
    }

    fn compile_pipe(&mut self, lhs: &'ast Expr, rhs: &'ast Expr, span: Span) {
        self.cur().begin_scope();
        self.compile_expr(lhs);
        let slot = self.hidden_slot();
        self.emit(Op::StoreLocal(slot), lhs.span);
        match &rhs.kind {
            ExprKind::Call { callee, args } => {
                if args.iter().any(arg_has_placeholder) {
                    self.pipe_slots.push(slot);
                    let srcs: Vec<ArgSrc> = args.iter().map(ArgSrc::Arg).collect();
                    self.compile_call(callee, &srcs, rhs.span);
                    self.pipe_slots.pop();
                } else {
                    let mut srcs = vec![ArgSrc::Slot(slot)];
                    srcs.extend(args.iter().map(ArgSrc::Arg));
                    self.compile_call(callee, &srcs, rhs.span);
                }
            }
            ExprKind::MethodCall {
                receiver,
                name,
                name_span,
                args,
                optional,
            } => {
                let chain = self.chain_jumps.take();
                self.chain_jumps = Some(Vec::new());
                self.compile_chain_object(receiver);
                if *optional {
                    let j = self.emit_jump(Op::JumpIfNil(0), *name_span);
                    self.chain_jumps.as_mut().expect("chain").push(j);
                }
                if args.iter().any(arg_has_placeholder) {
                    self.pipe_slots.push(slot);
                    let srcs: Vec<ArgSrc> = args.iter().map(ArgSrc::Arg).collect();
                    self.compile_method_call(name, *name_span, &srcs, rhs.span);
                    self.pipe_slots.pop();
                } else {
                    let mut srcs = vec![ArgSrc::Slot(slot)];
                    srcs.extend(args.iter().map(ArgSrc::Arg));
                    self.compile_method_call(name, *name_span, &srcs, rhs.span);
                }
                let jumps = self.chain_jumps.take().unwrap_or_default();
                for j in jumps {
                    self.patch_jump(j);
                }
                self.chain_jumps = chain;
            }
            _ => {
                let srcs = [ArgSrc::Slot(slot)];
                self.compile_call(rhs, &srcs, span);
            }
        }
        self.end_scope();
    }

    /// Compiles a postfix chain (`a.b?.c(d)[e]`); every `?.` in it jumps to
    /// the end of the whole chain with nil.
    fn compile_chain_root(&mut self, e: &'ast Expr) {
        let outer = self.chain_jumps.replace(Vec::new());
        self.compile_chain_link(e);
        let jumps = self.chain_jumps.take().unwrap_or_default();
        for j in jumps {
            self.patch_jump(j);
        }
        self.chain_jumps = outer;
    }

    /// The object of a postfix link: part of the same chain when it is a
    /// postfix expression itself.
    fn compile_chain_object(&mut self, object: &'ast Expr) {
        match &object.kind {
            ExprKind::Call { .. }
            | ExprKind::MethodCall { .. }
            | ExprKind::Member { .. }
            | ExprKind::Index { .. }
            | ExprKind::Slice { .. } => {
                if self.enter(object.span) {
                    self.compile_chain_link(object);
                    self.leave();
                }
            }
            _ => self.compile_fresh(object),
        }
    }

    /// Compiles a sub-expression outside the current optional chain.
    fn compile_fresh(&mut self, e: &'ast Expr) {
        let saved = self.chain_jumps.take();
        self.compile_expr(e);
        self.chain_jumps = saved;
    }

    fn optional_jump(&mut self, optional: bool, span: Span) {
        if optional {
            let j = self.emit_jump(Op::JumpIfNil(0), span);
            self.chain_jumps.get_or_insert_with(Vec::new).push(j);
        }
    }

    fn compile_chain_link(&mut self, e: &'ast Expr) {
        match &e.kind {
            ExprKind::Call { callee, args } => {
                let srcs: Vec<ArgSrc> = args.iter().map(ArgSrc::Arg).collect();
                self.compile_call(callee, &srcs, e.span);
            }
            ExprKind::MethodCall {
                receiver,
                name,
                name_span,
                args,
                optional,
            } => {
                self.compile_chain_object(receiver);
                self.optional_jump(*optional, *name_span);
                let srcs: Vec<ArgSrc> = args.iter().map(ArgSrc::Arg).collect();
                self.compile_method_call(name, *name_span, &srcs, e.span);
            }
            ExprKind::Member {
                object,
                name,
                name_span,
                optional,
            } => {
                self.compile_chain_object(object);
                self.optional_jump(*optional, *name_span);
                let k = self.str_const(name);
                self.emit(Op::GetField(k), e.span);
            }
            ExprKind::Index {
                object,
                index,
                optional,
            } => {
                self.compile_chain_object(object);
                self.optional_jump(*optional, e.span);
                self.compile_fresh(index);
                self.emit(Op::GetIndex, e.span);
            }
            ExprKind::Slice {
                object,
                start,
                end,
                optional,
            } => {
                self.compile_chain_object(object);
                self.optional_jump(*optional, e.span);
                if let Some(s) = start {
                    self.compile_fresh(s);
                }
                if let Some(x) = end {
                    self.compile_fresh(x);
                }
                self.emit(
                    Op::Slice {
                        start: start.is_some(),
                        end: end.is_some(),
                    },
                    e.span,
                );
            }
            _ => self.compile_fresh(e),
        }
    }

    /// Pushes the arguments; returns `Some(argc)` for a plain argument list
    /// or `None` when they were collected into one list (spreads, or more
    /// than 255 arguments).
    fn compile_args(&mut self, args: &[ArgSrc<'ast>], span: Span) -> Option<u8> {
        let spread = args
            .iter()
            .any(|a| matches!(a, ArgSrc::Arg(Arg::Spread(_))));
        if !spread && args.len() <= u8::MAX as usize {
            for a in args {
                self.compile_arg_value(*a);
            }
            return Some(args.len() as u8);
        }
        self.emit(Op::MakeList(0), span);
        for a in args {
            match a {
                ArgSrc::Arg(Arg::Spread(e)) => {
                    self.compile_fresh(e);
                    self.emit(Op::ListExtend, e.span);
                }
                other => {
                    self.compile_arg_value(*other);
                    self.emit(Op::ListAppend, span);
                }
            }
        }
        None
    }

    fn compile_arg_value(&mut self, a: ArgSrc<'ast>) {
        match a {
            ArgSrc::Arg(Arg::Positional(e)) | ArgSrc::Arg(Arg::Spread(e)) => self.compile_fresh(e),
            ArgSrc::Slot(s) => {
                self.emit(Op::LoadLocal(s), Span::default());
            }
        }
    }

    fn compile_call(&mut self, callee: &'ast Expr, args: &[ArgSrc<'ast>], span: Span) {
        if let ExprKind::Ident(name) = &callee.kind {
            if let Some(Resolved::Builtin(id)) = self.resolve(name) {
                match self.compile_args(args, span) {
                    Some(argc) => self.emit(Op::CallBuiltin { id, argc }, span),
                    None => self.emit(Op::CallBuiltinList(id), span),
                };
                return;
            }
        }
        self.compile_chain_object(callee);
        match self.compile_args(args, span) {
            Some(argc) => self.emit(Op::Call(argc), span),
            None => self.emit(Op::CallList, span),
        };
    }

    /// With the receiver on the stack: arguments, the scope candidate, and
    /// the method-call instruction.
    fn compile_method_call(
        &mut self,
        name: &str,
        name_span: Span,
        args: &[ArgSrc<'ast>],
        span: Span,
    ) {
        let k = self.str_const(name);
        let builtin = self.host.builtin_id(name).unwrap_or(u16::MAX);
        let argc = self.compile_args(args, span);
        let scoped = self.has_scoped_binding(name);
        if scoped {
            self.emit_load_name(name, false, name_span);
        }
        let op = match (argc, scoped) {
            (Some(argc), false) => Op::CallMethod {
                name: k,
                argc,
                builtin,
            },
            (Some(argc), true) => Op::CallMethodScoped {
                name: k,
                argc,
                builtin,
            },
            (None, scoped) => Op::CallMethodList {
                name: k,
                builtin,
                scoped,
            },
        };
        self.emit(op, span);
    }
}

/// Whether a call argument mentions the pipe placeholder `_` (not looking
/// inside nested pipes or closures, which have their own).
fn arg_has_placeholder(a: &Arg) -> bool {
    let e = match a {
        Arg::Positional(e) | Arg::Spread(e) => e,
    };
    has_placeholder(e, 0)
}

fn has_placeholder(e: &Expr, depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    let d = depth + 1;
    match &e.kind {
        ExprKind::Placeholder => true,
        ExprKind::Unary { expr, .. } => has_placeholder(expr, d),
        ExprKind::Binary { lhs, rhs, .. } => has_placeholder(lhs, d) || has_placeholder(rhs, d),
        ExprKind::Call { callee, args } => {
            has_placeholder(callee, d)
                || args.iter().any(|a| match a {
                    Arg::Positional(x) | Arg::Spread(x) => has_placeholder(x, d),
                })
        }
        ExprKind::MethodCall { receiver, args, .. } => {
            has_placeholder(receiver, d)
                || args.iter().any(|a| match a {
                    Arg::Positional(x) | Arg::Spread(x) => has_placeholder(x, d),
                })
        }
        ExprKind::Member { object, .. } => has_placeholder(object, d),
        ExprKind::Index { object, index, .. } => {
            has_placeholder(object, d) || has_placeholder(index, d)
        }
        ExprKind::List(items) => items.iter().any(|i| match i {
            ListItem::Item(x) | ListItem::Spread(x) => has_placeholder(x, d),
        }),
        ExprKind::Dict(items) => items.iter().any(|i| match i {
            DictItem::Entry { value, .. } => has_placeholder(value, d),
            DictItem::Spread(x) => has_placeholder(x, d),
        }),
        ExprKind::Template(parts) => parts.iter().any(|p| match p {
            TemplatePart::Expr(x) => has_placeholder(x, d),
            TemplatePart::Lit(_) => false,
        }),
        _ => false,
    }
}
