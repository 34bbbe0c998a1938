//! The engine as a host uses it: several runs on one engine, limits per
//! run, errors with spans, output capture, async methods inside a host's
//! own tokio runtime, misuse reported as errors.

use std::time::Duration;

use weft::{Engine, Limits, OutputBuffer, Value};

#[test]
fn the_time_limit_restarts_with_every_run() {
    let limits = Limits {
        time_limit: Some(Duration::from_millis(300)),
        ..Default::default()
    };
    let mut engine = Engine::builder().limits(limits).build().unwrap();
    for _ in 0..3 {
        // Each run takes ~150 ms: over the limit only if the clock kept running.
        let v = engine.eval_blocking("sleep(150); 1").unwrap();
        assert_eq!(v.as_int(), Some(1));
    }
    let err = engine.eval_blocking("sleep(1000)").unwrap_err();
    assert_eq!(err.category(), "limit_exceeded");
}

#[test]
fn the_step_budget_is_per_run() {
    let limits = Limits {
        max_steps: Some(50_000),
        ..Default::default()
    };
    let mut engine = Engine::builder().limits(limits).build().unwrap();
    engine
        .eval_blocking("fn spin(n) { var i = 0; while i < n { i += 1 }; i }")
        .unwrap();
    for _ in 0..4 {
        // ~30,000 steps each: over the budget only if the count carried over.
        assert_eq!(
            engine.eval_blocking("spin(30000)").unwrap().as_int(),
            Some(30000)
        );
        let v = weft::block_on(engine.call_with("spin", (30000,))).unwrap();
        assert_eq!(v.as_int(), Some(30000));
    }
    let err = engine.eval_blocking("spin(100000)").unwrap_err();
    assert_eq!(err.category(), "limit_exceeded");
}

#[test]
fn runtime_errors_carry_a_span_and_render_like_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.wf");
    std::fs::write(&path, "let a = 1\nlet b = a + \"x\"\n").unwrap();
    let mut engine = Engine::builder().build().unwrap();
    let err = engine.run_file_blocking(&path).unwrap_err();
    assert_eq!(err.category(), "type_error");
    let span = err.span().unwrap();
    assert_eq!((span.line, span.column), (2, 9));
    assert_eq!(span.file, path.display().to_string());
    let text = err.to_string();
    assert!(text.starts_with("error[type_error]: "), "{text}");
    assert!(text.contains("2 | let b = a + \"x\""), "{text}");
    let err = engine.eval_blocking("1 +").unwrap_err();
    let err2 = engine.eval_blocking("nope").unwrap_err();
    assert_eq!(err.category(), "syntax_error");
    assert_eq!(err2.category(), "undefined");
    assert!(err2.span().unwrap().file.starts_with("<eval:"), "{err2}");
}

#[test]
fn a_range_is_not_silently_expanded() {
    let mut engine = Engine::builder().build().unwrap();
    engine
        .register_fn("total", |xs: Vec<i64>| -> weft::Result<i64> {
            Ok(xs.iter().sum())
        })
        .unwrap();
    assert_eq!(
        engine.eval_blocking("total([1, 2, 3])").unwrap().as_int(),
        Some(6)
    );
    let err = engine.eval_blocking("total(0..1000000000000)").unwrap_err();
    assert_eq!(
        err.message(),
        "total: argument 1 must be a list of int, got range"
    );
    assert!(engine.eval_blocking("0..5").unwrap().as_list().is_none());
}

#[test]
fn output_is_captured_and_argv_is_bound() {
    let out = OutputBuffer::new();
    let mut engine = Engine::builder()
        .output(out.clone())
        .argv(["one", "two"])
        .build()
        .unwrap();
    engine
        .eval_blocking(r#"print(argv[1]); println("!")"#)
        .unwrap();
    assert_eq!(out.take(), "two!\n");
}

#[test]
fn async_methods_run_inside_the_hosts_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut engine = Engine::builder().build().unwrap();
        engine
            .register_async_fn("wait", |ms: i64| async move {
                tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                Ok(ms)
            })
            .unwrap();
        // A worker needs the engine's LocalSet, not one of the host's.
        let v = engine
            .eval(r#"let w = spawn_worker({task: "t"}); wait_worker(w).status + " " + to_string(wait(2))"#)
            .await
            .unwrap();
        assert_eq!(v.as_str(), Some("completed 2"));
        // Blocking inside a runtime is refused, not a panic.
        let err = engine.eval_blocking("1").unwrap_err();
        assert_eq!(err.category(), "runtime");
    });
}

#[test]
fn registration_mistakes_are_errors() {
    let mut engine = Engine::builder().build().unwrap();
    let f = |x: i64| -> weft::Result<i64> { Ok(x) };
    for (name, why) in [
        ("len", "is a builtin"),
        ("if", "is a keyword"),
        ("two words", "must be an identifier"),
        ("", "must be an identifier"),
    ] {
        let err = engine.register_fn(name, f).unwrap_err();
        assert!(err.message().contains(why), "{name}: {err}");
    }
    engine.register_fn("ident", f).unwrap();
    assert!(engine.register_fn("ident", f).is_err());
    engine.eval_blocking("ident(1)").unwrap();
    let err = engine.register_fn("later", f).unwrap_err();
    assert!(err.message().contains("before the engine is first used"));
}

#[test]
fn native_arguments_are_checked_and_optional_tails_may_be_left_out() {
    let mut engine = Engine::builder().build().unwrap();
    engine
        .register_fn_with_params(
            "greet",
            &["name", "greeting"],
            |name: String, greeting: Option<String>| -> weft::Result<String> {
                Ok(format!(
                    "{}, {name}",
                    greeting.unwrap_or_else(|| "hello".into())
                ))
            },
        )
        .unwrap();
    let v = engine
        .eval_blocking(r#"[greet("Ada"), greet("Bo", "hi")]"#)
        .unwrap();
    assert_eq!(v.repr(), r#"["hello, Ada", "hi, Bo"]"#);
    let err = engine.eval_blocking("greet(1)").unwrap_err();
    assert_eq!(
        err.message(),
        "greet: argument 1 (name) must be a string, got int"
    );
    let err = engine.eval_blocking("greet()").unwrap_err();
    assert_eq!(err.message(), "greet() takes 1 to 2 arguments, got 0");
}

#[test]
fn call_reaches_functions_of_a_file_and_values_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lib.wf");
    std::fs::write(
        &path,
        "fn stats(xs) { {n: len(xs), sum: sum(xs)} }\nlet answer = 42\n",
    )
    .unwrap();
    let mut engine = Engine::builder().build().unwrap();
    engine.run_file_blocking(&path).unwrap();
    let v = engine
        .call_blocking("stats", vec![Value::from(vec![1_i64, 2, 3])])
        .unwrap();
    assert_eq!(v.to_json().unwrap(), serde_json::json!({"n": 3, "sum": 6}));
    assert_eq!(engine.global("answer").unwrap().as_int(), Some(42));
    let err = engine.call_blocking("answer", vec![]).unwrap_err();
    assert_eq!(err.category(), "type_error");
    // eval sees the file's names.
    assert_eq!(
        engine.eval_blocking("answer + 1").unwrap().as_int(),
        Some(43)
    );
}

#[test]
fn the_interrupt_handle_stops_a_runaway_script() {
    let mut engine = Engine::builder().build().unwrap();
    let handle = engine.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        handle.interrupt();
    });
    let err = engine.eval_blocking("while true {}").unwrap_err();
    stopper.join().unwrap();
    assert_eq!(err.category(), "cancelled");
}

/// Issue 12.7: `interrupt()` also cancels a pending await; the next
/// evaluation starts afresh.
#[test]
fn the_interrupt_handle_cancels_a_pending_await() {
    let mut engine = Engine::builder().build().unwrap();
    let handle = engine.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        handle.interrupt();
    });
    let started = std::time::Instant::now();
    let err = engine.eval_blocking("sleep(3000); 1").unwrap_err();
    stopper.join().unwrap();
    assert_eq!(err.category(), "cancelled");
    assert_eq!(err.message(), "interrupted");
    assert!(started.elapsed() < Duration::from_millis(2000));
    // A script that catches it cannot go on: it stays interrupted.
    let handle = engine.interrupt_handle();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        handle.interrupt();
    });
    let err = engine
        .eval_blocking("try { sleep(3000) } catch e { nil }\nsleep(3000)\n1")
        .unwrap_err();
    stopper.join().unwrap();
    assert_eq!(err.category(), "cancelled");
    assert!(started.elapsed() < Duration::from_millis(4000));
    assert_eq!(engine.eval_blocking("2").unwrap().as_int(), Some(2));
}

#[test]
fn workflow_run_events_reach_the_host() {
    use std::cell::RefCell;
    use std::rc::Rc;
    type Seen = Vec<(String, Option<String>)>;
    let seen: Rc<RefCell<Seen>> = Rc::default();
    let mut engine = Engine::builder().build().unwrap();
    let log = seen.clone();
    engine.on_event(move |ev| {
        if ev.is_run_event() {
            log.borrow_mut()
                .push((ev.kind().to_string(), ev.run_id().map(String::from)));
        }
    });
    let v = engine
        .eval_blocking(
            r#"
            let flow = {
              name: "tiny",
              entry: "a",
              nodes: {a: {kind: "code", run: { ctx -> 1 }}},
              edges: [],
            }
            workflow_execute("one step", flow).status
            "#,
        )
        .unwrap();
    assert_eq!(v.as_str(), Some("completed"));
    let seen = seen.borrow();
    let kinds: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds.first(), Some(&"run_started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_finished"), "{kinds:?}");
    assert!(kinds.contains(&"stage_finished"), "{kinds:?}");
    assert!(
        seen.iter()
            .all(|(_, id)| id.as_deref().is_some_and(|i| i.starts_with("r_")))
    );
}

#[test]
fn a_panic_in_a_native_function_is_an_internal_error_in_the_script() {
    let mut engine = Engine::builder().build().unwrap();
    engine
        .register_fn("boom", |x: i64| -> weft::Result<i64> {
            if x > 0 {
                panic!("index {x} out of range");
            }
            Ok(x)
        })
        .unwrap();
    engine
        .register_async_fn("boom_later", |x: i64| async move {
            tokio::task::yield_now().await;
            if x > 0 {
                panic!("async boom {x}");
            }
            Ok(x)
        })
        .unwrap();
    let err = engine.eval_blocking("boom(3)").unwrap_err();
    assert_eq!(err.category(), "internal_error");
    assert!(
        err.message()
            .contains("native function boom panicked: index 3 out of range"),
        "{err}"
    );
    let err = engine.eval_blocking("boom_later(4)").unwrap_err();
    assert_eq!(err.category(), "internal_error");
    assert!(err.message().contains("async boom 4"), "{err}");
    // Scripts can catch it, and the engine keeps working afterwards.
    let v = engine
        .eval_blocking(
            r#"let c = try { boom(1) } catch e { e.category }; "${c} ${boom(0)} ${boom_later(0)}""#,
        )
        .unwrap();
    assert_eq!(v.as_str(), Some("internal_error 0 0"));
}

#[test]
fn a_native_function_declaring_a_capability_is_denied_to_tasks_without_it() {
    let mut engine = Engine::builder().build().unwrap();
    let calls = std::rc::Rc::new(std::cell::Cell::new(0));
    let counted = calls.clone();
    engine
        .register_fn("save_note", move |text: String| -> weft::Result<i64> {
            counted.set(counted.get() + 1);
            Ok(text.len() as i64)
        })
        .unwrap()
        .requires(weft::Capability::FsWrite);
    // The main script may write: the call runs. A worker limited to reading
    // calls it from a tool handler: denied before the function runs.
    let v = engine
        .eval_blocking(
            r#"
            var tools = tool_registry()
            tools = tool_define(tools, "note", "Saves a note", {
              parameters: {},
              handler: { args -> try { save_note("from worker") } catch e { e.message } },
            })
            llm_mock({match: "reader", consume: true, tool_calls: [{name: "note", arguments: {}}]})
            let w = spawn_worker({task: "reader", tools: tools, policy: {capabilities: {fs: ["read"]}}})
            let r = wait_worker(w)
            "${save_note("main")} | ${r.result.tool_calls[0].result}"
            "#,
        )
        .unwrap();
    let text = v.as_str().unwrap().to_string();
    assert!(
        text.starts_with(
            "4 | save_note needs fs.write and fs.write is not allowed by the capability policy"
        ),
        "{text}"
    );
    assert_eq!(calls.get(), 1, "only the main script's call ran");
}
