-- Shared helpers for the object storage wrk scripts (wrk's LuaJIT has no JSON or env helpers).
-- Environment: BENCH_TOKEN (X-Auth-Token of every request).
local M = {}

function M.env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error(name .. " is not set")
  end
  return v
end

-- setup(thread) for every script: number the threads 1..N (a global `tid` in each thread)
local next_tid = 0
function M.setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
end

function M.auth()
  wrk.headers["X-Auth-Token"] = M.env("BENCH_TOKEN")
end

return M
