//! [`Value`], a Weft value as a host sees it, and its conversions: to and
//! from `serde_json::Value` and Rust primitives, `Vec`, `HashMap`,
//! `Option`. The conversion traits [`FromValue`] and [`IntoValue`] are what
//! native functions' parameters and results go through.

use std::collections::HashMap;
use std::fmt;

use weft_vm::value as vmv;

use crate::error::{Error, Result};
use crate::local::Local;

/// A Weft value: nil, bool, int, float, string, list, dict, or an opaque
/// function/task/channel/range.
///
/// Values are reference-counted (`Rc`) and so neither `Send` nor `Sync`:
/// they stay on the thread of the engine that made them. Convert to
/// `serde_json::Value` (or a Rust type) to send data elsewhere.
///
/// ```
/// use weft::Value;
/// let v = Value::from(vec![1_i64, 2, 3]);
/// assert_eq!(v.type_name(), "list");
/// assert_eq!(v.to_json()?, serde_json::json!([1, 2, 3]));
/// assert_eq!(Value::from("hi").as_str(), Some("hi"));
/// assert_eq!(Value::from_json(serde_json::json!({"a": 1})).get("a"), Some(Value::from(1)));
/// # Ok::<(), weft::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Value(Local<vmv::Value>);

impl Value {
    /// `nil`.
    pub fn nil() -> Value {
        Value::wrap(vmv::Value::Nil)
    }

    fn wrap(v: vmv::Value) -> Value {
        Value(Local::new(v))
    }

    pub(crate) fn from_vm(v: vmv::Value) -> Value {
        match &v {
            vmv::Value::Undef | vmv::Value::Pending(_) => Value::nil(),
            vmv::Value::Cell(c) => Value::from_vm(c.borrow().clone()),
            _ => Value::wrap(v),
        }
    }

    pub(crate) fn into_vm(self) -> vmv::Value {
        self.0.into_inner()
    }

    /// The name `type_of` gives: `nil`, `bool`, `int`, `float`, `string`,
    /// `list`, `dict`, `function`, ...
    pub fn type_name(&self) -> &'static str {
        self.0.type_name()
    }

    /// Whether the value is `nil`.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }

    /// Whether the value can be called (a script function or builtin);
    /// such a value can be passed to [`Engine::call_value`](crate::Engine::call_value).
    pub fn is_callable(&self) -> bool {
        self.0.is_callable()
    }

    /// The bool, if this is a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match *self.0 {
            vmv::Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The int, if this is an int.
    pub fn as_int(&self) -> Option<i64> {
        match *self.0 {
            vmv::Value::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The number as a float, if this is a float or an int.
    pub fn as_float(&self) -> Option<f64> {
        match *self.0 {
            vmv::Value::Float(f) => Some(f),
            vmv::Value::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        self.0.as_str()
    }

    /// The items, if this is a list. (A range such as `0..10` is not a
    /// list: it may be huge; a script converts it with `list(r)`.)
    pub fn as_list(&self) -> Option<Vec<Value>> {
        match &*self.0 {
            vmv::Value::List(items) => Some(items.iter().cloned().map(Value::from_vm).collect()),
            _ => None,
        }
    }

    /// The entries in insertion order, if this is a dict.
    pub fn as_dict(&self) -> Option<Vec<(String, Value)>> {
        match &*self.0 {
            vmv::Value::Dict(d) => Some(
                d.iter()
                    .map(|(k, v)| (k.to_string(), Value::from_vm(v.clone())))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `dict[key]`, if this is a dict holding `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        match &*self.0 {
            vmv::Value::Dict(d) => vmv::dict_get(d, key).cloned().map(Value::from_vm),
            _ => None,
        }
    }

    /// A dict built from `(key, value)` pairs, in order.
    ///
    /// ```
    /// let d = weft::Value::dict([("name", "Ada".into()), ("id", 7.into())]);
    /// assert_eq!(d.to_string(), "{name: \"Ada\", id: 7}");
    /// ```
    pub fn dict<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::wrap(vmv::dict_from(
            pairs.into_iter().map(|(k, v)| (k, v.into_vm())),
        ))
    }

    /// A list of values.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::wrap(vmv::Value::list(
            items.into_iter().map(Value::into_vm).collect(),
        ))
    }

    /// The value as JSON. Functions, tasks and channels, and floats that
    /// are NaN or infinite, have no JSON form (a `type_error`).
    pub fn to_json(&self) -> Result<serde_json::Value> {
        vmv::to_json(&self.0).map_err(|m| Error::new("type_error", m))
    }

    /// A value from JSON (numbers that fit `i64` become ints).
    pub fn from_json(json: serde_json::Value) -> Value {
        Value::wrap(vmv::from_json(json))
    }

    /// How a value prints in source form (strings quoted), as the REPL
    /// shows it: `"hi"` for the string `hi`. [`Display`](fmt::Display) gives
    /// `print`'s form (strings bare).
    pub fn repr(&self) -> String {
        self.0.to_repr()
    }
}

impl fmt::Display for Value {
    /// What `print` writes: strings without quotes, everything else in
    /// source form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_display())
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_repr())
    }
}

impl PartialEq for Value {
    /// Weft's `==` (ints and floats compare by value, collections deeply).
    fn eq(&self, other: &Value) -> bool {
        vmv::values_equal(&self.0, &other.0)
    }
}

/// A value did not have the type a native function's parameter needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    /// What was needed: `an int`, `a list of string`, ...
    pub expected: String,
    /// What came instead: `string`, `list with a bool at index 2`, ...
    pub got: String,
}

impl TypeMismatch {
    fn new(expected: impl Into<String>, v: &Value) -> TypeMismatch {
        TypeMismatch {
            expected: expected.into(),
            got: v.type_name().to_string(),
        }
    }
}

/// A Rust type a [`Value`] converts into: the parameters of native
/// functions ([`Engine::register_fn`](crate::Engine::register_fn)).
///
/// ```
/// use weft::{FromValue, Value};
/// assert_eq!(i64::from_value(Value::from(3)), Ok(3));
/// let err = i64::from_value(Value::from("x")).unwrap_err();
/// assert_eq!((err.expected.as_str(), err.got.as_str()), ("an int", "string"));
/// ```
pub trait FromValue: Sized {
    /// Whether a missing argument is acceptable (it converts from `nil`):
    /// true for `Option<T>`, so trailing `Option` parameters are optional.
    const OPTIONAL: bool = false;
    /// The description of the accepted type, for messages (`an int`).
    fn expected() -> String;
    /// Converts, or says what was expected and what came.
    fn from_value(value: Value) -> std::result::Result<Self, TypeMismatch>;
}

/// A Rust type that converts into a [`Value`]: the results of native
/// functions and the arguments of [`Engine::call`](crate::Engine::call).
///
/// ```
/// use weft::IntoValue;
/// assert_eq!(42_u64.into_value()?.as_int(), Some(42));
/// assert!(u64::MAX.into_value().is_err()); // does not fit an int
/// # Ok::<(), weft::Error>(())
/// ```
pub trait IntoValue {
    /// Converts; fails only when the value has no Weft form (an integer
    /// beyond `i64`).
    fn into_value(self) -> Result<Value>;
}

macro_rules! from_value_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn expected() -> String { "an int".into() }
            fn from_value(v: Value) -> std::result::Result<$t, TypeMismatch> {
                match *v.0 {
                    vmv::Value::Int(i) => <$t>::try_from(i).map_err(|_| TypeMismatch {
                        expected: format!("an int in {}..={}", <$t>::MIN, <$t>::MAX),
                        got: i.to_string(),
                    }),
                    _ => Err(TypeMismatch::new(Self::expected(), &v)),
                }
            }
        }
    )*};
}
from_value_int!(i64, i32, i16, i8, u64, u32, u16, u8, usize, isize);

macro_rules! into_value_int {
    ($($t:ty),*) => {$(
        impl IntoValue for $t {
            fn into_value(self) -> Result<Value> {
                i64::try_from(self).map(|i| Value::wrap(vmv::Value::Int(i))).map_err(|_| {
                    Error::new("overflow", format!("{self} does not fit a Weft int (i64)"))
                })
            }
        }
    )*};
}
into_value_int!(i16, i8, u64, u16, u8, usize, isize);

macro_rules! from_infallible {
    ($($t:ty => |$x:ident| $e:expr),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from($x: $t) -> Value { $e }
        }
        impl IntoValue for $t {
            fn into_value(self) -> Result<Value> { Ok(Value::from(self)) }
        }
    )*};
}
from_infallible!(
    i64 => |x| Value::wrap(vmv::Value::Int(x)),
    i32 => |x| Value::wrap(vmv::Value::Int(x.into())),
    u32 => |x| Value::wrap(vmv::Value::Int(x.into())),
    f64 => |x| Value::wrap(vmv::Value::Float(x)),
    bool => |x| Value::wrap(vmv::Value::Bool(x)),
    String => |x| Value::wrap(vmv::Value::str(x)),
    &str => |x| Value::wrap(vmv::Value::str(x)),
    () => |_x| Value::nil(),
    serde_json::Value => |x| Value::from_json(x),
);

impl IntoValue for Value {
    fn into_value(self) -> Result<Value> {
        Ok(self)
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Result<Value> {
        let items = self
            .into_iter()
            .map(|x| x.into_value().map(Value::into_vm))
            .collect::<Result<Vec<_>>>()?;
        Ok(Value::wrap(vmv::Value::list(items)))
    }
}

impl<T: IntoValue> IntoValue for HashMap<String, T> {
    /// Keys are sorted, so the dict's order does not depend on hashing.
    fn into_value(self) -> Result<Value> {
        let mut pairs: Vec<(String, T)> = self.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            out.push((k, v.into_value()?));
        }
        Ok(Value::dict(out))
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Result<Value> {
        match self {
            Some(v) => v.into_value(),
            None => Ok(Value::nil()),
        }
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::list(items.into_iter().map(Into::into))
    }
}

impl<T: Into<Value>> From<HashMap<String, T>> for Value {
    /// A dict with the keys sorted (hash order is not stable).
    fn from(map: HashMap<String, T>) -> Value {
        let mut pairs: Vec<(String, T)> = map.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        Value::dict(pairs.into_iter().map(|(k, v)| (k, v.into())))
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or_else(Value::nil, Into::into)
    }
}

impl FromValue for f64 {
    fn expected() -> String {
        "a number".into()
    }
    fn from_value(v: Value) -> std::result::Result<f64, TypeMismatch> {
        v.as_float()
            .ok_or_else(|| TypeMismatch::new(Self::expected(), &v))
    }
}

impl FromValue for bool {
    fn expected() -> String {
        "a bool".into()
    }
    fn from_value(v: Value) -> std::result::Result<bool, TypeMismatch> {
        v.as_bool()
            .ok_or_else(|| TypeMismatch::new(Self::expected(), &v))
    }
}

impl FromValue for String {
    fn expected() -> String {
        "a string".into()
    }
    fn from_value(v: Value) -> std::result::Result<String, TypeMismatch> {
        match v.as_str() {
            Some(s) => Ok(s.to_string()),
            None => Err(TypeMismatch::new(Self::expected(), &v)),
        }
    }
}

impl FromValue for Value {
    fn expected() -> String {
        "any value".into()
    }
    fn from_value(v: Value) -> std::result::Result<Value, TypeMismatch> {
        Ok(v)
    }
}

impl FromValue for () {
    fn expected() -> String {
        "nil".into()
    }
    fn from_value(v: Value) -> std::result::Result<(), TypeMismatch> {
        if v.is_nil() {
            Ok(())
        } else {
            Err(TypeMismatch::new(Self::expected(), &v))
        }
    }
}

impl FromValue for serde_json::Value {
    fn expected() -> String {
        "a JSON-representable value".into()
    }
    fn from_value(v: Value) -> std::result::Result<serde_json::Value, TypeMismatch> {
        v.to_json().map_err(|e| TypeMismatch {
            expected: Self::expected(),
            got: e.message().to_string(),
        })
    }
}

impl<T: FromValue> FromValue for Option<T> {
    const OPTIONAL: bool = true;
    fn expected() -> String {
        format!("{} or nil", T::expected())
    }
    fn from_value(v: Value) -> std::result::Result<Option<T>, TypeMismatch> {
        if v.is_nil() {
            return Ok(None);
        }
        T::from_value(v).map(Some).map_err(|m| TypeMismatch {
            expected: format!("{} or nil", m.expected),
            got: m.got,
        })
    }
}

/// "an int" → "int": the element type in "a list of int".
fn bare(expected: &str) -> &str {
    expected
        .strip_prefix("an ")
        .or_else(|| expected.strip_prefix("a "))
        .unwrap_or(expected)
}

impl<T: FromValue> FromValue for Vec<T> {
    fn expected() -> String {
        format!("a list of {}", bare(&T::expected()))
    }
    fn from_value(v: Value) -> std::result::Result<Vec<T>, TypeMismatch> {
        let Some(items) = v.as_list() else {
            return Err(TypeMismatch::new(Self::expected(), &v));
        };
        items
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                T::from_value(x).map_err(|m| TypeMismatch {
                    expected: Self::expected(),
                    got: format!("a list with {} at index {i}", m.got),
                })
            })
            .collect()
    }
}

impl<T: FromValue> FromValue for HashMap<String, T> {
    fn expected() -> String {
        format!("a dict of {}", bare(&T::expected()))
    }
    fn from_value(v: Value) -> std::result::Result<HashMap<String, T>, TypeMismatch> {
        let Some(entries) = v.as_dict() else {
            return Err(TypeMismatch::new(Self::expected(), &v));
        };
        entries
            .into_iter()
            .map(|(k, x)| match T::from_value(x) {
                Ok(t) => Ok((k, t)),
                Err(m) => Err(TypeMismatch {
                    expected: Self::expected(),
                    got: format!("a dict with {} at key \"{k}\"", m.got),
                }),
            })
            .collect()
    }
}

impl From<Value> for serde_json::Value {
    /// Like [`Value::to_json`], with `null` for what has no JSON form.
    fn from(v: Value) -> serde_json::Value {
        v.to_json().unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trip_keeps_order_and_ints() {
        let j = json!({"b": 1, "a": [1.5, "x", null, true]});
        let v = Value::from_json(j.clone());
        assert_eq!(v.to_json().unwrap(), j);
        assert_eq!(v.as_dict().unwrap()[0].0, "b");
    }

    #[test]
    fn nested_mismatches_say_where() {
        let v = Value::from(vec![Value::from(1), Value::from("x")]);
        let e = Vec::<i64>::from_value(v).unwrap_err();
        assert_eq!(e.expected, "a list of int");
        assert_eq!(e.got, "a list with string at index 1");
        let d = Value::dict([("k", Value::from(true))]);
        let e = HashMap::<String, String>::from_value(d).unwrap_err();
        assert_eq!(e.got, "a dict with bool at key \"k\"");
    }

    #[test]
    fn options_and_conversions() {
        assert_eq!(Option::<i64>::from_value(Value::nil()), Ok(None));
        assert_eq!(Option::<i64>::from_value(Value::from(2)), Ok(Some(2)));
        assert!(u8::from_value(Value::from(300)).is_err());
        assert_eq!(Value::from(Some("a")).as_str(), Some("a"));
        let m: HashMap<String, i64> = [("z".to_string(), 1), ("a".to_string(), 2)].into();
        assert_eq!(m.into_value().unwrap().to_string(), "{a: 2, z: 1}");
    }
}
