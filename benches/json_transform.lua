package.path = (arg[0]:match("(.*/)") or "./") .. "?.lua;" .. package.path
local json = require("json_lib")
local items = {}
for i = 0, 19999 do
  items[#items + 1] = {id = i, meta = {ok = i % 3 == 0}, name = "item " .. i, price = i % 97, tags = {"t" .. (i % 5), "x"}}
end
local text = json.stringify({items = items})
local total, out_len = 0, 0
for _ = 1, 3 do
  local doc = json.parse(text)
  local cheap = {}
  for _, it in ipairs(doc.items) do
    if it.price < 50 then cheap[#cheap + 1] = {id = it.id, label = it.name:upper(), ok = it.meta.ok} end
  end
  out_len = out_len + #json.stringify(cheap)
  total = total + #cheap
end
print(#text, total, out_len)
