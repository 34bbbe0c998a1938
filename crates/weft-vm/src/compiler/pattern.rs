//! Patterns: destructuring in `let`/`var`/`for` (errors when the value does
//! not fit) and tests in `match` arms (jump to the next arm instead).

use weft_syntax::ast::{ListPatternItem, Literal, Pattern, PatternKind};
use weft_syntax::Span;

use super::walk::pattern_names;
use super::Compiler;
use crate::bytecode::Op;
use crate::value::Value;

/// Where a pattern's names are stored.
#[derive(Clone, Copy)]
enum Binding {
    Global(u32),
    Local(usize),
}

impl<'a, 'ast> Compiler<'a, 'ast> {
    /// Destructures the value on top of the stack (consuming it) into the
    /// names of `pattern`, declared as locals (or globals at module level).
    pub(super) fn compile_destructure(
        &mut self,
        pattern: &'ast Pattern,
        mutable: bool,
        global: bool,
    ) {
        let mut names = Vec::new();
        pattern_names(pattern, &mut names);
        let mut bindings = Vec::new();
        for (name, span) in &names {
            if global {
                let slot = self.globals[name].slot;
                bindings.push((name.clone(), Binding::Global(slot)));
            } else {
                let idx = self.declare_local(name, mutable);
                self.cell_placeholder(idx, *span);
                bindings.push((name.clone(), Binding::Local(idx)));
            }
        }
        self.cur().begin_scope();
        self.destructure(pattern, &bindings);
        self.end_scope();
        for (_, b) in &bindings {
            if let Binding::Local(idx) = b {
                self.cur().locals[*idx].initialized = true;
            }
        }
    }

    fn store_binding(&mut self, bindings: &[(String, Binding)], name: &str, span: Span) {
        let b = bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, b)| *b)
            .expect("pattern name declared");
        match b {
            Binding::Global(slot) => {
                self.emit(Op::StoreGlobal(slot), span);
            }
            Binding::Local(idx) => self.emit_store_local(idx, span),
        }
    }

    fn destructure(&mut self, pattern: &'ast Pattern, bindings: &[(String, Binding)]) {
        let span = pattern.span;
        match &pattern.kind {
            PatternKind::Bind(name) => self.store_binding(bindings, name, span),
            PatternKind::Wildcard => {
                self.emit(Op::Pop, span);
            }
            PatternKind::Literal(_) => {
                self.error(
                    "compile_error",
                    "a literal pattern cannot be used in a declaration (use `match`)",
                    span,
                );
            }
            PatternKind::Or(_) => {
                self.error(
                    "compile_error",
                    "or-patterns (`a | b`) are only allowed in `match` arms",
                    span,
                );
            }
            PatternKind::List { items, rest } => {
                if items.len() > u16::MAX as usize {
                    self.error("compile_error", "list pattern is too long", span);
                    return;
                }
                let len = items.len() as u16;
                self.emit(
                    Op::ExpectList {
                        len: required_len(items),
                        rest: rest.is_some(),
                    },
                    span,
                );
                let tmp = self.hidden_slot();
                self.emit(Op::StoreLocal(tmp), span);
                for (i, item) in items.iter().enumerate() {
                    if matches!(item.pattern.kind, PatternKind::Wildcard) {
                        continue;
                    }
                    self.emit_list_element(tmp, i, item);
                    self.destructure(&item.pattern, bindings);
                }
                if let Some(Some((name, rspan))) = rest {
                    self.emit(Op::LoadLocal(tmp), *rspan);
                    self.emit(Op::ListFrom(len), *rspan);
                    self.store_binding(bindings, name, *rspan);
                }
            }
            PatternKind::Dict { entries, rest } => {
                self.emit(Op::ExpectDict, span);
                let tmp = self.hidden_slot();
                self.emit(Op::StoreLocal(tmp), span);
                for entry in entries {
                    self.emit(Op::LoadLocal(tmp), entry.span);
                    let k = self.str_const(&entry.key);
                    self.emit(Op::GetField(k), entry.span);
                    if let Some(default) = &entry.default {
                        let skip = self.emit_jump(Op::JumpIfNotNilOrPop(0), entry.span);
                        self.compile_expr(default);
                        self.patch_jump(skip);
                    }
                    match &entry.pattern {
                        Some(p) => self.destructure(p, bindings),
                        None => self.store_binding(bindings, &entry.key, entry.span),
                    }
                }
                if let Some((name, rspan)) = rest {
                    self.emit_dict_without(tmp, entries.iter().map(|e| e.key.as_str()), *rspan);
                    self.store_binding(bindings, name, *rspan);
                }
            }
        }
    }

    /// Pushes element `i` of the list in local `src`; with a default, the
    /// default when the list is too short or the element is `nil`.
    fn emit_list_element(&mut self, src: u16, i: usize, item: &'ast ListPatternItem) {
        let span = item.pattern.span;
        self.emit(Op::LoadLocal(src), span);
        self.emit(Op::Int(i as i32), span);
        match &item.default {
            None => {
                self.emit(Op::GetIndex, span);
            }
            Some(default) => {
                // `get(list, i)` is nil past the end.
                self.emit_builtin_call("get", 2, span);
                let skip = self.emit_jump(Op::JumpIfNotNilOrPop(0), span);
                self.compile_expr(default);
                self.patch_jump(skip);
            }
        }
    }

    /// Calls builtin `name` on the `argc` values on top of the stack,
    /// whatever the name is bound to in the script.
    fn emit_builtin_call(&mut self, name: &str, argc: u8, span: Span) {
        let id = self
            .host
            .builtin_id(name)
            .expect("core builtins are always registered");
        self.emit(Op::CallBuiltin { id, argc }, span);
    }

    fn emit_dict_without<'k>(&mut self, src: u16, keys: impl Iterator<Item = &'k str>, span: Span) {
        self.emit(Op::LoadLocal(src), span);
        let mut n = 0u16;
        for k in keys {
            let c = self.str_const(k);
            self.emit(Op::Const(c), span);
            n += 1;
        }
        self.emit(Op::DictWithout(n), span);
    }

    /// Declares the names a match arm's pattern binds (in the current scope).
    /// Returns false (after reporting) when or-pattern alternatives disagree.
    pub(super) fn declare_pattern_locals(&mut self, pattern: &'ast Pattern) -> bool {
        if let PatternKind::Or(alts) = &pattern.kind {
            let mut first = Vec::new();
            pattern_names(&alts[0], &mut first);
            let mut first_names: Vec<&str> = first.iter().map(|(n, _)| n.as_str()).collect();
            first_names.sort();
            for alt in &alts[1..] {
                let mut names = Vec::new();
                pattern_names(alt, &mut names);
                let mut these: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
                these.sort();
                if these != first_names {
                    self.error(
                        "compile_error",
                        "every alternative of an or-pattern must bind the same names",
                        alt.span,
                    );
                    return false;
                }
            }
        }
        let mut names = Vec::new();
        pattern_names(pattern, &mut names);
        for (name, span) in names {
            let idx = self.declare_local(&name, false);
            self.cell_placeholder(idx, span);
            self.cur().locals[idx].initialized = true;
        }
        true
    }

    fn store_arm_name(&mut self, name: &str, span: Span) {
        let idx = self
            .cur()
            .locals
            .iter()
            .rposition(|l| l.name == name)
            .expect("arm name declared");
        self.emit_store_local(idx, span);
    }

    /// Tests the value in local slot `src` against `pattern`, binding names
    /// as it goes; every failed test jumps to a position pushed to `fails`.
    pub(super) fn compile_pattern_test(
        &mut self,
        pattern: &'ast Pattern,
        src: u16,
        fails: &mut Vec<usize>,
    ) {
        let span = pattern.span;
        match &pattern.kind {
            PatternKind::Wildcard => {}
            PatternKind::Bind(name) => {
                self.emit(Op::LoadLocal(src), span);
                self.store_arm_name(name, span);
            }
            PatternKind::Literal(lit) => {
                self.emit(Op::LoadLocal(src), span);
                self.test_literal(lit, span, fails);
            }
            PatternKind::List { items, rest } => {
                let len = items.len().min(u16::MAX as usize) as u16;
                let required = required_len(items);
                self.emit(Op::LoadLocal(src), span);
                self.emit(
                    Op::MatchList {
                        len: required,
                        rest: rest.is_some() || required < len,
                    },
                    span,
                );
                fails.push(self.emit_jump(Op::JumpIfFalse(0), span));
                if required < len && rest.is_none() {
                    // Trailing elements with defaults may be missing, but
                    // the list may not be longer than the pattern.
                    self.emit(Op::LoadLocal(src), span);
                    self.emit_builtin_call("len", 1, span);
                    self.emit(Op::Int(i32::from(len)), span);
                    self.emit(Op::Le, span);
                    fails.push(self.emit_jump(Op::JumpIfFalse(0), span));
                }
                for (i, item) in items.iter().enumerate() {
                    if matches!(item.pattern.kind, PatternKind::Wildcard) {
                        continue;
                    }
                    self.emit_list_element(src, i, item);
                    self.test_subvalue(&item.pattern, fails);
                }
                if let Some(Some((name, rspan))) = rest {
                    self.emit(Op::LoadLocal(src), *rspan);
                    self.emit(Op::ListFrom(len), *rspan);
                    self.store_arm_name(name, *rspan);
                }
            }
            PatternKind::Dict { entries, rest } => {
                let keys: Vec<u32> = entries.iter().map(|e| self.str_const(&e.key)).collect();
                // A field without a default is tested and read by one
                // `MatchField` (operands permitting), which also fails on a
                // non-dict: the `IsDict` test is then redundant.
                let fused = |i: usize| {
                    entries[i].default.is_none()
                        && u8::try_from(src).is_ok()
                        && u16::try_from(keys[i]).is_ok()
                };
                if entries.is_empty() || !fused(0) {
                    self.emit(Op::LoadLocal(src), span);
                    self.emit(Op::IsDict, span);
                    fails.push(self.emit_jump(Op::JumpIfFalse(0), span));
                }
                for (i, entry) in entries.iter().enumerate() {
                    let k = keys[i];
                    if fused(i) {
                        let op = Op::MatchField {
                            slot: src as u8,
                            k: k as u16,
                            off: 0,
                        };
                        fails.push(self.emit_jump(op, entry.span));
                    } else {
                        if entry.default.is_none() {
                            self.emit(Op::LoadLocal(src), entry.span);
                            self.emit(Op::DictHas(k), entry.span);
                            fails.push(self.emit_jump(Op::JumpIfFalse(0), entry.span));
                        }
                        self.emit(Op::LoadLocal(src), entry.span);
                        self.emit(Op::GetField(k), entry.span);
                    }
                    if let Some(default) = &entry.default {
                        let skip = self.emit_jump(Op::JumpIfNotNilOrPop(0), entry.span);
                        self.compile_expr(default);
                        self.patch_jump(skip);
                    }
                    match &entry.pattern {
                        Some(p) => self.test_subvalue(p, fails),
                        None => self.store_arm_name(&entry.key, entry.span),
                    }
                }
                if let Some((name, rspan)) = rest {
                    self.emit_dict_without(src, entries.iter().map(|e| e.key.as_str()), *rspan);
                    self.store_arm_name(name, *rspan);
                }
            }
            PatternKind::Or(alts) => {
                let mut successes = Vec::new();
                for (i, alt) in alts.iter().enumerate() {
                    if i + 1 == alts.len() {
                        self.compile_pattern_test(alt, src, fails);
                    } else {
                        let mut alt_fails = Vec::new();
                        self.compile_pattern_test(alt, src, &mut alt_fails);
                        successes.push(self.emit_jump(Op::Jump(0), alt.span));
                        for f in alt_fails {
                            self.patch_jump(f);
                        }
                    }
                }
                for s in successes {
                    self.patch_jump(s);
                }
            }
        }
    }

    /// Tests the value on top of the stack (consumed) for equality with a
    /// literal pattern: `==`, one compare-and-jump to the failure.
    fn test_literal(&mut self, lit: &Literal, span: Span, fails: &mut Vec<usize>) {
        let v = match lit {
            Literal::Nil => Value::Nil,
            Literal::Bool(b) => Value::Bool(*b),
            Literal::Int(i) => Value::Int(*i),
            Literal::Float(f) => Value::Float(*f),
            Literal::Str(s) => Value::str(s.clone()),
        };
        let k = self.add_const(v);
        self.emit(Op::Const(k), span);
        fails.push(self.emit_jump(Op::JumpIfNotEq(0), span));
    }

    /// Tests the value on top of the stack (consumed) against `pattern`.
    fn test_subvalue(&mut self, pattern: &'ast Pattern, fails: &mut Vec<usize>) {
        match &pattern.kind {
            PatternKind::Bind(name) => self.store_arm_name(name, pattern.span),
            PatternKind::Wildcard => {
                self.emit(Op::Pop, pattern.span);
            }
            PatternKind::Literal(lit) => self.test_literal(lit, pattern.span, fails),
            _ => {
                self.cur().begin_scope();
                let tmp = self.hidden_slot();
                self.emit(Op::StoreLocal(tmp), pattern.span);
                self.compile_pattern_test(pattern, tmp, fails);
                self.end_scope();
            }
        }
    }
}

/// How many leading elements a list pattern needs: up to its last element
/// without a default.
fn required_len(items: &[ListPatternItem]) -> u16 {
    let n = items
        .iter()
        .rposition(|i| i.default.is_none())
        .map_or(0, |p| p + 1);
    n.min(u16::MAX as usize) as u16
}
