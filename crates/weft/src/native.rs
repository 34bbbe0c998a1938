//! Native functions: Rust closures that scripts call like builtins
//! ([`Engine::register_fn`](crate::Engine::register_fn),
//! [`Engine::register_async_fn`](crate::Engine::register_async_fn)).
//!
//! A closure of up to six parameters whose types implement
//! [`FromValue`] and whose result is a `weft::Result<T>` with `T:`
//! [`IntoValue`] implements [`NativeFn`] (or, returning a future,
//! [`AsyncNativeFn`]). Arguments are converted before the closure runs; a
//! mismatch is a `type_error` naming the function and the argument.
//! Trailing `Option<T>` parameters may be left out by the caller.
//!
//! Every call first checks the capabilities the host declared with
//! [`Registration::requires`] against the calling task's policy, and a
//! panic inside the function is caught at this boundary and raised in the
//! script as an `internal_error` (unless the host builds with
//! `panic = "abort"`, where nothing can be caught).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Mutex;

use futures_util::FutureExt;
use weft_vm::builtins::{BuiltinDef, HostFn};
use weft_vm::context::Capability;
use weft_vm::error::RtError;

use crate::error::{Error, Result};
use crate::value::{FromValue, IntoValue, Value};

/// A boxed, non-`Send` future: what an async native function's call
/// becomes once its arguments are converted.
pub type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// The name and parameter names of a native function, for messages.
#[derive(Debug, Clone)]
pub struct Signature {
    /// The function's name in scripts.
    pub name: &'static str,
    /// Parameter names (may be shorter than the parameter list).
    pub params: &'static [&'static str],
}

impl Signature {
    /// Converts argument `i` (0-based), or explains the mismatch:
    /// `lookup_user: argument 1 (id) must be an int, got string`.
    pub fn arg<T: FromValue>(&self, i: usize, v: Option<Value>) -> Result<T> {
        let missing = v.is_none();
        T::from_value(v.unwrap_or_default()).map_err(|m| {
            let param = self
                .params
                .get(i)
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            let got = if missing {
                "nothing".to_string()
            } else {
                m.got
            };
            Error::new(
                "type_error",
                format!(
                    "{}: argument {}{param} must be {}, got {got}",
                    self.name,
                    i + 1,
                    m.expected
                ),
            )
        })
    }
}

/// A synchronous native function: implemented for closures
/// `Fn(A1, ..., An) -> weft::Result<R>` (n ≤ 6) with `Ai:` [`FromValue`]
/// and `R:` [`IntoValue`].
///
/// ```
/// let mut engine = weft::Engine::builder().build()?;
/// engine.register_fn("double", |x: i64| -> weft::Result<i64> { Ok(x * 2) })?;
/// assert_eq!(weft::block_on(engine.eval("double(21)"))?.as_int(), Some(42));
/// # Ok::<(), weft::Error>(())
/// ```
pub trait NativeFn<Args>: 'static {
    /// Fewest and most arguments accepted (trailing `Option`s are optional).
    fn arity() -> (usize, usize);
    /// Converts the arguments and calls the function.
    fn invoke(&self, sig: &Signature, args: Vec<Value>) -> Result<Value>;
}

/// An async native function: implemented for closures
/// `Fn(A1, ..., An) -> Fut` (n ≤ 6) where `Fut: Future<Output =
/// weft::Result<R>>`. The future runs on the engine's thread and need not
/// be `Send`.
///
/// ```
/// let mut engine = weft::Engine::builder().build()?;
/// engine.register_async_fn("later", |s: String| async move {
///     tokio::task::yield_now().await;
///     Ok(s.to_uppercase())
/// })?;
/// assert_eq!(weft::block_on(engine.eval("later(\"hi\")"))?.as_str(), Some("HI"));
/// # Ok::<(), weft::Error>(())
/// ```
pub trait AsyncNativeFn<Args>: 'static {
    /// Fewest and most arguments accepted (trailing `Option`s are optional).
    fn arity() -> (usize, usize);
    /// Converts the arguments and starts the call.
    fn invoke(&self, sig: &Signature, args: Vec<Value>) -> Result<LocalFuture<Result<Value>>>;
}

fn arity_of(optional: &[bool]) -> (usize, usize) {
    let mut min = optional.len();
    while min > 0 && optional[min - 1] {
        min -= 1;
    }
    (min, optional.len())
}

macro_rules! native_impls {
    ($($a:ident),*) => {
        impl<F, R, $($a),*> NativeFn<($($a,)*)> for F
        where
            F: Fn($($a),*) -> Result<R> + 'static,
            R: IntoValue,
            $($a: FromValue,)*
        {
            fn arity() -> (usize, usize) {
                arity_of(&[$($a::OPTIONAL),*])
            }

            #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
            fn invoke(&self, sig: &Signature, args: Vec<Value>) -> Result<Value> {
                let mut it = args.into_iter();
                let mut i = 0;
                $(let $a: $a = sig.arg(i, it.next())?; i += 1;)*
                (self)($($a),*)?.into_value()
            }
        }

        impl<F, Fut, R, $($a),*> AsyncNativeFn<($($a,)*)> for F
        where
            F: Fn($($a),*) -> Fut + 'static,
            Fut: Future<Output = Result<R>> + 'static,
            R: IntoValue,
            $($a: FromValue,)*
        {
            fn arity() -> (usize, usize) {
                arity_of(&[$($a::OPTIONAL),*])
            }

            #[allow(non_snake_case, unused_variables, unused_mut, unused_assignments)]
            fn invoke(&self, sig: &Signature, args: Vec<Value>) -> Result<LocalFuture<Result<Value>>> {
                let mut it = args.into_iter();
                let mut i = 0;
                $(let $a: $a = sig.arg(i, it.next())?; i += 1;)*
                let fut = (self)($($a),*);
                Ok(Box::pin(async move { fut.await?.into_value() }))
            }
        }
    };
}

native_impls!();
native_impls!(A1);
native_impls!(A1, A2);
native_impls!(A1, A2, A3);
native_impls!(A1, A2, A3, A4);
native_impls!(A1, A2, A3, A4, A5);
native_impls!(A1, A2, A3, A4, A5, A6);

/// Gives a name or parameter list a `'static` lifetime (the VM's builtin
/// table wants one). Each distinct name is allocated once per process, so
/// registering the same functions in many engines does not grow memory.
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(s) = set.get(name) {
        return s;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn intern_params(params: &[&str]) -> &'static [&'static str] {
    type Table = HashMap<Vec<String>, &'static [&'static str]>;
    static PARAMS: Mutex<Option<Table>> = Mutex::new(None);
    let key: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    let mut guard = PARAMS.lock().unwrap_or_else(|e| e.into_inner());
    let table = guard.get_or_insert_with(HashMap::new);
    if let Some(p) = table.get(&key) {
        return p;
    }
    let list: Vec<&'static str> = params.iter().map(|p| intern(p)).collect();
    let leaked: &'static [&'static str] = Box::leak(list.into_boxed_slice());
    table.insert(key, leaked);
    leaked
}

/// A native function ready to become a builtin, and the handle that
/// declares what it needs.
pub(crate) struct Registered {
    pub def: BuiltinDef,
    pub registration: Registration,
}

/// What [`Engine::register_fn`](crate::Engine::register_fn) and its
/// siblings return: declares what the registered function needs.
///
/// ```
/// use weft::{Capability, Policy};
/// let mut engine = weft::Engine::builder()
///     .policy(Policy::read_only())
///     .build()?;
/// engine
///     .register_fn("save_note", |text: String| -> weft::Result<i64> {
///         Ok(text.len() as i64) // a real host would write it somewhere
///     })?
///     .requires(Capability::FsWrite);
/// let err = weft::block_on(engine.eval("save_note(\"hi\")")).unwrap_err();
/// assert_eq!(err.category(), "permission_denied");
/// assert!(err.message().starts_with("save_note needs fs.write"), "{}", err.message());
/// # Ok::<(), weft::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Registration {
    requires: Rc<RefCell<Vec<Capability>>>,
}

impl Registration {
    /// Declares that the function needs `cap`: a call from a task whose
    /// policy does not grant it (a read-only worker calling a host function
    /// that writes, a worker under `--deny network` calling one that
    /// fetches) raises `permission_denied` and the function is not run.
    /// Call it once per capability.
    pub fn requires(self, cap: Capability) -> Registration {
        let mut caps = self.requires.borrow_mut();
        if !caps.contains(&cap) {
            caps.push(cap);
        }
        drop(caps);
        self
    }
}

/// `internal_error` for a panic caught inside native function `name`.
fn panicked(name: &str, payload: Box<dyn std::any::Any + Send>) -> Box<RtError> {
    let why = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string());
    RtError::new(
        "internal_error",
        format!("native function {name} panicked: {why} (a bug in the host, not the script)"),
    )
}

fn signature(name: &str, params: &[&str]) -> Signature {
    Signature {
        name: intern(name),
        params: intern_params(params),
    }
}

fn def(
    sig: &Signature,
    (min, max): (usize, usize),
    f: HostFn,
    registration: Registration,
) -> Registered {
    Registered {
        def: weft_vm::builtins::host(sig.name, sig.params, min as u8, max as u8, "", f),
        registration,
    }
}

fn new_registration() -> Registration {
    Registration {
        requires: Rc::new(RefCell::new(Vec::new())),
    }
}

/// Wraps a synchronous native function as a VM builtin.
pub(crate) fn sync_def<Args, F: NativeFn<Args>>(name: &str, params: &[&str], f: F) -> Registered {
    let sig = Rc::new(signature(name, params));
    let f = Rc::new(f);
    let s = sig.clone();
    let registration = new_registration();
    let requires = registration.requires.clone();
    let host: HostFn = Rc::new(move |vm, args| {
        let r = (|| {
            for cap in requires.borrow().iter() {
                vm.ctx.check_host_capability(*cap, s.name)?;
            }
            let args = args.into_iter().map(Value::from_vm).collect();
            match std::panic::catch_unwind(AssertUnwindSafe(|| f.invoke(&s, args))) {
                Ok(r) => r.map(Value::into_vm).map_err(Error::into_rt),
                Err(payload) => Err(panicked(s.name, payload)),
            }
        })();
        Box::pin(std::future::ready(r))
    });
    def(&sig, F::arity(), host, registration)
}

/// Wraps an async native function as a VM builtin.
pub(crate) fn async_def<Args, F: AsyncNativeFn<Args>>(
    name: &str,
    params: &[&str],
    f: F,
) -> Registered {
    let sig = Rc::new(signature(name, params));
    let f = Rc::new(f);
    let s = sig.clone();
    let registration = new_registration();
    let requires = registration.requires.clone();
    let host: HostFn = Rc::new(move |vm, args| {
        for cap in requires.borrow().iter() {
            if let Err(e) = vm.ctx.check_host_capability(*cap, s.name) {
                return Box::pin(std::future::ready(Err(e)));
            }
        }
        let args = args.into_iter().map(Value::from_vm).collect();
        let name = s.name;
        match std::panic::catch_unwind(AssertUnwindSafe(|| f.invoke(&s, args))) {
            Ok(Ok(fut)) => Box::pin(async move {
                match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(r) => r.map(Value::into_vm).map_err(Error::into_rt),
                    Err(payload) => Err(panicked(name, payload)),
                }
            }),
            Ok(Err(e)) => Box::pin(std::future::ready(Err(e.into_rt()))),
            Err(payload) => Box::pin(std::future::ready(Err(panicked(name, payload)))),
        }
    });
    def(&sig, F::arity(), host, registration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_options_are_optional() {
        assert_eq!(arity_of(&[false, true, true]), (1, 3));
        assert_eq!(arity_of(&[true, false]), (2, 2));
        assert_eq!(arity_of(&[]), (0, 0));
    }

    #[test]
    fn interning_reuses_names() {
        assert!(std::ptr::eq(intern("abc_fn"), intern("abc_fn")));
        assert!(std::ptr::eq(intern_params(&["a"]), intern_params(&["a"])));
    }

    #[test]
    fn mismatch_names_function_and_argument() {
        let sig = signature("lookup_user", &["id"]);
        let e = sig.arg::<i64>(0, Some(Value::from("x"))).unwrap_err();
        assert_eq!(
            e.message(),
            "lookup_user: argument 1 (id) must be an int, got string"
        );
        let e = sig.arg::<i64>(1, None).unwrap_err();
        assert_eq!(
            e.message(),
            "lookup_user: argument 2 must be an int, got nothing"
        );
    }
}
