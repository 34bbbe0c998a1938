//! Statements: top-level declarations and imports, `let`/`var`, local
//! functions, assignment (including copy-on-write path assignment).

use std::collections::HashSet;

use weft_syntax::ast::{BinOp, Expr, ExprKind, PatternKind, Stmt, StmtKind};
use weft_syntax::suggest::did_you_mean;
use weft_syntax::Span;

use super::scope::{GlobalInfo, GlobalKind, Resolved};
use super::walk::{
    collect_function_idents, count_ident, pattern_names, walk_expr, CALLBACK_BUILTINS,
};
use super::Compiler;
use crate::bytecode::{LocKind, Op};

impl<'a, 'ast> Compiler<'a, 'ast> {
    /// Processes imports and allocates global slots for every top-level
    /// name before any code is compiled, so functions can refer to globals
    /// declared later in the file.
    pub(super) fn declare_top_level(
        &mut self,
        stmts: &'ast [Stmt],
        exports: &mut Vec<(String, GlobalInfo)>,
    ) {
        let mut own: HashSet<String> = HashSet::new();
        let mut imported: HashSet<String> = HashSet::new();
        for stmt in stmts {
            if let StmtKind::Import(imp) = &stmt.kind {
                let (module, names) = match self.host.import(&imp.path, &self.file, imp.path_span) {
                    Ok(r) => r,
                    Err(ds) => {
                        // A module imported twice reports its errors once.
                        for d in ds {
                            let seen = self.errors.iter().any(|e| {
                                e.category == d.category
                                    && e.message == d.message
                                    && e.span == d.span
                                    && e.file.as_ref().map(|f| &f.name)
                                        == d.file.as_ref().map(|f| &f.name)
                            });
                            if !seen {
                                self.errors.push(d);
                            }
                        }
                        match &imp.names {
                            None => self.failed_imports.any = true,
                            Some(list) => self.failed_imports.names.extend(
                                list.iter()
                                    .map(|n| n.alias.clone().unwrap_or_else(|| n.name.clone())),
                            ),
                        }
                        continue;
                    }
                };
                self.emit(Op::RunModule(module), stmt.span);
                self.emit(Op::Pop, stmt.span);
                let wanted: Vec<(String, String, Span)> = match &imp.names {
                    None => names
                        .iter()
                        .map(|(n, _)| (n.clone(), n.clone(), imp.path_span))
                        .collect(),
                    Some(list) => list
                        .iter()
                        .map(|n| {
                            (
                                n.name.clone(),
                                n.alias.clone().unwrap_or_else(|| n.name.clone()),
                                n.span,
                            )
                        })
                        .collect(),
                };
                for (name, local, span) in wanted {
                    let Some((_, info)) = names.iter().find(|(n, _)| *n == name) else {
                        let mut msg =
                            format!("module \"{}\" has no export named '{name}'", imp.path);
                        if let Some(s) = did_you_mean(&name, names.iter().map(|(n, _)| n.as_str()))
                        {
                            msg.push_str(&format!(" (did you mean '{s}'?)"));
                        }
                        self.error("import_error", msg, span);
                        self.failed_imports.names.insert(local);
                        continue;
                    };
                    if !imported.insert(local.clone()) {
                        self.error("import_error", format!("'{local}' is imported twice"), span);
                        continue;
                    }
                    let mut info = info.clone();
                    info.mutable = false;
                    info.kind = GlobalKind::Imported;
                    if imp.public {
                        exports.push((local.clone(), info.clone()));
                    }
                    self.globals.insert(local, info);
                }
            }
        }
        for stmt in stmts {
            if self.local_stmts.contains(&(stmt as *const Stmt)) {
                continue;
            }
            let (public, names, mutable, kind): (bool, Vec<(String, Span)>, bool, GlobalKind) =
                match &stmt.kind {
                    StmtKind::Let {
                        public,
                        mutable,
                        pattern,
                        ..
                    } => {
                        let mut names = Vec::new();
                        pattern_names(pattern, &mut names);
                        let kind = if *mutable {
                            GlobalKind::Var
                        } else {
                            GlobalKind::Let
                        };
                        (*public, names, *mutable, kind)
                    }
                    StmtKind::Fn { public, def } => (
                        *public,
                        vec![(def.name.clone().unwrap_or_default(), def.name_span)],
                        false,
                        GlobalKind::Fn,
                    ),
                    _ => continue,
                };
            for (name, span) in names {
                if imported.contains(&name) {
                    self.error(
                        "compile_error",
                        format!("'{name}' is already imported in this module"),
                        span,
                    );
                    continue;
                }
                let info = if own.contains(&name) {
                    let info = self.globals.get_mut(&name).expect("declared global");
                    info.mutable |= mutable;
                    if mutable {
                        info.kind = kind;
                    }
                    info.clone()
                } else {
                    own.insert(name.clone());
                    let slot = self.host.alloc_global(&name);
                    let info = GlobalInfo {
                        slot,
                        mutable,
                        kind,
                    };
                    self.globals.insert(name.clone(), info.clone());
                    info
                };
                if public && !exports.iter().any(|(n, _)| *n == name) {
                    exports.push((name, info));
                }
            }
        }
    }

    /// Chooses the top-level `let`/`var` statements that can be locals of
    /// the module's top level: not `pub`, and no function (or closure)
    /// in the module mentions any name they bind.
    pub(super) fn plan_top_level_locals(&mut self, stmts: &'ast [Stmt]) {
        if self.all_globals {
            return;
        }
        let mut must: HashSet<String> = HashSet::new();
        for stmt in stmts {
            collect_function_idents(stmt, &mut must);
            match &stmt.kind {
                StmtKind::Fn { def, .. } => {
                    if let Some(n) = &def.name {
                        must.insert(n.clone());
                    }
                }
                StmtKind::Let {
                    public: true,
                    pattern,
                    ..
                } => {
                    let mut names = Vec::new();
                    pattern_names(pattern, &mut names);
                    must.extend(names.into_iter().map(|(n, _)| n));
                }
                _ => {}
            }
        }
        // A statement binding any name that must be global makes all its
        // names global; repeat until stable.
        loop {
            let mut changed = false;
            for stmt in stmts {
                if let StmtKind::Let { pattern, .. } = &stmt.kind {
                    let mut names = Vec::new();
                    pattern_names(pattern, &mut names);
                    if names.iter().any(|(n, _)| must.contains(n)) {
                        for (n, _) in names {
                            changed |= must.insert(n);
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        for stmt in stmts {
            if let StmtKind::Let { pattern, .. } = &stmt.kind {
                let mut names = Vec::new();
                pattern_names(pattern, &mut names);
                if names.iter().all(|(n, _)| !must.contains(n)) {
                    self.local_stmts.insert(stmt as *const Stmt);
                }
            }
        }
    }

    /// Creates every top-level function before the first statement runs.
    pub(super) fn hoist_functions(&mut self, stmts: &'ast [Stmt]) {
        for stmt in stmts {
            if let StmtKind::Fn { def, .. } = &stmt.kind {
                let name = def.name.clone().unwrap_or_default();
                self.compile_function(def, &name);
                let slot = self.globals[&name].slot;
                self.emit(Op::StoreGlobal(slot), def.name_span);
            }
        }
    }

    /// Compiles a statement list. With `want_value` the value of the last
    /// statement (or nil) is left on the stack.
    pub(super) fn compile_stmts(&mut self, stmts: &'ast [Stmt], want_value: bool) {
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            if last && want_value {
                if let StmtKind::Expr(e) = &stmt.kind {
                    self.compile_expr(e);
                    return;
                }
                self.compile_stmt(stmt);
                self.emit(Op::Nil, stmt.span);
                return;
            }
            self.compile_stmt(stmt);
        }
        if want_value && stmts.is_empty() {
            let span = self.fns.last().map(|f| f.span).unwrap_or_default();
            self.emit(Op::Nil, span);
        }
    }

    /// Compiles a statement, leaving nothing on the stack.
    pub(super) fn compile_stmt(&mut self, stmt: &'ast Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.compile_expr_discard(e),
            StmtKind::Let {
                public,
                mutable,
                pattern,
                value,
            } => {
                let global = self.cur().at_global_scope()
                    && !self.local_stmts.contains(&(stmt as *const Stmt));
                if *public && !self.cur().at_global_scope() {
                    self.error(
                        "compile_error",
                        "`pub` is only allowed on top-level declarations",
                        stmt.span,
                    );
                }
                self.compile_declaration(pattern, value, *mutable, global);
            }
            StmtKind::Fn { public, def } => {
                if self.cur().at_global_scope() {
                    return; // hoisted
                }
                if *public {
                    self.error(
                        "compile_error",
                        "`pub` is only allowed on top-level declarations",
                        stmt.span,
                    );
                }
                let name = def.name.clone().unwrap_or_default();
                let idx = self.declare_local(&name, false);
                self.cell_placeholder(idx, def.name_span);
                self.compile_function(def, &name);
                self.emit_store_local(idx, def.name_span);
                self.cur().locals[idx].initialized = true;
            }
            StmtKind::Import(_) => {
                if !self.cur().at_global_scope() {
                    self.error(
                        "compile_error",
                        "`import` is only allowed at the top level of a module",
                        stmt.span,
                    );
                }
            }
            StmtKind::Assign { target, op, value } => {
                self.compile_assign(target, *op, value, stmt.span)
            }
        }
    }

    /// `let`/`var` PATTERN = VALUE.
    fn compile_declaration(
        &mut self,
        pattern: &'ast weft_syntax::ast::Pattern,
        value: &'ast Expr,
        mutable: bool,
        global: bool,
    ) {
        if let PatternKind::Bind(name) = &pattern.kind {
            if global {
                self.compile_named_value(value, name);
                let slot = self.globals[name].slot;
                self.emit(Op::StoreGlobal(slot), pattern.span);
                return;
            }
            if matches!(value.kind, ExprKind::Function(_)) {
                // Declared first so the function can refer to itself.
                let idx = self.declare_local(name, mutable);
                self.cell_placeholder(idx, pattern.span);
                self.compile_named_value(value, name);
                self.emit_store_local(idx, pattern.span);
                self.cur().locals[idx].initialized = true;
            } else {
                self.compile_expr(value);
                let idx = self.declare_local(name, mutable);
                self.cell_placeholder(idx, pattern.span);
                self.emit_store_local(idx, pattern.span);
                self.cur().locals[idx].initialized = true;
            }
            return;
        }
        self.compile_expr(value);
        self.compile_destructure(pattern, mutable, global);
    }

    /// Compiles a value that is being bound to `name` (function literals
    /// take the name for display and traces).
    pub(super) fn compile_named_value(&mut self, value: &'ast Expr, name: &str) {
        if let ExprKind::Function(def) = &value.kind {
            if def.name.is_none() {
                self.compile_function(def, name);
                return;
            }
        }
        self.compile_expr(value);
    }

    /// `target = value` and `target op= value`.
    fn compile_assign(
        &mut self,
        target: &'ast Expr,
        op: Option<BinOp>,
        value: &'ast Expr,
        span: Span,
    ) {
        // Collect the path: root identifier, then keys.
        let mut steps: Vec<&'ast Expr> = Vec::new();
        let mut cur = target;
        let root = loop {
            match &cur.kind {
                ExprKind::Ident(name) => break (name.as_str(), cur.span),
                ExprKind::Member {
                    object,
                    optional: false,
                    ..
                }
                | ExprKind::Index {
                    object,
                    optional: false,
                    ..
                } => {
                    steps.push(cur);
                    cur = object;
                }
                _ => {
                    self.error(
                        "syntax_error",
                        "cannot assign to this expression",
                        target.span,
                    );
                    return;
                }
            }
        };
        steps.reverse();
        let (name, root_span) = root;
        let Some((kind, idx, local)) = self.assignable(name, root_span) else {
            return;
        };
        if steps.is_empty() {
            match op {
                None => {
                    self.compile_value_moving(value, name);
                }
                Some(bop) => {
                    if let (BinOp::Add | BinOp::Sub, ExprKind::Int(n)) = (bop, &value.kind) {
                        let n = if bop == BinOp::Sub {
                            n.checked_neg()
                        } else {
                            Some(*n)
                        };
                        if let Some(n) = n.and_then(|n| i32::try_from(n).ok()) {
                            match kind {
                                LocKind::Local | LocKind::Cell => {
                                    self.emit(
                                        Op::IncLocal {
                                            slot: idx as u16,
                                            n,
                                        },
                                        span,
                                    );
                                    return;
                                }
                                LocKind::Global if idx <= u16::MAX as u32 => {
                                    self.emit(Op::IncGlobal { g: idx as u16, n }, span);
                                    return;
                                }
                                _ => {}
                            }
                        }
                    }
                    if bop == BinOp::Add && count_ident(value, name) == 0 {
                        // In place: the variable keeps the only reference,
                        // so `xs += [v]` appends without copying.
                        self.compile_expr(value);
                        let at = match kind {
                            LocKind::Local | LocKind::Cell => {
                                self.emit(Op::AddToLocal(idx as u16), span)
                            }
                            LocKind::Global => self.emit(Op::AddToGlobal(idx), span),
                            LocKind::UpvalCell => self.emit(Op::AddToUpvalCell(idx as u16), span),
                        };
                        let _ = at;
                        return;
                    }
                    let take = self.can_take_for(name, value);
                    self.emit_load_name(name, take, root_span);
                    self.emit_binop_with(bop, value, span);
                }
            }
            self.emit_store_to(kind, idx, local, span);
            return;
        }
        if steps.len() > 255 {
            self.error("syntax_error", "assignment path is too long", target.span);
            return;
        }
        for step in &steps {
            match &step.kind {
                ExprKind::Member {
                    name, name_span, ..
                } => {
                    let k = self.str_const(name);
                    self.emit(Op::Const(k), *name_span);
                }
                ExprKind::Index { index, .. } => self.compile_expr(index),
                _ => unreachable!("path steps are members or indexes"),
            }
        }
        let depth = steps.len() as u8;
        if let Some(bop) = op {
            let at = self.emit(Op::GetPath { kind, depth, idx }, target.span);
            if let Some(l) = local {
                self.note_local_ref(l, at);
            }
            self.emit_binop_with(bop, value, span);
        } else {
            self.compile_expr(value);
        }
        let at = self.emit(Op::SetPath { kind, depth, idx }, span);
        if let Some(l) = local {
            self.note_local_ref(l, at);
        }
    }

    /// Checks that `name` can be assigned; returns its location kind, index
    /// and (for locals) its index in `locals`.
    fn assignable(&mut self, name: &str, span: Span) -> Option<(LocKind, u32, Option<usize>)> {
        match self.resolve(name) {
            Some(Resolved::Local(idx)) => {
                let l = &self.cur().locals[idx];
                if !l.mutable {
                    self.immutable_error(name, span);
                    return None;
                }
                let kind = if l.is_cell {
                    LocKind::Cell
                } else {
                    LocKind::Local
                };
                Some((kind, l.slot as u32, Some(idx)))
            }
            Some(Resolved::Upval(u)) => {
                let up = &self.cur().upvals[u];
                if !up.mutable || !up.is_cell {
                    self.immutable_error(name, span);
                    return None;
                }
                Some((LocKind::UpvalCell, u as u32, None))
            }
            Some(Resolved::Global(g)) => {
                if !g.mutable {
                    if g.kind == GlobalKind::Imported {
                        self.error(
                            "compile_error",
                            format!("cannot assign to imported binding '{name}'"),
                            span,
                        );
                    } else {
                        self.immutable_error(name, span);
                    }
                    return None;
                }
                Some((LocKind::Global, g.slot, None))
            }
            Some(Resolved::Builtin(_)) => {
                self.error(
                    "compile_error",
                    format!("cannot assign to '{name}': it is a builtin function, not a variable (declare your own with `var {name} = ...`)"),
                    span,
                );
                None
            }
            None => {
                self.report_undefined(name, span);
                None
            }
        }
    }

    fn immutable_error(&mut self, name: &str, span: Span) {
        self.error_diag(
            weft_syntax::Diagnostic::new(
                "compile_error",
                format!("cannot assign to immutable binding '{name}'"),
                span,
            )
            .with_file(&self.file)
            .with_note(format!(
                "help: declare it with `var {name}` to make it mutable"
            )),
        );
    }

    fn emit_store_to(&mut self, kind: LocKind, idx: u32, local: Option<usize>, span: Span) {
        match kind {
            LocKind::Local | LocKind::Cell => {
                self.emit_store_local(local.expect("local index"), span);
            }
            LocKind::UpvalCell => {
                self.emit(Op::StoreUpvalCell(idx as u16), span);
            }
            LocKind::Global => {
                self.emit(Op::StoreGlobal(idx), span);
            }
        }
    }

    /// Compiles `value` for `name = value`, moving `name` out of its
    /// variable when `value` consumes it directly (`xs = push(xs, v)`), so
    /// the builtin or operator updates it in place.
    fn compile_value_moving(&mut self, value: &'ast Expr, name: &str) {
        let target = self.consumed_occurrence(value, name);
        let prev = self.take_expr.take();
        self.take_expr = target.map(|e| e as *const Expr);
        self.compile_expr(value);
        self.take_expr = prev;
    }

    /// The identifier node in `value` that may be moved out for
    /// `name = value`, if moving is safe.
    fn consumed_occurrence(&mut self, value: &'ast Expr, name: &str) -> Option<&'ast Expr> {
        if count_ident(value, name) != 1 {
            return None;
        }
        let is_name = |e: &Expr| matches!(&e.kind, ExprKind::Ident(n) if n == name);
        let (candidate, others): (&'ast Expr, Vec<&'ast Expr>) = match &value.kind {
            ExprKind::Call { callee, args } => {
                let ExprKind::Ident(f) = &callee.kind else {
                    return None;
                };
                if self.has_scoped_binding(f) {
                    return None;
                }
                match self.host.builtin_id(f) {
                    Some(id) if self.host.builtin_is_sync(id) => {}
                    _ => return None,
                }
                let mut cand = None;
                let mut others = Vec::new();
                for a in args {
                    match a {
                        weft_syntax::ast::Arg::Positional(e) if is_name(e) => cand = Some(e),
                        weft_syntax::ast::Arg::Positional(e) | weft_syntax::ast::Arg::Spread(e) => {
                            others.push(e)
                        }
                    }
                }
                (cand?, others)
            }
            ExprKind::MethodCall {
                receiver,
                name: method,
                args,
                ..
            } if is_name(receiver) => {
                if self.has_scoped_binding(method) {
                    return None;
                }
                match self.host.builtin_id(method) {
                    Some(id) if self.host.builtin_is_sync(id) => {}
                    _ => return None,
                }
                let others =
                    args.iter()
                        .map(|a| match a {
                            weft_syntax::ast::Arg::Positional(e)
                            | weft_syntax::ast::Arg::Spread(e) => e,
                        })
                        .collect();
                (&**receiver, others)
            }
            ExprKind::Binary {
                op: BinOp::Add,
                lhs,
                rhs,
            } if is_name(lhs) => (&**lhs, vec![&**rhs]),
            _ => return None,
        };
        if self.is_private_local(name) || others.iter().all(|e| !self.may_run_user_code(e)) {
            Some(candidate)
        } else {
            None
        }
    }

    /// For `name op= value`: may `name` be moved out while `value` runs?
    fn can_take_for(&mut self, name: &str, value: &'ast Expr) -> bool {
        count_ident(value, name) == 0
            && (self.is_private_local(name) || !self.may_run_user_code(value))
    }

    /// Conservatively: could evaluating `e` run script code (which might
    /// observe a moved-out global or captured variable)?
    fn may_run_user_code(&mut self, e: &Expr) -> bool {
        let mut found = false;
        walk_expr(e, &mut |x| match &x.kind {
            ExprKind::Call { callee, .. } => {
                let builtin = matches!(&callee.kind, ExprKind::Ident(f)
                    if !self.has_scoped_binding(f) && self.host.builtin_id(f).is_some()
                        && !CALLBACK_BUILTINS.contains(&f.as_str()));
                if !builtin {
                    found = true;
                }
            }
            ExprKind::MethodCall { .. } | ExprKind::Pipe { .. } | ExprKind::Spawn(_) => {
                found = true
            }
            _ => {}
        });
        found
    }
}
