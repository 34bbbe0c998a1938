//! Runtime values: `Rc`-based, copy-on-write collections, at most 16 bytes.
//!
//! Lists and dicts are values (language.md §2): cloning a `Value` only bumps a
//! reference count, and mutation goes through `Rc::make_mut`, which copies
//! only when the collection is shared. Strings are `Rc<String>` rather than
//! `Rc<str>`: a thin pointer keeps `Value` at 16 bytes, and a uniquely owned
//! string can be appended to in place (`s += "x"` is amortised O(1)).

mod display;
mod equality;
pub mod json;
pub mod limits;
pub mod schema;
pub mod task;

use std::cell::RefCell;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::builtins::BuiltinDef;
use crate::bytecode::FnProto;
use crate::error::RtError;

pub use display::{write_display, write_display_capped, write_repr, TooLong};
pub use equality::{compare, values_equal};
pub use json::{from_json, parse_json, to_json, to_json_string, write_json};
pub use limits::SizeLimits;
pub use schema::{cached_regex, validate};

/// A string value (shared, copy-on-write).
pub type RcStr = Rc<String>;

/// The dict representation: insertion-ordered, string keys.
pub type DictMap = IndexMap<RcStr, Value, foldhash::fast::RandomState>;

/// A Weft value.
#[derive(Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(RcStr),
    List(Rc<Vec<Value>>),
    Dict(Rc<DictMap>),
    /// A script function (closure).
    Func(Rc<Closure>),
    /// A builtin (native) function.
    Builtin(Rc<BuiltinDef>),
    /// A lazy integer range `a..b` / `a..=b`.
    Range(Rc<RangeVal>),
    /// A task started by `spawn`.
    Task(Rc<task::TaskHandle>),
    /// A channel (`channel()`).
    Channel(Rc<task::Channel>),
    /// Internal: a shared mutable variable captured by closures. Never
    /// visible to scripts (loads unwrap it).
    Cell(Rc<RefCell<Value>>),
    /// Internal: a slot with no value yet (a global read before its
    /// definition ran, a moved-out variable, a missing argument).
    Undef,
    /// Internal: an error in flight through a `finally` block.
    Pending(Rc<RtError>),
}

impl Clone for Value {
    /// Scalars are copied bitwise without touching a reference count; the
    /// dispatch loop clones values constantly, so this stays inline.
    #[inline(always)]
    fn clone(&self) -> Value {
        if self.is_scalar() {
            // SAFETY: scalar variants own nothing, so a bitwise copy is a
            // complete, independent value.
            unsafe { std::ptr::read(self) }
        } else {
            self.clone_shared()
        }
    }
}

impl Value {
    #[inline]
    fn clone_shared(&self) -> Value {
        match self {
            Value::Str(s) => Value::Str(Rc::clone(s)),
            Value::List(l) => Value::List(Rc::clone(l)),
            Value::Dict(d) => Value::Dict(Rc::clone(d)),
            Value::Func(f) => Value::Func(Rc::clone(f)),
            Value::Builtin(b) => Value::Builtin(Rc::clone(b)),
            Value::Range(r) => Value::Range(Rc::clone(r)),
            Value::Task(t) => Value::Task(Rc::clone(t)),
            Value::Channel(c) => Value::Channel(Rc::clone(c)),
            Value::Cell(c) => Value::Cell(Rc::clone(c)),
            Value::Pending(p) => Value::Pending(Rc::clone(p)),
            // SAFETY: as above, scalars own nothing.
            scalar => unsafe { std::ptr::read(scalar) },
        }
    }
}

/// Moving a payload out of a `Value` (which implements `Drop`, so fields
/// cannot be moved out by a pattern): `Ok(payload)` for the variant, the
/// value itself back otherwise.
macro_rules! into_variant {
    ($(#[$doc:meta] $name:ident => $variant:ident($t:ty)),* $(,)?) => {
        impl Value {$(
            #[$doc]
            #[inline(always)]
            pub fn $name(self) -> Result<$t, Value> {
                let this = std::mem::ManuallyDrop::new(self);
                match &*this {
                    // SAFETY: the payload is read out exactly once and the
                    // value it came from is never dropped (ManuallyDrop).
                    Value::$variant(x) => Ok(unsafe { std::ptr::read(x) }),
                    _ => Err(std::mem::ManuallyDrop::into_inner(this)),
                }
            }
        )*}
    };
}

into_variant! {
    /// The string, moved out.
    into_str => Str(RcStr),
    /// The list, moved out.
    into_list => List(Rc<Vec<Value>>),
    /// The dict, moved out.
    into_dict => Dict(Rc<DictMap>),
    /// The closure, moved out.
    into_func => Func(Rc<Closure>),
    /// The error in flight, moved out.
    into_pending => Pending(Rc<RtError>),
}

impl Drop for Value {
    /// Values nest (a list in a list in a list ...), and the compiler's
    /// drop glue frees them recursively: a script that builds a chain a
    /// million levels deep in a loop would overflow the Rust stack when the
    /// chain is freed. Frees of uniquely owned containers are counted, and
    /// past [`MAX_DROP_RECURSION`] nested frees the rest of the value is
    /// taken apart with an explicit stack instead.
    #[inline]
    fn drop(&mut self) {
        let unique = match self {
            Value::List(l) => is_unique(l),
            Value::Dict(d) => is_unique(d),
            Value::Func(c) => is_unique(c),
            Value::Cell(c) => is_unique(c),
            _ => return,
        };
        if unique {
            drop_counted(self);
        }
    }
}

/// Nested frees allowed on the Rust stack before switching to
/// [`drop_iteratively`].
const MAX_DROP_RECURSION: u32 = 256;

thread_local! {
    /// How many container frees are in progress on this thread (drops never
    /// await, so this holds no task state).
    static DROP_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// True when `Rc::get_mut` would succeed.
#[inline(always)]
fn is_unique<T>(rc: &Rc<T>) -> bool {
    Rc::strong_count(rc) == 1 && Rc::weak_count(rc) == 0
}

/// Frees the uniquely owned container `v`, counting the nesting.
fn drop_counted(v: &mut Value) {
    DROP_DEPTH.with(|depth| {
        let d = depth.get();
        if d >= MAX_DROP_RECURSION && has_container_children(v) {
            drop_iteratively(v);
            return;
        }
        depth.set(d + 1);
        drop_payload(std::mem::take(v));
        depth.set(d);
    })
}

fn has_container_children(v: &Value) -> bool {
    match v {
        Value::List(l) => l.iter().any(Value::is_container),
        Value::Dict(d) => d.values().any(Value::is_container),
        Value::Func(c) => c.upvalues.iter().any(Value::is_container),
        Value::Cell(c) => c.try_borrow().is_ok_and(|inner| inner.is_container()),
        _ => false,
    }
}

/// Drops the payload of `v` (its children are dropped by the glue, each
/// through `Value::drop` again).
fn drop_payload(v: Value) {
    let v = std::mem::ManuallyDrop::new(v);
    // SAFETY: each payload is read out once and `v` itself is never dropped.
    unsafe {
        match &*v {
            Value::List(l) => drop(std::ptr::read(l)),
            Value::Dict(d) => drop(std::ptr::read(d)),
            Value::Func(c) => drop(std::ptr::read(c)),
            Value::Cell(c) => drop(std::ptr::read(c)),
            _ => {}
        }
    }
}

/// Frees `v` and everything only it owns, without recursion: containers
/// are emptied onto an explicit stack before they are dropped.
#[cold]
fn drop_iteratively(v: &mut Value) {
    let mut todo = vec![std::mem::take(v)];
    while let Some(mut x) = todo.pop() {
        match &mut x {
            Value::List(l) => {
                if let Some(items) = Rc::get_mut(l) {
                    todo.extend(items.drain(..).filter(Value::is_container));
                }
            }
            Value::Dict(d) => {
                if let Some(map) = Rc::get_mut(d) {
                    todo.extend(map.drain(..).map(|(_, v)| v).filter(Value::is_container));
                }
            }
            Value::Func(c) => {
                if let Some(c) = Rc::get_mut(c) {
                    for u in c.upvalues.iter_mut() {
                        if u.is_container() {
                            todo.push(std::mem::take(u));
                        }
                    }
                }
            }
            Value::Cell(c) => {
                if let Some(cell) = Rc::get_mut(c) {
                    let inner = std::mem::take(cell.get_mut());
                    if inner.is_container() {
                        todo.push(inner);
                    }
                }
            }
            _ => {}
        }
        // `x` holds no containers any more: dropping it recurses one level
        // at most.
    }
}

/// A closure: a compiled function plus its captured variables.
pub struct Closure {
    pub proto: Rc<FnProto>,
    /// One entry per capture: a plain value (immutable capture) or a
    /// `Value::Cell` (shared mutable capture).
    pub upvalues: Box<[Value]>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RangeVal {
    pub start: i64,
    /// Exclusive end (an inclusive range stores `end + 1`, saturating).
    pub end: i64,
    pub inclusive: bool,
}

impl RangeVal {
    pub fn len(&self) -> usize {
        if self.end > self.start {
            (self.end as i128 - self.start as i128) as usize
        } else {
            0
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(s.into()))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(items))
    }

    pub fn dict(map: DictMap) -> Value {
        Value::Dict(Rc::new(map))
    }

    /// The `type_of` name.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil | Value::Undef => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Func(_) | Value::Builtin(_) => "function",
            Value::Range(_) => "range",
            Value::Task(_) => "task",
            Value::Channel(_) => "channel",
            Value::Cell(c) => c.borrow().type_name(),
            Value::Pending(_) => "error",
        }
    }

    /// Truthiness (language.md §2): `nil false 0 0.0 "" [] {}` are falsy.
    #[inline]
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil | Value::Undef => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            Value::Range(r) => !r.is_empty(),
            _ => true,
        }
    }

    /// True for values that can hold other values (and so nest).
    #[inline(always)]
    fn is_container(&self) -> bool {
        matches!(
            self,
            Value::List(_) | Value::Dict(_) | Value::Func(_) | Value::Cell(_)
        )
    }

    /// True for values without heap parts (dropping them is a no-op).
    #[inline(always)]
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Value::Nil | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Undef
        )
    }

    /// Drops a value, skipping the out-of-line drop glue for scalars.
    #[inline(always)]
    pub fn discard(self) {
        if self.is_scalar() {
            std::mem::forget(self);
        } else {
            drop(self);
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn is_callable(&self) -> bool {
        matches!(self, Value::Func(_) | Value::Builtin(_))
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The display string (what `println` and interpolation show).
    pub fn to_display(&self) -> String {
        let mut s = String::new();
        write_display(&mut s, self);
        s
    }

    /// The repr string (strings quoted).
    pub fn to_repr(&self) -> String {
        let mut s = String::new();
        write_repr(&mut s, self);
        s
    }

    /// A fresh empty dict map.
    pub fn new_dict_map() -> DictMap {
        DictMap::default()
    }
}

/// Builds a dict from `(key, value)` pairs.
pub fn dict_from<I, K>(pairs: I) -> Value
where
    I: IntoIterator<Item = (K, Value)>,
    K: Into<String>,
{
    let mut map = DictMap::default();
    for (k, v) in pairs {
        map.insert(Rc::new(k.into()), v);
    }
    Value::dict(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeply_nested_values_drop_without_recursion() {
        let mut v = Value::list(vec![]);
        for i in 0..300_000 {
            v = match i % 3 {
                0 => Value::list(vec![Value::Int(1), v]),
                1 => dict_from([("k", v)]),
                _ => Value::Cell(Rc::new(RefCell::new(v))),
            };
        }
        drop(v); // a recursive drop would overflow the test thread's stack
                 // Shared parts are only released, never taken apart.
        let shared = Value::list(vec![Value::list(vec![Value::Int(7)])]);
        let holder = Value::list(vec![shared.clone()]);
        drop(holder);
        assert_eq!(shared.to_display(), "[[7]]");
        // An emptied cell does not loop.
        drop(Value::Cell(Rc::new(RefCell::new(Value::Nil))));
    }

    #[test]
    fn value_is_at_most_16_bytes() {
        assert!(std::mem::size_of::<Value>() <= 16);
    }

    #[test]
    fn truthiness() {
        for v in [
            Value::Nil,
            Value::Bool(false),
            Value::Int(0),
            Value::Float(0.0),
            Value::str(""),
            Value::list(vec![]),
            Value::dict(DictMap::default()),
        ] {
            assert!(!v.truthy());
        }
        assert!(Value::Int(2).truthy());
        assert!(Value::str("x").truthy());
    }
}

/// Looks up a `&str` key in a dict without allocating.
#[derive(Hash)]
pub struct StrKey<'a>(pub &'a str);

impl indexmap::Equivalent<RcStr> for StrKey<'_> {
    fn equivalent(&self, key: &RcStr) -> bool {
        self.0 == key.as_str()
    }
}

/// `map[key]` for a `&str` key.
pub fn dict_get<'a>(map: &'a DictMap, key: &str) -> Option<&'a Value> {
    map.get(&StrKey(key))
}
