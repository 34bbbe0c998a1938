//! Two tasks interleaving at awaits keep their own task context: a cwd set
//! in one is never seen by the other, nor by the spawner.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use weft_vm::builtins::{sync, Args, BuiltinDef};
use weft_vm::error::RtResult;
use weft_vm::vm::Vm;
use weft_vm::{Runtime, RuntimeOptions, Value};

/// Test-only builtin: sets the calling task's cwd.
fn set_cwd(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let path = args.str(0)?.to_string();
    vm.ctx.cwd = path.into();
    Ok(Value::Nil)
}

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

#[test]
fn interleaving_tasks_never_see_each_others_context() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("main.wf");
    std::fs::write(
        &script,
        r#"
let a = spawn {
  set_cwd("/ctx/a")
  sleep(20)
  let first = cwd()
  sleep(10)
  [first, cwd()]
}
let b = spawn {
  set_cwd("/ctx/b")
  sleep(5)
  let first = cwd()
  sleep(30)
  [first, cwd()]
}
let nested = spawn {
  set_cwd("/ctx/parent")
  let child = spawn { sleep(5); cwd() }
  set_cwd("/ctx/parent-changed")
  [await(child), cwd()]
}
println(await(a))
println(await(b))
println(await(nested))
println(cwd() == env("PWD") || !cwd().starts_with("/ctx"))
"#,
    )
    .unwrap();
    let out = Captured::default();
    let extra: Vec<BuiltinDef> = vec![sync(
        "set_cwd",
        &["path"],
        1,
        1,
        "test",
        "test only",
        set_cwd,
    )];
    let options = RuntimeOptions {
        stdout: Box::new(out.clone()),
        extra_builtins: extra,
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let mut runtime = Runtime::new(options);
        runtime
            .run_file(&script)
            .await
            .map_err(|d| d[0].render())
            .unwrap();
    });
    let text = String::from_utf8(out.0.borrow().clone()).unwrap();
    assert_eq!(
        text,
        "[\"/ctx/a\", \"/ctx/a\"]\n[\"/ctx/b\", \"/ctx/b\"]\n[\"/ctx/parent\", \"/ctx/parent-changed\"]\ntrue\n"
    );
}
