//! Approval gates for hosts (issue 17 §1): the request a host's
//! [`EngineBuilder::on_approval`](crate::EngineBuilder::on_approval)
//! callback receives and the answer it gives.

pub use weft_agents::approval::{ApprovalAnswer as Approval, PendingApproval as ApprovalRequest};

impl crate::EngineBuilder {
    /// Answers `request_approval` (and tools that need approval) from the
    /// host: `f` gets the request (`id`, `request.question`,
    /// `request.choices`, `request.data`, `worker_id`) and resolves to an
    /// [`Approval`], or to `None` to leave it unanswered (the request then
    /// parks in the state directory for `weft approve`). A request's
    /// `timeout_ms` bounds the wait. An answer whose `choice` is not one
    /// of the request's choices fails the request with a `value_error`.
    ///
    /// ```
    /// let mut engine = weft::Engine::builder()
    ///     .persist(false)
    ///     .on_approval(|req: weft::ApprovalRequest| async move {
    ///         Some(weft::Approval {
    ///             approved: req.request.question.contains("staging"),
    ///             choice: None,
    ///             comment: Some("by policy".into()),
    ///             by: "host".into(),
    ///         })
    ///     })
    ///     .build()?;
    /// let v = weft::block_on(engine.eval(r#"request_approval("deploy to staging?").approved"#))?;
    /// assert_eq!(v.to_string(), "true");
    /// # Ok::<(), weft::Error>(())
    /// ```
    pub fn on_approval<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(ApprovalRequest) -> Fut + 'static,
        Fut: std::future::Future<Output = Option<Approval>> + 'static,
    {
        self.setup.approval_handler = Some(std::rc::Rc::new(move |req| Box::pin(f(req))));
        self
    }

    /// Whether a terminal prompt may answer approval requests when stdin
    /// and stderr are terminals (default false; `weft run` and the REPL
    /// turn it on).
    pub fn interactive_approvals(mut self, on: bool) -> Self {
        self.setup.agents.interactive_approvals = on;
        self
    }
}
