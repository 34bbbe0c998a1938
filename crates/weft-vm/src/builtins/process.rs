//! Process builtins (stdlib.md "Environment, files and processes"):
//! `exec(program, args?, options?)` and `shell(command, options?)`, both
//! async, both checked against `process.exec`.
//!
//! The child runs in the TASK's working directory with the task's
//! environment (the process environment, then the task's overlay from its
//! execution profile, then the call's `env` option) — never the process's
//! own cwd, so interleaving workers do not see each other's directories.
//!
//! Killing: a timeout, or dropping the call's future (the task was
//! cancelled), kills the child *and its descendants* (on Linux the process
//! tree is found through `/proc`; `shell("sleep 5")` forks a `sleep` that
//! killing `/bin/sh` alone would leave running). The child stays in weft's
//! process group, so Ctrl-C at a terminal still reaches it.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use weft_syntax::suggest::did_you_mean;

use super::files::normalize;
use super::{asynchronous, Args, BuiltinDef, LocalBoxFuture};
use crate::context::Capability;
use crate::error::{type_error, value_error, RtError, RtResult};
use crate::value::{dict_from, DictMap, Value};
use crate::vm::Vm;

const EXEC_PARAMS: &[&str] = &["program", "args", "options"];
const SHELL_PARAMS: &[&str] = &["command", "options"];
const EXEC_OPTIONS: &[&str] = &["cwd", "env", "stdin", "timeout_ms"];

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        asynchronous("exec", EXEC_PARAMS, 1, 3, "environment", "Runs a program with a list of arguments (no shell) and returns `{status, stdout, stderr, duration_ms}` [process.exec].", exec).options(&[EXEC_OPTIONS]),
        asynchronous("shell", SHELL_PARAMS, 1, 2, "environment", "Runs a command line with `/bin/sh -c` and returns `{status, stdout, stderr, duration_ms}` [process.exec].", shell).options(&[EXEC_OPTIONS]),
    ]
}

// ---- option parsing (shared with http.rs) ---------------------------------

/// The entries of an options dict with nil values dropped; an unknown key
/// is a `value_error` with a did-you-mean (or the list of known options).
pub(super) fn option_entries<'a>(
    who: &str,
    opts: &'a DictMap,
    known: &[&'static str],
) -> RtResult<Vec<(&'a str, &'a Value)>> {
    let mut out = Vec::with_capacity(opts.len());
    for (k, v) in opts.iter() {
        if !known.contains(&k.as_str()) {
            // A prefix (`timeout` for `timeout_ms`) is the likeliest slip.
            let prefixed = known.iter().copied().find(|o| o.starts_with(k.as_str()));
            let hint = match prefixed.or_else(|| did_you_mean(k, known.iter().copied())) {
                Some(s) => format!("did you mean '{s}'?"),
                None => format!("options: {}", known.join(", ")),
            };
            return Err(value_error(format!("{who}: unknown option '{k}' ({hint})")));
        }
        if !v.is_nil() {
            out.push((k.as_str(), v));
        }
    }
    Ok(out)
}

/// `WHO: option 'KEY' must be EXPECTED, got TYPE` as a `type_error`.
pub(super) fn option_type_err(who: &str, key: &str, expected: &str, got: &Value) -> Box<RtError> {
    type_error(format!(
        "{who}: option '{key}' must be {expected}, got {}",
        got.type_name()
    ))
}

pub(super) fn option_str<'a>(who: &str, key: &str, v: &'a Value) -> RtResult<&'a str> {
    v.as_str()
        .ok_or_else(|| option_type_err(who, key, "a string", v))
}

/// A `timeout_ms` option: a non-negative, finite number of milliseconds.
pub(super) fn option_timeout(who: &str, key: &str, v: &Value) -> RtResult<Duration> {
    let ms = match v {
        Value::Int(n) => *n as f64,
        Value::Float(f) => *f,
        other => return Err(option_type_err(who, key, "a number of milliseconds", other)),
    };
    if !ms.is_finite() || ms < 0.0 {
        return Err(value_error(format!(
            "{who}: option '{key}' must be a non-negative number of milliseconds, got {}",
            v.to_display()
        )));
    }
    Ok(super::time::duration_from_ms(ms))
}

/// How a timeout is shown in messages: `100 ms`, `1.5 ms`.
pub(super) fn show_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms.fract() == 0.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms} ms")
    }
}

/// The OS reason without Rust's ` (os error N)` suffix.
pub(super) fn os_reason(s: &str) -> String {
    match s.find(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s.to_string(),
    }
}

/// A string or number as text (numbers are common in argv and env values).
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(_) | Value::Float(_) => Some(v.to_display()),
        _ => None,
    }
}

fn check_nul(who: &str, what: &str, s: &str) -> RtResult<()> {
    if s.contains('\0') {
        return Err(value_error(format!("{who}: {what} contains a NUL byte")));
    }
    Ok(())
}

/// The options of `exec` and `shell`, parsed once at the boundary.
#[derive(Default)]
struct ExecOptions {
    cwd: Option<String>,
    /// Overlay entries in order; `None` removes the variable.
    env: Vec<(String, Option<String>)>,
    stdin: Option<String>,
    timeout: Option<Duration>,
}

impl ExecOptions {
    fn parse(who: &str, opts: &DictMap) -> RtResult<ExecOptions> {
        let mut out = ExecOptions::default();
        for (key, v) in option_entries(who, opts, EXEC_OPTIONS)? {
            match key {
                "cwd" => {
                    let s = option_str(who, key, v)?;
                    check_nul(who, "option 'cwd'", s)?;
                    out.cwd = Some(s.to_string());
                }
                "env" => {
                    let Value::Dict(d) = v else {
                        return Err(option_type_err(who, key, "a dict of strings", v));
                    };
                    for (name, val) in d.iter() {
                        if name.is_empty() || name.contains('=') || name.contains('\0') {
                            return Err(value_error(format!(
                                "{who}: option 'env' has an invalid variable name {:?} (empty, or containing '=' or NUL)",
                                name.as_str()
                            )));
                        }
                        let val = match val {
                            Value::Nil => None,
                            other => match text_of(other) {
                                Some(s) => {
                                    check_nul(who, &format!("env variable '{name}'"), &s)?;
                                    Some(s)
                                }
                                None => {
                                    return Err(type_error(format!(
                                        "{who}: option 'env' value of '{name}' must be a string, number or nil, got {}",
                                        other.type_name()
                                    )))
                                }
                            },
                        };
                        out.env.push((name.to_string(), val));
                    }
                }
                "stdin" => out.stdin = Some(option_str(who, key, v)?.to_string()),
                "timeout_ms" => out.timeout = Some(option_timeout(who, key, v)?),
                _ => unreachable!("option_entries only yields known keys"),
            }
        }
        Ok(out)
    }
}

// ---- the builtins ---------------------------------------------------------

fn exec(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let a = Args::new("exec", EXEC_PARAMS, &mut vals);
        let program = a.str(0)?.to_string();
        check_nul("exec", "the program name", &program)?;
        // `exec(program, {options})` is allowed: a dict in second place with
        // nothing after it is the options.
        let (arg_list, opts_at) = match a.get(1) {
            Some(Value::Dict(_)) if a.len() == 2 => (None, 1),
            None | Some(Value::Nil) => (None, 2),
            Some(Value::List(l)) => (Some(l.clone()), 2),
            Some(_) => return Err(a.type_err(1, "a list of strings")),
        };
        let mut argv = Vec::new();
        for (i, item) in arg_list.iter().flat_map(|l| l.iter()).enumerate() {
            match text_of(item) {
                Some(s) => {
                    check_nul("exec", &format!("args[{i}]"), &s)?;
                    argv.push(s);
                }
                None => {
                    return Err(type_error(format!(
                        "exec: args[{i}] must be a string, got {}",
                        item.type_name()
                    )))
                }
            }
        }
        let opts = match a.opt(opts_at) {
            Some(_) => ExecOptions::parse("exec", a.dict(opts_at)?)?,
            None => ExecOptions::default(),
        };
        vm.ctx.check_capability(Capability::ProcessExec, &program)?;
        let label = format!("exec '{}'", short(&program));
        run(vm, "exec", &program, argv, opts, label).await
    })
}

fn shell(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let a = Args::new("shell", SHELL_PARAMS, &mut vals);
        let command = a.str(0)?.to_string();
        check_nul("shell", "the command", &command)?;
        let opts = match a.opt(1) {
            Some(_) => ExecOptions::parse("shell", a.dict(1)?)?,
            None => ExecOptions::default(),
        };
        vm.ctx.check_capability(Capability::ProcessExec, &command)?;
        let label = format!("shell '{}'", short(&command));
        run(
            vm,
            "shell",
            "/bin/sh",
            vec!["-c".to_string(), command],
            opts,
            label,
        )
        .await
    })
}

/// A command shortened for messages.
fn short(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

/// Spawns `program` with the task's cwd and environment, feeds stdin,
/// collects the output and enforces the timeout.
async fn run(
    vm: &mut Vm,
    who: &str,
    program: &str,
    argv: Vec<String>,
    opts: ExecOptions,
    label: String,
) -> RtResult<Value> {
    let dir = match &opts.cwd {
        Some(c) => normalize(&vm.ctx.resolve_path(c)),
        None => vm.ctx.cwd.clone(),
    };
    match std::fs::metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(RtError::new(
                "io_error",
                format!(
                    "{who}: working directory '{}' is not a directory",
                    dir.display()
                ),
            ))
        }
        Err(e) => {
            return Err(RtError::new(
                "io_error",
                format!(
                    "{who}: working directory '{}': {}",
                    dir.display(),
                    os_reason(&e.to_string())
                ),
            ))
        }
    }
    // A relative program path (`./build.sh`, `bin/tool`) is relative to the
    // directory the child runs in, as in Python's and Go's process APIs;
    // a bare name is looked up in PATH.
    let program_path: PathBuf = if program.contains('/') && !Path::new(program).is_absolute() {
        dir.join(program)
    } else {
        PathBuf::from(program)
    };

    let mut cmd = tokio::process::Command::new(&program_path);
    cmd.args(&argv)
        .current_dir(&dir)
        .kill_on_drop(true)
        .stdin(if opts.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &vm.ctx.env {
        cmd.env(k, v);
    }
    for (k, v) in &opts.env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }

    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        RtError::new(
            "io_error",
            format!(
                "{who}: cannot run '{program}': {}",
                os_reason(&e.to_string())
            ),
        )
    })?;
    let guard = TreeGuard {
        pid: child.id(),
        reaped: Cell::new(false),
    };
    let stdin_pipe = child.stdin.take();
    let stdout_pipe = child.stdout.take();
    let stderr_pipe = child.stderr.take();
    let stdin_text = opts.stdin;
    // `max_string_len` bounds the output while it is read: past it the
    // reading stops and the process is killed.
    let cap = vm.program.limits.string_cap();

    let work = async {
        let feed = async move {
            if let (Some(mut pipe), Some(text)) = (stdin_pipe, stdin_text) {
                // A child that exits without reading gives EPIPE: not an error.
                let _ = pipe.write_all(text.as_bytes()).await;
                let _ = pipe.shutdown().await;
            }
            Ok(())
        };
        let wait = async {
            let status = child.wait().await;
            guard.reaped.set(true);
            Ok(status)
        };
        let (_, out, err, status) = tokio::try_join!(
            feed,
            read_capped(stdout_pipe, cap, "stdout"),
            read_capped(stderr_pipe, cap, "stderr"),
            wait
        )?;
        Ok::<_, TooMuchOutput>((out, err, status))
    };
    let outcome = match opts.timeout {
        None => Some(work.await),
        Some(limit) => tokio::time::timeout(limit, work).await.ok(),
    };
    if let Some(Err(too_much)) = outcome {
        guard.kill();
        let _ = child.kill().await;
        return Err(RtError::new(
            "limit_exceeded",
            format!(
                "{label}: {} passed max_string_len {cap} ({} bytes read); the process was killed",
                too_much.stream, too_much.read
            ),
        ));
    }
    let Some(Ok((out, err, status))) = outcome else {
        // Timed out: kill the whole tree while the child is still unreaped
        // (its pid cannot be reused yet), then reap it.
        guard.kill();
        let _ = child.kill().await;
        let limit = opts.timeout.unwrap_or_default();
        return Err(RtError::new(
            "timeout",
            format!("{label} exceeded {}", show_ms(limit)),
        ));
    };
    let duration_ms = start.elapsed().as_millis() as i64;
    let status = status.map_err(|e| {
        RtError::new(
            "io_error",
            format!(
                "{who}: waiting for '{program}' failed: {}",
                os_reason(&e.to_string())
            ),
        )
    })?;
    Ok(dict_from([
        ("status", Value::Int(exit_code(status))),
        (
            "stdout",
            Value::str(String::from_utf8_lossy(&out).into_owned()),
        ),
        (
            "stderr",
            Value::str(String::from_utf8_lossy(&err).into_owned()),
        ),
        ("duration_ms", Value::Int(duration_ms)),
    ]))
}

/// A pipe gave more than `max_string_len` bytes.
struct TooMuchOutput {
    stream: &'static str,
    read: usize,
}

/// Reads a pipe to its end, or stops once it has given more than `cap`
/// bytes.
async fn read_capped<R: AsyncRead + Unpin>(
    pipe: Option<R>,
    cap: usize,
    stream: &'static str,
) -> Result<Vec<u8>, TooMuchOutput> {
    let mut buf = Vec::new();
    if let Some(p) = pipe {
        let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
        let _ = p.take(limit).read_to_end(&mut buf).await;
    }
    if buf.len() > cap {
        return Err(TooMuchOutput {
            stream,
            read: buf.len(),
        });
    }
    Ok(buf)
}

/// The exit code; a child killed by signal N reports `128 + N`, as shells do.
fn exit_code(status: ExitStatus) -> i64 {
    if let Some(code) = status.code() {
        return code as i64;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return 128 + sig as i64;
        }
    }
    -1
}

/// Kills the child's process tree when the call ends without the child
/// having been reaped: on timeout explicitly, and on drop (the task was
/// cancelled mid-run). Once the child is reaped its pid may be reused, so
/// the guard then does nothing.
struct TreeGuard {
    pid: Option<u32>,
    reaped: Cell<bool>,
}

impl TreeGuard {
    fn kill(&self) {
        if self.reaped.get() {
            return;
        }
        self.reaped.set(true);
        if let Some(pid) = self.pid {
            kill_tree(pid);
        }
    }
}

impl Drop for TreeGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// SIGKILLs `root` and every descendant. Each process found is stopped
/// first so it cannot fork new children while the tree is collected.
#[cfg(target_os = "linux")]
fn kill_tree(root: u32) {
    let Ok(root) = i32::try_from(root) else {
        return;
    };
    let mut tree = vec![root];
    // SAFETY: kill(2) has no memory-safety preconditions.
    unsafe { libc::kill(root, libc::SIGSTOP) };
    for _ in 0..64 {
        let mut grew = false;
        for (pid, ppid) in proc_parents() {
            if tree.contains(&ppid) && !tree.contains(&pid) {
                // SAFETY: as above.
                unsafe { libc::kill(pid, libc::SIGSTOP) };
                tree.push(pid);
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    for pid in tree {
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// `(pid, parent pid)` of every process in `/proc`.
#[cfg(target_os = "linux")]
fn proc_parents() -> Vec<(i32, i32)> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            out.push((pid, ppid));
        }
    }
    out
}

#[cfg(all(unix, not(target_os = "linux")))]
fn kill_tree(root: u32) {
    if let Ok(root) = i32::try_from(root) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(root, libc::SIGKILL) };
    }
}

#[cfg(not(unix))]
fn kill_tree(_root: u32) {
    // `kill_on_drop` kills the direct child.
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::runtime::{Runtime, RuntimeOptions};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Live (non-zombie) processes whose command line contains `marker`.
    fn live_with(marker: &str) -> Vec<String> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let p = entry.path();
            let Ok(cmdline) = std::fs::read(p.join("cmdline")) else {
                continue;
            };
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            let state = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
            let zombie = state
                .rfind(')')
                .is_some_and(|i| state[i + 1..].trim_start().starts_with('Z'));
            if cmdline.contains(marker) && !zombie {
                found.push(cmdline);
            }
        }
        found
    }

    fn wait_gone(marker: &str) -> Vec<String> {
        for _ in 0..50 {
            if live_with(marker).is_empty() {
                return Vec::new();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        live_with(marker)
    }

    fn marker() -> String {
        // A unique `sleep` duration identifies this test's processes.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        format!("30.{nanos:09}{}", std::process::id())
    }

    fn shell_args(cmd: &str, opts: Option<Value>) -> Vec<Value> {
        let mut v = vec![Value::str(cmd)];
        v.extend(opts);
        v
    }

    #[test]
    fn dropping_the_call_kills_the_process_tree() {
        let runtime = Runtime::new(RuntimeOptions::default());
        let mut vm = Vm::new(runtime.program().clone());
        let m = marker();
        // `; true` keeps /bin/sh alive as the parent of `sleep`.
        let cmd = format!("sleep {m}; true");
        rt().block_on(async {
            let mut fut = shell(&mut vm, shell_args(&cmd, None));
            let r = tokio::time::timeout(Duration::from_millis(300), &mut fut).await;
            assert!(r.is_err(), "the command should still be running");
            assert!(
                !live_with(&m).is_empty(),
                "the shell and sleep should be running before the drop"
            );
            // What cancelling the task does: the call's future is dropped.
            drop(fut);
        });
        let left = wait_gone(&m);
        assert!(left.is_empty(), "still running after drop: {left:?}");
    }

    #[test]
    fn timeout_kills_the_process_tree() {
        let runtime = Runtime::new(RuntimeOptions::default());
        let mut vm = Vm::new(runtime.program().clone());
        let m = marker();
        let cmd = format!("sleep {m}; true");
        let opts = dict_from([("timeout_ms", Value::Int(200))]);
        let started = Instant::now();
        let err = rt()
            .block_on(shell(&mut vm, shell_args(&cmd, Some(opts))))
            .err()
            .expect("a timeout error");
        assert_eq!(err.category(), "timeout");
        assert!(
            err.message().ends_with("exceeded 200 ms"),
            "{}",
            err.message()
        );
        assert!(started.elapsed() < Duration::from_secs(5));
        let left = wait_gone(&m);
        assert!(left.is_empty(), "still running after timeout: {left:?}");
    }

    #[test]
    fn exec_timeout_kills_the_child() {
        let runtime = Runtime::new(RuntimeOptions::default());
        let mut vm = Vm::new(runtime.program().clone());
        let m = marker();
        let args = vec![
            Value::str("sleep"),
            Value::list(vec![Value::str(m.clone())]),
            dict_from([("timeout_ms", Value::Int(100))]),
        ];
        let err = rt().block_on(exec(&mut vm, args)).err().expect("timeout");
        assert_eq!(err.message(), "exec 'sleep' exceeded 100 ms");
        let left = wait_gone(&m);
        assert!(left.is_empty(), "still running after timeout: {left:?}");
    }

    #[test]
    fn task_cwd_and_env_overlay_apply() {
        let runtime = Runtime::new(RuntimeOptions::default());
        let mut vm = Vm::new(runtime.program().clone());
        vm.ctx.cwd = PathBuf::from("/tmp");
        vm.ctx
            .env
            .insert("WEFT_PROC_TEST".to_string(), "overlay".to_string());
        let r = rt()
            .block_on(shell(
                &mut vm,
                shell_args("pwd; echo $WEFT_PROC_TEST", None),
            ))
            .unwrap_or_else(|_| panic!("shell failed"));
        let Value::Dict(ref d) = r else {
            panic!("not a dict")
        };
        let out = crate::value::dict_get(d, "stdout").unwrap().to_display();
        assert_eq!(out, "/tmp\noverlay\n");
        // The process's own environment is untouched.
        assert!(std::env::var("WEFT_PROC_TEST").is_err());
    }

    #[test]
    fn interleaved_tasks_keep_their_own_cwd_and_env() {
        let runtime = Runtime::new(RuntimeOptions::default());
        let mut a = Vm::new(runtime.program().clone());
        let mut b = Vm::new(runtime.program().clone());
        a.ctx.cwd = PathBuf::from("/tmp");
        b.ctx.cwd = PathBuf::from("/");
        a.ctx.env.insert("WEFT_WHO".to_string(), "a".to_string());
        b.ctx.env.insert("WEFT_WHO".to_string(), "b".to_string());
        let cmd = "sleep 0.1; pwd; echo $WEFT_WHO";
        let (ra, rb) = rt().block_on(async {
            tokio::join!(
                shell(&mut a, shell_args(cmd, None)),
                shell(&mut b, shell_args(cmd, None))
            )
        });
        let out = |r: RtResult<Value>| match r {
            Ok(Value::Dict(ref d)) => crate::value::dict_get(d, "stdout").unwrap().to_display(),
            _ => panic!("shell failed"),
        };
        assert_eq!(out(ra), "/tmp\na\n");
        assert_eq!(out(rb), "/\nb\n");
    }
}
