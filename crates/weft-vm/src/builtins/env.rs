//! Environment builtins (stdlib.md "Environment, files and processes"):
//! `env`, `env_or`, `cwd`.
//!
//! Reading the process environment is a capability: the policy's `env`
//! allow-list names the variables a task may read (any at the root unless
//! the host narrows it; none for a worker unless its spawner grants them).
//! Variables of the task's own overlay (`execution.env`, set by its spawner)
//! are always readable.

use super::{sync, Args, BuiltinDef};
use crate::error::RtResult;
use crate::value::Value;
use crate::vm::Vm;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync(
            "env",
            &["name"],
            1,
            1,
            "environment",
            "The environment variable's value, or nil when unset [env: the policy's allow-list].",
            env,
        ),
        sync(
            "env_or",
            &["name", "default"],
            2,
            2,
            "environment",
            "The environment variable's value, or `default` when unset [env: the policy's allow-list].",
            env_or,
        ),
        sync(
            "cwd",
            &[],
            0,
            0,
            "environment",
            "The task's working directory (its execution profile's `cwd`), not the process's.",
            cwd,
        ),
    ]
}

fn env(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let name = args.str(0)?;
    vm.ctx.check_env(args.name, name)?;
    Ok(vm.ctx.env_var(name).map(Value::str).unwrap_or(Value::Nil))
}

fn env_or(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let name = args.str(0)?;
    vm.ctx.check_env(args.name, name)?;
    match vm.ctx.env_var(name) {
        Some(v) => Ok(Value::str(v)),
        None => Ok(args.take(1)),
    }
}

fn cwd(vm: &mut Vm, _: &mut Args) -> RtResult<Value> {
    Ok(Value::str(vm.ctx.cwd.display().to_string()))
}
