//! The builtin registry and the helpers builtins use to read their
//! arguments. One file per family of stdlib.md.

mod args;
pub mod concurrency;
mod convert;
mod dicts;
mod env;
mod files;
mod http;
mod identity;
mod json;
mod lists;
mod lists_order;
mod math;
mod output;
mod process;
mod regex;
mod schema;
mod strings;
mod strings_position;
mod testing;
mod time;

use std::future::Future;
use std::pin::Pin;

pub use args::Args;

use crate::error::RtResult;
use crate::value::Value;
use crate::vm::Vm;

/// A boxed, non-`Send` future borrowing the VM.
pub type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A builtin that never waits and never calls back into script code.
pub type SyncFn = fn(&mut Vm, &mut Args) -> RtResult<Value>;
/// A builtin that awaits, or calls script functions (callbacks).
pub type AsyncFn = for<'v> fn(&'v mut Vm, Vec<Value>) -> LocalBoxFuture<'v, RtResult<Value>>;

/// A builtin implemented by a closure: host functions registered through
/// the embedding facade (`weft::Engine::register_fn`). The returned future
/// may borrow only the VM, so a closure clones what it needs into it.
pub type HostFn =
    std::rc::Rc<dyn for<'v> Fn(&'v mut Vm, Vec<Value>) -> LocalBoxFuture<'v, RtResult<Value>>>;

#[derive(Clone)]
pub enum BuiltinFn {
    Sync(SyncFn),
    Async(AsyncFn),
    /// A host closure; always awaited (like [`BuiltinFn::Async`]).
    Host(HostFn),
}

/// A builtin call the VM awaits: an async builtin or a host closure.
#[derive(Clone)]
pub enum AsyncCall {
    Fn(AsyncFn),
    Host(HostFn),
}

impl AsyncCall {
    /// Starts the call.
    pub fn call<'v>(
        &self,
        vm: &'v mut Vm,
        args: Vec<Value>,
    ) -> LocalBoxFuture<'v, RtResult<Value>> {
        match self {
            AsyncCall::Fn(f) => f(vm, args),
            AsyncCall::Host(h) => h(vm, args),
        }
    }
}

/// One builtin function.
pub struct BuiltinDef {
    pub name: &'static str,
    /// Parameter names, for messages (`argument 2 (separator)`) and docs.
    /// A trailing `"..."` entry marks a variadic builtin.
    pub params: &'static [&'static str],
    /// Minimum number of arguments.
    pub min: u8,
    /// Maximum number of arguments (`u8::MAX` = variadic).
    pub max: u8,
    pub func: BuiltinFn,
    /// The stdlib.md family (for the generated reference).
    pub family: &'static str,
    pub doc: &'static str,
    /// Bit `i` set: a range passed as argument `i` is turned into a list
    /// before the call, so every builtin taking a list takes a range. Set
    /// from the parameter names (`list`, `other`) of sync builtins; builtins
    /// that read ranges themselves clear it with [`BuiltinDef::native_ranges`].
    pub range_args: u8,
    /// The keys its options dict accepts, as the option parser's own key
    /// lists (several groups when it accepts several parsers' keys): the
    /// generated reference lists them, so they cannot drift apart.
    pub options: &'static [&'static [&'static str]],
}

impl BuiltinDef {
    /// Declares the keys of the builtin's options dict: the same constants
    /// its parser checks keys against.
    pub const fn options(mut self, groups: &'static [&'static [&'static str]]) -> BuiltinDef {
        self.options = groups;
        self
    }

    /// The option keys of [`BuiltinDef::options`], each once, in order.
    pub fn option_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = Vec::new();
        for k in self.options.iter().flat_map(|g| g.iter()) {
            if !keys.contains(k) {
                keys.push(k);
            }
        }
        keys
    }

    /// Marks a builtin that handles range arguments itself (no conversion).
    pub const fn native_ranges(mut self) -> BuiltinDef {
        self.range_args = 0;
        self
    }

    pub fn is_sync(&self) -> bool {
        matches!(self.func, BuiltinFn::Sync(_))
    }

    /// Checks the argument count: `split() takes 1 to 2 arguments, got 3`.
    pub fn check_arity(&self, argc: usize) -> RtResult<()> {
        if argc >= self.min as usize && (self.max == u8::MAX || argc <= self.max as usize) {
            return Ok(());
        }
        let plural = |n: u8| if n == 1 { "argument" } else { "arguments" };
        let takes = if self.max == u8::MAX {
            format!("takes at least {} {}", self.min, plural(self.min))
        } else if self.min == self.max {
            format!("takes {} {}", self.min, plural(self.min))
        } else {
            format!("takes {} to {} arguments", self.min, self.max)
        };
        Err(crate::error::type_error(format!(
            "{}() {takes}, got {argc}",
            self.name
        )))
    }
}

/// A builtin backed by a host closure (see [`HostFn`]). `name` and
/// `params` must be `'static`: the facade interns them.
pub fn host(
    name: &'static str,
    params: &'static [&'static str],
    min: u8,
    max: u8,
    doc: &'static str,
    f: HostFn,
) -> BuiltinDef {
    BuiltinDef {
        name,
        params,
        min,
        max,
        func: BuiltinFn::Host(f),
        family: "host",
        doc,
        range_args: 0,
        options: &[],
    }
}

/// Shorthand for defining a synchronous builtin.
pub const fn sync(
    name: &'static str,
    params: &'static [&'static str],
    min: u8,
    max: u8,
    family: &'static str,
    doc: &'static str,
    f: SyncFn,
) -> BuiltinDef {
    BuiltinDef {
        name,
        params,
        min,
        max,
        func: BuiltinFn::Sync(f),
        family,
        doc,
        range_args: list_param_mask(params),
        options: &[],
    }
}

/// Bit `i` set for each parameter named `list` or `other` (among the
/// first 8): the arguments [`BuiltinDef::range_args`] converts.
const fn list_param_mask(params: &[&str]) -> u8 {
    const fn same(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let mut i = 0;
        while i < a.len() {
            if a[i] != b[i] {
                return false;
            }
            i += 1;
        }
        true
    }
    let mut mask = 0u8;
    let mut i = 0;
    while i < params.len() && i < 8 {
        if same(params[i], "list") || same(params[i], "other") {
            mask |= 1 << i;
        }
        i += 1;
    }
    mask
}

/// Shorthand for defining an async builtin.
pub const fn asynchronous(
    name: &'static str,
    params: &'static [&'static str],
    min: u8,
    max: u8,
    family: &'static str,
    doc: &'static str,
    f: AsyncFn,
) -> BuiltinDef {
    BuiltinDef {
        name,
        params,
        min,
        max,
        func: BuiltinFn::Async(f),
        family,
        doc,
        range_args: 0,
        options: &[],
    }
}

/// Replaces each range among `args` at a position of `def.range_args` by
/// the list of its items (within the collection-size limit).
pub(crate) fn ranges_to_lists(
    args: &mut [Value],
    def: &BuiltinDef,
    limits: &crate::value::SizeLimits,
) -> RtResult<()> {
    // Only the positions in the mask are visited (most builtins have one).
    let mut mask = def.range_args;
    while mask != 0 {
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        let Some(arg) = args.get_mut(i) else { break };
        if let Value::Range(r) = arg {
            limits.check_list_len(r.len())?;
            *arg = Value::list(convert::iter_items(arg, def.name)?);
        }
    }
    Ok(())
}

/// Every core builtin, in registry order.
pub fn core_builtins() -> Vec<BuiltinDef> {
    let mut all = Vec::new();
    all.extend(output::defs());
    all.extend(convert::defs());
    all.extend(math::defs());
    all.extend(strings::defs());
    all.extend(strings_position::defs());
    all.extend(lists::defs());
    all.extend(dicts::defs());
    all.extend(json::defs());
    all.extend(schema::defs());
    all.extend(regex::defs());
    all.extend(time::defs());
    all.extend(env::defs());
    all.extend(files::defs());
    all.extend(process::defs());
    all.extend(http::defs());
    all.extend(identity::defs());
    all.extend(concurrency::defs());
    all.extend(testing::defs());
    all
}
