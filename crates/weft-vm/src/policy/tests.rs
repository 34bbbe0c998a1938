//! Unit tests of capability policies: intersection, restriction, checks,
//! roots, MCP server entries.

mod intersect {
    use super::super::*;

    fn req(tools: Option<&[&str]>) -> PolicyRequest {
        PolicyRequest {
            tools: tools.map(|t| t.iter().map(|s| s.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn intersect_narrows_and_reports_excess() {
        let mut root = CapabilityPolicy::allow_all();
        root.tools = Some(["read".to_string(), "search".to_string()].into());
        root.deny("process.exec").unwrap();
        let child = root
            .intersect(&req(Some(&["read"])), Path::new("/"))
            .unwrap();
        assert_eq!(child.tools, Some(["read".to_string()].into()));
        assert_eq!(child.max_depth, ROOT_MAX_DEPTH - 1);
        let mut bad = req(Some(&["read", "write_file"]));
        bad.capabilities = Some([("process".to_string(), ["exec".to_string()].into())].into());
        bad.side_effect_level = Some(SideEffectLevel::Network);
        let err = root.intersect(&bad, Path::new("/")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tools [write_file], capabilities [process.exec]"
        );
    }

    #[test]
    fn side_effect_level_and_depth_cannot_grow() {
        let mut root = CapabilityPolicy::allow_all();
        root.side_effect_level = SideEffectLevel::ReadOnly;
        root.max_depth = 1;
        let r = PolicyRequest {
            side_effect_level: Some(SideEffectLevel::ProcessExec),
            max_depth: Some(3),
            ..Default::default()
        };
        let err = root.intersect(&r, Path::new("/")).unwrap_err();
        assert_eq!(
            err.side_effect_level,
            Some((SideEffectLevel::ProcessExec, SideEffectLevel::ReadOnly))
        );
        assert_eq!(err.max_depth, Some((3, 0)));
        let child = root
            .intersect(&PolicyRequest::default(), Path::new("/"))
            .unwrap();
        assert_eq!(child.max_depth, 0);
        assert!(
            child
                .intersect(&PolicyRequest::default(), Path::new("/"))
                .unwrap_err()
                .depth_exhausted
        );
    }

    #[test]
    fn checks_ops_levels_and_roots() {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().join("work");
        std::fs::create_dir_all(root_dir.join("src")).unwrap();
        let outside = dir.path().join("secret");
        std::fs::create_dir_all(&outside).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(&outside, root_dir.join("src/escape")).unwrap();
        let mut p = CapabilityPolicy::allow_all();
        let r = PolicyRequest {
            workspace_roots: Some(vec!["work".to_string()]),
            side_effect_level: Some(SideEffectLevel::WorkspaceWrite),
            ..Default::default()
        };
        p = p.intersect(&r, dir.path()).unwrap();
        assert!(p
            .check("fs", "read", Some(&root_dir.join("src/a.txt")))
            .is_ok());
        assert!(p
            .check("fs", "read", Some(&root_dir.join("src/../../secret/x")))
            .is_err());
        // A link out passes the lexical check; opening it beneath the root
        // handle fails (crate::confine).
        #[cfg(unix)]
        assert!(matches!(
            p.locate(&root_dir.join("src/escape/x")).unwrap().read(None),
            Err(crate::confine::FsError::Escape(_))
        ));
        assert!(p.check("process", "exec", None).is_err());
        p.deny("fs.write").unwrap();
        assert!(p.check("fs", "write", Some(&root_dir.join("a"))).is_err());
    }

    #[test]
    fn parses_requests_with_suggestions() {
        let bad = crate::value::dict_from([("tols", Value::list(vec![]))]);
        assert!(parse_policy_request(&bad, "spawn_worker")
            .unwrap_err()
            .contains("did you mean 'tools'"));
        let lvl = crate::value::dict_from([("side_effect_level", Value::str("all"))]);
        assert!(parse_policy_request(&lvl, "x")
            .unwrap_err()
            .contains("must be one of none, read_only"));
        assert!(split_capability("fs.wirte")
            .unwrap_err()
            .contains("did you mean 'fs.write'"));
    }
}

mod restrict_tests {
    use super::super::*;

    #[test]
    fn restrict_narrows_without_spending_depth() {
        let mut ceiling = CapabilityPolicy::allow_all();
        ceiling.max_depth = 2;
        let req = PolicyRequest {
            tools: Some(["read".to_string()].into_iter().collect()),
            ..Default::default()
        };
        let p = ceiling.restrict(&req, Path::new("/")).unwrap();
        assert_eq!(p.max_depth, 2);
        assert!(p.allows_tool("read") && !p.allows_tool("write"));
        // A child's intersect spends one level; restrict of depth 0 works.
        assert_eq!(
            ceiling.intersect(&req, Path::new("/")).unwrap().max_depth,
            1
        );
        ceiling.max_depth = 0;
        assert_eq!(ceiling.restrict(&req, Path::new("/")).unwrap().max_depth, 0);
        // Asking for more depth than the ceiling is an excess.
        let deeper = PolicyRequest {
            max_depth: Some(1),
            ..Default::default()
        };
        assert!(ceiling.restrict(&deeper, Path::new("/")).is_err());
        // Asking for more tools than the ceiling is an excess.
        let narrow = ceiling.restrict(&req, Path::new("/")).unwrap();
        let wide = PolicyRequest {
            tools: Some(
                ["read".to_string(), "write".to_string()]
                    .into_iter()
                    .collect(),
            ),
            ..Default::default()
        };
        let excess = narrow.restrict(&wide, Path::new("/")).unwrap_err();
        assert_eq!(excess.tools, vec!["write".to_string()]);
    }
}

mod mcp_tests {
    use super::super::*;

    #[test]
    fn mcp_entries_match_commands_urls_and_wildcards() {
        assert!(mcp_entry_matches("node", "node"));
        assert!(mcp_entry_matches("node", "/usr/bin/node"));
        assert!(!mcp_entry_matches("/usr/bin/node", "node"));
        assert!(!mcp_entry_matches("node", "nodejs"));
        assert!(mcp_entry_matches(
            "http://127.0.0.1:8931/",
            "http://127.0.0.1:8931/mcp"
        ));
        assert!(!mcp_entry_matches(
            "http://127.0.0.1:8931/",
            "http://127.0.0.1:9999/mcp"
        ));
        assert!(!mcp_entry_matches("mcp", "http://host/mcp"));
        assert!(mcp_entry_matches("*", "anything"));
    }

    #[test]
    fn mcp_requests_narrow_and_deny() {
        let cwd = Path::new("/");
        let mut root = CapabilityPolicy::allow_all();
        assert!(root.check("mcp", "node", None).is_ok());
        let req = |entries: &[&str]| PolicyRequest {
            capabilities: Some(
                [(
                    "mcp".to_string(),
                    entries.iter().map(|s| s.to_string()).collect(),
                )]
                .into(),
            ),
            ..Default::default()
        };
        let child = root.intersect(&req(&["node"]), cwd).unwrap();
        assert!(child.check("mcp", "/usr/bin/node", None).is_ok());
        let err = child.check("mcp", "python3", None).unwrap_err();
        assert!(err
            .reason
            .contains("admits no MCP server 'python3' (mcp: [node])"));
        // A wider entry than the ceiling's is refused.
        let excess = child.intersect(&req(&["*"]), cwd).unwrap_err();
        assert_eq!(excess.capabilities, vec!["mcp".to_string()]);
        root.deny("mcp").unwrap();
        assert!(root.check("mcp", "node", None).is_err());
        let parsed = parse_policy_request(
            &crate::value::dict_from([(
                "capabilities",
                crate::value::dict_from([("mcp", Value::list(vec![Value::str("node")]))]),
            )]),
            "x",
        )
        .unwrap();
        assert_eq!(parsed, req(&["node"]));
    }
}

mod approve {
    use super::super::*;
    use crate::value::from_json;

    fn set(xs: &[&str]) -> BTreeSet<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_child_adds_to_the_approve_list_and_cannot_drop_entries() {
        let root = CapabilityPolicy::root_from(
            &PolicyRequest {
                approve: Some(set(&["write_file", "tool:deploy"])),
                ..Default::default()
            },
            Path::new("/"),
        )
        .unwrap();
        assert!(root.approves_builtin("write_file"));
        assert!(root.approves_tool("deploy"));
        assert!(!root.approves_builtin("deploy"));
        assert!(!root.approves_tool("write_file"));
        // Omitting the list, emptying it, or listing others keeps the
        // parent's entries.
        for req in [None, Some(set(&[])), Some(set(&["shell"]))] {
            let child = root
                .intersect(
                    &PolicyRequest {
                        approve: req.clone(),
                        ..Default::default()
                    },
                    Path::new("/"),
                )
                .unwrap();
            assert!(child.approves_builtin("write_file"), "{req:?}");
            assert!(child.approves_tool("deploy"), "{req:?}");
            let restricted = child
                .restrict(&PolicyRequest::default(), Path::new("/"))
                .unwrap();
            assert!(restricted.approves_tool("deploy"));
        }
        let added = root
            .intersect(
                &PolicyRequest {
                    approve: Some(set(&["shell"])),
                    ..Default::default()
                },
                Path::new("/"),
            )
            .unwrap();
        assert_eq!(added.approve, set(&["shell", "tool:deploy", "write_file"]));
        assert!(CapabilityPolicy::allow_all().approve.is_empty());
    }

    #[test]
    fn approve_entries_are_parsed_and_checked() {
        let req = parse_policy_request(
            &from_json(serde_json::json!({"approve": ["shell", "tool:x"]})),
            "t",
        )
        .unwrap();
        assert_eq!(req.approve, Some(set(&["shell", "tool:x"])));
        let err = parse_policy_request(&from_json(serde_json::json!({"approve": [""]})), "t")
            .unwrap_err();
        assert!(err.contains("policy.approve must list"), "{err}");
        let builtins = ["write_file", "shell"];
        assert!(check_approve_entry("shell", builtins.iter().copied()).is_ok());
        assert!(check_approve_entry("tool:deploy-2", builtins.iter().copied()).is_ok());
        let e = check_approve_entry("wirte_file", builtins.iter().copied()).unwrap_err();
        assert!(e.contains("did you mean 'write_file'"), "{e}");
        let e = check_approve_entry("tool:a b", builtins.iter().copied()).unwrap_err();
        assert!(e.contains("does not name a tool"), "{e}");
        let round = CapabilityPolicy::root_from(&req, Path::new("/")).unwrap();
        let v = round.to_value();
        let Value::Dict(d) = &v else { panic!() };
        assert_eq!(
            crate::value::dict_get(d, "approve").map(|v| v.to_repr()),
            Some("[\"shell\", \"tool:x\"]".to_string())
        );
    }
}
