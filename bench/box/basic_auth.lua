-- Adds HTTP Basic auth to every request of a wrk run (GET of the URL given to wrk).
-- Environment: BENCH_BASIC, the base64 of "user:password" (made by the caller: wrk's LuaJIT has
-- no base64).
-- wrk -s basic_auth.lua http://HOST:PORT/<dav root>/<file>
local basic = os.getenv("BENCH_BASIC")
if basic == nil or basic == "" then
  error("BENCH_BASIC is not set")
end
wrk.method = "GET"
wrk.headers["Authorization"] = "Basic " .. basic
