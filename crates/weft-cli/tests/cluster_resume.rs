//! Completed work never runs twice across hosts (issue 14 point 6), on a
//! real 3-node NATS JetStream cluster with `weft host` processes whose
//! model is a scripted server on 127.0.0.1 (one tag per host process, so
//! each host's requests are logged apart; `crash_points/model_server.rs`).
//! One cluster serves three cases, each a fresh `sub_agent_run` job:
//!
//! - a host killed (SIGKILL) during the worker's third model call: another
//!   host resumes from the last checkpoint in the cluster; each tool effect
//!   happened once and the model calls already answered are not repeated;
//! - a host paused (SIGSTOP) during that call past its claim (a zombie):
//!   another host finishes the job; when the zombie wakes up with its
//!   model's answer, its checkpoint write is refused (compare-and-set) and
//!   it stops without running the tool;
//! - a host killed while a non-idempotent tool runs: the resumed worker
//!   tells the model the call was `interrupted` instead of running it again;
//! - a keyed worker whose parent is killed while the worker runs: the
//!   parent run again (with its state directory, then without it) attaches
//!   to the same remote worker and its result; no second job, no effect
//!   twice.

#[path = "cluster_support/hosts.rs"]
#[allow(dead_code)] // shared with cluster.rs
mod hosts;
#[path = "crash_points/model_server.rs"]
#[allow(dead_code)] // shared with crash_points.rs
mod model_server;
#[path = "../../weft-agents/tests/support/nats_cluster.rs"]
#[allow(dead_code)] // shared with weft-agents tests
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
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use hosts::{wait_output, Host};
use model_server::{parse_rules, ModelServer};
use nats_cluster::NatsCluster;

const API_KEY: &str = "sk-cluster-resume-test-key-0000";

const SCRIPT: &str = r#"
fn charge(args) {
  append_file("effects.log", "charge ${args.order} ${args.n}\n")
  "charged ${args.order} ${args.n}"
}
fn slow_charge(args) {
  append_file("effects.log", "slow ${args.order}\n")
  sleep(4000)
  "charged ${args.order} slowly"
}
var tools = tool_registry()
tools = tool_define(tools, "charge", "Charge an order", {
  parameters: {order: {type: "string"}, n: {type: "integer"}}, handler: charge})
tools = tool_define(tools, "slow_charge", "Charge an order slowly", {
  parameters: {order: {type: "string"}}, handler: slow_charge})
let key = if len(argv) > 1 { argv[1] } else { nil }
let r = sub_agent_run("Process order ${argv[0]}", {tools: tools, placement: "cluster", key: key})
println(r.ok, r.summary, len(r.tool_calls))
"#;

/// Three charges (k: the third model call stalls long; z: it stalls 7 s),
/// and a slow charge (i).
fn rules() -> String {
    let mut rules = Vec::new();
    for (o, stall) in [("k", 60_000), ("z", 7_000), ("p", 5_000)] {
        rules.push(format!(
            r#"{{"match": "Process order {o}", "tool_calls": [{{"id": "call_{o}1", "name": "charge", "arguments": {{"order": "{o}", "n": 1}}}}]}}"#
        ));
        rules.push(format!(
            r#"{{"match": "charged {o} 1", "tool_calls": [{{"id": "call_{o}2", "name": "charge", "arguments": {{"order": "{o}", "n": 2}}}}]}}"#
        ));
        rules.push(format!(
            r#"{{"match": "charged {o} 2", "stall_first_ms": {stall}, "tool_calls": [{{"id": "call_{o}3", "name": "charge", "arguments": {{"order": "{o}", "n": 3}}}}]}}"#
        ));
        rules.push(format!(
            r#"{{"match": "charged {o} 3", "text": "order {o} done"}}"#
        ));
    }
    rules.push(
        r#"{"match": "Process order i", "tool_calls": [{"id": "call_i1", "name": "slow_charge", "arguments": {"order": "i"}}]}"#
            .to_string(),
    );
    rules.push(
        r#"{"match": "interrupted", "context": "order i", "text": "order i done after an interruption"}"#
            .to_string(),
    );
    rules.push(r#"{"match": "charged i slowly", "text": "order i done"}"#.to_string());
    format!("[{}]", rules.join(",\n"))
}

struct Case<'a> {
    dir: &'a Path,
    cluster: &'a NatsCluster,
    server: &'a ModelServer,
}

impl Case<'_> {
    fn host(&self, tag: &str) -> Host {
        self.host_with_slots(tag, "1")
    }

    fn host_with_slots(&self, tag: &str, slots: &str) -> Host {
        let url = self.server.base_url(tag);
        let host = Host::start_with(
            self.dir,
            &self.cluster.urls,
            &["--slots", slots],
            &[
                ("WEFT_PROVIDER", "openai"),
                ("WEFT_OPENAI_BASE_URL", &url),
                ("OPENAI_API_KEY", API_KEY),
            ],
        );
        host.wait_for("serving", Duration::from_secs(30));
        host
    }

    fn parent(&self, order: &str) -> Child {
        self.keyed_parent(order, None, "state")
    }

    /// A parent run with worker key `key` and state directory `state`.
    fn keyed_parent(&self, order: &str, key: Option<&str>, state: &str) -> Child {
        let mut args = vec![
            "run",
            "--cluster",
            &self.cluster.urls,
            "main.wf",
            "--",
            order,
        ];
        args.extend(key);
        support::weft(self.dir, &args)
            .env("WEFT_STATE_DIR", self.dir.join(state))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits until the host tagged `tag` has sent `n` model requests.
    fn wait_requests(&self, tag: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.server.requests(tag).len() < n {
            assert!(Instant::now() < deadline, "{tag} sent no request {n}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The lines of effects.log about `order`.
    fn effects(&self, order: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("effects.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(order))
            .map(str::to_string)
            .collect()
    }

    /// The rules that answered the host tagged `tag`, by their `match`.
    fn answered(&self, tag: &str) -> Vec<String> {
        self.server
            .requests(tag)
            .iter()
            .map(|r| match r.rule {
                Some(i) => self.server.rules[i].matches.clone(),
                None => format!("(no rule for {})", r.body),
            })
            .collect()
    }
}

fn assert_ok(o: &Output, host_logs: &str) {
    assert!(
        o.status.success(),
        "weft failed ({}):\nstdout:\n{}\nstderr:\n{}\nhosts:\n{host_logs}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
}

#[test]
fn a_job_taken_over_by_another_host_resumes_from_its_cluster_checkpoint() {
    let Some(cluster) = NatsCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.wf"), SCRIPT).unwrap();
    let server = ModelServer::start(parse_rules(&rules()));
    let case = Case {
        dir: dir.path(),
        cluster: &cluster,
        server: &server,
    };

    // 1. kill -9 during the third model call.
    let mut first = case.host("k1");
    let mut parent = case.parent("k");
    case.wait_requests("k1", 3);
    std::thread::sleep(Duration::from_millis(200));
    first.kill();
    let second = case.host("k2");
    let out = wait_output(&mut parent, Duration::from_secs(60));
    assert_ok(&out, &hosts::host_logs(dir.path()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "true order k done 3\n"
    );
    assert_eq!(
        case.effects("k"),
        ["charge k 1", "charge k 2", "charge k 3"]
    );
    // The answered calls (1 and 2) were not asked again; the third (cut
    // off by the kill) was.
    assert_eq!(case.answered("k2"), ["charged k 2", "charged k 3"]);
    assert!(
        second.log_text().contains("resuming from its checkpoint"),
        "{}",
        second.log_text()
    );
    drop(second);

    // 2. a zombie: paused during the third model call past its claim.
    let zombie = case.host("z1");
    let mut parent = case.parent("z");
    case.wait_requests("z1", 3);
    let stalled_at = Instant::now();
    zombie.signal("-STOP");
    let second = case.host("z2");
    let out = wait_output(&mut parent, Duration::from_secs(60));
    assert_ok(&out, &hosts::host_logs(dir.path()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "true order z done 3\n"
    );
    assert_eq!(case.answered("z2"), ["charged z 2", "charged z 3"]);
    // The zombie wakes up once its model's answer (a charge) is there.
    let answered_at = stalled_at + Duration::from_millis(7_500);
    std::thread::sleep(answered_at.saturating_duration_since(Instant::now()));
    zombie.signal("-CONT");
    zombie.wait_for(
        "stopped here without further effects",
        Duration::from_secs(30),
    );
    assert_eq!(
        case.effects("z"),
        ["charge z 1", "charge z 2", "charge z 3"]
    );
    drop(second);
    drop(zombie);

    // 3. kill -9 while a non-idempotent tool runs.
    let mut first = case.host("i1");
    let mut parent = case.parent("i");
    let deadline = Instant::now() + Duration::from_secs(60);
    while case.effects("i").is_empty() {
        assert!(Instant::now() < deadline, "the slow charge never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    first.kill();
    let _second = case.host("i2");
    let out = wait_output(&mut parent, Duration::from_secs(60));
    assert_ok(&out, &hosts::host_logs(dir.path()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "true order i done after an interruption 1\n"
    );
    assert_eq!(case.effects("i"), ["slow i"]);
    assert_eq!(case.answered("i2"), ["interrupted"]);
    assert!(server.requests("i2")[0].interrupted);
    drop(_second);

    // 4. the parent of a keyed worker killed while the worker runs (a
    // second slot would run a duplicate job at once).
    let host = case.host_with_slots("p1", "2");
    let mut parent = case.keyed_parent("p", Some("order-p"), "state");
    case.wait_requests("p1", 3);
    let _ = parent.kill();
    let _ = parent.wait();
    let mut again = case.keyed_parent("p", Some("order-p"), "state");
    let out = wait_output(&mut again, Duration::from_secs(60));
    assert_ok(&out, &host.log_text());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "true order p done 3\n"
    );
    // Without the state directory: the cluster's key index and record.
    let mut elsewhere = case.keyed_parent("p", Some("order-p"), "other-state");
    let out = wait_output(&mut elsewhere, Duration::from_secs(60));
    assert_ok(&out, &host.log_text());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "true order p done 3\n"
    );
    assert_eq!(
        case.effects("p"),
        ["charge p 1", "charge p 2", "charge p 3"]
    );
    assert_eq!(
        case.answered("p1"),
        [
            "Process order p",
            "charged p 1",
            "charged p 2",
            "charged p 3"
        ]
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        host.log_text().matches("running job").count(),
        1,
        "{}",
        host.log_text()
    );
}
