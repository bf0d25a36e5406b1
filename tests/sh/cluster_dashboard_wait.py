#!/usr/bin/python3
"""cluster_dashboard_wait.py PORT FIELD MIN SECONDS — polls a head's dashboard
(http://127.0.0.1:PORT/api/status) until the JSON field FIELD (dotted:
tasks.running) is at least MIN; exit 0 then, 1 after SECONDS without. For the
cluster tests: wait for an event the head counts instead of sleeping."""
import json, sys, time, urllib.request

port, field, least, secs = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
end = time.monotonic() + secs
while time.monotonic() < end:
    try:
        v = json.load(urllib.request.urlopen("http://127.0.0.1:%s/api/status" % port, timeout=5))
        for k in field.split("."):
            v = v[k]
        if v >= least:
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.02)
print("cluster_dashboard_wait: %s stayed below %g for %g s" % (field, least, secs), file=sys.stderr)
sys.exit(1)
