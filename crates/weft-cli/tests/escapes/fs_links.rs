//! Issue 11 §1: dangling symlinks and link chains inside a workspace root
//! used to let `write_file` create files outside it (the check canonicalised
//! only the existing prefix of the path).

use super::*;

const ATTEMPTS: &str = r#"
for p in ["ws/dang", "ws/chain", "ws/rel_dang", "ws/out/new.txt"] {
  println(p, try { write_file(p, "pwned"); "written" } catch e { e.category })
  println(p, try { append_file(p, "pwned"); "appended" } catch e { e.category })
}
println(try { mkdir("ws/out/made") } catch e { e.category })
println(try { read_file("ws/out/secret.txt") } catch e { e.category })
println(try { exists("ws/out/secret.txt") } catch e { e.category })
println(try { list_dir("ws/out") } catch e { e.category })
println(try { remove_file("ws/out/secret.txt") } catch e { e.category })
"#;

fn links(s: &Scene) {
    symlink(s.outside.join("x.txt"), s.ws.join("dang"));
    symlink("link2", s.ws.join("chain"));
    symlink("link3", s.ws.join("link2"));
    symlink(s.outside.join("y.txt"), s.ws.join("link3"));
    symlink("../outside/z.txt", s.ws.join("rel_dang"));
    symlink(&s.outside, s.ws.join("out"));
}

fn assert_outside_untouched(s: &Scene) {
    let mut names: Vec<String> = std::fs::read_dir(&s.outside)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["secret.txt"], "files appeared outside the root");
    assert_eq!(
        std::fs::read_to_string(s.outside.join("secret.txt")).unwrap(),
        "TOP-SECRET"
    );
}

#[test]
fn dangling_links_and_chains_under_a_root_policy() {
    let s = Scene::new();
    links(&s);
    s.write("policy.json", r#"{"workspace_roots": ["ws"]}"#);
    let out = s.run(ATTEMPTS, &["--policy", "policy.json"], &[]);
    let stdout = ok_stdout(&out);
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.ends_with("permission_denied"))
            .count(),
        13,
        "{stdout}"
    );
    assert!(!stdout.contains("TOP-SECRET") && !stdout.contains("true"));
    assert_outside_untouched(&s);
}

#[test]
fn dangling_links_inside_a_worker_tool_handler() {
    let s = Scene::new();
    links(&s);
    let script = format!(
        r#"
var tools = tool_registry()
tools = tool_define(tools, "attack", "Tries every link", {{
  parameters: {{}},
  handler: {{ args ->
{ATTEMPTS}
    "done"
  }},
}})
llm_mock({{match: "go", consume: true, tool_calls: [{{name: "attack", arguments: {{}}}}]}})
llm_mock({{text: "finished"}})
let r = sub_agent_run("go", {{tools: tools, policy: {{workspace_roots: ["ws"]}}}})
println(r.tool_calls[0].result)
"#
    );
    let stdout = ok_stdout(&s.run(&script, &[], &[]));
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.ends_with("permission_denied"))
            .count(),
        13,
        "{stdout}"
    );
    assert!(stdout.ends_with("done\n"), "{stdout}");
    assert_outside_untouched(&s);
}

#[test]
fn links_that_stay_inside_the_root_keep_working() {
    let s = Scene::new();
    s.write("ws/real/a.txt", "inside");
    symlink("real/a.txt", s.ws.join("alias"));
    symlink("real", s.ws.join("dir_alias"));
    s.write("policy.json", r#"{"workspace_roots": ["ws"]}"#);
    let out = s.run(
        r#"
println(read_file("ws/alias"))
write_file("ws/dir_alias/b.txt", "new")
println(read_file("ws/real/b.txt"), exists("ws/dir_alias/a.txt"), list_dir("ws/dir_alias"))
"#,
        &["--policy", "policy.json"],
        &[],
    );
    assert_eq!(ok_stdout(&out), "inside\nnew true [\"a.txt\", \"b.txt\"]\n");
}
