local people = {}
for i = 0, 199999 do
  people[#people + 1] = {name = "p" .. i, age = (i * 7919) % 100, score = (i * 104729) % 1000}
end
table.sort(people, function(a, b)
  if a.age ~= b.age then return a.age < b.age end
  return a.score > b.score
end)
local check = 0
for k = 1, #people do
  local p = people[k]
  check = (check + ((k - 1) % 1000) * p.score + p.age) % 1000000007
end
print(people[1].age, people[1].score, people[#people].age, people[#people].score, check)
