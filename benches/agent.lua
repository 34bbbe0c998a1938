package.path = (arg[0]:match("(.*/)") or "./") .. "?.lua;" .. package.path
local json = require("json_lib")
local replies = {
  'Sure. {"action": "search", "query": "weather in paris"}',
  '{"action": "answer", "text": "It is sunny."}',
  'Let me think... {"action": "tool", "name": "calc", "args": {"a": 3, "b": 4}}',
  "nothing useful here",
}
local function build_prompt(task, history)
  local p = "You are a helpful agent.\nTask: " .. task .. "\n"
  for _, h in ipairs(history) do p = p .. "- " .. h.role .. ": " .. h.text .. "\n" end
  return p .. "Reply with JSON."
end
local function parse_reply(text)
  local start = text:find("{", 1, true)
  if not start then return nil end
  return json.parse(text:sub(start))
end
local function route(msg)
  if msg == nil then return "retry" end
  if msg.action == "search" and msg.query ~= nil then return "search:" .. #msg.query end
  if msg.action == "answer" and msg.text ~= nil then return "done:" .. #msg.text end
  if msg.action == "tool" and msg.name ~= nil and type(msg.args) == "table"
     and msg.args.a ~= nil and msg.args.b ~= nil then
    return "tool:" .. msg.name .. ":" .. (msg.args.a * msg.args.b)
  end
  return "unknown"
end
local counts, ncounts = {}, 0
local plen = 0
for i = 0, 49999 do
  local history = {{role = "user", text = "step " .. i}, {role = "assistant", text = "ok " .. (i % 7)}}
  local prompt = build_prompt("task " .. (i % 10), history)
  plen = plen + #prompt
  local r = route(parse_reply(replies[i % 4 + 1]))
  if counts[r] == nil then ncounts = ncounts + 1 end
  counts[r] = (counts[r] or 0) + 1
end
print(plen, ncounts, counts["search:16"], counts["tool:calc:12"], counts["retry"])
