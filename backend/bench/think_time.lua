-- wrk script for bench/run.py's paced pass: every connection waits a random think time before each
-- request, exponentially distributed with the mean given as the script's argument (ms), so requests
-- arrive spread out as from many independent clients (close to a Poisson process) at about
-- connections / mean a second, instead of as fast as the server answers. wrk's latency figures count
-- from a request's send to its answer, so the think time is not in them.
--   wrk -t16 -c16 -d6s --latency -s think_time.lua URL -- 27.0   (one thread per connection: bench/run.py)
local mean_ms = 10
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  mean_ms = tonumber(args[1]) or mean_ms
  math.randomseed(os.time() * 97 + (thread_number or 0))
end

-- wrk truncates the delay to whole milliseconds: half a millisecond added keeps the mean.
function delay()
  return -mean_ms * math.log(1 - math.random()) + 0.5
end
