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

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Mutex;

use weft_vm::builtins::{BuiltinDef, HostFn};

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

/// A native function ready to become a builtin.
pub(crate) struct Registered {
    pub def: BuiltinDef,
}

fn signature(name: &str, params: &[&str]) -> Signature {
    Signature {
        name: intern(name),
        params: intern_params(params),
    }
}

fn def(sig: &Signature, (min, max): (usize, usize), f: HostFn) -> Registered {
    Registered {
        def: weft_vm::builtins::host(sig.name, sig.params, min as u8, max as u8, "", f),
    }
}

/// Wraps a synchronous native function as a VM builtin.
pub(crate) fn sync_def<Args, F: NativeFn<Args>>(name: &str, params: &[&str], f: F) -> Registered {
    let sig = Rc::new(signature(name, params));
    let f = Rc::new(f);
    let s = sig.clone();
    let host: HostFn = Rc::new(move |_vm, args| {
        let args = args.into_iter().map(Value::from_vm).collect();
        let r = f
            .invoke(&s, args)
            .map(Value::into_vm)
            .map_err(Error::into_rt);
        Box::pin(std::future::ready(r))
    });
    def(&sig, F::arity(), host)
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
    let host: HostFn = Rc::new(move |_vm, args| {
        let args = args.into_iter().map(Value::from_vm).collect();
        match f.invoke(&s, args) {
            Ok(fut) => {
                Box::pin(async move { fut.await.map(Value::into_vm).map_err(Error::into_rt) })
            }
            Err(e) => Box::pin(std::future::ready(Err(e.into_rt()))),
        }
    });
    def(&sig, F::arity(), host)
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
