local n = 0
local parts = {}
local i = 0
while i < 300000 do
  local tag = (i % 2 == 0) and "even" or "odd"
  local line = "user=" .. i .. " score=" .. (i * 7 % 1000) .. " tag=" .. tag
  n = n + #line
  parts[#parts + 1] = (i % 10) .. ";"
  i = i + 1
end
local out = table.concat(parts)
print(n, #out)
