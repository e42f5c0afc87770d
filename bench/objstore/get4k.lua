-- GET pre-uploaded objects picked at random: <container URL>/<prefix><0..count-1>.
-- Environment: BENCH_TOKEN, BENCH_OBJECTS (count), BENCH_PREFIX (name prefix).
-- wrk -s get4k.lua http://HOST:PORT/v1/AUTH_<project>/<container>
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local o = require("objstore")

o.auth()
wrk.method = "GET"
setup = o.setup

local count, prefix

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  count = tonumber(o.env("BENCH_OBJECTS"))
  prefix = wrk.path .. "/" .. o.env("BENCH_PREFIX")
end

function request()
  return wrk.format(nil, prefix .. math.random(0, count - 1))
end
