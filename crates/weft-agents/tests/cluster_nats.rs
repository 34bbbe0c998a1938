//! Cluster mode's JetStream layer (`weft_agents::cluster`) against a real
//! 3-node NATS cluster on 127.0.0.1 (tests/support/nats_cluster.rs): the
//! compare-and-set state buckets (a zombie's write fails), state surviving
//! the loss of a server, the job queue's claim / in-progress / redelivery /
//! ack cycle shared by two hosts, dead letters for malformed and
//! incompatible jobs, and the unreachable-URL error.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::nats_cluster::NatsCluster;
use weft_agents::cluster::{
    Cluster, ClusterState, ClusterUrls, JobEnvelope, JobQueue, JobQueueOptions, StateBucket,
    StateWriteError, CONNECT_TIMEOUT,
};

async fn connect(cluster: &NatsCluster) -> Cluster {
    let urls = ClusterUrls::parse(&cluster.urls).expect("cluster.sh prints valid URLs");
    Cluster::connect(&urls, CONNECT_TIMEOUT)
        .await
        .expect("connect to the test cluster")
}

#[test]
fn cluster_urls_parse_and_reject() {
    let urls = ClusterUrls::parse("nats://127.0.0.1:4222, 127.0.0.1:4223").unwrap();
    assert_eq!(
        urls.urls(),
        ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]
    );
    let err = ClusterUrls::parse("nats://a:1,,b:2").unwrap_err();
    assert!(err.contains("empty entry"), "{err}");
    let err = ClusterUrls::parse("http://127.0.0.1:4222").unwrap_err();
    assert!(
        err.contains("http://127.0.0.1:4222") && err.contains("nats://HOST:PORT"),
        "{err}"
    );
}

#[tokio::test]
async fn unreachable_url_is_a_clear_error_within_5_s() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = format!("nats://127.0.0.1:{port}");
    let start = Instant::now();
    let err = match Cluster::connect(&ClusterUrls::parse(&spec).unwrap(), CONNECT_TIMEOUT).await {
        Ok(_) => panic!("nothing listens on {spec}, yet connect succeeded"),
        Err(e) => e,
    };
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(err.contains(&spec), "error must name the URL: {err}");
    assert!(err.contains("cannot reach the cluster"), "{err}");
}

#[tokio::test]
async fn state_writes_are_compare_and_set_and_survive_a_lost_server() {
    let Some(nats) = NatsCluster::start() else {
        return;
    };
    let owner = ClusterState::open(&connect(&nats).await, 3).await.unwrap();
    let zombie = ClusterState::open(&connect(&nats).await, 3).await.unwrap();
    let bucket = StateBucket::Workers;

    let rev1 = owner
        .write(bucket, "w1", &json!({"state": "running", "step": 1}), None)
        .await
        .unwrap();
    // A second creator loses.
    let err = zombie
        .write(bucket, "w1", &json!({"state": "queued"}), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StateWriteError::Stale { expected: None, .. }),
        "{err}"
    );

    // Both saw rev1; the new owner writes first, the zombie's write fails.
    let seen = zombie.read(bucket, "w1").await.unwrap().unwrap();
    assert_eq!(seen.revision, rev1);
    let rev2 = owner
        .write(
            bucket,
            "w1",
            &json!({"state": "running", "step": 2}),
            Some(rev1),
        )
        .await
        .unwrap();
    let err = zombie
        .write(
            bucket,
            "w1",
            &json!({"state": "done", "step": 1}),
            Some(seen.revision),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StateWriteError::Stale {
            bucket: "weft_workers",
            key: "w1".into(),
            expected: Some(rev1)
        }
    );
    assert!(
        err.to_string().contains("another host owns it now"),
        "{err}"
    );
    let now = owner.read(bucket, "w1").await.unwrap().unwrap();
    assert_eq!(now.value, json!({"state": "running", "step": 2}));
    assert_eq!(now.revision, rev2);

    // One of three servers dies: reads and CAS writes go on (replicas 3).
    nats.kill_node(1);
    let deadline = Instant::now() + Duration::from_secs(20);
    let rev3 = loop {
        match owner
            .write(
                bucket,
                "w1",
                &json!({"state": "done", "step": 3}),
                Some(rev2),
            )
            .await
        {
            Ok(rev) => break rev,
            Err(StateWriteError::Failed(why)) if Instant::now() < deadline => {
                eprintln!("retrying while the cluster elects a new leader: {why}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("write after losing one server: {e}"),
        }
    };
    let now = owner.read(bucket, "w1").await.unwrap().unwrap();
    assert_eq!((now.value["step"].clone(), now.revision), (json!(3), rev3));
    assert_eq!(owner.read(StateBucket::Runs, "nope").await.unwrap(), None);
}

#[tokio::test]
async fn jobs_are_redelivered_after_the_ack_wait_and_kept_while_in_progress() {
    let Some(nats) = NatsCluster::start() else {
        return;
    };
    let options = JobQueueOptions {
        replicas: 3,
        ack_wait: Duration::from_secs(2),
    };
    let parent = JobQueue::open(&connect(&nats).await, &options)
        .await
        .unwrap();
    let host_a = JobQueue::open(&connect(&nats).await, &options)
        .await
        .unwrap();
    let host_b = JobQueue::open(&connect(&nats).await, &options)
        .await
        .unwrap();

    let job = JobEnvelope::new("w-redeliver", json!({"task": "count to 3"}));
    parent.submit(&job).await.unwrap();

    // Host A claims it and dies (never acknowledges).
    let claimed = host_a.claim(Duration::from_secs(2)).await.unwrap().unwrap();
    assert_eq!(claimed.job.as_ref().unwrap(), &job);
    assert_eq!(claimed.deliveries, 1);
    drop(claimed);
    // Nobody gets it before the ack wait ...
    assert!(host_b
        .claim(Duration::from_millis(1000))
        .await
        .unwrap()
        .is_none());
    // ... host B gets it after.
    let claimed = host_b.claim(Duration::from_secs(4)).await.unwrap().unwrap();
    assert_eq!(claimed.job.as_ref().unwrap(), &job);
    assert_eq!(claimed.deliveries, 2);

    // While B reports progress (3 s > the 2 s ack wait) A gets nothing.
    let keep_alive = async {
        for _ in 0..8 {
            claimed.progress().await.unwrap();
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
    };
    let (_, stolen) = tokio::join!(keep_alive, host_a.claim(Duration::from_secs(3)));
    assert!(
        stolen.unwrap().is_none(),
        "a job in progress was handed to another host"
    );
    claimed.ack().await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        host_a
            .claim(Duration::from_secs(1))
            .await
            .unwrap()
            .is_none(),
        "an acknowledged job came back"
    );

    // Handed back (e.g. on SIGTERM before it started): at once to another host.
    parent
        .submit(&JobEnvelope::new("w-handback", json!({})))
        .await
        .unwrap();
    let claimed = host_a.claim(Duration::from_secs(2)).await.unwrap().unwrap();
    claimed.hand_back().await.unwrap();
    let again = host_b.claim(Duration::from_secs(1)).await.unwrap().unwrap();
    assert_eq!(again.job.as_ref().unwrap().worker_id, "w-handback");
    again.ack().await.unwrap();
}

#[tokio::test]
async fn malformed_and_incompatible_jobs_go_to_the_dead_letter_stream() {
    let Some(nats) = NatsCluster::start() else {
        return;
    };
    let options = JobQueueOptions {
        replicas: 3,
        ack_wait: Duration::from_secs(2),
    };
    let queue = JobQueue::open(&connect(&nats).await, &options)
        .await
        .unwrap();
    queue
        .submit_raw("bad1", b"{not json".to_vec())
        .await
        .unwrap();
    let future = json!({"format": 99, "weft_version": "9.0.0", "worker_id": "w", "payload": {}});
    queue
        .submit_raw("bad2", serde_json::to_vec(&future).unwrap())
        .await
        .unwrap();
    queue
        .submit_raw("bad3", br#"{"format": 1, "task": "x"}"#.to_vec())
        .await
        .unwrap();
    let good = JobEnvelope::new("good", json!({"task": "t"}));
    queue.submit(&good).await.unwrap();

    let mut reasons = Vec::new();
    loop {
        let claimed = queue.claim(Duration::from_secs(2)).await.unwrap().unwrap();
        match &claimed.job {
            Ok(job) => {
                assert_eq!(job, &good);
                claimed.ack().await.unwrap();
                break;
            }
            Err(reason) => {
                reasons.push(reason.clone());
                claimed.dead_letter(reason).await.unwrap();
            }
        }
    }
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].contains("not JSON"), "{}", reasons[0]);
    assert!(
        reasons[1].contains("job format 99") && reasons[1].contains("Weft 9.0.0"),
        "{}",
        reasons[1]
    );
    assert!(reasons[2].contains("not a Weft job"), "{}", reasons[2]);

    let dead = queue.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 3);
    assert_eq!(dead[0].0, b"{not json");
    for ((_, stored), reason) in dead.iter().zip(&reasons) {
        assert_eq!(stored, reason);
    }
    // Dead jobs left the queue: none comes back after the ack wait.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(queue.claim(Duration::from_secs(1)).await.unwrap().is_none());
}
