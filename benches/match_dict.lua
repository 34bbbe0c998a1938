local function score(ev)
  local kind = ev.kind
  if kind == "click" and ev.x ~= nil and ev.y ~= nil and ev.x > ev.y then return ev.x - ev.y end
  if kind == "click" and ev.x ~= nil then return ev.x end
  if kind == "key" and ev.key == "enter" then return 10 end
  if kind == "key" and ev.key ~= nil then return #ev.key end
  if kind == "scroll" and type(ev.delta) == "table" and ev.delta.dy ~= nil then return ev.delta.dy * 2 end
  return 1
end
local kinds = {"click", "key", "scroll", "other"}
local keys = {"enter", "a", "shift"}
local total = 0
local i = 0
while i < 300000 do
  local kind = kinds[i % 4 + 1]
  local ev
  if kind == "click" then ev = {kind = kind, x = i % 17, y = i % 13}
  elseif kind == "key" then ev = {kind = kind, key = keys[i % 3 + 1]}
  elseif kind == "scroll" then ev = {kind = kind, delta = {dy = i % 5}}
  else ev = {kind = kind} end
  total = total + score(ev)
  i = i + 1
end
print(total)
