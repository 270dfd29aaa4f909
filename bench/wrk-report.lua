-- wrk's `done` hook for bench/lib/load.ts: prints one JSON line after wrk's own
-- text. Latency is wrk's whole histogram (microseconds, each distinct value
-- with its count), so the bench can merge slices and take exact percentiles
-- over every request measured, not the worst of per-slice p99s.
done = function(summary, latency, requests)
  local buckets = {}
  for i = 1, #latency do
    local value, count = latency(i)
    buckets[#buckets + 1] = string.format("[%d,%d]", value, count)
  end
  local e = summary.errors
  io.write(string.format(
    '\n{"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"latencyUs":{"mean":%.1f,"max":%d,"histogram":[%s]}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, table.concat(buckets, ",")))
end
