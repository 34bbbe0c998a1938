// A small MCP server over stdio for the conformance tests (newline-
// delimited JSON-RPC, no dependencies). Tools: echo, add, slow, crash,
// fail; one resource; one prompt. `--garbage` makes it answer tools/list
// with a line that is not JSON-RPC; `--pidfile F` writes its pid to F.
const args = process.argv.slice(2);
const garbage = args.includes("--garbage");
const pidAt = args.indexOf("--pidfile");
if (pidAt >= 0) require("fs").writeFileSync(args[pidAt + 1], String(process.pid));

const tools = [
  { name: "echo", description: "Echoes its text.", inputSchema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] } },
  { name: "add", description: "Adds two numbers.", inputSchema: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"] } },
  { name: "slow", description: "Answers after ms milliseconds.", inputSchema: { type: "object", properties: { ms: { type: "integer" } } } },
  { name: "crash", description: "Exits the server with status 3.", inputSchema: { type: "object", properties: {} } },
  { name: "fail", description: "Returns a tool error.", inputSchema: { type: "object", properties: {} } },
];

function send(msg) { process.stdout.write(JSON.stringify(msg) + "\n"); }
function reply(id, result) { send({ jsonrpc: "2.0", id, result }); }
function text(t, isError) { return { content: [{ type: "text", text: t }], isError: !!isError }; }

function handle(msg) {
  const { id, method, params } = msg;
  if (id === undefined) return; // notifications
  switch (method) {
    case "initialize":
      return reply(id, {
        protocolVersion: params.protocolVersion,
        capabilities: { tools: {}, resources: {}, prompts: {} },
        serverInfo: { name: "weft-fixture", version: "1.0.0" },
      });
    case "ping":
      return reply(id, {});
    case "tools/list":
      if (garbage) { process.stdout.write("this is not json-rpc\n"); return; }
      return reply(id, { tools });
    case "tools/call": {
      const a = params.arguments || {};
      switch (params.name) {
        case "echo": return reply(id, text("echo: " + a.text));
        case "add": return reply(id, { content: [{ type: "text", text: String(a.a + a.b) }], structuredContent: { sum: a.a + a.b } });
        case "slow": return setTimeout(() => reply(id, text("slept " + a.ms)), a.ms || 0);
        case "crash": process.stderr.write("fixture: crashing on purpose\n"); process.exit(3);
        case "fail": return reply(id, text("the fail tool always fails", true));
        default: return send({ jsonrpc: "2.0", id, error: { code: -32602, message: "unknown tool " + params.name } });
      }
    }
    case "resources/list":
      return reply(id, { resources: [{ uri: "fixture://notes", name: "notes", mimeType: "text/plain", description: "Some notes" }] });
    case "resources/read":
      if (params.uri !== "fixture://notes") return send({ jsonrpc: "2.0", id, error: { code: -32002, message: "no resource " + params.uri } });
      return reply(id, { contents: [{ uri: params.uri, mimeType: "text/plain", text: "remember the milk" }] });
    case "prompts/list":
      return reply(id, { prompts: [{ name: "greet", description: "Greets someone", arguments: [{ name: "who", required: true }] }] });
    case "prompts/get":
      return reply(id, { description: "A greeting", messages: [{ role: "user", content: { type: "text", text: "Say hello to " + (params.arguments || {}).who } }] });
    default:
      return send({ jsonrpc: "2.0", id, error: { code: -32601, message: "method not found: " + method } });
  }
}

let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf("\n")) >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    if (line) handle(JSON.parse(line));
  }
});
process.stdin.on("end", () => process.exit(0));
