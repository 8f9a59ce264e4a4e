-- wrk -s bench/wrk_paths.lua: GET the paths listed in $PATHS_FILE (one per line, optionally
-- "path<TAB>etag" to send If-None-Match). ORDER=cycle walks the list in order (the pages of one
-- thread read one after the other), ORDER=random picks uniformly. Prints one JSON line.
local file = os.getenv("PATHS_FILE")
local order = os.getenv("ORDER") or "random"
local paths, etags = {}, {}
for line in io.lines(file) do
  local p, e = line:match("^([^\t]+)\t?(.*)$")
  if p then paths[#paths + 1] = p; etags[#etags + 1] = e end
end
local i = 0
math.randomseed(os.time())
request = function()
  local k
  if order == "cycle" then i = i % #paths + 1; k = i else k = math.random(1, #paths) end
  local headers = nil
  if etags[k] ~= "" then headers = { ["If-None-Match"] = etags[k] } end
  return wrk.format("GET", paths[k], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_s": %.2f, "rps": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "non2xx": %d, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
