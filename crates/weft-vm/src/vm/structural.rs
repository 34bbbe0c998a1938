//! The instructions that build and test collections (list and dict
//! literals, spreads, interpolation, pattern tests), kept out of the
//! dispatch loop's body: none of them jumps or changes frames.

use std::rc::Rc;

use super::access::{expect_dict, expect_list, interpolate, list_fits};
use super::Vm;
use crate::bytecode::Op;
use crate::error::{type_error, RtResult};
use crate::value::{DictMap, Value};

impl Vm {
    /// Executes one collection instruction on the operand stack.
    // Kept out of line: inlined, it costs the hot instructions of the
    // dispatch loop registers (measured with callgrind).
    #[inline(never)]
    pub(super) fn exec_structural(&mut self, op: Op, consts: &[Value]) -> RtResult<()> {
        let limits = self.program.limits;
        match op {
            Op::MakeList(n) => {
                limits.check_list_len(n as usize)?;
                let start = self.stack.len() - n as usize;
                let items: Vec<Value> = self.stack.drain(start..).collect();
                self.stack.push(Value::list(items));
            }
            Op::ListAppend => {
                let v = self.stack.pop().expect("operand stack underflow");
                if let Value::List(l) = self.stack.last_mut().expect("operand stack underflow") {
                    limits.check_list_len(l.len() + 1)?;
                    Rc::make_mut(l).push(v);
                }
            }
            Op::ListExtend => {
                let xs = self.stack.pop().expect("operand stack underflow");
                if limits.any() {
                    let have = match self.stack.last() {
                        Some(Value::List(l)) => l.len(),
                        _ => 0,
                    };
                    let more = match &xs {
                        Value::List(l) => l.len(),
                        Value::Range(r) => r.len(),
                        _ => 0,
                    };
                    limits.check_list_len(have.saturating_add(more))?;
                }
                let items: Vec<Value> = match xs.into_list() {
                    Ok(l) => match Rc::try_unwrap(l) {
                        Ok(v) => v,
                        Err(shared) => shared.to_vec(),
                    },
                    Err(Value::Range(ref r)) => (r.start..r.end).map(Value::Int).collect(),
                    Err(other) => {
                        return Err(type_error(format!(
                            "cannot spread {} into a list (expected a list or range)",
                            other.type_name()
                        )))
                    }
                };
                if let Value::List(l) = self.stack.last_mut().expect("operand stack underflow") {
                    Rc::make_mut(l).extend(items);
                }
            }
            Op::MakeDict(n) => {
                limits.check_dict_len(n as usize)?;
                let start = self.stack.len() - 2 * n as usize;
                let mut map = DictMap::with_capacity_and_hasher(n as usize, Default::default());
                let mut drain = self.stack.drain(start..);
                let mut bad = None;
                while let (Some(k), Some(v)) = (drain.next(), drain.next()) {
                    match k.into_str() {
                        Ok(s) => {
                            map.insert(s, v);
                        }
                        Err(other) => {
                            bad = Some(other.type_name());
                            break;
                        }
                    }
                }
                drop(drain);
                self.stack.truncate(start);
                if let Some(t) = bad {
                    return Err(type_error(format!("dict keys must be strings, got {t}")));
                }
                self.stack.push(Value::dict(map));
            }
            Op::DictInsert => {
                let v = self.stack.pop().expect("operand stack underflow");
                let k = self.stack.pop().expect("operand stack underflow");
                let k = match k.into_str() {
                    Ok(k) => k,
                    Err(k) => {
                        return Err(type_error(format!(
                            "dict keys must be strings, got {}",
                            k.type_name()
                        )))
                    }
                };
                if let Value::Dict(d) = self.stack.last_mut().expect("operand stack underflow") {
                    if limits.any() && !d.contains_key(&k) {
                        limits.check_dict_len(d.len() + 1)?;
                    }
                    Rc::make_mut(d).insert(k, v);
                }
            }
            Op::DictExtend => {
                let other = self.stack.pop().expect("operand stack underflow");
                let src = match other.into_dict() {
                    Ok(src) => src,
                    Err(other) => {
                        return Err(type_error(format!(
                            "cannot spread {} into a dict (expected a dict)",
                            other.type_name()
                        )))
                    }
                };
                if let Value::Dict(d) = self.stack.last_mut().expect("operand stack underflow") {
                    if limits.any() {
                        let new = src.keys().filter(|k| !d.contains_key(*k)).count();
                        limits.check_dict_len(d.len() + new)?;
                    }
                    let d = Rc::make_mut(d);
                    for (k, v) in src.iter() {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
            Op::Interp(n) => {
                let start = self.stack.len() - n as usize;
                let s = interpolate(&self.stack[start..], &limits)?;
                self.stack.truncate(start);
                self.stack.push(s);
            }

            Op::MatchList { len, rest } => {
                let fits = list_fits(
                    self.stack.last_mut().expect("operand stack underflow"),
                    len as usize,
                    rest,
                );
                *self.stack.last_mut().expect("operand stack underflow") = Value::Bool(fits);
            }
            Op::ExpectList { len, rest } => expect_list(
                self.stack.last_mut().expect("operand stack underflow"),
                len as usize,
                rest,
            )?,
            Op::IsDict => {
                let is = matches!(
                    self.stack.last_mut().expect("operand stack underflow"),
                    Value::Dict(_)
                );
                *self.stack.last_mut().expect("operand stack underflow") = Value::Bool(is);
            }
            Op::ExpectDict => expect_dict(self.stack.last_mut().expect("operand stack underflow"))?,
            Op::DictHas(k) => {
                let has = match (
                    self.stack.last_mut().expect("operand stack underflow"),
                    &consts[k as usize],
                ) {
                    (Value::Dict(d), Value::Str(key)) => d.contains_key(key),
                    _ => false,
                };
                *self.stack.last_mut().expect("operand stack underflow") = Value::Bool(has);
            }
            Op::DictWithout(n) => {
                let start = self.stack.len() - n as usize;
                let keys: Vec<Value> = self.stack.drain(start..).collect();
                if let Value::Dict(d) = self.stack.last_mut().expect("operand stack underflow") {
                    let m = Rc::make_mut(d);
                    for k in keys {
                        if let Ok(k) = k.into_str() {
                            m.shift_remove(&k);
                        }
                    }
                }
            }
            Op::ListFrom(start) => {
                let v = match self.stack.last_mut().expect("operand stack underflow") {
                    Value::List(items) => {
                        Value::list(items.get(start as usize..).unwrap_or(&[]).to_vec())
                    }
                    _ => Value::list(Vec::new()),
                };
                *self.stack.last_mut().expect("operand stack underflow") = v;
            }

            _ => unreachable!("not a collection instruction: {op:?}"),
        }
        Ok(())
    }
}
