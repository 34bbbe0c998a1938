//! The MCP connections of one program run (kept in the program's extension
//! map, never in statics): lookup from the script's connection value with
//! the capability checks of the task using it, and closing by owner — a
//! worker's connections when it ends, all of them when the program ends.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use indexmap::IndexMap;
use weft_vm::context::Capability;
use weft_vm::error::{type_error, RtResult};
use weft_vm::value::{dict_from, dict_get, Value};
use weft_vm::vm::{Program, Vm};

use super::connection::Connection;

/// The `_type` of a connection value.
pub const CONNECTION_TYPE: &str = "mcp_connection";

#[derive(Default)]
pub struct McpState {
    connections: RefCell<IndexMap<String, Rc<Connection>>>,
    next_id: Cell<u64>,
    hook_registered: Cell<bool>,
    /// `mcp_tool` declarations of this run, by function name.
    pub declarations: RefCell<IndexMap<String, super::declare::ToolDeclaration>>,
}

/// The MCP state of `program`'s run.
pub fn state(program: &Program) -> Rc<McpState> {
    program.ext::<McpState>()
}

impl McpState {
    /// A fresh connection id.
    pub fn new_id(&self) -> String {
        let n = self.next_id.get() + 1;
        self.next_id.set(n);
        format!("mcp_{n}")
    }

    pub fn insert(&self, conn: Rc<Connection>) {
        self.connections.borrow_mut().insert(conn.id.clone(), conn);
    }

    fn get(&self, id: &str) -> Option<Rc<Connection>> {
        self.connections.borrow().get(id).cloned()
    }

    /// The open connections `owned` selects. Closed ones stay in the map
    /// so that later uses can say why they are closed.
    fn take_where(&self, owned: impl Fn(&Connection) -> bool) -> Vec<Rc<Connection>> {
        self.connections
            .borrow()
            .values()
            .filter(|c| !c.is_closed() && owned(c))
            .cloned()
            .collect()
    }
}

/// The script's value for a connection.
pub fn connection_value(conn: &Connection) -> Value {
    let mut pairs = vec![
        ("_type", Value::str(CONNECTION_TYPE)),
        ("id", Value::str(conn.id.clone())),
        ("name", Value::str(conn.name.clone())),
        ("server", Value::str(conn.target.clone())),
    ];
    if let Some(pid) = conn.pid {
        pairs.push(("pid", Value::Int(pid as i64)));
    }
    dict_from(pairs)
}

/// The connection id in a connection value.
pub fn connection_id(v: &Value, who: &str) -> RtResult<String> {
    let bad = || {
        type_error(format!(
            "{who}: expected an MCP connection (from mcp_connect), got {}",
            v.type_name()
        ))
    };
    let Value::Dict(d) = v else { return Err(bad()) };
    if dict_get(d, "_type").and_then(Value::as_str) != Some(CONNECTION_TYPE) {
        return Err(bad());
    }
    dict_get(d, "id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(bad)
}

/// The live connection `id` as the task of `vm` may use it: its policy
/// must admit the server (`mcp`) and, for a stdio server, `process.exec`,
/// for an HTTP server, `network` — a worker whose policy does not allow
/// the server cannot use a connection handed to it.
pub fn usable(vm: &Vm, id: &str, who: &str) -> RtResult<Rc<Connection>> {
    let Some(conn) = state(&vm.program).get(id) else {
        return Err(super::connection::mcp_error(
            who,
            format!("there is no MCP connection {id} in this run"),
        ));
    };
    check_server(vm, &conn.target, conn.stdio)?;
    conn.peer(who)?;
    Ok(conn)
}

/// The capability checks for using a server.
pub fn check_server(vm: &Vm, target: &str, stdio: bool) -> RtResult<()> {
    vm.ctx.check_capability(Capability::Mcp, target)?;
    if stdio {
        vm.ctx.check_capability(Capability::ProcessExec, target)
    } else {
        vm.ctx.check_capability(Capability::Network, target)
    }
}

/// Closes (in the background) the connections worker `worker_id` opened.
pub fn close_owned_by(program: &Program, worker_id: &str) {
    let conns = state(program).take_where(|c| c.owner.as_deref() == Some(worker_id));
    let reason = format!("worker {worker_id}, which opened it, ended");
    for c in conns {
        if let Some(closing) = c.begin_close(&reason) {
            tokio::task::spawn_local(closing.finish());
        }
    }
}

/// Closes one connection now (`mcp_close`).
pub async fn close_one(program: &Program, id: &str) -> bool {
    let taken = state(program).take_where(|c| c.id == id);
    let found = !taken.is_empty();
    for c in taken {
        c.close("closed by mcp_close").await;
    }
    found
}

/// Registers (once per run) the program-end hook that closes every
/// connection still open.
pub fn ensure_shutdown_hook(program: &Rc<Program>) {
    let st = state(program);
    if st.hook_registered.replace(true) {
        return;
    }
    program.on_shutdown(Rc::new(|program: Rc<Program>| {
        Box::pin(async move {
            let st = state(&program);
            let all = st.take_where(|_| true);
            for c in all {
                c.close("the program ended").await;
            }
            st.hook_registered.set(false);
        })
    }));
}
