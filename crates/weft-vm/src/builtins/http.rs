//! HTTP builtins (stdlib.md "HTTP"): `http_request(options)`,
//! `http_get(url, options?)`, `http_post(url, body, options?)`, all async
//! and checked against `network` with the URL.
//!
//! Every call returns `{status, headers, body, json}`: non-2xx statuses are
//! results, not errors. Connection failures are `io_error`s and exceeding
//! `timeout_ms` is a `timeout`. One `reqwest::Client` (and so one
//! connection pool) serves the whole program; it lives in the program's
//! extension map, created on first use.

use std::cell::OnceCell;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::{Method, Url};

use super::process::{
    option_entries, option_str, option_timeout, option_type_err, os_reason, show_ms,
};
use super::{asynchronous, Args, BuiltinDef, LocalBoxFuture};
use crate::context::Capability;
use crate::error::{type_error, value_error, RtError, RtResult};
use crate::value::{dict_from, json, DictMap, Value};
use crate::vm::Vm;

const REQUEST_PARAMS: &[&str] = &["options"];
const GET_PARAMS: &[&str] = &["url", "options"];
const POST_PARAMS: &[&str] = &["url", "body", "options"];
const REQUEST_OPTIONS: &[&str] = &["method", "url", "headers", "body", "json", "timeout_ms"];
const SHORT_OPTIONS: &[&str] = &["headers", "timeout_ms"];

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        asynchronous("http_request", REQUEST_PARAMS, 1, 1, "http", "Sends the HTTP request its options describe and returns `{status, headers, body, json}` [network].", http_request).options(&[REQUEST_OPTIONS]),
        asynchronous("http_get", GET_PARAMS, 1, 2, "http", "`GET url`; returns `{status, headers, body, json}` [network].", http_get).options(&[SHORT_OPTIONS]),
        asynchronous("http_post", POST_PARAMS, 2, 3, "http", "`POST url` with a string body (a dict or list is sent as JSON) [network].", http_post).options(&[SHORT_OPTIONS]),
    ]
}

/// The program's HTTP client, shared by every task of a run.
#[derive(Default)]
pub struct HttpState {
    client: OnceCell<reqwest::Client>,
}

impl HttpState {
    fn client(&self) -> RtResult<reqwest::Client> {
        if let Some(c) = self.client.get() {
            return Ok(c.clone());
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| {
                RtError::new(
                    "io_error",
                    format!("http: cannot create the HTTP client: {e}"),
                )
            })?;
        Ok(self.client.get_or_init(|| client).clone())
    }
}

/// A request body.
enum Body {
    Text(String),
    /// JSON text (sent with `content-type: application/json`).
    Json(String),
}

/// One request, parsed and validated at the boundary.
struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Body>,
    timeout: Option<Duration>,
}

impl Request {
    fn new(method: Method, url: Url) -> Request {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            timeout: None,
        }
    }

    /// Applies the `headers` and `timeout_ms` options (shared by all three).
    fn common_option(&mut self, who: &str, key: &str, v: &Value) -> RtResult<()> {
        match key {
            "headers" => self.headers = parse_headers(who, v)?,
            "timeout_ms" => self.timeout = Some(option_timeout(who, key, v)?),
            _ => unreachable!("only headers and timeout_ms are common"),
        }
        Ok(())
    }
}

fn parse_url(who: &str, text: &str) -> RtResult<Url> {
    let url =
        Url::parse(text).map_err(|e| value_error(format!("{who}: invalid URL '{text}': {e}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(value_error(format!(
            "{who}: unsupported URL scheme '{other}' in '{text}' (use http or https)"
        ))),
    }
}

fn parse_headers(who: &str, v: &Value) -> RtResult<HeaderMap> {
    let Value::Dict(d) = v else {
        return Err(option_type_err(who, "headers", "a dict of strings", v));
    };
    let mut out = HeaderMap::with_capacity(d.len());
    for (name, val) in d.iter() {
        let text = match val {
            Value::Str(s) => s.to_string(),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => val.to_display(),
            other => {
                return Err(type_error(format!(
                    "{who}: header '{name}' must be a string, got {}",
                    other.type_name()
                )))
            }
        };
        let hname = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| value_error(format!("{who}: invalid header name '{name}'")))?;
        let hval = HeaderValue::from_str(&text).map_err(|_| {
            value_error(format!(
                "{who}: invalid value for header '{name}' (control characters are not allowed)"
            ))
        })?;
        out.append(hname, hval);
    }
    Ok(out)
}

fn json_body(who: &str, v: &Value) -> RtResult<Body> {
    json::to_json_string(v, false)
        .map(Body::Json)
        .map_err(|e| value_error(format!("{who}: cannot send the body as JSON: {e}")))
}

/// A body value: a string is sent as text, a dict or list as JSON.
fn body_of(who: &str, v: &Value) -> Option<RtResult<Body>> {
    match v {
        Value::Str(s) => Some(Ok(Body::Text(s.to_string()))),
        Value::Dict(_) | Value::List(_) => Some(json_body(who, v)),
        _ => None,
    }
}

fn parse_request_options(who: &str, opts: &DictMap) -> RtResult<Request> {
    let entries = option_entries(who, opts, REQUEST_OPTIONS)?;
    let mut method = Method::GET;
    let mut url = None;
    for (key, v) in &entries {
        match *key {
            "method" => {
                let m = option_str(who, key, v)?.to_ascii_uppercase();
                method = Method::from_bytes(m.as_bytes())
                    .map_err(|_| value_error(format!("{who}: invalid HTTP method '{m}'")))?;
            }
            "url" => url = Some(parse_url(who, option_str(who, key, v)?)?),
            _ => {}
        }
    }
    let Some(url) = url else {
        return Err(value_error(format!("{who}: option 'url' is required")));
    };
    let mut req = Request::new(method, url);
    let mut has_body = false;
    for (key, v) in entries {
        match key {
            "headers" | "timeout_ms" => req.common_option(who, key, v)?,
            "body" | "json" => {
                if has_body {
                    return Err(value_error(format!(
                        "{who}: give either option 'body' or option 'json', not both"
                    )));
                }
                has_body = true;
                req.body = Some(if key == "json" {
                    json_body(who, v)?
                } else {
                    match body_of(who, v) {
                        Some(b) => b?,
                        None => return Err(option_type_err(who, key, "a string, dict or list", v)),
                    }
                });
            }
            _ => {}
        }
    }
    Ok(req)
}

fn parse_short_options(who: &str, req: &mut Request, args: &Args, i: usize) -> RtResult<()> {
    if args.opt(i).is_none() {
        return Ok(());
    }
    for (key, v) in option_entries(who, args.dict(i)?, SHORT_OPTIONS)? {
        req.common_option(who, key, v)?;
    }
    Ok(())
}

// ---- the builtins ---------------------------------------------------------

fn http_request(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let who = "http_request";
        let a = Args::new(who, REQUEST_PARAMS, &mut vals);
        let req = parse_request_options(who, a.dict(0)?)?;
        send(vm, who, req).await
    })
}

fn http_get(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let who = "http_get";
        let a = Args::new(who, GET_PARAMS, &mut vals);
        let mut req = Request::new(Method::GET, parse_url(who, a.str(0)?)?);
        parse_short_options(who, &mut req, &a, 1)?;
        send(vm, who, req).await
    })
}

fn http_post(vm: &mut Vm, mut vals: Vec<Value>) -> LocalBoxFuture<'_, RtResult<Value>> {
    Box::pin(async move {
        let who = "http_post";
        let a = Args::new(who, POST_PARAMS, &mut vals);
        let url = parse_url(who, a.str(0)?)?;
        let body = match a.get(1) {
            Some(Value::Nil) | None => None,
            Some(v) => match body_of(who, v) {
                Some(b) => Some(b?),
                None => return Err(a.type_err(1, "a string, dict or list")),
            },
        };
        let mut req = Request::new(Method::POST, url);
        req.body = body;
        parse_short_options(who, &mut req, &a, 2)?;
        send(vm, who, req).await
    })
}

/// Sends the request and converts the response; the capability check is
/// made with the parsed URL, which is exactly what is fetched.
async fn send(vm: &mut Vm, who: &str, req: Request) -> RtResult<Value> {
    vm.ctx
        .check_capability(Capability::Network, req.url.as_str())?;
    let client = vm.program.ext::<HttpState>().client()?;
    let shown = req.url.to_string();
    let mut builder = client
        .request(req.method, req.url)
        .headers(req.headers.clone());
    match req.body {
        None => {}
        Some(Body::Text(s)) => {
            if !req.headers.contains_key(CONTENT_TYPE) {
                builder = builder.header(CONTENT_TYPE, "text/plain; charset=utf-8");
            }
            builder = builder.body(s);
        }
        Some(Body::Json(s)) => {
            if !req.headers.contains_key(CONTENT_TYPE) {
                builder = builder.header(CONTENT_TYPE, "application/json");
            }
            builder = builder.body(s);
        }
    }
    // `max_string_len` bounds the body while it is read: past it the
    // reading stops (the connection is dropped).
    let cap = vm.program.limits.string_cap();
    let exchange = async {
        let mut resp = builder.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await? {
            if chunk.len() > cap - bytes.len() {
                return Ok(Err(bytes.len() + chunk.len()));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok::<_, reqwest::Error>(Ok((status, headers, bytes)))
    };
    let result = match req.timeout {
        None => exchange.await,
        Some(limit) => match tokio::time::timeout(limit, exchange).await {
            Ok(r) => r,
            Err(_) => {
                return Err(RtError::new(
                    "timeout",
                    format!("{who} '{shown}' exceeded {}", show_ms(limit)),
                ))
            }
        },
    };
    let (status, headers, bytes) = result
        .map_err(|e| request_error(who, &shown, &e))?
        .map_err(|read| {
            RtError::new(
                "limit_exceeded",
                format!(
                    "{who} '{shown}': the response body passed max_string_len {cap} ({read} bytes read)"
                ),
            )
        })?;
    let body = String::from_utf8_lossy(&bytes).into_owned();
    let parsed = if body.trim().is_empty() {
        Value::Nil
    } else {
        json::parse_json(&body).unwrap_or(Value::Nil)
    };
    let response = dict_from([
        ("status", Value::Int(status as i64)),
        ("headers", headers_dict(&headers)),
        ("body", Value::str(body)),
        ("json", parsed),
    ]);
    vm.program.limits.check_deep(&response)?;
    Ok(response)
}

/// Response headers as a dict of lowercase names; a repeated header's
/// values are joined with `", "`.
fn headers_dict(headers: &HeaderMap) -> Value {
    let mut out = DictMap::with_capacity_and_hasher(headers.keys_len(), Default::default());
    for name in headers.keys() {
        let joined = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        out.insert(
            std::rc::Rc::new(name.as_str().to_string()),
            Value::str(joined),
        );
    }
    Value::dict(out)
}

/// A transport failure as `io_error` (or `timeout` for reqwest's own
/// connect timeout), with the innermost cause as the reason.
fn request_error(who: &str, url: &str, e: &reqwest::Error) -> Box<RtError> {
    let mut cause: &dyn std::error::Error = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let reason = os_reason(&cause.to_string());
    if e.is_timeout() {
        return RtError::new("timeout", format!("{who}: '{url}' timed out: {reason}"));
    }
    if e.is_connect() {
        return RtError::new(
            "io_error",
            format!("{who}: cannot connect to '{url}': {reason}"),
        );
    }
    RtError::new(
        "io_error",
        format!("{who}: request to '{url}' failed: {reason}"),
    )
}
