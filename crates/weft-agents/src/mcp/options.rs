//! `mcp_connect`'s options, parsed once into a typed [`ConnectOptions`]:
//! a stdio server (`command`, `args`, `env`, `cwd`) or a streamable HTTP
//! server (`url`, `headers`), plus `name` and `timeout_ms`.

use std::time::Duration;

use weft_vm::error::{value_error, RtResult};
use weft_vm::value::{dict_get, DictMap, Value};

use crate::tools::keys::{check_keys, opt_str, opt_type, opt_uint, str_list};

/// Keys of `mcp_connect`'s options dict.
pub const CONNECT_KEYS: &[&str] = &[
    "command",
    "args",
    "env",
    "cwd",
    "url",
    "headers",
    "name",
    "timeout_ms",
];

/// How long one request may take unless `timeout_ms` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the server is.
#[derive(Clone, Debug, PartialEq)]
pub enum Transport {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
        cwd: Option<String>,
    },
    Http {
        url: String,
        headers: Vec<(String, String)>,
    },
}

/// The parsed options of one `mcp_connect`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectOptions {
    pub transport: Transport,
    /// A label for messages (default: the command line or the URL).
    pub name: String,
    /// The bound on initialisation and on every request.
    pub timeout: Duration,
}

impl ConnectOptions {
    pub fn parse(opts: &DictMap, who: &str) -> RtResult<ConnectOptions> {
        check_keys(opts, who, "", CONNECT_KEYS)?;
        let command = opt_str(opts, who, "command")?;
        let url = opt_str(opts, who, "url")?;
        let stdio_only = ["args", "env", "cwd"];
        let transport = match (command, url) {
            (Some(_), Some(_)) => {
                return Err(value_error(format!(
                    "{who}: give either 'command' (a stdio server) or 'url' (a streamable HTTP server), not both"
                )))
            }
            (None, None) => {
                return Err(value_error(format!(
                    "{who}: expected 'command' (a stdio server) or 'url' (a streamable HTTP server)"
                )))
            }
            (Some(command), None) => {
                if command.is_empty() {
                    return Err(value_error(format!("{who}: 'command' is empty")));
                }
                if dict_get(opts, "headers").is_some() {
                    return Err(value_error(format!(
                        "{who}: option 'headers' is for 'url' servers; a stdio server takes args, env, cwd"
                    )));
                }
                let args = match dict_get(opts, "args") {
                    None | Some(Value::Nil) => Vec::new(),
                    Some(v) => str_list(v, who, "args")?,
                };
                Transport::Stdio {
                    command,
                    args,
                    env: string_map(opts, who, "env")?,
                    cwd: opt_str(opts, who, "cwd")?,
                }
            }
            (None, Some(url)) => {
                if let Some(k) = stdio_only.iter().find(|k| dict_get(opts, k).is_some()) {
                    return Err(value_error(format!(
                        "{who}: option '{k}' is for 'command' servers; a 'url' server takes headers"
                    )));
                }
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(value_error(format!(
                        "{who}: 'url' must start with http:// or https://, got '{url}'"
                    )));
                }
                Transport::Http {
                    url,
                    headers: string_map(opts, who, "headers")?,
                }
            }
        };
        let name = match opt_str(opts, who, "name")? {
            Some(n) => n,
            None => match &transport {
                Transport::Stdio { command, args, .. } => {
                    let mut line = vec![command.clone()];
                    line.extend(args.iter().cloned());
                    line.join(" ")
                }
                Transport::Http { url, .. } => url.clone(),
            },
        };
        let timeout = opt_uint(opts, who, "timeout_ms", 1)?
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(ConnectOptions {
            transport,
            name,
            timeout,
        })
    }

    /// What the `mcp` capability entries are matched against: the command
    /// as written, or the URL.
    pub fn target(&self) -> &str {
        match &self.transport {
            Transport::Stdio { command, .. } => command,
            Transport::Http { url, .. } => url,
        }
    }
}

/// A dict of strings (`env`, `headers`) as ordered pairs.
fn string_map(opts: &DictMap, who: &str, name: &str) -> RtResult<Vec<(String, String)>> {
    match dict_get(opts, name) {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::Dict(d)) => d
            .iter()
            .map(|(k, v)| match v {
                Value::Str(s) => Ok((k.to_string(), s.to_string())),
                other => Err(opt_type(who, &format!("{name}.{k}"), "a string", other)),
            })
            .collect(),
        Some(other) => Err(opt_type(who, name, "a dict of strings", other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_vm::value::dict_from;

    fn parse(v: Value) -> RtResult<ConnectOptions> {
        let Value::Dict(d) = &v else { unreachable!() };
        ConnectOptions::parse(d, "mcp_connect")
    }

    #[test]
    fn stdio_and_http_forms() {
        let o = parse(dict_from([
            ("command", Value::str("node")),
            ("args", Value::list(vec![Value::str("srv.js")])),
            ("timeout_ms", Value::Int(500)),
        ]))
        .unwrap_or_else(|e| panic!("{}", e.message()));
        assert_eq!(o.name, "node srv.js");
        assert_eq!(o.target(), "node");
        assert_eq!(o.timeout, Duration::from_millis(500));
        let o = parse(dict_from([("url", Value::str("http://127.0.0.1:1/mcp"))]))
            .unwrap_or_else(|e| panic!("{}", e.message()));
        assert_eq!(o.target(), "http://127.0.0.1:1/mcp");
    }

    #[test]
    fn mistakes_are_explained() {
        let e = parse(dict_from([("comand", Value::str("node"))])).unwrap_err();
        assert!(
            e.message().contains("did you mean 'command'"),
            "{}",
            e.message()
        );
        let e = parse(dict_from([
            ("command", Value::str("node")),
            ("url", Value::str("http://x")),
        ]))
        .unwrap_err();
        assert!(e.message().contains("not both"));
        let e = parse(dict_from([
            ("url", Value::str("http://x")),
            ("args", Value::list(vec![])),
        ]))
        .unwrap_err();
        assert!(e.message().contains("'args' is for 'command' servers"));
        let e = parse(dict_from([("url", Value::str("ftp://x"))])).unwrap_err();
        assert!(e.message().contains("http:// or https://"));
    }
}
