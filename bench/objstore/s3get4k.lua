-- S3 GetObject on presigned URLs picked at random from the file $BENCH_URLS (one path?query a
-- line, bench/lib/s3.sh s3_paths), one URL per pre-uploaded object.
-- Environment: BENCH_URLS. wrk -s s3get4k.lua http://HOST:PORT
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local o = require("objstore")

wrk.method = "GET"
setup = o.setup

local paths, n

function init(args)
  math.randomseed(os.time() * 1000 + tid)
  paths = o.read_lines(o.env("BENCH_URLS"))
  n = #paths
end

function request()
  return wrk.format(nil, paths[math.random(1, n)])
end
