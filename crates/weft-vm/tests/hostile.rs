//! Hostile scripts run in-process under `RuntimeOptions` limits: each is
//! stopped with the expected error category and a clear message, quickly,
//! and the host stays healthy — after each one the same process runs a
//! normal script successfully.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use weft_vm::{Runtime, RuntimeOptions};

#[derive(Clone, Default)]
struct Captured(Rc<RefCell<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a run ended with: its stdout, or the uncaught error's category and
/// message (with the stdout printed before it).
#[derive(Debug)]
enum Outcome {
    Ok(String),
    Failed {
        category: String,
        message: String,
        stdout: String,
    },
}

/// Runs `source` as a script file under `options` on a fresh
/// current-thread tokio runtime (as an embedding host would).
fn run(source: &str, mut options: RuntimeOptions) -> (Outcome, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("main.wf");
    std::fs::write(&script, source).unwrap();
    let out = Captured::default();
    options.stdout = Box::new(out.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    let started = Instant::now();
    let result = local.block_on(&rt, async {
        let mut runtime = Runtime::new(options);
        runtime.run_file(&script).await
    });
    let elapsed = started.elapsed();
    let stdout = String::from_utf8(out.0.borrow().clone()).unwrap();
    let outcome = match result {
        Ok(()) => Outcome::Ok(stdout),
        Err(diags) => Outcome::Failed {
            category: diags[0].category.clone(),
            message: diags[0].message.clone(),
            stdout,
        },
    };
    (outcome, elapsed)
}

/// The host is still healthy: a normal script runs and prints its result.
fn assert_healthy() {
    let (outcome, _) = run(
        "let xs = map(range(10), { x -> x * x })\nprintln(sum(xs), \"x\".repeat(3))\n",
        RuntimeOptions::default(),
    );
    match outcome {
        Outcome::Ok(out) => assert_eq!(out, "285 xxx\n"),
        other => panic!("the follow-up script failed: {other:?}"),
    }
}

/// Runs a hostile script and checks it failed with `category` and a
/// message containing `message`, within `within`; then checks the host.
/// Returns what the script printed before it was stopped.
fn expect_stopped(
    source: &str,
    options: RuntimeOptions,
    category: &str,
    message: &str,
    within: Duration,
) -> String {
    let (outcome, elapsed) = run(source, options);
    let printed = match outcome {
        Outcome::Failed {
            category: c,
            message: m,
            stdout,
        } => {
            assert_eq!(c, category, "wrong category ({m})");
            assert!(m.contains(message), "message {m:?} lacks {message:?}");
            stdout
        }
        Outcome::Ok(out) => panic!("the hostile script was not stopped; it printed {out:?}"),
    };
    assert!(
        elapsed < within,
        "stopping took {elapsed:?} (more than {within:?})"
    );
    assert_healthy();
    printed
}

const MIB: usize = 1 << 20;

fn string_limit(n: usize) -> RuntimeOptions {
    RuntimeOptions {
        max_string_len: Some(n),
        ..Default::default()
    }
}

fn collection_limit(n: usize) -> RuntimeOptions {
    RuntimeOptions {
        max_collection_len: Some(n),
        ..Default::default()
    }
}

fn time_limit(ms: u64) -> RuntimeOptions {
    RuntimeOptions {
        time_limit: Some(Duration::from_millis(ms)),
        ..Default::default()
    }
}

#[test]
fn infinite_loop_exhausts_the_step_budget() {
    expect_stopped(
        "var i = 0\nwhile true { i += 1 }\n",
        RuntimeOptions {
            max_steps: Some(1_000_000),
            ..Default::default()
        },
        "limit_exceeded",
        "instruction budget of 1000000 steps exhausted",
        Duration::from_secs(20),
    );
}

#[test]
fn infinite_loop_hits_the_time_limit() {
    expect_stopped(
        "var i = 0\nwhile true { i += 1 }\n",
        time_limit(200),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(5),
    );
}

#[test]
fn infinite_recursion_through_callbacks_hits_the_time_limit() {
    // Each level calls back from a builtin; the loop never ends by itself.
    expect_stopped(
        "fn spin(n) { while true { map([1], { x -> x + n }) } }\nspin(1)\n",
        time_limit(200),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(5),
    );
}

#[test]
fn a_spinning_spawned_task_hits_the_time_limit() {
    // The task never yields; it is stopped by the shared deadline, and the
    // error reaches whoever awaits it.
    let printed = expect_stopped(
        "let t = spawn { var i = 0\nwhile true { i += 1 } }\nprintln(try { await(t) } catch e { e.category })\nwhile true {}\n",
        time_limit(200),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(5),
    );
    assert_eq!(printed, "limit_exceeded\n");
}

#[test]
fn a_long_await_cannot_outlive_the_time_limit() {
    let printed = expect_stopped(
        "sleep(60000)\nprintln(\"woke\")\n",
        time_limit(200),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(5),
    );
    assert_eq!(printed, "");
    // Also when the sleep is inside a callback of an async builtin.
    let printed = expect_stopped(
        "let r = try { map([1, 2], { x -> sleep(60000) }) } catch e { e.category }\nprintln(r)\nwhile true {}\n",
        time_limit(200),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(5),
    );
    // The error was catchable; the loop after it is stopped too.
    assert_eq!(printed, "limit_exceeded\n");
}

#[test]
fn exponential_string_doubling_stops_at_max_string_len() {
    expect_stopped(
        "var s = \"x\"\nwhile true { s = s + s }\n",
        string_limit(MIB),
        "limit_exceeded",
        "string length 2097152 exceeds max_string_len 1048576",
        Duration::from_secs(10),
    );
    expect_stopped(
        "var s = \"ab\"\nwhile true { s = \"${s}${s}\" }\n",
        string_limit(MIB),
        "limit_exceeded",
        "exceeds max_string_len 1048576",
        Duration::from_secs(10),
    );
    expect_stopped(
        "var s = \"ab\"\nwhile true { s = [s, s].join(\"\") }\n",
        string_limit(MIB),
        "limit_exceeded",
        "exceeds max_string_len 1048576",
        Duration::from_secs(10),
    );
}

#[test]
fn one_step_blowups_are_refused_before_allocating() {
    for (src, msg) in [
        (
            "\"abc\".repeat(1000000000)",
            "string length 3000000000 exceeds max_string_len 1048576",
        ),
        (
            "pad_start(\"x\", 900000000)",
            "exceeds max_string_len 1048576",
        ),
        (
            "\"a\".repeat(1000000).replace(\"a\", \"aaaa\")",
            "string length 4000000 exceeds max_string_len 1048576",
        ),
        (
            "format(\"{}{}\", \"a\".repeat(1000000), \"b\".repeat(1000000))",
            "exceeds max_string_len 1048576",
        ),
        // 2^40 references to one 1,000-byte string: displayed in full it
        // would be a petabyte.
        (
            "var v = \"y\".repeat(1000)\nfor i in 0..40 { v = [v, v] }\nto_string(v)",
            "exceeds max_string_len 1048576",
        ),
        (
            "var v = \"y\".repeat(1000)\nfor i in 0..40 { v = [v, v] }\njson_stringify(v)",
            "exceeds max_string_len 1048576",
        ),
        (
            "var v = \"y\".repeat(1000)\nfor i in 0..40 { v = [v, v] }\nprintln(v)",
            "exceeds max_string_len 1048576",
        ),
    ] {
        expect_stopped(
            src,
            string_limit(MIB),
            "limit_exceeded",
            msg,
            Duration::from_secs(10),
        );
    }
}

#[test]
fn a_list_grown_without_bound_stops_at_max_collection_len() {
    expect_stopped(
        "var xs = []\nwhile true { xs = push(xs, 1) }\n",
        collection_limit(100_000),
        "limit_exceeded",
        "list length 100001 exceeds max_collection_len 100000",
        Duration::from_secs(20),
    );
    expect_stopped(
        "var xs = [1]\nwhile true { xs = xs + xs }\n",
        collection_limit(100_000),
        "limit_exceeded",
        "list length 131072 exceeds max_collection_len 100000",
        Duration::from_secs(10),
    );
    expect_stopped(
        "var d = {}\nvar i = 0\nwhile true { d[\"k${i}\"] = i\ni += 1 }\n",
        collection_limit(1000),
        "limit_exceeded",
        "dict size 1001 exceeds max_collection_len 1000",
        Duration::from_secs(10),
    );
    for src in [
        "range(0, 5000)",
        "to_list(0..5000)",
        "to_list(0..1000000000000)",
        "[...0..1000000000000]",
        "flatten(map(range(1000), { x -> range(1000) }))",
        "json_parse(\"[[\" + \"1,\".repeat(5000) + \"1]]\")",
    ] {
        expect_stopped(
            src,
            collection_limit(1000),
            "limit_exceeded",
            "exceeds max_collection_len 1000",
            Duration::from_secs(10),
        );
    }
}

#[test]
fn an_unread_channel_cannot_grow_without_bound() {
    expect_stopped(
        "let ch = channel()\nwhile true { send(ch, 1) }\n",
        collection_limit(1000),
        "limit_exceeded",
        "channel queue length 1001 exceeds max_collection_len 1000",
        Duration::from_secs(10),
    );
}

#[test]
fn limit_errors_are_catchable_and_leave_variables_intact() {
    let (outcome, _) = run(
        r#"var xs = [1, 2, 3]
let e = try { xs = push(xs, 4) } catch e { e }
println(e.category, len(xs))
var s = "abcd".repeat(16)
let e2 = try { s += "e" } catch e { e }
println(e2.category, e2.message, len(s))
"#,
        RuntimeOptions {
            max_string_len: Some(64),
            max_collection_len: Some(3),
            ..Default::default()
        },
    );
    match outcome {
        Outcome::Ok(out) => assert_eq!(
            out,
            "limit_exceeded 3\nlimit_exceeded string length 65 exceeds max_string_len 64 64\n"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn deep_recursion_is_a_stack_overflow() {
    expect_stopped(
        "fn down(n) { down(n + 1) + 1 }\ndown(0)\n",
        RuntimeOptions::default(),
        "stack_overflow",
        "call depth exceeded the limit of 10000 frames",
        Duration::from_secs(20),
    );
    expect_stopped(
        "fn down(n) { down(n + 1) + 1 }\ndown(0)\n",
        RuntimeOptions {
            max_call_depth: 500,
            ..Default::default()
        },
        "stack_overflow",
        "call depth exceeded the limit of 500 frames",
        Duration::from_secs(20),
    );
    // Recursion through builtin callbacks nests on the Rust stack: bounded too.
    expect_stopped(
        "fn down(n) { map([n], { x -> down(x + 1) }) }\ndown(0)\n",
        RuntimeOptions::default(),
        "stack_overflow",
        "nested calls from builtins",
        Duration::from_secs(20),
    );
}

#[test]
fn values_nested_a_million_levels_deep_are_harmless() {
    // Built in a loop (no source nesting), then compared, displayed and
    // freed: none of it may recurse on the host's stack.
    let (outcome, _) = run(
        r#"var x = []
var y = []
for i in 0..1000000 { x = [x]
y = [y] }
println(x == y, [x, 1] < [y, 2], len(to_string(x)))
var d = {}
for i in 0..300000 { d = {a: d, n: i} }
var f = { -> 0 }
for i in 0..300000 { let g = f
f = { -> g() } }
x = nil
d = nil
f = nil
println("freed")
"#,
        RuntimeOptions::default(),
    );
    match outcome {
        Outcome::Ok(out) => assert_eq!(out, "true true 2005\nfreed\n"),
        other => panic!("{other:?}"),
    }
    assert_healthy();
}

#[test]
fn deeply_nested_literals_are_a_syntax_error() {
    let deep = format!("let x = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
    expect_stopped(
        &deep,
        RuntimeOptions::default(),
        "syntax_error",
        "nesting too deep",
        Duration::from_secs(20),
    );
    let deep_dicts = format!(
        "let x = {}1{}\n",
        "{a: ".repeat(100_000),
        "}".repeat(100_000)
    );
    expect_stopped(
        &deep_dicts,
        RuntimeOptions::default(),
        "syntax_error",
        "nesting too deep",
        Duration::from_secs(20),
    );
}

#[test]
fn regex_over_a_huge_input_is_bounded() {
    // The input cannot be built past the limit...
    expect_stopped(
        "let s = \"a\".repeat(3000000)\nregex_find_all(\"a+\", s)\n",
        string_limit(MIB),
        "limit_exceeded",
        "string length 3000000 exceeds max_string_len 1048576",
        Duration::from_secs(10),
    );
    // ...an input within it cannot be expanded past it...
    expect_stopped(
        "let s = \"a\".repeat(1000000)\nregex_replace(\"a\", s, \"bb\")\n",
        string_limit(MIB),
        "limit_exceeded",
        "exceeds max_string_len 1048576",
        Duration::from_secs(10),
    );
    // ...nor split into more items than allowed...
    expect_stopped(
        "let s = \"a\".repeat(1000000)\nregex_find_all(\"\", s)\n",
        collection_limit(10_000),
        "limit_exceeded",
        "list length 10001 exceeds max_collection_len 10000",
        Duration::from_secs(10),
    );
    // ...and regexes run over and over stop at the time limit.
    expect_stopped(
        "let s = \"ab\".repeat(2000)\nwhile true { regex_find_all(\"(a|b)+b\", s) }\n",
        RuntimeOptions {
            max_string_len: Some(MIB),
            time_limit: Some(Duration::from_millis(300)),
            ..Default::default()
        },
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(10),
    );
}

#[test]
fn a_long_builtin_call_is_noticed_when_it_returns() {
    // No loop and no call: straight-line code. Each regex call takes far
    // longer than the limit; the second never starts.
    let printed = expect_stopped(
        "let s = \"ab\".repeat(200000)\nlet a = regex_find_all(\"(a|b)+b\", s)\nprintln(\"first done\")\nlet b = regex_find_all(\"(a|b)+b\", s)\nprintln(\"second done\")\n",
        time_limit(1),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(60),
    );
    assert_eq!(printed, "", "the first call should have been stopped");
}

#[test]
fn files_larger_than_the_limit_are_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.txt");
    std::fs::write(&big, "z".repeat(3 * MIB)).unwrap();
    let src = format!("read_file({:?})\n", big.display().to_string());
    expect_stopped(
        &src,
        string_limit(MIB),
        "limit_exceeded",
        "string length 3145728 exceeds max_string_len 1048576",
        Duration::from_secs(10),
    );
}

#[cfg(unix)]
#[test]
fn process_output_larger_than_the_limit_is_refused() {
    expect_stopped(
        "shell(\"yes | head -c 3000000\")\n",
        string_limit(MIB),
        "limit_exceeded",
        "stdout passed max_string_len 1048576",
        Duration::from_secs(20),
    );
    // Output is capped while it is read: an endless producer is killed
    // (it was read to the time limit, 1.3 GB for `head -c 3000000000`).
    expect_stopped(
        "shell(\"yes\")\n",
        string_limit(MIB),
        "limit_exceeded",
        "shell 'yes': stdout passed max_string_len 1048576",
        Duration::from_secs(10),
    );
    expect_stopped(
        "exec(\"sh\", [\"-c\", \"yes >&2\"])\n",
        string_limit(MIB),
        "limit_exceeded",
        "stderr passed max_string_len 1048576",
        Duration::from_secs(10),
    );
}

#[cfg(unix)]
#[test]
fn a_slow_process_is_cut_off_at_the_time_limit() {
    expect_stopped(
        "shell(\"sleep 30\")\nprintln(\"finished\")\n",
        time_limit(300),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(10),
    );
}

#[test]
fn scripts_within_the_limits_run_normally() {
    let (outcome, _) = run(
        "let xs = range(100)\nlet s = xs.map({ x -> to_string(x) }).join(\",\")\nprintln(len(xs), len(s), \"${xs[99]}\")\n",
        RuntimeOptions {
            max_steps: Some(1_000_000),
            max_string_len: Some(1000),
            max_collection_len: Some(100),
            time_limit: Some(Duration::from_secs(30)),
            ..Default::default()
        },
    );
    match outcome {
        Outcome::Ok(out) => assert_eq!(out, "100 289 99\n"),
        other => panic!("{other:?}"),
    }
}

fn step_limit(n: u64) -> RuntimeOptions {
    RuntimeOptions {
        max_steps: Some(n),
        ..Default::default()
    }
}

/// Catching the error once is allowed (for cleanup); the next loop
/// back-edge or call raises it again, so retrying forever is impossible.
const CATCH_AND_RETRY: &str = "var n = 0
while true {
  try { while true {} } catch e {
    n += 1
    println(\"cleanup ${n}: ${e.category}\", len(\"builtins still work\"))
  }
}
";

#[test]
fn a_caught_step_budget_stays_exhausted() {
    let printed = expect_stopped(
        CATCH_AND_RETRY,
        step_limit(1000),
        "limit_exceeded",
        "instruction budget of 1000 steps exhausted",
        Duration::from_secs(5),
    );
    assert_eq!(printed, "cleanup 1: limit_exceeded 19\n");
}

#[test]
fn a_caught_time_limit_stays_exhausted() {
    let printed = expect_stopped(
        CATCH_AND_RETRY,
        time_limit(200),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(5),
    );
    assert_eq!(printed, "cleanup 1: limit_exceeded 19\n");
    // Retrying a long await does not help either.
    expect_stopped(
        "while true { try { sleep(60000) } catch e {} }\n",
        time_limit(200),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(5),
    );
}

#[test]
fn catching_stack_overflows_in_a_loop_is_bounded_by_the_budgets() {
    // Each caught overflow retries the recursion: 2^depth calls.
    let retry = "fn f(n) { try { f(n + 1) } catch e { f(n + 1) } }\nf(0)\n";
    expect_stopped(
        retry,
        step_limit(100_000),
        "limit_exceeded",
        "instruction budget of 100000 steps exhausted",
        Duration::from_secs(10),
    );
    expect_stopped(
        retry,
        time_limit(300),
        "limit_exceeded",
        "wall-clock time limit exceeded",
        Duration::from_secs(10),
    );
}

#[test]
fn every_task_draws_on_one_step_budget() {
    // Many short tasks, each far below one check interval, and a task
    // started after the budget ran out.
    expect_stopped(
        "while true { await(spawn { var i = 0\nwhile i < 100 { i += 1 } }) }\n",
        step_limit(50_000),
        "limit_exceeded",
        "instruction budget of 50000 steps exhausted",
        Duration::from_secs(10),
    );
    let printed = expect_stopped(
        "try { while true {} } catch e { println(\"caught\") }\nlet t = spawn { while true {} }\nawait(t)\n",
        step_limit(5_000),
        "limit_exceeded",
        "instruction budget of 5000 steps exhausted",
        Duration::from_secs(5),
    );
    assert_eq!(printed, "caught\n");
}
