//! Cluster mode end to end (issue 14): a real 3-node NATS JetStream cluster
//! on 127.0.0.1 (scripts/nats), `weft host` processes and `weft run
//! --cluster`. Without nats-server these tests fail under CI=true and are
//! skipped elsewhere (see the helper).

#[path = "cluster_support/hosts.rs"]
#[allow(dead_code)] // shared with cluster_resume.rs
mod hosts;
#[path = "../../weft-agents/tests/support/nats_cluster.rs"]
#[allow(dead_code)] // shared with weft-agents tests; node kills are not used here yet
mod nats_cluster;

/// One readiness check of the test cluster for `nats_cluster` (through
/// the facade): a stream with three replicas can be created and deleted.
async fn probe_cluster_ready(urls: &str) -> Result<(), String> {
    weft::cluster::probe_ready(urls, 3)
        .await
        .map_err(|e| e.to_string())
}
mod support;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use hosts::{host_logs, wait_for_log, wait_output, Host};
use nats_cluster::NatsCluster;

fn run(dir: &Path, args: &[&str]) -> Output {
    support::weft(dir, args).output().expect("run weft")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_ok(o: &Output) {
    assert!(
        o.status.success(),
        "weft failed ({}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Prints the envelope without what differs between two runs of the same
/// worker anyway (its id, tool call durations).
const PRINT_ENVELOPE: &str = r#"
fn normalized(r) {
  var calls = []
  for c in r.tool_calls {
    var c2 = c
    c2.duration_ms = 0
    calls = push(calls, c2)
  }
  var events = []
  for ev in r.transcript.events {
    events = push(events, ev.kind)
  }
  var e = r
  e.tool_calls = calls
  e.worker_id = "-"
  e.session_id = "-"
  e.transcript = {messages: r.transcript.messages, events: events}
  e
}
"#;

#[test]
fn remote_sub_agent_run_returns_the_same_envelope_as_local() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        r#"{PRINT_ENVELOPE}
fn add(args) {{
  args.a + args.b
}}
println("parent top level ran")
let tools = tool_define(tool_registry(), "add", "Adds two integers", {{
  parameters: {{a: {{type: "integer"}}, b: {{type: "integer"}}}}, handler: add}})
llm_mock({{tool_calls: [{{name: "add", arguments: {{a: 2, b: 3}}}}], input_tokens: 10, output_tokens: 4}})
llm_mock({{text: "The sum is 5.", input_tokens: 12, output_tokens: 5}})
llm_mock({{text: "left for the parent"}})
let r = sub_agent_run("Add 2 and 3", {{tools: tools, placement: argv[0]}})
println(normalized(r))
println(llm_call("and now?").text)
"#
    );
    std::fs::write(dir.path().join("main.wf"), script).unwrap();
    let local = run(dir.path(), &["run", "main.wf", "--", "local"]);
    assert_ok(&local);
    assert!(
        stdout(&local).contains("The sum is 5."),
        "{}",
        stdout(&local)
    );
    assert!(
        stdout(&local).contains("left for the parent"),
        "{}",
        stdout(&local)
    );

    let _host = Host::start(dir.path(), &cluster.urls, &[]);
    wait_for_log(dir.path(), "serving");
    let remote = run(
        dir.path(),
        &[
            "run",
            "--cluster",
            &cluster.urls,
            "main.wf",
            "--",
            "cluster",
        ],
    );
    assert_ok(&remote);
    assert_eq!(stdout(&remote), stdout(&local));
    // The host ran the worker, never the parent's top level.
    std::thread::sleep(Duration::from_millis(200));
    assert!(!host_logs(dir.path()).contains("parent top level ran"));
    // On the same cluster and host (no second cluster: CI time).
    a_cluster_worker_is_listed_with_its_host_and_its_host_events(dir.path(), &cluster.urls);
}

/// A cluster worker's host events reach the parent (`worker_events`,
/// `--events`) between its own lifecycle events, without duplicates, and
/// `weft workers list|show --cluster` show it with its host, usage,
/// result and events.
fn a_cluster_worker_is_listed_with_its_host_and_its_host_events(dir: &Path, urls: &str) {
    std::fs::write(
        dir.join("listed.wf"),
        r#"
fn add(args) {
  args.a + args.b
}
let tools = tool_define(tool_registry(), "add", "Adds two integers", {
  parameters: {a: {type: "integer"}, b: {type: "integer"}}, handler: add})
llm_mock({tool_calls: [{name: "add", arguments: {a: 2, b: 3}}], input_tokens: 10, output_tokens: 4})
llm_mock({text: "The sum is 5.", input_tokens: 12, output_tokens: 5})
let w = spawn_worker("Add 2 and 3", {name: "listed_adder", key: "listed-adder", tools: tools,
  placement: "cluster", wait: true})
println(w.status, w.id)
for e in worker_events(w.id) {
  let side = if has(e, "host") { "host" } else { "parent" }
  println(e.kind, side, e.worker_id == w.id)
}
"#,
    )
    .unwrap();
    let out = run(dir, &["run", "--events", "--cluster", urls, "listed.wf"]);
    assert_ok(&out);
    let text = stdout(&out);
    let (first, events) = text.split_once('\n').unwrap();
    let id = first.strip_prefix("completed ").expect(&text).to_string();
    assert_eq!(
        events,
        "worker_started parent true\n\
         tool_started host true\n\
         tool_finished host true\n\
         worker_progress host true\n\
         worker_progress host true\n\
         worker_completed parent true\n",
        "{text}"
    );
    // --events streams the host's events too, each naming its host.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let relayed: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &serde_json::Value| e["kind"] == "tool_finished")
        .collect();
    assert_eq!(relayed.len(), 1, "{stderr}");
    assert_eq!(relayed[0]["worker_id"], id.as_str());
    assert!(relayed[0]["host"].as_str().is_some_and(|h| !h.is_empty()));

    let list = run(
        dir,
        &[
            "workers",
            "list",
            "--cluster",
            urls,
            "--name",
            "listed_adder",
        ],
    );
    assert_ok(&list);
    let table = stdout(&list);
    let mut rows = table.lines();
    assert!(
        rows.next().unwrap().starts_with("ID  ") && table.contains("HOST"),
        "{table}"
    );
    let row = rows.next().expect(&table);
    assert!(row.starts_with(&id), "{table}");
    assert!(
        row.contains("completed") && row.contains("listed-adder"),
        "{table}"
    );
    assert_eq!(rows.next(), None, "{table}");

    // By key, as locally; with its host, usage, result and events.
    let show = run(dir, &["workers", "show", "listed-adder", "--cluster", urls]);
    assert_ok(&show);
    let record: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(record["id"], id.as_str());
    assert_eq!(record["status"], "completed");
    assert_eq!(record["name"], "listed_adder");
    assert_eq!(record["task"], "Add 2 and 3");
    let host = record["host"].as_str().unwrap();
    assert!(row.contains(host), "{table}");
    assert_eq!(record["execution"]["host"], host);
    assert_eq!(record["usage"]["input_tokens"], 22, "{record}");
    assert_eq!(record["result"]["summary"], "The sum is 5.", "{record}");
    let kinds: Vec<&str> = record["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"tool_finished"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"worker_completed"), "{kinds:?}");
    let listed = run(
        dir,
        &[
            "workers",
            "list",
            "--json",
            "--cluster",
            urls,
            "--name",
            "listed_adder",
        ],
    );
    assert_ok(&listed);
    let rows: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(rows[0]["host"], host, "{rows}");

    // Unknown references are the local error, naming the cluster.
    let missing = run(dir, &["workers", "show", "w_nope", "--cluster", urls]);
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        err.contains(&format!("no worker 'w_nope' on the cluster at {urls}")),
        "{err}"
    );
}

#[test]
fn a_remote_worker_is_denied_what_a_local_one_is() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("work")).unwrap();
    std::fs::write(dir.path().join("work/inside.txt"), "inside").unwrap();
    std::fs::write(dir.path().join("outside.txt"), "secret").unwrap();
    let script = format!(
        r#"{PRINT_ENVELOPE}
fn read(args) {{
  read_file(args.path)
}}
fn run_it(args) {{
  exec("echo", ["hi"]).stdout
}}
var tools = tool_define(tool_registry(), "read", "Reads a file", {{
  parameters: {{path: {{type: "string"}}}}, handler: read}})
tools = tool_define(tools, "run_it", "Runs echo", {{parameters: {{}}, handler: run_it}})
tools = tool_define(tools, "other", "Not allowed", {{parameters: {{}}, handler: run_it}})
llm_mock({{tool_calls: [
  {{name: "read", arguments: {{path: "work/inside.txt"}}}},
  {{name: "read", arguments: {{path: "outside.txt"}}}},
  {{name: "run_it", arguments: {{}}}},
  {{name: "other", arguments: {{}}}}]}})
llm_mock({{text: "done"}})
let r = sub_agent_run("Read things", {{tools: tools, placement: argv[0], policy: {{
  tools: ["read", "run_it"], workspace_roots: ["work"],
  capabilities: {{fs: ["read"], process: []}}}}}})
println(normalized(r))
"#
    );
    std::fs::write(dir.path().join("main.wf"), script).unwrap();
    let local = run(dir.path(), &["run", "main.wf", "--", "local"]);
    assert_ok(&local);
    let out = stdout(&local);
    assert!(out.contains("result: \"inside\""), "{out}");
    assert!(!out.contains("secret"), "{out}");
    assert!(out.contains("process.exec"), "{out}");
    assert!(out.contains("other"), "{out}");

    let _host = Host::start(dir.path(), &cluster.urls, &[]);
    wait_for_log(dir.path(), "serving");
    let remote = run(
        dir.path(),
        &[
            "run",
            "--cluster",
            &cluster.urls,
            "main.wf",
            "--",
            "cluster",
        ],
    );
    assert_ok(&remote);
    assert_eq!(stdout(&remote), out);
}

#[test]
fn the_host_ceiling_narrows_a_job_and_a_closure_handler_does_not_travel() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.txt"), "data").unwrap();
    std::fs::write(
        dir.path().join("main.wf"),
        r#"
fn read(args) {
  read_file(args.path)
}
let tools = tool_define(tool_registry(), "read", "Reads a file", {
  parameters: {path: {type: "string"}}, handler: read})
llm_mock({tool_calls: [{name: "read", arguments: {path: "data.txt"}}]})
llm_mock({text: "done"})
let r = sub_agent_run("Read", {tools: tools, placement: "cluster"})
println(r.tool_calls[0].ok, r.tool_calls[0].error.category)
let secret = "captured"
let closure_tools = tool_define(tool_registry(), "peek", "Peeks", {
  parameters: {}, handler: { args -> secret }})
println(try { sub_agent_run("Peek", {tools: closure_tools, placement: "cluster"}) } catch e { e.message })
fn make_handler(prefix) {
  { args -> prefix }
}
let captured = tool_define(tool_registry(), "peek", "Peeks", {parameters: {}, handler: make_handler("p")})
println(try { spawn_worker("Peek", {tools: captured, placement: "cluster"}) } catch e { e.message })
"#,
    )
    .unwrap();
    // This host may not read files: the worker's read is denied there.
    let _host = Host::start(dir.path(), &cluster.urls, &["--deny", "fs.read"]);
    wait_for_log(dir.path(), "serving");
    let remote = run(dir.path(), &["run", "--cluster", &cluster.urls, "main.wf"]);
    assert_ok(&remote);
    let out = stdout(&remote);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("false permission_denied"), "{out}");
    let msg = lines.next().unwrap_or_default();
    assert!(msg.contains("cannot run on the cluster"), "{out}");
    assert!(msg.contains("<fn anonymous>"), "{out}");
    assert!(msg.contains("option 'tools.tools[0].handler'"), "{out}");
    assert!(msg.contains("only top-level functions travel"), "{out}");
    let msg = lines.next().unwrap_or_default();
    assert!(msg.starts_with("spawn_worker: the function"), "{out}");
    assert!(msg.contains("closure that captures variables"), "{out}");
}

#[test]
fn placement_cluster_without_a_cluster_and_an_unreachable_cluster_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.wf"),
        "let r = sub_agent_run(\"x\", {placement: \"cluster\"})\n",
    )
    .unwrap();
    let out = run(dir.path(), &["run", "main.wf"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("placement \"cluster\" needs a cluster"),
        "{err}"
    );
    assert!(err.contains("--cluster"), "{err}");

    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("nats://127.0.0.1:{port}");
    let started = Instant::now();
    let out = run(dir.path(), &["run", "--cluster", &url, "main.wf"]);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("cannot reach the cluster at {url}")),
        "{err}"
    );

    // `weft host`, and `weft workers`/`weft runs` reading the cluster
    // (also through WEFT_CLUSTER), fail the same way.
    for args in [
        vec!["host", "--cluster", url.as_str()],
        vec!["workers", "list", "--cluster", url.as_str()],
        vec!["workers", "show", "w_1", "--cluster", url.as_str()],
        vec!["runs", "show", "r_1", "--json", "--cluster", url.as_str()],
        vec!["runs", "list"],
    ] {
        let started = Instant::now();
        let out = support::weft(dir.path(), &args)
            .env("WEFT_CLUSTER", &url)
            .output()
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "{args:?}: {:?}",
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("cannot reach the cluster at {url}")),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_job_of_a_killed_host_is_finished_by_another_host() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.wf"),
        r#"
fn note(args) {
  append_file("effects.log", "noted\n")
  "noted"
}
let tools = tool_define(tool_registry(), "note", "Notes", {parameters: {}, handler: note})
llm_mock({tool_calls: [{name: "note", arguments: {}}]})
llm_mock({text: "slow answer", delay_ms: 4000})
llm_mock({text: "left for the parent"})
let r = sub_agent_run("Take your time", {tools: tools, placement: "cluster"})
println(r.ok, r.summary, len(r.tool_calls))
println(llm_call("and now?").text)
"#,
    )
    .unwrap();
    // The first host creates the queue (with its 2 s ack wait).
    let mut first = Host::start(dir.path(), &cluster.urls, &["--slots", "1"]);
    wait_for_log(dir.path(), "serving");
    let mut parent = support::weft(dir.path(), &["run", "--cluster", &cluster.urls, "main.wf"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Kill the first host while the worker waits for its second model
    // call (the first turn and its tool call are checkpointed).
    wait_for_log(dir.path(), "(delivery 1)");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.path().join("effects.log").exists() {
        assert!(Instant::now() < deadline, "the note never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    first.kill();
    let _second = Host::start(dir.path(), &cluster.urls, &["--slots", "1"]);
    let started = Instant::now();
    let out = wait_output(&mut parent, Duration::from_secs(30));
    assert_ok(&out);
    // The second host resumed after the first turn: the note ran once, the
    // first mock response was not answered again, and the parent's queue
    // lost exactly the two the worker consumed.
    assert_eq!(stdout(&out), "true slow answer 1\nleft for the parent\n");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("effects.log")).unwrap(),
        "noted\n"
    );
    // Redelivered after the 2 s ack wait, then the 4 s call again.
    assert!(
        started.elapsed() >= Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(host_logs(dir.path()).contains("(delivery 2), resuming from its checkpoint"));
}

#[test]
fn remote_workers_are_waited_for_and_cancelled_like_local_ones() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.wf"),
        r#"
llm_mock({match: "first*", text: "one"})
llm_mock({match: "second*", text: "two"})
llm_mock({match: "slow*", text: "never", delay_ms: 30000})
let a = spawn_worker("first task", {placement: "cluster"})
let b = spawn_worker("second task", {placement: "cluster"})
let done = wait_worker([a, b])
println(done[0].status, done[0].result.summary, done[1].status, done[1].result.summary)
let slow = spawn_worker("slow task", {placement: "cluster"})
sleep(1500)
println(worker_status(slow).status)
cancel_worker(slow)
println(worker_status(slow).status)
sleep(1000)
"#,
    )
    .unwrap();
    let _host = Host::start(dir.path(), &cluster.urls, &["--slots", "3"]);
    wait_for_log(dir.path(), "serving");
    let out = support::weft(dir.path(), &["run", "--cluster", &cluster.urls, "main.wf"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = out;
    // The cancel reaches the host within a second of cancel_worker.
    wait_for_log(dir.path(), "(delivery 1)");
    let out = wait_output(&mut out, Duration::from_secs(30));
    assert_ok(&out);
    assert_eq!(
        stdout(&out),
        "completed one completed two\nrunning\ncancelled\n"
    );
    assert!(
        host_logs(dir.path()).contains("cancelled by its parent"),
        "{}",
        host_logs(dir.path())
    );
}

#[test]
fn a_workflow_map_node_fans_out_over_three_hosts() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.wf"),
        r#"
fn note(args) {
  append_file("effects.log", "noted ${args.item}\n")
  "noted ${args.item}"
}
let tools = tool_define(tool_registry(), "note", "Notes an item", {
  parameters: {item: {type: "string"}}, handler: note})
for item in ["i1", "i2", "i3"] {
  llm_mock({match: "Handle item ${item}", tool_calls: [{name: "note", arguments: {item: item}}]})
  llm_mock({match: "noted ${item}", text: "handled ${item}", delay_ms: 1500})
}
let g = workflow_graph({name: "fan", entry: "fan", policy: {tools: ["note"]},
  nodes: {
    fan: {kind: "map", items: ["i1", "i2", "i3"], max_concurrent: 3,
          each: {kind: "subagent", task: "Handle item \${item}", tools: tools,
                 placement: "cluster"}},
    hosts: {kind: "code", run: { ctx ->
      map(ctx.input.fan.results, { r -> "${r.summary} on ${worker_status(r.worker_id).execution.host}" }) }},
  },
  edges: [{from: "fan", to: "hosts"}]})
let r = workflow_execute("handle the items", g)
println(r.status)
for line in r.outputs.hosts {
  println(line)
}
"#,
    )
    .unwrap();
    let _hosts: Vec<Host> = (0..3)
        .map(|_| Host::start(dir.path(), &cluster.urls, &["--slots", "1"]))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while host_logs(dir.path()).matches("serving").count() < 3 {
        assert!(Instant::now() < deadline, "{}", host_logs(dir.path()));
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = run(dir.path(), &["run", "--cluster", &cluster.urls, "main.wf"]);
    assert_ok(&out);
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("completed"), "{text}");
    let mut hosts = Vec::new();
    for (line, item) in lines.zip(["i1", "i2", "i3"]) {
        let (summary, host) = line.split_once(" on ").unwrap();
        assert_eq!(summary, format!("handled {item}"), "{text}");
        hosts.push(host.to_string());
    }
    assert_eq!(hosts.len(), 3, "{text}");
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 3, "each item on its own host: {text}");
    let mut effects: Vec<String> = std::fs::read_to_string(dir.path().join("effects.log"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    effects.sort();
    assert_eq!(effects, ["noted i1", "noted i2", "noted i3"]);
    // The run is recorded on the cluster, its items' workers too.
    let runs = run(
        dir.path(),
        &[
            "runs",
            "list",
            "--json",
            "--cluster",
            &cluster.urls,
            "--name",
            "fan",
        ],
    );
    assert_ok(&runs);
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    assert_eq!(runs[0]["status"], "completed", "{runs}");
    let run_id = runs[0]["id"].as_str().unwrap();
    let shown = run(
        dir.path(),
        &["runs", "show", "fan", "--cluster", &cluster.urls],
    );
    assert_ok(&shown);
    assert!(stdout(&shown).contains(run_id), "{}", stdout(&shown));
    let workers = run(
        dir.path(),
        &["workers", "list", "--json", "--cluster", &cluster.urls],
    );
    assert_ok(&workers);
    let workers: serde_json::Value = serde_json::from_slice(&workers.stdout).unwrap();
    let mut worker_hosts: Vec<&str> = workers
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["run_id"] == run_id)
        .map(|w| w["host"].as_str().unwrap())
        .collect();
    worker_hosts.sort();
    assert_eq!(worker_hosts, hosts, "{workers}");
    let missing = run(
        dir.path(),
        &["runs", "show", "r_nope", "--cluster", &cluster.urls],
    );
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no run 'r_nope' on the cluster at "),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}

#[test]
fn labelled_workers_run_only_on_hosts_with_their_labels() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.wf"),
        r#"
llm_mock({match: "gpu*", text: "on a gpu"})
llm_mock({match: "plain*", text: "anywhere"})
let gpu = spawn_worker("gpu work", {placement: {labels: {gpu: true}}})
let plain = spawn_worker("plain work", {placement: "cluster"})
let done = wait_worker([gpu, plain])
println(done[0].status, done[0].result.summary, worker_status(gpu).execution.host)
println(done[1].status, done[1].result.summary)
let tpu = spawn_worker("tpu work", {placement: {labels: {tpu: "v5"}}})
let r = wait_worker(tpu)
println(r.status, r.error.category)
println(r.error.message)
"#,
    )
    .unwrap();
    let _plain = Host::start(dir.path(), &cluster.urls, &["--slots", "2"]);
    let gpu = Host::start(
        dir.path(),
        &cluster.urls,
        &["--slots", "2", "--labels", "gpu=true,zone=a"],
    );
    gpu.wait_for(
        "labels {gpu: \"true\", zone: \"a\"}",
        Duration::from_secs(30),
    );
    wait_for_log(dir.path(), "slot(s)\n");
    let started = Instant::now();
    let out = run(dir.path(), &["run", "--cluster", &cluster.urls, "main.wf"]);
    assert_ok(&out);
    let text = stdout(&out);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    assert!(first.starts_with("completed on a gpu "), "{text}");
    assert!(
        first.ends_with(&format!(":{}", gpu.child.id())),
        "the gpu worker ran on the gpu host: {text}"
    );
    assert_eq!(lines.next(), Some("completed anywhere"), "{text}");
    // No host has tpu=v5: reported after the 5 s grace, not a hang.
    assert_eq!(lines.next(), Some("failed cluster_error"), "{text}");
    assert_eq!(
        lines.next(),
        Some(
            "no host of the cluster has the labels {tpu: \"v5\"} this worker asks for \
             (placement); start one with `weft host --labels tpu=v5`, or change the worker's \
             placement"
        ),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}
