//! `weft host --cluster URL[,URL...] [--slots N] [--policy FILE] [--labels
//! k=v,...]`: a
//! long-running process that claims worker jobs from the cluster's queue
//! and runs each on a fresh engine (definitions of the job's program
//! bundle only; the parent's top-level code never runs here), under the
//! job's policy narrowed by this host's own ceiling. SIGTERM/Ctrl-C: stop
//! claiming, hand the running jobs back, exit 0.

use std::cell::Cell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use weft::cluster::{HostOptions, JobRunner, PreparedJob};

use super::{run_signals, usage_error, vm_thread_failure, Exit};
use crate::cli::HostArgs;
use crate::vm_thread::block_on_vm_thread;

/// `WEFT_CLUSTER`: the cluster URL list when `--cluster` is not given.
pub const CLUSTER_ENV: &str = "WEFT_CLUSTER";

/// The cluster URL list of a command: `--cluster`, else `WEFT_CLUSTER`.
pub fn cluster_urls(flag: Option<String>) -> Option<String> {
    flag.or_else(|| std::env::var(CLUSTER_ENV).ok())
        .filter(|s| !s.trim().is_empty())
}

/// Runs `weft host`.
pub fn execute(args: HostArgs) -> Exit {
    let Some(urls) = cluster_urls(args.cluster.clone()) else {
        return usage_error(format!(
            "weft host needs a cluster: give --cluster nats://HOST:PORT[,HOST:PORT...] or set \
             {CLUSTER_ENV}"
        ));
    };
    let ceiling = match super::policy::root_policy(args.policy.as_deref(), &args.deny) {
        Ok(p) => p,
        Err(message) => return usage_error(message),
    };
    if let Some(f) = &args.llm_fixture {
        if let Err(message) = super::check_readable(f) {
            return usage_error(message);
        }
    }
    let labels = match weft::cluster::parse_labels(args.labels.as_deref().unwrap_or("")) {
        Ok(l) => l,
        Err(message) => return usage_error(format!("--labels: {message}")),
    };
    let ack_wait = Duration::from_millis(args.ack_wait_ms.get());
    let slots = args.slots.get();
    let outcome = block_on_vm_thread(move || async move {
        let connection = weft::cluster::connect(&urls, Some(ack_wait))
            .await
            .map_err(|e| e.message().to_string())?;
        let cache = tempfile::Builder::new()
            .prefix("weft-host-")
            .tempdir()
            .map_err(|e| format!("cannot create the bundle cache directory: {e}"))?;
        let stop = Rc::new(Cell::new(false));
        let signals =
            run_signals::watch(|| {}).map_err(|e| format!("cannot watch signals: {e}"))?;
        let stop2 = stop.clone();
        tokio::task::spawn_local(async move {
            while signals.exit_status().is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            eprintln!(
                "weft host: {} received: handing back running jobs",
                signals.name()
            );
            stop2.set(true);
        });
        let fixture = args.llm_fixture.clone();
        let runner: JobRunner = Rc::new(move |job: PreparedJob| {
            let ceiling = ceiling.clone();
            let fixture = fixture.clone();
            Box::pin(async move {
                let mut builder = weft::Engine::builder()
                    .policy(ceiling)
                    .persist(false)
                    .keep_top_level(true);
                if let Some(path) = &fixture {
                    builder = builder.llm_fixture(path);
                }
                let mut engine = builder
                    .build()
                    .map_err(|e| (e.category().to_string(), e.message().to_string()))?;
                engine.run_cluster_job(job).await
            })
        });
        let shown = if labels.is_empty() {
            String::new()
        } else {
            format!(" and labels {}", weft::cluster::show_labels(&labels))
        };
        eprintln!("weft host: serving {} with {slots} slot(s){shown}", urls);
        let options = HostOptions {
            slots,
            ack_wait,
            cache_dir: PathBuf::from(cache.path()),
            name: host_name(),
            labels,
        };
        weft::cluster::serve(&connection, options, runner, stop)
            .await
            .map_err(|e| e.message().to_string())
    });
    match outcome {
        Ok(Ok(())) => Exit::Success,
        Ok(Err(message)) => {
            eprintln!("error: {message}");
            Exit::Failure
        }
        Err(e) => vm_thread_failure(e),
    }
}

/// `HOSTNAME:PID`, this host's name in worker snapshots.
fn host_name() -> String {
    let name = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_string());
    format!("{name}:{}", std::process::id())
}
