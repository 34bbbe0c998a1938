//! The script-facing builtins: `workflow_graph(def)` (normalised graph,
//! or `value_error` listing every problem), `workflow_validate(def)`
//! (`{valid, errors: [{code, node, message}]}`) and the async
//! `workflow_execute(task, graph, options?)` (the run record).

use weft_vm::builtins::{asynchronous, sync, Args, BuiltinDef, LocalBoxFuture};
use weft_vm::error::RtResult;
use weft_vm::value::{dict_from, Value};
use weft_vm::vm::Vm;

use crate::tools::keys::{check_keys, opt_str};

use super::diagram::{render, Diagram, Format};
use super::graph::{normalized, parse_graph, problems_message};
use super::run::{execute, options_arg};

const PARAMS: &[&str] = &["task", "graph", "options"];

pub(crate) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync(
            "workflow_graph",
            &["definition"],
            1,
            1,
            "workflows",
            "Validates a workflow definition `{name, entry, policy, nodes, edges}` and returns it normalised (defaults filled in); raises `value_error` listing every problem.",
            workflow_graph,
        ),
        sync(
            "workflow_validate",
            &["definition"],
            1,
            1,
            "workflows",
            "The problems of a workflow definition as data: `{valid, errors: [{code, node, message}]}`.",
            workflow_validate,
        ),
        sync(
            "workflow_diagram",
            &["definition", "options"],
            1,
            2,
            "workflows",
            "A picture of a workflow definition: Mermaid flowchart text (the default), Graphviz DOT text or SVG laid out by a layout library; `format` is `\"mermaid\"`, `\"dot\"` or `\"svg\"`.",
            workflow_diagram,
        )
        .options(&[DIAGRAM_KEYS]),
        asynchronous(
            "workflow_execute",
            PARAMS,
            2,
            3,
            "workflows",
            "Runs a workflow graph on a task and returns its run record `{_type, id, workflow, task, status, stages, outputs, transitions, pending, usage, path, ...}`.",
            workflow_execute,
        )
        .options(&[super::run::EXECUTE_KEYS]),
    ]
}

fn workflow_graph(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let def = args.get(0).cloned().unwrap_or(Value::Nil);
    let (graph, problems) = parse_graph(vm, &def, "workflow_graph");
    if !problems.is_empty() {
        let name = graph
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_else(|| super::graph::name_of(&def));
        return Err(weft_vm::error::value_error(problems_message(
            "workflow_graph",
            &format!("workflow '{name}'"),
            &problems,
        )));
    }
    Ok(graph.map(|g| normalized(&g)).unwrap_or(Value::Nil))
}

fn workflow_validate(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let def = args.get(0).cloned().unwrap_or(Value::Nil);
    let (_, problems) = parse_graph(vm, &def, "workflow_validate");
    Ok(dict_from([
        ("valid", Value::Bool(problems.is_empty())),
        (
            "errors",
            Value::list(problems.iter().map(|p| p.to_value()).collect()),
        ),
    ]))
}

/// The options of `workflow_diagram`.
const DIAGRAM_KEYS: &[&str] = &["format"];

fn workflow_diagram(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let who = "workflow_diagram";
    let def = args.get(0).cloned().unwrap_or(Value::Nil);
    let format = match args.opt(1) {
        None => Format::Mermaid,
        Some(Value::Dict(opts)) => {
            check_keys(opts, who, "", DIAGRAM_KEYS)?;
            match opt_str(opts, who, "format")? {
                None => Format::Mermaid,
                Some(name) => Format::parse(&name)
                    .map_err(|m| weft_vm::error::value_error(format!("{who}: {m}")))?,
            }
        }
        Some(_) => return Err(args.type_err(1, "a dict of options")),
    };
    let (graph, problems) = parse_graph(vm, &def, who);
    let graph = match graph {
        Some(g) if problems.is_empty() => g,
        g => {
            let name = g
                .as_ref()
                .map(|g| g.name.clone())
                .unwrap_or_else(|| super::graph::name_of(&def));
            return Err(weft_vm::error::value_error(problems_message(
                who,
                &format!("workflow '{name}'"),
                &problems,
            )));
        }
    };
    Ok(Value::str(render(
        &Diagram::from_graph(&graph),
        None,
        format,
    )))
}

fn workflow_execute(vm: &mut Vm, mut args: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let a = Args::new("workflow_execute", PARAMS, &mut args);
        let task = a.str(0)?.to_string();
        let graph = a.get(1).cloned().unwrap_or(Value::Nil);
        let opts = options_arg(a.opt(2), "workflow_execute")?;
        let rec = execute(vm, task, &graph, opts, "workflow_execute").await?;
        Ok(rec.to_value())
    })
}
