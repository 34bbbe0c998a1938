//! Operators (language.md §4): arithmetic with overflow checks,
//! concatenation and merging, comparisons, `in`, ranges.

use std::cmp::Ordering;
use std::rc::Rc;

use crate::bytecode::Op;
use crate::error::{overflow, type_error, RtError, RtResult};
use crate::value::{compare, values_equal, RangeVal, SizeLimits, Value};

impl super::Vm {
    /// Executes a binary operator kept out of the dispatch loop's body
    /// (`- * / % **`, ordering comparisons, `in`, ranges):
    /// `[a, b] -> [a OP b]`. On an error the operands stay on the stack.
    // Kept out of line: inlined, it costs the hot instructions of the
    // dispatch loop registers (measured with callgrind).
    #[inline(never)]
    pub(super) fn exec_operator(&mut self, op: Op) -> RtResult<()> {
        let b = self.stack.pop().expect("operand stack underflow");
        let a = self.stack.last_mut().expect("operand stack underflow");
        let r = match op {
            Op::Sub | Op::Mul | Op::Div | Op::Rem | Op::Pow => arith(op, a, &b).map(|v| *a = v),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => ordered(op, a, &b).map(|r| *a = Value::Bool(r)),
            Op::In | Op::NotIn => {
                contains(a, &b).map(|r| *a = Value::Bool(if op == Op::In { r } else { !r }))
            }
            Op::MakeRange(inclusive) => make_range(a, &b, inclusive).map(|r| *a = r),
            _ => unreachable!("not an operator instruction: {op:?}"),
        };
        match r {
            Ok(()) => {
                b.discard();
                Ok(())
            }
            Err(e) => {
                self.stack.push(b);
                Err(e)
            }
        }
    }
}

fn verb(op: Op) -> &'static str {
    match op {
        Op::Add | Op::AddInt(_) => "add",
        Op::Sub => "subtract",
        Op::Mul => "multiply",
        Op::Div => "divide",
        Op::Rem => "take the remainder of",
        Op::Pow => "raise to a power",
        _ => "combine",
    }
}

fn mismatch(op: Op, a: &Value, b: &Value) -> Box<RtError> {
    type_error(format!(
        "cannot {} {} and {}",
        verb(op),
        a.type_name(),
        b.type_name()
    ))
}

pub(crate) fn division_by_zero() -> Box<RtError> {
    RtError::new("division_by_zero", "division by zero")
}

/// A growth the allocator refused (out of memory, or over `max_memory`):
/// a catchable `limit_exceeded` instead of an abort.
#[cold]
pub(crate) fn out_of_memory(what: &str, len: usize) -> Box<RtError> {
    RtError::new(
        "limit_exceeded",
        format!("out of memory: cannot grow a {what} to {len}"),
    )
}

/// `a + b`, updating `a` in place (amortised O(1) appends when `a` is
/// uniquely owned).
pub(crate) fn add_in_place(a: &mut Value, b: &Value) -> RtResult<()> {
    match (&mut *a, b) {
        (Value::Int(x), Value::Int(y)) => *x = x.checked_add(*y).ok_or_else(overflow)?,
        (Value::Float(x), Value::Float(y)) => *x += y,
        (Value::Int(x), Value::Float(y)) => *a = Value::Float(*x as f64 + y),
        (Value::Float(x), Value::Int(y)) => *x += *y as f64,
        (Value::Str(x), Value::Str(y)) => {
            if crate::memory::would_exceed(y.len()) {
                return Err(out_of_memory("string", x.len() + y.len()));
            }
            let x = Rc::make_mut(x);
            x.try_reserve(y.len())
                .map_err(|_| out_of_memory("string", x.len() + y.len()))?;
            x.push_str(y)
        }
        (Value::List(x), Value::List(y)) => {
            if crate::memory::would_exceed(y.len() * std::mem::size_of::<Value>()) {
                return Err(out_of_memory("list", x.len() + y.len()));
            }
            let x = Rc::make_mut(x);
            x.try_reserve(y.len())
                .map_err(|_| out_of_memory("list", x.len() + y.len()))?;
            x.extend(y.iter().cloned())
        }
        (Value::Dict(x), Value::Dict(y)) => {
            let m = Rc::make_mut(x);
            m.try_reserve(y.len())
                .map_err(|_| out_of_memory("dict", m.len() + y.len()))?;
            for (k, v) in y.iter() {
                m.insert(k.clone(), v.clone());
            }
        }
        _ => return Err(mismatch(Op::Add, a, b)),
    }
    Ok(())
}

/// `a + b` in place where `b` may be a string, list or dict: the size
/// limits are checked before `a` grows, so a failed `s += t` leaves `s` as
/// it was.
#[inline]
pub(crate) fn add_in_place_limited(a: &mut Value, b: &Value, limits: &SizeLimits) -> RtResult<()> {
    if limits.any() {
        match (&*a, b) {
            (Value::Str(x), Value::Str(y)) => limits.check_string_len(x.len() + y.len())?,
            (Value::List(x), Value::List(y)) => limits.check_list_len(x.len() + y.len())?,
            (Value::Dict(x), Value::Dict(y)) => {
                let new = y.keys().filter(|k| !x.contains_key(*k)).count();
                limits.check_dict_len(x.len() + new)?
            }
            _ => {}
        }
    }
    add_in_place(a, b)
}

/// `-`, `*`, `/`, `%`, `**`.
pub(crate) fn arith(op: Op, a: &Value, b: &Value) -> RtResult<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => int_arith(op, *x, *y),
        (Value::Int(x), Value::Float(y)) => Ok(Value::Float(float_arith(op, *x as f64, *y))),
        (Value::Float(x), Value::Int(y)) => Ok(Value::Float(float_arith(op, *x, *y as f64))),
        (Value::Float(x), Value::Float(y)) => Ok(Value::Float(float_arith(op, *x, *y))),
        _ => Err(mismatch(op, a, b)),
    }
}

fn int_arith(op: Op, x: i64, y: i64) -> RtResult<Value> {
    let r = match op {
        Op::Sub => x.checked_sub(y),
        Op::Mul => x.checked_mul(y),
        Op::Div => {
            if y == 0 {
                return Err(division_by_zero());
            }
            x.checked_div(y)
        }
        Op::Rem => {
            if y == 0 {
                return Err(division_by_zero());
            }
            x.checked_rem(y)
        }
        Op::Pow => {
            if y < 0 {
                return Ok(Value::Float((x as f64).powf(y as f64)));
            }
            u32::try_from(y).ok().and_then(|e| x.checked_pow(e))
        }
        _ => None,
    };
    r.map(Value::Int).ok_or_else(overflow)
}

fn float_arith(op: Op, x: f64, y: f64) -> f64 {
    match op {
        Op::Sub => x - y,
        Op::Mul => x * y,
        Op::Div => x / y,
        Op::Rem => x % y,
        Op::Pow => x.powf(y),
        _ => f64::NAN,
    }
}

/// `-a`.
pub(crate) fn negate(a: &Value) -> RtResult<Value> {
    match a {
        Value::Int(x) => x.checked_neg().map(Value::Int).ok_or_else(overflow),
        Value::Float(x) => Ok(Value::Float(-x)),
        other => Err(type_error(format!("cannot negate {}", other.type_name()))),
    }
}

/// `<` `<=` `>` `>=`.
pub(crate) fn ordered(op: Op, a: &Value, b: &Value) -> RtResult<bool> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return Ok(match op {
            Op::Lt => x < y,
            Op::Le => x <= y,
            Op::Gt => x > y,
            _ => x >= y,
        });
    }
    let ord = compare(a, b).map_err(|(x, y)| type_error(format!("cannot compare {x} and {y}")))?;
    Ok(match ord {
        None => false,
        Some(o) => match op {
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            _ => o != Ordering::Less,
        },
    })
}

/// `needle in hay`.
pub(crate) fn contains(needle: &Value, hay: &Value) -> RtResult<bool> {
    match hay {
        Value::List(items) => Ok(items.iter().any(|x| values_equal(x, needle))),
        Value::Str(s) => match needle {
            Value::Str(n) => Ok(s.contains(n.as_str())),
            other => Err(type_error(format!(
                "'in' on a string needs a string on the left, got {}",
                other.type_name()
            ))),
        },
        Value::Dict(d) => Ok(match needle {
            Value::Str(k) => d.contains_key(k),
            _ => false,
        }),
        Value::Range(r) => Ok(match needle {
            Value::Int(i) => *i >= r.start && *i < r.end,
            Value::Float(f) => *f >= r.start as f64 && *f < r.end as f64 && f.fract() == 0.0,
            _ => false,
        }),
        other => Err(type_error(format!(
            "cannot use 'in' with {} (expected a list, string, dict or range)",
            other.type_name()
        ))),
    }
}

/// `a..b` / `a..=b`.
pub(crate) fn make_range(a: &Value, b: &Value, inclusive: bool) -> RtResult<Value> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => {
            let end = if inclusive { y.saturating_add(1) } else { *y };
            Ok(Value::Range(Rc::new(RangeVal {
                start: *x,
                end,
                inclusive,
            })))
        }
        _ => Err(type_error(format!(
            "range bounds must be ints, got {} and {}",
            a.type_name(),
            b.type_name()
        ))),
    }
}
