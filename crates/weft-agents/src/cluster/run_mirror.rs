//! A workflow run's record on the cluster: a parent run connected to a
//! cluster (`--cluster`) copies each run record it makes durable locally
//! (after every stage, `workflow/store.rs`) into the `weft_runs` bucket,
//! so `weft runs list --cluster` shows it from any machine. The parent is
//! the record's only writer: each copy is a compare-and-set on the
//! revision it reads first. A copy the cluster does not take is reported
//! on stderr once per run and does not stop the run (the local record is
//! the one a re-run resumes from).

use std::rc::Rc;

use weft_vm::vm::Program;

use super::remote::RemoteCluster;
use super::{StateBucket, StateWriteError};
use crate::state::AgentState;

/// Copies run record `record` (with its `id`) to the cluster, when the
/// run has one.
pub async fn mirror(program: &Rc<Program>, record: &serde_json::Value) {
    let state = program.ext::<AgentState>();
    let Some(remote) = state.cluster.get() else {
        return;
    };
    let Some(id) = record.get("id").and_then(|v| v.as_str()) else {
        return;
    };
    if let Err(e) = write(&remote, id, record).await {
        if !state.cluster_runs_warned.replace(true) {
            eprintln!("warning: run {id} is not recorded on the cluster: {e}");
        }
    }
}

async fn write(remote: &RemoteCluster, id: &str, record: &serde_json::Value) -> Result<(), String> {
    for _ in 0..3 {
        let expected = remote
            .state
            .read(StateBucket::Runs, id)
            .await?
            .map(|found| found.revision);
        match remote
            .state
            .write(StateBucket::Runs, id, record, expected)
            .await
        {
            Ok(_) => return Ok(()),
            // Written in between (a re-run of the same key elsewhere):
            // read again.
            Err(StateWriteError::Stale { .. }) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("weft_runs/{id} keeps changing under this run"))
}
