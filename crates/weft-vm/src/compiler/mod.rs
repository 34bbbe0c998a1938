//! AST → bytecode. One [`Compiler`] compiles one module; the functions
//! inside it become nested [`FnProto`]s.
//!
//! Submodules: `scope` (locals, upvalues, globals, name resolution),
//! `stmt` (statements, blocks, declarations, assignment), `expr`
//! (expressions and calls), `control` (loops, match, try, jumps out),
//! `pattern` (match and destructuring patterns).

mod branch;
mod control;
mod expr;
mod pattern;
mod scope;
mod stmt;
mod walk;

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use weft_syntax::ast::{self, Block};
use weft_syntax::{Diagnostic, SourceFile, Span};

use crate::bytecode::{FnProto, Op};
use crate::value::Value;

use scope::FnState;
pub use scope::{GlobalInfo, GlobalKind};

/// A module's exported names and their global slots.
pub type Exports = Vec<(String, GlobalInfo)>;

/// What the compiler needs from the program being built: module loading,
/// global slot allocation, builtins.
pub trait ModuleHost {
    /// Loads (compiling if needed) the module at `path` as imported from
    /// `importer`; returns its id and exported names.
    fn import(
        &mut self,
        path: &str,
        importer: &Arc<SourceFile>,
        span: Span,
    ) -> Result<(u32, Exports), Vec<Diagnostic>>;
    /// A fresh global slot (for `name`, for debugging).
    fn alloc_global(&mut self, name: &str) -> u32;
    /// The builtin with this name, if any.
    fn builtin_id(&self, name: &str) -> Option<u16>;
    /// The builtin's function value.
    fn builtin_value(&self, id: u16) -> Value;
    /// Whether the builtin is synchronous (never runs script code), so an
    /// argument may be moved into it.
    fn builtin_is_sync(&self, id: u16) -> bool;
    /// All builtin names (for did-you-mean suggestions).
    fn builtin_names(&self) -> Vec<String>;
    /// Globals every module sees (e.g. `argv`).
    fn prelude_global(&self, name: &str) -> Option<GlobalInfo>;
}

/// Limits on nesting while compiling, so deep input cannot overflow the
/// Rust stack.
const MAX_NESTING: usize = 1000;

/// The result of compiling one module.
pub struct CompiledModule {
    pub main: Rc<FnProto>,
    /// Top-level names declared `pub`.
    pub exports: Vec<(String, GlobalInfo)>,
    /// Every top-level name (for the REPL and completion).
    pub globals: HashMap<String, GlobalInfo>,
}

/// Compiles one module's AST.
pub struct Compiler<'a, 'ast> {
    file: Arc<SourceFile>,
    host: &'a mut dyn ModuleHost,
    /// The module namespace: top-level declarations and imports.
    globals: HashMap<String, GlobalInfo>,
    /// The function nesting stack; `fns[0]` is the module's top level.
    fns: Vec<FnState<'ast>>,
    errors: Vec<Diagnostic>,
    depth: usize,
    /// Hidden slots holding the piped value for `_` placeholders.
    pipe_slots: Vec<u16>,
    /// The identifier node to compile as a move (`TakeLocal` etc.); see
    /// `compile_value_moving`.
    take_expr: Option<*const ast::Expr>,
    /// Pending `?.` jumps of the optional chain being compiled.
    chain_jumps: Option<Vec<usize>>,
    /// Top-level declarations compiled as locals of the module's top level
    /// (no function mentions their names and they are not exported).
    local_stmts: std::collections::HashSet<*const ast::Stmt>,
    /// Compile every top-level declaration as a global (the REPL keeps
    /// them between inputs).
    all_globals: bool,
    /// Names that an import failed to provide (the module did not compile,
    /// or lacks the name): using them reports nothing more, since the
    /// import's own error already says what is wrong.
    failed_imports: FailedImports,
}

/// What failed imports of the module being compiled would have declared.
#[derive(Default)]
struct FailedImports {
    /// Names listed in a failed `import { ... }`.
    names: std::collections::HashSet<String>,
    /// A failed `import "path"` (all its names): any undefined name may be
    /// one of them.
    any: bool,
}

impl<'a, 'ast> Compiler<'a, 'ast> {
    pub fn new(file: Arc<SourceFile>, host: &'a mut dyn ModuleHost) -> Compiler<'a, 'ast> {
        Compiler {
            file,
            host,
            globals: HashMap::new(),
            fns: Vec::new(),
            errors: Vec::new(),
            depth: 0,
            pipe_slots: Vec::new(),
            take_expr: None,
            chain_jumps: None,
            local_stmts: std::collections::HashSet::new(),
            all_globals: false,
            failed_imports: FailedImports::default(),
        }
    }

    /// Pre-existing globals (the REPL compiles each input against the
    /// session's namespace).
    pub fn with_globals(mut self, globals: HashMap<String, GlobalInfo>) -> Self {
        self.globals = globals;
        self.all_globals = true;
        self
    }

    /// Compiles a whole module. Top-level `let`/`var`/`fn` become globals;
    /// imports run first, then the hoisted top-level functions are created,
    /// then the statements run in order.
    pub fn compile_module(
        mut self,
        module: &'ast ast::Module,
        name: &str,
    ) -> Result<CompiledModule, Vec<Diagnostic>> {
        self.fns
            .push(FnState::new(name.to_string(), module.span, true));
        let mut exports = Vec::new();
        self.plan_top_level_locals(&module.stmts);
        self.declare_top_level(&module.stmts, &mut exports);
        self.hoist_functions(&module.stmts);
        self.compile_stmts(&module.stmts, true);
        self.emit(Op::Return, module.span.end_point());
        if !self.errors.is_empty() {
            return Err(std::mem::take(&mut self.errors));
        }
        let state = self.fns.pop().expect("module function state");
        let main = Rc::new(state.finish(self.file.clone(), 0, 0, false));
        Ok(CompiledModule {
            main,
            exports,
            globals: self.globals,
        })
    }

    // ----- emission helpers -------------------------------------------------

    fn cur(&mut self) -> &mut FnState<'ast> {
        self.fns.last_mut().expect("function state")
    }

    fn emit(&mut self, op: Op, span: Span) -> usize {
        let f = self.cur();
        f.code.push(op);
        f.spans.push(span);
        f.code.len() - 1
    }

    fn here(&self) -> usize {
        self.fns.last().expect("function state").code.len()
    }

    /// Emits a forward jump to be patched with [`Self::patch_jump`].
    fn emit_jump(&mut self, op: Op, span: Span) -> usize {
        self.emit(op, span)
    }

    /// Points the jump at `at` to the current end of code.
    fn patch_jump(&mut self, at: usize) {
        let target = self.here();
        self.patch_jump_to(at, target);
    }

    fn patch_jump_to(&mut self, at: usize, target: usize) {
        let offset = (target as i64 - (at as i64 + 1)) as i32;
        let f = self.cur();
        f.code[at] = f.code[at].with_offset(offset);
    }

    /// Emits a backward jump to `target`.
    fn emit_loop(&mut self, target: usize, span: Span) {
        let at = self.here();
        let offset = target as i64 - (at as i64 + 1);
        self.emit(Op::Jump(offset as i32), span);
    }

    fn add_const(&mut self, v: Value) -> u32 {
        self.cur().add_const(v)
    }

    fn str_const(&mut self, s: &str) -> u32 {
        self.cur().str_const(s)
    }

    fn error(&mut self, category: &str, message: impl Into<String>, span: Span) {
        let d = Diagnostic::new(category, message, span).with_file(&self.file);
        self.errors.push(d);
    }

    fn error_diag(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    /// Guards recursion depth; returns false (after reporting) when too deep.
    fn enter(&mut self, span: Span) -> bool {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            if self.depth == MAX_NESTING + 1 {
                self.error(
                    "syntax_error",
                    format!("expression nested too deeply (more than {MAX_NESTING} levels)"),
                    span,
                );
            }
            self.depth -= 1;
            return false;
        }
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// Compiles a function body into a nested proto and emits the closure.
    fn compile_function(&mut self, def: &'ast ast::FnDef, name: &str) {
        self.compile_function_parts(name, &def.params, def.rest.as_ref(), &def.body, def.span);
    }

    /// Compiles a function from its parts (also used for `spawn { ... }`,
    /// whose block becomes a function of no parameters).
    fn compile_function_parts(
        &mut self,
        name: &str,
        params: &'ast [ast::Param],
        rest: Option<&'ast ast::Param>,
        body: &'ast Block,
        span: Span,
    ) {
        let mut state = FnState::new(name.to_string(), span, false);
        state.begin_scope();
        self.fns.push(state);
        // Parameters occupy the first slots, in order.
        for p in params {
            self.declare_param(&p.name, p.span);
        }
        if let Some(rest) = rest {
            self.declare_param(&rest.name, rest.span);
        }
        // Defaults: evaluated when the argument was not passed.
        for (i, p) in params.iter().enumerate() {
            if let Some(default) = &p.default {
                let jump = self.emit_jump(
                    Op::JumpIfArgGiven {
                        slot: i as u16,
                        offset: 0,
                    },
                    p.span,
                );
                self.compile_expr(default);
                let op = self.store_local_op(i);
                self.emit(op, p.span);
                self.patch_jump(jump);
            }
        }
        // Placeholders for parameters captured (as cells) by closures.
        let nparams = params.len() + rest.is_some() as usize;
        for i in 0..nparams {
            let at = self.emit(Op::Nop, span);
            self.cur().locals[i].cell_site = Some(at);
        }
        self.compile_block_value(body);
        self.emit(Op::Return, body.span.end_point());
        let state = self.fns.pop().expect("function state");
        let nrequired = params.iter().take_while(|p| p.default.is_none()).count();
        let proto = state.finish(
            self.file.clone(),
            params.len() as u16,
            nrequired as u16,
            rest.is_some(),
        );
        let k = {
            let f = self.cur();
            f.protos.push(Rc::new(proto));
            f.protos.len() as u32 - 1
        };
        self.emit(Op::Closure(k), span);
    }

    fn compile_block_value(&mut self, block: &'ast Block) {
        self.cur().begin_scope();
        self.compile_stmts(&block.stmts, true);
        self.end_scope();
    }
}

trait SpanExt {
    fn end_point(self) -> Span;
}

impl SpanExt for Span {
    fn end_point(self) -> Span {
        Span {
            start: self.end.saturating_sub(1),
            end: self.end,
        }
    }
}
