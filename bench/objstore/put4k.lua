-- PUT 4 KiB objects with unique names: <container URL>/<run id>-<thread>-<counter>.
-- Environment: BENCH_TOKEN, BENCH_RUN_ID (random, one per wrk run, so that rounds never overwrite).
-- wrk -s put4k.lua http://HOST:PORT/v1/AUTH_<project>/<container>
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local o = require("objstore")

o.auth()
wrk.method = "PUT"
wrk.headers["Content-Type"] = "application/octet-stream"
setup = o.setup

local prefix, counter

function init(args)
  -- one 4096-byte body per thread, random so that no layer can compress it
  math.randomseed(os.time() * 1000 + tid)
  local b = {}
  for i = 1, 4096 do b[i] = string.char(math.random(0, 255)) end
  wrk.body = table.concat(b)
  prefix = wrk.path .. "/" .. o.env("BENCH_RUN_ID") .. "-" .. tid .. "-"
  counter = 0
end

function request()
  counter = counter + 1
  return wrk.format(nil, prefix .. counter)
end
