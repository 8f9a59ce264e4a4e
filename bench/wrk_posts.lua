-- wrk -s bench/wrk_posts.lua: POST new comments, the same bodies commentbench's write phase
-- sends (comment_text(): unique per post, some Markdown, a link, a random number), spread over
-- ARTICLES articles (/articles/a-<n>/). SYSTEM=margin posts to /api/v1/sites/$SITE/comments
-- with Origin: $ORIGIN; SYSTEM=isso posts to /new?uri=... Each post is numbered from
-- START (default 1,000,000, beyond commentbench's numbers) so no two are duplicates. Run with
-- -t1 (one Lua state, one counter). Prints one JSON line; "non2xx" counts answers >= 400.
local system = os.getenv("SYSTEM") or "margin"
local site = os.getenv("SITE") or "bench"
local origin = os.getenv("ORIGIN") or "http://127.0.0.1:8000"
local articles = tonumber(os.getenv("ARTICLES") or "100")
local n = tonumber(os.getenv("START") or "1000000")
math.randomseed(os.time())

local function text(art, i)
  return string.format("Comment %d on article %d: a reasonably sized benchmark comment "
    .. "with *some* markdown and a link http://example.invalid/%d/%d . "
    .. "Lorem ipsum dolor sit amet, consectetur adipiscing elit %.6f.", i, art, art, i, math.random())
end

request = function()
  n = n + 1
  local art = n % articles
  local uri = string.format("/articles/a-%d/", art)
  if system == "isso" then
    local body = string.format('{"text": "%s", "author": "Bench User %d", "email": "u%d@example.invalid", '
      .. '"website": null, "title": "Article %d"}', text(art, n), n % 97, n % 97, art)
    return wrk.format("POST", "/new?uri=" .. uri:gsub("/", "%%2F"),
      { ["Content-Type"] = "application/json" }, body)
  end
  local body = string.format('{"thread": "%s", "author_name": "Bench User %d", "email": "u%d@example.invalid", '
    .. '"body": "%s", "thread_title": "Article %d"}', uri, n % 97, n % 97, text(art, n), art)
  return wrk.format("POST", "/api/v1/sites/" .. site .. "/comments",
    { ["Content-Type"] = "application/json", ["Origin"] = origin }, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_s": %.2f, "rps": %.1f, "p50_ms": %.2f, "p99_ms": %.2f, "non2xx": %d, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
