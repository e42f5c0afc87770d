-- S3 PutObject of 4 KiB bodies on presigned URLs, each key once: thread N sends the paths of the
-- file $BENCH_URLS.N in order (bench/lib/s3.sh s3_paths ... PARTS, one part per wrk thread).
-- Should a thread run out of paths it starts its list again (overwrites of the same keys); done()
-- prints "reused_keys: N" (0 when every PUT had a key of its own).
-- Environment: BENCH_URLS. wrk -s s3put4k.lua http://HOST:PORT
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local o = require("objstore")

wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/octet-stream"
setup = o.setup

local paths, n, sent

function init(args)
  -- one 4096-byte body per thread, random so that no layer can compress it
  math.randomseed(os.time() * 1000 + tid)
  local b = {}
  for i = 1, 4096 do b[i] = string.char(math.random(0, 255)) end
  wrk.body = table.concat(b)
  paths = o.read_lines(o.env("BENCH_URLS") .. "." .. tid)
  n = #paths
  sent = 0
  reused = 0   -- global: read by done() through thread:get
end

function request()
  sent = sent + 1
  if sent > n then reused = reused + 1 end
  return wrk.format(nil, paths[(sent - 1) % n + 1])
end

function done(summary, latency, requests)
  local r = 0
  for _, t in ipairs(o.threads) do r = r + (t:get("reused") or 0) end
  io.write("reused_keys: " .. r .. "\n")
end
