//! A program run: module loading and caching (`./file.wf`, `std/NAME`),
//! import-cycle detection, global slot allocation, the builtin table, and
//! the entry points the CLI uses (`check_file`, `run_file`, `disassemble_file`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use weft_syntax::{parse_module, Diagnostic, SourceFile, Span};

use crate::builtins::{core_builtins, BuiltinDef};
use crate::compiler::{Compiler, Exports, GlobalInfo, GlobalKind, ModuleHost};
use crate::stdlib::{std_module, STD_MODULES};
use crate::value::Value;
use crate::vm::{ModuleSlot, Program, Vm};

/// How a program run is configured by its host (the CLI or an embedder).
pub struct RuntimeOptions {
    /// `argv` global: the strings after `--`.
    pub argv: Vec<String>,
    /// Maximum script call depth before `stack_overflow` (default 10,000).
    pub max_call_depth: usize,
    /// Where `print`/`println` write (default: buffered stdout).
    pub stdout: Box<dyn Write>,
    /// Instruction budget: loop back-edges plus calls (`--max-steps`).
    pub max_steps: Option<u64>,
    /// Wall-clock limit for a run, measured from `Runtime::new`. Checked
    /// with the instruction budget (every 1,024 loop back-edges or calls)
    /// and when an awaited builtin returns.
    pub time_limit: Option<std::time::Duration>,
    /// Longest string a script may create, in bytes (`limit_exceeded`).
    pub max_string_len: Option<usize>,
    /// Most items in one list or entries in one dict (`limit_exceeded`).
    pub max_collection_len: Option<usize>,
    /// Most tasks alive at once (`spawn`, `parallel_map` items;
    /// `limit_exceeded`).
    pub max_tasks: Option<usize>,
    /// Most heap bytes a run may add (`memory.rs`; needs
    /// [`crate::memory::CountingAlloc`] as the global allocator).
    pub max_memory: Option<usize>,
    /// Builtins added by extension crates (registered after the core ones).
    pub extra_builtins: Vec<BuiltinDef>,
    /// The root ceiling: the effective policy of the program's main task.
    pub root_policy: crate::policy::CapabilityPolicy,
    /// Compile every top-level name of the main module as a global, so a
    /// host can read it after the run ([`Runtime::global`]); top-level code
    /// is slightly slower. Off for `weft run`.
    pub top_level_globals: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            argv: Vec::new(),
            max_call_depth: 10_000,
            stdout: Box::new(std::io::BufWriter::new(std::io::stdout())),
            max_steps: None,
            time_limit: None,
            max_string_len: None,
            max_collection_len: None,
            max_tasks: None,
            max_memory: None,
            extra_builtins: Vec::new(),
            root_policy: crate::policy::CapabilityPolicy::allow_all(),
            top_level_globals: false,
        }
    }
}

/// The outcome of one REPL input.
pub enum ReplOutcome {
    /// The input ended inside an open construct; read more lines.
    Incomplete,
    /// Compile or runtime errors.
    Errors(Vec<Diagnostic>),
    /// It ran; `Some(value)` when the input ended with an expression.
    Value(Option<Value>),
}

struct ModuleRecord {
    exports: Vec<(String, GlobalInfo)>,
}

/// One program run: modules, globals, builtins.
pub struct Runtime {
    program: Rc<Program>,
    builtin_index: HashMap<&'static str, u16>,
    modules: Vec<ModuleRecord>,
    module_by_key: HashMap<String, u32>,
    /// Keys (and display names) of the modules being compiled, for cycles.
    loading: Vec<(String, String)>,
    prelude: HashMap<String, GlobalInfo>,
    /// The REPL session's top-level names.
    repl_globals: HashMap<String, GlobalInfo>,
    repl_inputs: usize,
    /// The task context REPL inputs run in (kept between inputs).
    repl_vm: Option<Vm>,
    root_policy: Rc<crate::policy::CapabilityPolicy>,
    time_limit: Option<std::time::Duration>,
    max_memory: Option<usize>,
    top_level_globals: bool,
    /// Top-level names of the last main module loaded (for [`Runtime::global`]).
    main_globals: HashMap<String, GlobalInfo>,
    /// Top-level names of the module compiled last.
    last_globals: HashMap<String, GlobalInfo>,
}

impl Runtime {
    pub fn new(options: RuntimeOptions) -> Runtime {
        let mut defs = core_builtins();
        defs.extend(options.extra_builtins);
        let mut builtin_index = HashMap::new();
        let mut builtins = Vec::with_capacity(defs.len());
        for (i, d) in defs.into_iter().enumerate() {
            builtin_index.insert(d.name, i as u16);
            builtins.push(Rc::new(d));
        }
        let program = Rc::new(Program {
            globals: RefCell::new(Vec::new()),
            global_names: RefCell::new(Vec::new()),
            builtins,
            modules: RefCell::new(Vec::new()),
            out: RefCell::new(options.stdout),
            max_call_depth: options.max_call_depth,
            max_native_depth: 200,
            rng: RefCell::new(fastrand::Rng::new()),
            interrupt: Default::default(),
            max_steps: options.max_steps,
            deadline: std::cell::Cell::new(
                options.time_limit.map(|d| std::time::Instant::now() + d),
            ),
            budget: Default::default(),
            max_tasks: options.max_tasks,
            limits: crate::value::SizeLimits {
                max_string_len: options.max_string_len,
                max_collection_len: options.max_collection_len,
            },
            extensions: RefCell::new(HashMap::new()),
            shutdown_hooks: RefCell::new(Vec::new()),
            approval_gate: RefCell::new(None),
        });
        let mut rt = Runtime {
            program,
            builtin_index,
            modules: Vec::new(),
            module_by_key: HashMap::new(),
            loading: Vec::new(),
            prelude: HashMap::new(),
            repl_globals: HashMap::new(),
            repl_inputs: 0,
            repl_vm: None,
            root_policy: Rc::new(options.root_policy),
            time_limit: options.time_limit,
            max_memory: options.max_memory,
            top_level_globals: options.top_level_globals,
            main_globals: HashMap::new(),
            last_globals: HashMap::new(),
        };
        rt.restart_clock();
        let slot = rt.alloc_global("argv");
        rt.program.globals.borrow_mut()[slot as usize] =
            Value::list(options.argv.into_iter().map(Value::str).collect());
        rt.prelude.insert(
            "argv".to_string(),
            GlobalInfo {
                slot,
                mutable: false,
                kind: GlobalKind::Prelude,
            },
        );
        rt
    }

    /// The shared program state (for hosts and extension crates to seed
    /// extension state before running).
    pub fn program(&self) -> &Rc<Program> {
        &self.program
    }

    /// The builtins, in registry order.
    pub fn builtins(&self) -> &[Rc<BuiltinDef>] {
        &self.program.builtins
    }

    /// Parses and compiles `path` and every module it imports; runs nothing.
    pub fn check_file(&mut self, path: &Path) -> Result<(), Vec<Diagnostic>> {
        self.load_main(path).map(|_| ())
    }

    /// Compiles and runs `path` as the program's main module. An uncaught
    /// error comes back as a diagnostic (`error[category]`, or
    /// `error[thrown]` for a thrown non-error value).
    pub async fn run_file(&mut self, path: &Path) -> Result<(), Vec<Diagnostic>> {
        let result = self.run_main(path).await;
        self.program.run_shutdown_hooks().await;
        self.program.flush_out();
        result.map(|_| ())
    }

    /// Compiles and runs `path` as the main module and returns the value of
    /// its top level, without running the program-end hooks (a host that
    /// keeps the runtime runs them itself) or flushing output.
    pub async fn run_main(&mut self, path: &Path) -> Result<Value, Vec<Diagnostic>> {
        let id = self.load_main(path)?;
        let mut vm = self.new_vm();
        vm.run_module(id).await.map_err(|e| vec![e.to_diagnostic()])
    }

    /// Starts the wall-clock limit (`time_limit`) and the instruction
    /// budget afresh, and forgets an exhausted budget: a host that runs
    /// several entry points on one runtime calls this before each.
    pub fn restart_clock(&self) {
        self.program.budget.reset();
        if let Some(max) = self.max_memory {
            crate::memory::set_limit(Some(crate::memory::live_bytes().saturating_add(max)));
        }
        self.program
            .deadline
            .set(self.time_limit.map(|d| std::time::Instant::now() + d));
    }

    /// The value of the top-level name `name`: a REPL/eval definition
    /// first, else one of the last main module loaded.
    pub fn global(&self, name: &str) -> Option<Value> {
        let info = self
            .repl_globals
            .get(name)
            .or_else(|| self.main_globals.get(name))?;
        let v = self
            .program
            .globals
            .borrow()
            .get(info.slot as usize)?
            .clone();
        (!matches!(v, Value::Undef)).then_some(v)
    }

    /// Every top-level name [`Runtime::global`] can find, sorted.
    pub fn global_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .repl_globals
            .keys()
            .chain(self.main_globals.keys())
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The bytecode listing of `path` (imports are compiled but not listed).
    pub fn disassemble_file(&mut self, path: &Path) -> Result<String, Vec<Diagnostic>> {
        let id = self.load_main(path)?;
        let main = self.program.modules.borrow()[id as usize].main.clone();
        Ok(crate::disasm::disassemble(&main, &self.program.builtins))
    }

    /// A VM for the program's main task, under the root policy.
    pub fn new_vm(&self) -> Vm {
        let mut vm = Vm::new(self.program.clone());
        vm.ctx.policy = self.root_policy.clone();
        vm
    }

    /// A handle that stops the running evaluation when set (Ctrl-C).
    pub fn interrupt_handle(&self) -> std::sync::Arc<crate::interrupt::Interrupt> {
        self.program.interrupt.clone()
    }

    /// Names visible at the REPL's top level (for completion).
    pub fn repl_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.repl_globals.keys().cloned().collect();
        names.extend(self.prelude.keys().cloned());
        names.sort();
        names
    }

    /// Compiles one REPL input against the session's names (earlier inputs
    /// are not re-run) and runs it.
    pub async fn eval_repl(&mut self, source: &str) -> ReplOutcome {
        self.eval_input("repl", source).await
    }

    /// [`Runtime::eval_repl`] with inputs named `<LABEL:N>` in diagnostics
    /// (a host's `eval` uses `eval`).
    pub async fn eval_input(&mut self, label: &str, source: &str) -> ReplOutcome {
        let (main, ends_with_expr) = match self.compile_repl(label, source) {
            Ok(r) => r,
            Err(outcome) => return outcome,
        };
        let id = self.program.modules.borrow().len() as u32;
        self.program
            .modules
            .borrow_mut()
            .push(ModuleSlot { main, ran: false });
        self.modules.push(ModuleRecord {
            exports: Vec::new(),
        });
        self.program.interrupt.clear();
        let mut vm = self.repl_vm.take().unwrap_or_else(|| self.new_vm());
        // The instruction budget is per input, like the deadline.
        self.program.budget.reset();
        let result = vm.run_module(id).await;
        self.repl_vm = Some(vm);
        self.program.flush_out();
        match result {
            Ok(v) if ends_with_expr => ReplOutcome::Value(Some(v)),
            Ok(_) => ReplOutcome::Value(None),
            Err(e) => ReplOutcome::Errors(vec![e.to_diagnostic()]),
        }
    }

    /// The bytecode of a REPL input, compiled against the session's names
    /// (its declarations are not kept).
    pub fn disassemble_repl(&mut self, source: &str) -> Result<String, Vec<Diagnostic>> {
        let saved = self.repl_globals.clone();
        let r = self.compile_repl("repl", source);
        self.repl_globals = saved;
        match r {
            Ok((main, _)) => Ok(crate::disasm::disassemble(&main, &self.program.builtins)),
            Err(ReplOutcome::Errors(ds)) => Err(ds),
            Err(_) => Err(vec![Diagnostic::new(
                "syntax_error",
                "incomplete input",
                Span::default(),
            )]),
        }
    }

    fn compile_repl(
        &mut self,
        label: &str,
        source: &str,
    ) -> Result<(Rc<crate::bytecode::FnProto>, bool), ReplOutcome> {
        self.repl_inputs += 1;
        let file = SourceFile::new(
            format!("<{label}:{}>", self.repl_inputs),
            source.to_string(),
        );
        let ast = match parse_module(&file) {
            Ok(a) => a,
            Err(d) if d.incomplete => return Err(ReplOutcome::Incomplete),
            Err(d) => return Err(ReplOutcome::Errors(vec![d])),
        };
        let ends_with_expr = matches!(
            ast.stmts.last().map(|s| &s.kind),
            Some(weft_syntax::ast::StmtKind::Expr(_))
        );
        let globals = self.repl_globals.clone();
        let compiled = Compiler::new(file.clone(), self)
            .with_globals(globals)
            .compile_module(&ast, &file.name)
            .map_err(ReplOutcome::Errors)?;
        self.repl_globals = compiled.globals;
        Ok((compiled.main, ends_with_expr))
    }

    fn load_main(&mut self, path: &Path) -> Result<u32, Vec<Diagnostic>> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            vec![Diagnostic::new(
                "io_error",
                format!("cannot read {}: {e}", path.display()),
                Span::default(),
            )]
        })?;
        let key = canonical_key(path);
        let file = SourceFile::new(path.display().to_string(), text);
        self.main_globals.clear();
        let id = self.compile_and_register(key, file, self.top_level_globals)?;
        self.main_globals = std::mem::take(&mut self.last_globals);
        // Later REPL/eval inputs see the main module's top-level names.
        for (name, info) in &self.main_globals {
            self.repl_globals.insert(name.clone(), info.clone());
        }
        Ok(id)
    }

    fn compile_and_register(
        &mut self,
        key: String,
        file: Arc<SourceFile>,
        all_globals: bool,
    ) -> Result<u32, Vec<Diagnostic>> {
        let ast = parse_module(&file).map_err(|d| vec![d])?;
        self.loading.push((key.clone(), file.name.clone()));
        let compiler = Compiler::new(file.clone(), self);
        let compiler = if all_globals {
            compiler.with_globals(HashMap::new())
        } else {
            compiler
        };
        let compiled = compiler.compile_module(&ast, &file.name);
        self.loading.pop();
        let compiled = compiled?;
        let id = self.modules.len() as u32;
        self.program.modules.borrow_mut().push(ModuleSlot {
            main: compiled.main,
            ran: false,
        });
        self.modules.push(ModuleRecord {
            exports: compiled.exports,
        });
        self.last_globals = compiled.globals;
        self.module_by_key.insert(key, id);
        Ok(id)
    }
}

/// The most a module file may hold (a bound on what an import reads).
pub const MAX_MODULE_BYTES: u64 = 16 << 20;

impl Runtime {
    /// Where an imported file lands under the root policy: `fs.read` and the
    /// workspace roots apply to imports as to `read_file`.
    fn module_target(&self, full: &Path) -> Result<crate::confine::FsTarget, String> {
        let abs = if full.is_absolute() {
            full.to_path_buf()
        } else {
            std::env::current_dir()
                .unwrap_or_else(|_| PathBuf::from("/"))
                .join(full)
        };
        let abs = crate::policy::normalize(&abs);
        let shown = abs.display();
        self.root_policy
            .check("fs", "read", None)
            .map_err(|d| format!("{} denied for {shown}: {}", d.capability, d.reason))?;
        self.root_policy
            .locate(&abs)
            .map_err(|o| format!("fs.read denied for {shown}: {}", o.reason))
    }
}

/// Reads a module through the confinement layer: a regular UTF-8 file of at
/// most [`MAX_MODULE_BYTES`]. Errors are (category, reason); a link leading
/// out of the roots is `permission_denied`.
fn read_module(target: &crate::confine::FsTarget) -> Result<String, (&'static str, String)> {
    use crate::confine::{FsError, ReadOutcome};
    match target.read(Some(MAX_MODULE_BYTES)) {
        Ok(ReadOutcome::Bytes(b)) => String::from_utf8(b).map_err(|_| {
            (
                "import_error",
                "the file is not valid UTF-8 text".to_string(),
            )
        }),
        Ok(ReadOutcome::TooLong(n)) => Err((
            "import_error",
            format!("the file is too large ({n} bytes; at most {MAX_MODULE_BYTES})"),
        )),
        Err(FsError::Escape(o)) => {
            Err(("permission_denied", format!("fs.read denied: {}", o.reason)))
        }
        Err(FsError::Io(e)) => Err(("import_error", crate::context::os_reason(&e))),
    }
}

/// A stable identity for a module file (canonical path when it exists).
fn canonical_key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

impl ModuleHost for Runtime {
    fn import(
        &mut self,
        path: &str,
        importer: &Arc<SourceFile>,
        span: Span,
    ) -> Result<(u32, Exports), Vec<Diagnostic>> {
        let err =
            |msg: String| vec![Diagnostic::new("import_error", msg, span).with_file(importer)];
        let (key, name, text) = if let Some(std_name) = path.strip_prefix("std/") {
            match std_module(std_name) {
                Some(src) => (
                    format!("std/{std_name}"),
                    format!("std/{std_name}"),
                    src.to_string(),
                ),
                None => {
                    let names: Vec<String> = STD_MODULES
                        .iter()
                        .map(|(n, _)| format!("std/{n}"))
                        .collect();
                    return Err(err(format!(
                        "unknown standard module \"{path}\" (available: {})",
                        names.join(", ")
                    )));
                }
            }
        } else if path.starts_with("./") || path.starts_with("../") || path.starts_with('/') {
            let dir = Path::new(&importer.name).parent().unwrap_or(Path::new(""));
            let full = if path.starts_with('/') {
                PathBuf::from(path)
            } else {
                crate::policy::normalize(&dir.join(path))
            };
            // The policy is checked before the file is touched, so a denied
            // import reveals nothing about the file (not even whether it exists).
            let target = self.module_target(&full).map_err(|msg| {
                vec![Diagnostic::new(
                    "permission_denied",
                    format!("import \"{path}\": {msg}"),
                    span,
                )
                .with_file(importer)]
            })?;
            let key = canonical_key(&full);
            if let Some(&id) = self.module_by_key.get(&key) {
                return Ok((id, self.modules[id as usize].exports.clone()));
            }
            let text = match read_module(&target) {
                Ok(t) => t,
                Err((category, e)) => {
                    return Err(vec![Diagnostic::new(
                        category,
                        format!("cannot read module \"{path}\" ({}): {e}", full.display()),
                        span,
                    )
                    .with_file(importer)])
                }
            };
            (key, full.display().to_string(), text)
        } else {
            return Err(err(format!(
                "import paths must start with \"./\", \"../\", \"/\" or \"std/\", got \"{path}\""
            )));
        };
        if let Some(&id) = self.module_by_key.get(&key) {
            return Ok((id, self.modules[id as usize].exports.clone()));
        }
        if let Some(pos) = self.loading.iter().position(|(k, _)| *k == key) {
            let mut chain: Vec<String> =
                self.loading[pos..].iter().map(|(_, n)| n.clone()).collect();
            chain.push(name);
            return Err(err(format!("import cycle: {}", chain.join(" -> "))));
        }
        let file = SourceFile::new(name, text);
        let id = self.compile_and_register(key, file, false)?;
        Ok((id, self.modules[id as usize].exports.clone()))
    }

    fn alloc_global(&mut self, name: &str) -> u32 {
        let mut globals = self.program.globals.borrow_mut();
        globals.push(Value::Undef);
        self.program
            .global_names
            .borrow_mut()
            .push(name.to_string());
        globals.len() as u32 - 1
    }

    fn builtin_id(&self, name: &str) -> Option<u16> {
        self.builtin_index.get(name).copied()
    }

    fn builtin_value(&self, id: u16) -> Value {
        Value::Builtin(self.program.builtins[id as usize].clone())
    }

    fn builtin_is_sync(&self, id: u16) -> bool {
        self.program.builtins[id as usize].is_sync()
    }

    fn builtin_names(&self) -> Vec<String> {
        self.program
            .builtins
            .iter()
            .map(|b| b.name.to_string())
            .collect()
    }

    fn prelude_global(&self, name: &str) -> Option<GlobalInfo> {
        self.prelude.get(name).cloned()
    }
}

impl Drop for Runtime {
    /// The heap limit is process-wide: lift it with the runtime that set it.
    fn drop(&mut self) {
        if self.max_memory.is_some() {
            crate::memory::set_limit(None);
        }
    }
}
