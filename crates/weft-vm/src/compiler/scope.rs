//! Scopes and name resolution: local slots, upvalues (captures), module
//! globals, builtins.
//!
//! A captured `var` (or a binding captured before it is initialised, like a
//! local function that calls itself) lives in a shared cell. Whether a local
//! needs a cell is only known when a closure captures it, so every
//! declaration leaves a `Nop` placeholder and records where its slot is
//! accessed; the first such capture patches the placeholder to `MakeCell`
//! and the accesses to their cell forms.

use std::collections::HashMap;
use std::sync::Arc;

use weft_syntax::ast::Block;
use weft_syntax::suggest::did_you_mean;
use weft_syntax::{SourceFile, Span};

use super::Compiler;
use crate::bytecode::{Capture, FnProto, LocKind, Op};
use crate::value::Value;

/// A module-level name.
#[derive(Clone, Debug, PartialEq)]
pub struct GlobalInfo {
    pub slot: u32,
    pub mutable: bool,
    pub kind: GlobalKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalKind {
    Let,
    Var,
    Fn,
    Imported,
    Prelude,
}

pub(super) struct Local {
    pub name: String,
    pub slot: u16,
    pub depth: u32,
    pub mutable: bool,
    pub is_cell: bool,
    pub initialized: bool,
    /// Code positions of instructions addressing this slot.
    pub refs: Vec<usize>,
    /// The placeholder to patch to `MakeCell`.
    pub cell_site: Option<usize>,
}

pub(super) struct Upval {
    pub name: String,
    pub capture: Capture,
    pub is_cell: bool,
    pub mutable: bool,
}

pub(super) struct LoopCtx {
    pub breaks: Vec<usize>,
    pub continues: Vec<usize>,
    /// Slot holding the stack height at loop entry, created on demand.
    pub height_slot: Option<u16>,
    /// Placeholder `Nop` patched to `SaveHeight`.
    pub height_site: usize,
    /// `tries.len()` when the loop began.
    pub try_depth: usize,
}

pub(super) struct TryCtx<'ast> {
    /// Whether an error handler of this `try` is installed at this point.
    pub handler: bool,
    pub finally: Option<&'ast Block>,
}

#[derive(Hash, PartialEq, Eq)]
enum ConstKey {
    Str(String),
    Int(i64),
    Float(u64),
}

/// Per-function compilation state.
pub(super) struct FnState<'ast> {
    pub name: String,
    pub span: Span,
    pub is_module: bool,
    pub code: Vec<Op>,
    pub spans: Vec<Span>,
    pub consts: Vec<Value>,
    const_index: HashMap<ConstKey, u32>,
    pub protos: Vec<std::rc::Rc<FnProto>>,
    pub locals: Vec<Local>,
    pub upvals: Vec<Upval>,
    pub scope_depth: u32,
    pub next_slot: u16,
    max_slots: u16,
    /// Slots below this are never reused (loop height slots).
    pub permanent_floor: u16,
    pub loops: Vec<LoopCtx>,
    pub tries: Vec<TryCtx<'ast>>,
}

impl<'ast> FnState<'ast> {
    pub fn new(name: String, span: Span, is_module: bool) -> FnState<'ast> {
        FnState {
            name,
            span,
            is_module,
            code: Vec::new(),
            spans: Vec::new(),
            consts: Vec::new(),
            const_index: HashMap::new(),
            protos: Vec::new(),
            locals: Vec::new(),
            upvals: Vec::new(),
            scope_depth: 0,
            next_slot: 0,
            max_slots: 0,
            permanent_floor: 0,
            loops: Vec::new(),
            tries: Vec::new(),
        }
    }

    pub fn finish(
        self,
        file: Arc<SourceFile>,
        nparams: u16,
        nrequired: u16,
        has_rest: bool,
    ) -> FnProto {
        let mut code = self.code;
        let mut spans = self.spans;
        crate::bytecode::strip_nops(&mut code, &mut spans);
        crate::bytecode::mark_tail_calls(&mut code);
        FnProto {
            name: self.name,
            code,
            spans,
            consts: self.consts,
            protos: self.protos,
            captures: self.upvals.iter().map(|u| u.capture).collect(),
            nparams,
            nrequired,
            has_rest,
            nslots: self.max_slots,
            file,
            span: self.span,
            is_module: self.is_module,
        }
    }

    pub fn add_const(&mut self, v: Value) -> u32 {
        let key = match &v {
            Value::Str(s) => Some(ConstKey::Str(s.as_str().to_string())),
            Value::Int(i) => Some(ConstKey::Int(*i)),
            Value::Float(f) => Some(ConstKey::Float(f.to_bits())),
            _ => None,
        };
        if let Some(k) = &key {
            if let Some(&i) = self.const_index.get(k) {
                return i;
            }
        }
        self.consts.push(v);
        let i = self.consts.len() as u32 - 1;
        if let Some(k) = key {
            self.const_index.insert(k, i);
        }
        i
    }

    pub fn str_const(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.const_index.get(&ConstKey::Str(s.to_string())) {
            return i;
        }
        self.add_const(Value::str(s))
    }

    pub fn begin_scope(&mut self) {
        self.scope_depth += 1;
    }

    /// Allocates a fresh slot.
    pub fn alloc_slot(&mut self) -> u16 {
        let s = self.next_slot;
        self.next_slot += 1;
        self.max_slots = self.max_slots.max(self.next_slot);
        s
    }

    /// Whether declarations at this point are module globals.
    pub fn at_global_scope(&self) -> bool {
        self.is_module && self.scope_depth == 0
    }
}

/// How a name resolved.
pub(super) enum Resolved {
    Local(usize),
    Upval(usize),
    Global(GlobalInfo),
    Builtin(u16),
}

impl<'a, 'ast> Compiler<'a, 'ast> {
    /// Closes the innermost scope, freeing its slots.
    pub(super) fn end_scope(&mut self) {
        let f = self.cur();
        f.scope_depth -= 1;
        while let Some(l) = f.locals.last() {
            if l.depth <= f.scope_depth {
                break;
            }
            f.locals.pop();
        }
        f.next_slot = f.locals.last().map(|l| l.slot + 1).unwrap_or(0);
        // Hidden slots (iterators, heights) may sit above the last named local.
        for l in &f.locals {
            f.next_slot = f.next_slot.max(l.slot + 1);
        }
        f.next_slot = f.next_slot.max(f.permanent_floor);
    }

    /// Declares a local in the current scope and returns its index in `locals`.
    pub(super) fn declare_local(&mut self, name: &str, mutable: bool) -> usize {
        let f = self.cur();
        let slot = f.alloc_slot();
        let depth = f.scope_depth;
        f.locals.push(Local {
            name: name.to_string(),
            slot,
            depth,
            mutable,
            is_cell: false,
            initialized: false,
            refs: Vec::new(),
            cell_site: None,
        });
        f.locals.len() - 1
    }

    /// A hidden local (iterator state, pipe value); never resolvable by name.
    pub(super) fn hidden_slot(&mut self) -> u16 {
        let idx = self.declare_local("%hidden", false);
        self.cur().locals[idx].slot
    }

    pub(super) fn declare_param(&mut self, name: &str, _span: Span) {
        let idx = self.declare_local(name, true);
        self.cur().locals[idx].initialized = true;
    }

    /// Emits the cell placeholder for local `idx` (before its first store).
    pub(super) fn cell_placeholder(&mut self, idx: usize, span: Span) {
        let at = self.emit(Op::Nop, span);
        self.cur().locals[idx].cell_site = Some(at);
    }

    /// Emits a store to local `idx` (its initialising store or a later one).
    pub(super) fn emit_store_local(&mut self, idx: usize, span: Span) {
        let l = &self.cur().locals[idx];
        let op = if l.is_cell {
            Op::StoreCell(l.slot)
        } else {
            Op::StoreLocal(l.slot)
        };
        let at = self.emit(op, span);
        self.cur().locals[idx].refs.push(at);
    }

    pub(super) fn store_local_op(&mut self, idx: usize) -> Op {
        let l = &self.cur().locals[idx];
        if l.is_cell {
            Op::StoreCell(l.slot)
        } else {
            Op::StoreLocal(l.slot)
        }
    }

    /// Emits a load of local `idx`; `take` moves the value out.
    pub(super) fn emit_load_local(&mut self, idx: usize, take: bool, span: Span) {
        let l = &self.cur().locals[idx];
        let op = match (l.is_cell, take) {
            (false, false) => Op::LoadLocal(l.slot),
            (false, true) => Op::TakeLocal(l.slot),
            (true, false) => Op::LoadCell(l.slot),
            (true, true) => Op::TakeCell(l.slot),
        };
        let at = self.emit(op, span);
        self.cur().locals[idx].refs.push(at);
    }

    /// Records an instruction (e.g. `SetPath`) addressing local `idx`.
    pub(super) fn note_local_ref(&mut self, idx: usize, at: usize) {
        self.cur().locals[idx].refs.push(at);
    }

    /// Turns local `idx` of function `fn_index` into a cell, patching the
    /// code emitted so far.
    fn convert_to_cell(&mut self, fn_index: usize, idx: usize) {
        let f = &mut self.fns[fn_index];
        let local = &mut f.locals[idx];
        if local.is_cell {
            return;
        }
        local.is_cell = true;
        let slot = local.slot;
        if let Some(site) = local.cell_site {
            f.code[site] = Op::MakeCell(slot);
        }
        let refs = std::mem::take(&mut f.locals[idx].refs);
        for &at in &refs {
            f.code[at] = match f.code[at] {
                Op::LoadLocal(s) => Op::LoadCell(s),
                Op::StoreLocal(s) => Op::StoreCell(s),
                Op::TakeLocal(s) => Op::TakeCell(s),
                Op::GetPath {
                    kind: LocKind::Local,
                    depth,
                    idx,
                } => Op::GetPath {
                    kind: LocKind::Cell,
                    depth,
                    idx,
                },
                Op::SetPath {
                    kind: LocKind::Local,
                    depth,
                    idx,
                } => Op::SetPath {
                    kind: LocKind::Cell,
                    depth,
                    idx,
                },
                other => other,
            };
        }
        f.locals[idx].refs = refs;
    }

    /// Resolves `name` as seen from the innermost function.
    pub(super) fn resolve(&mut self, name: &str) -> Option<Resolved> {
        let top = self.fns.len() - 1;
        if let Some(r) = self.resolve_in(top, name) {
            return Some(r);
        }
        if let Some(g) = self.globals.get(name) {
            return Some(Resolved::Global(g.clone()));
        }
        if let Some(g) = self.host.prelude_global(name) {
            return Some(Resolved::Global(g));
        }
        self.host.builtin_id(name).map(Resolved::Builtin)
    }

    /// Resolves among function `i`'s locals and upvalues (capturing from
    /// enclosing functions as needed).
    fn resolve_in(&mut self, i: usize, name: &str) -> Option<Resolved> {
        if let Some(idx) = self.fns[i].locals.iter().rposition(|l| l.name == name) {
            return Some(Resolved::Local(idx));
        }
        if let Some(u) = self.fns[i].upvals.iter().position(|u| u.name == name) {
            return Some(Resolved::Upval(u));
        }
        if i == 0 {
            return None;
        }
        let (capture, is_cell, mutable) = match self.resolve_in(i - 1, name)? {
            Resolved::Local(idx) => {
                let l = &self.fns[i - 1].locals[idx];
                if l.mutable || !l.initialized {
                    self.convert_to_cell(i - 1, idx);
                }
                let l = &self.fns[i - 1].locals[idx];
                (Capture::Local(l.slot), l.is_cell, l.mutable)
            }
            Resolved::Upval(u) => {
                let up = &self.fns[i - 1].upvals[u];
                (Capture::Upval(u as u16), up.is_cell, up.mutable)
            }
            other => return Some(other),
        };
        let f = &mut self.fns[i];
        f.upvals.push(Upval {
            name: name.to_string(),
            capture,
            is_cell,
            mutable,
        });
        Some(Resolved::Upval(f.upvals.len() - 1))
    }

    /// Emits a read of `name`, reporting `undefined` with a suggestion.
    pub(super) fn emit_load_name(&mut self, name: &str, take: bool, span: Span) {
        match self.resolve(name) {
            Some(Resolved::Local(idx)) => self.emit_load_local(idx, take, span),
            Some(Resolved::Upval(u)) => {
                let up = &self.cur().upvals[u];
                let op = match (up.is_cell, take) {
                    (false, _) => Op::LoadUpval(u as u16),
                    (true, false) => Op::LoadUpvalCell(u as u16),
                    (true, true) => Op::TakeUpvalCell(u as u16),
                };
                self.emit(op, span);
            }
            Some(Resolved::Global(g)) => {
                let op = if take {
                    Op::TakeGlobal(g.slot)
                } else {
                    Op::LoadGlobal(g.slot)
                };
                self.emit(op, span);
            }
            Some(Resolved::Builtin(id)) => {
                let v = self.host.builtin_value(id);
                let k = self.add_const(v);
                self.emit(Op::Const(k), span);
            }
            None => self.report_undefined(name, span),
        }
    }

    pub(super) fn report_undefined(&mut self, name: &str, span: Span) {
        if self.failed_imports.any || self.failed_imports.names.contains(name) {
            return;
        }
        let mut candidates: Vec<String> = Vec::new();
        for f in &self.fns {
            candidates.extend(f.locals.iter().map(|l| l.name.clone()));
            candidates.extend(f.upvals.iter().map(|u| u.name.clone()));
        }
        candidates.extend(self.globals.keys().cloned());
        candidates.extend(self.host.builtin_names());
        candidates.retain(|c| !c.starts_with('%'));
        let mut d =
            weft_syntax::Diagnostic::new("undefined", format!("undefined variable '{name}'"), span)
                .with_file(&self.file);
        if let Some(s) = did_you_mean(name, candidates.iter().map(|s| s.as_str())) {
            d = d.with_note(format!("help: did you mean '{s}'?"));
        }
        self.error_diag(d);
    }

    /// Whether `name` resolves to a binding in scope (local, upvalue or
    /// module global), as opposed to a builtin or nothing.
    pub(super) fn has_scoped_binding(&mut self, name: &str) -> bool {
        let top = self.fns.len() - 1;
        self.fns[..=top].iter().any(|f| {
            f.locals.iter().any(|l| l.name == name) || f.upvals.iter().any(|u| u.name == name)
        }) || self.globals.contains_key(name)
            || self.host.prelude_global(name).is_some()
    }

    /// Whether a name is a non-captured local of the current function (so no
    /// other code can observe it while it is moved out).
    pub(super) fn is_private_local(&mut self, name: &str) -> bool {
        let f = self.fns.last().expect("function state");
        match f.locals.iter().rposition(|l| l.name == name) {
            Some(idx) => !f.locals[idx].is_cell,
            None => false,
        }
    }
}
