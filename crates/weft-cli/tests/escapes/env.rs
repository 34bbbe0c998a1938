//! `env()` reads are a capability: the policy's `env` allow-list names the
//! process variables a task may read; workers get none unless granted.

use super::*;

#[test]
fn workers_read_no_environment_by_default() {
    let s = Scene::new();
    let script = r#"
println(env("WEFT_ESC_SECRET"))
var tools = tool_registry()
tools = tool_define(tools, "peek", "Reads variables", {
  parameters: {},
  handler: { args ->
    let a = try { env("WEFT_ESC_SECRET") } catch e { e.category }
    let b = try { env_or("WEFT_ESC_SECRET", "d") } catch e { e.category }
    let c = try { env("WEFT_ESC_OK") } catch e { e.category }
    let d = try { env("GIVEN") } catch e { e.category }
    "${a} ${b} ${c} ${d}"
  },
})
llm_mock({match: "go", tool_calls: [{name: "peek", arguments: {}}]})
llm_mock({match: "*", text: "finished"})
println(sub_agent_run("go", {tools: tools}).tool_calls[0].result)
llm_mock_clear()
llm_mock({match: "go", tool_calls: [{name: "peek", arguments: {}}]})
llm_mock({match: "*", text: "finished"})
let h = spawn_worker({task: "go", tools: tools, wait: true, policy: {env: ["WEFT_ESC_OK"]},
                      execution: {env: {GIVEN: "given"}}})
println(h.result.tool_calls[0].result)
println(try { spawn_worker({task: "x", policy: {env: ["HOME"]}, wait: true}).status } catch e { e.category })
"#;
    let out = s.run(
        script,
        &[],
        &[("WEFT_ESC_SECRET", "TOP-SECRET"), ("WEFT_ESC_OK", "fine")],
    );
    assert_eq!(
        ok_stdout(&out),
        "TOP-SECRET\npermission_denied permission_denied permission_denied permission_denied\n\
         permission_denied permission_denied fine given\ncompleted\n"
    );
}

#[test]
fn a_root_policy_narrows_the_environment() {
    let s = Scene::new();
    s.write("policy.json", r#"{"env": ["WEFT_ESC_OK"]}"#);
    let out = s.run(
        r#"
println(env("WEFT_ESC_OK"))
let e = try { env("WEFT_ESC_SECRET") } catch e { e }
println(e.category, e.message)
let w = try { spawn_worker({task: "x", policy: {env: ["WEFT_ESC_SECRET"]}}) } catch e { e.message }
println(w)
"#,
        &["--policy", "policy.json"],
        &[("WEFT_ESC_SECRET", "TOP-SECRET"), ("WEFT_ESC_OK", "fine")],
    );
    assert_eq!(
        ok_stdout(&out),
        "fine\npermission_denied env: reading environment variable WEFT_ESC_SECRET is denied: \
         the policy's env allow-list is [WEFT_ESC_OK]\n\
         spawn_worker: policy exceeds the parent's ceiling: env [WEFT_ESC_SECRET]\n"
    );
}

#[test]
fn deny_env_reads_no_variable_and_grants_none() {
    let s = Scene::new();
    let out = s.run(
        r#"
let e = try { env("WEFT_ESC_OK") } catch e { e }
println(e.category, e.message)
println(try { env_or("WEFT_ESC_OK", "d") } catch e { e.category })
let w = try { spawn_worker({task: "x", policy: {env: ["WEFT_ESC_OK"]}}) } catch e { e.message }
println(w)
"#,
        &["--deny", "env"],
        &[("WEFT_ESC_OK", "fine")],
    );
    assert_eq!(
        ok_stdout(&out),
        "permission_denied env: reading environment variable WEFT_ESC_OK is denied: \
         the policy allows no environment variables (policy.env)\n\
         permission_denied\n\
         spawn_worker: policy exceeds the parent's ceiling: env [WEFT_ESC_OK]\n"
    );
}
