//! Testing builtins: `assert`, `assert_eq`, `assert_ne`, `assert_throws`.
//! Failures raise `assertion_failed` showing the values involved.

use super::{asynchronous, sync, Args, BuiltinDef, LocalBoxFuture};
use crate::error::{RtError, RtResult};
use crate::value::{values_equal, Value};
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("assert", &["condition", "message"], 1, 2, "testing", "Raises `assertion_failed` unless the condition is truthy.", assert),
        sync("assert_eq", &["actual", "expected", "message"], 2, 3, "testing", "Raises `assertion_failed` unless `actual == expected`.", assert_eq),
        sync("assert_ne", &["actual", "unexpected", "message"], 2, 3, "testing", "Raises `assertion_failed` if `actual == unexpected`.", assert_ne),
        asynchronous("assert_throws", &["fn", "category"], 1, 2, "testing", "Calls `fn`; raises `assertion_failed` unless it raises (with `category`, if given). Returns the caught error.", assert_throws),
    ]
}

fn failure(args: &Args, msg_index: usize, detail: String) -> Box<RtError> {
    let msg = match args.opt(msg_index) {
        Some(m) => format!("assertion failed: {}: {detail}", m.to_display()),
        None => format!("assertion failed: {detail}"),
    };
    RtError::new("assertion_failed", msg)
}

fn assert(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    if args.vals[0].truthy() {
        return Ok(Value::Nil);
    }
    let msg = match args.opt(1) {
        Some(m) => format!("assertion failed: {}", m.to_display()),
        None => format!("assertion failed: condition was {}", args.vals[0].to_repr()),
    };
    Err(RtError::new("assertion_failed", msg))
}

fn assert_eq(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    if values_equal(&args.vals[0], &args.vals[1]) {
        return Ok(Value::Nil);
    }
    let detail = format!(
        "expected {}, got {}",
        args.vals[1].to_repr(),
        args.vals[0].to_repr()
    );
    Err(failure(args, 2, detail))
}

fn assert_ne(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    if !values_equal(&args.vals[0], &args.vals[1]) {
        return Ok(Value::Nil);
    }
    let detail = format!("expected a value different from {}", args.vals[1].to_repr());
    Err(failure(args, 2, detail))
}

fn assert_throws(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let a = Args::new("assert_throws", &["fn", "category"], &mut args);
        let f = a.func(0)?.clone();
        let want = match a.opt(1) {
            Some(_) => Some(a.str(1)?.to_string()),
            None => None,
        };
        match vm.call_value(&f, &[]).await {
            Ok(v) => Err(RtError::new(
                "assertion_failed",
                format!(
                    "assertion failed: expected an error, but the function returned {}",
                    v.to_repr()
                ),
            )),
            Err(e) => {
                let cat = e.category();
                if let Some(want) = want {
                    if cat != want {
                        return Err(RtError::new(
                            "assertion_failed",
                            format!(
                                "assertion failed: expected an error of category '{want}', got '{cat}': {}",
                                e.message()
                            ),
                        ));
                    }
                }
                Ok(e.to_value())
            }
        }
    })
}
