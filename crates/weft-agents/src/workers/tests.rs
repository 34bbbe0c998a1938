//! Exactly one terminal event per cycle, whatever ends the cycle's task:
//! a normal finish, a cancel (the task is aborted and dropped later), a
//! panic inside the task, or a plain drop of the task.

use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use weft_vm::policy::CapabilityPolicy;
use weft_vm::value::DictMap;
use weft_vm::vm::{Program, Vm};
use weft_vm::{Runtime, RuntimeOptions};

use super::options::parse_worker_options;
use super::registry::{Status, Worker};
use super::run::{build, cancel_tree, registry, CycleGuard};

fn kinds(w: &Worker) -> Vec<String> {
    w.events
        .borrow()
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["kind"].as_str().unwrap().to_string()
        })
        .collect()
}

fn terminal_count(w: &Worker) -> usize {
    kinds(w)
        .iter()
        .filter(|k| {
            matches!(
                k.as_str(),
                "worker_completed" | "worker_failed" | "worker_cancelled" | "worker_awaiting_input"
            )
        })
        .count()
}

/// A registered worker record in status `running` (no task started).
async fn running_worker(vm: &mut Vm) -> Rc<Worker> {
    let opts = parse_worker_options(vm, Some("t".into()), &DictMap::default(), "test")
        .unwrap_or_else(|e| panic!("{}", e.message()));
    let w = build(
        vm,
        opts,
        format!("w_test{}", fastrand::u32(..)),
        CapabilityPolicy::allow_all(),
        false,
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.message()));
    registry(&vm.program).workers.insert(w.clone());
    w.status.set(Status::Running);
    w
}

fn with_vm(f: impl AsyncFnOnce(&mut Vm, Rc<Program>)) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let runtime = Runtime::new(RuntimeOptions {
            extra_builtins: crate::builtins(),
            ..RuntimeOptions::default()
        });
        let mut vm = runtime.new_vm();
        let program = runtime.program().clone();
        f(&mut vm, program).await;
    });
}

#[test]
fn a_panicking_task_ends_with_one_failed_event() {
    with_vm(async |vm, program| {
        let w = running_worker(vm).await;
        let guard = CycleGuard {
            program: program.clone(),
            worker: w.clone(),
        };
        let r = std::panic::catch_unwind(AssertUnwindSafe(move || {
            let _g = guard;
            panic!("boom");
        }));
        assert!(r.is_err());
        assert_eq!(kinds(&w), ["worker_failed"]);
        assert_eq!(w.status(), Status::Failed);
        let err = weft_vm::value::to_json(&w.error.borrow()).unwrap();
        assert_eq!(err["category"], "panic");
    });
}

#[test]
fn a_panic_inside_a_spawned_task_ends_with_one_failed_event() {
    with_vm(async |vm, program| {
        let w = running_worker(vm).await;
        let w2 = w.clone();
        let join = tokio::task::spawn_local(async move {
            let _g = CycleGuard {
                program,
                worker: w2,
            };
            tokio::task::yield_now().await;
            panic!("boom in task");
        });
        assert!(join.await.is_err());
        assert_eq!(kinds(&w), ["worker_failed"]);
    });
}

#[test]
fn an_aborted_task_ends_with_one_cancelled_event() {
    with_vm(async |vm, program| {
        let w = running_worker(vm).await;
        let w2 = w.clone();
        let join = tokio::task::spawn_local(async move {
            let _g = CycleGuard {
                program,
                worker: w2,
            };
            std::future::pending::<()>().await;
        });
        tokio::task::yield_now().await;
        join.abort();
        assert!(join.await.unwrap_err().is_cancelled());
        assert_eq!(kinds(&w), ["worker_cancelled"]);
        assert_eq!(w.status(), Status::Cancelled);
    });
}

#[test]
fn cancel_then_abort_emits_the_terminal_event_once() {
    with_vm(async |vm, program| {
        let w = running_worker(vm).await;
        let w2 = w.clone();
        let p2 = program.clone();
        let join = tokio::task::spawn_local(async move {
            let _g = CycleGuard {
                program: p2,
                worker: w2,
            };
            std::future::pending::<()>().await;
        });
        *w.abort.borrow_mut() = Some(join.abort_handle());
        tokio::task::yield_now().await;
        let state = registry(&program);
        cancel_tree(&program, &state.workers, &w);
        cancel_tree(&program, &state.workers, &w);
        let _ = join.await;
        assert_eq!(terminal_count(&w), 1);
        assert_eq!(kinds(&w), ["worker_cancelled"]);
    });
}
