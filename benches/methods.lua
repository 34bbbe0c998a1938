local total = 0
local i = 0
while i < 200000 do
  local s = "  Item-" .. (i % 100) .. "  "
  local t = s:match("^%s*(.-)%s*$"):lower()
  if t:sub(1, 6) == "item-1" then total = total + 1 end
  local parts = {}
  for p in t:gmatch("[^-]+") do parts[#parts + 1] = p end
  total = total + #parts[2]
  local xs = {i, i + 1, i + 2}
  total = total + #xs + xs[1] % 3
  i = i + 1
end
print(total)
