//! The host's `on_approval` callback (issue 17 §1): it answers requests
//! from scripts and workers, its answers are checked against the choices,
//! `None` leaves the request unanswered, and a request's `timeout_ms`
//! bounds a callback that never answers (then `default` or `timeout`).

use std::cell::RefCell;
use std::rc::Rc;

fn engine_with<F, Fut>(f: F) -> weft::Engine
where
    F: Fn(weft::ApprovalRequest) -> Fut + 'static,
    Fut: std::future::Future<Output = Option<weft::Approval>> + 'static,
{
    weft::Engine::builder()
        .persist(false)
        .on_approval(f)
        .build()
        .unwrap()
}

fn approve(choice: Option<&str>) -> Option<weft::Approval> {
    Some(weft::Approval {
        approved: true,
        choice: choice.map(str::to_string),
        comment: Some("looks fine".into()),
        by: "host".into(),
    })
}

#[test]
fn the_callback_answers_and_sees_the_request() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let mut engine = engine_with(move |req: weft::ApprovalRequest| {
        log.borrow_mut().push((
            req.id.clone(),
            req.request.question.clone(),
            req.request.choices.clone(),
            req.request.data.clone(),
        ));
        async move { approve(Some("prod")) }
    });
    let v = weft::block_on(engine.eval(
        r#"let a = request_approval("where?", {choices: ["staging", "prod"], data: {n: 1}})
           "${a.approved} ${a.choice} ${a.comment} ${a.by}""#,
    ))
    .unwrap();
    assert_eq!(v.to_string(), "true prod looks fine host");
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].0.starts_with("a_"));
    assert_eq!(seen[0].1, "where?");
    assert_eq!(seen[0].2, vec!["staging".to_string(), "prod".to_string()]);
    assert_eq!(seen[0].3, serde_json::json!({"n": 1}));
}

#[test]
fn a_choice_outside_the_choices_is_a_value_error() {
    let mut engine = engine_with(|_| async { approve(Some("qa")) });
    let err = weft::block_on(
        engine.eval(r#"request_approval("where?", {choices: ["staging", "prod"]})"#),
    )
    .unwrap_err();
    assert_eq!(err.category(), "value_error");
    assert!(
        err.message()
            .contains("choice 'qa' is not one of staging, prod")
    );
}

#[test]
fn a_callback_that_never_answers_is_bounded_by_the_timeout() {
    let mut engine = engine_with(|_| std::future::pending::<Option<weft::Approval>>());
    let v = weft::block_on(engine.eval(
        r#"let a = request_approval("go?", {timeout_ms: 20, default: true})
           "${a.approved} ${a.by}""#,
    ))
    .unwrap();
    assert_eq!(v.to_string(), "true timeout");
    let err = weft::block_on(engine.eval(r#"request_approval("go again?", {timeout_ms: 20})"#))
        .unwrap_err();
    assert_eq!(err.category(), "timeout");
}

#[test]
fn no_answer_and_no_state_directory_is_explained() {
    let mut engine = engine_with(|_| async { None });
    let err = weft::block_on(engine.eval(r#"request_approval("go?")"#)).unwrap_err();
    assert_eq!(err.category(), "awaiting_approval");
    assert!(
        err.message()
            .contains("no state directory to park the request in")
    );
}

#[test]
fn workers_reach_the_callback_too() {
    let mut engine = engine_with(|req: weft::ApprovalRequest| async move {
        Some(weft::Approval {
            approved: req.worker_id.is_some(),
            choice: None,
            comment: None,
            by: "host".into(),
        })
    });
    let v = weft::block_on(engine.eval(
        r#"var tools = tool_registry()
           tools = tool_define(tools, "gate", "ask", {parameters: {}, handler: { args -> "${request_approval("from a worker?").approved}" }})
           llm_mock({match: "task*", tool_calls: [{name: "gate", arguments: {}}]})
           llm_mock({text: "finished"})
           let h = spawn_worker({task: "task one", tools: tools, wait: true})
           "${h.status} ${h.result.tool_calls[0].result}""#,
    ))
    .unwrap();
    assert_eq!(v.to_string(), "completed true");
}
