#!/usr/bin/python3
"""The Dask side of bench/cluster.sh: how fast Dask distributed runs tiny
tasks on a local cluster of 2 worker processes with 1 thread each (as
bench/cluster.lua's 2-worker wb cluster).

    /usr/bin/python3 bench/peers/dask_tasks.py [TASKS]      (default 10000)

Prints two JSON lines:
  {"peer": "dask", "step": "map_noop", "tasks": TASKS, "seconds": ..., "tasks_per_s": ...}
      TASKS trivial tasks (x + 1) mapped at once and gathered;
  {"peer": "dask", "step": "sync_roundtrip", "tasks": 200, "ms_per_task": ...}
      200 tasks one after the other, each submitted and its result awaited.
A first batch of 100 tasks warms the cluster up and is not timed.
"""
import json
import sys
import time


def plus_one(x):
    return x + 1


def main(argv):
    tasks = int(argv[0]) if argv else 10000
    if tasks < 1:
        sys.exit("dask_tasks.py: TASKS must be >= 1, got %d" % tasks)
    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None))
    try:
        client.gather(client.map(plus_one, range(100)))
        t = time.perf_counter()
        client.gather(client.map(plus_one, range(tasks), pure=False))
        s = time.perf_counter() - t
        print(json.dumps({"peer": "dask", "step": "map_noop", "tasks": tasks, "seconds": round(s, 4),
                          "tasks_per_s": round(tasks / s)}), flush=True)
        rounds = 200
        t = time.perf_counter()
        for i in range(rounds):
            client.submit(plus_one, i, pure=False).result()
        s = time.perf_counter() - t
        print(json.dumps({"peer": "dask", "step": "sync_roundtrip", "tasks": rounds,
                          "ms_per_task": round(s / rounds * 1e3, 3)}), flush=True)
    finally:
        client.close()


if __name__ == "__main__":
    main(sys.argv[1:])
